"""Policing acronyms and their long forms, so a search for one finds text that uses the other.

Responses mix the two freely ("child sexual exploitation (CSE)" in one paragraph, "CSE" alone in the next,
only the long form in another office's paper). Neither embeddings nor BM25 reliably link them, so queries
and the keyword text of chunks are expanded with the other form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

#: acronym → long forms (the first is the canonical one added on expansion). Acronyms match case-sensitively
#: ("DA", "MET" are ordinary words in lower case); long forms match case-insensitively, with hyphens or spaces
#: between words and an optional plural.
GLOSSARY: dict[str, tuple[str, ...]] = {
    "ACC": ("assistant chief constable",),
    "AFI": ("area for improvement", "areas for improvement"),
    "ASB": ("anti-social behaviour",),
    "CCE": ("child criminal exploitation",),
    "CPD": ("continuing professional development",),
    "CPS": ("Crown Prosecution Service",),
    "CSA": ("child sexual abuse",),
    "CSE": ("child sexual exploitation",),
    "DA": ("domestic abuse",),
    "DE&I": ("diversity, equity and inclusion", "diversity equity and inclusion", "diversity and inclusion"),
    "DfE": ("Department for Education",),
    "ECH": ("ethnicity and cultural heritage", "ethnic identity and cultural heritage"),
    "FGM": ("female genital mutilation",),
    "HBV": ("honour-based violence",),
    "HMIC": ("Her Majesty's Inspectorate of Constabulary",),
    "HMICFRS": (
        "His Majesty's Inspectorate of Constabulary and Fire & Rescue Services",
        "Her Majesty's Inspectorate of Constabulary and Fire and Rescue Services",
        "Inspectorate of Constabulary and Fire and Rescue Services",
    ),
    "HMI": ("His Majesty's Inspector", "Her Majesty's Inspector"),
    "ICPC": ("initial child protection conference",),
    "JTAI": ("joint targeted area inspection",),
    "LSP": ("local safeguarding partnership", "safeguarding children partnership"),
    "MASH": ("multi-agency safeguarding hub",),
    "MET": ("missing exploited trafficked",),
    "MFH": ("missing from home",),
    "MoJ": ("Ministry of Justice",),
    "MSET": ("missing sexually exploited trafficked", "missing, sexually exploited and trafficked"),
    "NCPI": ("national child protection inspection",),
    "NPCC": ("National Police Chiefs' Council", "National Police Chiefs Council"),
    "NPT": ("neighbourhood policing team",),
    "PCC": ("Police and Crime Commissioner",),
    "PEEL": (
        "police effectiveness efficiency and legitimacy",
        "police effectiveness, efficiency and legitimacy",
    ),
    "PVP": ("protecting vulnerable people",),
    "RMS": ("records management system", "record management system"),
    "VAWG": ("violence against women and girls",),
    "VRU": ("violence reduction unit",),
}


@dataclass(frozen=True)
class _Term:
    acronym: str
    long_form: str
    acronym_re: re.Pattern[str]
    long_res: tuple[re.Pattern[str], ...]


def _long_form_pattern(long_form: str) -> re.Pattern[str]:
    words = re.findall(r"[\w'&]+", long_form)
    # Words may be joined by spaces, hyphens or punctuation ("multi agency", "honour based"), the last word
    # may be plural, and "&" / "and" are interchangeable.
    parts = [r"(?:&|and)" if w.lower() in {"&", "and"} else re.escape(w) for w in words]
    body = r"[\s\-,]+".join(parts)
    return re.compile(rf"(?<![\w]){body}(?:s|es)?(?![\w])", re.IGNORECASE)


def _acronym_pattern(acronym: str) -> re.Pattern[str]:
    # Plural acronyms ("AFIs", "RMSs") count too; no letters or '&' may touch either side.
    return re.compile(rf"(?<![\w&]){re.escape(acronym)}s?(?![\w&])")


@cache
def _terms() -> tuple[_Term, ...]:
    return tuple(
        _Term(
            acronym=acronym,
            long_form=long_forms[0],
            acronym_re=_acronym_pattern(acronym),
            long_res=tuple(_long_form_pattern(form) for form in long_forms),
        )
        for acronym, long_forms in GLOSSARY.items()
    )


def expansions(text: str) -> list[str]:
    """The other form of every acronym or long form in `text` that the text does not already contain."""
    added: list[str] = []
    for term in _terms():
        has_acronym = bool(term.acronym_re.search(text))
        has_long = any(pattern.search(text) for pattern in term.long_res)
        if has_acronym and not has_long:
            added.append(term.long_form)
        elif has_long and not has_acronym:
            added.append(term.acronym)
    return added


def expand_query(text: str) -> str:
    """`text` followed by the other form of each acronym / long form it uses, e.g.
    "problem profile for CSE" → "problem profile for CSE (child sexual exploitation)"."""
    added = expansions(text)
    return f"{text} ({'; '.join(added)})" if added else text
