"""The drafting chain: shape → asks → evidence → plan → composed text → (the model's rewrite) → checks.

A plain sequence of functions and one LangChain call: a fixed pipeline needs no agent or graph engine.

1. The addressee rules decide the shape; the finding is split into its asks.
2. Each ask gets the own-force sentences about the same matter (`drafting.evidence`), or a placeholder.
3. The composer writes that plan deterministically. Without a model, that is the draft.
4. With a model, the model rewrites the composed text as fluent prose (plain text, no JSON: it is faster and
   the composed text already carries every citation). The rewrite is refused, like a malformed reply, when it
   adds or drops a fact, states what no passage supports, repeats itself, or restates the recommendation as
   the force's commitment; it is retried once with the reasons if the time budget allows, else the composed
   text stands, with a note saying so. The model's own words never reach a reviewer unless they pass.
   While the model writes, `on_text` (when given) hears the words so far, for a progress display only: what
   is shown there is unchecked until the draft is returned.
5. The fact checker runs on whatever text is kept: facts not in the finding or the evidence become
   `[CONFIRM: …]`; sentences no passage supports are reported; another body's voice is reported.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig

import prompts
from drafting.asks import split_asks
from drafting.composer import DATED_QUOTE, POSITION_QUOTE, STILL_CURRENT, Composed, compose, force_name, placeholder_for
from drafting.evidence import Embed, Evidence, EvidenceFinder, Retriever
from drafting.fact_check import PLACEHOLDER, check_draft
from drafting.llm import ModelTimeoutError, invoke_with_timeout
from drafting.models import (
    COMPOSER_CANNOT_FOLLOW,
    MODEL_DID_NOT_FOLLOW,
    SAME_TEXT,
    AnswerShape,
    AskPlan,
    Draft,
    DraftRequest,
    GuardFinding,
    GuardKind,
    Plan,
    SourceRef,
)
from drafting.reply_check import Problem, reply_problems
from drafting.rules import decide_shape, shape_problem
from drafting.support import Passage, Support, support
from drafting.themes import themes_of
from drafting.voice import FORCE_WRITTEN, other_voices
from retrieval.keyword import force_key
from retrieval.models import Classification, DocumentKind

log = logging.getLogger(__name__)

COMPOSER = "composer"
#: Seconds one draft may take, all attempts included; past it the composed text stands.
DRAFT_BUDGET = 30.0
#: With fewer words than this left to write around the fixed parts, a rewrite has nothing to improve.
MIN_WORDS_TO_WRITE = 8
#: A date marker must be followed by at least this many words of the statement it dates.
MIN_DATED_WORDS = 4
#: English prose through the Qwen/Llama tokenisers, with a margin: 250 words of a draft are ~330 tokens.
TOKENS_PER_WORD = 1.5
#: A retry is only worth starting with at least this long left.
MIN_RETRY_SECONDS = 8.0


class Drafter:
    """Drafts one finding at a time. `model=None` means the deterministic composer alone."""

    def __init__(
        self,
        retriever: Retriever,
        model: BaseChatModel | Runnable[Any, Any] | None,
        engine: str,
        *,
        embed: Embed | None = None,
        timeout: float = 120.0,
        budget: float = DRAFT_BUDGET,
        stale_after_years: int = 3,
        aliases: dict[str, str] | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        embed = embed or _embedder_of(retriever)
        self.finder = EvidenceFinder(retriever, embed, stale_after_years=stale_after_years, today=today)
        self.embed = embed
        self.model = model
        self.engine = engine if model is not None else COMPOSER
        self.timeout = timeout
        self.budget = budget
        self.aliases = aliases or {}
        self._prompt = ChatPromptTemplate.from_messages(
            [("system", prompts.load("system")), ("human", prompts.load("draft"))]
        )

    def draft(
        self,
        request: DraftRequest,
        on_status: Callable[[str], None] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Draft:
        """Draft one finding. `on_status` hears each stage; `on_text` the model's words so far as it writes
        (only for a model that streams tokens, such as the local one; never the checked text)."""
        started = time.perf_counter()
        status = on_status or (lambda _msg: None)
        decision = decide_shape(request.finding)
        status("Searching past responses…")
        plan = self.plan(request, decision.shape)
        composed = compose(plan, decision, request.force)
        notes = list(plan.notes)
        text, engine = composed.text, COMPOSER
        if self.model is not None and plan.evidence:
            status(f"Writing with {self.engine}…")
            deadline = started + self.budget
            text, engine = self._rewrite(request, plan, composed, notes, deadline=deadline, on_text=on_text)
        if self.model is not None and not plan.evidence:
            # A deferral is fixed wording and a skeleton is placeholders: a model has nothing to write.
            notes.append("Nothing for the model to write from: the composed text is the draft.")
        draft = self._checked(request, plan, text, engine, notes, composed.rationale)
        if request.instruction:
            draft.instruction_followed = self._followed(request, draft)
        draft.seconds = round(time.perf_counter() - started, 2)
        return draft

    def _followed(self, request: DraftRequest, draft: Draft) -> bool:
        """Whether this version follows the reviewer's instruction, with a note when it does not: the composer
        writes the plan out and cannot take a free-text instruction, and a refused rewrite leaves the composer's
        text. Either way the card must not say the instruction was followed."""
        followed = draft.engine != COMPOSER
        if not followed:
            draft.notes.append(COMPOSER_CANNOT_FOLLOW if self.model is None else MODEL_DID_NOT_FOLLOW)
        if request.previous_text is not None and _same_text(draft.text, request.previous_text):
            draft.notes.append(SAME_TEXT)
            followed = False
        return followed

    # ── the plan ─────────────────────────────────────────────────────────────────────────────────────────

    def plan(self, request: DraftRequest, shape: AnswerShape) -> Plan:
        asks = split_asks(request.finding)
        if shape is AnswerShape.OTHER_BODY:
            return Plan(shape=shape, asks=[AskPlan(ask=ask) for ask in asks])
        found = self.finder.find(
            request.finding,
            asks,
            request.force,
            request.max_classification,
            request.exclude_doc_ids,
            request.inspection_title,
            pcc_voice=shape is AnswerShape.PCC_VOICE,
        )
        ask_plans = [
            AskPlan(
                ask=ask,
                evidence=found.by_ask[ask.id],
                placeholder=None if found.by_ask[ask.id] else placeholder_for(ask, shape),
            )
            for ask in asks
        ]
        plan = Plan(shape=shape, asks=ask_plans, context=found.context, due=request.finding.due)
        plan.notes.extend(_plan_notes(plan, request, self.finder.stale_after_years))
        return plan

    # ── the model's rewrite ──────────────────────────────────────────────────────────────────────────────

    def _rewrite(
        self,
        request: DraftRequest,
        plan: Plan,
        composed: Composed,
        notes: list[str],
        deadline: float,
        on_text: Callable[[str], None] | None = None,
    ) -> tuple[str, str]:
        masked, markers = mask_fixed(composed.text)
        if words_to_write(masked) < MIN_WORDS_TO_WRITE:
            notes.append("The draft is placeholders only: it is shown as composed.")
            return composed.text, COMPOSER
        if (limit := self._words_the_model_can_write()) and words_to_write(masked) > limit:
            # It would be cut off at max_tokens (and run past the budget): fail fast rather than after 30 s.
            notes.append("The draft is too long for the model to reword in one reply; the composed text is shown.")
            return composed.text, COMPOSER
        messages = self._messages(request, plan, masked)
        for attempt in (1, 2):
            left = deadline - time.perf_counter()
            if attempt == 2 and left < MIN_RETRY_SECONDS:
                notes.append("There was no time left to ask the model again; the composed text is shown.")
                return composed.text, COMPOSER
            config: RunnableConfig | None = None
            if on_text is not None:
                config = {"callbacks": [TextSoFar(on_text, markers)]}
            try:
                reply = invoke_with_timeout(self.model, messages, min(self.timeout, max(left, 1.0)), config)
            except ModelTimeoutError:
                log.info("the model ran out of its %.0f s budget; keeping the composed text", self.budget)
                notes.append(f"The model did not finish within {self.budget:.0f} s; the composed text is shown.")
                return composed.text, COMPOSER
            written = _reply_text(reply)
            text, dropped = unmask(written, markers)
            problems = self._problems(request, plan, composed, text)
            if dropped:
                problems.append(Problem("it dropped the date of an old statement", ", ".join(dropped)))
            if reply.response_metadata.get("finish_reason") == "length":
                # A reply stopped at max_tokens is half a draft, however well its first half reads.
                problems.append(Problem("it was cut off at the model's max_tokens"))
            if detached := detached_dates(written):
                problems.append(Problem("it moved the date of an old statement away from it", ", ".join(detached)))
            if not problems:
                return text, self.engine
            # Reasons only at INFO: the details quote draft text, which is the office's and not for the log.
            log.info("model rewrite refused (attempt %d): %s", attempt, "; ".join(p.reason for p in problems))
            # The reply itself only at DEBUG: it may be long, malformed, and is never shown to a reviewer.
            log.debug("refused rewrite (%s): %s", "; ".join(problems), written)
            messages = [*messages, AIMessage(content=written), HumanMessage(content=_retry_text(problems))]
        notes.append(self._refusal_note(problems))
        return composed.text, COMPOSER

    def _refusal_note(self, problems: list[Problem]) -> str:
        """A short reason for reviewers: the kind of problem, never the reply's words."""
        who = "The local model" if self.engine.startswith("local") else "The model"
        if any(p.malformed for p in problems):
            return f"{who}'s reply was malformed; the composer's draft is shown."
        return f"{who}'s wording was not used ({problems[0].reason}); the composer's draft is shown."

    def _words_the_model_can_write(self) -> int | None:
        max_tokens = getattr(self.model, "max_tokens", None)
        return int(max_tokens / TOKENS_PER_WORD) if isinstance(max_tokens, int) else None

    def _problems(self, request: DraftRequest, plan: Plan, composed: Composed, text: str) -> list[Problem]:
        supports = self._support(request, plan, text)
        problems = reply_problems(text, composed.text, supports, keep_all=not request.instruction)
        if problem := shape_problem(decide_shape(request.finding), text):
            problems.append(Problem("it has the wrong shape", problem))
        return problems

    def _messages(self, request: DraftRequest, plan: Plan, composed: str) -> list[BaseMessage]:
        finding = request.finding
        revision = ""
        if request.instruction:
            revision = prompts.load("revision").format(
                previous=request.previous_text or "(none)", instruction=request.instruction
            )
        unique = list({e.text: e for e in plan.evidence}.values())
        evidence = "\n".join(_evidence_line(e) for e in unique) or "(none: the draft is placeholders)"
        return self._prompt.format_messages(
            force=request.force,
            force_name=force_name(request.force),
            inspection=request.inspection_title or "(not given)",
            label=finding.label,
            finding=finding.text,
            shape=decide_shape(finding).instruction,
            evidence=evidence,
            revision=revision,
            composed=composed,
        )

    # ── checks on the text that is kept ──────────────────────────────────────────────────────────────────

    def _support(self, request: DraftRequest, plan: Plan, text: str) -> list[Support]:
        passages = [Passage(e.id, e.text) for e in plan.evidence]
        person = [request.instruction or "", request.previous_text or ""]
        return support(text, passages, request.finding.text, self.embed, extra=person)

    def _checked(
        self, request: DraftRequest, plan: Plan, text: str, engine: str, notes: list[str], rationale: str
    ) -> Draft:
        # A stale passage's month ("In February 2020 the force reported …") comes from its document's date, as a
        # register update's does ("As at March 2026, the force reports …").
        dated = [e.month for e in plan.evidence if e.stale or e.kind is DocumentKind.REGISTER_UPDATE]
        evidence_texts = [e.text for e in plan.evidence] + dated
        person = [request.instruction or "", request.previous_text or "", request.inspection_title]
        result = check_draft(
            text,
            cited_ids=[],
            retrieved_ids=[],
            evidence=[request.finding.text, *evidence_texts, *person],
            own_force=force_name(request.force),
            aliases=self.aliases,
            require_citation=False,
        )
        supports = self._support(request, plan, result.text)
        by_id = {e.id: e for e in plan.evidence}
        used = [by_id[s.by] for s in supports if s.by in by_id]
        guard = [*result.findings, *_unsupported(supports)]
        force_written = [s.sentence for s in supports if s.by in by_id and by_id[s.by].kind in FORCE_WRITTEN]
        guard += other_voices(result.text, force_name(request.force), force_written)
        sources = _sources(plan.evidence, used, request.force, plan.context)
        # A redraft may keep the previous version's words, so it keeps that version's marking too.
        inherited = [request.previous_marking] if request.previous_text is not None else []
        return Draft(
            finding=request.finding,
            shape=plan.shape,
            text=result.text,
            cited_ids=list(dict.fromkeys(e.chunk_id for e in used)),
            sources=sources,
            placeholders=result.placeholders,
            rationale=rationale,
            guard=guard,
            engine=engine,
            notes=notes,
            plan=plan,
            marking=Classification.highest([*inherited, *(source.classification for source in sources)]),
        )


