"""The drafting chain: retrieve → decide shape → prompt → chat model → parse → guard.

A plain sequence of functions and LangChain runnables: a fixed pipeline needs no agent or graph engine.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

import prompts
from drafting.composer import compose, force_name
from drafting.fact_check import ForeignSource, check_draft
from drafting.llm import MalformedReply, bind_structured, parse_json_reply, structured_reply
from drafting.models import Draft, DraftRequest, ModelAnswer, ShapeDecision, SourceRef
from drafting.rules import decide_shape, fits_shape, shape_problem
from retrieval.findings import make_finding
from retrieval.models import ChunkSection, SearchFilters, SearchHit

log = logging.getLogger(__name__)

COMPOSER = "composer"
_INLINE_REF = re.compile(r"\s*\[(S\d+(?:\s*,\s*S\d+)*)\]")
_EXCERPT_CHARS = 330  # each source is trimmed: the local model reads ~95 tokens/s


class Retriever(Protocol):
    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[SearchHit]: ...


class Drafter:
    """Drafts one finding at a time. `model=None` means the deterministic composer."""

    def __init__(
        self,
        retriever: Retriever,
        model: BaseChatModel | Runnable[Any, Any] | None,
        engine: str,
        *,
        timeout: float = 120.0,
        own_sources: int = 2,
        other_sources: int = 1,
        aliases: dict[str, str] | None = None,
    ) -> None:
        self.retriever = retriever
        self.model = bind_structured(model, ModelAnswer) if model is not None else None
        self.engine = engine if model is not None else COMPOSER
        self.timeout = timeout
        self.own_sources = own_sources
        self.other_sources = other_sources
        self.aliases = aliases or {}
        self._prompt = ChatPromptTemplate.from_messages(
            [("system", prompts.load("system")), ("human", prompts.load("draft"))]
        )

    def draft(self, request: DraftRequest, on_status: Callable[[str], None] | None = None) -> Draft:
        started = time.perf_counter()
        status = on_status or (lambda _msg: None)
        decision = decide_shape(request.finding)
        status("Searching past responses…")
        hits = self.retrieve(request, decision)
        sources = [_source_ref(f"S{i}", hit, request.force) for i, hit in enumerate(hits, start=1)]
        notes: list[str] = []
        answer, engine = self._answer(request, decision, hits, sources, notes, status)
        draft = self._guarded(request, decision, hits, sources, answer, engine, notes)
        draft.seconds = round(time.perf_counter() - started, 2)
        return draft

    def retrieve(self, request: DraftRequest, decision: ShapeDecision | None = None) -> list[SearchHit]:
        """Own-force precedents first (evidence), then other forces' (wording models only).

        Another force's answer of a different shape is a bad model (a small model copies it whole: "This
        recommendation is addressed to the Home Office" for a recommendation to chief constables), so those
        are left out.
        """
        decision = decision or decide_shape(request.finding)
        query = f"{request.inspection_title}\n{request.finding.text}".strip()
        base = SearchFilters(max_classification=request.max_classification, exclude_doc_ids=request.exclude_doc_ids)
        own = self.retriever.search(query, k=self.own_sources, filters=base.model_copy(update={"force": request.force}))
        wider = self.retriever.search(query, k=self.own_sources + self.other_sources + 2, filters=base)
        others = [h for h in wider if not _is_own(h, request.force) and _models_shape(h, decision)]
        return own + others[: self.other_sources]

    def _answer(
        self,
        request: DraftRequest,
        decision: ShapeDecision,
        hits: list[SearchHit],
        sources: list[SourceRef],
        notes: list[str],
        status: Callable[[str], None],
    ) -> tuple[ModelAnswer, str]:
        if self.model is None:
            return self._compose(request, decision, hits, sources), COMPOSER
        status(f"Drafting with {self.engine}…")
        messages = self._messages(request, decision, hits, sources)
        try:
            return self._ask(messages, decision), self.engine
        except MalformedReply as first:
            log.info("model reply malformed, retrying once: %s", first)
            notes.append(f"The model's first reply was malformed ({first}); it was asked again.")
            retry = [*messages, AIMessage(content=str(first.args[1])), HumanMessage(_retry_text(first))]
            try:
                return self._ask(retry, decision), self.engine
            except MalformedReply as second:
                notes.append(
                    f"The model's second reply was also malformed ({second}); this draft was written by "
                    "the precedent composer instead."
                )
                return self._compose(request, decision, hits, sources), COMPOSER

    def _ask(self, messages: list[BaseMessage], decision: ShapeDecision) -> ModelAnswer:
        assert self.model is not None
        answer = structured_reply(self.model, messages, ModelAnswer, self.timeout)
        if problem := shape_problem(decision, answer.text):
            raise MalformedReply(f"the answer has the wrong shape: {problem}", answer.model_dump_json())
        return answer

    def _messages(
        self, request: DraftRequest, decision: ShapeDecision, hits: list[SearchHit], sources: list[SourceRef]
    ) -> list[BaseMessage]:
        finding = request.finding
        revision = ""
        if request.instruction:
            revision = prompts.load("revision").format(
                previous=request.previous_text or "(none)", instruction=request.instruction
            )
        return self._prompt.format_messages(
            force=request.force,
            force_name=force_name(request.force),
            inspection=request.inspection_title or "(not given)",
            label=finding.label + (f" ({finding.due})" if finding.due and finding.due not in finding.text else ""),
            finding=finding.text,
            addressees=", ".join(a.value for a in finding.addressees) or "not stated",
            shape=decision.instruction,
            revision=revision,
            sources="\n".join(_source_block(s, h) for s, h in zip(sources, hits, strict=True)) or "(none found)",
            # The composer's grounded frame anchors a small model: it edits rather than copies a precedent.
            starting_point=self._compose(request, decision, hits, sources).text,
        )

    def _compose(
        self, request: DraftRequest, decision: ShapeDecision, hits: list[SearchHit], sources: list[SourceRef]
    ) -> ModelAnswer:
        responses = {
            s.ref: h.chunk.response
            for s, h in zip(sources, hits, strict=True)
            if h.chunk.section is ChunkSection.PRECEDENT and h.chunk.response
        }
        return compose(request.finding, decision, request.force, sources, responses)

    def _guarded(
        self,
        request: DraftRequest,
        decision: ShapeDecision,
        hits: list[SearchHit],
        sources: list[SourceRef],
        answer: ModelAnswer,
        engine: str,
        notes: list[str],
    ) -> Draft:
        text, inline = _strip_inline_refs(answer.text)
        by_ref = {s.ref: s for s in sources}
        cited = [by_ref[r].chunk_id if r in by_ref else r for r in [*answer.cited_ids, *inline]]
        own_texts = [h.chunk.text for h in hits if _is_own(h, request.force)]
        foreign = [
            ForeignSource(force=h.chunk.meta.force, text=h.chunk.text) for h in hits if not _is_own(h, request.force)
        ]
        extra = [request.previous_text or "", request.instruction or "", request.inspection_title]
        result = check_draft(
            text,
            cited_ids=cited,
            retrieved_ids=[s.chunk_id for s in sources],
            evidence=[request.finding.text, *own_texts, *extra],
            foreign=foreign,
            own_force=force_name(request.force),
            aliases=self.aliases,
        )
        for source in sources:
            source.cited = source.chunk_id in result.cited_ids
        return Draft(
            finding=request.finding,
            shape=decision.shape,
            text=result.text,
            cited_ids=result.cited_ids,
            sources=sources,
            placeholders=result.placeholders,
            rationale=answer.rationale,
            guard=result.findings,
            engine=engine,
            notes=notes,
        )


def parse_answer(content: str) -> ModelAnswer:
    """Parse a model's reply into a ModelAnswer (see `drafting.llm.parse_json_reply`)."""
    return parse_json_reply(content, ModelAnswer)


