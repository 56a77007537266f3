"""Issue 10, roles on every state change: who may set comments, export the final pack, attach and tick steps
off; four eyes on approval (whoever asked for a finding never approves it); a click only on its own message."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.slack import constants as c
from tests.support.slack_harness import (
    ASKER,
    CHANNEL,
    GROUP,
    GROUP_MEMBER,
    OUTSIDER,
    REVIEWER,
    Harness,
    confirm_everything,
    running_bot,
    texts,
)
from tests.support.store import draft, findings, make_repo
from tracker.errors import NotAllowed
from tracker.people import name_people
from tracker.review import ApprovalPolicy, OfficeAction, ReviewState

OTHER_CHANNEL = "C_OTHER"


def slash(h: Harness, text: str, user: str, channel: str = CHANNEL) -> str:
    """A signed `/hmicfrs` request; the ack's (ephemeral) text."""
    reply = h.slash(text, user, channel)
    return str(reply.get("text", "")).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def drafted(h: Harness, user: str = ASKER) -> tuple[dict[str, Any], str, int]:
    event, response = h.mention(user=user)
    assert response.status == 200
    ts = h.placeholder_for(event).ts
    h.wait_draft(ts, 1)
    finding = h.store.findings.by_message(CHANNEL, ts)
    assert finding is not None
    return event, ts, finding.id


# ── the policy ───────────────────────────────────────────────────────────────────────────────────────────


def test_office_actions_are_reviewers_only_and_open_to_all_when_none_are_configured() -> None:
    policy = ApprovalPolicy.of(["U_REV", "S_LEGAL"])
    for action in OfficeAction:
        assert policy.may(action, "U_REV")[0]
        assert policy.may(action, "U_MEMBER", groups=["S_LEGAL"])[0]
        allowed, reason = policy.may(action, "U_LEAD")
        assert not allowed
        assert (
            name_people(reason)
            == f"Only the configured reviewers can {action.phrase} (S_LEGAL, U_REV); ask one of them."
        )
        assert policy.may(action, "responder") == (False, f"Only a person can {action.phrase}.")
    open_policy = ApprovalPolicy.of([])
    assert all(open_policy.may(action, "U_ANYONE")[0] for action in OfficeAction)
    assert not open_policy.may(OfficeAction.EXPORT_PACK, "responder")[0]
    assert not open_policy.may(OfficeAction.PCC_COMMENTS, "")[0]


def test_who_asked_for_a_finding_never_approves_any_version_of_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ApprovalPolicy.of(["U_ASK", "U_REGEN", "U_THIRD"], drafter_may_approve=False))
    finding = repo.findings.add_request(findings()[0], "C1", "111.222", "U_ASK")
    repo.drafts.add(finding.id, draft(), requested_by="U_ASK")
    repo.drafts.add(finding.id, draft("Regenerated"), requested_by="U_REGEN")  # someone else pressed Regenerate
    with pytest.raises(NotAllowed, match="You asked for this answer; someone else must approve any version"):
        repo.reviews.record(finding.id, "U_ASK", action="approve", expected_version=2)
    with pytest.raises(NotAllowed, match="You wrote or requested this version"):
        repo.reviews.record(finding.id, "U_REGEN", action="approve", expected_version=2)
    assert repo.reviews.of(finding.id) == []
    assert repo.reviews.record(finding.id, "U_THIRD", action="approve", expected_version=2).finding.approved


def test_who_asked_may_approve_when_the_policy_allows_drafters_to(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ApprovalPolicy.of(["U_ASK"]))
    finding = repo.findings.add_request(findings()[0], "C1", "111.222", "U_ASK")
    repo.drafts.add(finding.id, draft(), requested_by="U_ASK")
    assert repo.reviews.record(finding.id, "U_ASK", action="approve").finding.approved


# ── /hmicfrs: comments, the final pack, attach, done ─────────────────────────────────────────────────────


def test_comments_pack_attach_and_done_are_refused_to_a_non_reviewer(tmp_path: Path) -> None:
    with running_bot(tmp_path) as h:
        inspection = h.store.inspections.create(
            "How well the police respond to missing children", date(2025, 3, 4), "PEEL", "Northumbria", None, OUTSIDER
        )
        i = inspection.id
        named = f"(<!subteam^{GROUP}>, <@{REVIEWER}>); ask one of them."
        refusals = {
            f"comments {i} pcc I am the PCC now.": "set the PCC's comments",
            f"comments {i} cc The Chief Constable agrees.": "set the chief constable's comments",
            f"pack {i}": "export the final pack",
            f"pack {i} waive-cc to follow": "export the final pack",
            f"attach {i}": "attach a report to an inspection",
            f"done {i} sent-hmicfrs": "mark a step done",
            f"done {i} sent-home-office": "mark a step done",
        }
        for text, phrase in refusals.items():
            assert slash(h, text, OUTSIDER) == f"Only the configured reviewers can {phrase} {named}", text
        comments = h.store.inspections.comments(i)
        assert (comments.pcc, comments.chief_constable) == (None, None)
        view = h.store.inspections.get(i)
        assert not h.slack.of("files.completeUploadExternal") and not h.slack.of("files.getUploadURLExternal")
        assert [e.action for e in h.store.audit.events("inspection", i)] == ["create"]
        assert view.published_at is None

        # A watermarked working copy stays open to all.
        assert "Only the configured reviewers" not in slash(h, f"pack {i} draft", OUTSIDER)
        # Reviewers, by id or through their group, may.
        assert "Saved the PCC's comments" in slash(h, f"comments {i} pcc I welcome this report.", REVIEWER)
        assert "Saved the chief constable's comments" in slash(h, f"comments {i} cc Accepted.", GROUP_MEMBER)
        assert h.store.inspections.comments(i).pcc == "I welcome this report."
        h.wait_idle()


