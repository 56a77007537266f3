"""After publication, end to end through signed Slack requests: publishing fills the register; an owner is
assigned and an update given by modal (audited); the next draft on the matter states that update with its date
and cites it; the owner's reminders fire once each at injected times, also across a restart; the export opens in
openpyxl with the expected rows.

The real Bolt app over loopback, the fake Slack Web API, the real Chroma index with the bundled embedding model
(the same one the bot writes register updates to and drafts from), and a store on the test's backend.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.cli.register import write_xlsx
from bot.slack import constants as c
from retrieval.config import RetrievalConfig
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.findings import make_finding
from retrieval.index import PrecedentIndex
from tests.support.slack_fake import Call, iter_texts
from tests.support.slack_harness import CHANNEL, REVIEWER, Harness, running_bot, texts
from tests.support.store import FakeClock, draft
from tracker.register import EXPORT_COLUMNS, Rag, RegisterStatus
from tracker.register_evidence import doc_id_for

TITLE = "An inspection of how well the police respond to missing children"
LEAD, OWNER = "U_LEAD", "U_OWNER"
RECOMMENDATION = make_finding(
    "By 30 September 2025, the force should make sure that officers record the child's views and any risk of "
    "exploitation in every return home interview."
)
REVISIT = (
    "By 31 March 2026, the force should make sure that officers record the views of children and the risk of "
    "exploitation in return home interviews after every missing episode."
)
NOTE = (
    "We have trained 180 officers to record the child's views and any exploitation risk in every return home "
    "interview, and supervisors audit a sample each month."
)


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(2025, 3, 12))


@pytest.fixture
def index(tmp_path: Path, model: MiniLMEmbeddings) -> PrecedentIndex:
    return PrecedentIndex(RetrievalConfig(data_dir=tmp_path / "library"), embeddings=model)


def published_inspection(h: Harness) -> int:
    """The inspection with its recommendation answered and approved, then marked published through /hmicfrs."""
    store = h.store
    inspection = store.inspections.create(TITLE, date(2025, 3, 4), "force-specific", "Northumbria", CHANNEL, LEAD)
    (finding,) = store.findings.add(inspection.id, [RECOMMENDATION])
    store.drafts.add(finding.id, draft("The force will record the child's views in return home interviews."))
    store.reviews.record(finding.id, REVIEWER, action="approve")
    assert "marked published" in shown(h.slash(f"done {inspection.id} published", REVIEWER))
    return inspection.id


def shown(payload: dict[str, Any] | Call) -> str:
    blocks = payload.get("blocks") or []
    return " ".join(" ".join(iter_texts(blocks)).split()).replace("&lt;", "<").replace("&gt;", ">")


def submit(h: Harness, action: str, item_id: int, user: str, values: dict[str, Any]) -> dict[str, Any]:
    """Press the item's button on the listing, fill its modal in, submit it: the ack body. A date picker left
    as it opened is submitted with its initial date, as Slack does."""
    h.slack.clear()
    h.click(action, str(item_id), user, "1700000000.000100")
    view = h.slack.wait_calls("views.open")[0]["view"]
    for block in view["blocks"]:
        element = block.get("element", {})
        if element.get("type") == "datepicker" and block["block_id"] not in values:
            picked = {"type": "datepicker", "selected_date": element.get("initial_date")}
            values = {**values, block["block_id"]: {element["action_id"]: picked}}
    response = h.sender.interaction(h.sender.view_submission(view, user, values))
    assert response.status == 200, response.body
    return json.loads(response.body) if response.body else {}


def select(block: str, action: str, value: str | None, kind: str = "static_select") -> dict[str, Any]:
    return {block: {action: {"type": kind, "selected_option": {"value": value} if value else None}}}


def update_values(status: str, rag: str, note: str) -> dict[str, Any]:
    return {
        **select(c.INPUT_REGISTER_STATUS_BLOCK, c.INPUT_REGISTER_STATUS_ACTION, status),
        **select(c.INPUT_REGISTER_RAG_BLOCK, c.INPUT_REGISTER_RAG_ACTION, rag),
        c.INPUT_REGISTER_NOTE_BLOCK: {c.INPUT_REGISTER_NOTE_ACTION: {"type": "plain_text_input", "value": note}},
        c.INPUT_REGISTER_EVIDENCE_BLOCK: {
            c.INPUT_REGISTER_EVIDENCE_ACTION: {"type": "plain_text_input", "value": "https://intranet.example/rhi"}
        },
    }


def owner_dms(h: Harness) -> list[str]:
    return [shown(call) for call in h.slack.of("chat.postMessage") if call.get("channel") == OWNER]


def test_publish_register_update_by_modal_next_draft_cites_it_reminders_once_and_export(
    tmp_path: Path, clock: FakeClock, index: PrecedentIndex
) -> None:
    with running_bot(tmp_path, index=index, clock=clock) as h:
        inspection_id = published_inspection(h)

        # Publishing made the register item, its due date resolved from the finding's own timescale.
        listing = h.slash(f"register {inspection_id}", LEAD)
        (item,) = h.store.register.items(inspection_id=inspection_id)
        assert item.due == date(2025, 9, 30) and item.status is RegisterStatus.OPEN
        assert "Recommendation" in shown(listing) and "30 September 2025" in shown(listing)

        owner = {c.INPUT_REGISTER_OWNER_BLOCK: {c.INPUT_REGISTER_OWNER_ACTION: {"type": "users_select"}}}
        owner[c.INPUT_REGISTER_OWNER_BLOCK][c.INPUT_REGISTER_OWNER_ACTION]["selected_user"] = OWNER
        assert submit(h, c.ACTION_REGISTER_ASSIGN, item.id, LEAD, owner) == {}
        assert h.store.register.get(item.id).owner == OWNER

        # The owner's update by modal: status and RAG change, in the history and the audit log.
        assert submit(h, c.ACTION_REGISTER_UPDATE, item.id, OWNER, update_values("in_progress", "amber", NOTE)) == {}
        saved = h.slack.wait_calls("chat.postEphemeral", user=OWNER)[0]
        assert "Update saved" in shown(saved) and "failed" not in shown(saved)
        updated = h.store.register.get(item.id)
        assert (updated.status, updated.rag) == (RegisterStatus.IN_PROGRESS, Rag.AMBER)
        assert updated.history[-1].note == NOTE and updated.history[-1].evidence == ("https://intranet.example/rhi",)
        event = h.store.audit.events("register_item", item.id)[-1]
        assert (event.action, event.actor) == ("update", OWNER)
        assert event.before["status"] == "open" and event.after["status"] == "in_progress"

        # The next draft on the same matter states the update with its date, and cites it.
        mention, _ = h.mention(REVISIT)
        placeholder = h.placeholder_for(mention)
        card = texts(h.wait_draft(placeholder.ts))
        # (The model's rewrite keeps the dated opening behind a marker; the quotation marks are its to drop.)
        assert "As at March 2025, the force reports: The force has trained 180 officers" in card
        assert "register update · 12 Mar 2025" in card
        finding = h.store.findings.by_message(CHANNEL, placeholder.ts)
        assert finding is not None
        latest = h.store.drafts.latest(finding.id)
        assert latest is not None and doc_id_for(item.id) in {s["doc_id"] for s in latest.sources}

        # Due soon: the owner is told once, however often the sweeper runs.
        clock.current = at(2025, 9, 16)
        h.slack.clear()
        h.bot.deps.sweeper.sweep_once()
        h.bot.deps.sweeper.sweep_once()
        (due_soon,) = owner_dms(h)
        assert "30 September 2025" in due_soon and "14 days" in due_soon

        path = tmp_path / "register.xlsx"
        write_xlsx(path, EXPORT_COLUMNS, h.store.register.export_rows())

    clock.current = at(2025, 9, 20)
    with running_bot(tmp_path, index=index, clock=clock) as restarted:  # a new process on the same database
        restarted.bot.deps.sweeper.sweep_once()
        assert owner_dms(restarted) == []  # the due-soon reminder was sent before the restart
        clock.current = at(2025, 10, 1)
        restarted.bot.deps.sweeper.sweep_once()
        restarted.bot.deps.sweeper.sweep_once()
        (overdue,) = owner_dms(restarted)
        assert "overdue" in overdue and "30 September 2025" in overdue

    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(EXPORT_COLUMNS) and len(rows) == 2
    row = dict(zip(EXPORT_COLUMNS, rows[1], strict=True))
    assert (row["Item"], row["Inspection"], row["Owner"]) == (item.id, inspection_id, OWNER)
    assert (row["Status"], row["RAG"], row["Last note"]) == ("in progress", "amber", NOTE)
    assert row["Due"] == datetime(2025, 9, 30)  # a real date, not text
    assert row["Evidence"] == "https://intranet.example/rhi"


CHAIN = json.dumps(
    [
        {"name": "Policy lead", "approvers": ["U_POLICY"]},
        {"name": "Chief executive", "approvers": ["U_CHIEF"]},
        {"name": "PCC", "approvers": ["U_PCC"]},
    ]
)
EARLIER_ANSWER = (
    "The force has changed its return home interview form so that officers record the child's views and any risk "
    "of exploitation, and supervisors check a sample every month."
)
NATIONAL = "Missing children: a national thematic inspection"


def signed_through_the_chain(h: Harness, finding_id: int, version: int) -> None:
    for signer in ("U_POLICY", "U_CHIEF", "U_PCC"):
        h.store.reviews.record(finding_id, signer, action="approve", expected_version=version)


def test_a_repeated_recommendation_is_reused_and_a_three_stage_chain_holds_the_pack_until_the_pcc_signs(
    tmp_path: Path, clock: FakeClock
) -> None:
    with running_bot(tmp_path, clock=clock, signoff_chain=CHAIN, pcc_name="Susan Dungworth") as h:
        store = h.store
        national = store.inspections.create(NATIONAL, date(2024, 5, 2), "national thematic", "Northumbria", None, LEAD)
        national_text = RECOMMENDATION.text.replace("the force should", "all chief constables should")
        (earlier,) = store.findings.add(national.id, [make_finding(national_text)])
        store.drafts.add(earlier.id, draft(EARLIER_ANSWER))
        signed_through_the_chain(h, earlier.id, 1)

        # The force-specific report repeats it: the card says so, links the earlier answer, offers Reuse.
        inspection = store.inspections.create(TITLE, date(2025, 3, 4), "force-specific", "Northumbria", CHANNEL, LEAD)
        mention, _ = h.mention(RECOMMENDATION.text)
        ts = h.placeholder_for(mention).ts
        card = texts(h.wait_draft(ts, 1))
        assert f"Already answered*: Recommendation of {NATIONAL}" in card
        assert "same wording" in card  # "all chief constables should" and "the force should" ask the same
        for stage in ("Policy lead", "Chief executive", "PCC"):
            assert f"*{stage}*: waiting" in card
        finding = store.findings.by_message(CHANNEL, ts)
        assert finding is not None
        # Once the thread belongs to the force-specific inspection, HMICFRS's guidance applies and is quoted.
        assert "attached" in shown(h.slash(f"attach {inspection.id}", "U_PCC")).lower()
        h.slack.clear()
        h.click(c.ACTION_REUSE, f"{finding.id}:1:{earlier.id}", "U_POLICY", ts, mention["ts"])
        reused = texts(h.wait_draft(ts, 2))
        assert EARLIER_ANSWER in reused
        assert "only the force-specific response is needed" in reused and "v2 reuses it" in reused
        latest = store.drafts.latest(finding.id)
        assert latest is not None and latest.version == 2 and latest.text == EARLIER_ANSWER
        assert store.audit.events("finding", finding.id)[-1].after["reused_from"] == {
            "finding_id": earlier.id,
            "version": 1,
        }

        h.slash(f"comments {inspection.id} pcc I welcome the report.", "U_PCC")
        h.slash(f"comments {inspection.id} cc The Chief Constable accepts the recommendation.", "U_PCC")

        # Each stage signs in turn; the pack is refused until the last one has.
        for n, (signer, stage, waits) in enumerate(
            (("U_POLICY", "Policy lead", "Chief executive"), ("U_CHIEF", "Chief executive", "PCC")), start=1
        ):
            h.slack.clear()
            h.click(c.ACTION_APPROVE, f"{finding.id}:2", signer, ts, mention["ts"])
            signed = texts(h.slack.wait_calls("chat.update", ts=ts)[0])
            assert f":white_check_mark: *{stage}*: <@{signer}>" in signed
            refused = shown(h.slash(f"pack {inspection.id}", "U_PCC"))
            assert f"v2 redrafted, not approved (signed by {n} of 3, waiting for {waits})" in refused, refused
            assert h.slack.of("files.completeUploadExternal") == []
        h.slack.clear()
        h.click(c.ACTION_APPROVE, f"{finding.id}:2", "U_PCC", ts, mention["ts"])
        h.slack.wait_for(lambda _calls: store.findings.get(finding.id).approved, what="the PCC's signature")
        assert "Assembling the publication pack" in shown(h.slash(f"pack {inspection.id}", "U_PCC"))
        (upload,) = h.slack.wait_calls("files.completeUploadExternal", timeout=60)
        assert "every one of the 1 findings has an approved answer" in upload["initial_comment"]
