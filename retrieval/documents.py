"""Turn the text of a past response into a structured record: header, comments, precedents, context.

Shapes recognised (corpus/ holds one of each):
- a header table ("Inspection title<TAB>…", "Type of inspection" with a ticked box, dates, national/local);
- labelled findings with the finding in brackets, then the response: "**Recommendation 2** (By …)";
  a label with the finding after a colon or alone on its line, the finding in the next paragraph,
  is accepted too;
- numbered recommendations with a labelled response: "3.1 We recommend … / Force response: …";
- a narrative letter with no per-finding answers: its paragraphs become comments;
- news (by `meta.kind`): every paragraph is context, never a comment or precedent; an inspection
  report (kind `report`) likewise, less its headings: it states findings but answers none.

Prose before the first finding and after the last answer is the office's comment for a PCC response
or force position, and background (`context`) for every other kind (board papers, reports …).

Headings, sign-offs and table rows are layout, not comments: they are dropped from comments and from
responses. A Markdown heading inside a response (seed 003 has "## violence reduction unit" in the
middle of its answer about Hydrant training) is a sidebar or running header carried over by the
conversion, so it is dropped rather than allowed to end or pollute the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.dates import read_date
from retrieval.findings import make_finding
from retrieval.loaders import CHECKED, clean_text
from retrieval.models import (
    DocumentKind,
    DocumentMeta,
    FindingKind,
    InspectionType,
    Office,
    ParsedDocument,
    Precedent,
    ResponseHeader,
)

_COMMENT_KINDS = frozenset({DocumentKind.PCC_RESPONSE, DocumentKind.FORCE_POSITION})


def parse_document(text: str, meta: DocumentMeta) -> ParsedDocument:
    """Parse a past response (or news item, board paper …) into header, comments, precedents, context."""
    cleaned = clean_text(text)
    if meta.kind == DocumentKind.NEWS:
        return ParsedDocument(meta=meta, context=[plain(p) for p in paragraphs(cleaned)])
    if meta.kind == DocumentKind.REPORT:
        # A report states findings but answers none: the text after a finding is not a response.
        return ParsedDocument(meta=meta, context=_prose(cleaned))
    header, body = parse_header(cleaned)
    body = _cut_sign_off(body)
    answered = _find_answers(body, meta.inspection_type)
    if answered is None:
        before, precedents, after = body, [], ""
    else:
        before, precedents, after = answered
    document = ParsedDocument(meta=meta, header=header, precedents=precedents)
    prose = _prose(before) + _prose(after)
    if meta.kind in _COMMENT_KINDS:
        document.comments = prose
    else:
        document.context = prose
    return document


# --- paragraphs --------------------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[•▪◦●‣∙]|[-*](?=\s))\s*")
_MD_HEADING = re.compile(r"^\s*#{1,6}\s")
_EMPHASIS = re.compile(r"\*\*|__")
_SIGN_OFF = re.compile(
    r"^\s*(?:Yours\s+(?:sincerely|faithfully)|Kind\s+regards|Best\s+regards)\b", re.IGNORECASE | re.MULTILINE
)
_NUMBERED_TITLE = re.compile(r"^\d+(?:\.\d+)*\.?\s+[A-Z][^.]*:?$")
_SHORT_HEADING_WORDS = 6


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, hard-wrapped lines re-joined; bulleted lines keep their own line."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        joined = lines[0]
        for line in lines[1:]:
            joined += ("\n" if _BULLET.match(line) or "\t" in line else " ") + line
        blocks.append(joined)
    return blocks


def plain(paragraph: str) -> str:
    """Drop Markdown emphasis and heading marks; show table cells as "label — value"."""
    text = _EMPHASIS.sub("", paragraph)
    text = re.sub(r"^\s*#{1,6}\s*", "", text)
    return re.sub(r"[ ]*\t+[ ]*", " — ", text).strip()


def is_heading(paragraph: str) -> bool:
    """A title or section heading rather than prose."""
    if _MD_HEADING.match(paragraph) or re.fullmatch(r"\s*\*\*[^*]+\*\*\s*", paragraph):
        return True
    text = plain(paragraph)
    words = text.split()
    if not words or "\n" in text:
        return not words
    letters = [c for c in text if c.isalpha()]
    if len(words) >= 2 and sum(c.isupper() for c in letters) > 0.7 * len(letters):
        return True  # "NORTHUMBRIA PCC RESPONSE TO HMICFRS"
    if _NUMBERED_TITLE.match(text) and len(words) <= 9:
        return True  # "1. Purpose", "3. Force response to the national recommendations:"
    return len(words) <= _SHORT_HEADING_WORDS and not text.endswith((".", "!", "?", ";", ","))


def _prose(text: str, *, answer: bool = False) -> list[str]:
    """The prose paragraphs of `text`: no table rows, no headings; a lone bullet mark is dropped.

    In an answer only Markdown headings count as headings: a short reply such as "Action complete"
    is the answer, not a title.
    """
    out: list[str] = []
    for paragraph in paragraphs(text):
        heading = bool(_MD_HEADING.match(paragraph)) if answer else is_heading(paragraph)
        if heading or "\t" in paragraph:
            continue
        if "\n" not in paragraph:
            paragraph = _BULLET.sub("", paragraph, count=1)
        out.append(plain(paragraph))
    return out


def _cut_sign_off(text: str) -> str:
    """Drop "Yours sincerely", the name and the title under it, and anything after."""
    match = _SIGN_OFF.search(text)
    if match is None:
        return text
    # A table after the signature (contact officers, references) is still part of the record.
    tail = [line for line in text[match.end() :].split("\n") if "\t" in line]
    return text[: match.start()] + "\n\n" + "\n".join(tail)


# --- header table ------------------------------------------------------------------------------------

_HEADER_LABELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("title", re.compile(r"inspection\s+title\b", re.IGNORECASE)),
    ("type", re.compile(r"type\s+of\s+inspection\b", re.IGNORECASE)),
    ("published", re.compile(r"date\s+(?:of\s+)?(?:the\s+)?(?:inspection\s+|report\s+)?published\b", re.I)),
    ("deadline", re.compile(r"deadline\b", re.IGNORECASE)),
    ("scope", re.compile(r"recommendations\b", re.IGNORECASE)),
)
_TICKED = re.compile(re.escape(CHECKED) + r"\s*([^\[\t]+)")
_HEADER_ZONE_END_WORDS = 20


@dataclass
class _Row:
    field: str
    label: str
    cells: list[str] = field(default_factory=list)


def parse_header(text: str) -> tuple[ResponseHeader | None, str]:
    """Find the response header table near the top; return it and the text without its rows.

    `text` must already be `clean_text`-ed. Values are kept as written; only the inspection type and
    the national/local scope are read, from whichever boxes are ticked.
    """
    rows: list[_Row] = []
    kept: list[str] = []
    in_zone, last_was_row = True, False
    for line in text.split("\n"):
        row = _header_row(line) if in_zone else None
        if row is not None:
            rows.append(row)
            last_was_row = True
            continue
        if last_was_row and _continues_label(line):
            # Seed 003 wraps a label: "Deadline for PCC<TAB>2nd February 2024" / "response (56 days)".
            rows[-1].label += " " + line.strip()
            continue
        last_was_row = False
        if len(line.split()) > _HEADER_ZONE_END_WORDS and "\t" not in line:
            in_zone = False  # the header sits above the letter's prose
        kept.append(line)
    if not rows:
        return None, text
    values: dict[str, str] = {}
    for row in rows:
        values.setdefault(row.field, " ".join(row.cells))
    header = ResponseHeader(
        inspection_title=values.get("title", ""),
        inspection_type=ticked_type(values.get("type", "")),
        published_as_written=values.get("published", ""),
        deadline_as_written=values.get("deadline", ""),
        recommendations_scope=_ticked_scope(values.get("scope", "")),
    )
    return header, "\n".join(kept)


def _header_row(line: str) -> _Row | None:
    if "\t" in line:
        cells = [cell.strip() for cell in line.split("\t") if cell.strip()]
    elif ":" in line:
        label, _, value = line.partition(":")
        cells = [label.strip(), value.strip()] if value.strip() else []
    else:
        return None
    if not cells:
        return None
    label = _EMPHASIS.sub("", cells[0]).strip()
    for name, pattern in _HEADER_LABELS:
        if pattern.match(label) and len(label.split()) <= 8:
            return _Row(field=name, label=label, cells=cells[1:])
    return None


def _continues_label(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and stripped[0].islower() and len(stripped.split()) <= 6 and "\t" not in line


def ticked_type(value: str) -> InspectionType:
    """The inspection type whose box is ticked ("[ ] Northumbria-specific [x] National Thematic")."""
    for option in _TICKED.findall(value):
        found = _type_from_words(option)
        if found is not InspectionType.UNKNOWN:
            return found
    return InspectionType.UNKNOWN


def _type_from_words(words: str) -> InspectionType:
    lowered = words.lower()
    if "peel" in lowered:
        return InspectionType.PEEL
    if "joint" in lowered or "jtai" in lowered:
        return InspectionType.JOINT
    if "thematic" in lowered or "national" in lowered:
        return InspectionType.NATIONAL_THEMATIC
    if "specific" in lowered or "force" in lowered:
        return InspectionType.FORCE_SPECIFIC
    return InspectionType.UNKNOWN


def _ticked_scope(value: str) -> str:
    ticked = [option.strip().lower() for option in _TICKED.findall(value)]
    scopes = [scope for scope in ("national", "local") if any(scope in option for option in ticked)]
    return " and ".join(scopes)


# --- findings and their answers ----------------------------------------------------------------------

_KIND_WORDS = {
    "recommendation": FindingKind.RECOMMENDATION,
    "area for improvement": FindingKind.AREA_FOR_IMPROVEMENT,
    "cause of concern": FindingKind.CAUSE_OF_CONCERN,
}
# "**Recommendation 2** (", "Area for Improvement:", "## Recommendation 3" — at the start of a line.
_LABELLED = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*"
    r"(?P<kind>recommendation|area\s+for\s+improvement|cause\s+of\s+concern)"
    r"(?:[ \t]+(?P<number>\d+(?:\.\d+)?))?[ \t]*(?:\*\*|__)?[ \t]*(?P<sep>[:.\-–—]?)[ \t]*(?P<rest>.*)$",
    re.IGNORECASE | re.MULTILINE,
)
# "3.1 We recommend that …" — the numbered style of a board paper quoting a report.
_NUMBERED = re.compile(r"^[ \t]*(?P<number>\d+\.\d+)\.?[ \t]+(?P<rest>We\s+recommend\b.*)$", re.M | re.I)
_RESPONSE_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:(?:force|pcc|constabulary|chief\s+constable['’]?s?|our|the)\s+)?(?:response|position)"
    r"(?:\s+statement)?(?:\*\*)?\s*[:\-–—]\s*",
    re.IGNORECASE,
)
# Where the last answer ends and the letter resumes in the PCC's own voice.
_CLOSING = re.compile(
    r"^\s*(?:I\s+will\s+(?:continue\s+to\s+)?(?:monitor|keep|scrutinise)|I\s+will\s+continue\b|In\s+conclusion\b"
    r"|Overall,?\s+I\b)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class _Span:
    start: int
    end: int
    number: str | None
    kind: FindingKind
    text: str


def _find_answers(body: str, inspection_type: InspectionType) -> tuple[str, list[Precedent], str] | None:
    """Split `body` into (text before, precedents, text after), or None when no finding is labelled."""
    spans = _labelled_spans(body) or _numbered_spans(body)
    if not spans:
        return None
    precedents: list[Precedent] = []
    after = ""
    for index, span in enumerate(spans):
        limit = spans[index + 1].start if index + 1 < len(spans) else len(body)
        answer = body[span.end : limit]
        if index + 1 == len(spans):
            answer, after = _split_closing(answer)
        finding = make_finding(span.text, number=span.number, kind=span.kind, inspection_type=inspection_type)
        response = "\n\n".join(_prose(_RESPONSE_LABEL.sub("", answer.strip(), count=1), answer=True))
        precedents.append(Precedent(finding=finding, response=response))
    return body[: spans[0].start], precedents, after


def _labelled_spans(body: str) -> list[_Span]:
    spans: list[_Span] = []
    for match in _LABELLED.finditer(body):
        if spans and match.start() < spans[-1].end:
            continue  # a label quoted inside the previous finding's brackets
        kind = _KIND_WORDS[" ".join(match.group("kind").lower().split())]
        rest_start = match.start("rest")
        rest = match.group("rest")
        if rest.startswith("("):
            close = _closing_bracket(body, rest_start)
            if close is None:
                continue
            spans.append(_Span(match.start(), close + 1, match.group("number"), kind, body[rest_start + 1 : close]))
        elif rest.strip() and match.group("sep"):
            spans.append(_Span(match.start(), match.end(), match.group("number"), kind, rest.strip()))
        elif not rest.strip():
            span = _next_paragraph_span(body, match, kind)
            if span is not None:
                spans.append(span)
    return spans


def _next_paragraph_span(body: str, match: re.Match[str], kind: FindingKind) -> _Span | None:
    """A label alone on its line: the finding is the next paragraph."""
    following = re.search(r"\S.*?(?=\n\s*\n|\Z)", body[match.end() :], re.DOTALL)
    if following is None:
        return None
    text = following.group(0)
    if _LABELLED.match(text) or is_heading(text):
        return None
    end = match.end() + following.end()
    return _Span(match.start(), end, match.group("number"), kind, " ".join(text.split()))


def _closing_bracket(text: str, opening: int) -> int | None:
    """Index of the bracket closing the one at `opening`, counting nested pairs."""
    depth = 0
    for index in range(opening, len(text)):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


def _numbered_spans(body: str) -> list[_Span]:
    spans: list[_Span] = []
    for match in _NUMBERED.finditer(body):
        # The finding runs to the end of its paragraph; the response follows.
        tail = re.search(r"\n\s*\n|\Z", body[match.start("rest") :])
        end = match.start("rest") + (tail.start() if tail else len(body))
        text = body[match.start("rest") : end]
        spans.append(_Span(match.start(), end, match.group("number"), FindingKind.RECOMMENDATION, text))
    return spans


def _split_closing(answer: str) -> tuple[str, str]:
    """Split the last answer from what follows it: the PCC's closing words or a trailing table."""
    cut = len(answer)
    closing = _CLOSING.search(answer)
    if closing:
        cut = closing.start()
    table = re.search(r"^[^\n]*\t", answer, re.MULTILINE)
    if table:
        cut = min(cut, table.start())
    return answer[:cut], answer[cut:]


