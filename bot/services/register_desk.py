"""The recommendation register in Slack: `/hmicfrs register`, its Add update and Assign owner modals, and the
counts App Home shows.

A submission is recorded before the modal is acked, so a refusal (an illegal move, a non-reviewer closing,
an empty note, a bad link) is shown on the field it is about and nothing typed is lost. After a change the
person is told where they clicked (ephemerally; by DM from App Home or when that fails) and App Home is
refreshed through `on_change`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from slack_sdk.errors import SlackApiError

from bot.services.inputs import parse_id
from bot.services.poster import SlackPoster
from bot.slack import constants as c
from bot.slack.ui import register as ui
from bot.slack.ui.common import MessagePayload, Mrkdwn, refusal
from bot.slack.ui.register import AssignedItem, AssignForm, InspectionCounts, RegisterModalContext, UpdateForm
from tracker.clock import Clock, uk_today
from tracker.errors import ConcurrentChange, IllegalTransition, InvalidInput, NotAllowed, NotFound, TrackerError
from tracker.register import ENDINGS, MAX_NOTE_CHARS, Rag, RegisterItemView, RegisterStatus, next_statuses
from tracker.repository import Repository

log = logging.getLogger(__name__)

#: Slack shows at most this much under a field in a modal.
MAX_FIELD_ERROR = 300
_MENTION = re.compile(r"^<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9_]{2,}$")
USAGE = (
    f"Use `{c.COMMAND} register` (open items), `{c.COMMAND} register <inspection id>`, "
    f"`{c.COMMAND} register @person` (pick them from Slack's suggestions), `{c.COMMAND} register mine`, "
    f"`{c.COMMAND} register overdue` or `{c.COMMAND} register all`."
)
NARROW_HINT = f"`{c.COMMAND} register <inspection id>`, `@person` or `overdue`"
_STALE = "This form is out of date: close it and press the button again."
#: Two people saved the same item at once and the other was first (the row's version moved on).
_RACED = "Someone else saved a change to this item just now. Press Save again to add yours on top."


@dataclass(frozen=True)
class RegisterQuery:
    """Which items `/hmicfrs register …` lists, and the heading that says so."""

    heading: str
    inspection_id: int | None = None
    owner: str | None = None
    overdue: bool = False
    live_only: bool = True


def parse_register_query(text: str, user: str) -> RegisterQuery:
    """`` / `all` / `overdue` / `mine` / `12` or `#12` / `<@U123|name>` or `U123` → the query."""
    words = text.split()
    if len(words) > 1:
        raise InvalidInput(f"One filter at a time. {USAGE}")
    word = words[0] if words else ""
    lowered = word.lower()
    if not word or lowered in {"open", "live"}:
        return RegisterQuery("open items")
    if lowered == "all":
        return RegisterQuery("every item", live_only=False)
    if lowered == "overdue":
        return RegisterQuery("overdue items", overdue=True)
    if lowered in {"mine", "me"}:
        return RegisterQuery("your open items", owner=user)
    if (match := _MENTION.match(word)) or (match := _USER_ID.match(word)):
        owner = match.group(1) if match.groups() else word
        # Built from a checked user id, so the mention is kept live (sanitise leaves Mrkdwn as it is).
        return RegisterQuery(Mrkdwn(f"open items owned by <@{owner}>"), owner=owner)
    if word.startswith("@"):
        raise InvalidInput(f"I cannot tell who {word} is: pick them from Slack's suggestions as you type. {USAGE}")
    if word.lstrip("#").isdigit():
        inspection_id = parse_id(word)
        return RegisterQuery(f"inspection #{inspection_id}", inspection_id=inspection_id, live_only=False)
    raise InvalidInput(f"I do not know the filter {word!r}. {USAGE}")


@dataclass(frozen=True)
class RegisterClick:
    """Add update or Assign owner pressed: on a listing, an owner's reminder or App Home (no channel there)."""

    item_id: int
    user: str
    trigger_id: str
    channel: str = ""


@dataclass
class ModalOutcome:
    """A submission's result: errors by input block (shown in the modal), or what to do once acked."""

    errors: dict[str, str] = field(default_factory=dict)
    then: Callable[[], None] | None = None


def live(item: RegisterItemView) -> bool:
    return item.status not in ENDINGS


