"""Calling a chat model: with a deadline, and for one structured (JSON) reply. The errors such a call can end in.

Which model drafts is chosen in `drafting.engines`; the in-process llama.cpp runtime is `drafting.local_llama`.
"""

from __future__ import annotations

import contextvars
import json
import re
import threading
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from pydantic import BaseModel, ValidationError

SchemaT = TypeVar("SchemaT", bound=BaseModel)


class ChatModelError(RuntimeError):
    """The configured chat model cannot be used; the message says why and what to do."""


class ModelTimeoutError(TimeoutError):
    """A chat-model call did not answer in time."""


# The cancel flag of the call running in this thread, set by invoke_with_timeout; the local runtime reads it.
CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("responder_llm_cancel", default=None)


def is_local_llama(model: Any) -> bool:
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
        CANCEL.set(cancel)
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


class MalformedReply(ValueError):
    """The model's reply was not the JSON object asked for. `args[1]` is the reply, for a retry prompt."""


def bind_structured(model: BaseChatModel, schema: type[BaseModel]) -> Runnable[Any, Any]:
    """`model`, constrained to answer with `schema` where it can be.

    The local model decodes under llama.cpp's JSON-schema grammar (response_format): every answer that ends
    within max_tokens parses, the prompt is no longer than a plain JSON request (tool calling adds ~260 prompt
    tokens of tool description), and with lazy grammar sampling it generates as fast as unconstrained text.
    Other models are asked for the JSON by the prompt. Numbers: bench/llm_bench.py.
    """
    if is_local_llama(model):
        return model.bind(response_format=grammar_response_format(schema))
    return model


def structured_reply(model: Runnable[Any, Any], messages: Any, schema: type[SchemaT], timeout: float) -> SchemaT:
    """Ask `model` (bound with `bind_structured`) for one `schema` object: the one path every reply takes.

    Raises ModelTimeoutError after `timeout`, and MalformedReply for a reply cut off at max_tokens (LangChain's
    JSON parsers would silently close a truncated object, passing half a draft off as whole) or not the object.
    """
    reply = invoke_with_timeout(model, messages, timeout)
    content = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    if reply.response_metadata.get("finish_reason") == "length":
        raise MalformedReply("the answer was cut off at the model's max_tokens; keep it shorter", content)
    return parse_json_reply(content, schema)


def parse_json_reply(content: str, schema: type[SchemaT]) -> SchemaT:
    """The JSON object in a reply, tolerating code fences and prose around it, validated against `schema`."""
    match = re.search(r"\{.*\}", content, re.S)
    if not match:
        raise MalformedReply("no JSON object in the reply", content)
    try:
        data = json.loads(match.group(0), strict=False)  # llama.cpp's JSON grammar admits raw newlines
    except json.JSONDecodeError as exc:
        raise MalformedReply(f"invalid JSON: {exc.msg} at character {exc.pos}", content) from exc
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MalformedReply(f"wrong fields: {problems}", content) from exc


def grammar_response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """llama.cpp's `response_format` for `schema`, with every top-level field required in the grammar.

    Optional fields would let the small model skip `cited_ids` or `placeholders` altogether; required, it
    must state them (possibly as []), and the reply still validates against the pydantic schema.
    """
    json_schema = schema.model_json_schema()
    json_schema["required"] = list(json_schema.get("properties", {}))
    return {"type": "json_object", "schema": json_schema}
