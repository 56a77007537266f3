"""Read a finding's wording: who it is addressed to and when it is due.

Shared by the corpus parser (past responses quote the findings they answer) and the report parser
(drafting.report). Pure functions over text; no I/O.

Addressee rules, in order:
1. Only the *subject* of the finding counts: the words before the verb that says what must be done
   ("should", "must", "undertake", "considers" …), after dropping a leading due date ("By 31 December
   2024,") and a lead-in ("We recommend that"). Bodies named later ("… the Home Office disruption
   toolkit") are objects, not addressees. Partners introduced with "jointly with", "working with",
   "in consultation with" … are not addressees either: the finding asks the subject to act.
2. Known bodies are matched in the subject and returned in the order written, without repeats.
   Plural "chief constables" / "forces" → CHIEF_CONSTABLES; one force ("the force", "the chief
   constable", "Northumbria Police", "the constabulary") → FORCE.
3. Any other organisation in the subject ("the relevant business user groups …", "the National
   Crime Agency") adds OTHER beside the known ones, so a joint recommendation keeps its co-addressee.
4. When the subject names nobody, the inspection type decides: a force-specific or PEEL report is
   about one force, so its findings are the force's → (FORCE,); otherwise the result is () — unknown,
   which the drafting layer treats as "ask the reviewer", never as "addressed to another body".
"""

from __future__ import annotations

import re

from retrieval.models import Addressee, Finding, FindingKind, InspectionType

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_NUMBER_WORD = r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|twenty-four)"
_DUE_PATTERNS = (
    # "By 31 December 2024", "by the end of March 2025", "By March 2025", "no later than 1 May 2024"
    r"\b(?:by|before|no\s+later\s+than)\s+(?:the\s+end\s+of\s+)?"
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+\d{{4}}",
    # "by the end of 2024"
    r"\bby\s+the\s+end\s+of\s+\d{4}",
    # "Within three months", "within 6 months of the publication of this report"
    rf"\bwithin\s+(?:the\s+next\s+)?{_NUMBER_WORD}\s+(?:days?|weeks?|months?|years?)"
    r"(?:\s+of\s+(?:the\s+)?(?:publication\s+of\s+)?(?:this|the)\s+report(?:'s\s+publication)?)?",
    r"\bwith\s+immediate\s+effect\b",
    r"\bimmediately\b",
)
_DUE = re.compile("|".join(f"(?:{p})" for p in _DUE_PATTERNS), re.IGNORECASE)

