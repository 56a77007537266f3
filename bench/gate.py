"""Calibrating the evidence gate on the development library: which relevance passes, and what that costs.

For every finding the library has an answer for (or that a bad engine would wrongly answer), every candidate
sentence is scored against every ask. A sentence *bears on* the finding when it states one of the finding's gold
relevant facts; a sentence passing the gate that states one of its forbidden facts is a leak. For each threshold
the script prints fact recall (gold facts with a passing sentence), leaks and the passing sentences that state no
gold fact (noise). Run: `python -m bench.gate` (the numbers and the choice are in bench/README.md).
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass

import numpy as np

from bench import devlib_data
from drafting.asks import Ask, split_asks
from drafting.evidence import WEIGHTS, Candidate, EvidenceFinder, relevance
from drafting.models import AnswerShape
from drafting.rules import decide_shape
from retrieval.models import Classification, SearchFilters


@dataclass(frozen=True)
class CaseRows:
    """One finding's candidate sentences with their features per ask, and which gold facts each one touches."""

    case_id: str
    asks: list[Ask]
    candidates: list[Candidate]
    features: np.ndarray  # candidates × asks × features
    relevant: list[set[str]]  # per candidate, the case's relevant facts it states
    forbidden: list[set[str]]  # per candidate, the case's forbidden facts it touches


@dataclass(frozen=True)
class Pick:
    case_id: str
    sentence: str
    relevant: set[str]
    forbidden: set[str]


def featured_candidates() -> tuple[EvidenceFinder, list[CaseRows]]:
    """Every finding the finder would search for (not those addressed to another body), scored, before the gate."""
    cases, facts = devlib_data.load()
    index = devlib_data.index()
    finder = EvidenceFinder(index, index.embeddings.embed_documents, today=lambda: devlib_data.TODAY)
    filters = SearchFilters(force=devlib_data.OWN_FORCE, max_classification=Classification.OFFICIAL)
    rows = []
    for case in cases:
        shape = decide_shape(case.finding).shape
        if shape is AnswerShape.OTHER_BODY:
            continue
        asks = split_asks(case.finding)
        pcc_voice = shape is AnswerShape.PCC_VOICE
        candidates = finder.candidates(case.finding, asks, filters, case.inspection, pcc_voice=pcc_voice)
        if not candidates:
            continue
        features = finder.features(case.finding, asks, candidates, case.inspection)
        relevant = [{f for f in case.relevant if facts[f].touched_in(c.text)} for c in candidates]
        forbidden = [{f for f in case.forbidden if facts[f].touched_in(c.text)} for c in candidates]
        rows.append(CaseRows(case.id, asks, candidates, features, relevant, forbidden))
    return finder, rows


def selected(finder: EvidenceFinder, rows: list[CaseRows], weights: tuple[float, ...], gate: float) -> list[Pick]:
    """What the finder itself would hand the writer at this gate (its own selection: cap, distinctive words)."""
    picks = []
    for row in rows:
        chosen = finder.choose(row.asks, row.candidates, relevance(row.features, weights), gate=gate)
        for i in dict.fromkeys(i for indices in chosen.by_ask.values() for i in indices):
            picks.append(Pick(row.case_id, row.candidates[i].text, row.relevant[i], row.forbidden[i]))
    return picks


def sweep(finder: EvidenceFinder, rows: list[CaseRows], thresholds: list[float]) -> None:
    """At each gate, what the writer would get: recall of gold facts, leaks, and evidence where there is none."""
    cases, _facts = devlib_data.load()
    gold = {(c.id, f) for c in cases for f in c.relevant}
    nothing = {c.id for c in cases if c.no_evidence}
    own = sum(1 for row in rows for c in row.candidates if not c.third_party)
    found_any = {(row.case_id, f) for row in rows for facts in row.relevant for f in facts}
    print(f"{own} candidate sentences; {len(gold)} gold relevant facts, {len(found_any)} among the candidates")
    print("gate  recall  leaks  on-nothing  noise  selected")
    for t in thresholds:
        chosen = selected(finder, rows, WEIGHTS, t)
        found = {(p.case_id, f) for p in chosen for f in p.relevant}
        leaks = sum(len(p.forbidden) for p in chosen)
        spurious = sum(1 for p in chosen if p.case_id in nothing)
        noise = sum(1 for p in chosen if not p.relevant)
        print(f"{t:4.2f}  {len(found) / len(gold):6.2f}  {leaks:5d}  {spurious:10d}  {noise:5d}  {len(chosen):8d}")


def leak_free_recall(
    finder: EvidenceFinder, rows: list[CaseRows], weights: tuple[float, ...], gold: int, nothing: set[str]
) -> tuple[float, float, int, int]:
    """The best recall of the selected evidence with no leak and nothing selected where the library has nothing.

    Returns (recall, the lowest threshold that gives it, sentences selected, of which stating no gold fact).
    """
    best: tuple[float, float, int, int] = (0.0, 1.0, 0, 0)
    for threshold in np.arange(0.20, 0.75, 0.01):
        chosen = selected(finder, rows, weights, float(threshold))
        if any(p.forbidden for p in chosen) or any(p.case_id in nothing for p in chosen):
            continue
        recall = len({(p.case_id, f) for p in chosen for f in p.relevant}) / gold
        if recall > best[0]:
            noise = sum(1 for p in chosen if not p.relevant)
            best = (recall, float(threshold), len(chosen), noise)
    return best


def fit(finder: EvidenceFinder, rows: list[CaseRows]) -> None:
    """Grid-search the weights (steps of 0.1, summing to 1); print the ten best leak-free settings."""
    cases, _facts = devlib_data.load()
    gold = sum(len(c.relevant) for c in cases)
    nothing = {c.id for c in cases if c.no_evidence}
    results = []
    grid = [round(x, 1) for x in np.arange(0.0, 1.01, 0.1)]
    for a, f, t, w in itertools.product(grid, repeat=4):
        m = round(1.0 - a - f - t - w, 1)
        if m < 0:
            continue
        weights = (a, f, t, w, m)
        results.append((leak_free_recall(finder, rows, weights, gold, nothing), weights))
    print("recall  gate  selected  noise  weights (ask, finding, topic, words, matter named)")
    for (recall, threshold, count, noise), weights in sorted(results, reverse=True)[:10]:
        print(f"{recall:6.2f}  {threshold:.2f}  {count:8d}  {noise:5d}  {weights}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=float, default=None, help="print the leaks and noise at this threshold")
    parser.add_argument("--fit", action="store_true", help="search the weights for the best leak-free recall")
    args = parser.parse_args()
    finder, rows = featured_candidates()
    if args.fit:
        fit(finder, rows)
        return
    sweep(finder, rows, [round(x, 2) for x in np.arange(0.36, 0.66, 0.02)])
    if args.show is not None:
        shown = [
            (float(relevance(row.features[i], WEIGHTS).max()), row.case_id, c.text, row.relevant[i], row.forbidden[i])
            for row in rows
            for i, c in enumerate(row.candidates)
            if not c.third_party
        ]
        for score, case_id, sentence, relevant, forbidden in sorted(shown, key=lambda r: -r[0]):
            if score >= args.show and (forbidden or not relevant):
                tag = f"LEAK {sorted(forbidden)}" if forbidden else "noise"
                print(f"{case_id} {score:.2f} {tag}: {sentence[:150]}")


if __name__ == "__main__":
    main()
