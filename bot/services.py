"""The composition root: builds each back-end once from Settings, lazily, and hands plain objects down."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from drafting.chain import DraftingService
    from drafting.llm import ChatModelChoice
    from retrieval.index import PrecedentIndex


class Services:
    """Heavy parts (the embedding model, Chroma, the chat model) load on first use, not at start-up."""

    def __init__(self, settings: Settings, on_progress: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.on_progress = on_progress
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    @cached_property
    def index(self) -> PrecedentIndex:
        from retrieval.index import PrecedentIndex

        return PrecedentIndex(self.settings.retrieval())

    @cached_property
    def chat(self) -> ChatModelChoice:
        from drafting.llm import select_chat_model

        s = self.settings
        return select_chat_model(s.llm, s.data_dir, s.llm_timeout, model_path=s.model_path, provider=s.llm_provider)

    @cached_property
    def drafter(self) -> DraftingService:
        from drafting.chain import DraftingService
        from retrieval.glossary import aliases

        return DraftingService(
            self.index,
            self.chat.model,
            self.chat.engine,
            timeout=self.settings.llm_timeout,
            aliases=aliases(),
        )
