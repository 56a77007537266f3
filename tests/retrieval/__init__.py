"""Tests for retrieval."""
