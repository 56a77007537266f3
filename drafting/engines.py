"""Choosing the chat model that drafts: `RESPONDER_LLM` names the engine.

'auto' (a configured provider, else the embedded local model when it can run, else the deterministic composer),
'local', 'composer', or 'provider:model' for any of the LangChain integrations we support as extras. What is
installed, and loading it, goes through an `EngineLoader`, so the choice can be tested with a fake one.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, SecretStr

from drafting.llm import CANCEL, ChatModelError, malformed, remote_errors, until_cancelled
from drafting.local_llama import load_llama
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


#: The key sent to an OpenAI-compatible server that needs none (llama.cpp, vLLM, Ollama): the client insists on one.
NO_KEY = "not-needed"
#: The longest reply asked of a provider: a draft is ~250 words (~330 tokens); a rewrite never needs more.
PROVIDER_MAX_TOKENS = 600


class RemoteSettings(BaseModel):
    """How to reach a provider's chat model: an OpenAI-compatible server's URL and key, and the client's retries.

    `base_url` applies to 'openai:MODEL' only. With it, the key is `api_key` or none at all (OPENAI_API_KEY is
    not read then, so a hosted key is never sent to another server); without it, the provider's usual variables.
    """

    base_url: str | None = None
    api_key: SecretStr | None = None
    max_retries: int = 2


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
    temperature: float = 0.0  # greedy: a faithful rewrite, the same one every time


class EngineLoader:
    """What is installed here, and loading it: the real thing by default, a fake in tests."""

    def runtime_missing(self) -> str | None:
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

    def weights_missing(self) -> list[str]:
        """The model-part packages not installed (empty when the weights are all there)."""
        return locate_parts()[1]

    def integration_installed(self, module: str) -> bool:
        return importlib.util.find_spec(module) is not None

    def init_provider(self, spec: str, **options: Any) -> BaseChatModel:
        provider, _, name = spec.partition(":")
        if provider == "openai":
            return openai_chat_model(name, **options)
        from langchain.chat_models import init_chat_model

        return init_chat_model(spec, **options)

    def load_local(
        self, data_dir: Path, model_path: Path | None, on_progress: ProgressCallback | None, local: LocalModelSettings
    ) -> tuple[BaseChatModel, str]:
        missing = self.runtime_missing()
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
        base = load_llama(str(path.resolve()), local.n_ctx, local.n_threads, local.n_batch)
        # A shallow copy shares the loaded weights and the call lock but carries this caller's sampling settings.
        model = base.model_copy(update={"max_tokens": local.max_tokens, "temperature": local.temperature})
        return model, engine


def select_chat_model(
    spec: str,
    data_dir: Path,
    timeout: float,
    model_path: Path | None = None,
    on_progress: ProgressCallback | None = None,
    local: LocalModelSettings | None = None,
    provider: str | None = None,
    loader: EngineLoader | None = None,
    remote: RemoteSettings | None = None,
) -> ChatModelChoice:
    """Resolve `spec` ('auto' | 'local' | 'composer' | 'provider:model') to a ready chat model or None.

    With 'auto', a configured `provider` ('openai:gpt-4o-mini') is tried first, then the local model, then
    the composer; the choice's reason says which was used and why. `remote` says where a provider's server is.
    """
    spec = spec.strip()
    local = local or LocalModelSettings()
    loader = loader or EngineLoader()
    if spec == "composer":
        return ChatModelChoice(model=None, engine=COMPOSER_ENGINE, reason="RESPONDER_LLM=composer")
    if spec == "local":
        model, engine = loader.load_local(data_dir, model_path, on_progress, local)
        return ChatModelChoice(model=model, engine=engine, reason="RESPONDER_LLM=local")
    if spec == "auto":
        if provider:
            try:
                choice = _select_provider(provider, timeout, loader, remote)
            except ChatModelError as exc:
                log.warning("configured provider unavailable, trying the local model: %s", exc)
            else:
                return choice.model_copy(update={"reason": f"auto: the configured provider {provider}"})
        return _select_auto(data_dir, model_path, on_progress, local, loader)
    if ":" in spec:
        return _select_provider(spec, timeout, loader, remote)
    raise ChatModelError(
        f"unknown chat model {spec!r} (RESPONDER_LLM): use 'auto', 'local', 'composer' or 'provider:model' "
        f"with a provider among {', '.join(PROVIDERS)} (e.g. 'openai:gpt-4o-mini')."
    )


def _select_provider(
    spec: str, timeout: float, loader: EngineLoader, remote: RemoteSettings | None = None
) -> ChatModelChoice:
    provider, _, name = spec.partition(":")
    if provider not in PROVIDERS:
        raise ChatModelError(
            f"unknown chat model provider {provider!r} in {spec!r} (RESPONDER_LLM): "
            f"supported providers are {', '.join(PROVIDERS)}, or use 'auto', 'local' or 'composer'."
        )
    if not name:
        raise ChatModelError(f"{spec!r} names no model: write it as '{provider}:MODEL', e.g. 'openai:gpt-4o-mini'.")
    options = _provider_options(provider, timeout, remote)
    module, extra = PROVIDERS[provider]
    if not loader.integration_installed(module):
        raise ChatModelError(
            f"the {provider!r} chat model needs its LangChain integration ({module}), which is not installed: "
            f"pip install 'responder[{extra}]'"
        )
    try:
        model = loader.init_provider(spec, **options)
    except ImportError as exc:
        raise ChatModelError(f"{exc}. Install the extra: pip install 'responder[{extra}]'") from exc
    except Exception as exc:  # missing credentials, a bad option: the client says which
        raise ChatModelError(f"the {provider!r} chat model could not be set up: {exc}") from exc
    where = f" at {remote.base_url}" if remote and remote.base_url else ""
    return ChatModelChoice(model=model, engine=spec, reason=f"RESPONDER_LLM={spec}{where}")


def _provider_options(provider: str, timeout: float, remote: RemoteSettings | None) -> dict[str, Any]:
    """The client options for `provider` (never logged: they may hold the key)."""
    # Ollama's client takes its HTTP timeout through client_kwargs; the hosted providers take `timeout`.
    options: dict[str, Any] = {"client_kwargs": {"timeout": timeout}} if provider == "ollama" else {"timeout": timeout}
    if remote is None:
        return options
    if remote.base_url and provider != "openai":
        raise ChatModelError(
            f"RESPONDER_LLM_BASE_URL is for 'openai:MODEL' (any OpenAI-compatible server), not {provider!r}: "
            "unset it, or use RESPONDER_LLM=openai:MODEL (docs/model-endpoints.md)."
        )
    if provider != "ollama":
        options["max_retries"] = remote.max_retries
    if remote.base_url:
        options["base_url"] = remote.base_url
        options["api_key"] = remote.api_key.get_secret_value() if remote.api_key else NO_KEY
    elif remote.api_key:
        options["api_key"] = remote.api_key.get_secret_value()
    return options


def endpoint_problem(remote: RemoteSettings, model: str, timeout: float = 5.0) -> str | None:
    """What is wrong with the OpenAI-compatible server at `remote.base_url` for `model`, or None when it lists
    the model at /models (for `responder doctor`; the key is sent, never shown)."""
    import json
    import urllib.request

    url = f"{(remote.base_url or '').rstrip('/')}/models"
    key = remote.api_key.get_secret_value() if remote.api_key else NO_KEY
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            listed = {str(entry.get("id")) for entry in json.load(response).get("data", [])}
    except (OSError, ValueError, AttributeError) as exc:
        return f"the chat model server at {remote.base_url} is not answering at {url} ({exc})"
    if model not in listed:
        return (
            f"the chat model server at {remote.base_url} has no model {model!r} (it lists {', '.join(sorted(listed))})"
        )
    return None


def openai_chat_model(name: str, **options: Any) -> BaseChatModel:
    """langchain-openai's ChatOpenAI for `name`, streaming, greedy, capped, abandonable (`_streaming_chat_openai`)."""
    defaults = {"streaming": True, "temperature": 0.0, "max_tokens": PROVIDER_MAX_TOKENS}
    return _streaming_chat_openai()(model=name, **(defaults | options))


