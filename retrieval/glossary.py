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


def _long_form_pattern(long_form: str) -> str:
    words = re.findall(r"[\w'&]+", long_form)
    # Words may be joined by spaces, hyphens or commas ("multi agency", "honour based"), and "&" and
    # "and" are interchangeable.
    parts = [r"(?:&|and)" if w.lower() in {"&", "and"} else re.escape(w) for w in words]
    return r"[\s\-,]+".join(parts)


@dataclass(frozen=True)
class _Matchers:
    """Fast matching, because every chunk of a 100k-chunk index is expanded when the keyword index is
    rebuilt: one pass over the words of the text, a dictionary look-up per word, and a long form's regex
    tried only where a word that starts it occurs."""

    long_forms_by_first_word: dict[str, list[tuple[re.Pattern[str], str]]]


# Words, keeping '&' inside them so "DE&I" is one token.
_TOKEN = re.compile(r"[\w&]+")


@cache
def _matchers() -> _Matchers:
    by_first: dict[str, list[tuple[re.Pattern[str], str]]] = {}
    forms = [(form, acronym) for acronym, long_forms in GLOSSARY.items() for form in long_forms]
    for form, acronym in sorted(forms, key=lambda pair: len(pair[0]), reverse=True):
        first = re.match(r"\w+", form).group(0).casefold()  # type: ignore[union-attr]
        # Long forms match case-insensitively, the last word optionally plural.
        pattern = re.compile(rf"{_long_form_pattern(form)}(?:s|es)?(?!\w)", re.IGNORECASE)
        by_first.setdefault(first, []).append((pattern, acronym))
    return _Matchers(by_first)


def _acronym(token: str) -> str | None:
    """The glossary acronym `token` is (case-sensitively), allowing a plural: "AFIs" → "AFI"."""
    if token in GLOSSARY:
        return token
    if token.endswith("s") and token[:-1] in GLOSSARY:
        return token[:-1]
    return None


def expansions(text: str) -> list[str]:
    """The other form of every acronym or long form in `text` that the text does not already contain."""
    by_first = _matchers().long_forms_by_first_word
    acronyms: set[str] = set()
    spelled: set[str] = set()
    for token in _TOKEN.finditer(text):
        word = token.group(0)
        if acronym := _acronym(word):
            acronyms.add(acronym)
        for pattern, long_acronym in by_first.get(word.casefold(), ()):
            if long_acronym not in spelled and pattern.match(text, token.start()):
                spelled.add(long_acronym)
    added = [GLOSSARY[acronym][0] for acronym in sorted(acronyms - spelled)]
    added += sorted(spelled - acronyms)
    return added


def expand_query(text: str) -> str:
    """`text` followed by the other form of each acronym / long form it uses, e.g.
    "problem profile for CSE" → "problem profile for CSE (child sexual exploitation)"."""
    added = expansions(text)
    return f"{text} ({'; '.join(added)})" if added else text


def aliases() -> dict[str, str]:
    """Each acronym → its canonical long form, and each long form → its acronym (for checks that accept
    either spelling of a name, such as the drafting guard)."""
    mapping: dict[str, str] = {}
    for acronym, long_forms in GLOSSARY.items():
        mapping[acronym] = long_forms[0]
        for form in long_forms:
            mapping[form] = acronym
    return mapping
