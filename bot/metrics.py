"""Prometheus metrics for one instance, served at `/metrics` in HTTP mode (prometheus-client).

Drafting jobs by state are read from the durable queue at scrape time (so they are the same on every instance:
the queue is shared); the rest are this instance's counters. Labels hold engine names, Slack method names and
Slack error codes only: never message text, never user ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Draft durations from a composed skeleton (well under a second) to a slow local model (minutes).
DRAFT_BUCKETS = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)


class _JobStates(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "responder_draft_jobs", "Drafting jobs in the shared queue, by state", labels=["state"]
        )
        try:
            counts = self._counts()
        except Exception:  # the database is down: /readyz says so; a scrape must still answer
            counts = {}
        for state, n in sorted(counts.items()):
            family.add_metric([state], n)
        yield family


class Metrics:
    def __init__(self, job_counts: Callable[[], dict[str, int]] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.draft_seconds = Histogram(
            "responder_draft_seconds",
            "Seconds to draft one version, by engine",
            ["engine"],
            buckets=DRAFT_BUCKETS,
            registry=self.registry,
        )
        self.drafts_finished = Counter(
            "responder_drafts_finished",
            "Drafting jobs this instance finished, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "responder_slack_api_errors",
            "Slack Web API calls that failed, by method and error",
            ["method", "error"],
            registry=self.registry,
        )
        self.reminders_sent = Counter(
            "responder_reminders_sent", "Reminders this instance posted", ["kind"], registry=self.registry
        )
        if job_counts is not None:
            self.registry.register(_JobStates(job_counts))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
