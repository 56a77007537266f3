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

from bot.services.errors import storage_message
from bot.services.home_tab import HomeTab
from bot.services.inputs import parse_id, parse_step, split_date_and_title
from bot.services.inspection_desk import InspectionDesk
from bot.services.permalinks import Permalinks
from bot.services.poster import SlackPoster
from bot.services.register_desk import RegisterDesk, parse_register_query
from bot.services.reviewers import ReviewerDirectory
from bot.slack.constants import COMMAND
from bot.slack.ui import ceilings as ceiling_ui
from bot.slack.ui import deadlines as ui
from bot.slack.ui.common import MessagePayload, notice, refusal, refusal_text
from drafting.pack import PackIncomplete
from retrieval.dates import DateParseError
from retrieval.models import Classification
from tracker.deadlines import DONE_STEPS
from tracker.errors import InvalidInput, TrackerError
from tracker.faults import storage_problem
from tracker.findings import ReportThread
from tracker.inspections import DuplicateInspection
from tracker.review import OfficeAction
from tracker.views import InspectionView

log = logging.getLogger(__name__)

_CHANNEL_TOKEN = re.compile(r"<#([CGD][A-Z0-9_]+)(?:\|[^>]*)?>")
_RAW_CHANNEL = re.compile(r"(?:^|\s)#([a-z0-9][a-z0-9_-]*)\s*$")
_TYPE_OPTION = re.compile(r"(?:^|\s)(?:--type[=\s]+|type:)(\S+)", re.IGNORECASE)
_WATERMARK_WORDS = {"draft", "--draft-watermark", "watermark", "working"}
#: A message link as Slack's "Copy link" gives it (a reply's carries `thread_ts`), bare or in `<…|…>`.
_MESSAGE_LINK = re.compile(
    r"<?https?://[^\s<>|]*/archives/(?P<channel>[CGD][A-Z0-9_]+)/p(?P<secs>\d{10})(?P<micros>\d{6})"
    r"(?:\?(?P<query>[^\s<>|]*))?(?:\|[^>]*)?>?"
)
_THREAD_PARAM = re.compile(r"(?:^|[&;])thread_ts=(\d+\.\d+)")
MAX_THREADS_LISTED = 5


@dataclass(frozen=True)
class AttachRequest:
    inspection_id: int
    channel: str | None = None
    thread_ts: str | None = None


def parse_attach(text: str) -> AttachRequest:
    """`3` or `3 https://….slack.com/archives/C1/p1700000000000100` → the inspection and, if linked, the thread."""
    words = text.split(maxsplit=1)
    if not words:
        raise InvalidInput(
            f"Use `{COMMAND} attach <id>` in the channel where the report was uploaded, or "
            f"`{COMMAND} attach <id> <link to the report's message>`."
        )
    inspection_id = parse_id(words[0])
    if len(words) == 1:
        return AttachRequest(inspection_id)
    match = _MESSAGE_LINK.search(words[1])
    if match is None:
        raise InvalidInput(
            f"{words[1].strip()!r} is not a Slack message link: on the report's message choose ⋮ → Copy link, "
            f"then `{COMMAND} attach {inspection_id} <link>`."
        )
    thread = _THREAD_PARAM.search(match.group("query") or "")
    ts = thread.group(1) if thread else f"{match.group('secs')}.{match.group('micros')}"
    return AttachRequest(inspection_id, match.group("channel"), ts)


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
class PackRequest:
    inspection_id: int
    watermark: bool = False
    cc_waiver: str = ""


_WAIVE_CC = re.compile(r"(?:^|\s)(?:--)?waive-cc\b\s*(?P<reason>.*)$", re.IGNORECASE | re.DOTALL)