#: An old statement quoted with its date and its question: the model may reword the statement, never the two.
_MARKER = re.compile(r"\[[DP]\d+\]")


class TextSoFar(BaseCallbackHandler):
    """Hands `on_text` the model's reply so far, token by token, with the fixed parts' markers put back.

    A progress display's failure must never stop the draft, so it is logged and the writing goes on.
    """

    def __init__(self, on_text: Callable[[str], None], markers: dict[str, str]) -> None:
        self.on_text = on_text
        self.markers = markers
        self.text = ""

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        if not isinstance(token, str) or not token:  # some providers stream content blocks, not text
            return
        self.text += token
        shown = self.text
        for marker, original in self.markers.items():
            shown = shown.replace(marker, original)
        try:
            self.on_text(shown)
        except Exception:
            log.exception("the draft's progress display failed; drafting goes on")


def mask_fixed(text: str) -> tuple[str, dict[str, str]]:
    """What the model must not reword, as short markers: a dated opening `[D1]` (an old statement's, a register
    update's), each placeholder `[P1]`.

    A small model keeps four characters exactly far more reliably than forty words. Returns the masked text and
    marker → original; an old statement loses its quotation marks, since the model may reword it.
    """
    markers: dict[str, str] = {}
    dates = 0

    def date_marker(match: re.Match[str]) -> str:
        """An old statement keeps its question after it; a register update (current) has none."""
        nonlocal dates
        dates += 1
        markers[f"[D{dates}]"] = match.group(1)
        return f"[D{dates}] {match.group(2)}" + (f" {STILL_CURRENT}" if match.re is DATED_QUOTE else "")

    def placeholder_marker(match: re.Match[str]) -> str:
        # One marker per occurrence: two old statements each keep their own "still the current position?".
        marker = f"[P{sum(m.startswith('[P') for m in markers) + 1}]"
        markers[marker] = match.group(0)
        return marker

    text = POSITION_QUOTE.sub(date_marker, DATED_QUOTE.sub(date_marker, text))
    return PLACEHOLDER.sub(placeholder_marker, text), markers


