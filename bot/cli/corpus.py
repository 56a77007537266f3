"""`responder ingest` and `responder search`: the precedent index from the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from bot.cli.console import DATE_HELP, EXIT_INPUT, choices, console, core, fail, parse_cli_date, progress
from bot.cli.layout import Field, Records
from retrieval.models import Classification, DocumentKind, InspectionType, SearchFilters

if TYPE_CHECKING:
    from bot.composition import Backends
    from retrieval.ingest import IngestRow
    from retrieval.models import SearchHit
    from retrieval.passages import Passage


def ingest_table(rows: list[IngestRow]) -> Records:
    """One row a file: its name whole, then what happened to it. Two columns read at 80, so this is a table
    at any width that fits the longest name beside a readable result, and cards only when narrower."""
    fields = [Field("file", heading=True), Field("result", ratio=1, min_width=24)]
    rows = [(Path(row.path).name, ingest_result(row)) for row in rows]
    return Records(fields, rows, title="Ingest summary", wide=0)


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
    if not rows:
        console.print("No .txt, .md, .pdf or .docx files found there: nothing to ingest.")
        return
    console.print(ingest_table(rows))
    skipped = sum(1 for r in rows if r.skipped)
    console.print(
        f"{len(rows) - skipped} file(s) indexed, {skipped} skipped; {backends.index.count()} chunks in the index."
    )


def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(metavar="PATH", help="Files or folders (.txt .md .pdf .docx)")
    ] = None,
    bundled: Annotated[bool, typer.Option("--bundled", help="Ingest the bundled demo corpus")] = False,
    force: Annotated[str | None, typer.Option(metavar="FORCE", help="The force the documents are about")] = None,
    inspection: Annotated[str | None, typer.Option(metavar="TITLE", help="Inspection title")] = None,
    inspection_type: Annotated[
        InspectionType | None,
        typer.Option("--type", metavar="TYPE", help=f"Inspection type: {choices(InspectionType)}"),
    ] = None,
    kind: Annotated[
        DocumentKind | None, typer.Option(metavar="KIND", help=f"Document kind: {choices(DocumentKind)}")
    ] = None,
    published: Annotated[
        str | None, typer.Option(metavar="DATE", help=f"The inspection's publication date, {DATE_HELP}")
    ] = None,
    classification: Annotated[
        Classification | None,
        typer.Option(metavar="MARKING", help=f"Security marking: {choices(Classification)}"),
    ] = None,
) -> None:
    """Add documents to the precedent index (re-ingesting an unchanged file changes nothing)."""
    if not paths and not bundled:
        raise fail("give one or more files or folders, or --bundled for the demo corpus", EXIT_INPUT)
    missing = [str(path) for path in paths or [] if not path.exists()]
    if missing:
        raise fail(f"no such file or folder: {', '.join(missing)} (check the path and try again)", EXIT_INPUT)
    overrides = {
        "force": force,
        "inspection_title": inspection,
        "inspection_type": inspection_type,
        "kind": kind,
        "published": parse_cli_date(published, "--published"),
        "classification": classification,
    }
    run_ingest(core().backends, list(paths or []), bundled, {k: v for k, v in overrides.items() if v is not None})


#: A hit's relevance label compares it with the best hit of the same search (fused scores mean nothing to a
#: person): found by both rankings (its meaning and the query's words) and within these shares of the top score.
STRONG_SHARE = 0.95
GOOD_SHARE = 0.85


def relevance(hit: SearchHit, top_score: float) -> str:
    """'strong match', 'good match' or 'weak match': a plain word for the fused score.

    Strong: found by both rankings (dense and keyword: its meaning and the query's words) and scoring at least
    95% of the top result. Good: found by both, at least 85%. Weak: the rest (only one ranking found it, which
    usually means none of the query's words is in it, or it is well behind the top result).

    With reciprocal-rank fusion (k=60) a chunk ranked first by both scores 2/61; 95% of that is about fourth in
    both, 85% about twelfth; a chunk only one ranking found scores at most 1/61, half that.
    """
    both = hit.dense_rank is not None and hit.keyword_rank is not None
    share = hit.score / top_score if top_score > 0 else 0.0
    if both and share >= STRONG_SHARE:
        return "strong match"
    if both and share >= GOOD_SHARE:
        return "good match"
    return "weak match"


def finding_short(hit: SearchHit) -> str:
    """`Rec. 2`, `AFI 3`, `Concern`: which finding of the inspection the chunk answers ('' for comments)."""
    from retrieval.models import FindingKind

    chunk = hit.chunk
    if chunk.finding_kind is None and chunk.finding_number is None:
        return ""
    kind = {FindingKind.AREA_FOR_IMPROVEMENT: "AFI", FindingKind.CAUSE_OF_CONCERN: "Concern"}.get(
        chunk.finding_kind or FindingKind.RECOMMENDATION, "Rec."
    )
    return f"{kind} {chunk.finding_number}" if chunk.finding_number else kind


def hit_passage(hit: SearchHit, query: str) -> Passage:
    from retrieval.passages import best_passage

    chunk = hit.chunk
    titles = [t for t in (chunk.meta.inspection_title, chunk.meta.title) if t]
    return best_passage(chunk.text, query, skip=titles, prefer=chunk.response)


def passage_text(passage: Passage) -> Text:
    """The passage with the words that matched the query in bold."""
    text = Text(passage.text)
    if passage.words:
        text.highlight_regex(r"\b(?:" + "|".join(re.escape(w) for w in passage.words) + r")\b", "bold")
    return text


SEARCH_FIELDS = [
    Field("#", justify="right", heading=True),
    Field("match", heading=True),
    Field("force", heading=True),
    Field("published", heading=True),
    Field("finding", heading=True),
    Field("inspection", ratio=1, min_width=20),
    Field("passage", ratio=2, min_width=30),
]


def search_results(query: str, hits: list[SearchHit]) -> Records:
    """The hits best first: relevance in words, where each is from, and the passage that matched."""
    from retrieval.dates import format_date

    top = hits[0].score if hits else 0.0
    rows = []
    for rank, hit in enumerate(hits, start=1):
        meta = hit.chunk.meta
        rows.append(
            (
                str(rank),
                relevance(hit, top),
                meta.force,
                format_date(meta.published) if meta.published else "",
                finding_short(hit),
                meta.inspection_title or meta.title,
                passage_text(hit_passage(hit, query)),
            )
        )
    return Records(SEARCH_FIELDS, rows, title=f"Top {len(hits)} for “{' '.join(query.split())}”", show_lines=True)


def hit_json(hit: SearchHit, query: str, top_score: float) -> dict[str, Any]:
    """The hit as stored, raw scores included, plus the relevance label and the passage the table shows."""
    return {
        **hit.model_dump(mode="json"),
        "relevance": relevance(hit, top_score),
        "passage": hit_passage(hit, query).text,
    }


def search(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What to look for")],
    k: Annotated[int, typer.Option("--k", metavar="N", min=1, max=50, help="How many results")] = 5,
    force: Annotated[str | None, typer.Option(metavar="FORCE", help="Only this force")] = None,
    inspection_type: Annotated[
        InspectionType | None, typer.Option("--type", metavar="TYPE", help=f"Only this type: {choices(InspectionType)}")
    ] = None,
    kind: Annotated[
        DocumentKind | None, typer.Option(metavar="KIND", help=f"Only this document kind: {choices(DocumentKind)}")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help=f"Published on or after, {DATE_HELP}")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help=f"Published on or before, {DATE_HELP}")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude-doc", metavar="DOC_ID", help="Leave out a document id (repeatable)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable output, with the raw fused and cosine scores")
    ] = False,
) -> None:
    """Hybrid search (meaning + keywords) over past responses, showing the passage of each hit that matched.

    Strong match: found by meaning and by the query's words, scoring at least 95% of the top result's score.

    Good match: found by both, at least 85%. Weak match: the rest. --json gives the raw scores.
    """
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
        top = hits[0].score if hits else 0.0
        console.print_json(json.dumps([hit_json(hit, text, top) for hit in hits]))
        return
    if not hits:
        console.print("No matches. Has the corpus been ingested? Try [bold]responder ingest --bundled[/].")
        return
    console.print(search_results(text, hits))
