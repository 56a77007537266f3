"""Tests for tracker."""
