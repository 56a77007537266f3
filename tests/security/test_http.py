"""HTTP hardening, probed as an attacker would: raw sockets against the real waitress + Bolt server.

Each case checks the status, that the connection closes after a refusal (so bytes behind it are never parsed
as another request), and that nothing reached the store or Slack.
"""

from __future__ import annotations

import io
import json
import re
import socket
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.guard_wsgi import CLOSE_CONNECTION, guard
from bot.slack.prefilter import ALREADY_HANDLED
from bot.slack.transport import EVENTS_PATH, MAX_BODY_BYTES
from tests.support.slack_fake import APP_ID, TEAM_ID, sign
from tests.support.slack_harness import RECOMMENDATION, SIGNING_SECRET, Harness, running_bot
from tracker import schema


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with running_bot(tmp_path) as harness:
        yield harness


# ── raw HTTP helpers ─────────────────────────────────────────────────────────────────────────────────────


def request(body: bytes, *, length: str | None = None, headers: dict[str, str] | None = None) -> bytes:
    """A POST to the events path; `length` overrides Content-Length ("" leaves it out)."""
    lines = [f"POST {EVENTS_PATH} HTTP/1.1", "Host: 127.0.0.1"]
    length = str(len(body)) if length is None else length
    if length:
        lines.append(f"Content-Length: {length}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def signed(body: str, content_type: str = "application/json", timestamp: int | None = None) -> bytes:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SIGNING_SECRET, ts, body),
    }
    return request(body.encode(), headers=headers)


def exchange(h: Harness, data: bytes, timeout: float = 10.0) -> tuple[list[int], bytes, bool]:
    """Send `data` on one connection; the statuses of the responses, the raw answer, and whether it closed."""
    with socket.create_connection(("127.0.0.1", h.server.port), timeout=timeout) as sock:
        sock.sendall(data)
        answer, closed = b"", False
        try:
            while chunk := sock.recv(65536):
                answer += chunk
            closed = True
        except TimeoutError:
            pass
    return statuses_of(answer), answer, closed


def statuses_of(answer: bytes) -> list[int]:
    """Walk the responses one after another, each by its Content-Length."""
    statuses, rest = [], answer
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        status = re.match(rb"HTTP/1\.1 (\d{3}) ", head)
        assert status, f"not a response: {head[:80]!r}"
        statuses.append(int(status.group(1)))
        length = re.search(rb"^Content-Length: (\d+)", head, re.M | re.I)
        rest = rest[int(length.group(1)) if length else len(rest) :]
    return statuses


def event_body(h: Harness) -> str:
    return json.dumps(h.sender.envelope(h.sender.mention(RECOMMENDATION)))


def count(h: Harness, model: type[Any]) -> int:
    with h.store.sessions() as session:
        return session.query(model).count()


def assert_nothing_happened(h: Harness) -> None:
    h.wait_idle()
    assert count(h, schema.Finding) == 0
    assert count(h, schema.ProcessedEvent) == 0
    assert [c.method for c in h.slack.calls] == []


# ── malformed lengths and bodies ─────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "+5"])
def test_a_malformed_content_length_is_400_and_the_connection_closes(h: Harness, length: str) -> None:
    body = event_body(h).encode()
    statuses, answer, closed = exchange(h, request(body, length=length))
    assert statuses == [400] and closed
    assert b"Connection: close" in answer
    assert_nothing_happened(h)


def test_a_post_without_content_length_is_refused_and_closes(h: Harness) -> None:
    statuses, answer, closed = exchange(h, request(b"", length=""))
    assert statuses == [411] and closed
    assert b"Connection: close" in answer
    assert_nothing_happened(h)


def test_a_body_that_is_not_utf8_is_400_not_a_traceback(h: Harness) -> None:
    statuses, answer, closed = exchange(h, request(b'{"type": "\xff\xfe"}'))
    assert statuses == [400] and closed
    assert b"not UTF-8" in answer and b"Traceback" not in answer
    assert_nothing_happened(h)


def test_an_oversized_body_is_413_and_the_request_pipelined_inside_it_never_runs(h: Harness) -> None:
    """The announced body is a valid signed event: were it parsed as the next request, it would draft."""
    smuggled = signed(event_body(h))
    headers = request(b"", length=str(MAX_BODY_BYTES + 1))
    statuses, answer, closed = exchange(h, headers + smuggled)
    assert statuses == [413] and closed
    assert b"Connection: close" in answer
    assert_nothing_happened(h)


def test_a_request_pipelined_behind_an_app_refusal_never_runs(h: Harness) -> None:
    """The app's own 4xx (here the guard's 400) closes the connection too: waitress alone would keep it open."""
    statuses, answer, closed = exchange(h, request(b"\xff") + signed(event_body(h)))
    assert statuses == [400] and closed
    assert b"Connection: close" in answer
    assert_nothing_happened(h)