# --- metadata from the text itself -------------------------------------------------------------------

_FORCE_NAME = re.compile(
    r"\b(?:PCC|Police\s+and\s+Crime\s+Commissioner|Commissioner)\s+for\s+(?P<a>[A-Z][\w&' -]+?)\b(?=[\s,.]|$)"
    r"|(?P<b>[A-Z][a-z]+(?:\s+(?:and\s+)?[A-Z][a-z]+)*)\s+(?:Police|Constabulary)\b"
    r"|(?P<c>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)-specific\b",
)
_NOT_FORCE_WORDS = frozenset({"The", "National", "British", "All", "Our", "Your", "Every", "Each", "Local"})
_QUOTED_TITLE = re.compile(r"HMICFRS['’]?s?\s+[“\"‘]([^”\"’\n]{10,200})[”\"’]")
_PUBLISHED_ON = re.compile(r"\bpublished\b[^.\n]{0,200}?\bon\s+(?P<date>\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4})")
_MEMO_DATE = re.compile(r"^\s*Date:\s*(?P<date>\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4})\s*$", re.M)
_NEWS_DATELINE = re.compile(r"^\s*(?P<date>[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s+\d{4})\s*$", re.MULTILINE)
_NEWS_BYLINE = re.compile(r"^\s*By\s+[A-Z][a-z]+(?:\s+[A-Z][\w'-]+)+\s*$", re.MULTILINE)
_BOARD_MEMO = re.compile(r"^\s*To:\s*.*\b(?:Board|Panel|Committee)\b.*$", re.IGNORECASE | re.MULTILINE)