def inspection_counts(items: Sequence[RegisterItemView], today: date) -> list[InspectionCounts]:
    """Open (every live item), overdue, closed and withdrawn counts per inspection, in register order."""
    counts: dict[int, InspectionCounts] = {}
    for item in items:
        row = counts.setdefault(item.inspection_id, InspectionCounts(inspection_id=item.inspection_id, title=""))
        row.title = item.inspection_title
        if item.status is RegisterStatus.CLOSED:
            row.closed += 1
        elif item.status in ENDINGS:
            row.withdrawn += 1
        else:
            row.open += 1
            row.overdue += item.overdue(today)
    return list(counts.values())


def assigned_to(user: str, items: Sequence[RegisterItemView], today: date) -> list[AssignedItem]:
    """The live items `user` owns, overdue first, then soonest due (undated last)."""
    mine = [item for item in items if item.owner == user and live(item)]
    mine.sort(key=lambda i: (not i.overdue(today), i.due is None, i.due or date.max, i.id))
    return [
        AssignedItem(
            item_id=i.id,
            label=i.finding_label,
            inspection_id=i.inspection_id,
            inspection_title=i.inspection_title,
            status=i.status,
            rag=i.rag,
            due=i.due,
            overdue=i.overdue(today),
        )
        for i in mine
    ]


