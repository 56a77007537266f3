"""The composer: the plan written out deterministically, with no model. The baseline every model must beat.

Each ask in order, the evidence found for it, in the office's voice (the force in the third person), older
evidence with its date and a question to confirm it is current; then, for each ask where nothing was found, a
placeholder that names that ask. No fact is added, no decision is announced: whether the office accepts the
recommendation is the reviewer's choice, offered on the card (`drafting.decisions`).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from drafting.asks import Ask
from drafting.evidence import Evidence
from drafting.models import AnswerShape, Plan, ShapeDecision, Stance
from drafting.voice import in_force_voice
from retrieval.models import DocumentKind

STILL_CURRENT = "[CONFIRM: still the current position?]"
#: The opening of an old statement: its month, or for an undated document `Evidence.month`'s fallback.
STALE_OPENING = r"As published in (?:[A-Z][a-z]+ \d{4}|an earlier response):"
#: The opening of the force's latest reported progress from the office's register, with the month it was given.
POSITION_OPENING = r"As at [A-Z][a-z]+ \d{4}, the force reports:"
#: Either dated opening: a frame that needs no support of its own, whose date must never be dropped.
DATED_OPENING = rf"(?:{STALE_OPENING}|{POSITION_OPENING})"
#: An old statement as the composer writes it: (opening, statement), then the question whether it still holds.
DATED_QUOTE = re.compile(rf"({STALE_OPENING}) “([^”]*)” " + re.escape(STILL_CURRENT))
#: A register update as the composer writes it: (opening, statement); current, so nothing to ask.
POSITION_QUOTE = re.compile(rf"({POSITION_OPENING}) “([^”]*)”")
MONITORING = "I will monitor progress through my regular HMICFRS scrutiny process."

_STANCE_WORDS = {
    Stance.AWAIT: "will await the outcome of this work and respond to any national guidance that follows",
    Stance.SUPPORT: "will support this national work and adopt any guidance that results from it",
    Stance.CONTRIBUTE: "will contribute to this work as it is taken forward nationally",
}
#: Openings that tie a sentence to a paragraph it is no longer in.
_DISCOURSE = re.compile(r"^(?:For example|For instance|In addition|Additionally|Also|However|Furthermore|Moreover),\s*")
_NEGATED = re.compile(r"\b(?:isn['’]t|aren['’]t|doesn['’]t|don['’]t|not|hasn['’]t|haven['’]t)\b", re.IGNORECASE)
#: A negated verb that agreed with a plural subject, as it must agree with "it" (the force) instead.
_PLURAL_NEGATION = re.compile(r"^(aren|don|haven|weren)(['’]t)\b", re.IGNORECASE)
_SINGULAR = {"aren": "isn", "don": "doesn", "haven": "hasn", "weren": "wasn"}


class Composed(BaseModel):
    text: str
    rationale: str


def force_name(force: str) -> str:
    """'Northumbria' → 'Northumbria Police'; names that already say what they are stay as given."""
    force = force.strip()
    if re.search(r"\b(police|constabulary|service)\b", force, re.I):
        return force
    return f"{force} Police"


def placeholder_for(ask: Ask, shape: AnswerShape) -> str:
    """The question an ask with no evidence leaves for the office, naming that ask."""
    text = ask.text.rstrip(".")
    if shape is AnswerShape.PCC_VOICE:
        if ask.starts_third_person:
            return f"how my office will see that the force {text}"
        return f"what my office will do to {text}" if ask.starts_with_verb else f"how my office will see that {text}"
    if _NEGATED.search(text):
        if _NEGATED.match(text):  # "aren't doing enough …", its subject (forces) left in the finding: "it isn't …"
            text = "it " + _PLURAL_NEGATION.sub(lambda m: _SINGULAR[m.group(1).lower()] + m.group(2), text, count=1)
        return f"what the force is doing about the finding that {text}"
    if ask.starts_third_person:
        return f"how the force {text}"
    if ask.starts_with_verb:
        return f"what the force is doing to {text}"
    return f"how the force makes sure that {text}"


def compose(plan: Plan, decision: ShapeDecision, force: str) -> Composed:
    name = force_name(force)
    if decision.shape is AnswerShape.OTHER_BODY:
        return _other_body(decision, name)
    parts: list[str] = []
    if decision.shape is AnswerShape.PCC_VOICE:
        parts.append("This recommendation is addressed to police and crime commissioners.")
    said: set[str] = set()
    for ask_plan in plan.asks:
        fresh = [e for e in ask_plan.evidence if e.text not in said]
        said.update(e.text for e in fresh)
        parts.extend(_stated_together(fresh, name))
    # What the evidence says first, in the asks' order; then what is left for the office to supply.
    parts.extend(f"[CONFIRM: {a.placeholder}]" for a in plan.asks if not a.evidence and a.placeholder)
    if plan.due and plan.evidence:
        # Evidence says what exists, which can read as "done"; only the office can say it meets the timescale.
        parts.append(f"[CONFIRM: progress against the timescale, {plan.due[:1].lower()}{plan.due[1:]}]")
    if decision.shape is AnswerShape.PCC_VOICE:
        parts.append(MONITORING)
    return Composed(text=" ".join(parts), rationale=_rationale(plan))


def _stated_together(evidence: list[Evidence], name: str) -> list[str]:
    """Current evidence as it is; older evidence quoted with its date, one quotation per document."""
    parts: list[str] = []
    stale: dict[str, list[Evidence]] = {}
    for item in evidence:
        if item.stale:
            stale.setdefault(item.doc_id, []).append(item)
        elif item.kind is DocumentKind.REGISTER_UPDATE:
            # The latest position the office was given, said as such: dated, attributed, in the force's words.
            parts.append(f"As at {item.month}, the force reports: “{_sentence(item, name)}”")
        else:
            parts.append(_sentence(item, name))
    for items in stale.values():
        quoted = " ".join(_sentence(item, name) for item in items)
        parts.append(f"As published in {items[0].month}: “{quoted}” {STILL_CURRENT}")
    return parts


def _sentence(evidence: Evidence, name: str) -> str:
    sentence = _DISCOURSE.sub("", in_force_voice(evidence.text, evidence.kind, name).rstrip())
    sentence = sentence[:1].upper() + sentence[1:]
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def _other_body(decision: ShapeDecision, name: str) -> Composed:
    stance = decision.stance or Stance.AWAIT
    text = (
        f"This recommendation is addressed to {decision.bodies}. {name} {_STANCE_WORDS[stance]}. "
        "I will monitor the force's response through my scrutiny process."
    )
    why = f"Addressed to {decision.bodies} only, so the answer names them and the force's stance."
    return Composed(text=text, rationale=why)


def _rationale(plan: Plan) -> str:
    answered = sum(1 for ask in plan.asks if ask.evidence)
    total = len(plan.asks)
    if not answered:
        return f"No own-force evidence on this matter was found; all {total} ask(s) are left for the office."
    return (
        f"{answered} of {total} ask(s) answered from the force's own earlier statements; the rest are left to confirm."
    )