def infer_meta(text: str, doc_id: str, source: str = "") -> DocumentMeta:
    """Best-effort metadata from the text, for documents without a sidecar. Flags given on the
    command line override these values; anything not found is left at its default."""
    cleaned = clean_text(text)
    header, _ = parse_header(cleaned)
    kind, office = _infer_kind(cleaned)
    title = header.inspection_title if header else _quoted_title(cleaned)
    inspection_type = header.inspection_type if header else InspectionType.UNKNOWN
    # The Northumbria form has only "force-specific" and "national thematic" boxes, so a joint
    # inspection of the local area is ticked as force-specific; its title says what it really is.
    if re.search(r"\bjoint\b|\bJTAI\b", title, re.IGNORECASE):
        inspection_type = InspectionType.JOINT
    elif inspection_type is InspectionType.UNKNOWN:
        inspection_type = _type_from_title(title)
    published = read_date(header.published_as_written) if header else None
    response_date = None
    if kind is DocumentKind.NEWS:
        dateline = _NEWS_DATELINE.search(cleaned)
        published = read_date(dateline.group("date")) if dateline else None
    elif published is None:
        published_on = _PUBLISHED_ON.search(cleaned)
        published = read_date(published_on.group("date")) if published_on else None
    if kind is DocumentKind.BOARD_PAPER and (memo := _MEMO_DATE.search(cleaned)):
        response_date = read_date(memo.group("date"))
    return DocumentMeta(
        doc_id=doc_id,
        title=_first_line(cleaned) if kind is DocumentKind.NEWS else title,
        force=_infer_force(cleaned),
        office=office,
        inspection_title=title,
        inspection_type=inspection_type,
        published=published,
        response_date=response_date,
        kind=kind,
        source=source,
    )