def unmask(text: str, markers: dict[str, str]) -> tuple[str, list[str]]:
    """The model's text with its markers replaced, and any placeholder it dropped put back at the end (the chain,
    not the model, owns placeholders). Returns the text and the date markers it dropped, which cannot be put back:
    without its date, an old statement reads as today's."""
    dropped = [marker for marker in markers if marker.startswith("[D") and marker not in text]
    for marker, original in markers.items():
        if marker in text:
            text = text.replace(marker, original, 1).replace(marker, "")
        elif marker.startswith("[P"):
            text = f"{text.rstrip()} {original}"
    return " ".join(text.split()), dropped


def detached_dates(written: str) -> list[str]:
    """Date markers with no statement after them: "[D1] [P1]" at the end leaves the old statement undated."""
    detached = []
    for match in re.finditer(r"\[D\d+\]", written):
        rest = written[match.end() :]
        following = _MARKER.search(rest)
        if len((rest[: following.start()] if following else rest).split()) < MIN_DATED_WORDS:
            detached.append(match.group(0))
    return detached


def words_to_write(masked: str) -> int:
    """How many words the model has to work with once the fixed parts are markers."""
    return len(_MARKER.sub(" ", masked).split())


def _embedder_of(retriever: Retriever) -> Embed:
    embeddings = getattr(retriever, "embeddings", None)
    if embeddings is None:
        raise ValueError("the drafter needs an embedder: pass embed=, or a retriever with .embeddings")
    return embeddings.embed_documents


