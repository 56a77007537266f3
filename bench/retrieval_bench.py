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

Server vs embedded (`--server 10k,100k`): the same collection searched through the embedded client and through
a Chroma server (`chroma run`, started here on loopback), in one run. One collection is filled with precomputed
vectors (a pool of 500 embedded sentences, as above) through the embedded client, with the keyword index built
from the inserted chunks; at each size its data directory is copied and served by `chroma run`, so both clients
search the very same HNSW graph and keyword index. The queries' vectors are embedded once beforehand and
handed to both clients (the model's time is reported on its own), so the latencies compare the store only:
`PrecedentIndex.search(k=10)` with the three filter sets, the two clients taking turns query by query (load from
other processes falls on both alike), p50/p95 and the ratio server / embedded, and whether both gave the same
ten chunks. 10k is the first part of the 100k collection, so it is filled once: about 4.5 minutes for
`--server 10k,100k` on 2 cores, 3.5 of them inserting 100k chunks into Chroma; about 1.2 GB of memory at peak.

Run: `python -m bench retrieval [--sizes 1k,10k,100k] [--ingest-max 10k] [--queries 200] [--server 10k,100k]`
(`--sizes ''` skips the single-client section).
Results go to bench/results/retrieval-<time>.json. Other processes on the machine slow these numbers
down: the load average is recorded with them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from retrieval import index as index_module
from retrieval.chunking import chunk_document, chunk_id
from retrieval.config import RetrievalConfig
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.glossary import expand_query
from retrieval.index import PrecedentIndex, chunk_metadata, keyword_entry
from retrieval.keyword import KeywordEntry, KeywordIndex
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
    size: int,
    pool: list[str],
    pool_vectors: np.ndarray,
    rng: random.Random,
    noise: np.random.Generator,
    first: int = 0,
) -> Iterator[tuple[list[Chunk], np.ndarray]]:
    """Chunks numbered `first` … `size - 1`, INSERT_PAGE at a time, with their vectors."""
    for start in range(first, size, INSERT_PAGE):
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


# --- server vs embedded -----------------------------------------------------------------------------------------

SERVER_POOL_SIZE = 500
SERVER_QUERIES = 80


class FixedQueryEmbeddings(Embeddings):
    """Query vectors computed once beforehand: both clients search with exactly the same ones."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError("the comparison inserts precomputed vectors; nothing is embedded")


def query_vectors(model: MiniLMEmbeddings, texts: list[str]) -> tuple[dict[str, list[float]], dict[str, float]]:
    """The vector of each query as `search` will ask for it (after glossary expansion), and the model's time."""
    expanded = [expand_query(text) for text in texts]
    seconds = [timed(lambda t=text: model.embed_query(t)) for text in expanded]  # type: ignore[misc]
    return {text: model.embed_query(text) for text in expanded}, percentiles(seconds)


class ComparisonFill:
    """One growing collection for every compared size: 10k is the first 10k chunks of 100k (filled once)."""

    def __init__(self, model: MiniLMEmbeddings, seed: int) -> None:
        self.rng = random.Random(seed)
        self.noise = np.random.default_rng(seed)
        self.pool = list(dict.fromkeys(sentence(self.rng) for _ in range(SERVER_POOL_SIZE * 2)))[:SERVER_POOL_SIZE]
        started = time.perf_counter()
        self.pool_vectors = model.embed_array(self.pool)
        self.pool_seconds = time.perf_counter() - started
        self.entries: list[KeywordEntry] = []

    def fill_to(self, index: PrecedentIndex, size: int) -> dict[str, Any]:
        """Insert chunks until the collection holds `size`; the keyword index is built from them (not read back)."""
        first, insert_seconds = len(self.entries), 0.0
        batches = _precomputed_batches(size, self.pool, self.pool_vectors, self.rng, self.noise, first)
        for chunks, vectors in batches:
            metadatas = [chunk_metadata(c) for c in chunks]
            self.entries.extend(keyword_entry(c.id, c.text, md) for c, md in zip(chunks, metadatas, strict=True))
            insert_seconds += timed(
                lambda c=chunks, v=vectors, m=metadatas: index.collection.add(  # type: ignore[misc]
                    ids=[chunk.id for chunk in c], embeddings=v, documents=[chunk.text for chunk in c], metadatas=m
                )
            )
        keyword_seconds = timed(lambda: KeywordIndex.build(self.entries).save(index.keyword_dir))
        return {
            "chunks": index.count(),
            "inserted_now": len(self.entries) - first,
            "pool_sentences_embedded": len(self.pool),
            "pool_embed_s": round(self.pool_seconds, 1),
            "chroma_insert_chunks_per_s": round((len(self.entries) - first) / max(insert_seconds, 1e-9), 1),
            "keyword_build_s": round(keyword_seconds, 2),
        }


def filter_variants(index: PrecedentIndex) -> dict[str, SearchFilters]:
    some_doc = index.collection.get(limit=1, include=["metadatas"])["metadatas"][0]["doc_id"]  # type: ignore[index]
    return {
        "default_filters": SearchFilters(),
        "exclude_one_document": SearchFilters(exclude_doc_ids=(str(some_doc),)),
        "force_filter": SearchFilters(force="Kent"),
    }


