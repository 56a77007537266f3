"""Classification ceilings per channel and DM, and the protective marking every draft, pack and learned answer carries.

A planted OFFICIAL-SENSITIVE document must reach a draft only in a channel whose ceiling allows it: never in an
OFFICIAL channel, never in a DM, never back through the learning loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from pydantic import ValidationError

from bot.settings import Settings
from bot.slack.ui.draft_card import build_card, draft_message
from drafting.chain import Drafter
from drafting.models import Draft, DraftRequest
from drafting.pack import Pack, PackAnswer, PackHeader
from drafting.pack_render import export_docx, render_markdown
from retrieval.config import RetrievalConfig
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.findings import make_finding
from retrieval.index import PrecedentIndex
from retrieval.models import Classification, Finding, SearchFilters, SearchHit
from tests.support.fakes import FakeRetriever, make_hit
from tests.support.inspections import REVIEWER, seed_inspection
from tests.support.retrieval import CountingEmbeddings, sensitive_doc
from tests.support.slack_harness import (
    CHANNEL,
    EVIDENCE,
    RECOMMENDATION,
    Harness,
    fake_retriever,
    running_bot,
    texts,
)
from tests.support.store import FakeClock, db_url, draft
from tracker.channels import CeilingPolicy, CeilingSource
from tracker.errors import InvalidInput
from tracker.learning import learn_from_published, published_document
from tracker.pack_assembly import PackLetter, export_pack
from tracker.repository import Repository
from tracker.views import NewDraft

OFFICIAL, SENSITIVE = Classification.OFFICIAL, Classification.OFFICIAL_SENSITIVE
SECURE = "C_SECURE"  # a channel given OFFICIAL-SENSITIVE
OPEN = "C_OPEN"  # a channel left at the default
DM = "D_LEAD"  # a DM, never configured
ADMIN = "U_ADMIN"
MISSING_CHILDREN = "An inspection of how well the police respond to missing children"
PLANTED = (
    "Operation Nightjar detectives record the views of missing children and the risks of exploitation in every "
    "return home interview."
)


def planted_hit() -> SearchHit:
    return make_hit(
        "Northumbria",
        PLANTED,
        recommendation="All chief constables should record the views of missing children in return home interviews.",
        number="4",
        inspection=MISSING_CHILDREN,
        published=date(2025, 3, 4),
        classification=SENSITIVE,
        doc_id="northumbria-nightjar",
    )


def library() -> FakeRetriever:
    """The harness's library (one OFFICIAL own-force answer, one other force's) plus the planted document."""
    retriever = fake_retriever()
    retriever.hits.append(planted_hit())
    return retriever


def connect(tmp_path: Path, policy: CeilingPolicy, clock: FakeClock | None = None) -> Repository:
    return Repository.connect(db_url(tmp_path), None, clock or FakeClock(), policy)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Repository]:
    repo = connect(tmp_path, CeilingPolicy(SENSITIVE, {SECURE: SENSITIVE}, frozenset({ADMIN})))
    yield repo
    repo.close()


def draft_in(store: Repository, channel: str, model: MiniLMEmbeddings, retriever: FakeRetriever) -> Draft:
    """What the drafting queue does for a job in `channel`: draft under that channel's ceiling."""
    drafter = Drafter(retriever, None, "composer", embed=model.embed_documents)
    request = DraftRequest(
        finding=make_finding(RECOMMENDATION),
        inspection_title=MISSING_CHILDREN,
        force="Northumbria",
        max_classification=store.channels.ceiling(channel),
    )
    return drafter.draft(request)


# ── ceilings ─────────────────────────────────────────────────────────────────────────────────────────────


def test_every_channel_and_dm_is_official_unless_configured_or_set(store: Repository) -> None:
    assert store.channels.ceiling(OPEN) is OFFICIAL
    assert store.channels.ceiling(DM) is OFFICIAL
    assert store.channels.ceiling("") is OFFICIAL
    assert store.channels.describe(DM).source is CeilingSource.DEFAULT
    assert store.channels.ceiling(SECURE) is SENSITIVE
    assert store.channels.describe(SECURE).source is CeilingSource.CONFIGURED