def _plan_notes(plan: Plan, request: DraftRequest, years: int) -> list[str]:
    notes = []
    if plan.found_nothing:
        matter = ", ".join(sorted(themes_of(request.finding.text))) or "this matter"
        notes.append(
            f"No earlier answer or position statement on {matter} was found in the library: every ask is left "
            "for the office to supply."
        )
    if any(e.stale for e in plan.evidence):
        notes.append(
            f"Some evidence is more than {years} years old: it is dated in the text, to confirm it still holds."
        )
    if plan.context:
        notes.append(
            f"{len(plan.context)} passage(s) from third-party documents (news, reports) bear on this; they are "
            "shown for context and are never stated as the force's position."
        )
    return notes


def _evidence_line(evidence: Evidence) -> str:
    when = evidence.dated.strftime("%B %Y") if evidence.dated else "undated"
    return f"{evidence.id} [{evidence.force}, {when}]: {evidence.text}"


def _reply_text(reply: Any) -> str:
    content = reply.content if isinstance(reply.content, str) else str(reply.content)
    text = content.strip().strip('"').strip()
    for prefix in ("Answer:", "Revised draft:", "Draft:"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    return " ".join(text.split())


def _retry_text(problems: list[Problem]) -> str:
    return prompts.load("retry").format(error="; ".join(problems))


def _unsupported(supports: list[Support]) -> list[GuardFinding]:
    findings = []
    for item in supports:
        if item.by is None:
            detail = f"No passage that passed the relevance gate supports: “{item.sentence}”"
            findings.append(GuardFinding(kind=GuardKind.UNSUPPORTED_SENTENCE, detail=detail, span=item.sentence))
        elif item.restates:
            detail = f"This restates the recommendation as the force's commitment: “{item.sentence}”"
            findings.append(GuardFinding(kind=GuardKind.UNSUPPORTED_SENTENCE, detail=detail, span=item.sentence))
    return findings


def _sources(
    evidence: list[Evidence], used: list[Evidence], force: str, context: Sequence[Evidence] = ()
) -> list[SourceRef]:
    """One source per chunk the evidence came from, with the passages the plan took from it (what the reviewer
    checks the draft against), then the third-party passages shown for context only."""
    by_chunk: dict[str, list[Evidence]] = {}
    for item in evidence:
        by_chunk.setdefault(item.chunk_id, []).append(item)
    third_party: dict[str, list[Evidence]] = {}
    for item in context:
        if item.chunk_id not in by_chunk:
            third_party.setdefault(item.chunk_id, []).append(item)
    cited = {e.chunk_id for e in used}
    refs = []
    chunks = [*((k, v, False) for k, v in by_chunk.items()), *((k, v, True) for k, v in third_party.items())]
    for i, (chunk_id, items, context_only) in enumerate(chunks, start=1):
        first = items[0]
        passages = list(dict.fromkeys(e.text for e in items))
        refs.append(
            SourceRef(
                ref=f"S{i}",
                chunk_id=chunk_id,
                doc_id=first.doc_id,
                title=first.title,
                force=first.force,
                inspection_title=first.inspection_title,
                published=first.dated,
                similarity=max(e.relevance for e in items),
                own_force=force_key(first.force) == force_key(force),
                cited=chunk_id in cited and not context_only,
                excerpt=" … ".join(passages),
                kind=first.kind,
                passages=passages,
                evidence_ids=list(dict.fromkeys(e.id for e in items)),
                context_only=context_only,
                classification=Classification.highest(e.classification for e in items),
            )
        )
    return refs


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())