# ── four eyes, end to end ────────────────────────────────────────────────────────────────────────────────


def test_the_asker_cannot_approve_after_someone_else_regenerates(tmp_path: Path) -> None:
    with running_bot(tmp_path, drafter_may_approve=False, reviewers=[REVIEWER, GROUP, ASKER]) as h:
        event, ts, finding_id = drafted(h, ASKER)
        h.wait_idle()
        h.click(c.ACTION_REGENERATE, f"{finding_id}:1", REVIEWER, ts, event["ts"])
        h.wait_draft(ts, 2)
        h.wait_idle()

        h.slack.clear()
        h.click(c.ACTION_APPROVE, f"{finding_id}:2", ASKER, ts, event["ts"])
        refusal = h.slack.wait_calls("chat.postEphemeral")[0]
        assert refusal["user"] == ASKER
        assert "You asked for this answer; someone else must approve any version of it." in refusal["text"]
        assert not h.slack.of("chat.update")
        assert h.store.reviews.of(finding_id) == []
        assert h.store.findings.get(finding_id).state is ReviewState.REDRAFTED

        # A third person (not the asker, not the latest version's author) may approve it.
        version = confirm_everything(h, event, ts, finding_id, user=REVIEWER)
        h.click(c.ACTION_APPROVE, f"{finding_id}:{version}", GROUP_MEMBER, ts, event["ts"])
        h.slack.wait_for(lambda calls: any(x.method == "chat.update" and "approved by" in texts(x) for x in calls))
        assert h.store.findings.get(finding_id).state is ReviewState.APPROVED


# ── a click belongs to its own message ───────────────────────────────────────────────────────────────────


def _click_from(h: Harness, action_id: str, value: str, user: str, channel: str, ts: str) -> None:
    payload = h.sender.block_action(action_id, value, user, channel, ts)
    assert h.sender.interaction(payload).status == 200


def test_a_click_with_another_channels_id_is_refused_and_writes_nothing_there(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    version = confirm_everything(h, event, ts, finding_id, user=GROUP_MEMBER)
    h.wait_idle()
    audit_before = len(h.store.audit.events("finding", finding_id))
    h.slack.clear()

    other_ts = "1710000999.000100"
    for channel, message_ts in ((OTHER_CHANNEL, ts), (OTHER_CHANNEL, other_ts), (CHANNEL, other_ts)):
        _click_from(h, c.ACTION_APPROVE, f"{finding_id}:{version}", REVIEWER, channel, message_ts)
        refusal = h.slack.wait_calls("chat.postEphemeral")[-1]
        assert refusal["user"] == REVIEWER and refusal["channel"] == channel
        assert "This button does not belong to this message" in refusal["text"]
        h.slack.clear()
    for action_id in (c.ACTION_REGENERATE, c.ACTION_EDIT, c.ACTION_REQUEST_CHANGES):
        _click_from(h, action_id, f"{finding_id}:{version}", REVIEWER, OTHER_CHANNEL, other_ts)
        assert "This button does not belong" in h.slack.wait_calls("chat.postEphemeral")[-1]["text"]
    h.wait_idle()

    assert not h.slack.of("chat.update") and not h.slack.of("views.open") and not h.slack.of("chat.postMessage")
    assert h.store.findings.get(finding_id).state is not ReviewState.APPROVED
    assert h.store.reviews.of(finding_id)[-1].action.value == "confirm"
    assert len(h.store.audit.events("finding", finding_id)) == audit_before
    assert h.store.findings.get(finding_id).latest_version == version


def test_a_modal_submitted_for_another_message_is_refused_inside_it(h: Harness) -> None:
    event, ts, finding_id = drafted(h)
    h.click(c.ACTION_REQUEST_CHANGES, f"{finding_id}:1", REVIEWER, ts, event["ts"])
    view = dict(h.slack.wait_calls("views.open")[0]["view"])
    metadata = json.loads(view["private_metadata"])
    view["private_metadata"] = json.dumps({**metadata, "c": OTHER_CHANNEL})
    h.slack.clear()
    values = {c.INPUT_COMMENT_BLOCK: {c.INPUT_COMMENT_ACTION: {"type": "plain_text_input", "value": "Shorter"}}}
    response = h.sender.interaction(h.sender.view_submission(view, REVIEWER, values))
    assert response.status == 200
    errors = json.loads(response.body)["errors"]
    assert "This form does not belong to this message" in errors[c.INPUT_COMMENT_BLOCK]
    h.wait_idle()
    assert h.store.reviews.of(finding_id) == []
    assert h.store.findings.get(finding_id).state is ReviewState.DRAFTED
    assert not h.slack.of("chat.update")
