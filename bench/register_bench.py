"""Register: how well "already answered" finds a repeated recommendation, and what the card's lookup and the
owner reminder sweep cost as the register grows.

    .venv/bin/python -m bench register [--quick] [--json]

detection  `tracker.answered.similarity` on labelled pairs of real recommendations: every finding the project's
           own parsers read from corpus/ (`parse_document`), bench/devlib/library (the same), the sample reports
           of tests/support/report_samples.py (`parse_report`) and bench/devlib/findings.json. Positives: the same
           recommendation in two reports word for word (two forces answering one national inspection, a
           recommendation repeated by a later report), the same recommendation as two reports word it (abridged
           in a summary, re-issued in a later style; read and labelled by hand, LABELLED below), and re-issue
           variants generated from each real recommendation (a new leading timescale, the national wording
           turned force-specific, "We recommend that chief constables make …" as "… should make …", "With
           immediate effect" as a date). Negatives: every other pair of one report (same topic, another ask)
           and of different reports, and the same sentence with its subject swapped (SWAPPED). Pairs that add
           or narrow an ask (UNSURE) are scored and shown but counted on neither side. Precision and recall at
           THRESHOLD and at 0.75 / 0.80 / 0.90 / 0.95.
lookup     `repo.answered.of(finding_id)` (`earlier_answers`, called for each card) with 100, 1,000 and 3,000
           approved findings of other inspections in a migrated SQLite file: a finding that repeats one of them
           and a finding that repeats none. Median ms per lookup.
sweep      `repo.register_reminders.claim_due` with 100 and 1,000 owned register items (published inspections,
           each item assigned): the first sweep that claims every item, the sweep after (all claimed and sent:
           the steady state while they are due), and a sweep on a day none is due.

Setup (findings, drafts, approvals, publishing, assigning) goes through the repository API and is not timed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from drafting.report import parse_report
from retrieval.corpus import bundled_documents, load_sidecar
from retrieval.documents import parse_document
from retrieval.models import Finding
from tests.support import report_samples
from tests.support.store import FakeClock, draft
from tracker.answered import THRESHOLD, similarity
from tracker.repository import Repository

ROOT = Path(__file__).resolve().parent.parent
DEVLIB = ROOT / "bench" / "devlib"
THRESHOLDS = (0.75, 0.80, THRESHOLD, 0.90, 0.95)
REVIEWER = "U_REV"
LEAD = "U_LEAD"
OWNER = "U_OWNER"


@dataclass(frozen=True)
class Rec:
    """One recommendation as a report words it; `key` is "<source>#<number>"."""

    key: str
    report: str
    text: str


@dataclass(frozen=True)
class Pair:
    group: str
    same: bool | None  # None: scored and shown, counted on neither side
    a: Rec
    b: Rec


# ── detection ────────────────────────────────────────────────────────────────────────────────────────────

#: The same recommendation as two reports word it, read and labelled by hand (not word for word).
LABELLED = [
    ("cambridgeshire-child-protection-thematic-2019#3.1", "sample-NUMBERED#1"),  # abridged in the sample
    ("cambridgeshire-child-protection-thematic-2019#3.2", "sample-NUMBERED#2"),
    ("cambridgeshire-child-protection-thematic-2019#3.3", "sample-NUMBERED#3"),
    ("northumbria-group-based-cse-2023#2", "sample-THEMATIC#2"),
    ("northumbria-group-based-cse-2023#area for improvement", "sample-THEMATIC#area for improvement"),
    ("brackenshire-board-fraud-2019#3.1", "aldermoor-pcc-fraud-2025#1"),  # "We recommend …" re-issued in 2025
    ("brackenshire-board-fraud-2019#3.2", "aldermoor-pcc-fraud-2025#2"),
    ("brackenshire-board-fraud-2019#3.3", "aldermoor-pcc-fraud-2025#3"),
    ("brackenshire-board-fraud-2019#3.4", "aldermoor-pcc-fraud-2025#5"),
    ("aldermoor-pcc-contact-2025#2", "aldermoor-pcc-peel-2026#area for improvement 1"),
    ("aldermoor-pcc-peel-2026#area for improvement 4", "devlib-D11#4"),
    ("aldermoor-pcc-stop-search-2021#3", "devlib-D22#2"),
    ("aldermoor-position-rasso-2024#1", "devlib-D45#1"),
    ("aldermoor-pcc-vetting-2022#3", "devlib-D28#3"),
]
#: Related, but one adds or narrows an ask: whether a card should name it is the office's call.
UNSURE = [
    ("aldermoor-pcc-stop-search-2021#6", "devlib-D23#3"),
    ("aldermoor-pcc-custody-2020#2", "devlib-D06#5"),
    ("aldermoor-pcc-vetting-2022#10", "devlib-D27#2"),
    ("aldermoor-pcc-vetting-2022#7", "devlib-D26#1"),
    ("aldermoor-pcc-fraud-2025#1", "devlib-D33#1"),
    ("aldermoor-board-domestic-abuse-2024#3.1", "devlib-D04#3"),
    ("aldermoor-position-stalking-2022#1", "devlib-D41#1"),
    ("aldermoor-position-stalking-2022#2", "devlib-D42#2"),
    ("aldermoor-position-stalking-2022#3", "devlib-D08#1"),
    ("aldermoor-pcc-custody-2020#area for improvement 1", "devlib-D07#6"),
    ("aldermoor-position-rasso-2024#5", "devlib-D46#2"),
    ("aldermoor-pcc-contact-2025#1", "devlib-D48#1"),
    ("aldermoor-pcc-contact-2025#1", "brackenshire-pcc-peel-2025#area for improvement 1"),
    ("aldermoor-pcc-contact-2025#2", "brackenshire-pcc-peel-2025#area for improvement 1"),
    ("aldermoor-pcc-contact-2025#3", "devlib-D02#1"),
    ("aldermoor-pcc-peel-2026#area for improvement 1", "brackenshire-pcc-peel-2025#area for improvement 1"),
    ("aldermoor-pcc-peel-2026#area for improvement 2", "brackenshire-pcc-peel-2025#area for improvement 4"),
    ("brackenshire-pcc-peel-2025#area for improvement 4", "devlib-D10#3"),
    ("aldermoor-pcc-missing-2024#1", "devlib-D03#2"),
    ("aldermoor-pcc-missing-2024#1", "sample-PEEL#recommendation (2)"),
]
#: A real recommendation and the same sentence on another subject: a different recommendation.
SWAPPED = [
    ("aldermoor-board-domestic-abuse-2024#3.5", "victims of domestic abuse", "victims of stalking"),
    ("aldermoor-position-stalking-2022#1", "a specialist lead for stalking", "a specialist lead for domestic abuse"),
    ("aldermoor-pcc-stop-search-2021#6", "record every use of force", "record every stop and search"),
    ("northumbria-group-based-cse-2023#9", "victim-blaming language", "discriminatory language"),
    ("aldermoor-pcc-fraud-2025#2", "a fraud prevention capability", "a cyber crime prevention capability"),
    ("aldermoor-position-rasso-2024#1", "rape and serious sexual offences", "domestic abuse offences"),
    ("aldermoor-pcc-missing-2024#3", "go missing repeatedly", "are arrested repeatedly"),
    ("aldermoor-pcc-custody-2020#1", "healthcare professionals", "appropriate adults"),
]

_LEADING_TIME = re.compile(r"^(?:by|within)\b[^,]{0,40},\s*", re.IGNORECASE)
_NATIONAL = re.compile(r"^((?:by|within)\b[^,]{0,40},\s*)?(?:all\s+)?chief constables should\b", re.IGNORECASE)
_WE_RECOMMEND = re.compile(r"^We recommend that,?\s+(?:(by|within)\b([^,]{0,40}),\s*)?chief constables (?!should)")


def recommendations() -> list[Rec]:
    """Every finding the project's parsers read from the bundled corpus, the dev library and the samples."""
    recs: list[Rec] = []

    def add(source: str, report: str, number: str | None, kind: str, text: str) -> None:
        label = number if number and kind == "recommendation" else f"{kind} {number or ''}".strip()
        key, taken = f"{source}#{label}", {r.key for r in recs}
        key = next(k for n in itertools.count(1) if (k := key if n == 1 else f"{key} ({n})") not in taken)
        recs.append(Rec(key, report, " ".join(text.split())))

    documents = [(path, meta) for path, meta in bundled_documents()]
    for path in sorted((DEVLIB / "library").glob("*.txt")):
        meta = load_sidecar(path)
        assert meta is not None, path
        documents.append((path, meta))
    for path, meta in documents:
        for precedent in parse_document(path.read_text(encoding="utf-8"), meta).precedents:
            finding = precedent.finding
            add(path.stem, path.stem, finding.number, finding.kind.value, finding.text)
    for name in ("THEMATIC", "PEEL", "NUMBERED"):
        for finding in parse_report(getattr(report_samples, name)).findings:
            add(f"sample-{name}", f"sample-{name}", finding.number, finding.kind.value, finding.text)
    for item in json.loads((DEVLIB / "findings.json").read_text(encoding="utf-8"))["findings"]:
        add(f"devlib-{item['id']}", item["inspection"], item["number"], "recommendation", item["text"])
    return recs


