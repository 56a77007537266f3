"""The precedent composer: a deterministic engine that needs no model.

It writes the addressee rule's frame, adapts the closest own-force precedent (clearly marked for the
office to confirm it is still current) and leaves placeholders for everything it cannot know. It is the
fallback when no chat model is available and the baseline every LLM engine must beat.
"""

from __future__ import annotations

import re

from drafting.models import AnswerShape, ModelAnswer, ShapeDecision, SourceRef, Stance
from retrieval.models import Finding

# Below this dense similarity an own-force precedent is about something else and adapting it misleads.
MIN_ADAPT_SIMILARITY = 0.5

_STANCE_WORDS = {
    Stance.AWAIT: "will await the outcome of this work and respond to any national guidance that follows",
    Stance.SUPPORT: "will support this national work and adopt any guidance that results from it",
    Stance.CONTRIBUTE: "will contribute to this work as it is taken forward nationally",
}


def force_name(force: str) -> str:
    """'Northumbria' → 'Northumbria Police'; names that already say what they are stay as given."""
    force = force.strip()
    if re.search(r"\b(police|constabulary|service)\b", force, re.I):
        return force
    return f"{force} Police"


def compose(
    finding: Finding, decision: ShapeDecision, force: str, sources: list[SourceRef], responses: dict[str, str]
) -> ModelAnswer:
    """Compose an answer. `responses` maps a source ref (S1 …) to that precedent's response text."""
    name = force_name(force)
    if decision.shape is AnswerShape.OTHER_BODY:
        return _other_body(decision, name, sources)
    if decision.shape is AnswerShape.PCC_VOICE:
        return _pcc_voice(finding)
    return _force_position(finding, name, sources, responses)


def _other_body(decision: ShapeDecision, name: str, sources: list[SourceRef]) -> ModelAnswer:
    stance = decision.stance or Stance.AWAIT
    text = (
        f"This recommendation is addressed to {decision.bodies}. {name} {_STANCE_WORDS[stance]}. "
        "I will monitor the force's response through my scrutiny process."
    )
    cited = [sources[0].ref] if sources else []
    return ModelAnswer(
        text=text,
        cited_ids=cited,
        rationale=f"Addressed to {decision.bodies} only, so the answer names them and the force's stance.",
    )


def _pcc_voice(finding: Finding) -> ModelAnswer:
    text = (
        "I note this recommendation, which is addressed to Police and Crime Commissioners. "
        "I will [CONFIRM: action my office will take] by [CONFIRM: date], and I will monitor progress "
        "through my regular HMICFRS scrutiny process."
    )
    return ModelAnswer(
        text=text,
        placeholders=["action my office will take", "date"],
        rationale="Addressed to PCCs, so it is answered in the PCC's own voice; the action is left to confirm.",
    )


def _force_position(finding: Finding, name: str, sources: list[SourceRef], responses: dict[str, str]) -> ModelAnswer:
    due = f" ({finding.due.rstrip(',')})" if finding.due else ""
    parts = [f"{name} accepts this recommendation{due}."]
    cited: list[str] = []
    best = _closest_own(sources)
    if best and responses.get(best.ref):
        earlier = _first_sentences(responses[best.ref], 2)
        where = best.inspection_title or "an earlier inspection"
        parts.append(
            f"In response to a related finding in {where}, the force reported: \u201c{earlier}\u201d "
            "[CONFIRM: whether this remains the current position]."
        )
        cited.append(best.ref)
    parts.append(
        "The force will [CONFIRM: actions taken or planned], led by [CONFIRM: owner], "
        "with completion expected by [CONFIRM: date]."
    )
    rationale = (
        f"Adapted from the force's closest earlier answer ({best.ref}); the office must confirm it is current."
        if cited
        else "No close own-force precedent was found, so the position is left for the force to supply."
    )
    return ModelAnswer(text=" ".join(parts), cited_ids=cited, rationale=rationale)


def _closest_own(sources: list[SourceRef]) -> SourceRef | None:
    own = [s for s in sources if s.own_force and (s.similarity or 0.0) >= MIN_ADAPT_SIMILARITY]
    return max(own, key=lambda s: s.similarity or 0.0, default=None)


def _first_sentences(text: str, n: int) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return " ".join(sentences[:n]).strip()
