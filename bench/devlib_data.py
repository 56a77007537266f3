"""The development library (bench/devlib): its index, its gold findings, and how a draft is scored against them.

The library is fictional (Aldermoor Police, the own force; Brackenshire Constabulary, a distractor), written for
measuring drafting; see bench/devlib/README.md. The index is built once into bench/results/ and reused while the
library's files are unchanged (re-ingesting an unchanged file is a no-op anyway).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from retrieval.config import RetrievalConfig
from retrieval.findings import make_finding
from retrieval.index import PrecedentIndex
from retrieval.ingest import ingest_paths
from retrieval.models import Finding, FindingKind, InspectionType

HERE = Path(__file__).parent
#: Where the assembled local model lives: the product's own data folder, so the benches reuse its 1.1 GB GGUF.
MODEL_DATA_DIR = Path(os.environ.get("RESPONDER_DATA_DIR", ".responder"))
DEVLIB = HERE / "devlib"
RESULTS = HERE / "results"
OWN_FORCE = "Aldermoor"
TODAY = date(2026, 12, 1)
SHAPES = {"force": "force position statement", "pcc": "PCC's own answer", "other": "addressed to another body"}


@dataclass(frozen=True)
class Fact:
    id: str
    doc_id: str
    keys: tuple[str, ...]
    force: str
    kind: str
    classification: str
    theme: str = ""

    def stated_in(self, text: str) -> bool:
        """Every key of the fact appears (case- and space-insensitively): the draft states this fact."""
        flat = _flat(text)
        return all(_flat(key) in flat for key in self.keys)

    def touched_in(self, text: str) -> bool:
        """Any key appears: for leakage, one borrowed name is already a borrowed fact."""
        flat = _flat(text)
        return any(_flat(key) in flat for key in self.keys)


@dataclass(frozen=True)
class GoldAsk:
    text: str
    keywords: tuple[str, ...]
    relevant: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    id: str
    finding: Finding
    inspection: str
    inspection_type: InspectionType
    addressee: str
    theme: str
    asks: tuple[GoldAsk, ...]
    relevant: tuple[str, ...]
    forbidden: tuple[str, ...]
    no_evidence: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> str:
        return SHAPES[self.addressee]


def load() -> tuple[list[Case], dict[str, Fact]]:
    data = json.loads((DEVLIB / "findings.json").read_text(encoding="utf-8"))
    facts = {
        fid: Fact(fid, f["doc_id"], tuple(f["keys"]), f["force"], f.get("kind", ""), f["classification"], f["theme"])
        for fid, f in data["facts"].items()
    }
    cases = []
    for item in data["findings"]:
        kind = FindingKind(item["kind"])
        itype = InspectionType(item["inspection_type"])
        finding = make_finding(item["text"], number=item.get("number"), kind=kind, inspection_type=itype)
        asks = tuple(GoldAsk(a["ask"], tuple(a["keywords"]), tuple(a.get("relevant", []))) for a in item["asks"])
        cases.append(
            Case(
                id=item["id"],
                finding=finding,
                inspection=item["inspection"],
                inspection_type=itype,
                addressee=item["addressee"],
                theme=item["theme"],
                asks=asks,
                relevant=tuple(item["relevant"]),
                forbidden=tuple(item["forbidden"]),
                no_evidence=bool(item["no_evidence"]),
            )
        )
    return cases, facts


def index(folder: Path | None = None) -> PrecedentIndex:
    """The development library in its own index (embedded Chroma under bench/results unless told)."""
    config = RetrievalConfig(data_dir=folder or RESULTS / "devlib-index")
    built = PrecedentIndex(config)
    ingest_paths(built, [DEVLIB / "library"])
    return built


def off_theme(case: Case, facts: dict[str, Fact], text: str) -> list[str]:
    """Own-force facts the text states that belong to another inspection theme: an answer on another matter.

    Wider than `forbidden` (the facts a case names as traps): any of the library's facts counts.
    """
    return [
        fid
        for fid, fact in facts.items()
        if fact.force == OWN_FORCE and fact.theme != case.theme and fid not in case.relevant and fact.stated_in(text)
    ]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'")).lower()