def test_a_stored_ceiling_wins_over_the_configured_one_and_a_dm_can_be_set_explicitly(store: Repository) -> None:
    store.channels.set_ceiling(SECURE, OFFICIAL, ADMIN)
    store.channels.set_ceiling(DM, "official-sensitive", ADMIN)
    assert store.channels.ceiling(SECURE) is OFFICIAL
    assert store.channels.ceiling(DM) is SENSITIVE
    shown = store.channels.describe(DM)
    assert (shown.source, shown.set_by) == (CeilingSource.STORED, ADMIN)
    assert [(item.channel_id, item.ceiling) for item in store.channels.listing()] == [
        (SECURE, OFFICIAL),
        (DM, SENSITIVE),
    ]


def test_setting_a_ceiling_is_audited_in_the_same_transaction(store: Repository) -> None:
    store.channels.set_ceiling(OPEN, SENSITIVE, ADMIN)
    (event,) = store.audit.events("channel", OPEN)
    assert (event.actor, event.action) == (ADMIN, "set_ceiling")
    assert event.before == {"ceiling": "OFFICIAL", "source": "default"}
    assert event.after == {"ceiling": "OFFICIAL-SENSITIVE", "source": "set"}


def test_a_ceiling_above_the_upper_bound_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    repo = connect(tmp_path, CeilingPolicy(OFFICIAL, {}, frozenset({ADMIN})))
    try:
        with pytest.raises(InvalidInput, match="above this office's upper bound, OFFICIAL"):
            repo.channels.set_ceiling(OPEN, SENSITIVE, ADMIN)
        with pytest.raises(InvalidInput, match="not a security classification"):
            repo.channels.set_ceiling(OPEN, "RESTRICTED", ADMIN)
        assert repo.channels.ceiling(OPEN) is OFFICIAL
        assert repo.audit.events("channel", OPEN) == []
    finally:
        repo.close()


def test_a_stored_ceiling_is_read_at_the_upper_bound_once_the_bound_is_lowered(tmp_path: Path) -> None:
    before = connect(tmp_path, CeilingPolicy(SENSITIVE))
    before.channels.set_ceiling(OPEN, SENSITIVE, ADMIN)
    before.close()
    after = connect(tmp_path, CeilingPolicy(OFFICIAL))
    try:
        assert after.channels.ceiling(OPEN) is OFFICIAL
    finally:
        after.close()


def test_settings_parse_ceilings_and_admins_and_refuse_a_ceiling_above_the_bound() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        max_classification=SENSITIVE,
        channel_ceilings="C0123=OFFICIAL-SENSITIVE, C0456=official",  # type: ignore[arg-type]
        admins="U1,U2",  # type: ignore[arg-type]
    )
    assert settings.channel_ceilings == {"C0123": SENSITIVE, "C0456": OFFICIAL}
    assert settings.admins == ["U1", "U2"]
    assert Settings(_env_file=None).max_classification is OFFICIAL  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="above RESPONDER_MAX_CLASSIFICATION"):
        Settings(_env_file=None, channel_ceilings="C0123=OFFICIAL-SENSITIVE")  # type: ignore[call-arg, arg-type]
    with pytest.raises(ValidationError, match="CHANNEL=MARKING"):
        Settings(_env_file=None, channel_ceilings="C0123")  # type: ignore[call-arg, arg-type]
    with pytest.raises(ValueError, match="above the upper bound"):
        CeilingPolicy(OFFICIAL, {"C1": SENSITIVE})


# ── the planted document ─────────────────────────────────────────────────────────────────────────────────


