"""Read a whole HMICFRS report (text from `retrieval.loaders.read_text`) into its list of findings.

Layouts recognised, in any mix:
- a label on its own line, the finding in the next paragraph: "Recommendation 1" / "Area for
  improvement 2" / "Cause of concern";
- a label with the finding after it: "Recommendation 3: By 31 December 2024, all chief constables …"
  (or in brackets, as responses quote them: "**Recommendation 2** (By …)");
- a section heading ("Recommendations", "Areas for improvement", "Causes of concern") followed by
  the findings as paragraphs, bullets or a numbered list ("1. We recommend …");
- "N. We recommend …" / "3.1 We recommend …" anywhere;
- a cause of concern followed by its recommendation(s): both are kept, as separate findings.

A lead-in that ends with a colon ("Within three months, the force should:") keeps its bullet points:
they are one finding, because the due date and the addressee live in the lead-in. A list of
complete sentences under a heading is one finding per item. A finding repeated in a summary and in
the body (same kind, same words) is kept once, at its first place, with the number from whichever
copy printed one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, Field

from retrieval.dates import read_date
from retrieval.documents import parse_header, plain
from retrieval.findings import detect_addressees, extract_due, make_finding
from retrieval.loaders import clean_text
from retrieval.models import Addressee, Finding, FindingKind, InspectionType


class Report(BaseModel):
    """An inspection report as far as drafting needs it."""

    title: str = ""
    inspection_type: InspectionType = Field(InspectionType.UNKNOWN, description="A guess from the text")
    published: date | None = None
    findings: list[Finding] = Field(default_factory=list)


class NoFindingsError(ValueError):
    """The text holds no recognisable finding; the message tells the user what to do instead."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"No recommendations, areas for improvement or causes of concern were found in {name}; "
            "paste the recommendation text instead"
        )


def parse_report(text: str, name: str = "the report") -> Report:
    """Every finding of the report, in order. Raise `NoFindingsError` when there is none."""
    cleaned = clean_text(text)
    header, body = parse_header(cleaned)
    blocks = _blocks(body)
    raw = _dedupe(_Reader(blocks).findings())
    if not raw:
        raise NoFindingsError(name)
    inspection_type = header.inspection_type if header else InspectionType.UNKNOWN
    if inspection_type is InspectionType.UNKNOWN:
        inspection_type = _guess_type(cleaned, raw)
    findings = [
        make_finding(item.text, number=item.number, kind=item.kind, inspection_type=inspection_type) for item in raw
    ]
    title = header.inspection_title if header and header.inspection_title else _title(blocks)
    return Report(title=title, inspection_type=inspection_type, published=_published(cleaned), findings=findings)


# --- blocks ------------------------------------------------------------------------------------------

_KINDS = {
    "recommendation": FindingKind.RECOMMENDATION,
    "recommendations": FindingKind.RECOMMENDATION,
    "area for improvement": FindingKind.AREA_FOR_IMPROVEMENT,
    "areas for improvement": FindingKind.AREA_FOR_IMPROVEMENT,
    "cause of concern": FindingKind.CAUSE_OF_CONCERN,
    "causes of concern": FindingKind.CAUSE_OF_CONCERN,
}
_KIND_WORDS = r"(?P<kind>recommendations?|areas?\s+for\s+improvement|causes?\s+of\s+concern)"
# "Recommendation 3: …", "Area for improvement 2", "Cause of concern", "**Recommendation 2** (…)"
_LABEL = re.compile(
    r"^(?:(?:summary\s+of|our|the)\s+)?" + _KIND_WORDS + r"(?:\s+(?P<number>\d+(?:\.\d+)?))?"
    r"\s*(?P<sep>[:.\-–—]?)\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_ITEM = re.compile(r"^(?P<number>\d{1,2}\.\d{1,2}|\d{1,2}(?=[.)]))[.)]?\s+(?P<rest>\S.*)$", re.DOTALL)
# Page furniture that PDF extraction leaves between a label and its text.
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s+of\s+\d{1,4})?$", re.IGNORECASE)
# Where a cause of concern's own text stops and its recommendation starts, when both share a box.
_COC_TO_RECOMMENDATION = re.compile(
    r"(?<=[.!?])\s+(?=(?:To\s+address\s+this|In\s+order\s+to\s+address|We\s+recommend|HMICFRS\s+recommends)\b)",
    re.IGNORECASE,
)
_WE_RECOMMEND = re.compile(r"^we\s+recommend\b", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[•▪◦●‣∙]|[-*](?=\s))\s*")
_MD_HEADING = re.compile(r"^\s*#{1,6}\s")
_FINDING_WORDS = re.compile(
    r"\b(?:should|must|needs?\s+to|recommend|is\s+to|are\s+to|has\s+to|have\s+to|isn['’]t|doesn['’]t"
    r"|is\s+not|does\s+not|has\s+not|have\s+not)\b",
    re.IGNORECASE,
)


