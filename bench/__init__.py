"""Benchmarks and the evaluation harness: `python -m bench [name …]` (see bench/README.md)."""
