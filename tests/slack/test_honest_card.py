"""An honest card: it says once whether the text is grounded and which engine wrote it, shows what each source
says, claims an instruction was followed only when it was, and never shows a model's raw reply."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.composition import Backends, build_core, build_slack
from bot.slack import constants as c
from bot.slack.transport import HttpServer
from bot.slack.ui.draft_card import DraftCard, draft_message, stored_sources
from bot.slack.ui.modals import ModalContext, edit_modal
from drafting.chain import Drafter
from drafting.models import GuardFinding, GuardKind, SourceRef
from retrieval.models import DocumentKind, Finding
from tests.support.fakes import ScriptedChatModel
from tests.support.slack_fake import FakeSlack, SlackSender
from tests.support.slack_harness import (
    BOT_TOKEN,
    CHANNEL,
    EVIDENCE,
    GROUP,
    GROUP_MEMBER,
    RECOMMENDATION,
    REVIEWER,
    SIGNING_SECRET,
    Harness,
    RecordingChatModel,
    fake_retriever,
    make_settings,
    running_bot,
    shared_embedder,
    texts,
)

FINDING = Finding(
    number="2",
    text="By 31 December 2024, all chief constables should make sure that their forces have problem profiles.",
    due="By 31 December 2024",
)
OWN_PASSAGE = "A new problem profile for child sexual exploitation has been commissioned and chapter 1 is complete."
#: Another force's chunk: its first sentences are preamble, the one that bears on the finding comes last.
OTHER_CHUNK = (
    "An inspection of group-based child sexual exploitation. Recommendation 2: all chief constables should act. "
    "The Commissioner thanks the inspectorate for its work and welcomes the report. "
    "The Constabulary refreshed its problem profiles for child sexual exploitation through Operation Juniper."
)
GARBAGE = "\n".join(f'{{"text": "GARBLE{i} ]]] <|im_end|> cited_ids: [S{i}' for i in range(40))


def own_source() -> SourceRef:
    return SourceRef(
        ref="S1",
        chunk_id="own",
        doc_id="northumbria-cse",
        force="Northumbria",
        inspection_title="Group-based CSE",
        published=date(2025, 6, 10),
        similarity=0.81,
        own_force=True,
        cited=True,
        excerpt=OWN_PASSAGE,
        kind=DocumentKind.PCC_RESPONSE,
        passages=[OWN_PASSAGE],
        evidence_ids=["E1"],
    )


def other_source() -> dict[str, Any]:
    """Stored by an older release: no kind, no passages, the chunk's text as its excerpt."""
    return {
        "ref": "S2",
        "chunk_id": "other",
        "doc_id": "cambridgeshire-cse",
        "force": "Cambridgeshire",
        "inspection_title": "Group-based CSE",
        "published": "2023-12-08",
        "own_force": False,
        "cited": False,
        "excerpt": OTHER_CHUNK,
    }


def card(**kwargs: Any) -> DraftCard:
    values: dict[str, Any] = {
        "finding_id": 7,
        "version": 1,
        "finding": FINDING,
        "text": "The force has a problem profile. The force leads the country on this.",
        "sources": [own_source(), *stored_sources([other_source()])],
        "engine": "composer",
        "seconds": 1.2,
        **kwargs,
    }
    return DraftCard(**values)


# ── one grounded line, one engine line ───────────────────────────────────────────────────────────────────


def test_the_card_says_once_whether_it_is_grounded_and_once_which_engine_wrote_it() -> None:
    guard = [
        GuardFinding(
            kind=GuardKind.NO_GROUNDING,
            detail="The draft cites none of the retrieved sources: treat it as ungrounded wording.",
        ),
        GuardFinding(
            kind=GuardKind.UNSUPPORTED_SENTENCE,
            detail="No passage that passed the relevance gate supports: “The force leads the country on this.”",
            span="The force leads the country on this.",
        ),
    ]
    notes = ["The model's reply was malformed; the composer's draft is shown."]
    lines = texts({"blocks": draft_message(card(guard=guard, grounded=False, notes=notes)).blocks}).splitlines()
    assert len([line for line in lines if re.search(r"grounded", line, re.IGNORECASE)]) == 1
    assert len([line for line in lines if "Engine:" in line]) == 1
    (verdict,) = [line for line in lines if "grounded" in line.lower()]
    assert verdict.startswith(":no_entry: *Not grounded*: 1 statement is not borne out")
    assert sum("The force leads the country on this." in line for line in lines) == 2  # the text, and the check
    grounded = texts({"blocks": draft_message(card()).blocks}).splitlines()
    assert [line for line in grounded if "grounded" in line.lower()] == [
        ":white_check_mark: *Grounded*: every statement is borne out by the finding or by evidence that passed "
        "the relevance gate."
    ]


# ── what each source says ────────────────────────────────────────────────────────────────────────────────


def test_each_source_shows_the_passage_used_with_its_date_force_kind_and_whether_it_is_evidence() -> None:
    block = next(b for b in draft_message(card()).blocks if b.get("block_id") == c.BLOCK_SOURCES)
    head, own, other = (e["text"] for e in block["elements"])
    assert head == ":mag: *Sources* (1 cited of 2: 1 evidence, 1 wording only)"
    assert own.startswith(
        "*S1* (cited) *evidence* (the force's own statement) · Northumbria · PCC response · 10 Jun 2025 · "
        "Group-based CSE · relevance 0.81 · E1"
    )
    assert f"\n> _{OWN_PASSAGE}_" in own
    assert other.startswith(
        "*S2* (found, not used) *wording only* (another force's precedent) · Cambridgeshire · 8 Dec 2023"
    )
    # The sentence that bears on the finding, not the chunk's opening (its title and the recommendation).
    assert "Operation Juniper" in other and "An inspection of group-based" not in other