def variants(rec: Rec) -> Iterator[tuple[str, str]]:
    """Re-issues of a real recommendation that ask the same: (what changed, the new wording)."""
    text = rec.text
    if _LEADING_TIME.match(text):
        yield "new timescale", _LEADING_TIME.sub("By 30 September 2026, ", text, count=1)
    elif text.startswith(("Chief constables should", "All chief constables should", "The force should")):
        yield "timescale added", "By 31 March 2025, " + text[0].lower() + text[1:]
    national = _NATIONAL.match(text)
    if national and " and " not in text[: national.end()]:
        timescale = "By 30 September 2026, the" if national.group(1) else "The"
        rest = text[national.end() :]
        rest = re.sub(r"\btheir forces\b", "the force", rest)
        rest = re.sub(r"\btheir\b", "its", rest)
        rest = re.sub(r"\bforces\b", "force", rest)
        yield "national made force-specific", f"{timescale} force should{rest}"
    we = _WE_RECOMMEND.match(text)
    if we:
        timescale = f"{we.group(1).capitalize()}{we.group(2)}, chief" if we.group(1) else "Chief"
        yield "'We recommend that …' restated", f"{timescale} constables should {text[we.end() :]}"
    if text.startswith("With immediate effect, "):
        yield "'With immediate effect' given a date", "By 31 March 2025, " + text[len("With immediate effect, ") :]


