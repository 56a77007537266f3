"""Markdown renderings of drafts for the command line and files. Pure functions."""

from __future__ import annotations

import re

from drafting.evidence import content_words
from drafting.fact_check import PLACEHOLDER
from drafting.models import UNGROUNDED, AnswerShape, Draft, GuardFinding, Plan, SourceRef
from retrieval.chunking import SENTENCE_END
from retrieval.models import DocumentKind

#: A source's passages as the reviewer reads them: a few lines, the ones the plan took (or that bear on the finding).
MAX_PASSAGES = 3
_KIND_WORDS = {
    DocumentKind.PCC_RESPONSE: "PCC response",
    DocumentKind.FORCE_POSITION: "force position statement",
    DocumentKind.REGISTER_UPDATE: "register update",
    DocumentKind.BOARD_PAPER: "board paper",
    DocumentKind.NEWS: "news",
    DocumentKind.REPORT: "report",
    DocumentKind.OTHER: "other document",
}


def highlight_placeholders(text: str) -> str:
    """Bold every [CONFIRM: …] so a reviewer's eye lands on it."""
    return PLACEHOLDER.sub(lambda m: f"**{m.group(0)}**", text)


def source_role(source: SourceRef) -> str:
    """'evidence' (the own force's statement: what the draft may rest on) or 'wording only'."""
    return "evidence" if source.is_evidence else "wording only"


def source_role_why(source: SourceRef) -> str:
    if source.is_evidence:
        return "the force's own statement"
    if source.context_only:
        return "third-party context, never the force's position"
    return "another force's precedent"


def source_mark(source: SourceRef) -> str:
    if source.context_only:
        return "context"
    return "cited" if source.cited else "found, not used"


def source_facts(source: SourceRef) -> list[str]:
    """Force, kind, date and document of a source, then its finding number, relevance and the plan's ids."""
    facts = [source.force or "unknown force"]
    if source.kind is not None:
        facts.append(_KIND_WORDS.get(source.kind, source.kind.value))
    facts.append(source.published.strftime("%-d %b %Y") if source.published else "date unknown")
    facts.append(source.inspection_title or source.title or source.doc_id)
    if source.finding_number:
        facts.append(f"finding {source.finding_number}")
    if source.similarity is not None:
        facts.append(f"relevance {source.similarity:.2f}")
    if source.evidence_ids:
        facts.append(", ".join(source.evidence_ids))
    return facts


def source_line(source: SourceRef) -> str:
    """`S1 (cited) evidence, the force's own statement · Northumbria · PCC response · 10 Jun 2025 · …`"""
    role = f"{source_role(source)}, {source_role_why(source)}"
    return f"{source.ref} ({source_mark(source)}) {role} · {' · '.join(source_facts(source))}"


def source_passages(source: SourceRef, about: str = "", limit: int = MAX_PASSAGES) -> list[str]:
    """What the source actually says, a few lines: the passages the plan took from it; for a record that kept
    only an excerpt, the sentences of it that share most words with `about` (the finding), in their order."""
    if source.passages:
        return [" ".join(p.split()) for p in source.passages[:limit]]
    sentences = [
        " ".join(part.split())
        for piece in source.excerpt.split(" … ")
        for part in SENTENCE_END.split(piece)
        if part.strip()
    ]
    if not about:
        return sentences[:limit]
    wanted = content_words(about)
    score = {i: len(content_words(s) & wanted) for i, s in enumerate(sentences)}
    best = sorted(sorted((i for i in score if score[i]), key=lambda i: -score[i])[:limit])
    return [sentences[i] for i in best] or sentences[:1]


def grounded_line(guard: list[GuardFinding], grounded: bool) -> str:
    """The one sentence on whether the text is borne out by the evidence found (said once, wherever it is shown)."""
    if grounded:
        return "Grounded: every statement is borne out by the finding or by evidence that passed the relevance gate."
    count = sum(g.kind in UNGROUNDED and bool(g.span) for g in guard)
    if count:
        what = "1 statement is" if count == 1 else f"{count} statements are"
        return f"Not grounded: {what} not borne out by the evidence found; check or replace before approval."
    whole = next((g.detail for g in guard if g.kind in UNGROUNDED), "")
    return f"Not grounded: {whole or 'some of this text is not borne out by the evidence found.'}"


def listed_checks(guard: list[GuardFinding]) -> list[GuardFinding]:
    """The findings listed under the grounded line: all but an ungrounded one without a span, which that line
    already states."""
    return [g for g in guard if g.kind not in UNGROUNDED or g.span]


def plan_lines(plan: Plan) -> list[str]:
    """Each ask with what answers it, then any third-party context: the plan as a reviewer reads it."""
    lines = []
    for ask in plan.asks:
        if ask.evidence:
            found = "; ".join(
                f"{e.id}, {e.month}{' (to confirm: older than three years)' if e.stale else ''}: “{e.text}”"
                for e in ask.evidence
            )
            lines.append(f"- **{ask.ask.text}** — {found}")
        elif plan.shape is AnswerShape.OTHER_BODY:
            lines.append(f"- **{ask.ask.text}** — addressed to another body")
        else:
            lines.append(f"- **{ask.ask.text}** — nothing found: {ask.placeholder}")
    lines += [f"- *Context only, not the force's position* ({e.month}): “{e.text}”" for e in plan.context]
    return lines


def draft_markdown(draft: Draft, inspection: str = "") -> str:
    finding = draft.finding
    lines = [f"**{draft.marking.value}**", "", f"## {finding.label}" + (f" — {inspection}" if inspection else "")]
    lines += ["", f"> {_one_line(finding.text)}", ""]
    addressees = ", ".join(a.value for a in finding.addressees) or "not stated"
    meta = [f"Due: {finding.due}"] if finding.due else []
    meta += [f"Addressed to: {addressees}", f"shape: {draft.shape.value}"]
    lines += [f"*{' · '.join(meta)}*", "", "### Draft answer", ""]
    lines += [highlight_placeholders(draft.text), ""]
    if draft.placeholders:
        lines += ["### To confirm", *[f"- [ ] {p}" for p in draft.placeholders], ""]
    if draft.plan is not None:
        lines += ["### Plan", *plan_lines(draft.plan), ""]
    lines += ["### Sources", *(_source_markdown(s, finding.text) for s in draft.sources)]
    lines += ["- none found", ""] if not draft.sources else [""]
    head, _, rest = grounded_line(draft.guard, draft.grounded).partition(": ")
    checks = [f"- **{g.kind.value}**: {g.detail}" for g in listed_checks(draft.guard)]
    lines += ["### Checks", f"**{head}:** {rest}", *checks, ""]
    if draft.notes:
        lines += ["### Notes", *[f"- {n}" for n in draft.notes], ""]
    if draft.rationale:
        lines += [f"*Rationale: {draft.rationale}*", ""]
    lines.append(f"*Engine: {draft.engine} · {draft.seconds:.1f} s*")
    return "\n".join(lines)


def _source_markdown(source: SourceRef, about: str) -> str:
    quoted = "".join(f"\n  > {passage}" for passage in source_passages(source, about))
    return f"- {source_line(source)}{quoted}"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
