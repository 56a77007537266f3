"""Load: 20 people using the bot for 60 s against a real `serve --http` process, killed with SIGKILL half-way.

    python -m bench load [--users 20] [--seconds 60] [--draft-seconds 0.3] [--workers 2] [--no-kill]

Each simulated person sends a signed mention with a recommendation, waits a few seconds, and sometimes asks
for a change in the thread of an earlier draft. The bot runs in its own process (tests/support/bot_process.py:
the real Bolt app over HTTP, the durable queue, a scripted chat model taking `--draft-seconds` per answer), on
a SQLite file, against the loopback Slack. Half-way through, the process is killed with SIGKILL and started
again; requests sent while it is down are counted apart (Slack retries those).

Reported: the HTTP ack's p50 / p99 (Slack wants it within 3 s), errors, the bot's peak memory (RSS), and,
after the queue drains, how many acknowledged requests never got a draft: the number that must be 0.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

from bot.slack import constants as c
from tests.support.slack_fake import FakeSlack, SlackSender
from tests.support.slack_harness import CHANNEL, RECOMMENDATION, SIGNING_SECRET
from tracker.repository import Repository

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "load.json"


@dataclass
class Tally:
    acks_ms: list[float] = field(default_factory=list)
    acked_mentions: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    while_down: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class LoadResult:
    users: int
    seconds: float
    killed: bool
    requests: int
    mentions: int
    follow_ups: int
    clicks: int
    slash_commands: int
    ack_p50_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    errors: int
    refused_while_down: int
    rss_after_warm_up_mb: float
    peak_rss_mb: float
    rss_growth_mb: float
    drained_seconds: float
    drafts_done: int
    jobs_failed: int
    lost: int


class BotProcess:
    """The bot in its own process; `url` is its events endpoint once it listens."""

    def __init__(self, data: Path, slack: FakeSlack, name: str, workers: int, draft_seconds: float) -> None:
        self.port_file = data / f"{name}.port"
        self.log = (data / f"{name}.log").open("wb")
        options = ["--workers", str(workers), "--draft-seconds", str(draft_seconds)]
        command = [sys.executable, "-m", "tests.support.bot_process", str(data), slack.api_url, str(self.port_file)]
        self.process = subprocess.Popen([*command, *options], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not (self.port_file.exists() and self.port_file.read_text()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the bot process did not start; see {self.log.name}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port_file.read_text()}/slack/events"

    def rss_mb(self) -> float:
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0.0
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
        return int(line.split()[1]) / 1024

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)
        self.log.close()


def person(i: int, until: float, current: list[BotProcess], slack: FakeSlack, tally: Tally) -> None:
    """One person: mostly new recommendations; sometimes a change in an earlier thread, an Approve click on an
    earlier draft (refused while its placeholders are unconfirmed: still a click to answer), `/hmicfrs list`."""
    rng = random.Random(i)
    threads: list[str] = []
    n = 0
    sender = SlackSender(current[0].url, SIGNING_SECRET, first=(i + 1) * 100_000)
    user = f"U_LOAD{i}"
    while time.monotonic() < until:
        sender.url = current[0].url  # the restarted process listens on another port
        roll, n = rng.random(), n + 1
        kind = (
            "mention"
            if not threads or roll < 0.55
            else "follow_up"
            if roll < 0.75
            else "click"
            if roll < 0.9
            else "slash"
        )
        try:
            response = _send(sender, slack, kind, user, n, rng.choice(threads) if threads else "")
        except OSError:  # the process is down: Slack would retry this delivery
            with tally.lock:
                tally.while_down += 1
            time.sleep(0.5)
            continue
        with tally.lock:
            tally.acks_ms.append(response.seconds * 1000)
            tally.kinds[kind] = tally.kinds.get(kind, 0) + 1
            if response.status != 200:
                tally.errors += 1
            elif kind == "mention":
                tally.acked_mentions.append(response.ts)
                threads.append(response.ts)
        time.sleep(rng.uniform(2.0, 6.0))


@dataclass
class Sent:
    status: int
    seconds: float
    ts: str = ""


def _send(sender: SlackSender, slack: FakeSlack, kind: str, user: str, n: int, thread: str) -> Sent:
    if kind == "mention":
        event = sender.mention(f"{RECOMMENDATION} ({user}, request {n})", user=user)
        response = sender.event(event)
        return Sent(response.status, response.seconds, event["ts"])
    if kind == "follow_up":
        response = sender.event(sender.message("make it shorter", user=user, thread_ts=thread))
        return Sent(response.status, response.seconds)
    if kind == "slash":
        response = sender.slash_request("list", user, CHANNEL, slack.base)
        return Sent(response.status, response.seconds)
    value, ts = _approve_button(slack, thread)
    if value is None:  # not drafted yet: ask for the list instead
        return _send(sender, slack, "slash", user, n, thread)
    payload = sender.block_action(c.ACTION_APPROVE, value, user, CHANNEL, ts, thread)
    response = sender.interaction(payload)
    return Sent(response.status, response.seconds)


def _approve_button(slack: FakeSlack, thread: str) -> tuple[str | None, str]:
    """The Approve button's value on the draft card in `thread`, as the person sees it now."""
    for (channel, ts), message in list(slack.messages.items()):
        if channel != CHANNEL or message.get("thread_ts") != thread:
            continue
        for block in message.get("blocks") or []:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == c.ACTION_APPROVE:
                    return str(element["value"]), ts
    return None, ""


