"""How Slack reaches the app: Socket Mode (no public URL), or HTTP through Bolt's WSGI adapter under waitress.

HTTP mode: events, interactivity and slash commands all POST to `/slack/events`, where Bolt's
`SlackRequestHandler` verifies each signature and dispatches. For operations: `GET /healthz` (and `/health`)
answers 200 while the process is up; `GET /readyz` answers 200 when the database, the index and the chat model
are reachable, else 503 naming the one that failed (JSON either way); `GET /metrics` is Prometheus's.
waitress gives each request a worker from its thread pool, so one slow request never delays another's ack,
and it refuses bodies over `MAX_BODY_BYTES` before they reach Bolt.

Every request passes `guard_wsgi.guard` before Bolt reads its body (a bad `Content-Length`, an oversized or
non-UTF-8 body is refused with a 4xx). After any 4xx the connection closes: waitress's own refusals (400, 413)
always close, and `_ClosingChannel` makes waitress close after an app's 4xx too, so bytes left unread behind a
refused request are never parsed as the next request on that connection.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import WSGITask

from bot.health import Check
from bot.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.metrics import Metrics
from bot.slack.guard_wsgi import CLOSE_CONNECTION, guard

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATHS = ("/healthz", "/health")
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
MAX_BODY_BYTES = 5 * 1024 * 1024
HTTP_THREADS = 16
#: Enough queued connections that a burst of clicks is not reset while every worker is busy.
BACKLOG = 256


def wsgi_app(
    app: App,
    path: str = EVENTS_PATH,
    *,
    ready: Callable[[], list[Check]] | None = None,
    metrics: Metrics | None = None,
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """Bolt's WSGI adapter at `path`, plus the operations endpoints, behind the body guard."""
    slack = SlackRequestHandler(app, path=path)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if method == "GET" and where in HEALTH_PATHS:
            return _answer(start_response, "200 OK", b"ok", "text/plain; charset=utf-8")
        if method == "GET" and where == READY_PATH:
            return _ready(start_response, ready() if ready else [])
        if method == "GET" and where == METRICS_PATH and metrics is not None:
            return _answer(start_response, "200 OK", metrics.exposition(), METRICS_CONTENT_TYPE)
        return slack(environ, start_response)

    return guard(application, max_body=MAX_BODY_BYTES)


def _ready(start_response: StartResponse, checks: list[Check]) -> list[bytes]:
    ok = all(check.ok for check in checks)
    body = json.dumps({"ready": ok, "checks": [check.model_dump() for check in checks]}).encode()
    return _answer(start_response, "200 OK" if ok else "503 Service Unavailable", body, "application/json")


def _answer(start_response: StartResponse, status: str, body: bytes, content_type: str) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class _ClosingTask(WSGITask):
    """A waitress task that closes the connection after a response the app marked with `CLOSE_CONNECTION`.

    The app cannot say so itself: `Connection` is a hop-by-hop header, which waitress refuses from an app
    (PEP 3333). Treating the request as if it had said `Connection: close` makes waitress send that header,
    close once the response is flushed, and drop any request already pipelined behind this one.
    """

    def build_response_header(self) -> bytes:
        if self.environ is not None and self.environ.get(CLOSE_CONNECTION):
            self.request.headers["CONNECTION"] = "close"
        return super().build_response_header()  # type: ignore[no-any-return]


class _ClosingChannel(HTTPChannel):
    task_class = _ClosingTask


class HttpServer:
    """The HTTP transport: start on a background thread (tests, benchmarks) or serve in the foreground."""

    def __init__(
        self,
        app: App,
        host: str = "0.0.0.0",
        port: int = 3000,
        *,
        threads: int = HTTP_THREADS,
        ready: Callable[[], list[Check]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        server = create_server(
            wsgi_app(app, ready=ready, metrics=metrics),
            host=host,
            port=port,
            threads=threads,
            backlog=BACKLOG,
            max_request_body_size=MAX_BODY_BYTES,
            ident="responder",
        )
        assert isinstance(server, BaseWSGIServer)  # one host and port: a single listening socket
        server.channel_class = _ClosingChannel  # type: ignore[misc]
        self._server = server
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        return f"http://{self._server.effective_host}:{self.port}{EVENTS_PATH}"

    def serve_forever(self) -> None:
        log.info("Listening for Slack on %s", self.url)
        try:
            self._server.run()
        except OSError:
            # Closing the sockets under a running select() raises EBADF in the loop; after stop() that is the end.
            if not self._stopping:
                raise

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, name="slack-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection and the listening socket, then the worker threads.

        waitress has no stop call for a server running on another thread; closing every dispatcher in its map
        ends the loop (the approach of WebTest's StopableWSGIServer).
        """
        server: Any = self._server
        self._stopping = True
        while server._map:
            for dispatcher in list(server._map.values()):
                dispatcher.handle_close()
        server.task_dispatcher.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_socket_mode(app: App, app_token: str) -> None:
    """Connect out to Slack over a WebSocket and serve until interrupted."""
    SocketModeHandler(app, app_token).start()