@dataclass
class _Block:
    text: str
    kind: FindingKind | None = None  # set for a label or section heading
    number: str | None = None
    plural: bool = False  # a section heading ("Recommendations"), not a single label
    same_paragraph: bool = False  # the text block continues the paragraph its label opened
    heading: bool = False  # a Markdown heading: ends a section, never part of a finding


@dataclass
class _Raw:
    number: str | None
    kind: FindingKind
    text: str


def _blocks(body: str) -> list[_Block]:
    """Paragraphs, with labels and section headings split out onto blocks of their own."""
    blocks: list[_Block] = []
    for paragraph in re.split(r"\n\s*\n", body):
        lines: list[str] = []
        after_label = False
        for line in paragraph.split("\n"):
            text = plain(line)
            if not text or _PAGE_NUMBER.match(text):
                continue
            label = _label(text)
            if label is None and _MD_HEADING.match(line):
                _flush(blocks, lines, after_label)
                blocks.append(_Block(text, heading=True))
                after_label = False
                continue
            if label is None:
                lines.append(text)
                continue
            _flush(blocks, lines, after_label)
            blocks.append(label)
            # Lines after a label in the same paragraph are its finding (PDFs often keep no gap).
            lines, after_label = ([label.text] if label.text else []), True
            label.text = ""
        _flush(blocks, lines, after_label)
    return blocks


def _flush(blocks: list[_Block], lines: list[str], after_label: bool) -> None:
    """Emit the lines as blocks: one per numbered item, bullets kept on their own lines."""
    current = ""
    for line in lines:
        starts_item = _ITEM.match(line) is not None and line[line.find(" ") + 1 :][:1].isupper()
        if current and starts_item and current.endswith((".", ":", ";")):
            blocks.append(_Block(_finish(current), same_paragraph=after_label))
            current, after_label = line, False
        elif current:
            current += ("\n" if _BULLET.match(line) else " ") + line
        else:
            current = line
    if current:
        blocks.append(_Block(_finish(current), same_paragraph=after_label))
    lines.clear()


def _finish(text: str) -> str:
    # A finding quoted in brackets after its label ("**Recommendation 2** (By …)") may span lines.
    return _unbracket(text) if text.startswith("(") else text


def _label(line: str) -> _Block | None:
    match = _LABEL.match(line)
    if match is None:
        return None
    kind_words = " ".join(match.group("kind").lower().split())
    plural = kind_words in {"recommendations", "areas for improvement", "causes of concern"}
    rest = match.group("rest").strip()
    if rest and not rest.startswith("(") and not (match.group("sep") and _looks_like_finding(rest)):
        return None  # prose that happens to start with the word: "Recommendation 2 was accepted"
    if plural and match.group("number"):
        return None
    return _Block(rest, kind=_KINDS[kind_words], number=match.group("number"), plural=plural and not rest)


def _unbracket(text: str) -> str:
    """Text inside the leading bracket, nested brackets kept: "(… (a … initiative) type …)"."""
    depth = 0
    for index, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0:
            return text[1:index].strip()
    return text[1:].strip()


def _looks_like_finding(text: str) -> bool:
    return len(text.split()) >= 5 and (bool(_FINDING_WORDS.search(text)) or extract_due(text[:60]) is not None)


# --- reading findings out of blocks ------------------------------------------------------------------


