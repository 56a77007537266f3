"""Block Kit for the recommendation register: the `/hmicfrs register` listing, the Add update and Assign owner
modals, their confirmations, the App Home section and the owners' reminders. Pure functions, no I/O.

Button values carry only the item's id; the modals carry theirs (and what the form showed) in
private_metadata, so a submission acts on the item as it is in the database, never on stale copied text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.slack import constants as c
from bot.slack.ui.common import BadPayload, Block, MessagePayload, button, context, mention, plain, sanitise, section
from bot.slack.ui.common import truncate as cut
from bot.slack.ui.modals import modal, text_input
from retrieval.dates import format_date, format_date_long
from tracker.clock import UK
from tracker.register import ENDINGS, MAX_NOTE_CHARS, Rag, RegisterItemView, RegisterStatus
from tracker.register_reminders import OwnerReminder, OwnerReminderKind

#: Items listed in one reply: two blocks each, inside Slack's 50 with room for the heading and "… and N more".
MAX_REGISTER_LISTED = 20
#: Items under "Assigned to you" on App Home (one block each); the rest are counted.
MAX_HOME_ASSIGNED = 10
#: The last update's note as the listing quotes it.
NOTE_PREVIEW_CHARS = 200
#: Slack's own cap on a plain_text_input (the tracker allows longer notes from the command line).
MAX_MODAL_NOTE = min(MAX_NOTE_CHARS, c.MAX_INPUT_INITIAL_VALUE)
#: Files one update may carry as evidence (Slack allows up to 10 in a file_input).
MAX_EVIDENCE_FILES = 5

RAG_EMOJI = {Rag.RED: ":red_circle:", Rag.AMBER: ":large_orange_circle:", Rag.GREEN: ":large_green_circle:"}
RAG_LABEL = {Rag.RED: "Red", Rag.AMBER: "Amber", Rag.GREEN: "Green"}


def rag_text(rag: Rag | None) -> str:
    return f"{RAG_EMOJI[rag]} {rag.value}" if rag else ":white_circle: no RAG"


def due_text(due: date | None, today: date, overdue: bool) -> str:
    """`due 31 March 2026 (14 days)`, `due today`, `was due 1 March 2026: overdue by 3 days`."""
    if due is None:
        return "no due date (set one with Assign owner)"
    days = (due - today).days
    when = format_date_long(due)
    if overdue:
        return f":warning: was due {when}: *overdue by {_days(-days)}*"
    if days == 0:
        return f"due *today*, {when}"
    if days < 0:  # past its date but reported done (implemented, awaiting evidence, ended)
        return f"was due {when}"
    return f"due {when} ({_days(days)})"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def owner_text(owner: str | None) -> str:
    return f"owner {mention(owner)}" if owner else "no owner"


# ── the listing ──────────────────────────────────────────────────────────────────────────────────────────


def item_text(item: RegisterItemView, today: date) -> str:
    """Label and inspection; status, RAG, owner and due date; the last update (dated, the note shortened)."""
    lines = [
        f"*{sanitise(item.finding_label)}* · #{item.inspection_id} {sanitise(item.inspection_title)}",
        " · ".join(
            [
                f"*{item.status.label}*",
                rag_text(item.rag),
                owner_text(item.owner),
                due_text(item.due, today, item.overdue(today)),
            ]
        ),
    ]
    if last := item.last_update:
        note = " ".join(last.note.split())
        when = format_date(last.at.astimezone(UK).date())
        lines.append(f"_Last update {when}:_ {sanitise(note, NOTE_PREVIEW_CHARS)}")
    return "\n".join(lines)


def item_actions(item: RegisterItemView) -> Block:
    value = str(item.id)
    return {
        "type": "actions",
        "block_id": f"{c.BLOCK_REGISTER_ACTIONS_PREFIX}{item.id}",
        "elements": [
            button("Add update", c.ACTION_REGISTER_UPDATE, value, style="primary"),
            button("Assign owner", c.ACTION_REGISTER_ASSIGN, value),
        ],
    }


def register_list(items: Sequence[RegisterItemView], today: date, heading: str, narrow_hint: str) -> MessagePayload:
    """`heading` says what was asked for ("Open items"); beyond MAX_REGISTER_LISTED the rest are counted, with
    `narrow_hint` saying how to ask for fewer. A closed item has no buttons: closed is final."""
    if not items:
        text = f"*Recommendation register: {sanitise(heading)}*\nNothing to show."
        return MessagePayload(plain(f"Recommendation register: {heading}: nothing to show."), [section(text)])
    head = f"*Recommendation register: {sanitise(heading)} ({len(items)})*"
    blocks: list[Block] = [section(head, c.BLOCK_REGISTER_HEAD)]
    for item in items[:MAX_REGISTER_LISTED]:
        blocks.append(section(item_text(item, today), f"{c.BLOCK_REGISTER_ITEM_PREFIX}{item.id}"))
        if item.status is not RegisterStatus.CLOSED:
            blocks.append(item_actions(item))
    if len(items) > MAX_REGISTER_LISTED:
        more = f"… and {len(items) - MAX_REGISTER_LISTED} more: narrow with {narrow_hint}."
        blocks.append(context([more], c.BLOCK_REGISTER_MORE))
    labels = "; ".join(f"{i.finding_label} (#{i.inspection_id}, {i.status.label})" for i in items[:10])
    return MessagePayload(plain(f"Recommendation register: {heading} ({len(items)}): {labels}"), blocks)


# ── the modals ───────────────────────────────────────────────────────────────────────────────────────────


class RegisterModalContext(BaseModel):
    """private_metadata of both register modals: the item, the status the form showed, and where to confirm."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    item_id: int = Field(..., alias="i")
    #: The status preselected when the form opened: choosing it again means "no change", so a form opened
    #: before someone else moved the item on never moves it back.
    shown_status: str = Field("", alias="s")
    channel: str = Field("", alias="c")

    def dump(self) -> str:
        return json.dumps(self.model_dump(by_alias=True), separators=(",", ":"))


