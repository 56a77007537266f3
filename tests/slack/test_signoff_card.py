"""The sign-off chain and findings already answered, on the draft card and through signed Slack requests."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.composition import approval_policy
from bot.services.cards import load_card
from bot.settings import Settings
from bot.slack import constants as c
from bot.slack.ui.common import BadPayload
from bot.slack.ui.draft_card import draft_message, parse_reuse_value
from retrieval.models import Finding, InspectionType
from tests.support.slack_fake import iter_texts
from tests.support.slack_harness import CHANNEL, GROUP, GROUP_MEMBER, RECOMMENDATION, Harness, running_bot, texts
from tests.support.store import FakeClock, draft, findings, make_repo
from tracker.answered import HMICFRS_NOTE
from tracker.repository import Repository
from tracker.review import ApprovalPolicy, ReviewState, Stage

LEAD, CHIEF, PCC = "U_LEAD", "U_CHIEF", "U_PCC"
THREE = ApprovalPolicy.of(
    stages=(
        Stage("Policy lead", frozenset({LEAD})),
        Stage("Chief executive", frozenset({CHIEF})),
        Stage("PCC", frozenset({PCC})),
    )
)
EARLIER_ANSWER = "The force records the child's views in every return home interview, audited monthly since 2024."


def shown(repo: Repository, finding_id: int, **kwargs: Any) -> tuple[str, dict[str, str]]:
    """The card's texts, and its buttons by action id (label → value)."""
    card = load_card(repo, finding_id, **kwargs)
    assert card is not None
    blocks = draft_message(card).blocks
    buttons = {}
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                buttons[element["action_id"]] = element["text"]["text"]
    return "\n".join(iter_texts(blocks)), buttons


def drafted(repo: Repository) -> int:
    finding = repo.findings.add_request(findings()[0], "C1", "1.1", "U_ASK")
    repo.drafts.add(finding.id, draft())
    return finding.id


# ── the chain on the card ───────────────────────────────────────────────────────────────────────────────


def test_the_card_shows_every_stage_with_who_signed_and_when(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, THREE, FakeClock())
    finding_id = drafted(repo)
    repo.reviews.record(finding_id, LEAD, action="approve")
    text, buttons = shown(repo, finding_id)
    assert re.search(r":white_check_mark: \*Policy lead\*: <@U_LEAD> at <!date\^\d+\^[^|]+\|7 Nov 2023 09:30>", text)
    assert ":white_circle: *Chief executive*: waiting" in text and ":white_circle: *PCC*: waiting" in text
    assert "1 of 3 approvals (<@U_LEAD>)" in text
    assert buttons[c.ACTION_APPROVE] == "Approve as Chief executive"


def test_one_stage_offices_see_the_card_they_always_saw(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ApprovalPolicy.of(["U1", "U2"], required_approvals=2))
    finding_id = drafted(repo)
    repo.reviews.record(finding_id, "U1", action="approve")
    text, buttons = shown(repo, finding_id)
    assert "Sign-off" not in text and "1 of 2 approvals (<@U1>)" in text
    assert buttons[c.ACTION_APPROVE] == "Approve"


def test_an_edit_after_a_stage_signed_says_the_chain_starts_again(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, THREE, FakeClock())
    finding_id = drafted(repo)
    repo.reviews.record(finding_id, LEAD, action="approve")
    repo.reviews.record(finding_id, CHIEF, action="approve")
    repo.reviews.record(finding_id, PCC, action="edit", new_text="A shorter answer.", expected_version=1)
    text, buttons = shown(repo, finding_id)
    assert "Edited after Chief executive signed v1: back to Policy lead." in text
    assert ":white_circle: *Policy lead*: waiting" in text and buttons[c.ACTION_APPROVE] == "Approve as Policy lead"
    repo.reviews.record(finding_id, LEAD, action="approve", expected_version=2)
    assert "Edited after" in shown(repo, finding_id)[0]  # still true of v2, and said until v3