def pairs(recs: list[Rec]) -> list[Pair]:
    by_key = {r.key: r for r in recs}
    labelled = {frozenset(k) for k in LABELLED}
    unsure = {frozenset(k) for k in UNSURE}
    for key in itertools.chain.from_iterable(LABELLED + UNSURE):
        assert key in by_key, f"labelled pair names {key!r}, which no parser read"
    out: list[Pair] = []
    seen: set[frozenset[str]] = set()  # identical wordings (two forces answering one report) counted once

    def keep(group: str, same: bool | None, a: Rec, b: Rec) -> None:
        texts = frozenset((a.text, b.text)) if a.text != b.text else frozenset((a.text, "="))
        if texts not in seen:
            seen.add(texts)
            out.append(Pair(group, same, a, b))

    for a, b in itertools.combinations(recs, 2):
        ends = frozenset((a.key, b.key))
        if a.report == b.report:
            keep("negative: another recommendation of the same report", False, a, b)
        elif a.text == b.text:
            keep("positive: word for word in two reports", True, a, b)
        elif ends in labelled:
            keep("positive: reworded or abridged in another report (hand-labelled)", True, a, b)
        elif ends in unsure:
            keep("unsure: adds or narrows an ask (not counted)", None, a, b)
        else:
            keep("negative: a recommendation of another report", False, a, b)
    for rec in recs:
        for change, text in variants(rec):
            keep(f"positive: generated re-issue ({change})", True, rec, Rec(f"{rec.key} ({change})", "variant", text))
    for key, old, new in SWAPPED:
        rec = by_key[key]
        assert old in rec.text, (key, old)
        swapped = Rec(f"{key} (subject swapped)", "swapped", rec.text.replace(old, new))
        keep("negative: the same sentence on another subject (generated)", False, rec, swapped)
    return out


def detection(recs: list[Rec]) -> dict[str, object]:
    scored = [(pair, similarity(pair.a.text, pair.b.text)) for pair in pairs(recs)]
    counted = [(pair, score) for pair, score in scored if pair.same is not None]
    table = []
    for threshold in THRESHOLDS:
        tp = sum(1 for p, s in counted if p.same and s >= threshold)
        fp = sum(1 for p, s in counted if not p.same and s >= threshold)
        fn = sum(1 for p, s in counted if p.same and s < threshold)
        table.append(
            {
                "threshold": threshold,
                "precision": round(tp / (tp + fp), 3) if tp + fp else None,
                "recall": round(tp / (tp + fn), 3) if tp + fn else None,
                "tp": tp,
                "fp": fp,
                "fn": fn,
            }
        )
    groups: dict[str, dict[str, object]] = {}
    for pair, score in scored:
        group = groups.setdefault(pair.group, {"pairs": 0, "at_threshold": 0, "min": 1.0, "max": 0.0})
        group["pairs"] = int(group["pairs"]) + 1  # type: ignore[call-overload]
        group["at_threshold"] = int(group["at_threshold"]) + (score >= THRESHOLD)  # type: ignore[call-overload]
        group["min"] = round(min(float(group["min"]), score), 3)  # type: ignore[arg-type]
        group["max"] = round(max(float(group["max"]), score), 3)  # type: ignore[arg-type]
    wrong = [
        {"score": round(score, 3), "same": pair.same, "group": pair.group, "a": pair.a.key, "b": pair.b.key,
         "a_text": pair.a.text, "b_text": pair.b.text}
        for pair, score in sorted(counted, key=lambda ps: -ps[1])
        if pair.same != (score >= THRESHOLD)
    ]  # fmt: skip
    unsure = [
        {"score": round(score, 3), "a": pair.a.key, "b": pair.b.key}
        for pair, score in sorted(scored, key=lambda ps: -ps[1])
        if pair.same is None
    ]
    return {"recommendations": len(recs), "table": table, "groups": groups, "misclassified": wrong, "unsure": unsure}


