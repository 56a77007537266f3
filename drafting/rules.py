"""Addressee rules: decide the shape of an answer before any model writes (s.55(5B) needs one per finding)."""

from __future__ import annotations

import re

from drafting.models import AnswerShape, ShapeDecision, Stance
from retrieval.models import FORCE_ADDRESSEES, Addressee, Finding

_PROSE = {
    Addressee.HOME_OFFICE: "the Home Office",
    Addressee.MOJ: "the Ministry of Justice",
    Addressee.DFE: "the Department for Education",
    Addressee.COLLEGE_OF_POLICING: "the College of Policing",
    Addressee.NPCC: "the National Police Chiefs' Council",
    Addressee.CPS: "the Crown Prosecution Service",
    Addressee.OTHER: "other national bodies",
}

# Words that show the body is expected to work *with* forces, so the force supports or contributes
# rather than simply awaiting the outcome.
_CONTRIBUTE = re.compile(r"\b(consult|with (?:chief constables|forces|police forces|the police))\b", re.I)
_SUPPORT = re.compile(r"\b(guidance|national (?:strategy|framework|standard)s?)\b", re.I)


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def decide_shape(finding: Finding) -> ShapeDecision:
    addressees = finding.addressees or (Addressee.FORCE,)
    if any(a in FORCE_ADDRESSEES for a in addressees):
        return ShapeDecision(
            shape=AnswerShape.FORCE_POSITION,
            addressees=addressees,
            instruction=(
                "Write the force's position statement in the third person about the force: what the force "
                "has done or is doing, exactly as its own earlier statements say. Add no owner or deadline."
            ),
        )
    if Addressee.PCCS in addressees:
        return ShapeDecision(
            shape=AnswerShape.PCC_VOICE,
            addressees=addressees,
            instruction=(
                "Answer in the PCC's own voice (first person: 'I will …'): what the PCC and office will do, "
                "and how progress will be scrutinised."
            ),
        )
    bodies = join_names([_PROSE[a] for a in addressees if a in _PROSE])
    stance = _stance(finding.text)
    return ShapeDecision(
        shape=AnswerShape.OTHER_BODY,
        addressees=addressees,
        bodies=bodies,
        stance=stance,
        instruction=(
            f"This recommendation is addressed to {bodies}, not to the force. Say so plainly, then state "
            f"that the force will {stance.value} the national work. Do not invent local actions."
        ),
    )


def _stance(text: str) -> Stance:
    if _CONTRIBUTE.search(text):
        return Stance.CONTRIBUTE
    if _SUPPORT.search(text):
        return Stance.SUPPORT
    return Stance.AWAIT


_BODY_WORDS = {
    Addressee.HOME_OFFICE: ("home office",),
    Addressee.MOJ: ("ministry of justice", "moj"),
    Addressee.DFE: ("department for education", "dfe"),
    Addressee.COLLEGE_OF_POLICING: ("college of policing",),
    Addressee.NPCC: ("national police chiefs", "npcc"),
    Addressee.CPS: ("crown prosecution service", "cps"),
}
_DEFERS = re.compile(r"\b(?:is|are) addressed to\b|\bawait further information\b", re.I)


def shape_problem(decision: ShapeDecision, text: str) -> str | None:
    """Why `text` does not have the decided shape, or None. Catches a model copying the wrong kind of answer."""
    lowered = text.lower()
    if decision.shape is AnswerShape.OTHER_BODY:
        named = [a for a in decision.addressees if any(w in lowered for w in _BODY_WORDS.get(a, ()))]
        if _BODY_WORDS.keys() & set(decision.addressees) and not named:
            return f"it must say the recommendation is addressed to {decision.bodies}"
        return None
    if _DEFERS.search(text):
        return "it defers to another body, but this recommendation is for the force or the PCC to answer"
    if decision.shape is AnswerShape.PCC_VOICE and not re.search(r"\b(I|my)\b", text):
        return "it must be written in the PCC's own voice (first person)"
    return None


def fits_shape(decision: ShapeDecision, finding: Finding) -> bool:
    """Whether a precedent answering `finding` is a useful wording model for an answer of `decision`'s shape."""
    return decide_shape(finding).shape is decision.shape
