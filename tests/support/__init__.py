"""Test doubles and shared set-up: a fake Slack, a scripted chat model, a canned retriever, sample data."""
