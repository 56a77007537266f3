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
) -> None:
    """Assemble the s.55 response in report order; refused until every finding has an approved answer."""
    from drafting.pack import PackIncomplete

    svc = core().desk
    with cli_errors():
        try:
            exported = svc.export_pack(inspection_id, out, watermark=draft_watermark)
        except PackIncomplete as error:
            err.print(f"[bold red]Refused:[/] {error}")
            if error.missing:
                print_missing(error)
            raise typer.Exit(EXIT_INCOMPLETE) from error
    if draft_watermark:
        err.print("[yellow]Working copy: marked NOT APPROVED, NOT FOR PUBLICATION.[/]")
    table = Table(title=f"Response pack for inspection {inspection_id}", show_header=False)
    table.add_row("Markdown", str(exported.markdown))
    table.add_row("Word", str(exported.docx))
    table.add_row("Answers", str(exported.answers))
    console.print(table)


def print_missing(error: PackIncomplete) -> None:
    """The refusal as a table, one row per finding still lacking an approved answer."""
    table = Table(title="Missing approved answers")
    table.add_column("finding")
    table.add_column("why")
    for item in error.missing:
        table.add_row(item.label, item.reason)
    err.print(table)