def parse_pack(text: str) -> PackRequest:
    """`3 draft`, `3 waive-cc comments to follow under separate cover` → the parts; a waiver needs its reason."""
    reason = None
    if match := _WAIVE_CC.search(text):
        reason = match.group("reason").strip()
        text = text[: match.start()]
        if not reason:
            raise InvalidInput(
                f"Say why the pack goes without the chief constable's comments: `{COMMAND} pack <id> waive-cc "
                "<reason>`, e.g. `waive-cc comments to follow under separate cover`."
            )
    words = text.split()
    if not words:
        raise InvalidInput(
            f"Use `{COMMAND} pack <id>` (add `draft` for a watermarked working copy, or `waive-cc <reason>` "
            "to go without the chief constable's comments)."
        )
    watermark = any(word.lower() in _WATERMARK_WORDS for word in words[1:])
    return PackRequest(parse_id(words[0]), watermark, reason or "")


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

    def __init__(
        self,
        desk: InspectionDesk,
        poster: SlackPoster,
        home: HomeTab,
        links: Permalinks,
        reviewers: ReviewerDirectory | None = None,
        register: RegisterDesk | None = None,
    ) -> None:
        self.desk = desk
        self.poster = poster
        self.home = home
        self.links = links
        self.register_desk = register or RegisterDesk(desk.repo, poster, desk.clock)
        # Who may publish, export, comment, attach or tick a step off: the approval policy's reviewers, groups
        # resolved like a click's.
        self.reviewers = reviewers or ReviewerDirectory(poster.client, desk.repo.policy.reviewers)
        self._handlers: dict[str, Callable[[SlashCommand, str, Reply], None]] = {
            "add": self.add,
            "list": self.list,
            "ls": self.list,
            "show": self.show,
            "done": self.done,
            "remind": self.remind,
            "comments": self.comments,
            "pack": self.pack,
            "attach": self.attach,
            "ceiling": self.ceiling,
            "register": self.register,
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
        except Exception as error:
            if (problem := storage_problem(error)) is not None:
                log.warning("/hmicfrs %s not run: the database is %s", sub, problem.value)
                reply(refusal(" ".join(storage_message(problem))))
            else:
                log.exception("/hmicfrs %s failed", sub)
                reply(refusal("Something went wrong; nothing was changed. Try again, or check the bot's log."))
        finally:
            reply.ensure_acked()

    # ── subcommands ──────────────────────────────────────────────────────────────────────────────────────

    def add(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        request = parse_add(rest)
        published, title = split_date_and_title(request.text)
        channel = request.channel or command.channel or None
        try:
            view = self.desk.add(published, title, command.user, request.inspection_type, channel)
        except DuplicateInspection as error:
            first = error.existing
            link = self.links.message(first.channel_id, first.thread_ts) if first.thread_ts else None
            reply(ui.duplicate_refused(first, link))
            return
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
        inspection_id, step = parse_id(parts[0]), parse_step(parts[1])
        if step == "published":
            self.desk.check_may_publish(command.user, self.reviewers.groups_of(command.user))
        else:
            self._check(OfficeAction.MARK_DONE, command)
        result = self.desk.mark(inspection_id, step, command.user)
        reply(ui.done_message(result))
        if result.step == "published":
            result = self.desk.learn(result)  # after the ack: the index may take a moment
            view = result.inspection
            self._post_to_inspection(view.channel_id, view.thread_ts, reply, ui.done_message(result))
        self._refresh_home()

    def attach(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        """A report uploaded without a date, attached to an inspection already tracked.

        Slash commands carry no thread, so the thread is the one in this channel whose findings belong to no
        inspection; when there are several, the report message's link says which.
        """
        request = parse_attach(rest)
        self._check(OfficeAction.ATTACH, command)
        self.desk.repo.inspections.get(request.inspection_id)  # an unknown id is refused first
        if request.channel and request.thread_ts:
            channel, thread_ts = request.channel, request.thread_ts
        else:
            threads = self.desk.report_threads(command.channel)
            if len(threads) != 1:
                reply(ui.attach_which(request.inspection_id, self._thread_links(threads)))
                return
            channel, thread_ts = threads[0].channel_id, threads[0].thread_ts
        result = self.desk.attach_thread(request.inspection_id, channel, thread_ts, command.user)
        view = self.desk.repo.inspections.get(request.inspection_id)
        reply(ui.attached(result, view, self.links.message(channel, thread_ts)))
        if result.added:
            self._tell_thread(channel, thread_ts, ui.attached_note(result, view, self.desk.today()))
        self._refresh_home()

    def _thread_links(self, threads: list[ReportThread]) -> list[tuple[ReportThread, str | None]]:
        return [(t, self.links.message(t.channel_id, t.thread_ts)) for t in threads[:MAX_THREADS_LISTED]]

    def _tell_thread(self, channel: str, thread_ts: str | None, payload: MessagePayload) -> None:
        try:
            self.poster.reply(channel, thread_ts, payload)
        except SlackApiError as error:  # the attachment is stored; the note in the thread is a courtesy
            log.warning("note in %s failed: %s", channel, error.response.get("error"))

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
        self._check(OfficeAction.PCC_COMMENTS if who == "pcc" else OfficeAction.CC_COMMENTS, command)
        if who == "pcc":
            self.desk.set_comments(inspection_id, command.user, pcc=text)
        else:
            self.desk.set_comments(inspection_id, command.user, chief_constable=text)
        name = "PCC's" if who == "pcc" else "chief constable's"
        reply(notice(f":white_check_mark: Saved the {name} comments for inspection #{inspection_id}."))

    def pack(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        request = parse_pack(rest)
        if not request.watermark:  # a watermarked working copy stays open to everyone
            self._check(OfficeAction.EXPORT_PACK, command)
        view = self.desk.repo.inspections.get(request.inspection_id)  # read once: the check, the reply, the upload
        watermark, waiver = request.watermark, request.cc_waiver
        try:
            self.desk.check_pack(view, watermark, waiver)
        except PackIncomplete as error:
            links = {
                m.finding_id: link
                for m in error.missing
                if m.message_ts and (link := self.links.message(m.channel_id, m.message_ts))
            }
            reply(ui.pack_refused(error, view, links))
            return
        reply(ui.pack_started(view, watermark))
        self._upload_pack(view, request, command, reply)

    def _upload_pack(self, view: InspectionView, request: PackRequest, command: SlashCommand, reply: Reply) -> None:
        inspection_id = view.id
        channel = view.channel_id or command.channel
        thread_ts = view.thread_ts if view.channel_id else None
        with tempfile.TemporaryDirectory(prefix="responder-pack-") as folder:
            exported = self.desk.export_pack(
                inspection_id, Path(folder), request.watermark, request.cc_waiver, command.user
            )
            if (refused := self._above_ceiling(exported.marking, channel, inspection_id)) is not None:
                reply(refused)
                return
            files = [(exported.markdown, f"{view.title} (Markdown)"), (exported.docx, f"{view.title} (Word)")]
            if exported.pdf is not None:
                files.append((exported.pdf, f"{view.title} (PDF)"))
            try:
                self.poster.upload_files(channel, thread_ts, files, ui.pack_comment(view, exported))
            except SlackApiError as error:
                reply(
                    refusal(
                        f"The pack was built but could not be uploaded ({error.response.get('error')}); "
                        f"make sure I am in <#{channel}>, or run `responder pack {inspection_id}` instead."
                    )
                )

    def ceiling(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        """`ceiling` shows this channel's ceiling; `ceiling LEVEL [#channel]` sets it (admins only, audited);
        `ceiling list` shows every channel with one of its own."""
        channels = self.desk.repo.channels
        channel = command.channel
        if match := _CHANNEL_TOKEN.search(rest):
            channel = match.group(1)
            rest = rest[: match.start()] + rest[match.end() :]
        level = " ".join(rest.split())
        if level.lower() in {"list", "ls"}:
            reply(ceiling_ui.ceiling_list(channels.listing(), channels.upper_bound))
            return
        if not level:
            reply(ceiling_ui.ceiling_shown(channels.describe(channel), channels.upper_bound))
            return
        channels.check_may_set(command.user)
        try:
            marking = Classification.parse(level)
        except ValueError as error:
            raise InvalidInput(f"{error} For example `{COMMAND} ceiling OFFICIAL-SENSITIVE`.") from None
        before = channels.ceiling(channel)
        item = channels.set_ceiling(channel, marking, command.user)
        reply(ceiling_ui.ceiling_set(item, before))
        if item.ceiling is not before:
            self._tell_thread(channel, None, ceiling_ui.ceiling_announcement(item, before))

    def register(self, command: SlashCommand, rest: str, reply: Reply) -> None:
        """`register [inspection id | @person | mine | overdue | all]`: the items, each with Add update and Assign
        owner (ephemeral: the buttons act for whoever presses them, and a channel need not see the list)."""
        reply(self.register_desk.listing(parse_register_query(rest, command.user)))

    def _above_ceiling(self, marking: Classification, channel: str, inspection_id: int) -> MessagePayload | None:
        """A refusal when the pack is marked above the ceiling of the channel it would be uploaded to."""
        ceiling = self.desk.repo.channels.ceiling(channel)
        if marking.level <= ceiling.level:
            return None
        return refusal(
            f"The pack is marked {marking.value}, above the classification ceiling of the channel it would go "
            f"to ({ceiling.value}), so I have not uploaded it. Export it with `responder pack {inspection_id}` "
            f"instead, or ask an admin to raise that channel's ceiling (`{COMMAND} ceiling {marking.value}`)."
        )

    # ── helpers ──────────────────────────────────────────────────────────────────────────────────────────

    def _check(self, action: OfficeAction, command: SlashCommand) -> None:
        """NotAllowed (answered ephemerally, naming who may) unless the policy lets this person do it."""
        self.desk.check_may(action, command.user, self.reviewers.groups_of(command.user))

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
