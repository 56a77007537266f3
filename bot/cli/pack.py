"""`responder pack <id>`: the publication pack as Markdown and Word, or a refusal listing what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bot.cli.console import EXIT_INCOMPLETE, cli_errors, console, core, err

if TYPE_CHECKING:
    from drafting.pack import PackIncomplete


def pack_command(
    inspection_id: Annotated[int, typer.Argument(help="Inspection id (from `responder deadlines`)")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the .md and .docx into")] = Path("."),
    draft_watermark: Annotated[
        bool,
        typer.Option("--draft-watermark", help="Export a marked working copy even if answers are unapproved"),
    ] = False,
    waive_cc_comments: Annotated[
        str,
        typer.Option(
            "--waive-cc-comments",
            metavar="REASON",
            help="Export without the chief constable's comments, recording why (e.g. 'to follow separately')",
        ),
    ] = "",
) -> None:
    """Assemble the s.55 response in report order; refused until every finding has an approved answer with
    nothing left to confirm, the PCC's name is set and the chief constable's comments are recorded (or waived)."""
    from drafting.pack import PackIncomplete

    svc = core().desk
    with cli_errors():
        try:
            exported = svc.export_pack(inspection_id, out, draft_watermark, waive_cc_comments, actor="cli")
        except PackIncomplete as error:
            err.print(f"[bold red]Refused:[/] {error}")
            if error.missing:
                print_missing(error)
            raise typer.Exit(EXIT_INCOMPLETE) from error
    if draft_watermark:
        err.print("[yellow]Working copy: marked NOT APPROVED, NOT FOR PUBLICATION.[/]")
    # Paths on their own lines, never in a table cell: a table would shorten them with "…" on a narrow terminal.
    console.print(f"Response pack for inspection {inspection_id}: {exported.answers} answers")
    console.print("Markdown:", str(exported.markdown.resolve()), soft_wrap=True, highlight=False)
    console.print("Word:    ", str(exported.docx.resolve()), soft_wrap=True, highlight=False)
    if exported.pdf is not None:
        console.print("PDF:     ", str(exported.pdf.resolve()), soft_wrap=True, highlight=False)
    elif exported.pdf_note:
        err.print(f"[yellow]{exported.pdf_note}[/]", highlight=False)


def print_missing(error: PackIncomplete) -> None:
    """The refusal as a table, one row per finding still lacking an approved answer."""
    table = Table(title="Missing approved answers")
    table.add_column("finding")
    table.add_column("why")
    for item in error.missing:
        table.add_row(item.label, item.reason)
    err.print(table)
