"""The matters HMICFRS inspects, as words: a passage about one matter is no evidence on another.

Meaning alone confuses neighbours: "287 Domestic Violence Protection Orders" sits close to a recommendation on
stalking protection orders, an independent domestic violence adviser close to independent sexual violence
advisers. A passage that names a matter the finding does not (and none it does) is about something else,
however similar it sounds; a passage that names no matter at all is left to the relevance score.
"""

from __future__ import annotations

import re

_TERMS: dict[str, tuple[str, ...]] = {
    "domestic abuse": (r"domestic (?:abuse|violence)", r"\bDVPO", r"\bIDVA", r"coercive control", r"\bDASH\b"),
    "stalking": (r"stalk", r"\bSPOs?\b"),
    "rape and sexual offences": (r"\brape", r"sexual (?:offen|violence|assault)", r"\bRASSO\b", r"\bISVA"),
    "fraud": (r"\bfraud", r"\bscam", r"financial investigat", r"Action Fraud", r"cyber crime"),
    "custody": (r"\bcustody", r"\bdetain", r"\bdetention", r"appropriate adult"),
    "stop and search": (r"stop and search", r"use of force", r"body-worn"),
    "vetting and corruption": (r"\bvetting", r"corrupt", r"misconduct", r"professional standards", r"\bIOPC\b"),
    "missing people": (r"\bmissing\b", r"return (?:home )?interview", r"Herbert Protocol"),
    "child exploitation": (r"exploitation", r"county lines", r"child(?:ren)? (?:at risk|protection)"),
    "contact": (r"\b999\b", r"\b101\b", r"call handl", r"control room", r"contact (?:centre|management)"),
    "neighbourhood policing": (r"neighbourhood", r"community priorit", r"\bPCSOs?\b"),
    "crime recording": (r"crime recording", r"recorded crime", r"unrecorded", r"crime registrar", r"\bNCRS\b"),
    "firearms licensing": (r"firearms? licen", r"shotgun certificate", r"firearms certificate"),
    "drones": (r"\bdrones?\b", r"unmanned aer"),
    "wildlife and rural crime": (r"wildlife", r"rural crime", r"poaching"),
    "roads policing": (r"safety camera", r"collision", r"roads policing", r"speed enforcement"),
    "hate crime": (r"hate crime", r"\bhate incident"),
    "mental health": (r"mental health", r"Right Care,? Right Person", r"section 136"),
    "honour-based abuse": (r"honour-based", r"forced marriage", r"\bFGM\b", r"female genital"),
    "modern slavery": (r"modern slavery", r"labour exploitation", r"car wash", r"nail bar", r"Gangmasters"),
    "mounted and dog units": (r"\bmounted\b", r"\bhorses?\b", r"police dogs?"),
    "digital forensics": (r"digital (?:forensic|device)", r"mobile phones?", r"\bdevices?\b"),
}
_PATTERNS = {theme: re.compile("|".join(terms), re.IGNORECASE) for theme, terms in _TERMS.items()}


def themes_of(text: str) -> frozenset[str]:
    return frozenset(theme for theme, pattern in _PATTERNS.items() if pattern.search(text or ""))


def off_matter(passage: str, source_topic: str, finding: str, inspection_title: str = "") -> bool:
    """Whether a passage (or the matter its source answered) is about another matter than this finding.

    A finding's matters are those it or its inspection names; the inspection's own matters, when it names
    any, must be among the passage's whenever the passage names one (a firearms-licensing finding that
    mentions domestic abuse intelligence is not answered by the domestic abuse triage desk).
    """
    wanted = themes_of(finding) | themes_of(inspection_title)
    primary = themes_of(inspection_title)
    for text in (passage, source_topic):
        named = themes_of(text)
        if not named:
            continue
        if wanted and not named & wanted:
            return True
        if primary and not named & primary and text is passage:
            return True
    return False


def names_the_matter(passage: str, source_topic: str, finding: str, inspection_title: str = "") -> float:
    """1 when the passage or its source names one of the finding's matters, 0 when neither does; 0.5 when the
    finding names none (nothing to agree with)."""
    wanted = themes_of(finding) | themes_of(inspection_title)
    if not wanted:
        return 0.5
    return 1.0 if (themes_of(passage) | themes_of(source_topic)) & wanted else 0.0