# A finding may open with its label, copied from the report ("Recommendation 3:", "AFI 2 –").
_LABEL = re.compile(
    r"^\s*(?:recommendation|area\s+for\s+improvement|cause\s+of\s+concern|afi)\s*[\d.]*\s*[:.\-–—)]?\s*",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(
    r"^[^.;]{0,80}?\brecommend(?:s|ed)?\s+that[\s,]+",
    re.IGNORECASE | re.DOTALL,
)
# Where the subject ends: a modal, a common action verb in the subjunctive ("We recommend that X
# undertake …"), or a phrase that introduces partners rather than addressees.
_SUBJECT_END = re.compile(
    r"\b(?:should|must|shall|will|would|could|can|cannot|(?-i:may)|needs?|requires?|is|are|was|were|has|have"
    r"|does|do|isn['’]t|aren['’]t|doesn['’]t|don['’]t|hasn['’]t|haven['’]t|can['’]t|wasn['’]t|weren['’]t"
    r"|jointly|together\s+with|working\s+with|in\s+(?:consultation|collaboration|partnership|conjunction)\s+with"
    r"|supported\s+by|with\s+(?:the\s+)?support\s+(?:of|from)|alongside"
    r"|(?:undertake|consider|take|review|develop|ensure|establish|work|make|publish|introduce|provide"
    r"|commission|carry|conduct|implement|improve|adopt|agree|issue|amend|assess|evaluate|produce|update"
    r"|engage|put|identify|seek|create|continue|share|prioritise|strengthen|explore|examine|monitor"
    r"|revise|extend|appoint)(?:s|es)?)\b",
    re.IGNORECASE,
)
_SUBJECT_CAP = 220

_KNOWN: tuple[tuple[Addressee, re.Pattern[str]], ...] = tuple(
    (addressee, re.compile(pattern, flags))
    for addressee, pattern, flags in (
        (Addressee.HOME_OFFICE, r"\bHome\s+Office\b|\bHome\s+Secretary\b", re.IGNORECASE),
        (Addressee.MOJ, r"\bMinistry\s+of\s+Justice\b", re.IGNORECASE),
        (Addressee.MOJ, r"\bMoJ\b", 0),
        (Addressee.DFE, r"\bDepartment\s+for\s+Education\b", re.IGNORECASE),
        (Addressee.DFE, r"\bDfE\b", 0),
        (Addressee.COLLEGE_OF_POLICING, r"\bCollege\s+of\s+Policing\b", re.IGNORECASE),
        (Addressee.NPCC, r"\bNational\s+Police\s+Chiefs['’]?\s+Council\b", re.IGNORECASE),
        (Addressee.NPCC, r"\bNPCC\b", 0),
        (Addressee.CPS, r"\bCrown\s+Prosecution\s+Service\b", re.IGNORECASE),
        (Addressee.CPS, r"\bCPS\b", 0),
        (
            Addressee.PCCS,
            r"\bpolice(?:,\s*fire)?\s+and\s+crime\s+commissioners?\b|\blocal\s+policing\s+bod(?:y|ies)\b"
            r"|\bmayor['’]?s\s+office\s+for\s+policing\s+and\s+crime\b",
            re.IGNORECASE,
        ),
        (Addressee.PCCS, r"\bP(?:F)?CCs?\b|\bMOPAC\b", 0),
        (
            Addressee.CHIEF_CONSTABLES,
            r"\bchief\s+(?:constables|officers)\b|\b(?:all|police|territorial|other|those|the)\s+forces\b"
            r"|^\s*forces\b",
            re.IGNORECASE,
        ),
        (
            Addressee.FORCE,
            r"\b(?:the\s+)?chief\s+constable\b|\bthe\s+force\b|\bthe\s+constabulary\b",
            re.IGNORECASE,
        ),
        # A named force: "Northumbria Police", "Thames Valley Police", "Cambridgeshire Constabulary".
        (Addressee.FORCE, r"\b(?:[A-Z][\w'’&-]*\s+){1,3}(?:Police|Constabulary)\b(?!\s+and\s+Crime)", 0),
    )
)
# Nouns that make an otherwise unknown phrase in the subject an organisation (rule 3).
_OTHER_BODY = re.compile(
    r"\b(?:groups?|bod(?:y|ies)|agenc(?:y|ies)|departments?|councils?|services?|authorit(?:y|ies)|government"
    r"|inspectorates?|boards?|partnerships?|partners|organisations?|commissions?|ministry|ministers?"
    r"|secretary\s+of\s+state|Ofsted|NCA|IOPC|HMPPS|NHS|CQC)\b",
    re.IGNORECASE,
)
_FORCE_SPECIFIC_TYPES = frozenset({InspectionType.FORCE_SPECIFIC, InspectionType.PEEL})


def extract_due(text: str) -> str | None:
    """Return the due date or timescale as written ("By 31 December 2024", "Within three months")."""
    match = _DUE.search(text)
    return " ".join(match.group(0).split()) if match else None


def split_finding(text: str) -> tuple[str | None, str]:
    """Split a leading due phrase from the rest: ("By 30 June 2024", "all chief constables should …").

    A due date that is not at the start is returned too, but the text is then left whole.
    """
    body = _LABEL.sub("", text.strip(), count=1)
    match = _DUE.match(body)
    if match is None:
        return extract_due(body), body
    rest = body[match.end() :].lstrip(" ,;:–—-")
    return " ".join(match.group(0).split()), rest


def subject_of(text: str) -> str:
    """The words naming who must act: after any due date and lead-in, before the verb."""
    body = _strip_due(_LABEL.sub("", text.strip(), count=1))
    # The lead-in may come before or after the due date: "We recommend that, by May 2025, the …".
    body = _strip_due(_LEAD_IN.sub("", body, count=1))
    end = _SUBJECT_END.search(body)
    subject = body[: end.start()] if end else body[:_SUBJECT_CAP]
    return subject.strip(" ,;:")


def _strip_due(text: str) -> str:
    text = text.lstrip(" ,;:")
    match = _DUE.match(text)
    return text[match.end() :].lstrip(" ,;:–—-") if match else text


def detect_addressees(text: str, inspection_type: InspectionType | None = None) -> tuple[Addressee, ...]:
    """Who the finding asks to act, in the order written; see the module docstring for the rules."""
    subject = subject_of(text)
    found: list[tuple[int, Addressee]] = []
    masked = subject
    for addressee, pattern in _KNOWN:
        for match in pattern.finditer(masked):
            found.append((match.start(), addressee))
        # Blank out what matched so "National Police Chiefs' Council" is not also read as a force.
        masked = pattern.sub(lambda m: " " * len(m.group(0)), masked)
    other = _OTHER_BODY.search(masked)
    if other:
        found.append((other.start(), Addressee.OTHER))
    ordered = tuple(dict.fromkeys(addressee for _, addressee in sorted(found, key=lambda item: item[0])))
    if ordered:
        return ordered
    if inspection_type in _FORCE_SPECIFIC_TYPES:
        return (Addressee.FORCE,)
    return ()


_BULLET_LINE = re.compile(r"^\s*(?:[•▪◦●‣∙]|[-*](?=\s)|\(?[a-z0-9]{1,3}[.)](?=\s))")


def normalise_text(text: str) -> str:
    """Re-join hard-wrapped lines and squeeze spaces, keeping each bullet or list item on its own line."""
    lines = [" ".join(line.split()) for line in text.strip().split("\n")]
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if out and not _BULLET_LINE.match(line):
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


def make_finding(
    text: str,
    *,
    number: str | None = None,
    kind: FindingKind = FindingKind.RECOMMENDATION,
    inspection_type: InspectionType | None = None,
) -> Finding:
    """Build a `Finding` from its verbatim text, reading its due date and addressees."""
    text = normalise_text(text)
    return Finding(
        number=number,
        kind=kind,
        text=text,
        due=extract_due(text),
        addressees=detect_addressees(text, inspection_type),
    )
