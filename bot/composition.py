"""The composition root: everything is built here, once, from `Settings`, for `serve` and the command line alike.

`build_core` gives both front ends the same store (with the same approval policy), the same back-ends and the
same inspection desk; `build_slack` adds the Slack services on top. Heavy back-ends (the embedding model, Chroma,
the chat model) load on first use, not at start-up. Tests inject doubles through the same constructors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from bot.services.inspection_desk import InspectionDesk
from bot.settings import Settings
from tracker.channels import CeilingPolicy
from tracker.clock import Clock, utc_now
from tracker.pack_assembly import PackStyle
from tracker.repository import Repository
from tracker.review import ApprovalPolicy, Stage

# The Slack side and the heavy back-ends load only when asked for: `responder deadlines` needs neither.
if TYPE_CHECKING:
    from collections.abc import Sequence

    from slack_sdk import WebClient

    from bot.slack.app import Register, SlackBot
    from drafting.chain import Drafter
    from drafting.engines import ChatModelChoice
    from retrieval.index import PrecedentIndex

#: Drafting workers: few on purpose, the embedded model shares the machine's two cores.


class Backends:
    """The index, the chat model and the drafter, each loaded on first use; any may be injected instead."""

    def __init__(
        self,
        settings: Settings,
        *,
        index: PrecedentIndex | None = None,
        drafter: Drafter | None = None,
    ) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if index is not None:
            self.__dict__["index"] = index  # fills the cached_property
        if drafter is not None:
            self.__dict__["drafter"] = drafter

    @cached_property
    def index(self) -> PrecedentIndex:
        from retrieval.index import PrecedentIndex

        return PrecedentIndex(self.settings.retrieval())

    @cached_property
    def chat(self) -> ChatModelChoice:
        from drafting.engines import RemoteSettings, select_chat_model

        s = self.settings
        remote = RemoteSettings(base_url=s.llm_base_url, api_key=s.llm_api_key, max_retries=s.llm_max_retries)
        return select_chat_model(
            s.llm, s.data_dir, s.llm_timeout, model_path=s.model_path, provider=s.llm_provider, remote=remote
        )

    @cached_property
    def drafter(self) -> Drafter:
        from drafting.chain import Drafter
        from retrieval.glossary import aliases

        s = self.settings
        return Drafter(
            self.index,
            self.chat.model,
            self.chat.engine,
            timeout=s.llm_timeout,
            budget=s.draft_budget,
            stale_after_years=s.evidence_max_age_years,
            aliases=aliases(),
        )


@dataclass
class Core:
    """What every front end shares."""

    settings: Settings
    store: Repository
    backends: Backends
    desk: InspectionDesk
    clock: Clock

    def close(self) -> None:
        self.store.close()


def approval_policy(settings: Settings) -> ApprovalPolicy:
    """Who approves, in which stages (RESPONDER_SIGNOFF_CHAIN; none configured: one stage of reviewers)."""
    stages = [Stage(s.name.strip(), frozenset(s.approvers), s.required) for s in settings.signoff_chain]
    return ApprovalPolicy.of(settings.reviewers, settings.drafter_may_approve, settings.required_approvals, stages)


def ceiling_policy(settings: Settings) -> CeilingPolicy:
    """Each channel's classification ceiling: the office's upper bound, the configured ones, who may set one."""
    return CeilingPolicy(settings.max_classification, dict(settings.channel_ceilings), frozenset(settings.admins))


def build_core(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    store: Repository | None = None,
    backends: Backends | None = None,
) -> Core:
    store = store or Repository.connect(
        settings.sqlalchemy_url,
        approval_policy(settings),
        clock,
        ceiling_policy(settings),
        settings.owner_reminder_days,
    )
    backends = backends or Backends(settings)
    desk = InspectionDesk(
        store,
        force=settings.force,
        pcc_name=settings.pcc_name,
        pack_style=PackStyle(template=settings.pack_template, pdf=settings.pack_pdf),
        cc_days=settings.chief_constable_days,
        reminder_days=settings.reminder_days,
        index=lambda: backends.index,
        clock=clock,
    )
    return Core(settings, store, backends, desk, clock)


def make_client(settings: Settings) -> WebClient:
    """The Web API client: the bot token, Slack's API or `RESPONDER_SLACK_API_URL` (SlackPoster adds retries)."""
    from slack_sdk import WebClient

    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base = {"base_url": settings.slack_api_url.rstrip("/") + "/"} if settings.slack_api_url else {}
    return WebClient(token=token, **base)