# ── the card's lookup ───────────────────────────────────────────────────────────────────────────────────


def _median_ms(call: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 2)


def _approved_inspection(repo: Repository, title: str, texts: list[str], published: date) -> list[int]:
    inspection = repo.inspections.create(title, published, "national thematic", "Northumbria", "C1", LEAD)
    ids = []
    for finding in repo.findings.add(inspection.id, [Finding(number=str(n + 1), text=t) for n, t in enumerate(texts)]):
        repo.drafts.add(finding.id, draft(f"Answer to recommendation {finding.id}: the force has a plan."))
        repo.reviews.record(finding.id, REVIEWER, action="approve")
        ids.append(finding.id)
    return ids


def lookup(recs: list[Rec], sizes: list[int], times: int) -> list[dict[str, object]]:
    """Grow one store to each size in turn (approved findings of 10 per inspection) and time the lookups."""
    repeated = next(r for r in recs if r.key == "aldermoor-pcc-vetting-2022#14")
    novel = next(r for r in recs if r.key == "brackenshire-pcc-peel-2025#area for improvement 6")
    library = [r.text for r in recs if similarity(r.text, repeated.text) < 0.5 and similarity(r.text, novel.text) < 0.5]
    results = []
    with TemporaryDirectory() as folder:
        repo = Repository.connect(f"sqlite:///{Path(folder) / 'responder.db'}", None, FakeClock())
        try:
            # the finding on the card: a new report's, drafted, not approved
            probe = repo.inspections.create(
                "A new report", date(2026, 11, 1), "force-specific", "Northumbria", "C2", LEAD
            )
            mine = repo.findings.add(
                probe.id, [Finding(number="1", text=repeated.text), Finding(number="2", text=novel.text)]
            )
            for finding in mine:
                repo.drafts.add(finding.id, draft())
            _approved_inspection(repo, "The earlier answer", [repeated.text], date(2022, 11, 2))
            approved, texts = 1, itertools.cycle(library)
            for size in sizes:
                while approved < size:
                    batch = [next(texts) for _ in range(min(10, size - approved))]
                    _approved_inspection(repo, f"Inspection {approved}", batch, date(2024, 3, 1))
                    approved += len(batch)
                found = repo.answered.of(mine[0].id)
                assert [a.inspection_title for a in found] == ["The earlier answer"], found
                assert repo.answered.of(mine[1].id) == []
                results.append(
                    {
                        "approved": approved,
                        "repeat_ms": _median_ms(lambda: repo.answered.of(mine[0].id), times),
                        "novel_ms": _median_ms(lambda: repo.answered.of(mine[1].id), times),
                    }
                )
        finally:
            repo.close()
    return results


# ── the owner reminder sweep ─────────────────────────────────────────────────────────────────────────────

PUBLISHED = date(2024, 3, 1)
DUE = "By 31 December 2024"
DUE_SOON = datetime(2024, 12, 20, 10, tzinfo=UTC)  # 11 days before: every item's due-soon reminder
NOT_DUE = datetime(2024, 6, 3, 10, tzinfo=UTC)  # months before: none


def sweep(sizes: list[int], times: int) -> list[dict[str, object]]:
    """Each size on its own store: every item is claimed once, so a smaller store cannot be grown into a larger."""
    results = []
    for size in sizes:
        with TemporaryDirectory() as folder:
            repo = Repository.connect(f"sqlite:///{Path(folder) / 'responder.db'}", None, FakeClock())
            try:
                _owned_items(repo, size)
                results.append(_sweeps(repo, size, times))
            finally:
                repo.close()
    return results


