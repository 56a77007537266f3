"""Local chat-model bench: load time, llama.cpp throughput, and structured-output methods compared.

Measures on this machine (2 cores) the embedded Qwen2.5-Coder-1.5B Q4_K_M through ChatLlamaCpp:
  - load time of the GGUF (first construction in this process);
  - prompt-eval and generation tokens/s on the raw llama.cpp context (fixed token counts, no sampling stops);
  - a real drafting prompt (the repo's system + draft templates, ~840 tokens) answered as a ModelAnswer-shaped
    JSON object by three methods: the JSON-schema grammar (response_format, sampled lazily: see
    drafting/llama_sampling.py), ChatLlamaCpp's tool-calling `with_structured_output` (also a grammar, plus
    ~260 prompt tokens of tool description), and a plain JSON prompt parsed afterwards. Each run starts from an
    empty KV cache; a last row shows a second draft that reuses the cached system prompt.

Run: `python -m bench llm [--runs 2] [--methods grammar,tools,plain]`; results also go to
bench/results/llm-<time>.json. Other processes on the machine slow these numbers down, generation most of all
(llama.cpp's threads wait on each other every token): the load average is printed and stored with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel, Field

import prompts
from drafting import local_llama
from drafting.engines import LocalModelSettings, select_chat_model
from drafting.llm import MalformedReply, bind_structured, parse_json_reply

FINDING = (
    "By 31 December 2024, all chief constables should make sure that their forces have problem profiles for "
    "child sexual exploitation, each of which should include an assessment of the nature and extent of "
    "group-based child sexual exploitation. This should include relevant data from local partner agencies "
    "and should be updated frequently, at least annually."
)
SOURCES = [
    (
        "S1",
        "OWN FORCE (Northumbria); An inspection of the response to group-based child sexual exploitation; 2023-12-08",
        "Finding: all chief constables should make sure that their forces have problem profiles for child "
        "sexual exploitation …\nAnswer: A new problem profile has been commissioned and chapter I has been "
        "completed which details crime overview for CSE. Further chapters are being progressed and one of these "
        "chapters will specifically relate to group-based CSE.",
    ),
    (
        "S2",
        "OWN FORCE (Northumbria); An inspection of the response to group-based child sexual exploitation; 2023-12-08",
        "Finding: all chief constables and the relevant business user groups for police record management "
        "systems should make sure there are sufficient measures in place to identify group-based CSE.\nAnswer: "
        "With a replacement records management system now not due until 2025-26, manual mitigation procedures "
        "have been put in place with reporting of group-based CSE that meets the definition reported into the "
        "force Exploitation Threat Group.",
    ),
    (
        "S3",
        "OWN FORCE (Northumbria); Joint targeted area inspection: children and families who need help; 2023-11-07",
        "Finding: partners should improve the quality of information sharing.\nAnswer: The force has "
        "strengthened its arrangements with the local safeguarding partnership, and partnership data is now "
        "reviewed each quarter by the Missing, Slavery, Exploitation and Trafficking board.",
    ),
    (
        "S4",
        "OTHER FORCE (Cambridgeshire), wording only; National Child Protection Inspections 2019; 2020-02-27",
        "Finding: forces should assess the nature and extent of child exploitation in their area.\nAnswer: The "
        "Constabulary's exploitation problem profile is refreshed annually by the analytical team and shared "
        "with the Safeguarding Children Partnership Board.",
    ),
    (
        "S5",
        "OTHER FORCE (Cambridgeshire), wording only; National Child Protection Inspections 2019; 2020-02-27",
        "Finding: forces should make sure partner data informs their understanding of demand.\nAnswer: A data "
        "sharing agreement with the county council allows social care referrals to be included in the profile.",
    ),
]
RESULTS = Path(__file__).parent / "results"
OTHER_FINDING = (
    "By 31 December 2024, all chief constables and the relevant business user groups for police record "
    "management systems should make sure there are sufficient measures in place to identify group-based "
    "child sexual exploitation."
)
SHAPE = (
    "Write the force's position statement in the third person about the force: the actions taken or planned, "
    "who owns them and by when. Every fact must come from an own-force source."
)


class BenchAnswer(BaseModel):
    """The drafting chain's answer shape (mirrors drafting.models.ModelAnswer without importing the chain)."""

    text: str = Field(..., min_length=1, description="The answer, in the office's voice")
    cited_ids: list[str] = Field(default_factory=list, description="Ids of the sources relied on, e.g. S1")
    placeholders: list[str] = Field(default_factory=list, description="Facts the office must confirm")
    rationale: str = Field("", description="One or two sentences for reviewers")