def test_the_planted_sensitive_document_is_drafted_from_only_under_a_sensitive_ceiling(
    store: Repository, model: MiniLMEmbeddings
) -> None:
    secure = draft_in(store, SECURE, model, library())
    assert PLANTED in {passage for source in secure.sources for passage in source.passages}
    assert secure.marking is SENSITIVE
    for channel in (OPEN, DM):
        retriever = library()
        drafted = draft_in(store, channel, model, retriever)
        assert all(source.doc_id != "northumbria-nightjar" for source in drafted.sources)
        assert "Nightjar" not in drafted.text
        assert drafted.marking is OFFICIAL
        assert EVIDENCE in {passage for source in drafted.sources for passage in source.passages}
        assert {filters.max_classification for _, filters in retriever.queries if filters} == {OFFICIAL}


def test_the_real_index_returns_the_planted_document_only_under_a_sensitive_ceiling(
    store: Repository, tmp_path: Path, counting: CountingEmbeddings
) -> None:
    index = PrecedentIndex(RetrievalConfig(data_dir=tmp_path / "data"), embeddings=counting)
    index.upsert_document(sensitive_doc())
    query = "Operation Nightjar covert tasking"
    for channel in (OPEN, DM):
        filters = SearchFilters(max_classification=store.channels.ceiling(channel))
        assert index.search(query, k=10, filters=filters) == []
    allowed = index.search(query, k=10, filters=SearchFilters(max_classification=store.channels.ceiling(SECURE)))
    assert allowed and {hit.chunk.doc_id for hit in allowed} == {"testshire-sensitive"}


# ── markings ─────────────────────────────────────────────────────────────────────────────────────────────


def test_a_draft_is_marked_with_its_highest_source_and_an_edit_keeps_it(
    store: Repository, model: MiniLMEmbeddings
) -> None:
    drafted = draft_in(store, SECURE, model, library())
    assert {source.classification for source in drafted.sources} == {OFFICIAL, SENSITIVE}
    finding = store.findings.add_request(make_finding(RECOMMENDATION), SECURE, "1.1", "U_ASKER")
    stored = store.drafts.add(finding.id, NewDraft.from_draft(drafted))
    assert stored.marking is SENSITIVE
    edited = store.reviews.record(finding.id, REVIEWER, action="edit", new_text="A shorter answer.")
    assert edited.draft.version == 2 and edited.draft.marking is SENSITIVE
    assert store.drafts.latest(finding.id).marking is SENSITIVE  # type: ignore[union-attr]


def test_a_redraft_keeps_the_marking_of_the_words_it_rewrites(store: Repository, model: MiniLMEmbeddings) -> None:
    drafter = Drafter(FakeRetriever([]), None, "composer", embed=model.embed_documents)
    request = DraftRequest(
        finding=make_finding(RECOMMENDATION),
        force="Northumbria",
        instruction="make it shorter",
        previous_text=PLANTED,
        previous_marking=SENSITIVE,
    )
    assert drafter.draft(request).marking is SENSITIVE
    assert drafter.draft(request.model_copy(update={"previous_text": None})).marking is OFFICIAL


def test_the_card_shows_the_marking_as_its_first_line(store: Repository, model: MiniLMEmbeddings) -> None:
    cards = {}
    for channel in (SECURE, OPEN):
        finding = store.findings.add_request(make_finding(RECOMMENDATION), channel, "1.1", "U_ASKER")
        store.drafts.add(finding.id, NewDraft.from_draft(draft_in(store, channel, model, library())))
        view = store.findings.get(finding.id)
        card = build_card(view, store.drafts.latest(finding.id), store.reviews.of(finding.id), 1)  # type: ignore[arg-type]
        cards[channel] = draft_message(card)
    secure, open_ = cards[SECURE], cards[OPEN]
    assert secure.blocks[0]["type"] == "section"
    assert secure.blocks[0]["text"]["text"] == "*OFFICIAL-SENSITIVE*"
    assert secure.text.startswith("OFFICIAL-SENSITIVE")
    assert open_.blocks[0]["type"] == "context"  # OFFICIAL too, as a small line: reviewers always see a marking
    assert open_.blocks[0]["elements"][0]["text"] == "*OFFICIAL*"


