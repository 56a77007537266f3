"""A loopback fake of the Slack Web API, and a signed-request sender for the Bolt app's HTTP endpoint.

The fake is a standard-library HTTP server on 127.0.0.1 that records every call (method, parsed body,
headers) and answers with the payload shapes Slack documents. The real `slack_sdk.WebClient` talks to it
through `base_url`, so the Bolt app under test runs unmodified. Tests wait on recorded calls with a timeout
(`wait_for`), never by sleeping blindly.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"
APP_ID = "A0001"


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    response: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    @property
    def ts(self) -> str:
        """The ts Slack gave a posted message (chat.postMessage) or the one updated (chat.update)."""
        return str(self.response.get("ts") or self.body.get("ts") or "")

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


@dataclass
class StoredFile:
    id: str
    name: str
    content: bytes
    user: str = "U_UPLOADER"
    channel: str = ""
    ts: str = ""
    thread_ts: str | None = None


def _decode(value: str) -> Any:
    """Form fields such as `blocks` or `view` carry JSON; decode them so tests can inspect structure."""
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


class FakeSlack:
    """Start with `with FakeSlack() as slack:`; point a WebClient at `slack.api_url`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.downloads: list[Call] = []
        self.usergroups: dict[str, list[str]] = {}
        self.files: dict[str, StoredFile] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.socket_url: str | None = None
        self.fail_methods: dict[str, str] = {}
        #: Upcoming answers per method, used once each: an error code (`ok: false`) or an HTTP status (429 comes
        #: with `Retry-After: 0`), or "ok" to answer normally, e.g. `script["chat.update"] = [429, 429, 429]`.
        self.script: dict[str, list[str | int]] = {}
        #: Seconds each call of a method takes (a slow Slack), e.g. `delays["chat.update"] = 0.2`.
        self.delays: dict[str, float] = {}
        #: Refuse what real Slack refuses: over 50 blocks or a 3,000-character section (`invalid_blocks`), a
        #: text over 40,000 characters (`msg_too_long`).
        self.enforce_limits = True
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server = _LoopbackServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # --- lifecycle -----------------------------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    # --- test helpers --------------------------------------------------------------------------------------

    def add_file(self, name: str, content: bytes, **kwargs: Any) -> StoredFile:
        stored = StoredFile(id=f"F{next(self._ids):06d}", name=name, content=content, **kwargs)
        self.files[stored.id] = stored
        return stored

    def file_object(self, stored: StoredFile) -> dict[str, Any]:
        url = f"{self.base}/files-pri/{TEAM_ID}-{stored.id}/{stored.name}"
        obj: dict[str, Any] = {
            "id": stored.id,
            "name": stored.name,
            "title": stored.name,
            "mimetype": _mimetype(stored.name),
            "filetype": stored.name.rsplit(".", 1)[-1],
            "size": len(stored.content),
            "user": stored.user,
            "url_private": url,
            "url_private_download": url + "?download=1",
        }
        if stored.channel:
            share = {"ts": stored.ts, **({"thread_ts": stored.thread_ts} if stored.thread_ts else {})}
            kind = "private" if stored.channel.startswith(("D", "G")) else "public"
            obj["shares"] = {kind: {stored.channel: [share]}}
        return obj

    def of(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, predicate: Callable[[list[Call]], Any], timeout: float = 10.0, what: str = "the expected calls"
    ) -> Any:
        """Block until `predicate(calls)` is truthy (re-checked on every new call) and return its value."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate(list(self.calls))
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    methods = [c.method for c in self.calls]
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; calls: {methods}")
                self._changed.wait(left)

    def wait_calls(self, method: str, count: int = 1, timeout: float = 10.0, **match: Any) -> list[Call]:
        def ready(calls: list[Call]) -> list[Call] | None:
            found = [c for c in calls if c.method == method and all(c.get(k) == v for k, v in match.items())]
            return found if len(found) >= count else None

        return self.wait_for(ready, timeout, f"{count} × {method} {match or ''}")

    def clear(self) -> None:
        with self._changed:
            self.calls.clear()

    # --- the Web API ---------------------------------------------------------------------------------------

    def _record(self, call: Call, downloads: bool = False) -> None:
        with self._changed:
            (self.downloads if downloads else self.calls).append(call)
            self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ids):06d}"

    def scripted(self, method: str) -> str | int | None:
        with self._changed:
            queue = self.script.get(method)
            return queue.pop(0) if queue else None

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.enforce_limits and method in ("chat.postMessage", "chat.update") and (refusal := _refusal(body)):
            return {"ok": False, "error": refusal}
        if method in self.fail_methods:
            return {"ok": False, "error": self.fail_methods[method]}
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        return handler(body) if handler else {"ok": True}

    def _api_auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://pcc-office.slack.com/",
            "team": "PCC office",
            "user": "responder",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _api_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": body.get("text", ""),
            "blocks": body.get("blocks", []),
            "ts": ts,
            **({"thread_ts": body["thread_ts"]} if body.get("thread_ts") else {}),
            **({"metadata": body["metadata"]} if body.get("metadata") else {}),
        }
        self.messages[(body["channel"], ts)] = message
        return {"ok": True, "channel": body["channel"], "ts": ts, "message": message}

    def _api_chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        key = (body["channel"], body["ts"])
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.messages[key].update({k: body[k] for k in ("text", "blocks", "metadata") if k in body})
        return {"ok": True, "channel": body["channel"], "ts": body["ts"], "text": body.get("text", "")}

    def _api_chat_postEphemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_views_open(self, body: dict[str, Any]) -> dict[str, Any]:
        view = body.get("view") or {}
        return {"ok": True, "view": {"id": f"V{next(self._ids):06d}", **view}}

    def _api_views_update(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._api_views_open(body)

    def _api_views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._api_views_open(body)

    def _api_files_info(self, body: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(body.get("file", ""))
        if stored is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self.file_object(stored)}

    def _api_files_getUploadURLExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        stored = self.add_file(body.get("filename", "upload"), b"", user=BOT_USER_ID)
        return {"ok": True, "upload_url": f"{self.base}/upload/{stored.id}", "file_id": stored.id}

    def _api_files_completeUploadExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        files = body.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        out = []
        for item in files:
            stored = self.files[item["id"]]
            stored.channel = body.get("channel_id", "")
            stored.thread_ts = body.get("thread_ts")
            out.append({"id": stored.id, "title": item.get("title") or stored.name, "name": stored.name})
        return {"ok": True, "files": out}

    def _api_usergroups_users_list(self, body: dict[str, Any]) -> dict[str, Any]:
        group = body.get("usergroup", "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    def _api_users_info(self, body: dict[str, Any]) -> dict[str, Any]:
        user = body.get("user", "")
        return {
            "ok": True,
            "user": {"id": user, "name": user.lower(), "real_name": f"User {user}", "is_bot": user == BOT_USER_ID},
        }

    def _api_conversations_replies(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = body.get("channel", ""), body.get("ts", "")
        thread = [
            m for (ch, m_ts), m in sorted(self.messages.items()) if ch == channel and ts in (m_ts, m.get("thread_ts"))
        ]
        return {"ok": True, "messages": thread, "has_more": False}

    def _api_apps_connections_open(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        return {"ok": True, "url": self.socket_url}

    # --- HTTP plumbing -------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                if parsed.path.startswith("/api/"):
                    self._api(parsed.path[5:], {k: _decode(v[-1]) for k, v in parse_qs(parsed.query).items()})
                elif parsed.path.startswith("/files-pri/"):
                    self._download(parsed.path)
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                parsed = urlparse(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if parsed.path.startswith("/upload/"):
                    stored = fake.files.get(parsed.path.rsplit("/", 1)[-1])
                    if stored is None:
                        self._send(404, b"no such upload", "text/plain")
                        return
                    stored.content = raw
                    fake._record(Call("upload", {"file_id": stored.id, "bytes": len(raw)}, dict(self.headers)))
                    self._send(200, b"OK - " + str(len(raw)).encode(), "text/plain")
                    return
                if parsed.path.startswith("/response/"):  # a slash command's response_url (Bolt's respond)
                    fake._record(Call("response_url", json.loads(raw or b"{}"), dict(self.headers)))
                    self._send(200, b"ok", "text/plain")
                    return
                if not parsed.path.startswith("/api/"):
                    self._send(404, b"not found", "text/plain")
                    return
                body: dict[str, Any] = {k: _decode(v[-1]) for k, v in parse_qs(parsed.query).items()}
                if "json" in (self.headers.get("Content-Type") or ""):
                    body.update(json.loads(raw or b"{}"))
                else:
                    body.update({k: _decode(v[-1]) for k, v in parse_qs(raw.decode()).items()})
                self._api(parsed.path[5:], body)

            def _api(self, method: str, body: dict[str, Any]) -> None:
                if delay := fake.delays.get(method):
                    time.sleep(delay)
                scripted = fake.scripted(method)
                if isinstance(scripted, int):
                    fake._record(Call(method, body, dict(self.headers), {"status": scripted}))
                    self.send_response(scripted)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if scripted is not None and scripted != "ok":
                    answer = {"ok": False, "error": scripted}
                    fake._record(Call(method, body, dict(self.headers), answer))
                    self._send(200, json.dumps(answer).encode(), "application/json; charset=utf-8")
                    return
                answer = fake.answer(method, body)
                fake._record(Call(method, body, dict(self.headers), answer))
                self._send(200, json.dumps(answer).encode(), "application/json; charset=utf-8")

            def _download(self, path: str) -> None:
                file_id = path.split("/")[2].split("-", 1)[-1]
                stored = fake.files.get(file_id)
                auth = self.headers.get("Authorization", "")
                fake._record(Call("download", {"file": file_id, "authorization": auth}, dict(self.headers)), True)
                if stored is None:
                    self._send(404, b"not found", "text/plain")
                elif not auth.startswith("Bearer xoxb-"):
                    # Slack answers an unauthenticated download with its sign-in page, not the file.
                    self._send(200, b"<!DOCTYPE html><html>Sign in to Slack</html>", "text/html")
                else:
                    self._send(200, stored.content, "application/octet-stream")

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _refusal(body: dict[str, Any]) -> str | None:
    blocks = body.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(str(body.get("text") or "")) > 40_000:
        return "msg_too_long"
    if len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        text = block.get("text") if isinstance(block, dict) else None
        if block.get("type") == "section" and isinstance(text, dict) and len(text.get("text", "")) > 3000:
            return "invalid_blocks"
    return None


def _mimetype(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower()
    return {
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "txt": "text/plain",
        "md": "text/markdown",
    }.get(suffix, "application/octet-stream")


# --- signed requests to the Bolt app ---------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Response:
    status: int
    body: str
    seconds: float


class SlackSender:
    """Sends what Slack would send to `/slack/events`: events as JSON, interactions as a form `payload`."""

    def __init__(self, url: str, secret: str, first: int = 1) -> None:
        """`first` starts the ts and event-id counters: senders standing for different people never collide."""
        self.url = url
        self.secret = secret
        self._event_ids = itertools.count(first)
        self._ts = itertools.count(first)
        self._triggers = itertools.count(first)

    def next_ts(self) -> str:
        return f"{1_710_000_000 + next(self._ts)}.000100"

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or sign(self.secret, ts, body),
            **(headers or {}),
        }
        request = urllib.request.Request(self.url, data=body.encode(), headers=all_headers, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                text = resp.read().decode()
                return Response(resp.status, text, time.perf_counter() - started)
        except urllib.error.HTTPError as err:
            return Response(err.code, err.read().decode(), time.perf_counter() - started)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kwargs: Any) -> Response:
        envelope = self.envelope(event, event_id=event_id)
        return self.post(json.dumps(envelope), "application/json", **kwargs)

    def envelope(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }

    def slash(self, text: str, user: str, channel: str, slack_base: str) -> dict[str, Any]:
        """A signed `/hmicfrs` request; returns the ack body (the ephemeral reply), which must come at once."""
        response = self.slash_request(text, user, channel, slack_base)
        assert response.status == 200, response.body
        assert response.seconds < 3.0, "Slack needs the ack within 3 seconds"
        return json.loads(response.body) if response.body else {}

    def slash_request(self, text: str, user: str, channel: str, slack_base: str) -> Response:
        """The signed `/hmicfrs` request itself. Each invocation has its own trigger_id, as in Slack: the same
        signed body twice is a replay."""
        body = urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "api_app_id": APP_ID,
                "channel_id": channel,
                "channel_name": "reviews",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/hmicfrs",
                "text": text,
                "response_url": f"{slack_base}/response/commands/T0001/1/abc",
                "trigger_id": f"trigger-{next(self._triggers)}",
            }
        )
        return self.post(body, "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any], **kwargs: Any) -> Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", **kwargs)

    # --- payload builders ----------------------------------------------------------------------------------

    def mention(self, text: str, user: str = "U_ASKER", channel: str = "C_REVIEWS", **extra: Any) -> dict[str, Any]:
        ts = self.next_ts()
        return {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            **extra,
        }

    def message(
        self, text: str, user: str = "U_ASKER", channel: str = "C_REVIEWS", channel_type: str = "channel", **extra: Any
    ) -> dict[str, Any]:
        ts = self.next_ts()
        return {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "channel": channel,
            "channel_type": channel_type,
            "event_ts": ts,
            **extra,
        }

    @staticmethod
    def block_action(
        action_id: str, value: str, user: str, channel: str, message_ts: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        return {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "pcc-office"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": f"trigger-{message_ts}",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": "reviews"},
            "message": {"ts": message_ts, "type": "message", **({"thread_ts": thread_ts} if thread_ts else {})},
            "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "draft_actions",
                    "type": "button",
                    "value": value,
                    "action_ts": "1",
                }
            ],
        }

    @staticmethod
    def view_submission(view: dict[str, Any], user: str, values: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "pcc-office"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": "trigger-view",
            "view": {
                "id": "V_SUBMITTED",
                "team_id": TEAM_ID,
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view.get("private_metadata", ""),
                "blocks": view.get("blocks", []),
                "state": {"values": values},
                "hash": "1.abc",
            },
        }


def iter_texts(blocks: list[dict[str, Any]]) -> Iterator[str]:
    """Every text string in a list of blocks (sections, contexts, buttons), for assertions."""
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            yield block["text"].get("text", "")
        for element in block.get("elements", []):
            if isinstance(element.get("text"), dict):
                yield element["text"].get("text", "")
            elif isinstance(element.get("text"), str):
                yield element["text"]
