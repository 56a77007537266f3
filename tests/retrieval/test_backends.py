"""The two Chroma clients the index tests run on (tests/retrieval/conftest.py): each leg really uses its client,
and on the server every test has a collection of its own, dropped when it ends."""

from __future__ import annotations

from pathlib import Path

from retrieval.embeddings import MiniLMEmbeddings
from retrieval.index import PrecedentIndex, client_spec, index_location
from tests.retrieval.conftest import SERVER_HOST, SERVER_PORT, Backend, server_client
from tests.support.retrieval import acronym_doc


def test_each_leg_uses_its_own_client(backend: Backend, small_index: PrecedentIndex) -> None:
    small_index.upsert_document(acronym_doc())
    config = small_index.config
    if backend.kind == "server":
        assert client_spec(config).kind == "http"
        assert index_location(config) == f"http://{SERVER_HOST}:{SERVER_PORT}"
        assert server_client().get_collection(config.collection).count() == 1
        assert not config.chroma_dir.exists()  # nothing went to an embedded store on the side
    else:
        assert client_spec(config).kind == "persistent"
        assert (config.chroma_dir / "chroma.sqlite3").is_file()
    assert small_index.count() == 1


def test_tests_do_not_see_each_other_and_collections_are_dropped(
    backend: Backend, tmp_path: Path, model: MiniLMEmbeddings
) -> None:
    first_config, second_config = backend.config(tmp_path / "a"), backend.config(tmp_path / "b")
    try:
        first = PrecedentIndex(first_config, embeddings=model)
        second = PrecedentIndex(second_config, embeddings=model)
        first.upsert_document(acronym_doc())
        assert (first.count(), second.count()) == (1, 0)
        assert second.search("MASH triage", k=5) == []
    finally:
        backend.drop(first_config)
        backend.drop(second_config)
    if backend.kind == "server":
        assert first_config.collection != second_config.collection
        names = {collection.name for collection in server_client().list_collections()}
        assert not names & {first_config.collection, second_config.collection}
    assert backend.created == []
