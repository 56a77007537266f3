"""The reminder sweeper: once a minute, claim due reminder slots and post each to its inspection's channel, and
claim register items' owner reminders (due soon, overdue) and send each to its owner by direct message.

Each sweep also forgets Slack delivery keys older than Slack's retry window, so that table stays small.

Exactly-once comes from the tracker (tracker.reminders: a unique key per slot, claimed in a transaction),
so any number of bot instances can sweep the same database. A post that fails gives its slot back for the
next sweep, on any instance; one that succeeds is marked posted. The clock is injected and the thread is
stoppable, so tests drive sweeps by hand at simulated times.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import time

from bot.metrics import Metrics
from bot.services.poster import SlackPoster
from bot.slack.ui.register import owner_reminder_message
from bot.slack.ui.reminders import reminder_message
from tracker.clock import Clock, utc_now
from tracker.events import EVENT_RETENTION
from tracker.register_reminders import OwnerReminder
from tracker.reminders import DEFAULT_NOT_BEFORE, ReminderToPost
from tracker.repository import Repository

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0


def instance_name() -> str:
    """Who holds a claim: host, process and a random suffix (two instances in one process differ too)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ReminderSweeper:
    def __init__(
        self,
        store: Repository,
        poster: SlackPoster,
        clock: Clock = utc_now,
        *,
        instance_id: str | None = None,
        interval: float = SWEEP_SECONDS,
        after_sweep: Callable[[], object] | None = None,
        metrics: Metrics | None = None,
        not_before: time = DEFAULT_NOT_BEFORE,
    ) -> None:
        self.metrics = metrics
        self.not_before = not_before
        self.store = store
        self.poster = poster
        self.clock = clock
        self.instance_id = instance_id or instance_name()
        self.interval = interval
        self.after_sweep = after_sweep
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> list[ReminderToPost | OwnerReminder]:
        """Claim what is due now and post it; returns the reminders this call posted (deadlines, then owners')."""
        claimed = self.store.reminders.claim_due(self.instance_id, self.clock(), not_before=self.not_before)
        posted: list[ReminderToPost | OwnerReminder] = [reminder for reminder in claimed if self._post(reminder)]
        posted += self._sweep_owners()
        self.store.events.prune(self.clock() - EVENT_RETENTION)
        if self.after_sweep is not None:
            try:
                self.after_sweep()
            except Exception:
                log.exception("after-sweep hook failed")
        return posted

    def _post(self, reminder: ReminderToPost) -> bool:
        if not reminder.channel_id:
            # Added from the command line without a channel: nowhere to post, and retrying cannot help.
            log.warning("inspection %s has no channel; reminder %s not posted", reminder.inspection_id, reminder.kind)
            self.store.reminders.mark_posted(reminder.reminder_id, self.clock())
            return False
        payload = reminder_message(reminder)
        try:
            # In the thread and visible in the channel.
            self.poster.reply(reminder.channel_id, reminder.thread_ts, payload, broadcast=bool(reminder.thread_ts))
        except Exception:
            log.exception("posting reminder %s failed; the slot is released for the next sweep", reminder.reminder_id)
            self.store.reminders.release(reminder.reminder_id)
            return False
        self.store.reminders.mark_posted(reminder.reminder_id, self.clock())
        if self.metrics is not None:
            self.metrics.reminders_sent.labels(str(reminder.kind)).inc()
        return True

    def _sweep_owners(self) -> list[OwnerReminder]:
        owners = self.store.register_reminders
        claimed = owners.claim_due(self.instance_id, self.clock(), not_before=self.not_before)
        return [reminder for reminder in claimed if self._send_to_owner(reminder)]

    def _send_to_owner(self, reminder: OwnerReminder) -> bool:
        owners = self.store.register_reminders
        try:
            # A user id as the channel: Slack delivers it in the owner's DM with the app.
            self.poster.reply(reminder.owner, None, owner_reminder_message(reminder))
        except Exception:
            log.exception("owner reminder %s failed; the slot is released for the next sweep", reminder.reminder_id)
            owners.release(reminder.reminder_id)
            return False
        owners.mark_posted(reminder.reminder_id, self.clock())
        if self.metrics is not None:
            self.metrics.reminders_sent.labels(str(reminder.kind)).inc()
        return True

    # ── the background thread ────────────────────────────────────────────────────────────────────────────

    def start(self) -> ReminderSweeper:
        if self._thread is not None:
            raise RuntimeError("the reminder sweeper is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="reminder-sweeper", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            try:
                self.sweep_once()
            except Exception:  # a database hiccup must not end reminders for good
                log.exception("reminder sweep failed; trying again in %.0f s", self.interval)
            if self._stop.wait(self.interval):
                return

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
