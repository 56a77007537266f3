"""`responder register …`: the recommendation register on the command line (list, update, export).

The register holds each published answer the PCC monitors after publication (tracker/register.py). The command
line is the operator's own tool and has no user identity: `--by` says whose update it is, which matters when
reviewers are configured, because only a reviewer may close an item.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from bot.cli.console import CLI_ACTOR, EXIT_INPUT, EXIT_NOT_FOUND, cli_errors, console, core, fail
from bot.cli.layout import Field, Records, print_path

# The store loads on first use: `responder --help` should not pay for SQLAlchemy and Alembic.
if TYPE_CHECKING:
    from tracker.register import Register, RegisterItemView, RegisterRow

register_app = typer.Typer(
    help="The recommendation register: published answers monitored after publication (no subcommand: list them).",
    invoke_without_command=True,
    no_args_is_help=False,
)

STATUS_HELP = "open, in_progress, implemented, awaiting_evidence, closed, superseded or not_accepted"
#: Excel column widths: wide enough for a date or a label, capped so prose wraps instead of running on.
MIN_WIDTH, MAX_WIDTH = 8, 60


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


def register() -> Register:
    return core().store.register


@contextmanager
def register_errors() -> Iterator[None]:
    """As `cli_errors`, but an unknown id points at this command's list rather than the inspections'."""
    from tracker.errors import NotFound

    with cli_errors():
        try:
            yield
        except NotFound as error:
            raise fail(f"{error} Run `responder register` to see the items.", EXIT_NOT_FOUND) from error


# ── list (the default) ───────────────────────────────────────────────────────────────────────────────────


@register_app.callback()
def list_items(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    status: Annotated[str | None, typer.Option("--status", metavar="S", help=STATUS_HELP)] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only items past due and not reported done")] = False,
    owner: Annotated[str | None, typer.Option("--owner", metavar="U", help="Only this owner's (Slack user id)")] = None,
    inspection: Annotated[int | None, typer.Option("--inspection", metavar="ID", help="Only this inspection's")] = None,
) -> None:
    """Register items in the order they were registered, with owner, due date, status, RAG and last update."""
    if ctx.invoked_subcommand is not None:
        return
    today = core().desk.today()
    with register_errors():
        items = register().items(status, today if overdue else None, owner, inspection)
    if as_json:
        console.print_json(json.dumps([item_json(item, today) for item in items]))
        return
    if not items:
        console.print("No register items match. Items are added when an inspection is marked published.")
        return
    console.print(items_table(items, today))


def item_json(item: RegisterItemView, today: date) -> dict[str, Any]:
    return {**item.model_dump(mode="json"), "overdue": item.overdue(today)}


ITEM_FIELDS = [
    Field("id", justify="right", heading=True),
    Field("inspection", ratio=1, min_width=16),
    Field("finding", heading=True),
    Field("owner"),
    Field("due"),
    Field("status"),
    Field("RAG"),
    Field("last update", ratio=2, min_width=20),
]


def items_table(items: Sequence[RegisterItemView], today: date) -> Records:
    return Records(ITEM_FIELDS, [_item_row(item, today) for item in items], title="Recommendation register")


def _item_row(item: RegisterItemView, today: date) -> tuple[str, ...]:
    from retrieval.dates import format_date
    from tracker.clock import UK

    due = format_date(item.due) if item.due else "not set"
    last = item.last_update
    update = f"{format_date(last.at.astimezone(UK).date())}: {last.note}" if last else "-"
    return (
        str(item.id),
        f"#{item.inspection_id} {item.inspection_title}",
        item.finding_label,
        item.owner or "-",
        f"{due} (overdue)" if item.overdue(today) else due,
        item.status.label,
        item.rag.value if item.rag else "-",
        update,
    )


# ── update / export ──────────────────────────────────────────────────────────────────────────────────────


@register_app.command("update")
def update(
    item_id: Annotated[int, typer.Argument(help="Register item id (from `responder register`)")],
    note: Annotated[str, typer.Option("--note", metavar="TEXT", help="What changed (required; kept in history)")] = "",
    status: Annotated[str | None, typer.Option("--status", metavar="S", help=STATUS_HELP)] = None,
    rag: Annotated[str | None, typer.Option("--rag", metavar="R", help="red, amber or green")] = None,
    evidence: Annotated[
        list[str] | None, typer.Option("--evidence", metavar="URL", help="A link to evidence (repeatable)")
    ] = None,
    by: Annotated[str, typer.Option("--by", metavar="USER", help="Whose update it is (a Slack user id)")] = CLI_ACTOR,
) -> None:
    """Record progress on an item: a note, and optionally a new status, a RAG rating and evidence links."""
    with register_errors():
        result = core().desk.record_progress(item_id, by, status=status, rag=rag, note=note, evidence=evidence or ())
    console.print(escape(result.message))


@register_app.command("assign")
def assign(
    item_id: Annotated[int, typer.Argument(help="Register item id (from `responder register`)")],
    owner: Annotated[
        str | None, typer.Option("--owner", metavar="USER", help="The force lead who owns it (a Slack user id)")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Leave the item without an owner")] = False,
    by: Annotated[str, typer.Option("--by", metavar="USER", help="Who is assigning it (a Slack user id)")] = CLI_ACTOR,
) -> None:
    """Give an item its owner: they are reminded before it is due and when it is overdue."""
    if (owner is None) == (not clear):
        raise fail("Give --owner USER, or --clear to leave the item without an owner.", EXIT_INPUT)
    with register_errors():
        item = register().assign(item_id, None if clear else owner, by)
    console.print(f"Register item [bold]{item.id}[/] ({item.finding_label}): owner {item.owner or 'none'}.")


@register_app.command("due")
def set_due(
    item_id: Annotated[int, typer.Argument(help="Register item id (from `responder register`)")],
    due: Annotated[str | None, typer.Argument(metavar="[DATE]", help="The due date, e.g. 2026-03-31")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Clear the due date")] = False,
    by: Annotated[str, typer.Option("--by", metavar="USER", help="Who is setting it (a Slack user id)")] = CLI_ACTOR,
) -> None:
    """Set an item's due date by hand: for a timescale the finding did not state as a date."""
    from retrieval.dates import format_date, read_date

    if (due is None) == (not clear):
        raise fail("Give the due date (e.g. 2026-03-31), or --clear.", EXIT_INPUT)
    day = None if clear else (read_date(due or "") or _iso_date(due or ""))
    if not clear and day is None:
        raise fail(f"{due!r} is not a date; write it as 2026-03-31 or 31 March 2026.", EXIT_INPUT)
    with register_errors():
        item = register().set_due(item_id, day, by)
    shown = format_date(item.due) if item.due else "not set"
    console.print(f"Register item [bold]{item.id}[/] ({item.finding_label}): due {shown}.")


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@register_app.command("export")
def export(
    file_format: Annotated[ExportFormat, typer.Option("--format", help="xlsx (Excel) or csv")] = ExportFormat.XLSX,
    output: Annotated[Path | None, typer.Option("--output", metavar="PATH", help="Where to write it")] = None,
) -> None:
    """Write the whole register as a spreadsheet: a header row, then one row an item."""
    from tracker.register import EXPORT_COLUMNS

    with register_errors():
        rows = register().export_rows()
    path = output or Path(f"register-{core().desk.today().isoformat()}.{file_format.value}")
    try:
        if file_format is ExportFormat.XLSX:
            write_xlsx(path, EXPORT_COLUMNS, rows)
        else:
            write_csv(path, EXPORT_COLUMNS, rows)
    except OSError as error:
        raise fail(f"cannot write {path} ({error})") from error
    print_path(console, f"Wrote {len(rows)} register item(s) to", path)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[RegisterRow]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if value is None else _csv_value(value) for value in row.values()])


def _csv_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def write_xlsx(path: Path, columns: Sequence[str], rows: Sequence[RegisterRow]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = "Register"
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append(list(row.values()))
    for index, column in enumerate(sheet.iter_cols(min_row=1), start=1):
        for cell in column[1:]:
            if isinstance(cell.value, date):
                cell.number_format = "d mmm yyyy"  # a real date Excel sorts and filters, shown the UK way
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        longest = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, MIN_WIDTH), MAX_WIDTH)
    book.save(path)
