"""Slack benchmarks: ack latency under drafting load, time to the first visible reply, concurrent approvals.

Runs the real Bolt app in HTTP mode on loopback against the fake Slack Web API (tests/slack_fake.py), with the
real Drafter over a chat model that sleeps to simulate a slow local model. Every request is signed.

    python -m bench slack            # or: python -m bench.slack_bench [--mentions N] [--model-seconds S]

Writes the numbers into the "Slack" section of bench/README.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.slack import constants as c
from tests.support.slack_harness import (
    CHANNEL,
    RECOMMENDATION,
    Harness,
    RecordingChatModel,
    confirm_everything,
    running_bot,
)
from tracker import schema

README = Path(__file__).with_name("README.md")
SECTION = "Slack"
ACK_TARGET_MS = 300.0
FIRST_REPLY_TARGET_MS = 1000.0


@dataclass
class Latencies:
    values_ms: list[float]

    def pct(self, p: float) -> float:
        ordered = sorted(self.values_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return ordered[index]

    @property
    def summary(self) -> str:
        return f"p50 {self.pct(50):.1f} ms · p99 {self.pct(99):.1f} ms · max {max(self.values_ms):.1f} ms"


@dataclass
class Results:
    mentions: int
    busy_drafts: int
    model_seconds: float
    ack: Latencies
    first_reply: Latencies
    approvals_clicks: int
    approvals_drafts: int
    approval_records: dict[int, int]
    refusals: int
    click_ack: Latencies
    load: float


def _active(h: Harness) -> int:
    counts = h.store.jobs.counts()
    return counts["queued"] + counts["running"]


def mention_load(h: Harness, mentions: int, busy: int, gap: float) -> tuple[Latencies, Latencies]:
    """Start `busy` drafts, then send mentions one after another while they (and the new ones) draft."""
    for _ in range(busy):
        event, _response = h.mention()
        h.placeholder_for(event)
    _wait(lambda: _active(h) >= busy, 10, "the busy drafts to start")
    acks, sent = [], []
    for i in range(mentions):
        event = h.sender.mention(f"{RECOMMENDATION} (request {i})")
        started = time.monotonic()
        response = h.sender.event(event)
        acks.append(response.seconds * 1000)
        assert response.status == 200, response
        sent.append((event["ts"], started))
        time.sleep(gap)
    firsts = []
    for ts, started in sent:
        call = h.slack.wait_calls("chat.postMessage", thread_ts=ts, timeout=30)[0]
        firsts.append((call.at - started) * 1000)
    return Latencies(acks), Latencies(firsts)


def concurrent_approvals(h: Harness, drafts: int, clicks: int) -> tuple[dict[int, int], int, Latencies]:
    """`clicks` threads press Approve at once, spread over `drafts` drafts, each as a different reviewer."""
    messages = []
    for i in range(drafts):
        event, _ = h.mention(f"{RECOMMENDATION} (approval {i})")
        ts = h.placeholder_for(event).ts
        h.wait_draft(ts, 1, timeout=120)
        finding = h.store.findings.by_message(CHANNEL, ts)
        assert finding is not None
        # Nothing unconfirmed is approved: a reviewer confirms the draft's placeholders first.
        version = confirm_everything(h, event, ts, finding.id, user="U_REV49")
        messages.append((finding.id, ts, event["ts"], version))
    h.slack.clear()
    barrier = threading.Barrier(clicks)
    acks: list[float] = []
    lock = threading.Lock()

    def press(i: int) -> None:
        finding_id, ts, thread_ts, version = messages[i % drafts]
        value = f"{finding_id}:{version}"
        payload = h.sender.block_action(c.ACTION_APPROVE, value, f"U_REV{i:02d}", CHANNEL, ts, thread_ts)
        barrier.wait()
        response = h.sender.interaction(payload)
        with lock:
            acks.append(response.seconds * 1000)

    threads = [threading.Thread(target=press, args=(i,)) for i in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert h.bot.wait_idle(60)
    with h.store.sessions() as session:
        rows = session.query(schema.Review.finding_id).filter(schema.Review.action == "approve").all()
    per_draft = {finding_id: 0 for finding_id, _, _, _ in messages}
    for (finding_id,) in rows:
        per_draft[finding_id] += 1
    return per_draft, len(h.slack.of("chat.postEphemeral")), Latencies(acks)


def run(mentions: int = 100, busy: int = 5, model_seconds: float = 5.0, gap: float = 0.02) -> Results:
    load = os.getloadavg()[0]  # everything (client, app, fake Slack) shares these cores: say how busy they were
    with tempfile.TemporaryDirectory() as folder:
        model = RecordingChatModel(delay=model_seconds)
        with running_bot(Path(folder) / "load", model=model, draft_workers=busy, drain=False) as h:
            ack, first = mention_load(h, mentions, busy, gap)
        reviewers = [f"U_REV{i:02d}" for i in range(50)]
        with running_bot(Path(folder) / "approve", model=RecordingChatModel(), reviewers=reviewers) as h:
            records, refusals, click_ack = concurrent_approvals(h, drafts=10, clicks=50)
    return Results(mentions, busy, model_seconds, ack, first, 50, 10, records, refusals, click_ack, load)


def report(r: Results) -> str:
    ok_ack = "meets" if r.ack.pct(99) <= ACK_TARGET_MS else "MISSES"
    ok_first = "meets" if r.first_reply.pct(99) <= FIRST_REPLY_TARGET_MS else "MISSES"
    exact = all(n == 1 for n in r.approval_records.values())
    return "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')} on this machine ({os.cpu_count()} cores, load average "
            f"{r.load:.1f} at the start) with `python -m bench slack`: the real",
            "Bolt app in HTTP mode on loopback, signed requests, the fake Slack Web API, a migrated SQLite file,",
            f"and the real drafting chain over a scripted chat model that takes {r.model_seconds:g} s per draft.",
            "",
            "| measure | result | target |",
            "|---|---|---|",
            f"| ack latency, {r.mentions} mentions while {r.busy_drafts} drafts are in progress "
            f"| {r.ack.summary} | p99 ≤ {ACK_TARGET_MS:g} ms ({ok_ack}) |",
            f"| mention → first visible reply (threaded placeholder) | {r.first_reply.summary} "
            f"| ≤ {FIRST_REPLY_TARGET_MS:g} ms ({ok_first}) |",
            f"| {r.approvals_clicks} threads click Approve on {r.approvals_drafts} drafts at once "
            f"| approval records per draft: {sorted(set(r.approval_records.values()))}; "
            f"{r.refusals} refused ephemerally | exactly one per draft ({'meets' if exact else 'FAILS'}) |",
            f"| ack latency of those clicks | {r.click_ack.summary} | p99 ≤ {ACK_TARGET_MS:g} ms "
            f"({'meets' if r.click_ack.pct(99) <= ACK_TARGET_MS else 'MISSES'}) |",
            "",
            "Drafting runs on the durable queue's workers (as many as the busy drafts here; 2 by default), so acks",
            "and placeholders never wait for the model; queued requests show their placeholder (with their place in",
            "the queue) at once and draft in turn. Each request writes its job to the store twice (held, then",
            "released once its placeholder is posted): on 2026-11-21, before the queue was durable, the same run",
            "measured ack p50 3.7 ms · p99 6.8 ms and first reply p50 7.0 ms · p99 9.8 ms. The approval race now",
            "confirms each draft's placeholders first (nothing unconfirmed can be approved).",
            "The fake Web API answers in about a millisecond: against real Slack the first visible reply also",
            "includes one chat.postMessage round trip (typically 100–300 ms), still well inside the 1 s target.",
            "The 50 clicking clients, the app and the fake Slack share one Python process (one GIL), so the",
            "click acks include that contention; each click is acked before its listener waits for a worker.",
        ]
    )


def write_section(path: Path, title: str, body: str) -> None:
    """Replace (or append) `## title` in the README, leaving every other section as it is."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    heading = f"## {title}"
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    block = [heading, "", *body.splitlines(), ""]
    if start is None:
        new = [*lines, "", *block] if lines and lines[-1].strip() else [*lines, *block]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        new = [*lines[:start], *block, *lines[end:]]
    path.write_text("\n".join(new).rstrip() + "\n", encoding="utf-8")


def _wait(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench slack", description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=100)
    parser.add_argument("--model-seconds", type=float, default=5.0)
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)
    results = run(mentions=args.mentions, model_seconds=args.model_seconds)
    text = report(results)
    print(text)
    if not args.no_write:
        write_section(README, SECTION, text)
        print(f"\nWritten to {README} (section '{SECTION}').")
    exact = all(n == 1 for n in results.approval_records.values())
    return 0 if exact and statistics.median(results.ack.values_ms) < 3000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
