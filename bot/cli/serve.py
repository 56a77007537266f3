"""`responder serve`: run the Slack app over Socket Mode (default) or HTTP (`--http --port N`)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.console import EXIT_INPUT, err, fail
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.composition import Backends, Core
    from bot.services.inspection_desk import InspectionDesk

log = logging.getLogger(__name__)

SETUP_HINT = "see README 'Slack set-up'"


def missing_settings(settings: Settings, http: bool) -> list[str]:
    """Every setting the chosen transport needs and lacks, each with what to set (empty when ready)."""
    problems = []
    bot = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not bot:
        problems.append("set RESPONDER_SLACK_BOT_TOKEN to the bot token (xoxb-…, 'OAuth & Permissions')")
    elif not bot.startswith("xoxb-"):
        problems.append("RESPONDER_SLACK_BOT_TOKEN must be the bot token, which starts with xoxb-")
    if http:
        if not settings.slack_signing_secret or not settings.slack_signing_secret.get_secret_value():
            problems.append(
                "set RESPONDER_SLACK_SIGNING_SECRET to the signing secret ('Basic Information'); HTTP mode "
                "refuses unsigned requests"
            )
    else:
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        if not app_token:
            problems.append(
                "set RESPONDER_SLACK_APP_TOKEN to an app-level token with connections:write (xapp-…, "
                "'Basic Information' → 'App-Level Tokens') for Socket Mode, or run with --http"
            )
        elif not app_token.startswith("xapp-"):
            problems.append("RESPONDER_SLACK_APP_TOKEN must be an app-level token, which starts with xapp-")
    return problems


def serve(
    http: Annotated[bool, typer.Option("--http", help="HTTP mode at /slack/events instead of Socket Mode")] = False,
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", min=1, max=65535, help="HTTP port (with --http)")
    ] = 3000,
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on (with --http)")
    ] = "0.0.0.0",
) -> None:
    """Run the Slack app: Socket Mode by default (no public URL needed), or HTTP with --http."""
    run_serve(http=http, port=port, host=host)


def run_serve(http: bool, port: int, host: str) -> None:
    settings = Settings()
    problems = missing_settings(settings, http)
    if problems:
        raise fail("cannot start the Slack app:\n  - " + "\n  - ".join(problems) + f"\n({SETUP_HINT})", EXIT_INPUT)

    from bot.composition import build_slack
    from bot.readiness import readiness_for
    from bot.slack.transport import HttpServer, run_socket_mode

    core = open_core(settings)
    warn_about_the_index(settings)
    bot = build_slack(core)
    bot.deps.sweeper.start()  # deadline reminders, exactly once across instances
    if not settings.reviewers:
        err.print("[yellow]No RESPONDER_REVIEWERS configured: anyone in the channel may approve answers.[/]")
    threading.Thread(target=_warm_up, args=(core.backends, core.desk), name="warm-up", daemon=True).start()
    signal.signal(signal.SIGTERM, _interrupt)  # a container stop shuts down like Ctrl-C, running the cleanup
    try:
        if http:
            ready = readiness_for(settings, core.store)
            server = HttpServer(bot.app, host, port, ready=ready, metrics=bot.deps.metrics)
            err.print(f"Responder is listening for Slack at [bold]{server.url}[/] (HTTP mode).")
            err.print(f"Health: /healthz · readiness: /readyz · Prometheus metrics: /metrics on port {server.port}.")
            server.serve_forever()
        else:
            assert settings.slack_app_token is not None
            err.print("Responder is connecting to Slack over Socket Mode.")
            run_socket_mode(bot.app, settings.slack_app_token.get_secret_value())
    except KeyboardInterrupt:
        err.print("Stopping.")
    finally:
        bot.close(wait=False)
        core.close()


def open_core(settings: Settings) -> Core:
    """The core, its database migrated and writable; or one line saying what is wrong and what to do, and exit 1.

    A bot that cannot store anything cannot do anything a reviewer could rely on, so it does not start.
    """
    from bot.composition import build_core
    from bot.health import database_line, database_write_error
    from tracker.faults import storage_problem

    url = settings.sqlalchemy_url
    try:
        core = build_core(settings)
    except Exception as error:
        # OSError: the SQLite file's directory cannot be made; ImportError: the URL's driver is not installed.
        if storage_problem(error) is None and not isinstance(error, (OSError, ImportError)):
            raise
        raise fail(database_line(url, error)) from None
    error = database_write_error(settings)
    if error is not None:
        core.close()
        raise fail(database_line(url, error))
    return core


def warn_about_the_index(settings: Settings) -> None:
    """An unreadable index does not stop the bot (tracking, reviews and packs still work): one WARNING line,
    and each drafting request is told the same in its thread."""
    from bot.health import check_index

    index = check_index(settings)
    if not index.ok:
        log.warning("%s %s Drafting is unavailable until then.", index.detail, index.todo)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _warm_up(backends: Backends, desk: InspectionDesk) -> None:
    """Load the index and the chat model now, so the first request does not wait for them; then index any
    register update a failure (or a crash) left out of the library."""
    from bot.services.errors import is_expected
    from retrieval.faults import IndexUnavailable

    try:
        _ = backends.drafter
    except IndexUnavailable:
        log.debug("the index is unreadable; said so at start-up")
        return
    except Exception as error:
        trace = error if not is_expected(error) else None
        log.warning("The drafting engine could not be loaded (%s); drafts will say so in Slack.", error, exc_info=trace)
    try:
        # Register updates whose indexing failed (or was interrupted) become evidence now; the rest are no-ops.
        log.info("%d register item(s) indexed as the force's latest position", desk.index_register())
    except Exception:
        log.warning("Indexing the register's updates failed; they are tried again at the next start", exc_info=True)