def run(users: int, seconds: float, draft_seconds: float, workers: int, kill: bool) -> LoadResult:
    with TemporaryDirectory(prefix="responder-load-") as tmp, FakeSlack() as slack:
        data = Path(tmp)
        current = [BotProcess(data, slack, "first", workers, draft_seconds)]
        tally, peak = Tally(), [0.0]
        started = time.monotonic()
        until = started + seconds
        people = [threading.Thread(target=person, args=(i, until, current, slack, tally)) for i in range(users)]
        warm = 0.0
        for thread in people:
            thread.start()
        killed = False
        while time.monotonic() < until:
            peak[0] = max(peak[0], current[0].rss_mb())
            if not warm and time.monotonic() - started > min(10.0, seconds / 4):
                warm = current[0].rss_mb()
            if kill and not killed and time.monotonic() - started > seconds / 2:
                current[0].kill()
                current[0] = BotProcess(data, slack, "second", workers, draft_seconds)
                killed = True
            time.sleep(0.5)
        for thread in people:
            thread.join()
        drained = time.monotonic()
        repo = Repository.connect(f"sqlite:///{data / 'responder.db'}")
        while sum(repo.jobs.counts()[s] for s in ("pending", "queued", "running")) and time.monotonic() - drained < 600:
            peak[0] = max(peak[0], current[0].rss_mb())
            time.sleep(0.5)
        drained_seconds = time.monotonic() - drained
        final_rss = current[0].rss_mb()
        lost = sum(1 for ts in tally.acked_mentions if not _drafted(repo, ts))
        counts = repo.jobs.counts()
        repo.close()
        current[0].kill()
        acks = sorted(tally.acks_ms) or [0.0]
        return LoadResult(
            users=users,
            seconds=seconds,
            killed=killed,
            requests=len(tally.acks_ms),
            mentions=len(tally.acked_mentions),
            follow_ups=tally.kinds.get("follow_up", 0),
            clicks=tally.kinds.get("click", 0),
            slash_commands=tally.kinds.get("slash", 0),
            ack_p50_ms=round(statistics.median(acks), 1),
            ack_p99_ms=round(acks[min(len(acks) - 1, int(len(acks) * 0.99))], 1),
            ack_max_ms=round(acks[-1], 1),
            errors=tally.errors,
            refused_while_down=tally.while_down,
            rss_after_warm_up_mb=round(warm, 1),
            peak_rss_mb=round(peak[0], 1),
            rss_growth_mb=round(final_rss - warm, 1),
            drained_seconds=round(drained_seconds, 1),
            drafts_done=counts["done"],
            jobs_failed=counts["failed"],
            lost=lost,
        )


def _drafted(repo: Repository, thread_ts: str) -> bool:
    found = repo.findings.in_thread(CHANNEL, thread_ts)
    return bool(found) and all(f.latest_version >= 1 for f in found)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--draft-seconds", type=float, default=0.3, help="the scripted model's time per draft")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-kill", action="store_true", help="do not kill and restart the bot half-way")
    args = parser.parse_args(argv)
    result = run(args.users, args.seconds, args.draft_seconds, args.workers, not args.no_kill)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(asdict(result), indent=2) + "\n")
    for key, value in asdict(result).items():
        print(f"{key:>20}: {value}")
    if result.lost or result.errors:
        raise SystemExit(f"{result.lost} acknowledged requests never drafted, {result.errors} errors")


if __name__ == "__main__":
    main()
