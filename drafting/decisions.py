"""The office's decision on a recommendation (accept, accept in part, no action), as its answer's first sentence.

The drafting engine never takes this decision: the reviewer chooses it on the card, and the sentence it adds is
the office's own wording, the same every time. Choosing again replaces the sentence; nothing else changes.
"""

from __future__ import annotations

import re
from enum import StrEnum

from drafting.composer import force_name
from drafting.models import AnswerShape
from retrieval.models import FindingKind


class Decision(StrEnum):
    ACCEPT = "accept"
    PARTLY = "partly"
    NO_ACTION = "no_action"

    @property
    def label(self) -> str:
        return {"accept": "Accepted", "partly": "Accepted in part", "no_action": "No action proposed"}[self.value]


def decision_sentence(
    decision: Decision, shape: AnswerShape, force: str, kind: FindingKind = FindingKind.RECOMMENDATION
) -> str:
    """In the report's own terms: an area for improvement is accepted as one, not as "this recommendation"."""
    who = "I" if shape is AnswerShape.PCC_VOICE else force_name(force)
    verb = "accept" if who == "I" else "accepts"
    noun = kind.value
    match decision:
        case Decision.ACCEPT:
            return f"{who} {verb} this {noun}."
        case Decision.PARTLY:
            return f"{who} {verb} this {noun} in part: [CONFIRM: which parts, and why not the rest]."
    return f"No action is proposed on this {noun}, because [CONFIRM: why no action is proposed]."


_NOUNS = "|".join(kind.value for kind in FindingKind)
_DECIDED = re.compile(
    rf"^(?:[A-Z][\w ]{{0,60}}? accepts? this (?:{_NOUNS})(?: in part: \[CONFIRM:[^\]]*\])?\.|No action is "
    rf"proposed on this (?:{_NOUNS}), because \[CONFIRM:[^\]]*\]\.)\s*"
)


def with_decision(
    text: str, decision: Decision, shape: AnswerShape, force: str, kind: FindingKind = FindingKind.RECOMMENDATION
) -> str:
    """`text` opening with the decision's sentence, in place of any earlier one."""
    return f"{decision_sentence(decision, shape, force, kind)} {_DECIDED.sub('', text.strip())}".strip()