def test_a_forged_signature_is_still_401_closes_and_stores_nothing(h: Harness) -> None:
    body = event_body(h)
    ts = str(int(time.time()))
    forged = request(
        body.encode(),
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign("not-the-secret", ts, body),
        },
    )
    statuses, answer, closed = exchange(h, forged + signed(event_body(h)))
    assert statuses == [401] and closed
    assert b"Connection: close" in answer
    assert_nothing_happened(h)


def test_a_valid_event_is_still_200_and_processed_and_pipelining_still_works(h: Harness) -> None:
    """The control for the tests above: behind a good request, a pipelined signed event does run."""
    health = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    last = signed(event_body(h)).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
    statuses, _answer, closed = exchange(h, health + last)
    assert statuses == [200, 200] and closed
    h.slack.wait_calls("chat.postMessage")
    h.wait_idle()
    assert count(h, schema.Finding) == 1
    assert count(h, schema.ProcessedEvent) == 1


# ── slash commands run once per signed body ──────────────────────────────────────────────────────────────


def slash_body(h: Harness, text: str, trigger_id: str) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "channel_id": "C_REVIEWS",
            "channel_name": "reviews",
            "user_id": "U_LEAD",
            "user_name": "u_lead",
            "command": "/hmicfrs",
            "text": text,
            "response_url": f"{h.slack.base}/response/commands/T0001/1/abc",
            "trigger_id": trigger_id,
        }
    )


def test_the_same_signed_add_body_twice_makes_one_inspection(h: Harness) -> None:
    published = date.today().strftime("%d %b %Y")
    body = slash_body(h, f"add {published} Policing in a crisis <#C_REVIEWS|reviews> --type national", "trig-1")
    ts = int(time.time())
    signature = sign(SIGNING_SECRET, str(ts), body)
    first = h.sender.post(body, "application/x-www-form-urlencoded", timestamp=ts, signature=signature)
    replay = h.sender.post(body, "application/x-www-form-urlencoded", timestamp=ts, signature=signature)
    assert (first.status, replay.status) == (200, 200)
    assert "Added inspection #" in first.body
    assert json.loads(replay.body) == ALREADY_HANDLED
    h.wait_idle()
    assert count(h, schema.Inspection) == 1
    assert len(h.slack.of("chat.postMessage")) == 1  # one announcement
    assert count(h, schema.ProcessedEvent) == 1


def test_distinct_slash_commands_each_run(h: Harness) -> None:
    replies = [h.sender.post(slash_body(h, "help", f"trig-{n}"), "application/x-www-form-urlencoded") for n in (1, 2)]
    assert [r.status for r in replies] == [200, 200]
    assert all(json.loads(r.body) != ALREADY_HANDLED for r in replies)


def test_a_forged_slash_command_claims_nothing(h: Harness) -> None:
    body = slash_body(h, "list", "trig-forged")
    forged = h.sender.post(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert forged.status == 401
    assert count(h, schema.ProcessedEvent) == 0
    assert h.sender.post(body, "application/x-www-form-urlencoded").status == 200  # the real one still runs


# ── the guard on its own (what a server other than waitress might pass through) ──────────────────────────


class NoEOF(io.BytesIO):
    """A wsgi.input that fails the test if anyone reads it without a length."""

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size >= 0, "read to EOF"
        return super().read(size)


def call_guard(length: str | None, body: bytes = b"{}") -> tuple[str, dict[str, Any], list[bytes], list[bytes]]:
    seen: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("200 OK", [])
        return [b"ok"]

    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "PATH_INFO": EVENTS_PATH, "wsgi.input": NoEOF(body)}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    status: list[str] = []
    out = guard(app, max_body=10)(environ, lambda s, h, e=None: status.append(s))  # type: ignore[arg-type]
    return status[0], environ, list(out), seen


@pytest.mark.parametrize(
    ("length", "body", "status"),
    [
        (None, b"{}", "411"),
        ("-1", b"{}", "400"),
        ("abc", b"{}", "400"),
        ("\u00b2", b"{}", "400"),  # a Unicode digit is not a length
        ("11", b"x" * 11, "413"),
        ("5", b"{}", "400"),  # the body ended early
        ("2", b"\xff\xfe", "400"),
    ],
)
def test_the_guard_refuses_before_the_app_reads_and_marks_the_connection_to_close(
    length: str | None, body: bytes, status: str
) -> None:
    got, environ, _out, seen = call_guard(length, body)
    assert got.startswith(status) and seen == []
    assert environ[CLOSE_CONNECTION] is True


def test_the_guard_reads_exactly_content_length_and_passes_it_on() -> None:
    got, environ, out, seen = call_guard("2", b"{}GET / HTTP/1.1\r\n\r\n")
    assert got == "200 OK" and out == [b"ok"] and seen == [b"{}"]
    assert CLOSE_CONNECTION not in environ
