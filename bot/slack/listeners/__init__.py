"""Slack listeners, one module per surface; each exposes `register(app, deps)` (see bot.slack.app)."""
