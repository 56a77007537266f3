"""Plain configuration handed down to the retrieval layer by the composition root (bot.settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel


class RetrievalConfig(BaseModel):
    data_dir: Path = Path(".responder")
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "precedents"
    embedding: str = "minilm-int8"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keyword_dir(self) -> Path:
        return self.data_dir / "keyword"
