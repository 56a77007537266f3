"""Retrieval bench: ingestion throughput, hybrid query latency and HNSW recall at 1k / 10k / 100k chunks.

For each size, on a generated corpus (sentences from a policing vocabulary, fixed seed):
  - ingestion (sizes up to --ingest-max): documents go through `PrecedentIndex.upsert_document` in one
    batch (chunking, embedding, Chroma writes, the keyword rebuild) and are compared with the embedding
    model alone on the same chunk texts. Target: ingestion within 15% of the raw model.
  - larger sizes are filled directly with precomputed vectors (embedding 100k texts takes ~30 min on 2
    cores): each chunk joins two sentences from an embedded pool and its vector is the normalised sum of
    theirs plus a little noise — close to what the model gives for the joined text, and clustered the way
    real chunks are. The keyword index is then rebuilt from Chroma (timed).
  - query latency of `PrecedentIndex.search(k=10)` end to end (glossary expansion, query embedding, dense
    + keyword ranking, fusion, chunk rebuild), p50/p95, with default filters and two filtered variants.
    Targets: p50 <= 30 ms at 10k, <= 60 ms at 100k.
  - recall@10 of Chroma's HNSW search against exact brute-force cosine in numpy over the same vectors.
    Target >= 0.95.

Run: `python -m bench retrieval [--sizes 1k,10k,100k] [--ingest-max 10k] [--queries 200]`.
Results go to bench/results/retrieval-<time>.json. Other processes on the machine slow these numbers
down: the load average is recorded with them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from retrieval import index as index_module
from retrieval.chunking import chunk_document, chunk_id
from retrieval.config import RetrievalConfig
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.index import PrecedentIndex, chunk_metadata
from retrieval.models import (
    Chunk,
    ChunkSection,
    DocumentKind,
    DocumentMeta,
    Finding,
    InspectionType,
    ParsedDocument,
    Precedent,
    SearchFilters,
)

RESULTS = Path(__file__).parent / "results"
PRECEDENTS_PER_DOC = 10
POOL_SIZE = 3000
INSERT_PAGE = 2000

# --- a policing vocabulary ----------------------------------------------------------------------------------

SUBJECTS = [
    "The force", "Chief constables", "The Chief Constable", "The PCC", "The MASH", "The safeguarding partnership",
    "Neighbourhood policing teams", "The public protection unit", "Custody staff", "The control room",
    "Detective supervisors", "The Exploitation Threat Group", "The violence reduction unit", "Call handlers",
    "The missing persons coordinator", "Response officers", "The PVP command", "The CPS liaison team",
    "The NPT", "The records management team",
]  # fmt: skip
VERBS = [
    "should review", "has improved", "will monitor", "must strengthen", "is developing", "has commissioned",
    "continues to audit", "will publish", "has trained staff in", "should make sure of", "is re-designing",
    "has evaluated", "will report on", "has introduced", "should assess", "is consulting partners on",
]  # fmt: skip
OBJECTS = [
    "its response to missing children", "the quality of decision making", "problem profiles for CSE",
    "the handling of domestic abuse incidents", "supervision of child protection investigations",
    "the use of stop and search", "victim-blaming language", "the risk assessment of repeat victims",
    "early help referrals", "information sharing with children's social care", "its VAWG action plan",
    "the management of registered sex offenders", "the timeliness of crime recording",
    "protective orders for stalking victims", "the triage of online child abuse referrals",
    "disruption of county lines exploitation", "the welfare of officers and staff",
    "the criminalisation of looked-after children", "the voice of the child in case records",
    "performance management and quality assurance", "honour-based violence safeguarding",
    "the detention of children in custody", "the assessment of cultural heritage", "the RMS data quality",
    "joint visits with social workers", "the outcome of strategy discussions", "its CPD offer for detectives",
    "the MFH coordinator role", "the DA risk assessment process", "the training of frontline supervisors",
]  # fmt: skip
QUALIFIERS = [
    "by 31 December 2024", "through the scrutiny process", "with partner agencies", "across all six areas",
    "within three months", "in line with national guidance", "as part of the new operating model",
    "using the Home Office toolkit", "following the inspection", "with immediate effect",
    "through monthly performance meetings", "with the local authorities", "at least annually",
    "through the quarterly audit regime", "as set out in the action plan", "before the next inspection",
]  # fmt: skip
TITLES = [
    "PEEL inspection 2023", "National child protection inspection", "Group-based CSE thematic",
    "JTAI early help", "Vetting and misconduct", "Stalking and harassment", "Custody inspection",
    "Domestic abuse thematic", "VAWG inspection", "Crime data integrity",
]  # fmt: skip
FORCES = ["Northumbria", "Cambridgeshire", "Kent", "Durham", "Cleveland", "Cumbria", "Essex", "Dorset"]


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(QUALIFIERS)}."


def random_meta(rng: random.Random, number: int) -> DocumentMeta:
    published = date(2018, 1, 1).toordinal() + rng.randrange(2500)
    return DocumentMeta(
        doc_id=f"bench-{number:06d}",
        force=rng.choice(FORCES),
        inspection_title=rng.choice(TITLES),
        inspection_type=rng.choice([InspectionType.NATIONAL_THEMATIC, InspectionType.FORCE_SPECIFIC]),
        published=date.fromordinal(published),
        kind=DocumentKind.PCC_RESPONSE,
    )


def document(rng: random.Random, number: int) -> ParsedDocument:
    meta = random_meta(rng, number)
    precedents = [
        Precedent(finding=Finding(number=str(i + 1), text=sentence(rng)), response=sentence(rng))
        for i in range(PRECEDENTS_PER_DOC)
    ]
    return ParsedDocument(meta=meta, precedents=precedents)


def documents(size: int, seed: int) -> list[ParsedDocument]:
    rng = random.Random(seed)
    return [document(rng, i) for i in range(math.ceil(size / PRECEDENTS_PER_DOC))]


def queries(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(TITLES)} {sentence(rng)}" for _ in range(count)]


# --- measuring ----------------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_ingestion(index: PrecedentIndex, model: MiniLMEmbeddings, docs: list[ParsedDocument]) -> dict[str, Any]:
    """Raw model and ingestion alternate in rounds of ~1,000 chunks on the same texts, so load from other
    processes on the machine drifts onto both sides alike."""
    model.embed_array([chunk.text for chunk in chunk_document(docs[0])])  # warm-up
    raw_seconds = ingest_seconds = 0.0
    chunks = 0
    per_round = max(1, 1000 // PRECEDENTS_PER_DOC)
    with index.batch():
        for start in range(0, len(docs), per_round):
            round_docs = docs[start : start + per_round]
            texts = [chunk.text for doc in round_docs for chunk in chunk_document(doc)]
            chunks += len(texts)
            raw_seconds += timed(lambda t=texts: model.embed_array(t))  # type: ignore[misc]
            ingest_seconds += timed(lambda d=round_docs: _ingest_round(index, d))  # type: ignore[misc]
        # The keyword rebuild at the end of the batch counts as ingestion too.
        started = time.perf_counter()
    rebuild_seconds = time.perf_counter() - started
    ingest_seconds += rebuild_seconds
    assert index.count() == chunks, (index.count(), chunks)
    raw_rate, ingest_rate = chunks / raw_seconds, chunks / ingest_seconds
    return {
        "chunks": chunks,
        "raw_model_chunks_per_s": round(raw_rate, 1),
        "ingest_chunks_per_s": round(ingest_rate, 1),
        "ingest_vs_raw": round(ingest_rate / raw_rate, 3),
        "target_ingest_vs_raw": 0.85,
        "keyword_rebuild_s": round(rebuild_seconds, 2),
    }


def _ingest_round(index: PrecedentIndex, docs: list[ParsedDocument]) -> None:
    for doc in docs:
        index.upsert_document(doc)
    index._flush()  # write this round's queue now, so its cost lands in this round's timing


def fill_precomputed(index: PrecedentIndex, model: MiniLMEmbeddings, size: int, seed: int) -> dict[str, Any]:
    """Insert `size` chunks with vectors built from an embedded sentence pool (see module docstring)."""
    rng = random.Random(seed)
    pool = list(dict.fromkeys(sentence(rng) for _ in range(POOL_SIZE * 2)))[:POOL_SIZE]
    started = time.perf_counter()
    pool_vectors = model.embed_array(pool)
    pool_seconds = time.perf_counter() - started
    noise = np.random.default_rng(seed)
    inserted = 0
    insert_seconds = 0.0
    for batch in _precomputed_batches(size, pool, pool_vectors, rng, noise):
        chunks, vectors = batch
        start = time.perf_counter()
        index.collection.upsert(
            ids=[c.id for c in chunks],
            embeddings=vectors,
            documents=[c.text for c in chunks],
            metadatas=[chunk_metadata(c) for c in chunks],  # type: ignore[misc]
        )
        insert_seconds += time.perf_counter() - start
        inserted += len(chunks)
    rebuild_seconds = timed(index.refresh_keyword_index)
    return {
        "chunks": inserted,
        "pool_sentences_embedded": len(pool),
        "pool_embed_s": round(pool_seconds, 1),
        "chroma_insert_chunks_per_s": round(inserted / insert_seconds, 1),
        "keyword_rebuild_s": round(rebuild_seconds, 2),
    }


def _precomputed_batches(
    size: int, pool: list[str], pool_vectors: np.ndarray, rng: random.Random, noise: np.random.Generator
) -> Iterator[tuple[list[Chunk], np.ndarray]]:
    for start in range(0, size, INSERT_PAGE):
        count = min(INSERT_PAGE, size - start)
        pairs = [(rng.randrange(len(pool)), rng.randrange(len(pool))) for _ in range(count)]
        vectors = pool_vectors[[a for a, _ in pairs]] + pool_vectors[[b for _, b in pairs]]
        vectors += noise.normal(0, 0.02, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        chunks = []
        for offset, (a, b) in enumerate(pairs):
            number = start + offset
            if number % PRECEDENTS_PER_DOC == 0 or not chunks:
                meta = random_meta(rng, number // PRECEDENTS_PER_DOC)
            text = f"{meta.inspection_title}\n{pool[a]} {pool[b]} ({number})"
            chunks.append(
                Chunk(
                    id=chunk_id(meta.doc_id, ChunkSection.COMMENTS, text),
                    doc_id=meta.doc_id,
                    section=ChunkSection.COMMENTS,
                    text=text,
                    meta=meta,
                )
            )
        yield chunks, vectors


def measure_queries(index: PrecedentIndex, model: MiniLMEmbeddings, texts: list[str]) -> dict[str, Any]:
    some_doc = index.collection.get(limit=1, include=["metadatas"])["metadatas"][0]["doc_id"]  # type: ignore[index]
    variants = {
        "default_filters": SearchFilters(),
        "exclude_one_document": SearchFilters(exclude_doc_ids=(some_doc,)),
        "force_filter": SearchFilters(force="Kent"),
    }
    for text in texts[:5]:  # warm-up
        index.search(text, k=10)
    out: dict[str, Any] = {
        "query_embedding": percentiles([timed(lambda t=text: model.embed_query(t)) for text in texts])  # type: ignore[misc]
    }
    for name, filters in variants.items():
        out[name] = percentiles(
            [timed(lambda t=text, f=filters: index.search(t, k=10, filters=f)) for text in texts]  # type: ignore[misc]
        )
    return out


def measure_recall(index: PrecedentIndex, model: MiniLMEmbeddings, texts: list[str], k: int = 10) -> dict[str, Any]:
    ids, vectors = _all_vectors(index)
    found = 0
    for text in texts:
        query = np.asarray(model.embed_query(text), dtype=np.float32)
        exact = {ids[i] for i in np.argsort(-(vectors @ query))[:k]}
        approx = index.collection.query(query_embeddings=[query], n_results=k, include=[])["ids"][0]
        found += len(exact & set(approx))
    return {"recall_at_10": round(found / (k * len(texts)), 4), "target": 0.95, "queries": len(texts)}


def _all_vectors(index: PrecedentIndex) -> tuple[list[str], np.ndarray]:
    ids: list[str] = []
    parts: list[np.ndarray] = []
    offset = 0
    while True:
        page = index.collection.get(include=["embeddings"], limit=10_000, offset=offset)
        if not page["ids"]:
            break
        ids.extend(page["ids"])
        parts.append(np.asarray(page["embeddings"], dtype=np.float32))
        offset += len(page["ids"])
    vectors = np.concatenate(parts)
    return ids, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# --- running ---------------------------------------------------------------------------------------------------


@dataclass
class Options:
    sizes: list[int]
    ingest_max: int
    queries: int
    seed: int


def parse_size(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def run_size(size: int, options: Options, model: MiniLMEmbeddings) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-retrieval-{size}-") as tmp:
        index = PrecedentIndex(RetrievalConfig(data_dir=Path(tmp)), embeddings=model)
        result: dict[str, Any] = {"size": size}
        if size <= options.ingest_max:
            result["ingestion"] = measure_ingestion(index, model, documents(size, options.seed))
        else:
            result["precomputed_fill"] = fill_precomputed(index, model, size, options.seed)
        texts = queries(options.queries, options.seed + 1)
        result["latency"] = measure_queries(index, model, texts)
        result["dense_recall"] = measure_recall(index, model, texts)
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench retrieval", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k,100k", help="comma-separated chunk counts, e.g. 1k,10k")
    parser.add_argument("--ingest-max", default="10k", help="largest size ingested through the real path")
    parser.add_argument("--queries", type=int, default=200, help="queries per latency/recall measurement")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--hnsw", default="", help="override HNSW settings for this run, e.g. construction_ef=100,search_ef=100,M=16"
    )
    args = parser.parse_args(argv)
    for setting in filter(None, args.hnsw.split(",")):
        key, value = setting.split("=")
        # Only new collections take these: every size is built in a fresh temporary directory.
        index_module.COLLECTION_METADATA = {**index_module.COLLECTION_METADATA, f"hnsw:{key.strip()}": int(value)}
    options = Options(
        sizes=[parse_size(s) for s in args.sizes.split(",") if s.strip()],
        ingest_max=parse_size(args.ingest_max),
        queries=args.queries,
        seed=args.seed,
    )
    model = MiniLMEmbeddings()
    report: dict[str, Any] = {
        "bench": "retrieval",
        "when": datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "collection_metadata": index_module.COLLECTION_METADATA,
        "results": [],
    }
    for size in options.sizes:
        print(f"[retrieval] {size} chunks …", flush=True)
        result = run_size(size, options, model)
        report["results"].append(result)
        print(json.dumps(result, indent=2), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"retrieval-{datetime.now():%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"[retrieval] written {out}")
    return report


if __name__ == "__main__":
    main()
