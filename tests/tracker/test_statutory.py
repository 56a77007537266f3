"""Every statutory step seen through: an inspection stays open until published and sent to both recipients,
publishing needs a finding on record, a duplicate is refused naming the first, and a report stored without a
date can be attached to an inspection tracked separately (audited, duplicates skipped)."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.models import InspectionType
from tests.support.store import findings
from tracker.errors import IllegalTransition, InvalidInput
from tracker.inspections import DuplicateInspection
from tracker.repository import Repository
from tracker.views import InspectionView

PUBLISHED = date(2023, 12, 8)
TODAY = date(2023, 12, 20)


def _inspection(repo: Repository, title: str = "Child sexual exploitation", **kwargs: object) -> InspectionView:
    return repo.inspections.create(
        title,
        PUBLISHED,
        InspectionType.NATIONAL_THEMATIC,
        "Northumbria",
        kwargs.pop("channel", "C1"),  # type: ignore[arg-type]
        "U_ME",
        **kwargs,  # type: ignore[arg-type]
    )


def _listed(repo: Repository) -> list[int]:
    return [summary.inspection.id for summary in repo.inspections.list_open(TODAY)]


def test_a_published_inspection_stays_listed_until_sent_to_hmicfrs_and_the_home_secretary(repo: Repository) -> None:
    inspection = _inspection(repo)
    repo.findings.add(inspection.id, findings())

    repo.inspections.mark_recipient(inspection.id, "published", "U_ME", require_findings=True)
    (row,) = repo.inspections.list_open(TODAY)
    assert row.inspection.next_step == "send to HMICFRS"
    assert row.deadline_line.startswith("Response published on ") and "next: send to HMICFRS" in row.deadline_line

    repo.inspections.mark_recipient(inspection.id, "sent-hmicfrs", "U_ME")
    (row,) = repo.inspections.list_open(TODAY)
    assert row.inspection.next_step == "send to the Home Secretary"
    assert "next: send to the Home Secretary" in row.deadline_line

    repo.inspections.mark_recipient(inspection.id, "sent-home-office", "U_ME")
    assert _listed(repo) == []
    assert repo.inspections.get(inspection.id).next_step is None


def test_sent_to_both_but_not_published_stays_listed_with_its_last_day(repo: Repository) -> None:
    inspection = _inspection(repo)
    repo.inspections.mark_recipient(inspection.id, "sent-hmicfrs", "U_ME")
    repo.inspections.mark_recipient(inspection.id, "sent-home-office", "U_ME")
    (row,) = repo.inspections.list_open(TODAY)
    assert row.inspection.next_step == "publish the response"
    assert row.deadline_line.startswith("Last day 1 Feb 2024")


def test_published_needs_a_finding_on_record(repo: Repository) -> None:
    inspection = _inspection(repo)
    with pytest.raises(IllegalTransition, match=f"no findings recorded.*attach {inspection.id}"):
        repo.inspections.mark_recipient(inspection.id, "published", "U_ME", require_findings=True)
    assert repo.inspections.get(inspection.id).published_at is None
    repo.findings.add(inspection.id, findings()[:1])
    marked = repo.inspections.mark_recipient(inspection.id, "published", "U_ME", require_findings=True)
    assert marked.published_at is not None


def test_a_duplicate_is_refused_naming_the_first_whatever_its_case_and_spacing(repo: Repository) -> None:
    first = _inspection(repo, "PEEL 2023: Northumbria Police", unique=True)
    with pytest.raises(DuplicateInspection, match=f"already tracked as inspection #{first.id}") as refused:
        _inspection(repo, "  peel 2023:   NORTHUMBRIA police ", unique=True)
    assert refused.value.existing.id == first.id
    assert _listed(repo) == [first.id]
    # Another date is another inspection; so is another title.
    other_day = repo.inspections.create(
        "PEEL 2023: Northumbria Police", date(2023, 12, 9), "PEEL", "Northumbria", None, "U_ME", unique=True
    )
    assert other_day.id != first.id
    assert _inspection(repo, "PEEL 2023: Cleveland Police", unique=True).id not in {first.id, other_day.id}


def test_attaching_a_thread_moves_its_findings_adopts_the_thread_and_is_audited(repo: Repository) -> None:
    inspection = _inspection(repo, channel=None)
    stored = [repo.findings.add_request(f, "C_REPORTS", "1700.0001", "U_UP") for f in findings()]
    repo.findings.add_request(findings()[0], "C_REPORTS", "1700.0009", "U_UP")  # another thread: left alone
    assert [t.thread_ts for t in repo.findings.unattached_threads("C_REPORTS")] == ["1700.0009", "1700.0001"]

    result = repo.findings.attach_thread(inspection.id, "C_REPORTS", "1700.0001", "U_LEAD")
    assert [f.id for f in result.added] == [f.id for f in stored] and result.skipped == 0
    assert result.thread_adopted
    assert [f.position for f in repo.findings.of_inspection(inspection.id)] == [0, 1, 2]
    view = repo.inspections.get(inspection.id)
    assert (view.channel_id, view.thread_ts, view.findings_total) == ("C_REPORTS", "1700.0001", 3)
    assert repo.inspections.by_thread("C_REPORTS", "1700.0001").id == inspection.id  # type: ignore[union-attr]
    (adopted,) = [e for e in repo.audit.events("inspection", inspection.id) if e.action == "attach_thread"]
    assert adopted.actor == "U_LEAD" and adopted.after == {"channel_id": "C_REPORTS", "thread_ts": "1700.0001"}
    (moved,) = [e for e in repo.audit.events("finding", stored[0].id) if e.action == "attach"]
    assert moved.before == {"inspection_id": None, "position": 0}
    assert moved.after is not None and moved.after["inspection_id"] == inspection.id
    assert [t.thread_ts for t in repo.findings.unattached_threads("C_REPORTS")] == ["1700.0009"]

    with pytest.raises(InvalidInput, match=f"already attached to inspection #{inspection.id}"):
        repo.findings.attach_thread(inspection.id, "C_REPORTS", "1700.0001", "U_LEAD")


def test_attaching_skips_findings_the_inspection_holds_and_keeps_its_own_thread(repo: Repository) -> None:
    inspection = _inspection(repo)
    repo.inspections.set_thread(inspection.id, "C1", "1600.0001", "U_ME")
    repo.findings.add(inspection.id, findings()[:2])
    for finding in findings():
        repo.findings.add_request(finding, "C1", "1700.0001", "U_UP")
    result = repo.findings.attach_thread(inspection.id, "C1", "1700.0001", "U_LEAD")
    assert [f.label for f in result.added] == ["Area for improvement"] and result.skipped == 2
    assert not result.thread_adopted and repo.inspections.get(inspection.id).thread_ts == "1600.0001"


def test_adding_a_reports_findings_skips_those_already_attached(repo: Repository) -> None:
    inspection = _inspection(repo)
    first = repo.findings.add_new(inspection.id, findings(), "cli", "report.pdf")
    assert (len(first.added), first.skipped) == (3, 0)
    again = repo.findings.add_new(inspection.id, findings(), "cli", "report.pdf")
    assert (len(again.added), again.skipped) == (0, 3)
    assert repo.inspections.get(inspection.id).findings_total == 3
    (event,) = [e for e in repo.audit.events("finding", first.added[0].id) if e.action == "attach"]
    assert event.actor == "cli" and event.after is not None and event.after["source"] == "report.pdf"
