"""Calling a chat model with a deadline, and the errors such a call can end in.

Which model drafts is chosen in `drafting.engines`; the in-process llama.cpp runtime is `drafting.local_llama`.
A remote (OpenAI-compatible) server's failures, whatever the client raised, end as one of two errors: a
`ModelTimeoutError`, or a `ChatModelError` saying which server and what to do (`remote_errors`).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from langchain_core import exceptions as lc
from langchain_core.runnables import Runnable, RunnableConfig

T = TypeVar("T")


class ChatModelError(RuntimeError):
    """The configured chat model cannot be used; the message says why and what to do."""


class ModelTimeoutError(TimeoutError):
    """A chat-model call did not answer in time; `worker` is the thread that ran it (now told to stop)."""

    worker: threading.Thread | None = None


class CallAbandonedError(RuntimeError):
    """Raised inside an abandoned remote call so its stream closes (and the server stops generating)."""


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
        error = timeout_error(timeout)
        error.worker = worker
        raise error
    if "error" in outcome:
        raise _product_error(outcome["error"])
    return outcome["value"]


def timeout_error(timeout: Any) -> ModelTimeoutError:
    within = f" within {timeout:g} s" if isinstance(timeout, int | float) and timeout else ""
    return ModelTimeoutError(
        f"the chat model did not answer{within} (RESPONDER_LLM_TIMEOUT). Try again, raise "
        "the timeout, or set RESPONDER_LLM=composer to draft without a model."
    )


def _product_error(error: BaseException) -> BaseException:
    """A provider's failure as LangChain reports it for every provider, as one of ours; anything else as is."""
    mapped: BaseException = error
    if isinstance(error, lc.ModelTimeoutError):
        mapped = timeout_error(None)
    elif isinstance(error, lc.ModelConnectionError):
        mapped = unreachable(None, error)
    elif isinstance(error, lc.ModelError):
        mapped = ChatModelError(f"the chat model refused the request: {error}")
    if mapped is not error:
        mapped.__cause__ = error
    return mapped


# ------------------------------------------------------------------------------------------ remote chat servers


def unreachable(where: str | None, error: BaseException) -> ChatModelError:
    at = f" at {where}" if where else ""
    return ChatModelError(
        f"the chat model server{at} is not answering ({error}). Check that it is running; the next draft "
        "uses it again as soon as it answers."
    )


def malformed(where: str | None, what: str) -> ChatModelError:
    at = f" at {where}" if where else ""
    return ChatModelError(
        f"the chat model server{at} sent a malformed reply ({what}). Check that RESPONDER_LLM_BASE_URL points "
        "at an OpenAI-compatible API (…/v1) and the server's log."
    )


#: What a malformed reply raises inside an OpenAI client: bad JSON (a ValueError), missing or mistyped fields.
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)


@contextlib.contextmanager
def remote_errors(where: str | None, timeout: Any) -> Iterator[None]:
    """Inside: a call to the chat server at `where`. Its failures leave as ChatModelError or ModelTimeoutError,
    each saying what happened and what to do (never the prompt, never the key)."""
    try:
        yield
    except (ChatModelError, ModelTimeoutError, CallAbandonedError):
        raise
    except lc.ModelTimeoutError as exc:
        raise timeout_error(timeout) from exc
    except lc.ModelConnectionError as exc:
        raise unreachable(where, exc) from exc
    except lc.ModelError as exc:
        at = f" at {where}" if where else ""
        raise ChatModelError(f"the chat model server{at} refused the request: {exc}") from exc
    except _PARSE_ERRORS as exc:
        raise malformed(where, f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.partition(".")[0] in {"openai", "httpx", "httpcore"}:
            raise unreachable(where, exc) from exc
        raise


def until_cancelled(chunks: Iterator[T], cancel: threading.Event | None) -> Iterator[T]:
    """`chunks` until the caller stops waiting; then the stream is closed, which ends the HTTP request."""
    try:
        for chunk in chunks:
            if cancel is not None and cancel.is_set():
                raise CallAbandonedError("the caller stopped waiting for this reply")
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
