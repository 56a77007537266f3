"""The embedded chat model in process: llama-cpp-python, loaded once, shared safely, abandonable mid-answer.

Built lazily because langchain-community and llama-cpp-python are optional extras (`make install-llm`).
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from drafting.llm import CANCEL, ChatModelError


class LocalGenerationCancelledError(RuntimeError):
    """Raised inside an abandoned local generation so it frees the model at the next token."""


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
    model.abort_hook = _install_abort_hook(model.client)
    return model


def load_llama(path: str, n_ctx: int, n_threads: int, n_batch: int) -> BaseChatModel:
    """Load a GGUF once per process (it takes seconds and ~1.5 GB); concurrent first calls load it once."""
    with _LOAD_LOCK:
        return _cached_llama_unlocked(path, n_ctx, n_threads, n_batch)


@lru_cache(maxsize=1)
def _serial_chat_llama_class() -> type[BaseChatModel]:
    """ChatLlamaCpp made safe to share: one call at a time per loaded model, and abandonable mid-generation.

    Built lazily because langchain-community and llama-cpp-python are optional extras.
    """
    from langchain_community.chat_models import ChatLlamaCpp
    from langchain_core.language_models.chat_models import generate_from_stream

    class SerialChatLlamaCpp(ChatLlamaCpp):
        call_lock: Any = None
        abort_hook: Any = None  # an AbortHook shared by copies of this model, as the loaded weights are

        def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None, **kwargs):
            cancel = CANCEL.get()
            # llama.cpp contexts are not thread-safe: serialise calls on the same loaded model.
            with self.call_lock or contextlib.nullcontext():
                if cancel is None:
                    return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
                if cancel.is_set():
                    raise LocalGenerationCancelledError("the caller stopped waiting before the model was free")
                with self.abort_hook.watching(cancel) if self.abort_hook else contextlib.nullcontext():
                    try:
                        if kwargs.get("tool_choice"):
                            return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
                        # Streamed too, so a cancelled call also ends between tokens without a decode error.
                        chunks = self._stream(messages, stop=stop, run_manager=run_manager, **kwargs)
                        return generate_from_stream(_until_cancelled(chunks, cancel))
                    except RuntimeError as exc:  # "llama_decode returned 2": the abort hook stopped it
                        if cancel.is_set() and not isinstance(exc, LocalGenerationCancelledError):
                            raise LocalGenerationCancelledError(
                                "the caller stopped waiting for this generation"
                            ) from exc
                        raise

    return SerialChatLlamaCpp


class AbortHook:
    """Answers llama.cpp's abort callback: has the call now running on this model been cancelled?

    Why a ggml abort callback and not llama-cpp-python's `stopping_criteria` or a check between streamed tokens:
    those run only after a token is sampled, so they cannot stop the prompt evaluation, which for a long prompt
    is most of the work (issue 10: a core stayed busy ~28 s after the timeout). llama.cpp polls this callback
    between graph nodes inside every `llama_decode`, prompt batches included; when it answers True the decode
    returns 2, llama-cpp-python raises RuntimeError before recording the batch, and the next `eval` drops any
    half-written KV entries, so the model stays usable. It returns a bool, so nothing is lost to ctypes
    swallowing exceptions.
    """

    def __init__(self) -> None:
        self.cancel: threading.Event | None = None

    def __call__(self, _data: Any = None) -> bool:
        cancel = self.cancel
        return cancel is not None and cancel.is_set()

    @contextlib.contextmanager
    def watching(self, cancel: threading.Event | None) -> Iterator[None]:
        """Make `cancel` the flag this hook reports while the block runs (calls hold the model's lock)."""
        self.cancel = cancel
        try:
            yield
        finally:
            self.cancel = None


def _install_abort_hook(client: Any) -> AbortHook:
    import llama_cpp

    hook = AbortHook()
    callback = llama_cpp.ggml_abort_callback(hook)
    hook.c_callback = callback  # type: ignore[attr-defined]  # keep it alive as long as the context uses it
    llama_cpp.llama_set_abort_callback(client._ctx.ctx, callback, ctypes.c_void_p(0))
    return hook


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
