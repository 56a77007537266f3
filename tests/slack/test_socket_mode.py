"""Socket Mode round trip: Bolt's builtin SocketModeHandler against a loopback websocket server.

The fake Web API's `apps.connections.open` hands out the loopback ws:// URL; the server says hello, sends an
`app_mention` envelope, and expects the envelope's ack back; the app then drafts through the fake Web API.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from websockets.sync.server import Server, ServerConnection, serve

from tests.support.slack_harness import CHANNEL, RECOMMENDATION, Harness, running_bot


class LoopbackSocket:
    """One Socket Mode connection: hello, then each queued envelope; every frame the client sends is kept."""

    def __init__(self) -> None:
        self.outgoing: queue.Queue[dict[str, Any]] = queue.Queue()
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.handshake_headers: dict[str, str] = {}
        self._server: Server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=test"

    def __enter__(self) -> LoopbackSocket:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()

    def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        self.handshake_headers = dict(connection.request.headers)
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "loopback"}}))
        stop = threading.Event()

        def pump() -> None:
            while not stop.is_set():
                try:
                    envelope = self.outgoing.get(timeout=0.1)
                except queue.Empty:
                    continue
                connection.send(json.dumps(envelope))

        sender = threading.Thread(target=pump, daemon=True)
        sender.start()
        try:
            for frame in connection:
                self.received.put(json.loads(frame))
        except Exception:  # the client closing the socket ends the connection
            pass
        finally:
            stop.set()


@pytest.fixture
def socket_bot(tmp_path: Path) -> Iterator[tuple[Harness, LoopbackSocket]]:
    with running_bot(tmp_path, slack_app_token="xapp-test-token") as h, LoopbackSocket() as socket:
        h.slack.socket_url = socket.url
        yield h, socket


def test_socket_mode_round_trip_acks_the_envelope_and_drafts(socket_bot: tuple[Harness, LoopbackSocket]) -> None:
    h, socket = socket_bot
    handler = SocketModeHandler(h.bot.app, "xapp-test-token", ping_interval=30)
    handler.connect()
    try:
        opened = h.slack.wait_calls("apps.connections.open")[0]
        assert opened.headers.get("Authorization") == "Bearer xapp-test-token"

        event = h.sender.mention(RECOMMENDATION)
        envelope = {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": h.sender.envelope(event, event_id="EvSOCKET1"),
        }
        socket.outgoing.put(envelope)
        ack = socket.received.get(timeout=10)
        assert ack["envelope_id"] == "env-1"

        placeholder = h.placeholder_for(event)
        assert placeholder["channel"] == CHANNEL and placeholder["thread_ts"] == event["ts"]
        h.wait_draft(placeholder.ts, 1)

        # The same event redelivered (Socket Mode retries carry the same event id) is acked, not redrafted.
        socket.outgoing.put({**envelope, "envelope_id": "env-2", "retry_attempt": 1, "retry_reason": "timeout"})
        assert socket.received.get(timeout=10)["envelope_id"] == "env-2"
        h.wait_idle()
        assert len(h.slack.of("chat.postMessage")) == 1
    finally:
        handler.close()
