"""HTTP mode: events, interactivity and slash commands all POST to `/slack/events`; Bolt verifies signatures.

Bolt's own `App.start()` serves one request at a time; this server gives each request its own thread, so
one slow request never delays another's ack. It has no other logic: every request goes to `app.dispatch`.
`GET /health` answers 200 for a load balancer's health check.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 5 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default of 5 resets connections when many clicks arrive at once


class SlackHTTPServer:
    def __init__(self, app: App, host: str = "0.0.0.0", port: int = 3000, path: str = EVENTS_PATH) -> None:
        self.app = app
        self.path = path
        self._server = _Server((host, port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}{self.path}"

    def serve_forever(self) -> None:
        log.info("Listening for Slack on %s", self.url)
        self._server.serve_forever(poll_interval=0.2)

    def start(self) -> SlackHTTPServer:
        """Serve on a background thread (tests, benchmarks); `stop()` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, name="slack-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SlackHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s %s", self.address_string(), format % args)

            def do_GET(self) -> None:
                if self.path.partition("?")[0] == "/health":
                    self._send(BoltResponse(status=200, body="ok"))
                else:
                    self._send(BoltResponse(status=404, body="not found"))

            def do_POST(self) -> None:
                path, _, query = self.path.partition("?")
                if path != server.path:
                    self._send(BoltResponse(status=404, body="not found"))
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self._send(BoltResponse(status=413, body="request too large"))
                    return
                body = self.rfile.read(length).decode("utf-8")
                headers = {key.lower(): self.headers.get_all(key) or [] for key in self.headers}
                request = BoltRequest(body=body, query=query, headers=headers)
                self._send(server.app.dispatch(request))

            def _send(self, response: BoltResponse) -> None:
                body = response.body if isinstance(response.body, str) else json.dumps(response.body)
                data = body.encode("utf-8")
                self.send_response(response.status)
                for name, values in response.headers.items():
                    if name.lower() == "content-length":
                        continue
                    for value in values:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
