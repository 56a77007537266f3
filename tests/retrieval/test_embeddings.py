"""The bundled sentence-embedding model: offline, pinned by sha256, unit-norm 384-dim vectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from retrieval import embeddings as emb
from retrieval.config import RetrievalConfig
from retrieval.embeddings import EmbeddingModelError, MiniLMEmbeddings, load_embeddings


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


def test_vectors_are_384_dimensional_and_unit_norm(model: MiniLMEmbeddings) -> None:
    vectors = model.embed_documents(["The force reviewed its missing children procedures.", "Short.", ""])
    assert len(vectors) == 3
    for vector in vectors:
        assert len(vector) == 384
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)


def test_similar_sentences_are_closer_than_unrelated_ones(model: MiniLMEmbeddings) -> None:
    anchor = model.embed_query("Chief constables should review how they manage missing children.")
    similar = model.embed_query("Forces must improve their handling of children who go missing.")
    unrelated = model.embed_query("The bakery sells sourdough bread on Saturday mornings.")
    assert cosine(anchor, similar) > cosine(anchor, unrelated) + 0.2


def test_embeddings_are_deterministic_and_independent_of_batch(model: MiniLMEmbeddings) -> None:
    texts = [
        "A new problem profile for child sexual exploitation has been commissioned.",
        "Hydrant delivered training to the force in spring 2023.",
        "I will monitor progress through my scrutiny process, which meets every quarter of the year.",
    ]
    first = np.array(model.embed_documents(texts))
    again = np.array(model.embed_documents(texts))
    assert np.array_equal(first, again)
    # Padding per batch must not change a text's vector: alone or with longer neighbours, the same.
    alone = np.array([model.embed_query(text) for text in texts])
    assert np.allclose(first, alone, atol=1e-4)


def test_input_order_is_preserved(model: MiniLMEmbeddings) -> None:
    texts = ["x " * 200, "short one", "a medium length sentence about domestic abuse"]
    batched = model.embed_documents(texts)
    reversed_batch = model.embed_documents(texts[::-1])[::-1]
    assert np.allclose(batched, reversed_batch, atol=1e-4)


def test_long_text_is_truncated_not_rejected(model: MiniLMEmbeddings) -> None:
    opening = "Safeguarding children is the first duty of the partnership. "
    long_text = opening * 200  # ~2,400 tokens, far beyond the model's 256
    vector = model.embed_query(long_text)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)
    assert cosine(vector, model.embed_query(opening * 40)) > 0.99


def test_empty_batch(model: MiniLMEmbeddings) -> None:
    assert model.embed_documents([]) == []


@pytest.fixture
def fresh_encoder() -> Iterator[None]:
    """The encoder is cached per process: clear it so the hash check runs, and again afterwards so later
    tests load the real model under the real pins."""
    emb._shared_encoder.cache_clear()
    yield
    emb._shared_encoder.cache_clear()


@pytest.mark.usefixtures("fresh_encoder")
def test_model_hash_mismatch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emb, "MODEL_SHA256", "0" * 64)
    with pytest.raises(EmbeddingModelError, match=r"embedding model .* has sha256"):
        MiniLMEmbeddings()


@pytest.mark.usefixtures("fresh_encoder")
def test_tokenizer_hash_mismatch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emb, "TOKENIZER_SHA256", "f" * 64)
    with pytest.raises(EmbeddingModelError, match=r"embedding tokenizer .* has sha256"):
        MiniLMEmbeddings()


def test_pinned_hashes_match_the_installed_files() -> None:
    assert emb.sha256_of(emb.model_file()) == emb.MODEL_SHA256
    assert emb.sha256_of(emb.tokenizer_file()) == emb.TOKENIZER_SHA256


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="missing"):
        emb.verify_file(tmp_path / "model.onnx", emb.MODEL_SHA256, "embedding model")


def test_load_embeddings_selects_the_bundled_model(tmp_path: Path) -> None:
    model = load_embeddings(RetrievalConfig(data_dir=tmp_path))
    assert isinstance(model, MiniLMEmbeddings)


def test_load_embeddings_rejects_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="Unknown embedding model"):
        load_embeddings(RetrievalConfig(data_dir=tmp_path, embedding="openai:text-embedding-3"))


def test_sentence_transformers_path_gives_an_actionable_error(tmp_path: Path) -> None:
    # Either the optional packages are absent (say what to install) or the directory is (say which).
    with pytest.raises(EmbeddingModelError, match=r"pip install|No sentence-transformers model directory"):
        load_embeddings(RetrievalConfig(data_dir=tmp_path, embedding=f"st:{tmp_path / 'no-model'}"))