def _pack(*markings: Classification) -> Pack:
    answers = [
        PackAnswer(finding=Finding(number=str(i), text=f"Recommendation text {i}."), text=f"Answer {i}.", marking=m)
        for i, m in enumerate(markings, start=1)
    ]
    header = PackHeader(inspection_title="A test inspection", published=date(2023, 12, 8), last_day=date(2024, 2, 1))
    return Pack(header=header, force="Northumbria", answers=answers, watermark=True)


def test_the_pack_is_marked_with_its_highest_answer_in_markdown_and_word(tmp_path: Path) -> None:
    assert render_markdown(_pack(OFFICIAL, OFFICIAL)).startswith("**OFFICIAL**\n")
    text = render_markdown(_pack(OFFICIAL, SENSITIVE, OFFICIAL))
    assert text.startswith("**OFFICIAL-SENSITIVE**\n")
    assert text.rstrip().endswith("**OFFICIAL-SENSITIVE**")
    path = export_docx(_pack(OFFICIAL, SENSITIVE), tmp_path / "pack.docx")
    document = Document(str(path))
    section = document.sections[0]
    assert section.header.paragraphs[0].text == "OFFICIAL-SENSITIVE"
    assert section.footer.paragraphs[-1].text == "OFFICIAL-SENSITIVE"
    assert document.core_properties.category == "OFFICIAL-SENSITIVE"


def test_the_exported_pack_carries_the_marking_of_its_answers_versions(store: Repository, tmp_path: Path) -> None:
    inspection = seed_inspection(store, approve=(False, True, True))
    first = store.findings.of_inspection(inspection.id)[0]
    store.drafts.add(first.id, draft("The answer, from a sensitive source.", marking=SENSITIVE))
    exported = export_pack(store, inspection.id, tmp_path / "out", PackLetter(pcc_name="A. PCC"), watermark=True)
    assert exported.marking is SENSITIVE
    assert exported.markdown.read_text(encoding="utf-8").startswith("**OFFICIAL-SENSITIVE**\n")
    assert Document(str(exported.docx)).sections[0].header.paragraphs[0].text == "OFFICIAL-SENSITIVE"


class _Index:
    def __init__(self) -> None:
        self.docs: list[object] = []

    def upsert_document(self, doc: object) -> object:
        self.docs.append(doc)
        return None


def test_a_learned_answer_keeps_its_marking_and_never_returns_under_an_official_ceiling(
    store: Repository, tmp_path: Path, counting: CountingEmbeddings
) -> None:
    inspection = seed_inspection(store, approve=(False, True, True))
    first = store.findings.of_inspection(inspection.id)[0]
    store.drafts.add(first.id, draft(PLANTED, marking=SENSITIVE))
    store.reviews.record(first.id, REVIEWER, action="approve")
    store.inspections.mark_recipient(inspection.id, "published", REVIEWER, require_findings=True)
    document = published_document(store, inspection.id)
    assert document.meta.classification is SENSITIVE  # the response as a whole, like its pack
    assert [p.classification for p in document.precedents] == [SENSITIVE, OFFICIAL, OFFICIAL]

    index = PrecedentIndex(RetrievalConfig(data_dir=tmp_path / "data"), embeddings=counting)
    assert learn_from_published(store, index, inspection.id).precedents == 3
    official = index.search(PLANTED, k=20, filters=SearchFilters(max_classification=store.channels.ceiling(OPEN)))
    assert official and all("Nightjar" not in hit.chunk.text for hit in official)  # the OFFICIAL answers still come
    secure = index.search(PLANTED, k=20, filters=SearchFilters(max_classification=store.channels.ceiling(SECURE)))
    assert any(hit.chunk.response == PLANTED for hit in secure)


# ── /hmicfrs ceiling, through the signed Slack harness ───────────────────────────────────────────────────


