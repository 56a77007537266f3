"""The Block Kit builders are pure: called directly, checked against every Slack limit they must respect."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.services.cards import load_card
from bot.slack import constants as c
from bot.slack.ui.common import (
    BadPayload,
    ButtonRef,
    button,
    button_value,
    context,
    error_message,
    parse_button_value,
    section,
    split_text,
)
from bot.slack.ui.draft_card import DraftCard, _fit_block_budget, draft_message, status_line
from bot.slack.ui.modals import (
    ModalContext,
    TooLongToEdit,
    comment_from_view,
    edit_modal,
    edited_text_from_view,
    parse_modal_context,
    request_changes_modal,
)
from bot.slack.ui.report import Progress, ReportSummary, report_summary
from drafting.models import GuardFinding, GuardKind, SourceRef
from retrieval.models import Addressee, Finding, FindingKind, InspectionType
from tests.support.store import draft, findings, make_repo
from tracker.review import ApprovalPolicy, ReviewState

FINDING = Finding(
    number="2",
    text="By 31 December 2024, all chief constables should make sure that their forces have problem profiles.",
    due="By 31 December 2024",
    addressees=(Addressee.CHIEF_CONSTABLES,),
)
WHEN = datetime(2026, 11, 21, 14, 2, tzinfo=UTC)


def card(**kwargs: Any) -> DraftCard:
    values: dict[str, Any] = {
        "finding_id": 7,
        "version": 1,
        "finding": FINDING,
        "inspection_title": "Group-based child sexual exploitation",
        "text": "I welcome this recommendation. The force has a problem profile.",
        "sources": [
            SourceRef(
                ref="S1",
                chunk_id="abc",
                doc_id="northumbria-cse",
                force="Northumbria",
                inspection_title="Group-based CSE",
                published=date(2023, 12, 8),
                finding_number="2",
                similarity=0.81,
                own_force=True,
                cited=True,
            )
        ],
        "engine": "local:qwen",
        "seconds": 12.34,
        **kwargs,
    }
    return DraftCard(**values)


def check_limits(blocks: list[dict[str, Any]], max_blocks: int = c.MAX_BLOCKS_PER_MESSAGE) -> None:
    """Every limit Slack enforces on what these builders produce."""
    assert len(blocks) <= max_blocks
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= c.MAX_SECTION_TEXT
        if block["type"] == "context":
            assert len(block["elements"]) <= c.MAX_CONTEXT_ELEMENTS
            assert all(len(e["text"]) <= c.MAX_CONTEXT_ELEMENT for e in block["elements"])
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["type"] == "button":
                    assert len(element["text"]["text"]) <= c.MAX_BUTTON_TEXT
                else:  # the decision menu
                    assert all(len(o["text"]["text"]) <= c.MAX_BUTTON_TEXT for o in element["options"])
                    assert all(len(o["value"]) <= 150 for o in element["options"])
                assert len(element.get("value", "")) <= c.MAX_BUTTON_VALUE
        if block["type"] == "input":
            assert len(block["element"].get("initial_value", "")) <= c.MAX_INPUT_INITIAL_VALUE


def section_texts(blocks: list[dict[str, Any]], prefix: str) -> list[str]:
    return [x["text"]["text"] for x in blocks if x.get("block_id", "").startswith(prefix)]


# ── splitting ────────────────────────────────────────────────────────────────────────────────────────────


def test_split_text_keeps_every_character_and_prefers_paragraph_breaks() -> None:
    text = ("First paragraph sentence. " * 40).strip() + "\n\n" + ("Second one here. " * 40).strip()
    parts = split_text(text, 1200)
    assert "".join(piece + joiner for piece, joiner in parts) == text
    assert all(len(piece) <= 1200 for piece, _ in parts)
    assert parts[0][1] == "\n\n"  # broke at the paragraph, not mid-sentence


def test_split_text_cuts_a_giant_word_without_breaking_an_escape() -> None:
    text = "x" * 2998 + "&amp;" + "y" * 10
    parts = split_text(text, 3000)
    assert "".join(p + j for p, j in parts) == text
    assert parts[0][0] == "x" * 2998


# ── the draft message ────────────────────────────────────────────────────────────────────────────────────


def test_draft_message_shows_the_finding_text_sources_engine_and_buttons_with_the_version() -> None:
    payload = draft_message(card(version=3))
    check_limits(payload.blocks)
    everything = str(payload.blocks)
    assert "*Recommendation 2* — Group-based child sexual exploitation" in everything
    assert "Due: By 31 December 2024" in everything and "Addressed to: chief constables" in everything
    assert (
        "*S1* (cited) *evidence* (the force's own statement) · Northumbria · 8 Dec 2023 · Group-based CSE · "
        "finding 2 · relevance 0.81"
    ) in everything
    assert "Engine: local:qwen · 12.3 s" in everything
    actions = next(x for x in payload.blocks if x["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        c.ACTION_APPROVE,
        c.ACTION_REQUEST_CHANGES,
        c.ACTION_EDIT,
        c.ACTION_REGENERATE,
        c.ACTION_DECISION,
    ]
    assert {e["value"] for e in actions["elements"] if e["type"] == "button"} == {"7:3"}
    menu = actions["elements"][-1]
    assert [o["value"] for o in menu["options"]] == ["7:3:accept", "7:3:partly", "7:3:no_action"]
    assert payload.attachment is None


def test_placeholders_are_bold_and_listed_and_text_is_escaped() -> None:
    text = "We will train <all> staff & partners by [CONFIRM: date training was delivered]."
    payload = draft_message(card(text=text, placeholders=["[CONFIRM: date training was delivered]"]))
    body = section_texts(payload.blocks, c.BLOCK_DRAFT_PREFIX)[0]
    assert "&lt;all&gt; staff &amp; partners" in body
    assert "*[CONFIRM: date training was delivered]*" in body
    assert "to confirm before approval" in section_texts(payload.blocks, c.BLOCK_PLACEHOLDERS)[0].lower()


def test_guard_findings_and_ungrounded_drafts_are_called_out() -> None:
    guard = [
        GuardFinding(kind=GuardKind.NO_GROUNDING, detail="The draft cites no retrieved source."),
        GuardFinding(kind=GuardKind.FOREIGN_FACT, detail="'Operation Juniper' comes from Cambridgeshire's response."),
    ]
    payload = draft_message(card(guard=guard, grounded=False))
    checks = section_texts(payload.blocks, c.BLOCK_GUARD)[0]
    assert checks.startswith(":no_entry: *Not grounded*: The draft cites no retrieved source.")
    assert "*another force's fact*: 'Operation Juniper' comes from Cambridgeshire's response." in checks
    assert str(payload.blocks).count("The draft cites no retrieved source.") == 1


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "Draft v1 · awaiting review"),
        (
            {"version": 2, "state": ReviewState.CHANGES_REQUESTED, "actor": "U1", "acted_at": WHEN},
            "Draft v2 · changes requested by <@U1> at <!date^",
        ),
        (
            {"state": ReviewState.APPROVED, "actor": "U2", "acted_at": WHEN, "approvers": ["U2"]},
            "Draft v1 · approved by <@U2> at <!date^",
        ),
        (
            {"version": 3, "state": ReviewState.REDRAFTED, "author": "U3", "actor": "U3", "acted_at": WHEN},
            "Draft v3 · edited by <@U3> at",
        ),
        (
            {"state": ReviewState.DRAFTED, "approvers": ["U4"], "required_approvals": 2},
            "Draft v1 · awaiting review · 1 of 2 approvals (<@U4>)",
        ),
    ],
)
def test_status_line_says_version_state_who_and_when(kwargs: dict[str, Any], expected: str) -> None:
    line = status_line(card(**kwargs))
    assert line.startswith(expected)
    if "acted_at" in kwargs:
        assert f"^{int(WHEN.timestamp())}^" in line and "|21 Nov 2026 14:02>" in line  # UK fallback time


def test_a_change_request_leaves_no_stale_approver_on_the_card(tmp_path: Path) -> None:
    """The card shows the approvals the store counts: a change request withdraws those given on that version."""
    repo = make_repo(tmp_path, ApprovalPolicy.of(["U1", "U2"], required_approvals=2))
    finding = repo.findings.add_request(findings()[0], "C1", "1.1", "U_ASK")
    repo.drafts.add(finding.id, draft())
    repo.reviews.record(finding.id, "U1", action="approve", expected_version=1)
    approved_once = load_card(repo, finding.id)
    assert approved_once is not None and "1 of 2 approvals (<@U1>)" in status_line(approved_once)
    repo.reviews.record(finding.id, "U2", action="request_changes", comment="Shorter", expected_version=1)
    questioned = load_card(repo, finding.id)
    assert questioned is not None and questioned.approvers == []
    line = status_line(questioned)
    assert "changes requested by <@U2>" in line and "0 of 2 approvals" in line and "<@U1>" not in line


def test_approved_card_offers_only_reopen() -> None:
    payload = draft_message(card(state=ReviewState.APPROVED, approvers=["U2"], actor="U2", acted_at=WHEN))
    actions = next(x for x in payload.blocks if x["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [c.ACTION_REOPEN]


def test_a_long_draft_is_split_into_sections_of_at_most_3000_characters() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "The force will act on this. " * 20 for i in range(18))
    assert 9000 < len(text) < 12000
    payload = draft_message(card(text=text))
    check_limits(payload.blocks)
    parts = section_texts(payload.blocks, c.BLOCK_DRAFT_PREFIX)
    assert len(parts) >= 4
    assert "\n\n".join(parts) == text.strip()  # nothing lost at the joins
    assert payload.attachment is None


def test_a_draft_over_the_12000_character_budget_comes_back_with_a_file_to_attach() -> None:
    text = "\n\n".join("The force will act on this recommendation. " * 10 for _ in range(40))
    assert len(text) > c.MAX_MARKDOWN_BLOCK
    payload = draft_message(card(text=text))
    check_limits(payload.blocks)
    shown = section_texts(payload.blocks, c.BLOCK_DRAFT_PREFIX)
    assert sum(len(s) for s in shown) <= c.MAX_MARKDOWN_BLOCK
    assert section_texts(payload.blocks, c.BLOCK_TRUNCATED)
    assert payload.attachment is not None and text.strip() in payload.attachment
    assert payload.attachment_name == "recommendation-2-v1.md"


def test_many_sources_guard_findings_and_placeholders_stay_within_every_limit() -> None:
    sources = [card().sources[0].model_copy(update={"ref": f"S{i}", "title": "T" * 500}) for i in range(30)]
    guard = [GuardFinding(kind=GuardKind.UNSUPPORTED_FACT, detail="x" * 400) for _ in range(40)]
    placeholders = [f"[CONFIRM: fact {i} " + "y" * 200 + "]" for i in range(60)]
    payload = draft_message(
        card(sources=sources, guard=guard, placeholders=placeholders, notes=["n" * 3000] * 12, comment="c" * 5000)
    )
    check_limits(payload.blocks)
    assert "more" in section_texts(payload.blocks, c.BLOCK_GUARD)[0]
    sources_block = next(x for x in payload.blocks if x.get("block_id") == c.BLOCK_SOURCES)
    assert sources_block["elements"][-1]["text"].startswith("… and ")


def test_the_block_budget_keeps_the_buttons() -> None:
    many = [section(f"block {i}") for i in range(70)] + [{"type": "actions", "elements": []}]
    fitted = _fit_block_budget(many)
    assert len(fitted) == c.MAX_BLOCKS_PER_MESSAGE
    assert fitted[-1]["type"] == "actions"
    assert "50-block limit" in fitted[-2]["text"]["text"]


def test_button_labels_are_capped_at_75_characters() -> None:
    element = button("A" * 200, "x", "1:1")
    assert len(element["text"]["text"]) == c.MAX_BUTTON_TEXT


def test_context_elements_are_capped_at_2000_characters() -> None:
    block = context(["z" * 5000])
    assert len(block["elements"][0]["text"]) == c.MAX_CONTEXT_ELEMENT


# ── button values and modal metadata ─────────────────────────────────────────────────────────────────────


def test_button_values_round_trip_and_garbage_is_refused() -> None:
    assert parse_button_value(button_value(12, 3)) == ButtonRef(12, 3)
    with pytest.raises(BadPayload):
        parse_button_value("12")
    with pytest.raises(BadPayload):
        parse_modal_context("not json")


def test_edit_modal_prefills_a_short_text_exactly() -> None:
    ctx = ModalContext(f=7, v=2, c="C1", ts="1.2")
    view = edit_modal(ctx, "Recommendation 2", "Short answer.\n\nSecond paragraph.")
    inputs = [x for x in view["blocks"] if x["type"] == "input"]
    assert len(inputs) == 1 and inputs[0]["element"]["initial_value"] == "Short answer.\n\nSecond paragraph."
    assert parse_modal_context(view["private_metadata"]).finding_id == 7


def test_edit_modal_splits_text_over_3000_characters_and_saving_unchanged_gives_it_back() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "the force will act. " * 40 for i in range(9))
    assert len(text) > 6000
    view = edit_modal(ModalContext(f=1, v=1), "Recommendation 1", text)
    check_limits(view["blocks"], c.MAX_MODAL_BLOCKS)
    inputs = [x for x in view["blocks"] if x["type"] == "input"]
    assert len(inputs) >= 3
    submitted = {
        "state": {
            "values": {x["block_id"]: {c.INPUT_EDIT_ACTION: {"value": x["element"]["initial_value"]}} for x in inputs}
        }
    }
    ctx = parse_modal_context(view["private_metadata"])
    assert edited_text_from_view(submitted, ctx) == text.strip()


def test_edit_modal_refuses_a_text_too_long_for_a_modal() -> None:
    with pytest.raises(TooLongToEdit):
        edit_modal(ModalContext(f=1, v=1), "R1", "word " * 70_000)


def test_request_changes_modal_has_the_comment_input() -> None:
    view = request_changes_modal(ModalContext(f=3, v=4, c="C1", ts="9.9"), "Recommendation 3")
    assert view["callback_id"] == c.VIEW_REQUEST_CHANGES
    assert view["blocks"][1]["block_id"] == c.INPUT_COMMENT_BLOCK
    assert (
        comment_from_view(
            {"state": {"values": {c.INPUT_COMMENT_BLOCK: {c.INPUT_COMMENT_ACTION: {"value": " shorter "}}}}}
        )
        == "shorter"
    )


# ── report summary and progress ──────────────────────────────────────────────────────────────────────────


def test_report_summary_shows_title_counts_and_the_statutory_last_day_with_its_rule() -> None:
    findings = [
        FINDING,
        FINDING.model_copy(update={"number": "3"}),
        Finding(kind=FindingKind.AREA_FOR_IMPROVEMENT, text="The force should improve supervision."),
    ]
    summary = ReportSummary(
        title="Group-based CSE",
        inspection_type=InspectionType.NATIONAL_THEMATIC,
        published=date(2023, 12, 8),
        findings=findings,
    )
    payload = report_summary(summary, Progress(done=1, total=3), today=date(2024, 1, 2))
    text = str(payload.blocks)
    assert "2 recommendations, 1 area for improvement" in text
    assert "Last day 1 Feb 2024 — 56 days beginning with publication on 8 Dec 2023" in text
    assert "30 days left" in text
    assert "Drafting 2 of 3…" in text


def test_report_summary_without_a_date_says_how_to_add_one() -> None:
    summary = ReportSummary(title="R", findings=[FINDING])
    text = str(report_summary(summary, Progress(total=1), today=date(2024, 1, 2)).blocks)
    assert "publication date was not found" in text and "/hmicfrs add" in text


def test_report_summary_with_hundreds_of_findings_stays_within_limits() -> None:
    findings = [FINDING.model_copy(update={"number": str(i)}) for i in range(300)]
    summary = ReportSummary(title="T" * 4000, findings=findings, published=date(2024, 1, 1))
    payload = report_summary(summary, Progress(total=300, done=300, finished=True), today=date(2024, 1, 2))
    check_limits(payload.blocks)
    listing = section_texts(payload.blocks, c.BLOCK_SUMMARY_FINDINGS_PREFIX)[0]
    assert listing.endswith("more")
    assert "300 of 300 drafts posted" in str(payload.blocks)


def test_error_message_says_what_to_do_and_can_offer_regenerate() -> None:
    payload = error_message("The model did not answer.", "Press Regenerate.", retry=ButtonRef(5, 0))
    assert "*The model did not answer.*\nPress Regenerate." in payload.blocks[0]["text"]["text"]
    assert payload.blocks[-1]["elements"][0]["value"] == "5:0"
