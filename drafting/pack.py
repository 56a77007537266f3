"""The response pack: the document the PCC publishes under s.55, as a value, and the one way it can be incomplete.

s.55(5B) needs an answer to every recommendation, so a final pack with any unapproved answer, any answer still
holding a `[CONFIRM: …]`, no answers at all, no PCC's name or no chief constable's comments (unless waived with a
reason) is refused with `PackIncomplete`, listing what is missing in words a reviewer can act on; a watermarked
working copy is always allowed. `tracker.pack_assembly` builds a pack from the store; `pack_render` writes it.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from drafting.fact_check import PLACEHOLDER
from retrieval.models import Classification, Finding, InspectionType


class PackAnswer(BaseModel):
    finding: Finding
    text: str = ""
    approved: bool = False
    approved_by: str = ""
    version: int | None = None
    marking: Classification = Field(Classification.OFFICIAL, description="The protective marking of its version")


class PackHeader(BaseModel):
    inspection_title: str
    inspection_type: InspectionType = InspectionType.UNKNOWN
    published: date | None = None
    last_day: date | None = None
    deadline_rule: str = Field("", description="One line saying how the last day was computed")


class Pack(BaseModel):
    header: PackHeader
    force: str
    pcc_name: str = ""
    pcc_comments: str = ""
    chief_constable_comments: str = ""
    chief_constable_waiver: str = Field("", description="Why the pack goes without the chief constable's comments")
    answers: list[PackAnswer]
    watermark: bool = False
    office: str = Field("", description="The letterhead and document author; '' → the PCC's office for `force`")

    @property
    def marking(self) -> Classification:
        """The pack's protective marking: the highest of its answers' (a document is marked by its most
        sensitive part)."""
        return Classification.highest(answer.marking for answer in self.answers)


class MissingAnswer(BaseModel):
    """One finding that stops the final pack, and why; `finding_id` and the message when the store knows them."""

    model_config = ConfigDict(frozen=True)

    label: str
    reason: str
    finding_id: int | None = None
    message_ts: str | None = None
    channel_id: str | None = None


class PackIncomplete(ValueError):
    """A final pack was asked for while it cannot be published: findings lack an approved, confirmed answer
    (s.55(5B)), it has none, or the letter itself is unfinished (`problems`: no PCC name, no chief constable's
    comments and no waiver)."""

    def __init__(self, title: str, total: int, missing: list[MissingAnswer], problems: list[str] | None = None) -> None:
        self.title = title
        self.missing = missing
        self.problems = list(problems or [])
        details = []
        if not total and not missing:  # nothing else matters yet: say the one thing to do first
            self.problems = []
            details.append("it has no findings recorded yet. Upload the report in the inspection's thread first")
        elif missing:
            listed = "; ".join(f"{item.label} ({item.reason})" for item in missing)
            details.append(
                f"{len(missing)} of {total} finding(s) lack an approved answer with nothing left to confirm: "
                f"{listed}. Every recommendation needs one (s.55(5B))"
            )
        details += self.problems
        super().__init__(
            f"The response to “{title}” cannot be exported: {'; '.join(details)}. "
            "Fix that first, or export a working copy with the draft watermark."
        )


def require_complete(pack: Pack) -> None:
    """Raise PackIncomplete unless `pack` is a working copy or every answer is approved, written and confirmed."""
    if pack.watermark:
        return
    missing = [
        MissingAnswer(label=answer.finding.label, reason=reason)
        for answer in pack.answers
        if (reason := answer_problem(answer.approved, answer.text))
    ]
    problems = letter_problems(
        pack.pcc_name, pack.pcc_comments, pack.chief_constable_comments, pack.chief_constable_waiver
    )
    if missing or problems or not pack.answers:
        raise PackIncomplete(pack.header.inspection_title, len(pack.answers), missing, problems)


def answer_problem(approved: bool, text: str) -> str | None:
    """Why an answer cannot go into a final pack, or None: unwritten, unapproved, or holding a placeholder."""
    if not text.strip():
        return "no answer"
    if not approved:
        return "not approved"
    if markers := PLACEHOLDER.findall(text):
        return f"approved text still holds {markers[0]}" + (f" and {len(markers) - 1} more" if len(markers) > 1 else "")
    return None


def letter_problems(pcc_name: str, pcc_comments: str, chief_constable_comments: str, waiver: str = "") -> list[str]:
    """What the letter around the answers still lacks: the PCC's name and opening comments, and the chief
    constable's comments (s.55 requires inviting them; a pack may go without them only with a recorded reason)."""
    problems = []
    if not pcc_name.strip():
        problems.append("the PCC's name for the sign-off is not set (RESPONDER_PCC_NAME)")
    if not pcc_comments.strip():
        problems.append("the PCC's opening comments on the report are not recorded")
    if not chief_constable_comments.strip() and not waiver.strip():
        problems.append(
            "the chief constable's comments are not recorded; add them, or waive them with a reason "
            "(e.g. 'comments to follow under separate cover')"
        )
    return problems
