"""The index fixtures, run on both Chroma clients the product supports.

backend       `embedded` (PersistentClient in a temporary data directory) and, whenever
              RESPONDER_TEST_CHROMA_HOST is set (`make test` / CI start a server: .ci/servers/chroma.sh),
              `server` (HttpClient to that server). Module-scoped, so module-scoped indexes are built once per leg.
index_config  a RetrievalConfig on the leg's client: its own temporary data directory and, on the server, a
              collection name no other test uses, dropped from the server when the test ends
small_index   an empty PrecedentIndex on index_config, embedding through `counting`

A test that asks for any of these runs once per leg: `test_x[embedded]`, `test_x[server]`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings

from retrieval.config import RetrievalConfig
from retrieval.index import PrecedentIndex
from tests.support.retrieval import CountingEmbeddings

SERVER_HOST = os.environ.get("RESPONDER_TEST_CHROMA_HOST", "").strip()
SERVER_PORT = int(os.environ.get("RESPONDER_TEST_CHROMA_PORT", "8000") or 8000)
BACKENDS = ["embedded", "server"] if SERVER_HOST else ["embedded"]


@dataclass
class Backend:
    """One Chroma client kind; hands out configs and drops the server collections it named."""

    kind: str
    created: list[str] = field(default_factory=list)

    def config(self, data_dir: Path) -> RetrievalConfig:
        if self.kind == "embedded":
            return RetrievalConfig(data_dir=data_dir)
        name = f"test-{uuid.uuid4().hex[:16]}"
        self.created.append(name)
        return RetrievalConfig(data_dir=data_dir, chroma_host=SERVER_HOST, chroma_port=SERVER_PORT, collection=name)

    def drop(self, config: RetrievalConfig) -> None:
        """Delete the config's collection from the server (nothing to do for the embedded store)."""
        if self.kind != "server" or config.collection not in self.created:
            return
        client = server_client()
        if config.collection in {c.name for c in client.list_collections()}:
            client.delete_collection(config.collection)
        self.created.remove(config.collection)


def server_client() -> chromadb.ClientAPI:
    """A client of the test server, independent of the one under test."""
    return chromadb.HttpClient(host=SERVER_HOST, port=SERVER_PORT, settings=Settings(anonymized_telemetry=False))


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    chosen = Backend(request.param)
    yield chosen
    assert chosen.created == [], f"server collections left behind: {chosen.created}"


@pytest.fixture
def index_config(backend: Backend, tmp_path: Path) -> Iterator[RetrievalConfig]:
    config = backend.config(tmp_path / "data")
    yield config
    backend.drop(config)


@pytest.fixture
def small_index(index_config: RetrievalConfig, counting: CountingEmbeddings) -> PrecedentIndex:
    return PrecedentIndex(index_config, embeddings=counting)
