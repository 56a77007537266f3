"""What Responder needs to work, each checked on its own: `responder doctor` prints them, start-up and (later)
`/readyz` use the same functions.

Every check is a pure function of the settings returning a `Check`: its name, whether it passed, what was
found, and what to do when it did not. None drafts anything or changes stored data: the database is written
inside a transaction that is rolled back, and the chat model is located, never loaded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.settings import Settings
from tracker.faults import StorageProblem, reason, safe_url, storage_problem

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from drafting.engines import EngineLoader


class Check(BaseModel):
    name: str
    ok: bool
    detail: str
    todo: str = ""


def passed(name: str, detail: str) -> Check:
    return Check(name=name, ok=True, detail=detail)


def failed(name: str, detail: str, todo: str) -> Check:
    return Check(name=name, ok=False, detail=detail, todo=todo)


# ── settings ─────────────────────────────────────────────────────────────────────────────────────────────


def load_settings(**overrides: Any) -> tuple[Check, Settings | None]:
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "a setting"
        todo = f"Fix RESPONDER_{where.upper()} in the environment or .env (see README 'Configuration')."
        return failed("settings", f"{where}: {first['msg']}", todo), None
    return passed("settings", f"loaded; data directory {settings.data_dir.resolve()}"), settings


# ── the database ─────────────────────────────────────────────────────────────────────────────────────────

DATABASE_TODO = "Check the file's permissions or RESPONDER_DATABASE_URL, then start again."
TODO: dict[StorageProblem, str] = {
    StorageProblem.FULL: "Free space on the database's disk (or raise its quota), then start again.",
    StorageProblem.READ_ONLY: DATABASE_TODO,
    StorageProblem.UNREACHABLE: "Check that the database server is running and RESPONDER_DATABASE_URL, "
    "then start again.",
    StorageProblem.INVALID: "Fix RESPONDER_DATABASE_URL (e.g. sqlite:///path/responder.db or "
    "postgresql+psycopg://user@host/responder), then start again.",
}


def startup_problem(error: BaseException) -> StorageProblem:
    """A storage fault's kind, also for what only opening the database raises (a driver not installed, a
    directory that cannot be made)."""
    if isinstance(error, ImportError):
        return StorageProblem.INVALID
    return storage_problem(error) or StorageProblem.UNREACHABLE


def todo_for(problem: StorageProblem, url: str) -> str:
    if problem is StorageProblem.UNREACHABLE and _is_sqlite(url):
        return DATABASE_TODO  # a file, not a server: its path or its permissions
    return TODO[problem]


def database_line(url: str, error: BaseException) -> str:
    """The one line start-up prints for a storage fault: what is wrong, where, and what to do."""
    problem = startup_problem(error)
    verb = "cannot reach" if problem in {StorageProblem.UNREACHABLE, StorageProblem.INVALID} else "cannot write"
    return f"Responder {verb} its database at {safe_url(url)}: {reason(error)}. {todo_for(problem, url)}"


def _is_sqlite(url: str) -> bool:
    try:
        return make_url(url).get_backend_name() == "sqlite"
    except Exception:
        return False


def check_database(settings: Settings) -> list[Check]:
    """Reachable, migrated to the latest schema, writable (a write rolled back)."""
    url = settings.sqlalchemy_url
    shown = safe_url(url)
    if _sqlite_file_missing(url):
        return [passed("database", f"{shown} does not exist yet; Responder creates and migrates it at start-up")]
    try:
        engine = _engine(url)
    except Exception as error:
        return [_database_failed("database reachable", url, error)]
    try:
        reached, revision = _reach(engine, url)
        if not reached.ok:
            return [reached]
        return [reached, _migrated(revision), check_writable(engine, url)]
    finally:
        engine.dispose()


def check_writable(engine: Engine, url: str) -> Check:
    """Insert one event key and roll it back: a read-only or full database refuses the insert itself."""
    error = write_error(engine)
    if error is not None:
        return _database_failed("database writable", url, error)
    return passed("database writable", "a test write was accepted (and rolled back)")


def write_error(engine: Engine) -> BaseException | None:
    """Why a write to the database fails (None when it succeeds); the write is always rolled back."""
    from tracker import schema

    table = schema.ProcessedEvent.__table__
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                row = {"key": f"doctor:{uuid.uuid4()}", "created_at": datetime.now(UTC)}
                connection.execute(table.insert().values(**row))  # type: ignore[attr-defined]
            finally:
                transaction.rollback()
    except Exception as error:
        return error
    return None


def database_write_error(settings: Settings) -> BaseException | None:
    """`write_error` on a fresh engine for the configured URL (start-up calls it after migrating)."""
    try:
        engine = _engine(settings.sqlalchemy_url)
    except Exception as error:
        return error
    try:
        return write_error(engine)
    finally:
        engine.dispose()


def _engine(url: str) -> Engine:
    from tracker.db import make_engine

    return make_engine(url)


def _sqlite_file_missing(url: str) -> bool:
    try:
        parsed = make_url(url)
    except Exception:
        return False
    database = parsed.database or ""
    in_memory = database in {"", ":memory:"} or database.startswith("file:")
    return parsed.get_backend_name() == "sqlite" and not in_memory and not Path(database).expanduser().exists()


def _reach(engine: Engine, url: str) -> tuple[Check, str | None]:
    # A raw connection reads without opening a write transaction (SQLite's BEGIN IMMEDIATE would need a lock).
    try:
        connection = engine.raw_connection()
    except Exception as error:
        return _database_failed("database reachable", url, error), None
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        revision = _revision(cursor)
    except Exception as error:
        return _database_failed("database reachable", url, error), None
    finally:
        connection.close()
    return passed("database reachable", safe_url(url)), revision


def _revision(cursor: Any) -> str | None:
    try:
        cursor.execute("SELECT version_num FROM alembic_version")
    except Exception:
        return None  # never migrated: no alembic_version table
    row = cursor.fetchone()
    return str(row[0]) if row else None


def _migrated(revision: str | None) -> Check:
    from alembic.script import ScriptDirectory

    from tracker.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision == head:
        return passed("database migrated", f"schema at the latest revision ({head})")
    found = revision or "no schema"
    return failed(
        "database migrated",
        f"schema at {found}, the latest is {head}",
        "Start Responder once (`responder serve`, or any `responder deadlines` command): it migrates the "
        "database to the latest schema.",
    )


def _database_failed(name: str, url: str, error: BaseException) -> Check:
    problem = startup_problem(error)
    return failed(name, f"{safe_url(url)}: {reason(error)} ({problem.value})", todo_for(problem, url))


# ── the precedent index and the embedding model ──────────────────────────────────────────────────────────


def check_index(settings: Settings) -> Check:
    """The index opens and holds chunks (read without the embedding model, so this is quick)."""
    from retrieval.faults import REBUILD_HINT, IndexUnavailable
    from retrieval.index import stored_chunks

    try:
        count = stored_chunks(settings.retrieval())
    except IndexUnavailable as error:
        return failed("precedent index", str(error), REBUILD_HINT)
    if count == 0:
        return failed(
            "precedent index",
            f"the index at {_index_place(settings)} is empty: drafts would find no precedent",
            "Run `responder ingest --bundled` or `responder ingest <folder>` (or `make run`).",
        )
    return passed("precedent index", f"{count} chunks at {_index_place(settings)}")


def _index_place(settings: Settings) -> str:
    from retrieval.index import index_location

    return index_location(settings.retrieval())


def check_embeddings(settings: Settings) -> Check:
    from retrieval.embeddings import load_embeddings

    try:
        vector = load_embeddings(settings.retrieval()).embed_query("health check")
    except Exception as error:
        return failed(
            "embedding model",
            f"{settings.embedding!r} does not load: {reason(error)}",
            "Set RESPONDER_EMBEDDING to 'minilm-int8' (bundled) or a local sentence-transformers directory, "
            "and reinstall Responder if the bundled model is missing.",
        )
    return passed("embedding model", f"{settings.embedding} loads ({len(vector)} dimensions)")


# ── the chat engine ──────────────────────────────────────────────────────────────────────────────────────


def check_chat_engine(settings: Settings, loader: EngineLoader | None = None) -> Check:
    """Which engine drafts, as `RESPONDER_LLM` resolves here: located, not loaded (that takes minutes)."""
    from drafting.engines import COMPOSER_ENGINE, EngineLoader

    loader = loader or EngineLoader()
    spec = settings.llm.strip()
    if spec == "composer":
        return passed("chat engine", f"{COMPOSER_ENGINE} (RESPONDER_LLM=composer): drafts without a chat model")
    if spec == "auto" and settings.llm_provider:
        problem = _provider_problem(settings.llm_provider, loader)
        if problem is None:
            return passed("chat engine", f"auto resolves to {settings.llm_provider} (RESPONDER_LLM_PROVIDER)")
        fallback = _local_check(settings, loader, auto=True)
        return fallback.model_copy(update={"detail": f"{problem}; {fallback.detail}"})
    if spec in {"auto", "local"}:
        return _local_check(settings, loader, auto=spec == "auto")
    problem = _provider_problem(spec, loader)
    if problem is not None:
        return failed("chat engine", problem, "Fix RESPONDER_LLM, or install the provider's extra (see README).")
    if settings.llm_base_url and spec.startswith("openai:"):
        return _endpoint_check(settings, spec.partition(":")[2])
    return passed("chat engine", f"{spec} (its integration is installed; not called)")


def _endpoint_check(settings: Settings, model: str) -> Check:
    """The OpenAI-compatible server answers and lists the model (an office's own server, Azure, Ollama …)."""
    from drafting.engines import RemoteSettings, endpoint_problem

    remote = RemoteSettings(base_url=settings.llm_base_url, api_key=settings.llm_api_key)
    problem = endpoint_problem(remote, model, timeout=min(5.0, settings.llm_timeout))
    if problem is None:
        return passed("chat engine", f"openai:{model} at {settings.llm_base_url}: the server lists the model")
    todo = "Start the server or fix RESPONDER_LLM_BASE_URL / RESPONDER_LLM (docs/model-endpoints.md)."
    return failed("chat engine", problem, todo)


def _provider_problem(spec: str, loader: EngineLoader) -> str | None:
    from drafting.engines import PROVIDERS

    provider, _, name = spec.partition(":")
    if provider not in PROVIDERS or not name:
        return f"{spec!r} is not 'provider:model' with a provider among {', '.join(PROVIDERS)}"
    module, extra = PROVIDERS[provider]
    if not loader.integration_installed(module):
        return f"{spec} needs {module}: pip install 'responder[{extra}]'"
    return None


def _local_check(settings: Settings, loader: EngineLoader, *, auto: bool) -> Check:
    from drafting.engines import COMPOSER_ENGINE, LOCAL_ENGINE
    from drafting.local_model import INSTALL_HINT, local_model_status

    missing = loader.runtime_missing()
    if settings.model_path is not None:
        where = settings.model_path
        problem = missing or (None if where.is_file() else f"RESPONDER_MODEL_PATH {where} is not a file")
        engine = f"local:{where.stem}"
    else:
        status = local_model_status(settings.data_dir)
        where = status.path
        parts = "" if status.parts_installed else f"the model's weights are not installed ({INSTALL_HINT})"
        problem = missing or (None if status.assembled or status.parts_installed else parts)
        engine = LOCAL_ENGINE
    prefix = "auto resolves to " if auto else ""
    if problem is None:
        state = "present" if where.is_file() else "assembled from the installed parts on first use"
        return passed("chat engine", f"{prefix}{engine}; model file {where} {state}")
    if auto:
        return passed("chat engine", f"auto resolves to {COMPOSER_ENGINE}: {problem}")
    return failed("chat engine", problem, "Run `make install-llm` and `responder model`, or set RESPONDER_LLM.")


# ── Slack ────────────────────────────────────────────────────────────────────────────────────────────────


def check_slack_tokens(settings: Settings) -> Check:
    """Which tokens are set (never their values): the bot token, and an app token or a signing secret."""
    bot = _secret(settings.slack_bot_token)
    if not bot.startswith("xoxb-"):
        state = "is not set" if not bot else "does not start with xoxb-"
        return failed(
            "Slack tokens",
            f"RESPONDER_SLACK_BOT_TOKEN {state}",
            "Set RESPONDER_SLACK_BOT_TOKEN to the Bot User OAuth Token (see README 'Slack set-up').",
        )
    app_token, secret = _secret(settings.slack_app_token), _secret(settings.slack_signing_secret)
    modes = [m for m, ok in (("Socket Mode", app_token.startswith("xapp-")), ("HTTP mode", bool(secret))) if ok]
    if not modes:
        return failed(
            "Slack tokens",
            "the bot token is set, but neither RESPONDER_SLACK_APP_TOKEN (xapp-…) nor "
            "RESPONDER_SLACK_SIGNING_SECRET is",
            "Set RESPONDER_SLACK_APP_TOKEN for Socket Mode or RESPONDER_SLACK_SIGNING_SECRET for --http.",
        )
    return passed("Slack tokens", f"bot token set; ready for {' and '.join(modes)}")


def check_slack_auth(settings: Settings, client: WebClient | None = None) -> Check:
    """`auth.test` with the bot token: the one check that talks to Slack (only with `doctor --slack`)."""
    from slack_sdk.errors import SlackApiError

    from bot.composition import make_client

    try:
        answer = (client or make_client(settings)).auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "an error")
        return failed("Slack auth.test", f"Slack refused the bot token: {code}", _AUTH_TODO)
    except Exception as error:
        return failed("Slack auth.test", f"Slack could not be reached: {type(error).__name__}", _AUTH_TODO)
    return passed("Slack auth.test", f"the bot is {answer.get('user')} in {answer.get('team')}")


_AUTH_TODO = "Reinstall the app and copy its Bot User OAuth Token into RESPONDER_SLACK_BOT_TOKEN; check the network."


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


# ── all of them ──────────────────────────────────────────────────────────────────────────────────────────


def run_checks(slack: bool = False, settings: Settings | None = None) -> list[Check]:
    """Every check in order; later ones are skipped (not run) when the settings cannot be read."""
    if settings is None:
        first, loaded = load_settings()
        if loaded is None:
            return [first]
        checks, settings = [first], loaded
    else:
        checks = [passed("settings", "given")]
    steps: list[Callable[[Settings], Check | list[Check]]] = [
        check_database,
        check_index,
        check_embeddings,
        check_chat_engine,
        check_slack_tokens,
    ]
    if slack:
        steps.append(check_slack_auth)
    for step in steps:
        result = step(settings)
        checks.extend(result if isinstance(result, list) else [result])
    return checks
