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

import numpy as np

from bench import devlib_data
from drafting.asks import split_asks
from drafting.evidence import MAX_PER_ASK, WEIGHTS, EvidenceFinder, relevance
from drafting.models import AnswerShape
from drafting.rules import decide_shape
from retrieval.models import Classification, SearchFilters

Row = tuple[str, str, np.ndarray, set[str], set[str]]


def featured_candidates() -> list[Row]:
    """(case id, sentence, features per ask, relevant facts it states, forbidden facts it touches)."""
    cases, facts = devlib_data.load()
    index = devlib_data.index()
    finder = EvidenceFinder(index, index.embeddings.embed_documents, gate=-1.0, today=lambda: devlib_data.TODAY)
    rows = []
    for case in cases:
        if decide_shape(case.finding).shape is AnswerShape.OTHER_BODY:
            continue
        asks = split_asks(case.finding)
        filters = SearchFilters(force=devlib_data.OWN_FORCE, max_classification=Classification.OFFICIAL)
        candidates = [c for c in finder._candidates(case.finding, asks, filters, case.inspection) if not c.third_party]
        if not candidates:
            continue
        features = finder.features(case.finding, asks, candidates, case.inspection)
        for candidate, per_ask in zip(candidates, features, strict=True):
            relevant = {f for f in case.relevant if facts[f].touched_in(candidate.text)}
            forbidden = {f for f in case.forbidden if facts[f].touched_in(candidate.text)}
            rows.append((case.id, candidate.text, per_ask, relevant, forbidden))
    return rows


def scores(rows: list[Row], weights: tuple[float, ...]) -> list[tuple[str, str, float, set[str], set[str]]]:
    return [(r[0], r[1], float(relevance(r[2], weights).max()), r[3], r[4]) for r in rows]


def selected(rows: list[Row], weights: tuple[float, ...], threshold: float, per_ask: int = MAX_PER_ASK) -> list[Row]:
    """What the finder would hand the writer: per case and ask, the best `per_ask` sentences over the gate."""
    chosen: dict[tuple[str, str], Row] = {}
    by_case: dict[str, list[Row]] = {}
    for row in rows:
        by_case.setdefault(row[0], []).append(row)
    for case_rows in by_case.values():
        n_asks = case_rows[0][2].shape[0]
        for j in range(n_asks):
            ranked = sorted(case_rows, key=lambda r: -float(relevance(r[2][j], weights)))
            passing = [r for r in ranked if float(relevance(r[2][j], weights)) >= threshold][:per_ask]
            for r in passing:
                chosen[(r[0], r[1])] = r
    return list(chosen.values())


def sweep(featured: list[Row], thresholds: list[float]) -> None:
    """At each gate, what the writer would get: recall of gold facts, leaks, and evidence where there is none."""
    cases, _facts = devlib_data.load()
    gold = {(c.id, f) for c in cases for f in c.relevant}
    nothing = {c.id for c in cases if c.no_evidence}
    found_any = {(r[0], f) for r in featured for f in r[3]}
    print(
        f"{len(featured)} candidate sentences; {len(gold)} gold relevant facts, {len(found_any)} among the candidates"
    )
    print("gate  recall  leaks  on-nothing  noise  selected")
    for t in thresholds:
        chosen = selected(featured, WEIGHTS, t)
        found = {(r[0], f) for r in chosen for f in r[3]}
        leaks = sum(len(r[4]) for r in chosen)
        spurious = sum(1 for r in chosen if r[0] in nothing)
        noise = sum(1 for r in chosen if not r[3])
        print(f"{t:4.2f}  {len(found) / len(gold):6.2f}  {leaks:5d}  {spurious:10d}  {noise:5d}  {len(chosen):8d}")


def leak_free_recall(featured: list[Row], weights: tuple[float, ...], gold: int, nothing: set[str]) -> tuple:
    """The best recall of the selected evidence with no leak and nothing selected where the library has nothing.

    Returns (recall, the lowest threshold that gives it, sentences selected, of which stating no gold fact).
    """
    best: tuple[float, float, int, int] = (0.0, 1.0, 0, 0)
    for threshold in np.arange(0.20, 0.75, 0.01):
        chosen = selected(featured, weights, float(threshold))
        if any(r[4] for r in chosen) or any(r[0] in nothing for r in chosen):
            continue
        recall = len({(r[0], f) for r in chosen for f in r[3]}) / gold
        if recall > best[0]:
            noise = sum(1 for r in chosen if not r[3])
            best = (recall, float(threshold), len(chosen), noise)
    return best


def fit(featured: list[Row]) -> None:
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
        results.append((leak_free_recall(featured, weights, gold, nothing), weights))
    print("recall  gate  selected  noise  weights (ask, finding, topic, words, matter named)")
    for (recall, threshold, count, noise), weights in sorted(results, reverse=True)[:10]:
        print(f"{recall:6.2f}  {threshold:.2f}  {count:8d}  {noise:5d}  {weights}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=float, default=None, help="print the leaks and noise at this threshold")
    parser.add_argument("--fit", action="store_true", help="search the weights for the best leak-free recall")
    args = parser.parse_args()
    featured = featured_candidates()
    if args.fit:
        fit(featured)
        return
    sweep(featured, [round(x, 2) for x in np.arange(0.36, 0.66, 0.02)])
    rows = scores(featured, WEIGHTS)
    if args.show is not None:
        for case_id, sentence, score, relevant, forbidden in sorted(rows, key=lambda r: -r[2]):
            if score >= args.show and (forbidden or not relevant):
                tag = f"LEAK {sorted(forbidden)}" if forbidden else "noise"
                print(f"{case_id} {score:.2f} {tag}: {sentence[:150]}")


if __name__ == "__main__":
    main()
