"""`responder ingest` and `responder search`: the precedent index from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bot.cli.console import EXIT_INPUT, console, core, fail, parse_cli_date, progress
from retrieval.models import Classification, DocumentKind, InspectionType, SearchFilters

if TYPE_CHECKING:
    from bot.composition import Backends
    from retrieval.ingest import IngestRow


def ingest_table(rows: list[IngestRow]) -> Table:
    """Two columns, so the table reads at 80 columns: file names whole, the counts wrapping at word breaks."""
    table = Table(title="Ingest summary")
    table.add_column("file", no_wrap=True, overflow="fold")  # folds only a name wider than the terminal
    table.add_column("result", ratio=1)
    for row in rows:
        table.add_row(Path(row.path).name, ingest_result(row))
    return table


def ingest_result(row: IngestRow) -> str:
    if row.skipped:
        return f"skipped: {row.skipped}"
    return f"{row.precedents} precedents; {row.added} added, {row.removed} removed, {row.unchanged} unchanged"


def run_ingest(backends: Backends, paths: list[Path], bundled: bool, overrides: dict[str, Any]) -> None:
    from retrieval.ingest import ingest_bundled, ingest_paths

    reports = []
    with progress() as bar:
        task = bar.add_task("Ingesting", total=None)

        def on_progress(row: IngestRow, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"Ingested {Path(row.path).name}")

        if bundled:
            reports.append(ingest_bundled(backends.index, on_progress=on_progress))
        if paths:
            reports.append(ingest_paths(backends.index, paths, overrides=overrides, on_progress=on_progress))
    rows = [row for report in reports for row in report.rows]
    table = ingest_table(rows)
    console.print(table)
    skipped = sum(1 for r in rows if r.skipped)
    console.print(
        f"{len(rows) - skipped} file(s) indexed, {skipped} skipped; {backends.index.count()} chunks in the index."
    )


def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (.txt .md .pdf .docx)")] = None,
    bundled: Annotated[bool, typer.Option("--bundled", help="Ingest the bundled demo corpus")] = False,
    force: Annotated[str | None, typer.Option(help="Force the documents are about")] = None,
    inspection: Annotated[str | None, typer.Option(help="Inspection title")] = None,
    inspection_type: Annotated[InspectionType | None, typer.Option("--type", help="Inspection type")] = None,
    kind: Annotated[DocumentKind | None, typer.Option(help="Document kind")] = None,
    published: Annotated[str | None, typer.Option(help="Inspection publication date")] = None,
    classification: Annotated[Classification | None, typer.Option(help="Security marking")] = None,
) -> None:
    """Add documents to the precedent index (re-ingesting an unchanged file changes nothing)."""
    if not paths and not bundled:
        raise fail("give one or more files or folders, or --bundled for the demo corpus", EXIT_INPUT)
    overrides = {
        "force": force,
        "inspection_title": inspection,
        "inspection_type": inspection_type,
        "kind": kind,
        "published": parse_cli_date(published, "--published"),
        "classification": classification,
    }
    run_ingest(core().backends, list(paths or []), bundled, {k: v for k, v in overrides.items() if v is not None})


def search(
    text: Annotated[str, typer.Argument(help="What to look for")],
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="How many results")] = 5,
    force: Annotated[str | None, typer.Option(help="Only this force")] = None,
    inspection_type: Annotated[InspectionType | None, typer.Option("--type", help="Only this type")] = None,
    kind: Annotated[DocumentKind | None, typer.Option(help="Only this document kind")] = None,
    since: Annotated[str | None, typer.Option("--from", help="Published on or after")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Published on or before")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude-doc", help="Leave out a document id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Hybrid search (meaning + keywords) over past responses."""
    if not text.strip():
        raise fail("the search text is empty", EXIT_INPUT)
    backends = core().backends
    filters = SearchFilters(
        force=force,
        inspection_type=inspection_type,
        kind=kind,
        published_from=parse_cli_date(since, "--from"),
        published_to=parse_cli_date(until, "--to"),
        exclude_doc_ids=tuple(exclude or ()),
        max_classification=backends.settings.max_classification,
    )
    hits = backends.index.search(text, k=k, filters=filters)
    if as_json:
        console.print_json(json.dumps([h.model_dump(mode="json") for h in hits]))
        return
    if not hits:
        console.print("No matches. Has the corpus been ingested? Try [bold]responder ingest --bundled[/].")
        return
    table = Table(title=f"Top {len(hits)} for “{text[:60]}”", show_lines=True)
    for col in ("#", "score", "force", "inspection", "published", "rec.", "snippet"):
        table.add_column(col, overflow="fold")
    for rank, hit in enumerate(hits, start=1):
        meta = hit.chunk.meta
        snippet = " ".join((hit.chunk.response or hit.chunk.text).split())[:160]
        table.add_row(
            str(rank),
            f"{hit.score:.4f}" + (f"\nsim {hit.similarity:.2f}" if hit.similarity is not None else ""),
            meta.force,
            meta.inspection_title[:60],
            meta.published.isoformat() if meta.published else "",
            hit.chunk.finding_number or "",
            snippet,
        )
    console.print(table)
