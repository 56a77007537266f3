"""`doctor` and `/readyz` ask an OpenAI-compatible endpoint whether it serves the configured model."""

from __future__ import annotations

from pathlib import Path

from bot.health import check_chat_engine
from bot.settings import Settings


def _settings(tmp_path: Path, base_url: str, model: str = "responder-local") -> Settings:
    values = {"data_dir": tmp_path, "llm": f"openai:{model}", "llm_base_url": base_url, "llm_timeout": 2.0}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_an_endpoint_that_does_not_answer_fails_the_chat_engine_check(tmp_path: Path) -> None:
    check = check_chat_engine(_settings(tmp_path, "http://127.0.0.1:1/v1"))
    assert not check.ok and "RESPONDER_LLM_BASE_URL" in check.todo