def parse_register_context(private_metadata: str) -> RegisterModalContext:
    try:
        return RegisterModalContext.model_validate(json.loads(private_metadata))
    except (ValueError, ValidationError) as exc:
        raise BadPayload("unrecognised register modal metadata") from exc


def _option(text: str, value: str) -> Block:
    return {"text": {"type": "plain_text", "text": cut(text, c.MAX_OPTION_TEXT)}, "value": value}


def status_option(status: RegisterStatus) -> Block:
    ending = " (reviewers only)" if status in ENDINGS else ""
    return _option(f"{status.label.capitalize()}{ending}", status.value)


def rag_option(rag: Rag) -> Block:
    return _option(RAG_LABEL[rag], rag.value)


def _item_head(item: RegisterItemView, today: date) -> Block:
    finding = sanitise(" ".join(item.finding_text.split()), 1200)
    text = f"{item_text(item, today)}\n>{finding}"
    return section(text)


def update_modal(
    item: RegisterItemView, statuses: Sequence[RegisterStatus], today: date, channel: str = ""
) -> dict[str, Any]:
    """Status (current preselected, then only where it may go next), RAG (optional), note, evidence links."""
    ctx = RegisterModalContext(item_id=item.id, shown_status=item.status.value, channel=channel)
    current = status_option(item.status)
    status_select: Block = {
        "type": "static_select",
        "action_id": c.INPUT_REGISTER_STATUS_ACTION,
        "options": [current, *(status_option(s) for s in statuses if s is not item.status)],
        "initial_option": current,
    }
    rag_select: Block = {
        "type": "static_select",
        "action_id": c.INPUT_REGISTER_RAG_ACTION,
        "placeholder": {"type": "plain_text", "text": "No change"},
        "options": [rag_option(rag) for rag in Rag],
    }
    if item.rag is not None:
        rag_select["initial_option"] = rag_option(item.rag)
    note = text_input(
        c.INPUT_REGISTER_NOTE_BLOCK,
        c.INPUT_REGISTER_NOTE_ACTION,
        "What has changed",
        "e.g. Training plan agreed at the March board; delivery starts in April",
    )
    note["element"]["max_length"] = MAX_MODAL_NOTE
    evidence = text_input(
        c.INPUT_REGISTER_EVIDENCE_BLOCK,
        c.INPUT_REGISTER_EVIDENCE_ACTION,
        "Evidence links (one per line)",
        "https://…",
        optional=True,
    )
    files: Block = {"type": "file_input", "action_id": c.INPUT_REGISTER_FILES_ACTION, "max_files": MAX_EVIDENCE_FILES}
    blocks = [
        _item_head(item, today),
        _input(c.INPUT_REGISTER_STATUS_BLOCK, "Status", status_select),
        {**_input(c.INPUT_REGISTER_RAG_BLOCK, "RAG rating", rag_select), "optional": True},
        note,
        evidence,
        {**_input(c.INPUT_REGISTER_FILES_BLOCK, "Evidence files", files), "optional": True},
    ]
    return modal(c.VIEW_REGISTER_UPDATE, ctx.dump(), f"Update {item.finding_label}", "Save update", blocks)


