"""Calling a chat model with a deadline, and the errors such a call can end in.

Which model drafts is chosen in `drafting.engines`; the in-process llama.cpp runtime is `drafting.local_llama`.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig


class ChatModelError(RuntimeError):
    """The configured chat model cannot be used; the message says why and what to do."""


class ModelTimeoutError(TimeoutError):
    """A chat-model call did not answer in time; `worker` is the thread that ran it (now told to stop)."""

    worker: threading.Thread | None = None


# The cancel flag of the call running in this thread, set by invoke_with_timeout; the local runtime reads it.
CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("responder_llm_cancel", default=None)


# ---------------------------------------------------------------------------------------------------- timeouts


def invoke_with_timeout(
    runnable: Runnable[Any, Any], input: Any, timeout: float, config: RunnableConfig | None = None
) -> Any:
    """`runnable.invoke(input)`, or ModelTimeoutError after `timeout` seconds.

    The call runs in a daemon worker thread so the caller can stop waiting at once. On timeout the call's
    CANCEL flag is set; the local model (`drafting.local_llama`) reads it from llama.cpp's abort callback, so its
    generation ends within a graph node, even mid prompt evaluation, and frees its core for the next job.
    Models that ignore the flag (remote providers) are only abandoned; their own client timeout ends them.
    """
    cancel = threading.Event()
    done = threading.Event()
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()  # keeps LangChain's callback/tracing context in the worker

    def work() -> None:
        CANCEL.set(cancel)
        try:
            outcome["value"] = runnable.invoke(input, config)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=context.run, args=(work,), name="chat-model-call", daemon=True)
    worker.start()
    if not done.wait(timeout):
        cancel.set()
        error = ModelTimeoutError(
            f"the chat model did not answer within {timeout:g} s (RESPONDER_LLM_TIMEOUT). Try again, raise "
            "the timeout, or set RESPONDER_LLM=composer to draft without a model."
        )
        error.worker = worker
        raise error
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
