"""`responder serve`: run the Slack app over Socket Mode (default) or HTTP (`--http --port N`)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from bot.cli import err, fail
from bot.services import Services
from bot.settings import Settings

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


def run_serve(http: bool, port: int, host: str) -> None:
    settings = Settings()
    problems = missing_settings(settings, http)
    if problems:
        raise fail("cannot start the Slack app:\n  - " + "\n  - ".join(problems) + f"\n({SETUP_HINT})", 2)

    from bot.app import create_bot
    from tracker.repository import Repository
    from tracker.review import ApprovalPolicy

    policy = ApprovalPolicy.of(settings.reviewers, settings.drafter_may_approve, settings.required_approvals)
    store = Repository.connect(settings.sqlalchemy_url, policy)
    services = Services(settings)
    bot = create_bot(settings, services, store)
    from bot.reminders import start_sweeper

    sweeper = start_sweeper(bot.deps)  # deadline reminders, exactly once across instances
    if not settings.reviewers:
        err.print("[yellow]No RESPONDER_REVIEWERS configured: anyone in the channel may approve answers.[/]")
    threading.Thread(target=_warm_up, args=(services,), name="warm-up", daemon=True).start()
    signal.signal(signal.SIGTERM, _interrupt)  # a container stop shuts down like Ctrl-C, running the cleanup
    try:
        if http:
            from bot.http_server import SlackHTTPServer

            server = SlackHTTPServer(bot.app, host, port)
            err.print(f"Responder is listening for Slack at [bold]{server.url}[/] (HTTP mode).")
            server.serve_forever()
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            assert settings.slack_app_token is not None
            err.print("Responder is connecting to Slack over Socket Mode.")
            SocketModeHandler(bot.app, settings.slack_app_token.get_secret_value()).start()
    except KeyboardInterrupt:
        err.print("Stopping.")
    finally:
        sweeper.stop()
        bot.close(wait=False)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _warm_up(services: Services) -> None:
    """Load the index and the chat model now, so the first request does not wait for them."""
    try:
        _ = services.drafter
    except Exception:
        log.exception("The drafting engine could not be loaded; drafts will report the error in Slack.")