def drafting_messages(finding: str = FINDING) -> list[BaseMessage]:
    template = ChatPromptTemplate.from_messages([("system", prompts.load("system")), ("human", prompts.load("draft"))])
    return template.format_messages(
        force="Northumbria",
        force_name="Northumbria Police",
        inspection="An inspection of the response to group-based child sexual exploitation",
        label="Recommendation 2 (By 31 December 2024)",
        finding=finding,
        addressees="chief constables",
        shape=SHAPE,
        revision="",
        sources="\n".join(f"{ref} [{head}]\n{body}" for ref, head, body in SOURCES),
    )


def measure_load(data_dir: Path, settings: LocalModelSettings) -> tuple[BaseChatModel, float]:
    local_llama._cached_llama_unlocked.cache_clear()
    started = time.perf_counter()
    choice = select_chat_model("local", data_dir, timeout=600, local=settings)
    assert choice.model is not None
    return choice.model, time.perf_counter() - started


def measure_throughput(model: BaseChatModel, prompt_tokens: int = 512, gen_tokens: int = 128) -> dict[str, float]:
    """Tokens/s of the raw llama.cpp context: one prompt batch eval, then token-by-token greedy decoding."""
    llama = model.client
    text = " ".join(body for _, _, body in SOURCES) * 4
    tokens = llama.tokenize(text.encode())[:prompt_tokens]
    llama.reset()
    started = time.perf_counter()
    llama.eval(tokens)
    prompt_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(gen_tokens):
        token = llama.sample(temp=0.0)
        llama.eval([token])
    gen_s = time.perf_counter() - started
    llama.reset()
    return {
        "prompt_tokens": len(tokens),
        "prompt_tok_s": len(tokens) / prompt_s,
        "gen_tokens": gen_tokens,
        "gen_tok_s": gen_tokens / gen_s,
    }


def _via_grammar(model: BaseChatModel) -> Callable[[list[BaseMessage]], tuple[AIMessage, BenchAnswer]]:
    bound = bind_structured(model, BenchAnswer)

    def run(messages: list[BaseMessage]) -> tuple[AIMessage, BenchAnswer]:
        reply = bound.invoke(messages)
        return reply, _parsed(reply)

    return run


def _via_tools(model: BaseChatModel) -> Callable[[list[BaseMessage]], tuple[AIMessage, BenchAnswer]]:
    structured = model.with_structured_output(BenchAnswer, include_raw=True)

    def run(messages: list[BaseMessage]) -> tuple[AIMessage, BenchAnswer]:
        out = structured.invoke(messages)
        if out["parsing_error"] is not None or out["parsed"] is None:
            raise ValueError(f"tool call did not parse: {out['parsing_error']}")
        return out["raw"], out["parsed"]

    return run


def _via_plain(model: BaseChatModel) -> Callable[[list[BaseMessage]], tuple[AIMessage, BenchAnswer]]:
    def run(messages: list[BaseMessage]) -> tuple[AIMessage, BenchAnswer]:
        reply = model.invoke(messages)
        return reply, _parsed(reply)  # parse_json_reply tolerates ```json fences and prose around the object

    return run


def _parsed(reply: AIMessage) -> BenchAnswer:
    if reply.response_metadata.get("finish_reason") == "length":
        raise MalformedReply("cut off at max_tokens", str(reply.content))
    return parse_json_reply(str(reply.content), BenchAnswer)


METHODS = {"grammar": _via_grammar, "tools": _via_tools, "plain": _via_plain}


