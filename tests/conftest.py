"""Fixtures shared across the suite; a module overrides one by defining its own of the same name.

model      the bundled embedding model, loaded once per session (it is read-only)
counting   that model, counting the texts it embeds
clock      a clock tests move by hand
repo       a migrated store (default policy) on that clock, on the test's backend
slack      the loopback fake of Slack's Web API
h          the real Bolt app over signed HTTP on the test's backend

The store suites run on every backend available: each of their tests that opens a store (through `repo`, `h`,
`make_repo`, `db_url`, `running_bot`, `Repository.connect`) is generated once per backend, `[sqlite]` always and
`[postgres]` when RESPONDER_TEST_DATABASE_URL names a server (`make test` and CI start one). A `[postgres]` test
gets its own database, copied from a template migrated once per session. A test that is about SQLite itself
(PRAGMAs, files) lives in SQLITE_ONLY and is generated once, on SQLite.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from retrieval.embeddings import MiniLMEmbeddings
from tests.support.retrieval import CountingEmbeddings
from tests.support.slack_fake import FakeSlack
from tests.support.slack_harness import Harness, running_bot
from tests.support.store import (
    SQLITE,
    Backend,
    FakeClock,
    PostgresDatabases,
    make_repo,
    postgres_admin_url,
    using,
)
from tracker.repository import Repository

#: Where the store suites live (paths relative to the repository root, a folder or one module).
STORE_SUITES = ("tests/tracker/", "tests/slack/", "tests/security/test_roles.py", "tests/production/test_postgres_")
#: Modules in those suites about SQLite itself: its PRAGMAs, WAL, busy timeout and database files.
SQLITE_ONLY = ("tests/tracker/test_db.py",)
#: Calls that open a store; a test whose code (or a fixture or helper it uses) makes one is run on each backend.
STORE_OPENERS = frozenset(
    {"make_repo", "db_url", "blank_db_url", "running_bot", "make_settings", "Repository.connect", "Store.connect"}
)
ROOT = Path(__file__).resolve().parent.parent


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_backend" not in metafunc.fixturenames:
        return
    backends = ["sqlite"] + (["postgres"] if postgres_admin_url() else [])
    if _in_store_suite(metafunc.definition.path) and _opens_store(metafunc):
        metafunc.parametrize("store_backend", backends, indirect=True, ids=backends)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """The PostgreSQL server's per-test databases and their migrated template (made on first use)."""
    admin_url = postgres_admin_url()
    assert admin_url, "a [postgres] test ran without RESPONDER_TEST_DATABASE_URL"
    databases = PostgresDatabases(admin_url)
    yield databases
    databases.close()


@pytest.fixture(autouse=True)
def store_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The backend every store helper uses in this test: SQLite unless the test was generated for another."""
    name = getattr(request, "param", "sqlite")
    backend: Backend = request.getfixturevalue("postgres_databases") if name == "postgres" else SQLITE
    with using(backend):
        yield backend
        # A [postgres] leg that never opened a database would be a second SQLite run under a misleading id.
        if name == "postgres" and backend.opened() == 0:
            pytest.fail("this [postgres] test never opened a store on PostgreSQL: it must not be generated twice")


def _in_store_suite(path: Path) -> bool:
    relative = path.resolve().relative_to(ROOT).as_posix()
    return relative.startswith(STORE_SUITES) and not relative.startswith(SQLITE_ONLY)


def _opens_store(metafunc: pytest.Metafunc) -> bool:
    """Whether the test function, a fixture it uses or a module helper (function or class) they call opens a
    store. A call that names its own `database_url` (a SQLite file, say) does not: it stays on that database."""
    module = vars(metafunc.module)
    fixturedefs = getattr(metafunc, "_arg2fixturedefs", {})
    functions: list[Callable[..., Any]] = [metafunc.function]
    functions += [fixturedef.func for defs in fixturedefs.values() for fixturedef in defs]
    return any(_calls_opener(function, module, set()) for function in functions)


def _calls_opener(function: Callable[..., Any], module: dict[str, Any], seen: set[str]) -> bool:
    try:
        tree = ast.parse(inspect.getsource(inspect.unwrap(function)).lstrip())
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    for name in _called_names(tree):
        if name in STORE_OPENERS:
            return True
        helper = module.get(name)
        local = (inspect.isfunction(helper) or inspect.isclass(helper)) and helper.__module__ == module.get("__name__")
        if name not in seen and local:
            seen.add(name)
            if _calls_opener(helper, module, seen):
                return True
    return False


def _called_names(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not any(keyword.arg == "database_url" for keyword in node.keywords):
            func = node.func
            if isinstance(func, ast.Name):
                yield func.id
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                yield f"{func.value.id}.{func.attr}"


@pytest.fixture(scope="session")
def model() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


@pytest.fixture
def counting(model: MiniLMEmbeddings) -> CountingEmbeddings:
    return CountingEmbeddings(model)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def repo(tmp_path: Path, clock: FakeClock) -> Iterator[Repository]:
    store = make_repo(tmp_path, clock=clock)
    yield store
    store.close()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    """The real Bolt app over signed HTTP, a loopback fake of Slack's Web API, a store on the test's backend."""
    with running_bot(tmp_path) as harness:
        yield harness
