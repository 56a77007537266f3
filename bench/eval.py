"""Drafting evaluation: the precedent composer against the local LLM on a development set.

Seed cases are drafted leave-one-document-out (the case's own document is excluded from retrieval) and
compared with the real response; composed cases have no reference. Fabrications are planted into every
draft to measure the grounding guard. Run: `make eval` (or `python -m bench.eval --engines composer`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from rouge_score import rouge_scorer

from drafting.chain import Drafter
from drafting.engines import select_chat_model
from drafting.fact_check import ForeignSource, check_draft
from drafting.models import AnswerShape, Draft, DraftRequest, GuardKind
from drafting.rules import decide_shape
from retrieval.config import RetrievalConfig
from retrieval.corpus import bundled_documents
from retrieval.documents import parse_document
from retrieval.embeddings import load_embeddings
from retrieval.findings import make_finding
from retrieval.glossary import aliases
from retrieval.index import PrecedentIndex
from retrieval.ingest import ingest_bundled
from retrieval.loaders import read_text
from retrieval.models import Finding

HERE = Path(__file__).parent
PLANTED_DATE = "on 14 March 2019"
PLANTED_UNIT = "the Harbourside Vulnerability Unit"
OTHER_FORCE_FACT = (
    "Cambridgeshire",
    "The force also conducts regular internal audits through the Missing From Home and Domestic Abuse Scrutiny Groups.",
    "Missing From Home and Domestic Abuse Scrutiny Groups",
)


@dataclass
class Case:
    name: str
    finding: Finding
    inspection: str
    force: str
    shape: AnswerShape
    published: date | None = None
    reference: str = ""
    exclude: tuple[str, ...] = ()


@dataclass
class Scores:
    rows: list[dict[str, float]] = field(default_factory=list)

    def mean(self, key: str) -> float:
        values = [r[key] for r in self.rows if key in r]
        return statistics.fmean(values) if values else float("nan")


def load_cases() -> list[Case]:
    spec = json.loads((HERE / "eval_set.json").read_text())
    cases: list[Case] = []
    for path, meta in bundled_documents():
        shapes = spec["seed_shapes"].get(meta.doc_id)
        if not shapes:
            continue
        doc = parse_document(read_text(path), meta)
        for p in doc.precedents:
            cases.append(
                Case(
                    name=f"{meta.doc_id}#{p.finding.number or 'AFI'}",
                    finding=p.finding,
                    inspection=meta.inspection_title,
                    force=meta.force,
                    shape=AnswerShape(shapes[p.finding.number or ""]),
                    published=meta.published,
                    reference=p.response,
                    exclude=(meta.doc_id,),
                )
            )
    for i, item in enumerate(spec["new"], start=1):
        text = item["text"]
        finding = make_finding(text, number=str(i))
        cases.append(Case(f"new#{i}", finding, item["inspection"], item["force"], AnswerShape(item["shape"])))
    return cases


def plant_and_check(svc: Drafter, request: DraftRequest, draft: Draft) -> tuple[int, int]:
    """Plant three fabrications into the draft and count how many the guard catches."""
    hits = svc.retrieve(request)
    own = [h.chunk.text for h in hits if h.chunk.meta.force.lower() == request.force.lower()]
    foreign = [ForeignSource(force=h.chunk.meta.force, text=h.chunk.text) for h in hits if h.chunk.text not in own]
    foreign.append(ForeignSource(force=OTHER_FORCE_FACT[0], text=OTHER_FORCE_FACT[1]))
    planted = f"{draft.text} The work was completed {PLANTED_DATE} by {PLANTED_UNIT}. {OTHER_FORCE_FACT[1]}"
    result = check_draft(
        planted,
        cited_ids=draft.cited_ids,
        retrieved_ids=[s.chunk_id for s in draft.sources],
        evidence=[request.finding.text, *own, request.inspection_title],
        foreign=foreign,
        own_force=request.force,
        aliases=aliases(),
    )
    spans = [g.span for g in result.findings]
    targets = ["14 March 2019", "Harbourside Vulnerability Unit", OTHER_FORCE_FACT[2]]
    return sum(any(t in s or s in t for s in spans if s) for t in targets), len(targets)


def score(case: Case, draft: Draft, embed, rouge, caught: tuple[int, int]) -> dict[str, float]:
    invalid = sum(g.kind is GuardKind.INVALID_CITATION for g in draft.guard)
    cited = len(draft.cited_ids) + invalid
    shape_ok = decide_shape(case.finding).shape is case.shape
    names_body = case.shape is not AnswerShape.OTHER_BODY or "addressed to" in draft.text.lower()
    row = {
        "addressee_ok": float(shape_ok and names_body),
        "grounded": float(draft.grounded),
        "unsupported": float(sum(g.kind in (GuardKind.UNSUPPORTED_FACT, GuardKind.FOREIGN_FACT) for g in draft.guard)),
        "placeholders": float(len(draft.placeholders)),
        "seconds": draft.seconds,
        "caught": caught[0] / caught[1],
    }
    if cited:  # validity is a property of the citations made; a draft citing nothing counts in `grounded`
        row["citation_validity"] = len(draft.cited_ids) / cited
    if case.reference:
        a, b = embed.embed_documents([draft.text, case.reference])
        row["cosine"] = float(np.dot(a, b))
        row["rouge_l"] = rouge.score(case.reference, draft.text)["rougeL"].fmeasure
    return row


def run(engines: list[str], limit: int | None, out: Path | None) -> dict[str, dict[str, float]]:
    cases = load_cases()[:limit]
    with tempfile.TemporaryDirectory() as tmp:
        config = RetrievalConfig(data_dir=Path(tmp))
        index = PrecedentIndex(config)
        ingest_bundled(index)
        embed = load_embeddings(config)
        rouge = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
        results: dict[str, dict[str, float]] = {}
        for engine in engines:
            choice = select_chat_model(engine, Path(".responder"), timeout=300)
            svc = Drafter(index, choice.model, choice.engine, timeout=300, aliases=aliases())
            scores = Scores()
            for case in cases:
                request = DraftRequest(
                    finding=case.finding,
                    inspection_title=case.inspection,
                    published=case.published,
                    force=case.force,
                    exclude_doc_ids=case.exclude,
                )
                started = time.perf_counter()
                draft = svc.draft(request)
                draft.seconds = time.perf_counter() - started
                scores.rows.append(score(case, draft, embed, rouge, plant_and_check(svc, request, draft)))
                print(f"  {choice.engine:<40} {case.name:<55} {draft.seconds:6.1f}s", flush=True)
            keys = ["addressee_ok", "grounded", "citation_validity", "unsupported", "placeholders", "cosine", "rouge_l"]
            results[choice.engine] = {k: scores.mean(k) for k in [*keys, "caught", "seconds"]}
            results[choice.engine]["cases"] = len(cases)
    print_table(results)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
    return results


def print_table(results: dict[str, dict[str, float]]) -> None:
    cols = [
        ("addressee_ok", "addressee acc."),
        ("grounded", "grounded"),
        ("citation_validity", "citation valid"),
        ("unsupported", "unsupported/draft"),
        ("placeholders", "placeholders/draft"),
        ("cosine", "cosine vs real"),
        ("rouge_l", "ROUGE-L vs real"),
        ("caught", "planted caught"),
        ("seconds", "s/draft"),
    ]
    print("\n| engine | " + " | ".join(c[1] for c in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for engine, row in results.items():
        print(f"| {engine} | " + " | ".join(f"{row[k]:.2f}" for k, _ in cols) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", default="composer,local", help="comma-separated: composer, local, provider:model")
    parser.add_argument("--limit", type=int, default=None, help="only the first N cases")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "eval.json")
    args = parser.parse_args()
    run(args.engines.split(","), args.limit, args.out)


if __name__ == "__main__":
    main()
