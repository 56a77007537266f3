"""Markdown renderings of drafts for the command line and files. Pure functions."""

from __future__ import annotations

import re

from drafting.fact_check import PLACEHOLDER
from drafting.models import AnswerShape, Draft, Plan, SourceRef


def highlight_placeholders(text: str) -> str:
    """Bold every [CONFIRM: …] so a reviewer's eye lands on it."""
    return PLACEHOLDER.sub(lambda m: f"**{m.group(0)}**", text)


def source_line(source: SourceRef) -> str:
    where = source.inspection_title or source.title or source.doc_id
    date = source.published.strftime("%-d %b %Y") if source.published else "date unknown"
    number = f", {source.finding_number}" if source.finding_number else ""
    sim = f", relevance {source.similarity:.2f}" if source.similarity is not None else ""
    role = "own force" if source.own_force else "other force: wording only"
    mark = "cited" if source.cited else "found, not used"
    return f"{source.ref} ({mark}) {source.force or 'unknown force'} — {where} ({date}{number}{sim}; {role})"


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
    lines = [f"## {finding.label}" + (f" — {inspection}" if inspection else "")]
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
    lines += ["### Sources", *([f"- {source_line(s)}" for s in draft.sources] or ["- none found"]), ""]
    lines += ["### Checks", *([f"- **{g.kind.value}**: {g.detail}" for g in draft.guard] or ["- no findings"])]
    if not draft.grounded:
        lines += [
            "",
            "**Not grounded:** some of this text is not borne out by the evidence found. Treat it as wording only.",
        ]
    lines += [""]
    if draft.notes:
        lines += ["### Notes", *[f"- {n}" for n in draft.notes], ""]
    if draft.rationale:
        lines += [f"*Rationale: {draft.rationale}*", ""]
    lines.append(f"*Engine: {draft.engine} · {draft.seconds:.1f} s*")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
