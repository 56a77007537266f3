"""A loopback fake of an OpenAI-compatible chat server that answers badly, on purpose.

The real server (llama.cpp's, started by `.ci/servers/model.sh`) answers well; this one gives the replies a
real endpoint sometimes sends and a client must survive: a body that is not JSON, a reply with no choices, a
stream that breaks off, an HTTP error. `mode` says which; every request is recorded (path, JSON body, and
headers with lower-cased names).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: What the fake answers to a chat completion, by mode (streamed requests get the same as server-sent events).
MODES = ("not-json", "no-choices", "null-choices", "bad-chunk", "cut-off", "http-500")


@dataclass
class FakeOpenAI:
    mode: str = "not-json"
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"


def _chunk(content: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {"role": "assistant", "content": content} if content is not None else {}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake", "choices": [choice]}


def _events(mode: str) -> bytes:
    """The server-sent events of a streamed reply in `mode`."""
    if mode == "not-json":
        return b"data: this is not json {\n\n"
    if mode == "no-choices":
        return b'data: {"id": "c1", "object": "chat.completion.chunk", "choices": []}\n\ndata: [DONE]\n\n'
    if mode == "null-choices":
        return b'data: {"id": "c1", "object": "chat.completion.chunk", "choices": null}\n\ndata: [DONE]\n\n'
    if mode == "bad-chunk":
        return b'data: {"id": "c1", "choices": [{"index": 0, "delta": 7}]}\n\ndata: [DONE]\n\n'
    raise AssertionError(mode)


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            fake.requests.append((self.path, body))
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            if fake.mode == "http-500":
                return self._send(500, "application/json", b'{"error": {"message": "out of memory"}}')
            if fake.mode == "cut-off":
                return self._cut_off()
            if body.get("stream"):
                return self._send(200, "text/event-stream", _events(fake.mode))
            if fake.mode == "not-json":
                return self._send(200, "application/json", b"<html>Bad gateway</html>")
            choices = [] if fake.mode == "no-choices" else None
            return self._send(200, "application/json", json.dumps({"id": "c1", "choices": choices}).encode())

        def _send(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _cut_off(self) -> None:
            """A stream that promises more than it sends, then the connection drops (a server killed mid-reply)."""
            first = f"data: {json.dumps(_chunk('The force has'))}\n\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(first) + 10_000))
            self.end_headers()
            self.wfile.write(first)
            self.wfile.flush()
            self.close_connection = True

    return Handler


@contextmanager
def fake_openai(mode: str = "not-json") -> Iterator[FakeOpenAI]:
    """A FakeOpenAI serving on a free loopback port for the block, then shut down."""
    fake = FakeOpenAI(mode=mode)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake._server = server
    thread = threading.Thread(target=server.serve_forever, name="fake-openai", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