class RegisterDesk:
    def __init__(
        self,
        repo: Repository,
        poster: SlackPoster,
        clock: Clock,
        index_position: Callable[[int], str | None] | None = None,
    ) -> None:
        """`index_position(item_id)`: adds the item's latest update to the library as the force's position on
        the matter; returns what went wrong, or None (InspectionDesk.index_progress)."""
        self.repo = repo
        self.poster = poster
        self.clock = clock
        self.index_position = index_position
        #: Called after every change (App Home refreshes itself); a failing hook is logged, never raised.
        self.on_change: list[Callable[[], object]] = []

    def today(self) -> date:
        return uk_today(self.clock)

    # ── the listing ──────────────────────────────────────────────────────────────────────────────────────

    def items(self, query: RegisterQuery) -> list[RegisterItemView]:
        register = self.repo.register
        if query.inspection_id is not None:
            self.repo.inspections.get(query.inspection_id)  # an unknown id is refused by name, not listed empty
        if query.overdue:
            return register.items(overdue_on=self.today(), owner=query.owner, inspection_id=query.inspection_id)
        found = register.items(owner=query.owner, inspection_id=query.inspection_id)
        return [item for item in found if live(item)] if query.live_only else found

    def listing(self, query: RegisterQuery) -> MessagePayload:
        return ui.register_list(self.items(query), self.today(), query.heading, NARROW_HINT)

    # ── the buttons: open a modal ────────────────────────────────────────────────────────────────────────

    def open_update(self, click: RegisterClick) -> None:
        item = self._editable(click)
        if item is not None:
            view = ui.update_modal(item, next_statuses(item.status), self.today(), click.channel)
            self.poster.open_modal(click.trigger_id, view)

    def open_assign(self, click: RegisterClick) -> None:
        item = self._editable(click)
        if item is not None:
            self.poster.open_modal(click.trigger_id, ui.assign_modal(item, self.today(), click.channel))

    def _editable(self, click: RegisterClick) -> RegisterItemView | None:
        """The item, or None after telling the person why it cannot change (gone, or closed)."""
        try:
            item = self.repo.register.get(click.item_id)
        except NotFound as error:
            self.tell(click.user, click.channel, refusal(str(error)))
            return None
        if item.status is RegisterStatus.CLOSED:
            text = f"{item.finding_label} (#{item.inspection_id}) is closed, and closed is final: nothing can change."
            self.tell(click.user, click.channel, refusal(text))
            return None
        return item

    # ── the submissions ──────────────────────────────────────────────────────────────────────────────────

    def submit_update(self, ctx: RegisterModalContext, user: str, form: UpdateForm) -> ModalOutcome:
        try:
            target = RegisterStatus(form.status) if form.status else None
            rag = Rag(form.rag) if form.rag else None
        except ValueError:
            return ModalOutcome({c.INPUT_REGISTER_STATUS_BLOCK: _STALE})
        if target is not None and target.value == ctx.shown_status:
            target = None  # left as shown: no move, even if someone else moved the item since the form opened
        try:
            item = self.repo.register.update(ctx.item_id, user, target, rag, form.note, form.evidence)
        except InvalidInput as error:
            return ModalOutcome({_invalid_field(form): _field_error(error)})
        except (IllegalTransition, NotAllowed, NotFound) as error:
            return ModalOutcome({c.INPUT_REGISTER_STATUS_BLOCK: _field_error(error)})
        except ConcurrentChange:
            return ModalOutcome({c.INPUT_REGISTER_STATUS_BLOCK: _RACED})
        log.info("register item %s updated by %s (status %s)", item.id, user, item.status.value)
        return ModalOutcome(then=lambda: self._saved(user, ctx.channel, item))

    def _saved(self, user: str, channel: str, item: RegisterItemView) -> None:
        # After the ack: the embedding model may still be loading, and Slack waits 3 s at most for the modal.
        error = self.index_position(item.id) if self.index_position is not None else None
        self._done(user, channel, ui.update_saved(item, self.today(), error))

    def submit_assign(self, ctx: RegisterModalContext, user: str, form: AssignForm) -> ModalOutcome:
        if not form.owner:
            return ModalOutcome({c.INPUT_REGISTER_OWNER_BLOCK: "Choose who owns this item."})
        try:
            due = date.fromisoformat(form.due) if form.due else None
        except ValueError:
            return ModalOutcome({c.INPUT_REGISTER_DUE_BLOCK: "Pick the due date from the calendar."})
        try:
            item, changed = self._assign(ctx.item_id, user, form.owner, due)
        except InvalidInput as error:
            return ModalOutcome({c.INPUT_REGISTER_OWNER_BLOCK: _field_error(error)})
        except (IllegalTransition, NotFound) as error:
            return ModalOutcome({c.INPUT_REGISTER_OWNER_BLOCK: _field_error(error)})
        except ConcurrentChange:
            return ModalOutcome({c.INPUT_REGISTER_OWNER_BLOCK: _RACED})
        log.info("register item %s assigned by %s", item.id, user)
        return ModalOutcome(then=lambda: self._done(user, ctx.channel, ui.assign_saved(item, self.today(), changed)))

    def _assign(self, item_id: int, user: str, owner: str, due: date | None) -> tuple[RegisterItemView, bool]:
        """Only what the form changed is written (each change its own history entry and audit row)."""
        register = self.repo.register
        item = register.get(item_id)
        changed = False
        if owner != item.owner:
            item, changed = register.assign(item_id, owner, user), True
        if due != item.due:
            item, changed = register.set_due(item_id, due, user), True
        return item, changed

    def _done(self, user: str, channel: str, payload: MessagePayload) -> None:
        self.tell(user, channel, payload)
        for hook in self.on_change:
            try:
                hook()
            except Exception:  # the change is stored; a dashboard refresh is a convenience
                log.exception("after-change hook failed")

    # ── telling ──────────────────────────────────────────────────────────────────────────────────────────

    def tell(self, user: str, channel: str, payload: MessagePayload) -> None:
        """Ephemerally where they clicked; by DM when there is no channel (App Home) or Slack refuses there."""
        if channel:
            try:
                self.poster.ephemeral(channel, user, payload)
                return
            except SlackApiError as error:
                log.info("ephemeral in %s refused (%s); telling by DM", channel, error.response.get("error"))
        try:
            self.poster.reply(user, None, payload)
        except SlackApiError as error:
            log.warning("could not tell %s about their register change: %s", user, error.response.get("error"))


def _invalid_field(form: UpdateForm) -> str:
    """Which field an InvalidInput is about: the note when it is empty or too long, otherwise the links (status
    and RAG come from menus the bot built, so they are never typed wrong)."""
    note = form.note.strip()
    if not note or len(note) > MAX_NOTE_CHARS:
        return c.INPUT_REGISTER_NOTE_BLOCK
    return c.INPUT_REGISTER_EVIDENCE_BLOCK


def _field_error(error: TrackerError) -> str:
    text = error.describe()
    return text if len(text) <= MAX_FIELD_ERROR else text[: MAX_FIELD_ERROR - 1] + "…"