def _reply(body: dict[str, object]) -> str:
    return str(body.get("text", "")) + "\n" + texts(body)  # type: ignore[arg-type]


def test_ceiling_shows_the_default_and_a_non_admin_is_refused(tmp_path: Path) -> None:
    with running_bot(tmp_path, max_classification=SENSITIVE, admins=[ADMIN]) as h:
        shown = _reply(h.slash("ceiling", REVIEWER))
        assert "*OFFICIAL*" in shown and "the default" in shown
        refused = _reply(h.slash("ceiling OFFICIAL-SENSITIVE", REVIEWER))
        assert "Only the office's admins can set" in refused
        assert h.store.channels.ceiling(CHANNEL) is OFFICIAL
        assert h.store.audit.events("channel", CHANNEL) == []


def test_with_no_admins_configured_nobody_can_set_a_ceiling_from_slack(h: Harness) -> None:
    refused = _reply(h.slash("ceiling OFFICIAL", REVIEWER))
    assert "none are configured" in refused and "RESPONDER_ADMINS" in refused
    assert h.store.audit.events("channel", CHANNEL) == []


def test_an_admin_sets_the_ceiling_it_is_stored_audited_and_announced(tmp_path: Path) -> None:
    with running_bot(tmp_path, max_classification=SENSITIVE, admins=[ADMIN]) as h:
        done = _reply(h.slash("ceiling official-sensitive", ADMIN))
        assert "now *OFFICIAL-SENSITIVE*" in done
        assert h.store.channels.ceiling(CHANNEL) is SENSITIVE
        (event,) = h.store.audit.events("channel", CHANNEL)
        assert (event.actor, event.after) == (ADMIN, {"ceiling": "OFFICIAL-SENSITIVE", "source": "set"})
        (announced,) = h.slack.wait_calls("chat.postMessage", channel=CHANNEL)
        assert "OFFICIAL-SENSITIVE" in announced["text"]
        assert "set by" in _reply(h.slash("ceiling", REVIEWER))
        above = _reply(h.slash("ceiling SECRET", ADMIN))
        assert "above this office's upper bound" in above
        assert h.store.channels.ceiling(CHANNEL) is SENSITIVE


def test_a_pack_marked_above_the_channels_ceiling_is_not_uploaded(h: Harness) -> None:
    inspection = seed_inspection(h.store, approve=(False, True, True), channel=CHANNEL)
    first = h.store.findings.of_inspection(inspection.id)[0]
    h.store.drafts.add(first.id, draft("An answer from a sensitive source.", marking=SENSITIVE))
    h.slash(f"pack {inspection.id} draft", REVIEWER)
    (later,) = h.slack.wait_calls("response_url")
    assert "above the classification ceiling" in _reply(later.body)
    assert not [call for call in h.slack.calls if call.method.startswith("files.")]


# ── end to end: a mention in each channel (the drafting queue asks the channel's ceiling) ────────────────


def test_a_mention_in_a_sensitive_channel_quotes_the_planted_document_and_nowhere_else(tmp_path: Path) -> None:
    settings = {"max_classification": SENSITIVE, "channel_ceilings": {SECURE: SENSITIVE}}
    with running_bot(tmp_path, retriever=library(), **settings) as h:
        shown = {}
        for channel in (SECURE, OPEN):
            event, _ = h.mention(channel=channel)
            shown[channel] = texts(h.wait_draft(h.placeholder_for(event).ts, 1))
        assert h.sender.event(h.sender.message(RECOMMENDATION, channel=DM, channel_type="im")).status == 200
        placeholder = h.slack.wait_calls("chat.postMessage", channel=DM)[0]
        shown[DM] = texts(h.wait_draft(placeholder.ts, 1))
        assert "Nightjar" in shown[SECURE] and shown[SECURE].startswith("*OFFICIAL-SENSITIVE*")
        for channel in (OPEN, DM):
            assert "Nightjar" not in shown[channel]
            assert shown[channel].startswith("*OFFICIAL*")