def build_slack(
    core: Core,
    client: WebClient | None = None,
    *,
    listeners: Sequence[Register] | None = None,
    token_verification_enabled: bool = True,
    draft_workers: int | None = None,
) -> SlackBot:
    """The Slack app over `core`: every service built once and handed to the listeners."""
    from bot.metrics import Metrics
    from bot.services.conversations import Conversations
    from bot.services.draft_queue import DraftingScope, DraftQueue, QueueSettings
    from bot.services.home_tab import HomeTab
    from bot.services.permalinks import Permalinks
    from bot.services.poster import SlackPoster
    from bot.services.register_desk import RegisterDesk
    from bot.services.reminder_sweeper import ReminderSweeper
    from bot.services.report_intake import IntakeSettings, ReportIntake
    from bot.services.review_actions import ReviewActions
    from bot.services.reviewers import ReviewerDirectory
    from bot.services.slash_command import HmicfrsCommand
    from bot.services.workers import JobRunner
    from bot.slack.app import DEFAULT_LISTENERS, create_app
    from bot.slack.deps import BotDeps

    settings, store, clock = core.settings, core.store, core.clock
    metrics = Metrics(store.jobs.counts)
    poster = SlackPoster(client or make_client(settings), metrics)
    jobs = JobRunner(2, name="responder-intake")  # reading uploaded reports; drafting has its own workers
    queue = QueueSettings(workers=draft_workers or settings.draft_workers, lease_seconds=settings.job_lease_seconds)
    drafts = DraftQueue(
        store, poster, lambda: core.backends.drafter, DraftingScope(settings.force), queue, metrics=metrics
    )
    links = Permalinks(poster.client)
    drafts.link = links.message  # a card links the approved answers it repeats
    intake = IntakeSettings(settings.data_dir / "uploads", settings.slack_api_url, settings.force)
    reports = ReportIntake(store, poster, drafts, jobs, intake, clock, links=links)
    directory = ReviewerDirectory(poster.client, sorted(approval_policy(settings).reviewers))  # stages' groups too
    reviews = ReviewActions(store, poster, drafts, directory, settings.force)
    home = HomeTab(core.desk, poster, links, directory)
    reviews.on_change.append(home.refresh_quietly)
    reports.on_drafted.append(home.refresh_quietly)
    register_desk = RegisterDesk(store, poster, clock, core.desk.index_progress)
    register_desk.on_change.append(home.refresh_quietly)
    deps = BotDeps(
        settings=settings,
        store=store,
        clock=clock,
        poster=poster,
        jobs=jobs,
        drafts=drafts,
        conversations=Conversations(store, poster, drafts, reports),
        reports=reports,
        reviews=reviews,
        command=HmicfrsCommand(core.desk, poster, home, links, register=register_desk),
        home=home,
        sweeper=ReminderSweeper(
            store,
            poster,
            clock,
            after_sweep=home.refresh_quietly,
            metrics=metrics,
            not_before=settings.reminder_not_before,
        ),
        metrics=metrics,
        register_desk=register_desk,
    )
    bot = create_app(
        deps, listeners=listeners or DEFAULT_LISTENERS, token_verification_enabled=token_verification_enabled
    )
    drafts.start()  # after the app exists: jobs left by a stopped process start drafting now
    return bot
