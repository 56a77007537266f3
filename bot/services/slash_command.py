"""`/hmicfrs`: the Slack side of deadlines, reminders and the publication pack.

Replies are ephemeral (in the command's ack, so they work in any channel, even one the bot is not in)
unless they announce something to the channel: a new inspection, a published response, a pack. Quick store
reads and writes happen before the ack (milliseconds); anything slow (indexing a published response,
building and uploading the pack) runs after it, so Slack's 3-second limit is never at risk.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk.errors import SlackApiError

from bot.services.home_tab import HomeTab
from bot.services.inputs import parse_id, split_date_and_title
from bot.services.inspection_desk import InspectionDesk
from bot.services.permalinks import Permalinks
from bot.services.poster import SlackPoster
from bot.slack.constants import COMMAND
from bot.slack.ui import deadlines as ui
from bot.slack.ui.common import MessagePayload, notice, refusal, refusal_text
from drafting.pack import PackIncomplete
from retrieval.dates import DateParseError
from tracker.deadlines import DONE_STEPS
from tracker.errors import InvalidInput, TrackerError
from tracker.views import InspectionView

log = logging.getLogger(__name__)

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


class Reply:
    """The first reply goes in the ack (ephemeral); any later one through the command's response_url.

    Bolt's `respond` works in any channel, even one the bot is not a member of (chat.postEphemeral does not).
    """

    def __init__(self, ack: Ack, respond: Respond) -> None:
        self._ack, self._respond = ack, respond
        self.acked = False

    def __call__(self, payload: MessagePayload) -> None:
        if not self.acked:
            self.acked = True
            self._ack(text=payload.text, blocks=payload.blocks, response_type="ephemeral")
            return
        try:
            self._respond(text=payload.text, blocks=payload.blocks, response_type="ephemeral", replace_original=False)
        except Exception as error:  # the webhook client raises plain errors for a dead response_url
            log.warning("later reply via response_url failed: %s", type(error).__name__)

    def ensure_acked(self) -> None:
        if not self.acked:
            self.acked = True
            self._ack()


class HmicfrsCommand:
    """Runs one `/hmicfrs` invocation: parse, act through the InspectionDesk, answer where it belongs."""

    def __init__(self, desk: InspectionDesk, poster: SlackPoster, home: HomeTab, links: Permalinks) -> None:
        self.desk = desk
        self.poster = poster
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

    def handle(self, command: SlashCommand, ack: Ack, respond: Respond) -> None:
        reply = Reply(ack, respond)
        word, _, rest = command.text.strip().partition(" ")
        sub = word.lower()
        handler = self._handlers.get(sub)
        try:
            if sub in {"", "help"}:
                reply(ui.help_message())
            elif handler is None:
                reply(ui.help_message(f"Unknown subcommand “{word}”. Here is what I can do:"))
            else:
                handler(command, rest.strip(), reply)
        except TrackerError as error:
            reply(refusal(refusal_text(error)))
        except DateParseError as error:
            reply(refusal(str(error)))
        except Exception:
            log.exception("/hmicfrs %s failed", sub)
            reply(refusal("Something went wrong; nothing was changed. Try again, or check the bot's log."))
        finally:
            reply.ensure_acked()

    # ── subcommands ──────────────────────────────────────────────────────────────────────────────────────

    def add(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        request = parse_add(rest)
        published, title = split_date_and_title(request.text)
        channel = request.channel or command.channel or None
        view = self.desk.add(published, title, command.user, request.inspection_type, channel)
        today = self.desk.today()
        reply(ui.inspection_added(view, today, announced_in=channel))
        if channel:
            self._announce(view, channel, command.user, reply)
        self._refresh_home()

    def _announce(self, view: InspectionView, channel: str, user: str, reply: Reply) -> None:
        """The announcement starts the inspection's thread: its report and drafts go there."""
        inspection_id = view.id
        payload = ui.inspection_announcement(view, self.desk.today(), user)
        try:
            ts = self.poster.reply(channel, None, payload)
        except SlackApiError as error:
            reply(
                refusal(
                    f"Inspection #{inspection_id} is saved, but I could not post in that channel "
                    f"({error.response.get('error')}). Invite me with /invite, then use `{COMMAND} show "
                    f"{inspection_id}`."
                )
            )
            return
        self.desk.repo.inspections.set_thread(inspection_id, channel, ts, user)

    def list(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        reply(ui.inspection_list(self.desk.open_inspections()))

    def show(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        reply(ui.inspection_detail(self.desk.show(parse_id(rest))))

    def done(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        parts = rest.split()
        if len(parts) != 2:
            raise InvalidInput(f"Use `{COMMAND} done <id> <{'|'.join(DONE_STEPS)}>`.")
        result = self.desk.mark(parse_id(parts[0]), parts[1], command.user)
        reply(ui.done_message(result))
        if result.step == "published":
            result = self.desk.learn(result)  # after the ack: the index may take a moment
            view = result.inspection
            self._post_to_inspection(view.channel_id, view.thread_ts, reply, ui.done_message(result))
        self._refresh_home()

    def remind(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        id_text, _, days = rest.partition(" ")
        if not days.strip():
            raise InvalidInput(f"Use `{COMMAND} remind <id> <days,…>`, e.g. `{COMMAND} remind 3 28,14,7,3,1,0`.")
        reply(ui.reminders_set(self.desk.remind(parse_id(id_text), days, command.user)))

    def comments(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        parts = rest.split(maxsplit=2)
        if len(parts) < 3 or parts[1].lower() not in {"pcc", "cc"}:
            raise InvalidInput(f"Use `{COMMAND} comments <id> pcc <text>` or `{COMMAND} comments <id> cc <text>`.")
        inspection_id, who, text = parse_id(parts[0]), parts[1].lower(), parts[2]
        if who == "pcc":
            self.desk.set_comments(inspection_id, command.user, pcc=text)
        else:
            self.desk.set_comments(inspection_id, command.user, chief_constable=text)
        name = "PCC's" if who == "pcc" else "chief constable's"
        reply(notice(f":white_check_mark: Saved the {name} comments for inspection #{inspection_id}."))

    def pack(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        words = rest.split()
        if not words:
            raise InvalidInput(f"Use `{COMMAND} pack <id>` (add `draft` for a watermarked working copy).")
        view = self.desk.repo.inspections.get(parse_id(words[0]))  # read once: the check, the reply, the upload
        watermark = any(word.lower() in _WATERMARK_WORDS for word in words[1:])
        try:
            self.desk.check_pack(view, watermark)
        except PackIncomplete as error:
            links = {
                m.finding_id: link
                for m in error.missing
                if m.message_ts and (link := self.links.message(m.channel_id, m.message_ts))
            }
            reply(ui.pack_refused(error, view, links))
            return
        reply(ui.pack_started(view, watermark))
        self._upload_pack(view, watermark, command, reply)

    def _upload_pack(self, view: InspectionView, watermark: bool, command: SlashCommand, reply: Reply) -> None:
        inspection_id = view.id
        channel = view.channel_id or command.channel
        thread_ts = view.thread_ts if view.channel_id else None
        with tempfile.TemporaryDirectory(prefix="responder-pack-") as folder:
            exported = self.desk.export_pack(inspection_id, Path(folder), watermark=watermark)
            files = [(exported.markdown, f"{view.title} (Markdown)"), (exported.docx, f"{view.title} (Word)")]
            try:
                self.poster.upload_files(channel, thread_ts, files, ui.pack_comment(view, exported))
            except SlackApiError as error:
                reply(
                    refusal(
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
            self.poster.reply(channel, thread_ts, payload, broadcast=bool(thread_ts))
        except SlackApiError as error:
            log.warning("announcement in %s failed: %s", channel, error.response.get("error"))
            reply(payload)

    def _refresh_home(self) -> None:
        try:
            self.home.refresh()
        except Exception:  # the dashboard is a convenience; the command itself has succeeded
            log.exception("App Home refresh failed")
