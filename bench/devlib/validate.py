"""Re-check the development library, its gold findings and report_20 (see README.md).

Run from the repository root with the project's virtual environment:

    .venv/bin/python bench/devlib/validate.py

Standard library plus the project's own parsers only. Prints every problem and a summary of the
counts, and exits 1 if there is any problem, 0 otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from drafting.report import parse_report  # noqa: E402
from retrieval.documents import parse_document  # noqa: E402
from retrieval.findings import detect_addressees  # noqa: E402
from retrieval.models import Addressee, DocumentMeta, InspectionType  # noqa: E402

LIBRARY = HERE / "library"
FINDINGS = HERE / "findings.json"
REPORT = HERE / "report_20.txt"

SIDECAR_FIELDS = [
    "force",
    "office",
    "inspection_title",
    "inspection_type",
    "published",
    "response_date",
    "classification",
    "kind",
    "title",
    "source",
]
SOURCE = "fictional development library"
OWN, DISTRACTOR = "Aldermoor", "Brackenshire"
REQUIRED_THEMES = {
    "stop and search",
    "domestic abuse",
    "stalking",
    "vetting and counter-corruption",
    "custody",
    "crime data integrity",
    "fraud",
    "missing people",
    "call handling",
    "neighbourhood policing",
    "RASSO",
}
FINDING_KINDS = {"recommendation", "area for improvement", "cause of concern"}
INSPECTION_TYPES = {"force-specific", "national thematic", "joint", "PEEL"}
ADDRESSEE_CLASSES = {"force", "pcc", "other"}
# Words that are never distinctive enough to be a key on their own.
GENERIC = {
    "training",
    "the force",
    "force",
    "review",
    "audit",
    "panel",
    "team",
    "unit",
    "victims",
    "officers",
    "the constabulary",
    "police",
    "recommendation",
    "supervisors",
    "risk assessment",
    "stalking",
    "custody",
}
MIN_WORDS, MAX_WORDS = 380, 1600
# Themes of the no-evidence findings: the own force's documents must say nothing about them.
NO_EVIDENCE_TERMS = {
    "drones": ["drone"],
    "wildlife crime": ["wildlife"],
    "mounted police": ["mounted", "horse"],
    "firearms licensing": ["firearms"],
    "road safety cameras": ["safety camera"],
    "online hate crime": ["hate crime"],
    "modern slavery": ["car wash", "nail bar", "gangmasters", "modern slavery"],
    "mental health": ["mental health", "right care"],
    "honour-based abuse": ["honour", "forced marriage"],
}

# Labels of answered findings, counted independently of the project's parser.
ANSWER_LABELS = re.compile(
    r"^(?:\*\*(?:Recommendation|Area for improvement|Cause of concern)\b[^*\n]*\*\*\s*\("
    r"|(?:Recommendation|Area for improvement|Cause of concern)\s+\d+:\s"
    r"|#{1,6}\s*(?:Recommendation|Area for improvement|Cause of concern)\s+\d+\s*$"
    r"|\d+\.\d+\s+We recommend\b)",
    re.IGNORECASE | re.MULTILINE,
)
LEAK_INTO_ANSWER = re.compile(r"Yours sincerely|I will monitor|Overall, I\b|Contact Officers", re.IGNORECASE)

problems: list[str] = []


def problem(message: str) -> None:
    problems.append(message)


def norm(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split()).lower()


def addressee_class(addressees: tuple[Addressee, ...]) -> str:
    if any(a in (Addressee.CHIEF_CONSTABLES, Addressee.FORCE) for a in addressees):
        return "force"
    if Addressee.PCCS in addressees:
        return "pcc"
    return "other" if addressees else "unknown"


# --- library -----------------------------------------------------------------------------------------


def load_library() -> dict[str, dict]:
    docs: dict[str, dict] = {}
    texts = sorted(LIBRARY.glob("*.txt"))
    sidecars = {p.name[: -len(".meta.json")] for p in LIBRARY.glob("*.meta.json")}
    for stem in sidecars - {p.stem for p in texts}:
        problem(f"{stem}.meta.json has no text file")
    for path in texts:
        stem = path.stem
        side = LIBRARY / f"{stem}.meta.json"
        if not side.exists():
            problem(f"{path.name}: no sidecar")
            continue
        raw = json.loads(side.read_text(encoding="utf-8"))
        if list(raw) != SIDECAR_FIELDS:
            problem(f"{side.name}: fields {list(raw)} differ from the corpus sidecars {SIDECAR_FIELDS}")
        if raw.get("source") != SOURCE:
            problem(f"{side.name}: source must be {SOURCE!r}")
        try:
            meta = DocumentMeta(doc_id=stem, **raw)
        except Exception as exc:  # pydantic.ValidationError, reported as a problem
            problem(f"{side.name}: not a valid DocumentMeta: {exc}")
            continue
        text = path.read_text(encoding="utf-8")
        docs[stem] = {"meta": meta, "raw": raw, "text": text, "norm": norm(text)}
    return docs


def check_documents(docs: dict[str, dict]) -> dict[str, object]:
    stale_before = date(2023, 12, 1)
    own = {k: d for k, d in docs.items() if d["meta"].force == OWN and d["meta"].kind.value != "news"}
    dis = {k: d for k, d in docs.items() if d["meta"].force == DISTRACTOR}
    news = {k: d for k, d in docs.items() if d["meta"].kind.value == "news"}
    formats: dict[str, Counter] = {OWN: Counter(), DISTRACTOR: Counter()}
    for stem, d in docs.items():
        meta, text = d["meta"], d["text"]
        words = len(text.split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            problem(f"{stem}: {words} words, outside {MIN_WORDS}–{MAX_WORDS}")
        parsed = parse_document(text, meta)
        d["parsed"] = parsed
        d["indexed"] = norm(" ".join([p.response for p in parsed.precedents] + parsed.comments + parsed.context))
        expected = len(ANSWER_LABELS.findall(text))
        kind = meta.kind.value
        if kind == "news":
            fmt = "news"
            if parsed.precedents or parsed.comments or not parsed.context:
                problem(f"{stem}: news must parse to context only")
        elif expected == 0:
            fmt = "narrative letter"
            if parsed.precedents or not parsed.comments:
                problem(
                    f"{stem}: narrative letter should give comments and no precedents "
                    f"({len(parsed.precedents)} precedents, {len(parsed.comments)} comments)"
                )
        else:
            fmt = {
                "pcc-response": "PCC response with header table",
                "board-paper": "board paper",
                "force-position": "force position statement",
            }.get(kind, kind)
            if len(parsed.precedents) != expected:
                problem(f"{stem}: {expected} answered findings in the text but {len(parsed.precedents)} precedents")
            for precedent in parsed.precedents:
                if not precedent.response.strip():
                    problem(f"{stem}: empty answer to {precedent.finding.label}")
                if LEAK_INTO_ANSWER.search(precedent.response):
                    problem(f"{stem}: closing words leak into the answer to {precedent.finding.label}")
            if kind == "pcc-response" and (parsed.header is None or not parsed.header.inspection_title):
                problem(f"{stem}: PCC response without a header table")
        if kind == "board-paper" and "Force response:" not in text:
            problem(f"{stem}: board paper without 'Force response:' labels")
        if meta.force in formats:
            formats[meta.force][fmt] += 1
        d["format"] = fmt
    # Counts and spread.
    if len(own) < 14:
        problem(f"only {len(own)} own-force documents (need ≥ 14)")
    if len(dis) < 7:
        problem(f"only {len(dis)} distractor documents (need ≥ 7)")
    if not 1 <= len([k for k in news if docs[k]["meta"].force == OWN]) <= 2:
        problem("need one or two news documents about Aldermoor")
    needed = {"PCC response with header table", "board paper", "force position statement", "narrative letter"}
    for force in (OWN, DISTRACTOR):
        missing = needed - set(formats[force])
        if missing:
            problem(f"{force}: formats missing: {sorted(missing)}")
    own_boards = [d["text"] for d in own.values() if d["meta"].kind.value == "board-paper"]
    if not any("Force response: The force" in t for t in own_boards):
        problem("no Aldermoor board paper in the 'The force …' voice")
    if not any("Force response: We " in t for t in own_boards):
        problem("no Aldermoor board paper in the 'We …' voice")
    old = [k for k, d in own.items() if d["meta"].published and d["meta"].published < stale_before]
    if len(old) < 3:
        problem(f"only {len(old)} own-force documents published before {stale_before}")
    years = sorted({d["meta"].published.year for d in own.values() if d["meta"].published})
    if years[0] > 2019 or years[-1] < 2026:
        problem(f"own-force publication years {years} do not span 2019–2026")
    sensitive = [k for k, d in own.items() if d["meta"].classification.value != "OFFICIAL"]
    if len(sensitive) != 1 or docs[sensitive[0]]["meta"].classification.value != "OFFICIAL-SENSITIVE":
        problem(f"exactly one own-force OFFICIAL-SENSITIVE document expected, found {sensitive}")
    if any(d["meta"].classification.value != "OFFICIAL" for k, d in docs.items() if k not in own):
        problem("only the own-force canary document may be above OFFICIAL")
    return {"own": own, "distractor": dis, "news": news, "formats": formats, "old": old, "sensitive": sensitive}


# --- facts and findings ------------------------------------------------------------------------------


def check_facts(gold: dict, docs: dict[str, dict], report_text: str) -> None:
    facts = gold["facts"]
    finding_texts = [norm(f["text"]) for f in gold["findings"]]
    own_official = [d for d in docs.values() if d["meta"].force == OWN and d["meta"].classification.value == "OFFICIAL"]
    report_norm = norm(report_text)
    # The bundled demo corpus (the seeds) may be indexed beside the library: keys must not occur there.
    corpus_norm = " ".join(norm(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "corpus").glob("*.txt")))
    for fid, fact in facts.items():
        doc = docs.get(fact["doc_id"])
        if doc is None:
            problem(f"{fid}: unknown document {fact['doc_id']}")
            continue
        meta = doc["meta"]
        for field, value in (
            ("force", meta.force),
            ("classification", meta.classification.value),
            ("kind", meta.kind.value),
            ("published", str(meta.published)),
        ):
            if fact.get(field) != value:
                problem(f"{fid}: {field} {fact.get(field)!r} but the sidecar says {value!r}")
        sentence = norm(fact["sentence"])
        if sentence not in doc["norm"]:
            problem(f"{fid}: sentence not found in {fact['doc_id']}")
        if sentence not in doc["indexed"]:
            problem(f"{fid}: sentence not in any parsed answer, comment or context of {fact['doc_id']}")
        keys = fact["keys"]
        if not 1 <= len(keys) <= 3:
            problem(f"{fid}: {len(keys)} keys (need 1–3)")
        for key in keys:
            k = norm(key)
            if k in GENERIC or len(k) < 5 or re.fullmatch(r"(19|20)\d\d", k):
                problem(f"{fid}: key {key!r} is too generic")
            if k not in sentence:
                problem(f"{fid}: key {key!r} not in its sentence")
            elsewhere = [s for s, d in docs.items() if s != fact["doc_id"] and k in d["norm"]]
            if elsewhere:
                problem(f"{fid}: key {key!r} also occurs in {elsewhere}")
            if k in corpus_norm:
                problem(f"{fid}: key {key!r} occurs in the bundled corpus")
            if k in report_norm or any(k in t for t in finding_texts):
                problem(f"{fid}: key {key!r} occurs in a finding's own wording")
            if fact["force"] != OWN or fact["classification"] != "OFFICIAL":
                leaks = [d["meta"].doc_id for d in own_official if k in d["norm"]]
                if leaks:
                    problem(f"{fid}: distractor/sensitive key {key!r} occurs in Aldermoor OFFICIAL {leaks}")
    canary = gold["canary"]
    c = facts.get(canary["fact"])
    if c is None or c["classification"] != "OFFICIAL-SENSITIVE" or canary["phrase"] not in c["keys"]:
        problem("canary fact missing or not OFFICIAL-SENSITIVE")
    holders = [s for s, d in docs.items() if norm(canary["phrase"]) in d["norm"]]
    if holders != [canary["doc_id"]]:
        problem(f"canary phrase found in {holders}, expected only {canary['doc_id']}")


def check_findings(gold: dict, docs: dict[str, dict]) -> Counter:
    facts, findings = gold["facts"], gold["findings"]
    stale_before = gold["stale_before"]
    counts: Counter = Counter()
    ids = [f["id"] for f in findings]
    if len(set(ids)) != len(ids):
        problem("duplicate finding ids")
    if len(findings) < 44:
        problem(f"only {len(findings)} findings (need ≥ 44)")
    referenced: set[str] = set()
    distractor_themes = {f["theme"] for f in facts.values() if f["force"] == DISTRACTOR}
    stale_relevant = recent_relevant = 0
    for f in findings:
        fid = f["id"]
        for field in (
            "inspection",
            "inspection_type",
            "kind",
            "number",
            "text",
            "addressee",
            "theme",
            "asks",
            "relevant",
            "forbidden",
            "no_evidence",
        ):
            if field not in f:
                problem(f"{fid}: missing field {field}")
        if f["kind"] not in FINDING_KINDS:
            problem(f"{fid}: kind {f['kind']!r}")
        if f["inspection_type"] not in INSPECTION_TYPES:
            problem(f"{fid}: inspection_type {f['inspection_type']!r}")
        if f["addressee"] not in ADDRESSEE_CLASSES:
            problem(f"{fid}: addressee {f['addressee']!r}")
        detected = addressee_class(detect_addressees(f["text"], InspectionType(f["inspection_type"])))
        if detected != f["addressee"]:
            problem(f"{fid}: gold addressee {f['addressee']!r} but the project's rules read {detected!r}")
        counts[f"addressee:{f['addressee']}"] += 1
        counts[f"kind:{f['kind']}"] += 1
        counts[f"theme:{f['theme']}"] += 1
        rel, forb = f["relevant"], f["forbidden"]
        referenced |= set(rel) | set(forb)
        for x in rel + forb:
            if x not in facts:
                problem(f"{fid}: unknown fact {x}")
        if set(rel) & set(forb):
            problem(f"{fid}: facts both relevant and forbidden: {set(rel) & set(forb)}")
        if any(x not in facts for x in rel + forb):
            continue
        for x in rel:
            fx = facts[x]
            if fx["force"] != OWN or fx["classification"] != "OFFICIAL" or fx["kind"] == "news":
                problem(f"{fid}: relevant fact {x} is not an own-force OFFICIAL position")
        if f["no_evidence"]:
            counts["no_evidence"] += 1
            if rel:
                problem(f"{fid}: no_evidence but relevant facts listed")
            terms = NO_EVIDENCE_TERMS.get(f["theme"])
            if terms is None:
                problem(f"{fid}: no-evidence theme {f['theme']!r} has no terms in NO_EVIDENCE_TERMS")
            for term in terms or []:
                holders = [s for s, d in docs.items() if d["meta"].force == OWN and term in d["norm"]]
                if holders:
                    problem(f"{fid}: no-evidence theme term {term!r} occurs in own-force {holders}")
        elif f["addressee"] in ("force", "pcc") and not 1 <= len(rel) <= 4:
            problem(f"{fid}: {len(rel)} relevant facts (need 1–4)")
        elif f["addressee"] == "other" and rel:
            problem(f"{fid}: other-body finding lists relevant facts")
        if not forb:
            problem(f"{fid}: no forbidden facts")
        if not any(facts[x]["force"] == OWN and facts[x]["theme"] != f["theme"] for x in forb):
            problem(f"{fid}: forbidden has no own-force fact from an unrelated theme")
        if f["theme"] in distractor_themes and not any(
            facts[x]["force"] == DISTRACTOR and facts[x]["theme"] == f["theme"] for x in forb
        ):
            problem(f"{fid}: forbidden lacks the distractor force's facts on {f['theme']}")
        if f["theme"] == "vetting and counter-corruption" and gold["canary"]["fact"] not in forb:
            problem(f"{fid}: vetting finding without the canary in forbidden")
        asks = f["asks"]
        if not 1 <= len(asks) <= 4:
            problem(f"{fid}: {len(asks)} asks (need 1–4)")
        union: set[str] = set()
        for ask in asks:
            if not 2 <= len(ask.get("keywords", [])) <= 5:
                problem(f"{fid}: ask {ask.get('ask')!r} has {len(ask.get('keywords', []))} keywords (need 2–5)")
            union |= set(ask.get("relevant", []))
        if union != set(rel):
            problem(f"{fid}: facts of the asks {sorted(union)} differ from relevant {sorted(rel)}")
        partial = bool(rel) and any(not a.get("relevant") for a in asks)
        if f.get("partial", False) != partial:
            problem(f"{fid}: partial flag should be {partial}")
        counts["partial"] += partial
        dates = [facts[x]["published"] for x in rel]
        stale_relevant += any(d < stale_before for d in dates)
        recent_relevant += any(d >= stale_before for d in dates)
    if set(facts) - referenced:
        problem(f"facts not referenced by any finding: {sorted(set(facts) - referenced)}")
    need = {
        "addressee:force": 30,
        "addressee:pcc": 5,
        "addressee:other": 6,
        "no_evidence": 9,
        "kind:cause of concern": 2,
        "partial": 3,
    }
    for key, minimum in need.items():
        if counts[key] < minimum:
            problem(f"{key}: {counts[key]} (need ≥ {minimum})")
    if stale_relevant < 5 or recent_relevant < 5:
        problem(f"relevant evidence should be both stale and recent ({stale_relevant} / {recent_relevant})")
    counts["findings with stale evidence"] = stale_relevant
    counts["findings with recent evidence"] = recent_relevant
    themes = {f["theme"] for f in facts.values() if f["force"] == OWN and f["classification"] == "OFFICIAL"}
    if REQUIRED_THEMES - themes:
        problem(f"own-force themes missing from the facts: {sorted(REQUIRED_THEMES - themes)}")
    return counts


def check_report(gold: dict, report_text: str) -> int:
    report = parse_report(report_text)
    if len(report.findings) != 20:
        problem(f"report_20 parses to {len(report.findings)} findings, not 20")
    by_id = {f["id"]: f for f in gold["findings"]}
    listed = gold["report_20"]["findings"]
    if len(listed) != 20:
        problem("findings.json report_20 must list 20 finding ids")
    for parsed, fid in zip(report.findings, listed, strict=False):
        g = by_id.get(fid)
        if g is None:
            problem(f"report_20 lists unknown finding {fid}")
            continue
        if norm(parsed.text) != norm(g["text"]):
            problem(f"report_20: {parsed.label} text differs from {fid}")
        if parsed.kind.value != g["kind"] or (parsed.number or "") != (g["number"] or ""):
            problem(f"report_20: {parsed.label} is {g['kind']} {g['number']} in findings.json ({fid})")
        if g["inspection"] != report.title or g["inspection_type"] != report.inspection_type.value:
            problem(f"{fid}: inspection/type differ from report_20's {report.title!r} / {report.inspection_type}")
    return len(report.findings)


def main() -> int:
    docs = load_library()
    info = check_documents(docs)
    gold = json.loads(FINDINGS.read_text(encoding="utf-8"))
    report_text = REPORT.read_text(encoding="utf-8")
    check_facts(gold, docs, report_text)
    counts = check_findings(gold, docs)
    n_report = check_report(gold, report_text)

    print(
        "documents:",
        len(docs),
        "| own force",
        len(info["own"]),
        "| distractor",
        len(info["distractor"]),
        "| news",
        len(info["news"]),
        "| own published before 2023-12-01:",
        len(info["old"]),
        "| OFFICIAL-SENSITIVE:",
        info["sensitive"],
    )
    for force, fmt in info["formats"].items():
        print(f"  {force}: " + ", ".join(f"{k} {v}" for k, v in sorted(fmt.items())))
    facts = gold["facts"]
    print(
        "facts:",
        len(facts),
        "|",
        dict(Counter(f["force"] + (" (news)" if f["kind"] == "news" else "") for f in facts.values())),
    )
    print(
        "findings:",
        len(gold["findings"]),
        "|",
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if not k.startswith("theme:")),
    )
    print("  themes:", ", ".join(f"{k[6:]} {v}" for k, v in sorted(counts.items()) if k.startswith("theme:")))
    print("report_20 findings parsed:", n_report)
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print(" -", p)
        return 1
    print("\nOK: no problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