class _Reader:
    def __init__(self, blocks: list[_Block]) -> None:
        self.blocks = blocks
        self.index = 0

    def findings(self) -> list[_Raw]:
        found: list[_Raw] = []
        section: FindingKind | None = None
        while self.index < len(self.blocks):
            block = self.blocks[self.index]
            self.index += 1
            if block.kind is not None:
                section = block.kind if block.plural else None
                if not block.plural:
                    found.extend(self._labelled(block))
                if found and found[-1].kind is FindingKind.CAUSE_OF_CONCERN:
                    found.extend(self._paired_recommendation())
                continue
            if section is not None and not block.heading and _looks_like_finding(block.text):
                found.extend(self._items(block, section))
                continue
            section = None
            item = _ITEM.match(block.text)
            if item and _WE_RECOMMEND.match(item.group("rest")):
                text = self._with_continuations(item.group("rest"))
                found.append(_Raw(item.group("number"), FindingKind.RECOMMENDATION, text))
        return found

    def _labelled(self, label: _Block) -> list[_Raw]:
        """A single label: its finding is the text after it, or the next paragraph."""
        if self.index >= len(self.blocks) or self.blocks[self.index].kind is not None:
            return []
        block = self.blocks[self.index]
        # The label says what follows is a finding; only a heading or a fragment is refused.
        short = len(block.text.split()) < 5 or _is_heading(block.text)
        if block.heading or (not block.same_paragraph and short):
            return []
        self.index += 1
        kind = label.kind or FindingKind.RECOMMENDATION
        text = self._with_continuations(block.text)
        if kind is FindingKind.CAUSE_OF_CONCERN:
            concern, *recommendation = _COC_TO_RECOMMENDATION.split(text, maxsplit=1)
            if recommendation:
                return [
                    _Raw(label.number, kind, concern),
                    _Raw(None, FindingKind.RECOMMENDATION, recommendation[0]),
                ]
        return [_Raw(label.number, kind, text)]

    def _paired_recommendation(self) -> list[_Raw]:
        """The recommendation that follows a cause of concern without a heading of its own
        ("To address this cause of concern, we recommend that the force should: …")."""
        if self.index >= len(self.blocks):
            return []
        block = self.blocks[self.index]
        if block.kind is not None or block.heading or not re.search(r"\brecommend", block.text, re.IGNORECASE):
            return []
        self.index += 1
        return [_Raw(None, FindingKind.RECOMMENDATION, self._with_continuations(block.text))]

    def _items(self, block: _Block, kind: FindingKind) -> list[_Raw]:
        """The findings in one block under a section heading: a numbered item, bullets, or a paragraph."""
        item = _ITEM.match(block.text)
        if item:
            return [_Raw(item.group("number"), kind, self._with_continuations(item.group("rest")))]
        lines = block.text.split("\n")
        if len(lines) > 1 and all(_BULLET.match(line) for line in lines) and not lines[0].endswith(":"):
            return [_Raw(None, kind, _BULLET.sub("", line)) for line in lines if _looks_like_finding(line)]
        return [_Raw(None, kind, self._with_continuations(_BULLET.sub("", block.text, count=1)))]

    def _with_continuations(self, text: str) -> str:
        """Absorb the paragraphs that finish this finding: bullets after a colon, or a lowercase start
        (a paragraph split by a page break)."""
        while self.index < len(self.blocks):
            block = self.blocks[self.index]
            if block.kind is not None or block.heading:
                break
            bullet = bool(_BULLET.match(block.text))
            lowercase = block.text[:1].islower()
            if not (((text.rstrip().endswith(":") or _is_list(text)) and bullet) or lowercase):
                break
            text += ("\n" if bullet else " ") + block.text
            self.index += 1
        return text


def _is_heading(text: str) -> bool:
    return "\n" not in text and not text.rstrip().endswith((".", ":", ";", ",", "?", "!"))


def _is_list(text: str) -> bool:
    """A lead-in followed by at least one bullet already: more bullets belong to it."""
    lines = text.split("\n")
    return len(lines) > 1 and lines[0].rstrip().endswith(":") and bool(_BULLET.match(lines[-1]))


def _dedupe(found: list[_Raw]) -> list[_Raw]:
    kept: dict[tuple[FindingKind, str], _Raw] = {}
    for item in found:
        key = (item.kind, re.sub(r"[^a-z0-9]+", "", item.text.lower()))
        if key not in kept:
            kept[key] = item
        elif kept[key].number is None and item.number is not None:
            kept[key].number = item.number
    return list(kept.values())


# --- report metadata ---------------------------------------------------------------------------------

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\s+\d{{4}}"
_PUBLISHED = re.compile(
    r"\b(?:date\s+(?:inspection\s+|report\s+)?published|publication\s+date|published)\b"
    rf"[^.\n]{{0,120}}?(?P<date>{_DATE})",
    re.IGNORECASE,
)
_NATIONAL = frozenset(set(Addressee) - {Addressee.FORCE, Addressee.OTHER})


def _published(text: str) -> date | None:
    match = _PUBLISHED.search(text)
    if match is None:
        return None
    return read_date(match.group("date"))


def _guess_type(text: str, found: list[_Raw]) -> InspectionType:
    top = text[:3000]
    if re.search(r"\bPEEL\b", top):
        return InspectionType.PEEL
    if re.search(r"\bjoint\s+(?:targeted\s+area\s+)?inspection\b|\bJTAI\b", top, re.IGNORECASE):
        return InspectionType.JOINT
    addressees = {a for item in found for a in detect_addressees(item.text)}
    if addressees & _NATIONAL:
        return InspectionType.NATIONAL_THEMATIC
    if Addressee.FORCE in addressees:
        return InspectionType.FORCE_SPECIFIC
    return InspectionType.UNKNOWN


def _title(blocks: list[_Block]) -> str:
    for block in blocks:
        if block.kind is not None:
            return ""
        first = block.text.split("\n")[0].strip()
        if first:
            return first[:200]
    return ""
