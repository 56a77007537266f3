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
        third, _ = h.mention()
        assert "Queued: 1 draft ahead of this one." in texts(h.placeholder_for(second))
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
