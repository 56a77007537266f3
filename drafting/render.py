"""Markdown renderings of drafts for the command line and files. Pure functions."""

from __future__ import annotations

import re

from drafting.fact_check import PLACEHOLDER
from drafting.models import Draft, SourceRef


def highlight_placeholders(text: str) -> str:
    """Bold every [CONFIRM: …] so a reviewer's eye lands on it."""
    return PLACEHOLDER.sub(lambda m: f"**{m.group(0)}**", text)


def source_line(source: SourceRef) -> str:
    where = source.inspection_title or source.title or source.doc_id
    date = source.published.strftime("%-d %b %Y") if source.published else "date unknown"
    number = f", {source.finding_number}" if source.finding_number else ""
    sim = f", similarity {source.similarity:.2f}" if source.similarity is not None else ""
    role = "own force" if source.own_force else "other force: wording only"
    mark = "cited" if source.cited else "retrieved"
    return f"{source.ref} ({mark}) {source.force or 'unknown force'} — {where} ({date}{number}{sim}; {role})"


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
    lines += ["### Sources", *([f"- {source_line(s)}" for s in draft.sources] or ["- none retrieved"]), ""]
    lines += ["### Guard", *([f"- **{g.kind.value}**: {g.detail}" for g in draft.guard] or ["- no findings"])]
    if not draft.grounded:
        lines += ["", "**Not grounded:** the draft cites no retrieved source. Treat it as wording only."]
    lines += [""]
    if draft.notes:
        lines += ["### Notes", *[f"- {n}" for n in draft.notes], ""]
    if draft.rationale:
        lines += [f"*Rationale: {draft.rationale}*", ""]
    lines.append(f"*Engine: {draft.engine} · {draft.seconds:.1f} s*")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
