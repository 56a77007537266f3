"""`responder deadlines …`: the command-line twin of `/hmicfrs` (add, list, show, done, remind, comments)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bot.cli.console import CLI_ACTOR, EXIT_INPUT, cli_errors, console, core, fail
from bot.cli.layout import Field, Records
from tracker.deadlines import DONE_STEPS  # light: no store, no drafting

# The store and the pack load on first use: `responder --help` should not pay for SQLAlchemy and Alembic.
if TYPE_CHECKING:
    from bot.services.inspection_desk import InspectionDesk, InspectionDetail
    from tracker.views import InspectionSummary

deadlines_app = typer.Typer(
    help="Track HMICFRS inspections against the s.55 56-day deadline (no subcommand: list them).",
    invoke_without_command=True,
    no_args_is_help=False,
)


def service() -> InspectionDesk:
    return core().desk


def rule_line() -> str:
    from tracker.deadlines import STATUTE, STATUTORY_PERIOD_DAYS

    return (
        f"Last day = {STATUTORY_PERIOD_DAYS} days beginning with the publication day ({STATUTE}): "
        f"published + {STATUTORY_PERIOD_DAYS - 1} days."
    )


# ── list (the default) ───────────────────────────────────────────────────────────────────────────────────


@deadlines_app.callback()
def list_inspections(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Open inspections, soonest last day first, with days left and approvals."""
    if ctx.invoked_subcommand is None:
        show_list(as_json)


@deadlines_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Open inspections, soonest last day first (the same as `responder deadlines`)."""
    show_list(as_json)


def show_list(as_json: bool) -> None:
    with cli_errors():
        rows = service().open_inspections()
    if as_json:
        console.print_json(json.dumps([summary_json(row) for row in rows]))
        return
    if not rows:
        console.print("No open inspections. Add one with [bold]responder deadlines add <date> <title>[/].")
        return
    console.print(summary_table(rows))


def summary_json(row: InspectionSummary) -> dict[str, Any]:
    view = row.inspection
    return {
        "id": view.id,
        "title": view.title,
        "inspection_type": view.inspection_type.value,
        "force": view.force,
        "published": view.published.isoformat(),
        "last_day": view.last_day.isoformat(),
        "days_left": row.days_left,
        "status": row.status.value,
        "findings_total": view.findings_total,
        "findings_approved": view.findings_approved,
        "cc_comments_due": view.cc_comments_due.isoformat(),
        "channel_id": view.channel_id,
        "deadline_line": row.deadline_line,
    }


SUMMARY_FIELDS = [
    Field("id", justify="right", heading=True),
    Field("inspection", ratio=1, min_width=24, heading=True),
    Field("published"),
    Field("last day"),
    Field("days left"),
    Field("approved"),
    Field("status"),
]


def summary_table(rows: list[InspectionSummary]) -> Records:
    """One row an inspection (a card below 100 columns), the deadline rule beneath."""
    from retrieval.dates import format_date
    from tracker.deadlines import describe_days_left

    return Records(
        SUMMARY_FIELDS,
        [
            (
                str(row.inspection.id),
                row.inspection.title,
                format_date(row.inspection.published),
                format_date(row.inspection.last_day),
                describe_days_left(row.days_left),
                f"{row.inspection.findings_approved}/{row.inspection.findings_total}",
                row.status.value,
            )
            for row in rows
        ],
        title="Open inspections (soonest first)",
        caption=rule_line(),
    )


# ── add / show / done / remind / comments ────────────────────────────────────────────────────────────────


@deadlines_app.command("add")
def add(
    words: Annotated[list[str], typer.Argument(help="Publication date then title, e.g. 8 Dec 2023 An inspection of …")],
    inspection_type: Annotated[
        str | None, typer.Option("--type", metavar="TYPE", help="force-specific, national, joint or peel")
    ] = None,
    channel: Annotated[str | None, typer.Option(metavar="CHANNEL", help="Slack channel id for reminders (C…)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Start tracking an inspection: the last day and the chief constable's date follow from publication."""
    from bot.services.inputs import split_date_and_title

    svc = service()
    with cli_errors():
        published, title = split_date_and_title(" ".join(words))
        view = svc.add(published, title, CLI_ACTOR, inspection_type, channel)
    if as_json:
        console.print_json(view.model_dump_json())
        return
    console.print(f"Added inspection [bold]{view.id}[/]: {view.title}")
    console.print(view.deadline_line(svc.today()))


