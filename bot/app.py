"""Builds the Slack Bolt app: the Web API client, a prefilter, and the listeners, registered from a list.

Each surface's listeners live in their own module under `bot/listeners/` with `register(app, deps)`;
`DEFAULT_LISTENERS` names them, and a caller (or a later feature) passes a longer list to add its own.
The prefilter runs before every listener: it drops bots' messages (ours included) and message edits, and
claims each Slack event id in the database so a retried delivery (`X-Slack-Retry-Num`), even one reaching
another bot instance, never drafts twice.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.jobs import DEFAULT_DRAFT_WORKERS, CountingExecutor, JobRunner
from bot.listeners import actions, assistant, commands, files, home, messages, views
from bot.reviewers import ReviewerDirectory
from bot.services import Services
from bot.settings import Settings
from bot.workflow import Workflow
from tracker.repository import Repository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
LISTENER_THREADS = 16
#: Message subtypes that are a person saying something; edits, deletions, joins and bot posts are not.
PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class BotDeps:
    """What listeners get. Later features may read any of it; they should not replace it."""

    settings: Settings
    services: Services
    store: Repository
    client: WebClient
    clock: Clock
    reviewers: ReviewerDirectory
    jobs: JobRunner
    workflow: Workflow
    extras: dict[str, Any] = field(default_factory=dict)
    #: Stop hooks a listener module may add (a background sweeper, say); Bot.close runs them first.
    closers: list[Callable[[], None]] = field(default_factory=list)


Register = Callable[[App, BotDeps], None]

DEFAULT_LISTENERS: tuple[Register, ...] = (
    assistant.register,  # its middleware takes DM-thread messages before the `message` listener sees them
    messages.register,
    files.register,
    actions.register,
    views.register,
    commands.register,  # /hmicfrs: deadlines, reminders offsets, the publication pack
    home.register,  # the App Home deadlines dashboard
)


@dataclass
class Bot:
    app: App
    deps: BotDeps
    listener_pool: CountingExecutor

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no listener and no background job is running (tests and benchmarks wait on this)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if not (self.listener_pool.wait_idle(max(left, 0)) and self.deps.jobs.wait_idle(max(left, 0))):
                return False
            if self.listener_pool.pending == 0 and self.deps.jobs.pending == 0:
                return True

    def close(self, wait: bool = True, cancel_queued: bool = False) -> None:
        for stop in reversed(self.deps.closers):
            try:
                stop()
            except Exception:
                log.exception("a stop hook failed")
        self.listener_pool.shutdown(wait=wait)
        self.deps.jobs.shutdown(wait=wait, cancel_queued=cancel_queued)


def make_client(settings: Settings) -> WebClient:
    """The Web API client: the bot token, Slack's API or `RESPONDER_SLACK_API_URL`, rate-limit retries."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    kwargs: dict[str, Any] = {"token": token}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url.rstrip("/") + "/"
    client = WebClient(**kwargs)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def create_bot(
    settings: Settings,
    services: Services,
    store: Repository,
    client: WebClient | None = None,
    *,
    clock: Clock = utc_now,
    listeners: Sequence[Register] = DEFAULT_LISTENERS,
    token_verification_enabled: bool = True,
    draft_workers: int = DEFAULT_DRAFT_WORKERS,
) -> Bot:
    client = client or make_client(settings)
    if not client.token:
        raise ValueError("No bot token: set RESPONDER_SLACK_BOT_TOKEN (xoxb-…); see README 'Slack set-up'.")
    pool = CountingExecutor(LISTENER_THREADS, thread_name_prefix="bolt-listener")
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = App(
        client=client,
        signing_secret=secret,
        process_before_response=False,  # ack first; listeners continue on the listener pool
        token_verification_enabled=token_verification_enabled,
        listener_executor=pool,
        name="responder",
    )
    reviewers = ReviewerDirectory(client, settings.reviewers)
    jobs = JobRunner(draft_workers)
    workflow = Workflow(
        client=client,
        store=store,
        drafter=lambda: services.drafter,
        settings=settings,
        reviewers=reviewers,
        jobs=jobs,
        clock=clock,
    )
    deps = BotDeps(settings, services, store, client, clock, reviewers, jobs, workflow)
    app.middleware(prefilter(store))
    for register in listeners:
        register(app, deps)
    _ack_unhandled_events(app)
    return Bot(app, deps, pool)


def create_app(
    settings: Settings,
    services: Services,
    store: Repository,
    client: WebClient | None = None,
    *,
    clock: Clock = utc_now,
    listeners: Sequence[Register] = DEFAULT_LISTENERS,
    token_verification_enabled: bool = True,
) -> App:
    return create_bot(
        settings,
        services,
        store,
        client,
        clock=clock,
        listeners=listeners,
        token_verification_enabled=token_verification_enabled,
    ).app


# ── the prefilter ────────────────────────────────────────────────────────────────────────────────────────


def prefilter(store: Repository) -> Callable[..., BoltResponse | None]:
    def responder_prefilter(
        req: BoltRequest, body: dict[str, Any], context: Any, next: Callable[[], None]
    ) -> BoltResponse | None:
        event = body.get("event") if body.get("type") == "event_callback" else None
        if not isinstance(event, dict):
            next()
            return None
        if is_from_a_bot(event, context.bot_user_id) or not is_from_a_person(event):
            return BoltResponse(status=200, body="")
        retry = _header(req, "x-slack-retry-num")
        if retry:
            log.info(
                "Slack retry %s (%s) of event %s",
                retry,
                _header(req, "x-slack-retry-reason") or "no reason",
                body.get("event_id"),
            )
        event_id = body.get("event_id")
        if event_id and worth_claiming(event) and not store.claim_event(f"event:{event_id}"):
            log.info("event %s already handled; dropping the repeat", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return responder_prefilter


def is_from_a_bot(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Any bot's message (ours or another app's), or an event our own user caused (our file uploads)."""
    if event.get("bot_id") or event.get("subtype") == "bot_message":
        return True
    actor = event.get("user") or event.get("user_id")
    return bool(bot_user_id) and actor == bot_user_id


def is_from_a_person(event: dict[str, Any]) -> bool:
    return event.get("type") != "message" or event.get("subtype") in PERSON_SUBTYPES


def worth_claiming(event: dict[str, Any]) -> bool:
    """Plain channel chatter is most traffic and never drafts; claiming it would only fill the table."""
    if event.get("type") != "message":
        return True
    return event.get("channel_type") == "im" or bool(event.get("thread_ts")) or bool(event.get("files"))


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None


def _ack_unhandled_events(app: App) -> None:
    """Registered last: subscribed events nobody handles get 200, or Slack would retry and then disable us."""

    @app.event(re.compile(".*"))
    def ignore_unhandled_event(body: dict[str, Any]) -> None:
        log.debug("no listener for %s", body.get("event", {}).get("type"))
