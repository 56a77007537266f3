"""The drafting queue as people see it: their place in the queue when it is busy, one job per answer."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.support.slack_harness import RecordingChatModel, running_bot, texts


def test_a_request_made_while_every_worker_is_busy_is_told_its_place(tmp_path: Path) -> None:
    gate = threading.Event()
    with running_bot(tmp_path, model=RecordingChatModel(gate=gate), draft_workers=1) as h:
        first, _ = h.mention()
        h.placeholder_for(first)
        h.slack.wait_for(lambda _calls: h.model.prompts or None, 10, "the first draft to start")
        second, _ = h.mention()
        # Slack is acked before the listener runs: wait for the second's placeholder, so the third is behind it.
        assert "Queued: 1 draft ahead of this one." in texts(h.placeholder_for(second))
        third, _ = h.mention()
        assert "Queued: 2 drafts ahead of this one." in texts(h.placeholder_for(third))
        gate.set()
        for event in (first, second, third):
            h.wait_draft(h.placeholder_for(event).ts, 1, timeout=30)
        h.wait_idle()
        assert h.store.jobs.counts()["done"] == 3


def test_an_idle_queue_says_nothing_about_places(h) -> None:  # type: ignore[no-untyped-def]
    event, _ = h.mention()
    assert "Queued" not in texts(h.placeholder_for(event))
    h.wait_draft(h.placeholder_for(event).ts, 1)


class _Exploding:
    """A drafter with a bug: every draft raises something no one expected."""

    def __init__(self) -> None:
        self.calls = 0

    def draft(self, *_args: object, **_kwargs: object) -> None:
        self.calls += 1
        raise RuntimeError("a bug")


def test_a_job_that_fails_twice_is_shown_failed_with_regenerate(h) -> None:  # type: ignore[no-untyped-def]
    exploding = _Exploding()
    h.bot.deps.drafts._drafter_factory = lambda: exploding
    event, _ = h.mention()
    ts = h.placeholder_for(event).ts
    h.wait_idle()
    assert exploding.calls == 2  # tried once more, then given up
    job = h.store.jobs.get(1)
    assert job.state == "failed" and job.attempts == 2 and job.shown
    shown = [c for c in h.slack.of("chat.update") if c.ts == ts]
    assert any("trying once more" in texts(c) for c in shown)
    assert "Regenerate" in texts(shown[-1]) and "Something went wrong (RuntimeError)" in texts(shown[-1])
    assert not h.store.jobs.active(job.finding_id)  # Regenerate may queue a new job