def measure_method(model: BaseChatModel, name: str, messages: list[BaseMessage], runs: int) -> dict[str, Any]:
    run = METHODS[name](model)
    offered = {ref for ref, _, _ in SOURCES}
    rows: list[dict[str, Any]] = []
    for _ in range(runs):
        model.client.reset()  # cold KV cache: every run pays the full prompt
        started = time.perf_counter()
        row: dict[str, Any] = {}
        try:
            reply, answer = run(messages)
            usage = reply.response_metadata.get("token_usage", {})
            row |= {
                "ok": True,
                "prompt_tokens": usage.get("prompt_tokens"),
                "completion_tokens": usage.get("completion_tokens"),
                "words": len(answer.text.split()),
                "cites_offered_only": set(answer.cited_ids) <= offered and bool(answer.cited_ids),
                "finish": reply.response_metadata.get("finish_reason"),
                "text": answer.text,
            }
        except Exception as exc:
            row |= {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:160]}"}
        row["seconds"] = time.perf_counter() - started
        rows.append(row)
    ok = [r for r in rows if r["ok"]]
    return {
        "method": name,
        "runs": runs,
        "parsed": len(ok),
        "median_s": statistics.median(r["seconds"] for r in rows),
        "max_s": max(r["seconds"] for r in rows),
        "completion_tokens": statistics.median(r["completion_tokens"] or 0 for r in ok) if ok else None,
        "prompt_tokens": ok[0]["prompt_tokens"] if ok else None,
        "valid_citations": sum(bool(r.get("cites_offered_only")) for r in ok),
        "rows": rows,
    }


def measure_warm(model: BaseChatModel) -> dict[str, Any]:
    """A second draft straight after a first: llama.cpp reuses the KV cache of the shared system prompt."""
    run = _via_grammar(model)
    model.client.reset()
    run(drafting_messages())
    started = time.perf_counter()
    reply, _ = run(drafting_messages(OTHER_FINDING))
    usage = reply.response_metadata.get("token_usage", {})
    return {"seconds": time.perf_counter() - started, **usage}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("RESPONDER_DATA_DIR", ".responder")))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--methods", default="grammar,tools,plain")
    parser.add_argument("--max-tokens", type=int, default=350)
    parser.add_argument("--json", type=Path, default=None, help="results file (default bench/results/llm-<time>.json)")
    args = parser.parse_args(argv)

    settings = LocalModelSettings(max_tokens=args.max_tokens)
    results: dict[str, Any] = {"load_average_start": os.getloadavg()}
    model, results["load_s"] = measure_load(args.data_dir, settings)
    print(f"load: {results['load_s']:.1f} s")
    results["throughput"] = measure_throughput(model)
    t = results["throughput"]
    print(
        f"prompt eval: {t['prompt_tok_s']:.1f} tok/s ({t['prompt_tokens']} tokens); "
        f"generation: {t['gen_tok_s']:.1f} tok/s"
    )
    messages = drafting_messages()
    results["methods"] = []
    print("\n| method | parsed | median s | max s | prompt tok | completion tok | valid cites |")
    print("|---|---|---|---|---|---|---|")
    for name in args.methods.split(","):
        m = measure_method(model, name, messages, args.runs)
        results["methods"].append(m)
        print(
            f"| {name} | {m['parsed']}/{m['runs']} | {m['median_s']:.1f} | {m['max_s']:.1f} | {m['prompt_tokens']} "
            f"| {m['completion_tokens']} | {m['valid_citations']}/{m['parsed']} |",
            flush=True,
        )
        for row in m["rows"]:
            if not row["ok"]:
                print(f"    failed: {row['error']}")
    if "grammar" in args.methods.split(","):
        warm = results["warm"] = measure_warm(model)
        print(
            f"| grammar, after another draft (shared prefix cached) | 1/1 | {warm['seconds']:.1f} | "
            f"{warm['seconds']:.1f} | {warm.get('prompt_tokens')} | {warm.get('completion_tokens')} | - |"
        )
    results["load_average_end"] = os.getloadavg()
    print(
        f"\nload average (1 min) start {results['load_average_start'][0]:.2f}, end {results['load_average_end'][0]:.2f}"
    )
    out = args.json or RESULTS / f"llm-{datetime.now():%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {out}")
    return results


if __name__ == "__main__":
    main()