@lru_cache(maxsize=1)
def _streaming_chat_openai() -> type[BaseChatModel]:
    """ChatOpenAI that streams, so an abandoned call closes its request at the next token (llama.cpp's server
    stops generating when the client goes), and whose failures are our errors (`drafting.llm.remote_errors`).

    Built lazily because langchain-openai is an optional extra.
    """
    from langchain_openai import ChatOpenAI

    class StreamingChatOpenAI(ChatOpenAI):
        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            cancel = CANCEL.get()  # read here: the generator's body runs in the calling thread's context
            where = self.openai_api_base
            with remote_errors(where, self.request_timeout):
                finished = False
                for chunk in until_cancelled(super()._stream(*args, **kwargs), cancel):
                    finished = finished or bool((chunk.generation_info or {}).get("finish_reason"))
                    yield chunk
                if not finished:
                    raise malformed(where, "the reply ended without a finish_reason: no choices, or cut off")

        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            with remote_errors(self.openai_api_base, self.request_timeout):
                return super()._generate(*args, **kwargs)

    return StreamingChatOpenAI


def _select_auto(
    data_dir: Path,
    model_path: Path | None,
    on_progress: ProgressCallback | None,
    local: LocalModelSettings,
    loader: EngineLoader,
) -> ChatModelChoice:
    missing = loader.runtime_missing()
    if missing:
        return _composer_because(f"the local model cannot run here: {missing}")
    if model_path is None and loader.weights_missing():
        return _composer_because(
            "the local model's weights are not installed (run `make install-llm` to draft with it)"
        )
    try:
        model, engine = loader.load_local(data_dir, model_path, on_progress, local)
    except (ChatModelError, LocalModelError) as exc:
        log.warning("falling back to the composer: %s", exc)
        return _composer_because(f"the local model failed to load: {exc}")
    return ChatModelChoice(
        model=model, engine=engine, reason="auto: llama-cpp-python and the local model are installed"
    )


def _composer_because(why: str) -> ChatModelChoice:
    return ChatModelChoice(model=None, engine=COMPOSER_ENGINE, reason=f"auto: {why}; drafting with the composer")