def _infer_kind(text: str) -> tuple[DocumentKind, Office]:
    top = text[:1500]
    if _NEWS_DATELINE.search(top) and _NEWS_BYLINE.search(top):
        return DocumentKind.NEWS, Office.OTHER
    if _BOARD_MEMO.search(top):
        return DocumentKind.BOARD_PAPER, Office.FORCE
    if re.search(r"\bPCC\b|Police\s+and\s+Crime\s+Commissioner", text) or re.search(
        r"\bresponse\b", top, re.IGNORECASE
    ):
        return DocumentKind.PCC_RESPONSE, Office.PCC
    return DocumentKind.OTHER, Office.OTHER


def _infer_force(text: str) -> str:
    counts: dict[str, int] = {}
    for match in _FORCE_NAME.finditer(text):
        name = next(group for group in match.groups() if group)
        name = " ".join(word.capitalize() if word.isupper() else word for word in name.split())
        if name.split()[0] in _NOT_FORCE_WORDS:
            continue
        counts[name] = counts.get(name, 0) + 1
    return max(counts, key=lambda name: counts[name]) if counts else ""


def _quoted_title(text: str) -> str:
    match = _QUOTED_TITLE.search(text)
    return " ".join(match.group(1).split()) if match else ""


def _type_from_title(title: str) -> InspectionType:
    if not title:
        return InspectionType.UNKNOWN
    if re.search(r"\bPEEL\b", title):
        return InspectionType.PEEL
    if re.search(r"\bthematic\b|\bnational\b", title, re.IGNORECASE):
        return InspectionType.NATIONAL_THEMATIC
    return InspectionType.UNKNOWN


def _first_line(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return plain(line)
    return ""
