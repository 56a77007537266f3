"""Which Slack threads are Responder's: those holding its drafts, or starting with an inspection's summary."""

from __future__ import annotations

from tracker.repository import Repository
from tracker.views import FindingView


def thread_findings(store: Repository, channel: str, thread_ts: str) -> list[FindingView] | None:
    """The findings of one of our threads (none yet under a fresh inspection summary), or None if not ours.

    Returned rather than a yes/no so that the reply's handler need not read the same findings again.
    """
    findings = store.findings.in_thread(channel, thread_ts)
    if findings or store.inspections.has_thread(channel, thread_ts):
        return findings
    return None


def is_ours(store: Repository, channel: str, thread_ts: str) -> bool:
    """Whether a plain reply (no mention) in this thread is for us."""
    return thread_findings(store, channel, thread_ts) is not None
