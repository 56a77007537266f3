"""`responder draft`: one recommendation, or every finding of a report into a Markdown response pack."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markdown import Markdown

from bot.cli.console import DATE_HELP, EXIT_INPUT, console, core, err, fail, parse_cli_date, progress
from bot.cli.layout import print_path

if TYPE_CHECKING:
    from bot.composition import Backends
    from drafting.models import Draft, DraftRequest
    from retrieval.models import Finding


NOT_A_RECOMMENDATION = (
    "This does not look like a recommendation ({reason}). Paste the recommendation's text, "
    "or use --force-draft to draft it anyway."
)


def finding_from_text(text: str, force_draft: bool = False) -> Finding:
    from bot.services.inputs import RecommendationTooLong, looks_like_recommendation, recommendation
    from drafting.models import MAX_RECOMMENDATION_CHARS

    pasted = " ".join(text.split())
    if not force_draft and not looks_like_recommendation(pasted):
        shown = pasted if len(pasted) <= 40 else pasted[:40].rsplit(" ", 1)[0] + " …"
        reason = (
            f"“{shown}” is not worded as one: a recommendation says who should do what, e.g. "
            "“By 31 March 2025, chief constables should …”"
        )
        raise fail(NOT_A_RECOMMENDATION.format(reason=reason), EXIT_INPUT)
    try:
        return recommendation(text)
    except RecommendationTooLong as too_long:
        raise fail(
            f"the recommendation is {too_long.length:,} characters; the limit is {MAX_RECOMMENDATION_CHARS:,}. "
            "For a whole report use --report FILE.",
            EXIT_INPUT,
        ) from too_long


def run_draft(backends: Backends, request: DraftRequest) -> Draft:
    from drafting.llm import ChatModelError, ModelTimeoutError

    try:
        return backends.drafter.draft(request)
    except ModelTimeoutError as exc:
        raise fail(f"{exc} Try again, or set RESPONDER_LLM=composer for a model-free draft.") from exc
    except ChatModelError as exc:  # e.g. the model server is not answering: its message says which and what to do
        raise fail(str(exc)) from exc


def draft_one(
    backends: Backends,
    text: str,
    inspection: str,
    published: date | None,
    force: str,
    as_json: bool,
    force_draft: bool = False,
) -> None:
    from drafting.models import DraftRequest
    from drafting.render import draft_markdown

    finding = finding_from_text(text, force_draft)
    err.print(f"[dim]Engine: {backends.chat.engine} ({backends.chat.reason})[/]")
    with console.status("Drafting…"):
        draft = run_draft(
            backends,
            DraftRequest(
                finding=finding,
                inspection_title=inspection,
                published=published,
                force=force,
                max_classification=backends.settings.max_classification,
            ),
        )
    if as_json:
        console.print_json(draft.model_dump_json())
    else:
        console.print(Markdown(draft_markdown(draft, inspection)))


def draft_report(
    backends: Backends,
    path: Path,
    inspection: str,
    published: date | None,
    force: str,
    out: Path | None,
    as_json: bool,
) -> None:
    from drafting.models import DraftRequest
    from drafting.pack import Pack, PackAnswer, PackHeader
    from drafting.pack_render import render_markdown
    from drafting.render import draft_markdown
    from drafting.report import NoFindingsError, parse_report
    from retrieval.loaders import DocumentError, read_text
    from tracker.deadlines import deadline_rule_line, statutory_last_day

    try:
        report = parse_report(read_text(path), name=path.name)
    except (DocumentError, NoFindingsError) as exc:
        raise fail(str(exc), EXIT_INPUT) from exc
    title = inspection or report.title or path.stem
    when = published or report.published
    err.print(f"[bold]{title}[/]: {len(report.findings)} finding(s). Engine: {backends.chat.engine}")
    drafts: list[Draft] = []
    with progress() as bar:
        task = bar.add_task("Drafting", total=len(report.findings))
        for finding in report.findings:
            bar.update(task, description=f"Drafting {finding.label}")
            request = DraftRequest(
                finding=finding,
                inspection_title=title,
                published=when,
                force=force,
                max_classification=backends.settings.max_classification,
            )
            drafts.append(run_draft(backends, request))
            bar.advance(task)
    pack = Pack(
        header=PackHeader(
            inspection_title=title,
            inspection_type=report.inspection_type,
            published=when,
            last_day=statutory_last_day(when) if when else None,
            deadline_rule=deadline_rule_line(when) if when else "publication date unknown: give --published",
        ),
        force=force,
        pcc_name=backends.settings.pcc_name,
        answers=[PackAnswer(finding=d.finding, text=d.text, marking=d.marking) for d in drafts],
        watermark=True,  # nothing here is approved: approval happens in the Slack review workflow
    )
    target = out or path.with_name(f"{path.stem}-response-draft.md")
    target.write_text(render_markdown(pack), encoding="utf-8")
    if as_json:
        console.print_json(json.dumps({"pack": str(target), "drafts": [d.model_dump(mode="json") for d in drafts]}))
        return
    for draft in drafts:
        console.print(Markdown(draft_markdown(draft, title)))
        console.rule()
    print_path(console, "Response pack (working draft) written to:", target)


def draft(
    text: Annotated[str | None, typer.Argument(metavar="TEXT", help="The recommendation, pasted as text")] = None,
    report: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Draft every finding of a report (PDF, DOCX, text)")
    ] = None,
    inspection: Annotated[str, typer.Option(metavar="TITLE", help="Inspection title")] = "",
    published: Annotated[
        str | None, typer.Option(metavar="DATE", help=f"The report's publication date, {DATE_HELP}")
    ] = None,
    force: Annotated[
        str | None, typer.Option(metavar="FORCE", help="The office's force (default RESPONDER_FORCE)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Where to write the response pack (with --report)")
    ] = None,
    force_draft: Annotated[
        bool, typer.Option("--force-draft", help="Draft TEXT even if it does not read like a recommendation")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Draft a grounded answer to one recommendation, or to every finding of a report."""
    backends = core().backends
    when = parse_cli_date(published, "--published")
    own = force or backends.settings.force
    if report is not None:
        draft_report(backends, report, inspection, when, own, out, as_json)
    elif text and text.strip():
        draft_one(backends, text, inspection, when, own, as_json, force_draft)
    else:
        raise fail("paste a recommendation in quotes, or give --report FILE", EXIT_INPUT)


def markdown(path: Annotated[Path, typer.Argument(metavar="FILE", help="A Markdown file to show")]) -> None:
    """Show a Markdown file (a response pack, a draft) in the terminal."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"no such file: {path} (check the path and try again)", EXIT_INPUT) from None
    except IsADirectoryError:
        raise fail(
            f"{path} is a folder: give a Markdown file, such as the pack `draft --report` wrote", EXIT_INPUT
        ) from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not a text file: give a Markdown (.md) file", EXIT_INPUT) from None
    except OSError as error:
        raise fail(f"cannot read {path}: {error.strerror or error}", EXIT_INPUT) from None
    console.print(Markdown(text))
