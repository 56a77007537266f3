"""A WSGI guard in front of Bolt's adapter: the request body is checked before Bolt reads a byte of it.

Hand-written because neither layer below covers every case. Bolt's `WsgiHttpRequest.get_body` does
`wsgi.input.read(int(CONTENT_LENGTH or 0)).decode("utf-8")`: a length of `-1` reads to EOF, `abc` raises, and a
body that is not UTF-8 raises (a 500 with a traceback) — before any signature check. waitress 3 refuses a
malformed or oversized `Content-Length` itself, but leaves the body's encoding to the app, and another WSGI
server (or a proxy in front) may pass any of these through. So, for every POST:

- no `Content-Length`                     → 411
- not ASCII digits (`-1`, `abc`, `1e3`)   → 400
- over `max_body`                         → 413, nothing read
- fewer bytes arrive than were announced  → 400
- a body that is not UTF-8                → 400

and exactly `Content-Length` bytes are read (never to EOF), then handed to Bolt from memory. The signature
check stays Bolt's. Nothing here logs a body.

Every 4xx (ours, and Bolt's 401 for a forged or stale signature) marks the environ with `CLOSE_CONNECTION`, so
the server closes the connection after the response and never parses an unread remainder as the next request.
An app may not send `Connection: close` itself: it is hop-by-hop (PEP 3333), and waitress raises on it; the
transport's waitress task reads the mark instead (see `bot/slack/transport.py`).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

#: Set in the environ when the connection must close after this response.
CLOSE_CONNECTION = "responder.close_connection"

_DIGITS = re.compile(r"[0-9]+")


def guard(app: WSGIApplication, *, max_body: int) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """`app` behind the body checks; `max_body` is the largest body accepted, in bytes."""

    def guarded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def closing_on_4xx(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("4"):
                environ[CLOSE_CONNECTION] = True
            return start_response(status, headers, exc_info)

        if environ.get("REQUEST_METHOD") == "POST":
            refusal = _take_body(environ, max_body)
            if refusal is not None:
                status, reason = refusal
                log.info("refused %s %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), reason)
                text = f"{status.split(' ', 1)[1]}: {reason}\n".encode()
                headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(text)))]
                closing_on_4xx(status, headers)
                return [text]
        return app(environ, closing_on_4xx)

    return guarded


def _take_body(environ: WSGIEnvironment, max_body: int) -> tuple[str, str] | None:
    """Read and check the body, leaving it in memory for the app; or the (status, reason) refusing it."""
    raw = environ.get("CONTENT_LENGTH")
    if raw is None or not str(raw).strip():
        return "411 Length Required", "a POST needs a Content-Length"
    if not _DIGITS.fullmatch(str(raw).strip()):
        return "400 Bad Request", "Content-Length is not a number of bytes"
    length = int(str(raw).strip())
    if length > max_body:
        return "413 Request Entity Too Large", f"the body is over {max_body} bytes"
    body = environ["wsgi.input"].read(length) if length else b""
    if len(body) != length:
        return "400 Bad Request", f"the body ended after {len(body)} of {length} bytes"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "400 Bad Request", "the body is not UTF-8"
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(length)
    return None
