"""`responder draft`: one recommendation, or every finding of a report into a Markdown response pack."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from rich.markdown import Markdown

from bot.cli import console, err, fail, progress
from bot.services import Services
from drafting.llm import ModelTimeoutError
from drafting.models import MAX_RECOMMENDATION_CHARS, Draft, DraftRequest
from drafting.render import draft_markdown
from retrieval.models import Finding


def finding_from_text(text: str) -> Finding:
    from retrieval.findings import make_finding

    text = " ".join(text.split())
    if len(text) > MAX_RECOMMENDATION_CHARS:
        raise fail(
            f"the recommendation is {len(text):,} characters; the limit is {MAX_RECOMMENDATION_CHARS:,}. "
            "For a whole report use --report FILE.",
            2,
        )
    return make_finding(text)


def run_draft(svc: Services, request: DraftRequest) -> Draft:
    try:
        return svc.drafter.draft(request)
    except ModelTimeoutError as exc:
        raise fail(f"{exc} Try again, or set RESPONDER_LLM=composer for a model-free draft.") from exc


def draft_one(svc: Services, text: str, inspection: str, published: date | None, force: str, as_json: bool) -> None:
    finding = finding_from_text(text)
    err.print(f"[dim]Engine: {svc.chat.engine} ({svc.chat.reason})[/]")
    with console.status("Drafting…"):
        draft = run_draft(
            svc,
            DraftRequest(
                finding=finding,
                inspection_title=inspection,
                published=published,
                force=force,
                max_classification=svc.settings.max_classification,
            ),
        )
    if as_json:
        console.print_json(draft.model_dump_json())
    else:
        console.print(Markdown(draft_markdown(draft, inspection)))


def draft_report(
    svc: Services,
    path: Path,
    inspection: str,
    published: date | None,
    force: str,
    out: Path | None,
    as_json: bool,
) -> None:
    from drafting.pack import Pack, PackAnswer, PackHeader, render_markdown
    from drafting.report import NoFindingsError, parse_report
    from retrieval.loaders import DocumentError, read_text
    from tracker.deadlines import deadline_rule_line, statutory_last_day

    try:
        report = parse_report(read_text(path), name=path.name)
    except (DocumentError, NoFindingsError) as exc:
        raise fail(str(exc)) from exc
    title = inspection or report.title or path.stem
    when = published or report.published
    err.print(f"[bold]{title}[/]: {len(report.findings)} finding(s). Engine: {svc.chat.engine}")
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
                max_classification=svc.settings.max_classification,
            )
            drafts.append(run_draft(svc, request))
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
        pcc_name=svc.settings.pcc_name,
        answers=[PackAnswer(finding=d.finding, text=d.text) for d in drafts],
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
    console.print(f"Response pack (working draft) written to [bold]{target}[/]")