def assign_modal(item: RegisterItemView, today: date, channel: str = "") -> dict[str, Any]:
    """Who owns the item and, optionally, its due date set by hand (for a timescale the finding left vague)."""
    ctx = RegisterModalContext(item_id=item.id, shown_status=item.status.value, channel=channel)
    owner: Block = {"type": "users_select", "action_id": c.INPUT_REGISTER_OWNER_ACTION}
    if item.owner:
        owner["initial_user"] = item.owner
    due: Block = {"type": "datepicker", "action_id": c.INPUT_REGISTER_DUE_ACTION}
    if item.due:
        due["initial_date"] = item.due.isoformat()
    hint = f"The finding's timescale: {sanitise(item.due_text)}." if item.due_text else "It gives no timescale."
    blocks = [
        _item_head(item, today),
        _input(c.INPUT_REGISTER_OWNER_BLOCK, "Owner", owner),
        {**_input(c.INPUT_REGISTER_DUE_BLOCK, "Due date", due), "optional": True},
        context([f"{hint} The owner is reminded before the due date and once it is overdue."]),
    ]
    return modal(c.VIEW_REGISTER_ASSIGN, ctx.dump(), f"Assign {item.finding_label}", "Save", blocks)


def _input(block_id: str, label: str, element: Block) -> Block:
    return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label}, "element": element}


@dataclass(frozen=True)
class UpdateForm:
    """What an Add update submission says, as typed: the service turns it into a Register.update."""

    status: str | None
    rag: str | None
    note: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class AssignForm:
    owner: str | None
    due: str | None  # "YYYY-MM-DD" as the datepicker sends it, or None when left empty


def _values(view: Block) -> dict[str, Any]:
    return view.get("state", {}).get("values", {})


def _field(view: Block, block_id: str, action_id: str) -> dict[str, Any]:
    return _values(view).get(block_id, {}).get(action_id, {}) or {}


def update_form(view: Block) -> UpdateForm:
    status = _field(view, c.INPUT_REGISTER_STATUS_BLOCK, c.INPUT_REGISTER_STATUS_ACTION).get("selected_option") or {}
    rag = _field(view, c.INPUT_REGISTER_RAG_BLOCK, c.INPUT_REGISTER_RAG_ACTION).get("selected_option") or {}
    note = _field(view, c.INPUT_REGISTER_NOTE_BLOCK, c.INPUT_REGISTER_NOTE_ACTION).get("value") or ""
    links = _field(view, c.INPUT_REGISTER_EVIDENCE_BLOCK, c.INPUT_REGISTER_EVIDENCE_ACTION).get("value") or ""
    files = _field(view, c.INPUT_REGISTER_FILES_BLOCK, c.INPUT_REGISTER_FILES_ACTION).get("files") or []
    # An uploaded file is kept as its Slack permalink: the history links to it like any other evidence.
    uploaded = tuple(
        link for f in files if isinstance(f, dict) and (link := f.get("permalink") or f.get("url_private"))
    )
    return UpdateForm(
        status=status.get("value") or None,
        rag=rag.get("value") or None,
        note=note,
        evidence=(*(line.strip() for line in links.splitlines() if line.strip()), *uploaded),
    )


def assign_form(view: Block) -> AssignForm:
    owner = _field(view, c.INPUT_REGISTER_OWNER_BLOCK, c.INPUT_REGISTER_OWNER_ACTION).get("selected_user")
    due = _field(view, c.INPUT_REGISTER_DUE_BLOCK, c.INPUT_REGISTER_DUE_ACTION).get("selected_date")
    return AssignForm(owner=owner or None, due=due or None)


# ── confirmations ────────────────────────────────────────────────────────────────────────────────────────


def update_saved(item: RegisterItemView, today: date, index_error: str | None = None) -> MessagePayload:
    """`index_error`: the note could not be added to the library as the force's latest position (it is at the
    next start); None when it was, or when there is no library to add it to."""
    text = f":white_check_mark: Update saved to the register.\n{item_text(item, today)}"
    blocks = [section(text)]
    if index_error:
        blocks.append(
            context(
                f"Adding this note to the library failed ({index_error}); it is added when Responder next starts, "
                "and until then new drafts do not see it."
            )
        )
    return MessagePayload(plain(f"Update saved: {item.finding_label} is {item.status.label}."), blocks)


def assign_saved(item: RegisterItemView, today: date, changed: bool) -> MessagePayload:
    lead = ":white_check_mark: Saved." if changed else "Nothing changed: the owner and due date were already so."
    text = f"{lead}\n{item_text(item, today)}"
    return MessagePayload(plain(f"{item.finding_label}: {owner_text(item.owner)}"), [section(text)])