def test_an_approved_card_shows_every_stage_signed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, THREE, FakeClock())
    finding_id = drafted(repo)
    for signer in (LEAD, CHIEF, PCC):
        repo.reviews.record(finding_id, signer, action="approve")
    text, buttons = shown(repo, finding_id)
    assert text.count(":white_check_mark: *") >= 3 and "waiting" not in text
    assert set(buttons) == {c.ACTION_REOPEN}


# ── findings already answered on the card ────────────────────────────────────────────────────────────────


def test_a_repeat_of_a_national_finding_links_the_answer_offers_reuse_and_quotes_hmicfrs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, clock=FakeClock())
    national = repo.inspections.create("Missing children", date(2023, 12, 8), InspectionType.NATIONAL_THEMATIC,
                                       "Northumbria", "C1", "U_LEAD")  # fmt: skip
    (earlier,) = repo.findings.add(national.id, [Finding(number="3", text=RECOMMENDATION)])
    repo.drafts.add(earlier.id, draft(EARLIER_ANSWER))
    repo.reviews.record(earlier.id, "U_REV", action="approve")
    repo.findings.set_message(earlier.id, "C1", "111.222")
    force = repo.inspections.create("Northumbria: missing children", date(2024, 6, 1), InspectionType.FORCE_SPECIFIC,
                                    "Northumbria", "C1", "U_LEAD")  # fmt: skip
    repeated = RECOMMENDATION.replace("By 30 September 2025", "By 31 March 2026")
    (later,) = repo.findings.add(force.id, [Finding(number="1", text=repeated)])
    repo.drafts.add(later.id, draft())

    text, buttons = shown(repo, later.id, link=lambda ch, ts: f"https://x.slack.com/archives/{ch}/p{ts}")
    assert (
        ":recycle: *Already answered*: <https://x.slack.com/archives/C1/p111.222|Recommendation 3 of Missing children>"
        " — approved v1 by <@U_REV> on <!date^" in text
    )
    assert "|7 Nov 2023>" in text and HMICFRS_NOTE in text
    assert "· same wording" in text  # only the timescale differs, and a re-issue changes that first
    assert buttons[c.ACTION_REUSE] == "Reuse"
    card = load_card(repo, later.id)
    assert card is not None
    block = next(b for b in draft_message(card).blocks if b.get("block_id") == f"{c.BLOCK_ANSWERED_PREFIX}{earlier.id}")
    ref, earlier_id = parse_reuse_value(block["accessory"]["value"])
    assert (ref.finding_id, ref.version, earlier_id) == (later.id, 1, earlier.id)
    with pytest.raises(BadPayload):
        parse_reuse_value("1:2:x")

    repo.reviews.record(later.id, "U_EDITOR", action="edit", expected_version=1, reuse_of=earlier.id)
    text, buttons = shown(repo, later.id)
    assert "v2 reuses it" in text and c.ACTION_REUSE not in buttons
    assert "Reused the approved answer to Recommendation 3 of Missing children (v1)." in text


def test_the_chain_setting_builds_the_policy_and_refuses_what_cannot_work() -> None:
    chain = '[{"name": "Policy lead", "approvers": ["U_LEAD"]}, {"name": "PCC", "approvers": ["S1"], "required": 2}]'
    policy = approval_policy(Settings(_env_file=None, signoff_chain=chain))  # type: ignore[call-arg]
    assert policy.chain == (Stage("Policy lead", frozenset({"U_LEAD"})), Stage("PCC", frozenset({"S1"}), 2))
    assert approval_policy(Settings(_env_file=None)).chain == (Stage("Review"),)  # type: ignore[call-arg]
    for bad, says in (
        ("nope", "is not JSON"),
        ('{"name": "A"}', "must be a JSON list"),
        ('[{"name": "A", "approvers": ["U1"], "required": 2}]', "names only 1 approver"),
        ('[{"name": "A"}, {"name": "a"}]', "names a stage twice"),
        ('[{"name": "A", "approvers": ["bob"]}]', "user (U…) or user-group (S…) ids"),
    ):
        with pytest.raises(ValueError, match=re.escape(says)):
            Settings(_env_file=None, signoff_chain=bad)  # type: ignore[call-arg]


