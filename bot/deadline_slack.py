"""`/hmicfrs` and the App Home dashboard: the Slack side of deadlines, reminders and the publication pack.

Replies are ephemeral (in the command's ack, so they work in any channel, even one the bot is not in)
unless they announce something to the channel: a new inspection, a published response, a pack. Quick store
reads and writes happen before the ack (milliseconds); anything slow (indexing a published response,
building and uploading the pack) runs after it, so Slack's 3-second limit is never at risk.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks_deadlines as bd
from bot.blocks import MessagePayload, notice
from bot.deadline_service import (
    DeadlineService,
    parse_id,
    split_date_and_title,
)
from tracker.dates import DateParseError
from tracker.errors import InvalidInput, TrackerError
from tracker.packs import PackIncomplete, build_pack

if TYPE_CHECKING:
    from bot.app import BotDeps

log = logging.getLogger(__name__)

EXTRAS_KEY = "deadlines"
_CHANNEL_TOKEN = re.compile(r"<#([CGD][A-Z0-9_]+)(?:\|[^>]*)?>")
_RAW_CHANNEL = re.compile(r"(?:^|\s)#([a-z0-9][a-z0-9_-]*)\s*$")
_TYPE_OPTION = re.compile(r"(?:^|\s)(?:--type[=\s]+|type:)(\S+)", re.IGNORECASE)
_WATERMARK_WORDS = {"draft", "--draft-watermark", "watermark", "working"}


@dataclass(frozen=True)
class SlashCommand:
    text: str
    user: str
    channel: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SlashCommand:
        return cls(
            text=str(body.get("text") or ""),
            user=str(body.get("user_id") or ""),
            channel=str(body.get("channel_id") or ""),
        )


@dataclass(frozen=True)
class AddRequest:
    text: str
    channel: str | None
    inspection_type: str | None


def parse_add(text: str) -> AddRequest:
    """`8 Dec 2023 Title <#C1|reviews> --type peel` → the parts; a plain `#name` cannot be resolved."""
    channel = None
    if match := _CHANNEL_TOKEN.search(text):
        channel = match.group(1)
        text = text[: match.start()] + text[match.end() :]
    elif (match := _RAW_CHANNEL.search(text)) and not match.group(1).isdigit():
        raise InvalidInput(
            f"I cannot tell which channel #{match.group(1)} is: pick it from Slack's channel suggestions "
            "as you type, or run the command in that channel."
        )
    inspection_type = None
    if match := _TYPE_OPTION.search(text):
        inspection_type = match.group(1)
        text = text[: match.start()] + text[match.end() :]
    return AddRequest(" ".join(text.split()), channel, inspection_type)


class TeamLinks:
    """Permalinks built from the workspace URL (one auth.test, cached) instead of a call per message."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._url: str | None = None
        self._lock = threading.Lock()

    def team_url(self) -> str | None:
        with self._lock:
            if self._url is None:
                try:
                    self._url = str(self._client.auth_test().get("url") or "") or None
                except SlackApiError as error:
                    log.warning("auth.test failed, no thread links: %s", error.response.get("error"))
            return self._url

    def message(self, channel: str | None, ts: str | None) -> str | None:
        url = self.team_url()
        if not (url and channel):
            return None
        return bd.archive_link(url, channel, ts)


class HomeTab:
    """The App Home dashboard; re-published to everyone who has opened it whenever the data changes."""

    def __init__(self, service: DeadlineService, client: WebClient, links: TeamLinks) -> None:
        self.service = service
        self.client = client
        self.links = links
        self._viewers: set[str] = set()
        self._fingerprint: str | None = None
        self._lock = threading.Lock()

    def rows(self) -> list[bd.HomeRow]:
        return [
            bd.HomeRow(summary=s, link=self.links.message(s.inspection.channel_id, s.inspection.thread_ts))
            for s in self.service.open_inspections()
        ]

    def publish(self, user: str) -> None:
        """Show the dashboard to one person (on app_home_opened) and remember them for later refreshes."""
        rows = self.rows()
        with self._lock:
            self._viewers.add(user)
        self._send(user, rows)

    def refresh(self, only_if_changed: bool = False) -> int:
        """Re-publish for every known viewer; with `only_if_changed`, only when the dashboard's data moved."""
        # Read and publish under one lock: a refresh that read the data earlier must not publish after a
        # newer one and leave viewers (and the change fingerprint) on stale rows.
        with self._lock:
            rows = self.rows()
            fingerprint = json.dumps([row.model_dump(mode="json") for row in rows], sort_keys=True)
            if only_if_changed and fingerprint == self._fingerprint:
                return 0
            self._fingerprint = fingerprint
            return sum(self._send(user, rows) for user in sorted(self._viewers))

    def _send(self, user: str, rows: list[bd.HomeRow]) -> bool:
        try:
            self.client.views_publish(user_id=user, view=bd.home_view(rows, self.service.clock()))
        except SlackApiError as error:
            log.warning("views.publish for %s failed: %s", user, error.response.get("error"))
            return False
        return True