# ── an instruction the engine could not follow ─────────────────────────────────────────────────────────────


@contextmanager
def composer_bot(tmp_path: Path) -> Iterator[Harness]:
    """The harness's bot, drafting with the deterministic composer alone (no chat model)."""
    with FakeSlack() as slack:
        slack.usergroups[GROUP] = [GROUP_MEMBER]
        config = make_settings(tmp_path, slack.api_url)
        drafter = Drafter(fake_retriever(), None, "composer", embed=shared_embedder())
        core = build_core(config, backends=Backends(config, drafter=drafter))
        bot = build_slack(core, WebClient(token=BOT_TOKEN, base_url=slack.api_url), token_verification_enabled=False)
        server = HttpServer(bot.app, "127.0.0.1", 0).start()
        try:
            sender = SlackSender(server.url, SIGNING_SECRET)
            yield Harness(slack, bot, server, sender, core.store, RecordingChatModel(), config)
        finally:
            server.stop()
            bot.close(wait=True)
            core.close()


def test_a_composer_redraft_to_a_change_request_says_it_could_not_follow_it(tmp_path: Path) -> None:
    with composer_bot(tmp_path) as h:
        event, _ = h.mention()
        ts = h.placeholder_for(event).ts
        h.wait_draft(ts, 1)
        finding = h.store.findings.by_message(CHANNEL, ts)
        assert finding is not None
        h.click(c.ACTION_REQUEST_CHANGES, f"{finding.id}:1", REVIEWER, ts, event["ts"])
        view = h.slack.wait_calls("views.open")[0]["view"]
        comment = "Use our own evidence and name the audit"
        values = {c.INPUT_COMMENT_BLOCK: {c.INPUT_COMMENT_ACTION: {"type": "plain_text_input", "value": comment}}}
        assert h.sender.interaction(h.sender.view_submission(view, REVIEWER, values)).status == 200

        shown = texts(h.wait_draft(ts, 2))
        assert "This version follows" not in shown
        assert f":speech_balloon: Asked for: _{comment}_" in shown
        assert (
            ":information_source: The fallback composer cannot rewrite to an instruction; v2 is unchanged, the same "
            "text as v1. Edit it yourself, or ask again when the local model is available."
        ) in shown
        assert "Engine: composer" in shown
        v1, v2 = h.store.drafts.all(finding.id)
        assert v2.text == v1.text and v2.instruction == comment


def test_an_instruction_the_model_took_is_said_to_be_followed() -> None:
    shown = texts({"blocks": draft_message(card(version=2, instruction="Make it shorter", engine="local:q")).blocks})
    assert ":speech_balloon: This version follows: _Make it shorter_" in shown
    assert "cannot rewrite" not in shown


# ── a malformed reply ────────────────────────────────────────────────────────────────────────────────────


def test_a_malformed_model_reply_never_reaches_the_card_and_is_logged_only_at_debug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    model = ScriptedChatModel.with_replies(GARBAGE, GARBAGE)
    with running_bot(tmp_path, model=model) as h:  # type: ignore[arg-type]
        event, _ = h.mention()
        ts = h.placeholder_for(event).ts
        update = h.wait_draft(ts, 1)
        h.wait_idle()
    shown = texts(update)
    assert len(model.prompts) == 2  # asked, refused, asked again with the reasons, refused
    assert EVIDENCE in shown and "GARBLE" not in shown and "im_end" not in shown
    notes = next(b for b in update["blocks"] if b.get("block_id") == c.BLOCK_NOTES)
    assert [e["text"] for e in notes["elements"]] == ["The model's reply was malformed; the composer's draft is shown."]
    raw = [r for r in caplog.records if "GARBLE" in r.getMessage()]
    assert raw and {r.levelno for r in raw} == {logging.DEBUG}


# ── the Edit modal ───────────────────────────────────────────────────────────────────────────────────────


def test_the_edit_modal_shows_the_recommendation_and_the_sources_above_the_text(tmp_path: Path) -> None:
    with running_bot(tmp_path) as h:
        event, _ = h.mention()
        ts = h.placeholder_for(event).ts
        h.wait_draft(ts, 1)
        finding = h.store.findings.by_message(CHANNEL, ts)
        assert finding is not None
        h.click(c.ACTION_EDIT, f"{finding.id}:1", REVIEWER, ts, event["ts"])
        view = h.slack.wait_calls("views.open")[0]["view"]
    head, box = view["blocks"][0], view["blocks"][1]
    assert box["type"] == "input" and box["element"]["initial_value"] == h.store.drafts.latest(finding.id).text  # type: ignore[union-attr]
    shown = head["text"]["text"]
    assert f"*{finding.label}*\n>{RECOMMENDATION}" in shown
    assert "*S1* (cited) *evidence* (the force's own statement) · Northumbria · PCC response · 4 Mar 2025" in shown
    assert f"\n> _{EVIDENCE}_" in shown


def test_the_edit_modal_fits_a_long_recommendation_and_many_sources_in_slacks_limits() -> None:
    passage = "The force has reviewed how officers record what children say. " * 12
    sources = [own_source().model_copy(update={"ref": f"S{i}", "passages": [passage] * 3}) for i in range(40)]
    view = edit_modal(ModalContext(f=1, v=1), "Recommendation 1", "Short answer.", "word " * 900, sources)
    assert len(view["blocks"]) <= c.MAX_MODAL_BLOCKS
    head = view["blocks"][0]["text"]["text"]
    assert len(head) <= c.MAX_SECTION_TEXT
    assert "*S1*" in head and re.search(r"… and \d+ more: see the draft's message$", head)
    assert view["blocks"][1]["element"]["initial_value"] == "Short answer."