@deadlines_app.command("show")
def show(
    inspection_id: Annotated[int, typer.Argument(help="Inspection id (from `responder deadlines`)")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """One inspection: deadlines, recipients, comments and each finding's review state."""
    with cli_errors():
        detail = service().show(inspection_id)
    if as_json:
        console.print_json(json.dumps(detail_json(detail)))
        return
    print_detail(detail)


def detail_json(detail: InspectionDetail) -> dict[str, Any]:
    view = detail.inspection
    return {
        **view.model_dump(mode="json"),
        "days_left": detail.days_left,
        "deadline_line": detail.deadline_line,
        "cc_comments_line": detail.cc_line,
        "recipients": [{"recipient": r.recipient.value, "done": r.done} for r in view.recipients],
        "pcc_comments": detail.comments.pcc,
        "chief_constable_comments": detail.comments.chief_constable,
        "findings": [
            {
                "id": a.finding.id,
                "label": a.finding.label,
                "state": a.finding.state.value,
                "version": a.draft.version if a.draft else 0,
                "approved": a.approved,
            }
            for a in detail.answers
        ],
    }


def print_detail(detail: InspectionDetail) -> None:
    from retrieval.dates import format_date

    view = detail.inspection
    table = Table(title=f"Inspection {view.id}: {view.title}", show_header=False, title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")  # sentences wrap at spaces; fold reaches only a long id
    rows = [
        ("Type", view.inspection_type.value),
        ("Force", view.force),
        ("Status", view.deadline_status(detail.today).value),
        ("Deadline", detail.deadline_line),
        ("Chief constable", detail.cc_line),
        ("First drafts due", format_date(view.first_drafts_due)),
        ("Reviews complete", format_date(view.reviews_complete_due)),
        ("Reminders", ", ".join(f"{d}" for d in view.reminder_days) + " days before the last day"),
        ("Approved", f"{view.findings_approved} of {view.findings_total} findings"),
        ("Published", format_date(view.published_at.date()) if view.published_at else "not yet"),
        *[(f"Sent to {r.recipient.value}", "yes" if r.done else "not yet") for r in view.recipients],
        ("PCC comments", "recorded" if detail.comments.pcc else "missing (responder deadlines comments)"),
        ("CC comments", "recorded" if detail.comments.chief_constable else "missing"),
        ("Channel", view.channel_id or "none (no Slack reminders)"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    if detail.answers:
        fields = [Field("#", justify="right", heading=True), Field("finding", heading=True)]
        fields += [Field("state", ratio=1, min_width=16), Field("version")]
        rows = [
            (str(n), a.finding.label, a.finding.state.label, f"v{a.draft.version}" if a.draft else "-")
            for n, a in enumerate(detail.answers, start=1)
        ]
        console.print(Records(fields, rows, title="Findings (report order)", wide=0))  # a table whenever it fits


@deadlines_app.command("done")
def done(
    inspection_id: Annotated[int, typer.Argument(help="Inspection id")],
    step: Annotated[str, typer.Argument(help=f"One of {', '.join(DONE_STEPS)}")],
) -> None:
    """Tick off a step. `published` also adds the approved answers to the precedent library."""
    with cli_errors():
        result = service().done(inspection_id, step, CLI_ACTOR)
    console.print(result.message)
    if result.learn_error:
        raise typer.Exit(1)


@deadlines_app.command("attach")
def attach(
    inspection_id: Annotated[int, typer.Argument(help="Inspection id")],
    report: Annotated[
        Path,
        typer.Option("--report", exists=True, dir_okay=False, help="The report (PDF, DOCX, text) to read"),
    ],
) -> None:
    """Store a report's findings under an inspection already tracked; findings it holds already are skipped."""
    from drafting.report import NoFindingsError, parse_report
    from retrieval.dates import format_date
    from retrieval.loaders import DocumentError, read_text

    svc = service()
    with cli_errors():
        view = svc.repo.inspections.get(inspection_id)
    try:
        parsed = parse_report(read_text(report), name=report.name)
    except (DocumentError, NoFindingsError) as exc:
        raise fail(str(exc)) from exc
    with cli_errors():
        result = svc.attach_report(inspection_id, parsed.findings, CLI_ACTOR, report.name)
    console.print(
        f"Attached {len(result.added)} finding(s) from {report.name} to inspection {view.id}: {view.title}. "
        f"Skipped {result.skipped} already attached (same text or label)."
    )
    if parsed.published and parsed.published != view.published:
        console.print(
            f"[yellow]Note:[/] the report says it was published {format_date(parsed.published)}; inspection "
            f"{view.id} is tracked from {format_date(view.published)}. Check which is right."
        )


@deadlines_app.command("remind")
def remind(
    inspection_id: Annotated[int, typer.Argument(help="Inspection id")],
    days: Annotated[str, typer.Argument(help="Days before the last day, e.g. 28,14,7,3,1,0")],
) -> None:
    """Set when reminders are posted to the inspection's channel."""
    from retrieval.dates import format_date

    svc = service()
    with cli_errors():
        view = svc.remind(inspection_id, days, CLI_ACTOR)
    offsets = ", ".join(str(d) for d in view.reminder_days)
    console.print(f"Reminders for “{view.title}”: {offsets} days before {format_date(view.last_day)}.")


@deadlines_app.command("comments")
def comments(
    inspection_id: Annotated[int, typer.Argument(help="Inspection id")],
    pcc: Annotated[str | None, typer.Option("--pcc", metavar="TEXT", help="The PCC's comments on the report")] = None,
    pcc_file: Annotated[Path | None, typer.Option("--pcc-file", metavar="FILE", help="…read from a text file")] = None,
    cc: Annotated[str | None, typer.Option("--cc", metavar="TEXT", help="The chief constable's comments")] = None,
    cc_file: Annotated[Path | None, typer.Option("--cc-file", metavar="FILE", help="…read from a text file")] = None,
) -> None:
    """Record the PCC's and/or the chief constable's comments for the publication pack."""
    pcc_text = _text_or_file(pcc, pcc_file, "--pcc")
    cc_text = _text_or_file(cc, cc_file, "--cc")
    with cli_errors():
        stored = service().set_comments(inspection_id, CLI_ACTOR, pcc_text, cc_text)
    saved = [name for name, text in (("PCC", pcc_text), ("chief constable", cc_text)) if text is not None]
    console.print(f"Saved the {' and '.join(saved)} comments for inspection {inspection_id}.")
    if not (stored.pcc and stored.chief_constable):
        console.print("[dim]The pack shows a placeholder for comments not yet recorded.[/]")


def _text_or_file(text: str | None, path: Path | None, option: str) -> str | None:
    if text is not None and path is not None:
        raise fail(f"give {option} or {option}-file, not both", EXIT_INPUT)
    if path is None:
        return text
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"{option}-file: cannot read {path} ({error})", EXIT_INPUT) from error
