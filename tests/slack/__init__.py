"""Tests for slack."""