# ── App Home ─────────────────────────────────────────────────────────────────────────────────────────────


class InspectionCounts(BaseModel):
    """One inspection's register items by where they stand (open counts every live item, overdue among them)."""

    inspection_id: int
    title: str
    open: int = 0
    overdue: int = 0
    closed: int = 0
    withdrawn: int = 0


class AssignedItem(BaseModel):
    """A live item the viewer owns, as App Home lists it."""

    item_id: int
    label: str
    inspection_id: int
    inspection_title: str
    status: RegisterStatus
    rag: Rag | None = None
    due: date | None = None
    overdue: bool = False


def register_home_blocks(
    counts: Sequence[InspectionCounts], assigned: Sequence[AssignedItem], today: date
) -> list[Block]:
    """The counts per inspection under "Recommendation register" (one section), then "Assigned to you": each live
    item the viewer owns with its due date and Add update. At most MAX_HOME_ASSIGNED + 5 blocks."""
    lines = []
    for row in counts:
        parts = [f"{row.open} open", f"{row.overdue} overdue", f"{row.closed} closed"]
        if row.withdrawn:
            parts.append(f"{row.withdrawn} withdrawn")
        warn = ":warning: " if row.overdue else ""
        lines.append(f"{warn}*#{row.inspection_id} {sanitise(row.title, 120)}*: {' · '.join(parts)}")
    blocks: list[Block] = [
        _header("Recommendation register", c.BLOCK_HOME_REGISTER),
        section(_fit_lines(lines, f"`{c.COMMAND} register <inspection id>`")),
        _header("Assigned to you", c.BLOCK_HOME_ASSIGNED),
    ]
    if not assigned:
        blocks.append(context(["No open register items are assigned to you."]))
        return blocks
    for item in assigned[:MAX_HOME_ASSIGNED]:
        text = (
            f"*{sanitise(item.label)}* · #{item.inspection_id} {sanitise(item.inspection_title, 120)}\n"
            f"{item.status.label} · {rag_text(item.rag)} · {due_text(item.due, today, item.overdue)}"
        )
        block = section(text, f"{c.BLOCK_REGISTER_ITEM_PREFIX}{item.item_id}")
        block["accessory"] = button("Add update", c.ACTION_REGISTER_UPDATE, str(item.item_id))
        blocks.append(block)
    if len(assigned) > MAX_HOME_ASSIGNED:
        more = len(assigned) - MAX_HOME_ASSIGNED
        blocks.append(context([f"… and {more} more: `{c.COMMAND} register mine` lists them all."]))
    return blocks


def _fit_lines(lines: list[str], where: str) -> str:
    """As many lines as one section holds, then how many more and where to see them."""
    kept: list[str] = []
    room = c.MAX_SECTION_TEXT - 120
    for i, line in enumerate(lines):
        if sum(len(x) + 1 for x in kept) + len(line) > room:
            kept.append(f"… and {len(lines) - i} more inspections: {where}")
            break
        kept.append(line)
    return "\n".join(kept)


def _header(text: str, block_id: str) -> Block:
    return {"type": "header", "block_id": block_id, "text": {"type": "plain_text", "text": text}}


# ── owners' reminders ────────────────────────────────────────────────────────────────────────────────────


def owner_reminder_text(reminder: OwnerReminder) -> str:
    """`Recommendation 3 of “Title” is due on 31 March 2026 (14 days).` / `… was due on … and is overdue (open).`"""
    what = f"{reminder.finding_label} of “{reminder.inspection_title}”"
    when = format_date_long(reminder.due)
    if reminder.kind is OwnerReminderKind.OVERDUE:
        return (
            f":warning: {what} was due on {when} and is overdue ({reminder.status.label}, "
            f"by {_days(-reminder.days)}). Add an update to say where it stands."
        )
    days = "today" if reminder.days == 0 else _days(reminder.days)
    return f":bell: {what} is due on {when} ({days}). It is {reminder.status.label}; add an update when it moves."


def owner_reminder_message(reminder: OwnerReminder) -> MessagePayload:
    text = owner_reminder_text(reminder)
    blocks: list[Block] = [
        section(sanitise(text), c.BLOCK_OWNER_REMINDER),
        {
            "type": "actions",
            "block_id": f"{c.BLOCK_REGISTER_ACTIONS_PREFIX}{reminder.item_id}",
            "elements": [button("Add update", c.ACTION_REGISTER_UPDATE, str(reminder.item_id), style="primary")],
        },
        context([f"You own this item in the recommendation register: `{c.COMMAND} register mine` lists yours."]),
    ]
    return MessagePayload(plain(text), blocks)
