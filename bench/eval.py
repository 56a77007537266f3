"""Drafting evaluation on the development library (bench/devlib): does each engine draft from the right evidence?

Every gold finding is drafted for Aldermoor Police under an OFFICIAL ceiling against the library's own index
(Aldermoor's documents, a distractor force's, news, one OFFICIAL-SENSITIVE canary). Measures, per engine:

- leakage: findings whose draft text names a forbidden fact (the distractor's, the canary, news, another matter);
- off-theme: findings whose draft states any own-force fact of another inspection theme (not only the traps);
- recall: gold relevant facts the draft text states (every key of the fact present);
- ask coverage: gold asks answered by a relevant fact or by a placeholder that names the ask (or, for findings
  addressed to another body, a text naming that body);
- honest "nothing found": on the findings the library holds nothing for, no evidence used and the plan says so;
- addressee handling: the answer's shape is the gold one;
- seconds per draft, and the 20-finding report drafted end to end (parsed from report_20.txt, wall clock);
- the sentence check: an off-topic own-force sentence and an invented date planted in each draft are caught.

Run: `make eval` (or `python -m bench.eval --engines composer`). Results: bench/results/eval-<engine>.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from dataclasses import asdict, dataclass, field

from bench import devlib_data
from bench.devlib_data import Case, Fact
from drafting.chain import Drafter
from drafting.engines import select_chat_model
from drafting.fact_check import check_draft
from drafting.models import AnswerShape, Draft, DraftRequest, GuardKind
from drafting.report import parse_report
from drafting.support import Passage, support
from retrieval.glossary import aliases
from retrieval.models import Classification

PLANTED_SENTENCE = "The Domestic Abuse Triage Desk reviews every high-risk assessment within 24 hours."
PLANTED_DATE = "The work was completed on 14 March 2019."


@dataclass
class Row:
    id: str
    engine: str
    seconds: float
    shape_ok: bool
    relevant: int
    stated: int
    leaked: list[str]
    off_theme: list[str]
    asks: int
    covered: int
    no_evidence: bool
    honest: bool | None
    model_text: bool
    planted_caught: int
    text: str = ""
    notes: list[str] = field(default_factory=list)


def covered_asks(case: Case, draft: Draft, facts: dict[str, Fact]) -> int:
    placeholders = " ".join(draft.placeholders).lower()
    text = draft.text.lower()
    count = 0
    for ask in case.asks:
        by_fact = any(facts[f].stated_in(draft.text) for f in ask.relevant)
        by_placeholder = any(k.lower() in placeholders for k in ask.keywords)
        by_deferral = draft.shape is AnswerShape.OTHER_BODY and any(k.lower() in text for k in ask.keywords)
        count += by_fact or by_placeholder or by_deferral
    return count


def planted_caught(drafter: Drafter, case: Case, draft: Draft) -> int:
    """Plant an own-force sentence on another matter and an invented date; count how many checks catch (of 2)."""
    plan = draft.plan
    if plan is None:
        return 0
    planted = f"{draft.text} {PLANTED_SENTENCE} {PLANTED_DATE}"
    passages = [Passage(e.id, e.text) for e in plan.evidence]
    supports = support(planted, passages, case.finding.text, drafter.embed)
    sentence = any(s.by is None and "Triage Desk" in s.sentence for s in supports)
    guard = check_draft(
        planted,
        cited_ids=[],
        retrieved_ids=[],
        evidence=[case.finding.text, *(e.text for e in plan.evidence)],
        own_force="Aldermoor Police",
        aliases=aliases(),
        require_citation=False,
    )
    date = any(g.kind is GuardKind.UNSUPPORTED_FACT and "14 March 2019" in g.span for g in guard.findings)
    return int(sentence) + int(date)


def run_case(drafter: Drafter, case: Case, facts: dict[str, Fact]) -> Row:
    request = DraftRequest(
        finding=case.finding,
        inspection_title=case.inspection,
        force=devlib_data.OWN_FORCE,
        max_classification=Classification.OFFICIAL,
    )
    started = time.perf_counter()
    draft = drafter.draft(request)
    seconds = time.perf_counter() - started
    plan = draft.plan
    honest = None
    if case.no_evidence:
        honest = (
            plan is not None and not plan.evidence and (plan.found_nothing or draft.shape is AnswerShape.OTHER_BODY)
        )
    return Row(
        id=case.id,
        engine=draft.engine,
        seconds=round(seconds, 2),
        shape_ok=draft.shape.value == case.shape,
        relevant=len(case.relevant),
        stated=sum(facts[f].stated_in(draft.text) for f in case.relevant),
        leaked=[f for f in case.forbidden if facts[f].touched_in(draft.text)],
        off_theme=devlib_data.off_theme(case, facts, draft.text),
        asks=len(case.asks),
        covered=covered_asks(case, draft, facts),
        no_evidence=case.no_evidence,
        honest=honest,
        model_text=draft.engine != "composer",
        planted_caught=planted_caught(drafter, case, draft),
        text=draft.text,
        notes=draft.notes,
    )


def draft_report_20(drafter: Drafter) -> tuple[float, int]:
    """The whole report as an office gets it: read and parsed from report_20.txt, then every finding drafted in
    turn. Wall-clock seconds, and how many findings the parser found (20)."""
    started = time.perf_counter()
    path = devlib_data.DEVLIB / "report_20.txt"
    report = parse_report(path.read_text(encoding="utf-8"), name=path.name)
    for finding in report.findings:
        request = DraftRequest(
            finding=finding,
            inspection_title=report.title,
            force=devlib_data.OWN_FORCE,
            max_classification=Classification.OFFICIAL,
        )
        drafter.draft(request)
    return round(time.perf_counter() - started, 1), len(report.findings)


def summary(rows: list[Row], report: tuple[float, int] | None) -> dict[str, object]:
    seconds = sorted(r.seconds for r in rows)
    nothing = [r for r in rows if r.no_evidence]
    relevant = sum(r.relevant for r in rows)
    return {
        "findings": len(rows),
        "leakage_findings": sum(1 for r in rows if r.leaked),
        "leaked_facts": sorted({f for r in rows for f in r.leaked}),
        "off_theme_findings": sum(1 for r in rows if r.off_theme),
        "recall": round(sum(r.stated for r in rows) / relevant, 3) if relevant else None,
        "ask_coverage": round(sum(r.covered for r in rows) / sum(r.asks for r in rows), 3),
        "honest_nothing_found": round(sum(1 for r in nothing if r.honest) / len(nothing), 3) if nothing else None,
        "addressee": round(sum(r.shape_ok for r in rows) / len(rows), 3),
        "model_text_share": round(sum(r.model_text for r in rows) / len(rows), 3),
        "seconds_median": round(statistics.median(seconds), 2),
        "seconds_p95": round(seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))], 2),
        "seconds_max": round(seconds[-1], 2),
        "timeouts": sum(1 for r in rows if any("did not finish" in n for n in r.notes)),
        "report_20_seconds": report[0] if report else None,
        "report_20_findings": report[1] if report else None,
        "planted_caught": round(sum(r.planted_caught for r in rows) / (2 * len(rows)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="composer,local", help="comma-separated: composer, local, provider:model")
    parser.add_argument("--only", default="", help="comma-separated finding ids (e.g. D01,D21)")
    parser.add_argument("--show", action="store_true", help="print every draft")
    args = parser.parse_args()
    cases, facts = devlib_data.load()
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.id in wanted]
    index = devlib_data.index()
    devlib_data.RESULTS.mkdir(exist_ok=True)
    devlib_data.MODEL_DATA_DIR.mkdir(exist_ok=True)
    for spec in [e.strip() for e in args.engines.split(",") if e.strip()]:
        choice = select_chat_model(spec, devlib_data.MODEL_DATA_DIR, timeout=120)
        drafter = Drafter(index, choice.model, choice.engine, aliases=aliases(), today=lambda: devlib_data.TODAY)
        print(f"== {choice.engine}: {len(cases)} findings")
        rows = []
        for case in cases:
            row = run_case(drafter, case, facts)
            rows.append(row)
            flag = f" LEAK {row.leaked}" if row.leaked else ""
            print(
                f"{row.id} {row.seconds:5.1f}s {row.engine:10.10} facts {row.stated}/{row.relevant} "
                f"asks {row.covered}/{row.asks}{flag}"
            )
            if args.show:
                print("   ", re.sub(r"\s+", " ", row.text))
        report = None if args.only else draft_report_20(drafter)
        result = summary(rows, report)
        print(json.dumps(result, indent=2))
        name = choice.engine.replace(":", "-").replace("/", "-")
        out = devlib_data.RESULTS / f"eval-{name}.json"
        out.write_text(json.dumps({"summary": result, "rows": [asdict(r) for r in rows]}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