def _retry_text(error: MalformedReply) -> str:
    return prompts.load("retry").format(error=error.args[0])


def _strip_inline_refs(text: str) -> tuple[str, list[str]]:
    refs = [r.strip() for m in _INLINE_REF.finditer(text) for r in m.group(1).split(",")]
    return _INLINE_REF.sub("", text).strip(), refs


def _models_shape(hit: SearchHit, decision: ShapeDecision) -> bool:
    chunk = hit.chunk
    if chunk.section is not ChunkSection.PRECEDENT or not chunk.recommendation:
        return True
    return fits_shape(decision, make_finding(chunk.recommendation, number=chunk.finding_number))


def _is_own(hit: SearchHit, force: str) -> bool:
    return hit.chunk.meta.force.strip().lower() == force.strip().lower()


def _source_ref(ref: str, hit: SearchHit, force: str) -> SourceRef:
    meta = hit.chunk.meta
    return SourceRef(
        ref=ref,
        chunk_id=hit.chunk.id,
        doc_id=hit.chunk.doc_id,
        title=meta.title,
        force=meta.force,
        inspection_title=meta.inspection_title,
        published=meta.published,
        finding_number=hit.chunk.finding_number,
        similarity=hit.similarity,
        own_force=_is_own(hit, force),
        excerpt=_trim(hit.chunk.response or hit.chunk.text, 240),
    )


def _source_block(source: SourceRef, hit: SearchHit) -> str:
    who = f"OWN FORCE ({source.force})" if source.own_force else f"OTHER FORCE ({source.force}), wording only"
    chunk = hit.chunk
    head = f"{source.ref} [{who}; {source.inspection_title or 'inspection unknown'}"
    head += f"; {source.published.isoformat()}]" if source.published else "]"
    if chunk.section is ChunkSection.PRECEDENT and chunk.response:
        body = f"Finding: {_trim(chunk.recommendation, 160)}\nAnswer: {_trim(chunk.response, _EXCERPT_CHARS)}"
    else:
        # Chunk texts open with the inspection title for search; the header line already carries it.
        body = _trim(chunk.text.removeprefix(source.inspection_title).strip(), _EXCERPT_CHARS)
    return f"{head}\n{body}"


def _trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"
