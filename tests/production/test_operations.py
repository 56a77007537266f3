"""Operations endpoints in HTTP mode: /healthz, /readyz (which back-end failed), /metrics (no message text)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.health import Check, failed, passed
from bot.readiness import Readiness, database_reachable, readiness_for
from bot.slack.transport import HttpServer
from tests.support.slack_harness import RECOMMENDATION, Harness
from tracker.db import make_engine, session_factory
from tracker.repository import Repository
from tracker.store import Store


@contextmanager
def ops_server(h: Harness, ready: Any = None) -> Iterator[str]:
    server = HttpServer(h.bot.app, "127.0.0.1", 0, ready=ready, metrics=h.bot.deps.metrics).start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_healthz_answers_while_the_process_is_up(h: Harness) -> None:
    with ops_server(h) as base:
        assert get(f"{base}/healthz") == (200, "ok")
        assert get(f"{base}/health") == (200, "ok")  # the older path load balancers may still use


def test_readyz_is_503_naming_the_failed_back_end_and_200_once_all_pass(h: Harness) -> None:
    # The harness's data dir has no ingested index: the real check says so.
    with ops_server(h, ready=readiness_for(h.settings, h.store)) as base:
        status, body = get(f"{base}/readyz")
    report = json.loads(body)
    assert status == 503 and report["ready"] is False
    by_name = {check["name"]: check for check in report["checks"]}
    assert by_name["database"]["ok"] is True
    assert by_name["precedent index"]["ok"] is False and "responder ingest" in by_name["precedent index"]["todo"]
    fine = Readiness([lambda: passed("database", "reachable"), lambda: passed("precedent index", "12 chunks")])
    with ops_server(h, ready=fine) as base:
        status, body = get(f"{base}/readyz")
    assert status == 200 and json.loads(body)["ready"] is True


def test_an_unreachable_database_is_not_ready() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/responder")
    check = database_reachable(Repository(Store(session_factory(engine))))
    assert not check.ok and "unreachable" in check.detail
    engine.dispose()


def test_readiness_is_cached_briefly_so_polling_does_not_load_the_back_ends() -> None:
    calls: list[int] = []
    now = [0.0]

    def counted() -> Check:
        calls.append(1)
        return failed("database", "down", "fix it") if len(calls) == 1 else passed("database", "up")

    ready = Readiness([counted], cache_seconds=5, monotonic=lambda: now[0])
    assert not ready()[0].ok and not ready()[0].ok and len(calls) == 1
    now[0] = 6
    assert ready()[0].ok and len(calls) == 2


def test_metrics_count_jobs_draft_seconds_and_slack_errors_without_message_text(h: Harness) -> None:
    event, _ = h.mention()
    h.wait_draft(h.placeholder_for(event).ts, 1)
    h.wait_idle()
    h.slack.script["chat.postMessage"] = ["not_in_channel"]
    h.mention()
    h.wait_idle()
    with ops_server(h) as base:
        status, text = get(f"{base}/metrics")
    assert status == 200
    assert 'responder_draft_jobs{state="done"} 2.0' in text
    assert 'responder_draft_seconds_count{engine="fake-model"} 2.0' in text
    assert 'responder_drafts_finished_total{outcome="done"} 2.0' in text
    assert 'responder_slack_api_errors_total{error="not_in_channel",method="chat.postMessage"} 1.0' in text
    assert RECOMMENDATION[:40] not in text and "U_ASKER" not in text
