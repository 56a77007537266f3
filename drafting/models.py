"""Pydantic records at the drafting boundary: what is asked for, what the model returns, what reviewers see."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from retrieval.models import Addressee, Classification, Finding

#: The longest single recommendation accepted as pasted text; a whole report goes in as a file instead.
MAX_RECOMMENDATION_CHARS = 4000


class AnswerShape(StrEnum):
    """Decided by the addressee rules before any model writes."""

    FORCE_POSITION = "force position statement"
    PCC_VOICE = "PCC's own answer"
    OTHER_BODY = "addressed to another body"


class Stance(StrEnum):
    AWAIT = "await"
    SUPPORT = "support"
    CONTRIBUTE = "contribute"


class ShapeDecision(BaseModel):
    shape: AnswerShape
    addressees: tuple[Addressee, ...]
    bodies: str = Field("", description="Addressees named in prose: 'the Home Office and the Department …'")
    stance: Stance | None = None
    instruction: str = Field(..., description="What the answer must do, for the prompt and for reviewers")


class DraftRequest(BaseModel):
    finding: Finding
    inspection_title: str = ""
    published: date | None = None
    force: str = Field(..., min_length=1, description="The office's own force")
    instruction: str | None = Field(None, description="A reviewer's change request or follow-up")
    previous_text: str | None = Field(None, description="The version the instruction applies to")
    max_classification: Classification = Classification.OFFICIAL
    exclude_doc_ids: tuple[str, ...] = Field((), description="Documents retrieval must leave out (evaluation)")


class ModelAnswer(BaseModel):
    """The structured output asked of the chat model. Kept small: every token costs time locally."""

    text: str = Field(..., min_length=1, description="The answer, in the office's voice")
    cited_ids: list[str] = Field(default_factory=list, description="Ids of the sources relied on, e.g. S1")
    placeholders: list[str] = Field(default_factory=list, description="Facts the office must confirm")
    rationale: str = Field("", description="One or two sentences for reviewers")


class SourceRef(BaseModel):
    """A retrieved chunk as reviewers see it. `ref` is the short id the prompt used (S1, S2 …)."""

    ref: str
    chunk_id: str
    doc_id: str
    title: str = ""
    force: str = ""
    inspection_title: str = ""
    published: date | None = None
    finding_number: str | None = None
    similarity: float | None = None
    own_force: bool = False
    cited: bool = False
    excerpt: str = ""


class GuardKind(StrEnum):
    INVALID_CITATION = "invalid citation"
    NO_GROUNDING = "no grounding"
    UNSUPPORTED_FACT = "unsupported fact"
    FOREIGN_FACT = "another force's fact"


class GuardFinding(BaseModel):
    kind: GuardKind
    detail: str
    span: str = ""
    replaced: bool = Field(False, description="True when the span became a [CONFIRM: …] placeholder")


class Draft(BaseModel):
    finding: Finding
    shape: AnswerShape
    text: str
    cited_ids: list[str] = Field(default_factory=list, description="Chunk ids, all among those retrieved")
    sources: list[SourceRef] = Field(default_factory=list)
    placeholders: list[str] = Field(default_factory=list)
    rationale: str = ""
    guard: list[GuardFinding] = Field(default_factory=list)
    engine: str
    notes: list[str] = Field(default_factory=list, description="Fallbacks and retries, shown to reviewers")
    seconds: float = 0.0

    @property
    def grounded(self) -> bool:
        return is_grounded(bool(self.cited_ids), self.guard)


def is_grounded(cites_a_source: bool, guard: list[GuardFinding]) -> bool:
    """A draft is grounded when it cites a retrieved source and the guard did not find it ungrounded."""
    return cites_a_source and not any(g.kind is GuardKind.NO_GROUNDING for g in guard)