def time_searches(
    clients: dict[str, PrecedentIndex], texts: list[str], variants: dict[str, SearchFilters]
) -> tuple[dict[str, dict[str, Any]], int]:
    """p50/p95 of `search(k=10)` per client and filter set, and how many answers every client gave alike.

    The clients take turns query by query, so load from other processes on the machine falls on each alike.
    """
    for index in clients.values():
        for text in texts[:5]:  # warm-up: the first query loads the HNSW segment
            index.search(text, k=10)
    seconds: dict[str, dict[str, list[float]]] = {name: {v: [] for v in variants} for name in clients}
    same = 0
    for variant, filters in variants.items():
        for text in texts:
            answers = []
            for name, index in clients.items():
                start = time.perf_counter()
                hits = index.search(text, k=10, filters=filters)
                seconds[name][variant].append(time.perf_counter() - start)
                answers.append([hit.chunk.id for hit in hits])
            same += all(answer == answers[0] for answer in answers)
    out = {name: {variant: percentiles(values) for variant, values in per.items()} for name, per in seconds.items()}
    for name, index in clients.items():
        # One call to the store on its own (a search makes four: generation, count, nearest, the chunks shown).
        out[name]["one_store_call_count"] = percentiles([timed(index.collection.count) for _ in texts])
    return out, same


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[int]:
    """`chroma run` over `path` on a free loopback port (telemetry off); stopped and waited for on exit."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with (path.parent / "chroma-server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            _wait_for_heartbeat(port, server)
            yield port
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_for_heartbeat(port: int, server: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"chroma run exited with {server.returncode} (see chroma-server.log)")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the Chroma server did not answer its heartbeat within {seconds:.0f} s")


def ratios(server: dict[str, Any], embedded: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {
        name: {key: round(server[name][key] / embedded[name][key], 2) for key in ("p50_ms", "p95_ms")}
        for name in embedded
        if name in server
    }


def compare_clients(options: Options, model: MiniLMEmbeddings) -> list[dict[str, Any]]:
    """Each size searched embedded, then through a Chroma server over a copy of the same data directory."""
    texts = queries(options.server_queries, options.seed + 1)
    vectors, embedding_time = query_vectors(model, texts)
    fixed = FixedQueryEmbeddings(vectors)
    fill = ComparisonFill(model, options.seed)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        for size in sorted(options.server_sizes):
            print(f"[retrieval] server vs embedded, {size} chunks …", flush=True)
            result = compare_at(size, Path(tmp), fill, texts, fixed)
            result["query_embedding_not_included"] = embedding_time
            print(json.dumps(result, indent=2), flush=True)
            results.append(result)
    return results


def compare_at(size: int, tmp: Path, fill: ComparisonFill, texts: list[str], fixed: Embeddings) -> dict[str, Any]:
    started = time.perf_counter()
    embedded_dir, served_dir = tmp / "embedded", tmp / f"served-{size}"
    index = PrecedentIndex(RetrievalConfig(data_dir=embedded_dir), embeddings=fixed)
    result: dict[str, Any] = {"size": size, "fill": fill.fill_to(index, size)}
    variants = filter_variants(index)
    index.client.clear_system_cache()  # release the store's files before they are copied
    del index
    copy_seconds = timed(lambda: shutil.copytree(embedded_dir, served_dir))
    with chroma_server(served_dir / "chroma") as port:
        clients = {
            "embedded": PrecedentIndex(RetrievalConfig(data_dir=embedded_dir), embeddings=fixed),
            "server": PrecedentIndex(
                RetrievalConfig(data_dir=served_dir, chroma_host="127.0.0.1", chroma_port=port), embeddings=fixed
            ),
        }
        assert [index.count() for index in clients.values()] == [size, size]
        latency, same = time_searches(clients, texts, variants)
        clients["embedded"].client.clear_system_cache()
    shutil.rmtree(served_dir)
    result.update(latency)
    result["same_answers"] = f"{same}/{len(texts) * len(variants)}"
    result["server_vs_embedded"] = ratios(result["server"], result["embedded"])
    result["copy_s"] = round(copy_seconds, 1)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


# --- running ---------------------------------------------------------------------------------------------------


@dataclass
class Options:
    sizes: list[int]
    ingest_max: int
    queries: int
    seed: int
    server_sizes: list[int] = field(default_factory=list)
    server_queries: int = SERVER_QUERIES


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
        "--server",
        default="",
        help="also compare a Chroma server with the embedded client at these sizes, e.g. 10k,100k",
    )
    parser.add_argument("--server-queries", type=int, default=SERVER_QUERIES, help="queries per filter set and client")
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
        server_sizes=[parse_size(s) for s in args.server.split(",") if s.strip()],
        server_queries=args.server_queries,
    )
    model = MiniLMEmbeddings()
    report: dict[str, Any] = {
        "bench": "retrieval",
        "when": datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "collection_metadata": index_module.COLLECTION_METADATA,
        "results": [],
        "server_vs_embedded": [],
    }
    for size in options.sizes:
        print(f"[retrieval] {size} chunks …", flush=True)
        result = run_size(size, options, model)
        report["results"].append(result)
        print(json.dumps(result, indent=2), flush=True)
    if options.server_sizes:
        report["server_vs_embedded"] = compare_clients(options, model)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"retrieval-{datetime.now():%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"[retrieval] written {out}")
    return report


if __name__ == "__main__":
    main()
