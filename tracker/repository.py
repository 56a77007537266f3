"""The system of record's front door: one object holding each aggregate over one shared unit of work.

    repo.inspections   inspections, deadlines, recipients, the pack's comments
    repo.findings      findings in report order, where their drafts are shown, answers for the pack
    repo.drafts        every version of every answer
    repo.reviews       reviewers' decisions, under `policy`
    repo.reminders     exactly-once reminder claims
    repo.events        exactly-once Slack delivery keys
    repo.jobs          the durable drafting queue and uploaded reports
    repo.channels      each channel's classification ceiling
    repo.register      published answers monitored after publication, under `policy`
    repo.register_reminders   exactly-once reminders to register items' owners
    repo.answered      earlier approved answers a finding repeats
    repo.audit         the append-only audit log

Every method is one transaction and returns plain views, so callers never hold a session.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tracker.answered import Answered
from tracker.audit import AuditLog
from tracker.channels import CeilingPolicy, Channels
from tracker.clock import Clock, utc_now
from tracker.events import Events
from tracker.findings import Drafts, Findings
from tracker.inspections import Inspections
from tracker.jobs import Jobs
from tracker.register import Register
from tracker.register_reminders import DEFAULT_DAYS_BEFORE, RegisterReminders
from tracker.reminders import Reminders
from tracker.review import ApprovalPolicy
from tracker.reviews import Reviews
from tracker.store import Store


class Repository:
    def __init__(
        self,
        store: Store,
        policy: ApprovalPolicy | None = None,
        ceilings: CeilingPolicy | None = None,
        owner_reminder_days: int = DEFAULT_DAYS_BEFORE,
    ) -> None:
        self.store = store
        self.policy = policy or ApprovalPolicy()
        self.inspections = Inspections(store)
        self.findings = Findings(store)
        self.drafts = Drafts(store)
        self.reviews = Reviews(store, self.policy)
        self.reminders = Reminders(store)
        self.events = Events(store)
        self.audit = AuditLog(store)
        self.jobs = Jobs(store)
        self.channels = Channels(store, ceilings)
        self.register = Register(store, self.policy)
        self.answered = Answered(store)
        self.register_reminders = RegisterReminders(store, owner_reminder_days)

    @classmethod
    def connect(
        cls,
        url_or_engine: str | Engine,
        policy: ApprovalPolicy | None = None,
        clock: Clock = utc_now,
        ceilings: CeilingPolicy | None = None,
        owner_reminder_days: int = DEFAULT_DAYS_BEFORE,
    ) -> Repository:
        """Open (and migrate to head) the database at a URL: the one-call set-up for the bot and the CLI."""
        return cls(Store.connect(url_or_engine, clock), policy, ceilings, owner_reminder_days)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.store.sessions

    def close(self) -> None:
        self.store.dispose()
