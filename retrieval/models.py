"""Domain records shared by every layer: documents, findings, precedents, chunks and search hits.

These are the pydantic models at the boundary of the retrieval layer. Higher layers (drafting,
tracker, bot) import them; this module imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class InspectionType(StrEnum):
    FORCE_SPECIFIC = "force-specific"
    NATIONAL_THEMATIC = "national thematic"
    JOINT = "joint"
    PEEL = "PEEL"
    UNKNOWN = "unknown"


class DocumentKind(StrEnum):
    PCC_RESPONSE = "pcc-response"
    FORCE_POSITION = "force-position"
    #: A progress update on a published recommendation, from the office's register: the force's latest position.
    REGISTER_UPDATE = "register-update"
    BOARD_PAPER = "board-paper"
    NEWS = "news"
    REPORT = "report"
    OTHER = "other"


class Office(StrEnum):
    PCC = "PCC"
    FORCE = "force"
    OTHER = "other"


class Classification(StrEnum):
    """Government Security Classification markings, lowest first."""

    OFFICIAL = "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"
    SECRET = "SECRET"
    TOP_SECRET = "TOP SECRET"

    @property
    def level(self) -> int:
        return list(Classification).index(self)

    @classmethod
    def parse(cls, text: str) -> Classification:
        """'official-sensitive', 'OFFICIAL SENSITIVE', 'top_secret' → the marking; ValueError naming the choices."""
        key = "-".join(text.replace("_", " ").replace("-", " ").upper().split())
        for marking in cls:
            if marking.value.replace(" ", "-") == key:
                return marking
        choices = ", ".join(marking.value for marking in cls)
        raise ValueError(f"{text.strip()!r} is not a security classification; use one of {choices}.")

    @classmethod
    def highest(cls, markings: Iterable[Classification]) -> Classification:
        """The highest of `markings`; OFFICIAL when there are none (everything is at least OFFICIAL)."""
        return max(markings, key=lambda marking: marking.level, default=cls.OFFICIAL)


class FindingKind(StrEnum):
    RECOMMENDATION = "recommendation"
    AREA_FOR_IMPROVEMENT = "area for improvement"
    CAUSE_OF_CONCERN = "cause of concern"


class Addressee(StrEnum):
    CHIEF_CONSTABLES = "chief constables"
    FORCE = "the force"
    PCCS = "PCCs"
    HOME_OFFICE = "Home Office"
    COLLEGE_OF_POLICING = "College of Policing"
    NPCC = "NPCC"
    MOJ = "Ministry of Justice"
    DFE = "Department for Education"
    CPS = "CPS"
    OTHER = "other body"


#: Addressees whose recommendations the force itself must act on.
FORCE_ADDRESSEES = frozenset({Addressee.CHIEF_CONSTABLES, Addressee.FORCE})


class Finding(BaseModel):
    """One recommendation, area for improvement or cause of concern, as the report words it."""

    model_config = ConfigDict(frozen=True)

    number: str | None = Field(None, description="As printed: '2', '3.5'; None for an unnumbered AFI")
    kind: FindingKind = FindingKind.RECOMMENDATION
    text: str = Field(..., min_length=1, description="Verbatim text of the finding")
    due: str | None = Field(None, description="Stated due date as written: 'By 31 December 2024'")
    addressees: tuple[Addressee, ...] = ()

    @property
    def label(self) -> str:
        kind = self.kind.value.capitalize()
        return f"{kind} {self.number}" if self.number else kind


class Precedent(BaseModel):
    """A past answer to one finding: the pairing the drafting engine learns wording from."""

    finding: Finding
    response: str
    classification: Classification | None = Field(
        None, description="This answer's own marking, when it differs from its document's (a learned answer)"
    )


class DocumentMeta(BaseModel):
    """What we know about a source document, from its sidecar, the command line or its header."""

    doc_id: str = Field(..., description="Stable id: the file stem for the bundled corpus")
    title: str = ""
    force: str = Field("", description="The police force the document is about, e.g. 'Northumbria'")
    office: Office = Office.PCC
    inspection_title: str = ""
    inspection_type: InspectionType = InspectionType.UNKNOWN
    published: date | None = Field(None, description="Date HMICFRS published the inspection report")
    response_date: date | None = None
    classification: Classification = Classification.OFFICIAL
    kind: DocumentKind = DocumentKind.PCC_RESPONSE
    source: str = Field("", description="Where the document came from (path or URL)")


class ResponseHeader(BaseModel):
    """The header table of a response, with values exactly as written."""

    inspection_title: str = ""
    inspection_type: InspectionType = InspectionType.UNKNOWN
    published_as_written: str = ""
    deadline_as_written: str = ""
    recommendations_scope: str = Field("", description="'national', 'local', or '' when not stated")


class ParsedDocument(BaseModel):
    meta: DocumentMeta
    header: ResponseHeader | None = None
    comments: list[str] = Field(default_factory=list, description="General comments, paragraph by paragraph")
    precedents: list[Precedent] = Field(default_factory=list)
    context: list[str] = Field(
        default_factory=list, description="Paragraphs kept as background only (news, narrative letters)"
    )


class ChunkSection(StrEnum):
    PRECEDENT = "precedent"
    COMMENTS = "comments"
    CONTEXT = "context"


class Chunk(BaseModel):
    """One indexed unit. `id` is a content hash, so re-ingesting the same text is a no-op."""

    id: str
    doc_id: str
    section: ChunkSection
    text: str = Field(..., description="Text that is embedded and keyword-indexed")
    finding_number: str | None = None
    finding_kind: FindingKind | None = None
    recommendation: str = ""
    response: str = ""
    meta: DocumentMeta


class SearchFilters(BaseModel):
    force: str | None = None
    exclude_doc_ids: tuple[str, ...] = ()
    inspection_type: InspectionType | None = None
    kind: DocumentKind | None = None
    published_from: date | None = None
    published_to: date | None = None
    max_classification: Classification = Classification.OFFICIAL


class SearchHit(BaseModel):
    chunk: Chunk
    score: float = Field(..., description="Fused reciprocal-rank score (higher is better)")
    similarity: float | None = Field(None, description="Cosine similarity of the dense match, if any")
    dense_rank: int | None = None
    keyword_rank: int | None = None
