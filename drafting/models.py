"""Pydantic records at the drafting boundary: what is asked for, what the model returns, what reviewers see."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from drafting.asks import Ask
from drafting.evidence import Evidence
from retrieval.models import Addressee, Classification, DocumentKind, Finding

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
    previous_marking: Classification = Field(
        Classification.OFFICIAL, description="The marking of `previous_text`: a redraft may keep its words"
    )
    max_classification: Classification = Field(
        Classification.OFFICIAL, description="The ceiling of the place the draft is posted: nothing above is used"
    )
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
    kind: DocumentKind | None = Field(None, description="What the document is: a PCC response, news …")
    passages: list[str] = Field(default_factory=list, description="The sentences the plan took from it, in order")
    evidence_ids: list[str] = Field(default_factory=list, description="The plan's ids of those passages: E1, C1 …")
    context_only: bool = Field(False, description="A third-party passage (news, a report): never the force's")
    classification: Classification = Field(Classification.OFFICIAL, description="The marking of its document")

    @property
    def is_evidence(self) -> bool:
        """The own force's statement, which the draft may rest on; anything else is wording or context only."""
        return self.own_force and not self.context_only


class GuardKind(StrEnum):
    INVALID_CITATION = "invalid citation"
    NO_GROUNDING = "no grounding"
    UNSUPPORTED_FACT = "unsupported fact"
    FOREIGN_FACT = "another force's fact"
    UNSUPPORTED_SENTENCE = "unsupported sentence"
    OTHER_VOICE = "another body's voice"


class GuardFinding(BaseModel):
    kind: GuardKind
    detail: str
    span: str = ""
    replaced: bool = Field(False, description="True when the span became a [CONFIRM: …] placeholder")


class AskPlan(BaseModel):
    """One ask of the finding and how the draft answers it: with evidence, or with a placeholder naming it."""

    ask: Ask
    evidence: list[Evidence] = Field(default_factory=list)
    placeholder: str | None = Field(None, description="What the office must supply, when nothing was found")


class Plan(BaseModel):
    """What the draft is built from, shown to the reviewer beside the text."""

    shape: AnswerShape
    asks: list[AskPlan] = Field(default_factory=list)
    context: list[Evidence] = Field(default_factory=list, description="Third-party passages: never the force's")
    due: str | None = Field(None, description="The finding's due date as written, asked about in the draft")
    notes: list[str] = Field(default_factory=list, description="What a reviewer must know: 'nothing was found …'")

    @property
    def evidence(self) -> list[Evidence]:
        return [evidence for ask in self.asks for evidence in ask.evidence]

    @property
    def found_nothing(self) -> bool:
        return self.shape is not AnswerShape.OTHER_BODY and not self.evidence


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
    plan: Plan | None = None
    instruction_followed: bool | None = Field(
        None, description="None without an instruction; False when the engine could not (or did not) follow it"
    )
    marking: Classification = Field(
        Classification.OFFICIAL, description="The protective marking: the highest of the sources it drew on"
    )

    @model_validator(mode="after")
    def _marked_at_least_as_its_sources(self) -> Draft:
        # Never lower than a source shown with it, however the draft was built: the card quotes every source.
        self.marking = Classification.highest([self.marking, *(source.classification for source in self.sources)])
        return self

    @property
    def grounded(self) -> bool:
        return is_grounded(self.guard)


#: Guard findings that mean some of the text is not borne out by the evidence the draft was given.
UNGROUNDED = frozenset({GuardKind.NO_GROUNDING, GuardKind.UNSUPPORTED_SENTENCE})


def is_grounded(guard: list[GuardFinding]) -> bool:
    """Every statement is borne out by the finding or by evidence that passed the gate (a skeleton of
    placeholders states nothing, so it is grounded too)."""
    return not any(g.kind in UNGROUNDED for g in guard)


#: Notes the chain leaves when a reviewer's instruction was not followed. The store keeps a draft's notes but has no
#: column for `Draft.instruction_followed`, so the card reads these back (and shows them once, as its own line).
COMPOSER_CANNOT_FOLLOW = (
    "The fallback composer cannot rewrite to an instruction: it wrote the draft from the plan again."
)
MODEL_DID_NOT_FOLLOW = (
    "The instruction was not followed: the model's rewrite was not used, so the draft was written from the plan again."
)
SAME_TEXT = "This version is the same text as the one the instruction was given on."
#: What releases before these notes wrote in their place.
_LEGACY_CANNOT_FOLLOW = "The composer cannot follow instructions; it wrote the draft from the plan again."
INSTRUCTION_NOTES = frozenset({COMPOSER_CANNOT_FOLLOW, MODEL_DID_NOT_FOLLOW, SAME_TEXT, _LEGACY_CANNOT_FOLLOW})


def composer_could_not_follow(notes: list[str]) -> bool:
    return COMPOSER_CANNOT_FOLLOW in notes or _LEGACY_CANNOT_FOLLOW in notes


def instruction_followed(notes: list[str]) -> bool:
    """Whether a version drafted to an instruction followed it, as its notes record."""
    return not any(note in INSTRUCTION_NOTES for note in notes)
