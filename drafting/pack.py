"""The response pack: the document the PCC publishes under s.55, as a value, and the one way it can be incomplete.

s.55(5B) needs an answer to every recommendation, so a final pack with any unapproved answer (or no answers at
all) is refused with `PackIncomplete`, listing what is missing in words a reviewer can act on; a watermarked
working copy is always allowed. `tracker.pack_assembly` builds a pack from the store; `pack_render` writes it.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from retrieval.models import Finding, InspectionType


class PackAnswer(BaseModel):
    finding: Finding
    text: str = ""
    approved: bool = False
    approved_by: str = ""
    version: int | None = None


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
    answers: list[PackAnswer]
    watermark: bool = False


class MissingAnswer(BaseModel):
    """One finding that stops the final pack, and why; `finding_id` and the message when the store knows them."""

    model_config = ConfigDict(frozen=True)

    label: str
    reason: str
    finding_id: int | None = None
    message_ts: str | None = None
    channel_id: str | None = None


class PackIncomplete(ValueError):
    """A final pack was asked for while findings lack an approved answer (s.55(5B)), or it has none."""

    def __init__(self, title: str, total: int, missing: list[MissingAnswer]) -> None:
        self.title = title
        self.missing = missing
        if not missing:
            detail = "it has no findings recorded yet. Upload the report in the inspection's thread first"
        else:
            listed = "; ".join(f"{item.label} ({item.reason})" for item in missing)
            detail = (
                f"{len(missing)} of {total} finding(s) lack an approved answer: {listed}. "
                "Every recommendation needs an approved answer (s.55(5B)); approve them first"
            )
        super().__init__(
            f"The response to “{title}” cannot be exported: {detail}, "
            "or export a working copy with the draft watermark."
        )


def require_complete(pack: Pack) -> None:
    """Raise PackIncomplete unless `pack` is a working copy or every answer is approved and written."""
    if pack.watermark:
        return
    missing = [
        MissingAnswer(label=answer.finding.label, reason="not approved" if answer.text.strip() else "no answer")
        for answer in pack.answers
        if not (answer.approved and answer.text.strip())
    ]
    if missing or not pack.answers:
        raise PackIncomplete(pack.header.inspection_title, len(pack.answers), missing)
