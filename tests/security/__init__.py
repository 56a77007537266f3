"""Tests for security: untrusted text and requests."""