class Reply:
    """The first reply goes in the ack (ephemeral); any later one is a chat.postEphemeral."""

    def __init__(self, ack: Ack, client: WebClient, command: SlashCommand) -> None:
        self._ack, self._client, self._command = ack, client, command
        self.acked = False

    def __call__(self, payload: MessagePayload) -> None:
        if not self.acked:
            self.acked = True
            self._ack(text=payload.text, blocks=payload.blocks, response_type="ephemeral")
            return
        try:
            self._client.chat_postEphemeral(
                channel=self._command.channel, user=self._command.user, text=payload.text, blocks=payload.blocks
            )
        except SlackApiError as error:
            log.warning("ephemeral reply failed: %s", error.response.get("error"))

    def ensure_acked(self) -> None:
        if not self.acked:
            self.acked = True
            self._ack()


class DeadlineDesk:
    """Runs one `/hmicfrs` invocation: parse, act through the DeadlineService, answer where it belongs."""

    def __init__(self, service: DeadlineService, client: WebClient, home: HomeTab, links: TeamLinks) -> None:
        self.service = service
        self.client = client
        self.home = home
        self.links = links
        self._handlers: dict[str, Callable[[SlashCommand, str, Reply], None]] = {
            "add": self.add,
            "list": self.list,
            "ls": self.list,
            "show": self.show,
            "done": self.done,
            "remind": self.remind,
            "comments": self.comments,
            "pack": self.pack,
        }

    def handle(self, command: SlashCommand, ack: Ack) -> None:
        reply = Reply(ack, self.client, command)
        word, _, rest = command.text.strip().partition(" ")
        sub = word.lower()
        handler = self._handlers.get(sub)
        try:
            if sub in {"", "help"}:
                reply(bd.help_message())
            elif handler is None:
                reply(bd.help_message(f"Unknown subcommand “{word}”. Here is what I can do:"))
            else:
                handler(command, rest.strip(), reply)
        except (TrackerError, DateParseError) as error:
            reply(bd.refusal(str(error)))
        except Exception:
            log.exception("/hmicfrs %s failed", sub)
            reply(bd.refusal("Something went wrong; nothing was changed. Try again, or check the bot's log."))
        finally:
            reply.ensure_acked()

    # ── subcommands ──────────────────────────────────────────────────────────────────────────────────────

    def add(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        request = parse_add(rest)
        published, title = split_date_and_title(request.text)
        channel = request.channel or command.channel or None
        view = self.service.add(published, title, command.user, request.inspection_type, channel)
        today = self.service.today()
        reply(bd.inspection_added(view, today, announced_in=channel))
        if channel:
            self._announce(view.id, channel, command.user, reply)
        self._refresh_home()

    def _announce(self, inspection_id: int, channel: str, user: str, reply: Reply) -> None:
        """The announcement starts the inspection's thread: its report and drafts go there."""
        view = self.service.repo.get_inspection(inspection_id)
        payload = bd.inspection_announcement(view, self.service.today(), user)
        try:
            posted = self.client.chat_postMessage(
                channel=channel, text=payload.text, blocks=payload.blocks, unfurl_links=False
            )
        except SlackApiError as error:
            reply(
                bd.refusal(
                    f"Inspection #{inspection_id} is saved, but I could not post in that channel "
                    f"({error.response.get('error')}). Invite me with /invite, then use `/hmicfrs show "
                    f"{inspection_id}`."
                )
            )
            return
        self.service.repo.set_inspection_thread(inspection_id, channel, str(posted["ts"]), user)

    def list(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        reply(bd.inspection_list(self.service.open_inspections()))

    def show(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        reply(bd.inspection_detail(self.service.show(parse_id(rest))))

    def done(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        parts = rest.split()
        if len(parts) != 2:
            raise InvalidInput("Use `/hmicfrs done <id> <published|sent-hmicfrs|sent-home-office>`.")
        result = self.service.mark(parse_id(parts[0]), parts[1], command.user)
        reply(bd.done_message(result))
        if result.step == "published":
            result = self.service.learn(result)  # after the ack: the index may take a moment
            view = result.inspection
            self._post_to_inspection(view.channel_id, view.thread_ts, reply, bd.done_message(result))
        self._refresh_home()

    def remind(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        id_text, _, days = rest.partition(" ")
        if not days.strip():
            raise InvalidInput("Use `/hmicfrs remind <id> <days,…>`, e.g. `/hmicfrs remind 3 28,14,7,3,1,0`.")
        reply(bd.reminders_set(self.service.remind(parse_id(id_text), days, command.user)))

    def comments(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        parts = rest.split(maxsplit=2)
        if len(parts) < 3 or parts[1].lower() not in {"pcc", "cc"}:
            raise InvalidInput("Use `/hmicfrs comments <id> pcc <text>` or `/hmicfrs comments <id> cc <text>`.")
        inspection_id, who, text = parse_id(parts[0]), parts[1].lower(), parts[2]
        if who == "pcc":
            self.service.set_comments(inspection_id, command.user, pcc=text)
        else:
            self.service.set_comments(inspection_id, command.user, chief_constable=text)
        name = "PCC's" if who == "pcc" else "chief constable's"
        reply(notice(f":white_check_mark: Saved the {name} comments for inspection #{inspection_id}."))

    def pack(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        words = rest.split()
        if not words:
            raise InvalidInput("Use `/hmicfrs pack <id>` (add `draft` for a watermarked working copy).")
        inspection_id = parse_id(words[0])
        watermark = any(word.lower() in _WATERMARK_WORDS for word in words[1:])
        try:
            build_pack(self.service.repo, inspection_id, watermark=watermark)  # the s.55(5B) check, fast
        except PackIncomplete as error:
            links = {
                m.finding_id: link
                for m in error.missing
                if m.message_ts and (link := self.links.message(m.channel_id, m.message_ts))
            }
            reply(bd.pack_refused(error, links))
            return
        view = self.service.repo.get_inspection(inspection_id)
        reply(bd.pack_started(view, watermark))
        self._upload_pack(inspection_id, watermark, command, reply)

    def _upload_pack(self, inspection_id: int, watermark: bool, command: SlashCommand, reply: Reply) -> None:
        view = self.service.repo.get_inspection(inspection_id)
        channel = view.channel_id or command.channel
        thread_ts = view.thread_ts if view.channel_id else None
        with tempfile.TemporaryDirectory(prefix="responder-pack-") as folder:
            exported = self.service.export_pack(inspection_id, Path(folder), watermark=watermark)
            uploads = [
                {"file": str(path), "filename": path.name, "title": title}
                for path, title in (
                    (exported.markdown, f"{view.title} (Markdown)"),
                    (exported.docx, f"{view.title} (Word)"),
                )
            ]
            try:
                self.client.files_upload_v2(
                    file_uploads=uploads,
                    channel=channel,
                    thread_ts=thread_ts,
                    initial_comment=bd.pack_comment(view, exported),
                )
            except SlackApiError as error:
                reply(
                    bd.refusal(
                        f"The pack was built but could not be uploaded ({error.response.get('error')}); "
                        f"make sure I am in <#{channel}>, or run `responder pack {inspection_id}` instead."
                    )
                )

    # ── helpers ──────────────────────────────────────────────────────────────────────────────────────────

    def _post_to_inspection(
        self,
        channel: str | None,
        thread_ts: str | None,
        reply: Reply,
        payload: MessagePayload,
    ) -> None:
        if not channel:
            reply(payload)
            return
        try:
            self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                reply_broadcast=bool(thread_ts),
                text=payload.text,
                blocks=payload.blocks,
                unfurl_links=False,
            )
        except SlackApiError as error:
            log.warning("announcement in %s failed: %s", channel, error.response.get("error"))
            reply(payload)

    def _refresh_home(self) -> None:
        try:
            self.home.refresh()
        except Exception:  # the dashboard is a convenience; the command itself has succeeded
            log.exception("App Home refresh failed")


@dataclass
class DeadlineParts:
    service: DeadlineService
    desk: DeadlineDesk
    home: HomeTab


def parts_for(deps: BotDeps) -> DeadlineParts:
    """Build once per app and keep in deps.extras, so the command, the Home tab and the sweeper share them."""
    parts = deps.extras.get(EXTRAS_KEY)
    if isinstance(parts, DeadlineParts):
        return parts
    settings = deps.settings
    service = DeadlineService(
        deps.store,
        force=settings.force,
        pcc_name=settings.pcc_name,
        cc_days=settings.chief_constable_days,
        reminder_days=settings.reminder_days,
        index=lambda: deps.services.index,
        clock=deps.clock,
    )
    links = TeamLinks(deps.client)
    home = HomeTab(service, deps.client, links)
    parts = DeadlineParts(service, DeadlineDesk(service, deps.client, home, links), home)
    deps.extras[EXTRAS_KEY] = parts
    deps.workflow.on_change.append(lambda: home.refresh(only_if_changed=True))
    return parts