def _owned_items(repo: Repository, size: int) -> None:
    """`size` register items due on 31 December 2024, each owned: published inspections of 10 approved answers."""
    for start in range(0, size, 10):
        count = min(10, size - start)
        inspection = repo.inspections.create(
            f"Inspection {start}", PUBLISHED, "national thematic", "Northumbria", "C1", LEAD
        )
        texts = [f"{DUE}, chief constables should publish plan {start + n}." for n in range(count)]
        findings = [Finding(number=str(n + 1), text=t, due=DUE) for n, t in enumerate(texts)]
        for finding in repo.findings.add(inspection.id, findings):
            repo.drafts.add(finding.id, draft())
            repo.reviews.record(finding.id, REVIEWER, action="approve")
        repo.inspections.mark_recipient(inspection.id, "published", LEAD, require_findings=True)
        for item in repo.register.items(inspection_id=inspection.id):
            repo.register.assign(item.id, OWNER, LEAD)


def _sweeps(repo: Repository, size: int, times: int) -> dict[str, object]:
    quiet_ms = _median_ms(lambda: repo.register_reminders.claim_due("bench", NOT_DUE), times)
    started = time.perf_counter()
    claimed = repo.register_reminders.claim_due("bench", DUE_SOON)
    first_ms = (time.perf_counter() - started) * 1000
    assert len(claimed) == size, f"expected {size} reminders, claimed {len(claimed)}"
    for reminder in claimed:
        repo.register_reminders.mark_posted(reminder.reminder_id, DUE_SOON)

    def again() -> None:
        assert repo.register_reminders.claim_due("bench", DUE_SOON) == []

    return {
        "items": size,
        "first_sweep_ms": round(first_ms, 1),
        "steady_due_ms": _median_ms(again, times),
        "steady_not_due_ms": quiet_ms,
    }


# ── output ───────────────────────────────────────────────────────────────────────────────────────────────


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def report(results: dict[str, object]) -> str:
    found = results["detection"]
    assert isinstance(found, dict)
    lines = [f"detection: {found['recommendations']} recommendations parsed; pairs by group (score ≥ {THRESHOLD})"]
    for name, group in found["groups"].items():
        lines.append(
            f"  {name:<66} {group['pairs']:>6} pairs, {group['at_threshold']:>4} ≥ threshold, "
            f"scores {group['min']:.3f}–{group['max']:.3f}"
        )
    lines.append(f"  {'threshold':>9} {'precision':>10} {'recall':>7} {'tp':>5} {'fp':>5} {'fn':>5}")
    for row in found["table"]:
        lines.append(
            f"  {row['threshold']:>9.2f} {row['precision'] or 0:>10.3f} {row['recall'] or 0:>7.3f} "
            f"{row['tp']:>5} {row['fp']:>5} {row['fn']:>5}"
        )
    lines.append(f"  misclassified at {THRESHOLD}:")
    for wrong in found["misclassified"]:
        verdict = "missed" if wrong["same"] else "false match"
        lines.append(f"    {wrong['score']:.3f} {verdict}: {wrong['a']} ~ {wrong['b']}")
        lines.append(f"        A: {_short(wrong['a_text'])}")
        lines.append(f"        B: {_short(wrong['b_text'])}")
    lines.append("  unsure pairs (not counted): " + ", ".join(f"{u['score']:.2f}" for u in found["unsure"]))
    lines.append("lookup: repo.answered.of (median ms per call)")
    for row in results["lookup"]:  # type: ignore[attr-defined]
        lines.append(
            f"  {row['approved']:>6,} approved findings: repeat {row['repeat_ms']:>8.2f} ms · "
            f"novel {row['novel_ms']:>8.2f} ms"
        )
    lines.append("sweep: register_reminders.claim_due")
    for row in results["sweep"]:  # type: ignore[attr-defined]
        lines.append(
            f"  {row['items']:>6,} owned items: first sweep (claims all) {row['first_sweep_ms']:>8.1f} ms · "
            f"next sweep, all due and sent {row['steady_due_ms']:>7.1f} ms · "
            f"none due {row['steady_not_due_ms']:>7.1f} ms"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench register", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller stores (lookup 50/200/500, sweep 50/200)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    recs = recommendations()
    lookup_sizes, sweep_sizes, times = (
        ([50, 200, 500], [50, 200], 5) if args.quick else ([100, 1000, 3000], [100, 1000], 15)
    )
    started = time.perf_counter()
    results: dict[str, object] = {"detection": detection(recs)}
    results["lookup"] = lookup(recs, lookup_sizes, times)
    results["sweep"] = sweep(sweep_sizes, times)
    results["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(report(results))
        print(f"({results['seconds']} s)")


if __name__ == "__main__":
    main()