# ── through signed Slack requests ───────────────────────────────────────────────────────────────────────


CHAIN = '[{"name": "Policy lead", "approvers": ["U_LEAD"]}, {"name": "PCC", "approvers": ["S_REVIEWERS"]}]'


def _approved_elsewhere(h: Harness) -> int:
    """The same recommendation, answered and signed through both stages in another inspection."""
    store = h.store
    national = store.inspections.create("Missing children", date(2023, 12, 8), InspectionType.NATIONAL_THEMATIC,
                                        "Northumbria", CHANNEL, LEAD)  # fmt: skip
    text = RECOMMENDATION.replace("By 30 September 2025", "By 31 March 2024")
    (earlier,) = store.findings.add(national.id, [Finding(number="3", text=text)])
    store.drafts.add(earlier.id, draft(EARLIER_ANSWER))
    store.reviews.record(earlier.id, LEAD, action="approve")
    store.reviews.record(earlier.id, GROUP_MEMBER, (GROUP,), action="approve")
    assert store.findings.get(earlier.id).approved
    return earlier.id


def test_slack_a_reuse_click_stores_a_new_version_and_the_stages_follow(tmp_path: Path) -> None:
    with running_bot(tmp_path, signoff_chain=CHAIN) as h:
        earlier = _approved_elsewhere(h)
        event, response = h.mention(RECOMMENDATION)
        assert response.status == 200
        ts = h.placeholder_for(event).ts
        first = h.wait_draft(ts, 1)
        finding = h.store.findings.by_message(CHANNEL, ts)
        assert finding is not None
        shown_first = texts(first)
        assert "*Already answered*: " in shown_first and "Recommendation 3 of Missing children" in shown_first
        assert ":white_circle: *Policy lead*: waiting" in shown_first and ":white_circle: *PCC*: waiting" in shown_first

        h.slack.clear()
        h.click(c.ACTION_REUSE, f"{finding.id}:1:{earlier}", GROUP_MEMBER, ts, event["ts"])
        update = h.wait_draft(ts, 2)
        latest = h.store.drafts.latest(finding.id)
        assert latest is not None and latest.text == EARLIER_ANSWER and latest.author == GROUP_MEMBER
        assert h.store.findings.get(finding.id).state is ReviewState.REDRAFTED
        assert "v2 reuses it" in texts(update) and EARLIER_ANSWER in texts(update)

        h.slack.clear()  # a stage out of turn is refused to the clicker alone, naming the stage and who signs it
        h.click(c.ACTION_APPROVE, f"{finding.id}:2", GROUP_MEMBER, ts, event["ts"])
        refusal = h.slack.wait_calls("chat.postEphemeral")[0]
        assert "waits for Policy lead to sign" in refusal["text"] and "<@U_LEAD>" in refusal["text"]

        h.slack.clear()
        h.click(c.ACTION_APPROVE, f"{finding.id}:2", LEAD, ts, event["ts"])
        signed = h.slack.wait_calls("chat.update", ts=ts)[0]
        assert ":white_check_mark: *Policy lead*: <@U_LEAD> at <!date^" in texts(signed)
        assert "Approve as PCC" in texts(signed)
        assert h.store.findings.get(finding.id).state is ReviewState.REDRAFTED

        h.slack.clear()
        h.click(c.ACTION_APPROVE, f"{finding.id}:2", GROUP_MEMBER, ts, event["ts"])
        h.slack.wait_calls("chat.update", ts=ts)
        assert h.store.findings.get(finding.id).state is ReviewState.APPROVED
