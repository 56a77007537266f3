"""Which Slack threads are Responder's: those holding its drafts, or starting with an inspection's summary."""

from __future__ import annotations

from tracker.repository import Repository


def is_ours(store: Repository, channel: str, thread_ts: str) -> bool:
    """Whether a plain reply (no mention) in this thread is for us."""
    return bool(store.findings.in_thread(channel, thread_ts)) or (
        store.inspections.by_thread(channel, thread_ts) is not None
    )
