"""What the Slack listeners are given: every service they call, typed, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from bot.metrics import Metrics
from bot.services.conversations import Conversations
from bot.services.draft_queue import DraftQueue
from bot.services.home_tab import HomeTab
from bot.services.poster import SlackPoster
from bot.services.register_desk import RegisterDesk
from bot.services.reminder_sweeper import ReminderSweeper
from bot.services.report_intake import ReportIntake
from bot.services.review_actions import ReviewActions
from bot.services.slash_command import HmicfrsCommand
from bot.services.workers import JobRunner
from bot.settings import Settings
from tracker.clock import Clock
from tracker.repository import Repository


@dataclass(frozen=True)
class BotDeps:
    settings: Settings
    store: Repository
    clock: Clock
    poster: SlackPoster
    jobs: JobRunner
    drafts: DraftQueue
    conversations: Conversations
    reports: ReportIntake
    reviews: ReviewActions
    command: HmicfrsCommand
    home: HomeTab
    sweeper: ReminderSweeper
    metrics: Metrics
    register_desk: RegisterDesk
