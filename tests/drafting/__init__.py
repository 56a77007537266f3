"""Tests for drafting."""
