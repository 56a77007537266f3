"""Local chat-model bench: load time, llama.cpp throughput, and the levers on the drafting prompt's cost.

Measures on this machine (2 cores) the embedded Qwen2.5-Coder-1.5B Q4_K_M through ChatLlamaCpp:
  - load time of the GGUF (first construction in this process) and raw prompt-eval / generation tokens/s;
  - the drafting chain's rewrite prompt for development findings (bench/devlib), three ways:
      plain     the shipped prompt: sentence evidence, the composed draft, a plain-text reply;
      grammar   the same prompt, the reply forced into a JSON object {"text": …} by llama.cpp's JSON grammar
                (what the chain did before: structured output);
      chunks    the evidence given as whole retrieved chunks instead of the sentences that passed the gate;
  - prefix caching: the same prompt cold (empty KV cache) and straight after another finding's prompt, as in
    a report's drafts one after another (llama.cpp reuses the longest shared prefix: the system prompt).

Run: `python -m bench llm [--findings D05,D21,D33]`; results also go to bench/results/llm-<time>.json. Other
processes on the machine slow these numbers down: the load average is printed and stored with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from bench import devlib_data
from drafting import local_llama
from drafting.chain import Drafter, mask_fixed
from drafting.composer import compose
from drafting.engines import LocalModelSettings, select_chat_model
from drafting.models import DraftRequest
from drafting.rules import decide_shape

DEFAULT_FINDINGS = "D05,D21,D33,D42"


class TextOnly(BaseModel):
    text: str


def measure_load(data_dir: Path, settings: LocalModelSettings) -> tuple[BaseChatModel, float]:
    local_llama._cached_llama_unlocked.cache_clear()
    started = time.perf_counter()
    choice = select_chat_model("local", data_dir, timeout=600, local=settings)
    assert choice.model is not None
    return choice.model, time.perf_counter() - started


def measure_throughput(model: BaseChatModel, prompt_tokens: int = 512, gen_tokens: int = 128) -> dict[str, float]:
    """Tokens/s of the raw llama.cpp context: one prompt batch eval, then token-by-token greedy decoding."""
    llama = model.client
    tokens = llama.tokenize(("The force reviews every referral within 24 hours. " * 60).encode())[:prompt_tokens]
    llama.reset()
    started = time.perf_counter()
    llama.eval(tokens)
    prompt_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(gen_tokens):
        llama.eval([llama.sample(temp=0.0)])
    gen_s = time.perf_counter() - started
    llama.reset()
    return {"prompt_tok_s": len(tokens) / prompt_s, "gen_tok_s": gen_tokens / gen_s, "prompt_tokens": len(tokens)}


def prompts_for(drafter: Drafter, case: devlib_data.Case) -> dict[str, list[BaseMessage]]:
    """The rewrite prompt of one finding, as shipped and with whole chunks as evidence."""
    request = DraftRequest(finding=case.finding, inspection_title=case.inspection, force=devlib_data.OWN_FORCE)
    decision = decide_shape(case.finding)
    plan = drafter.plan(request, decision.shape)
    masked, _markers = mask_fixed(compose(plan, decision, request.force).text)
    shipped = drafter._messages(request, plan, masked)
    chunks = {e.chunk_id: e for e in plan.evidence}
    texts = {c.id: c.text for c in drafter.finder.retriever.get_chunks(list(chunks))}  # type: ignore[attr-defined]
    whole = plan.model_copy(deep=True)
    for ask in whole.asks:
        ask.evidence = [e.model_copy(update={"text": " ".join(texts[e.chunk_id].split())}) for e in ask.evidence]
    return {"plain": shipped, "chunks": drafter._messages(request, whole, masked)}


def timed(runnable: Any, model: BaseChatModel, messages: list[BaseMessage], cold: bool) -> dict[str, Any]:
    if cold:
        model.client.reset()  # an empty KV cache: the whole prompt is evaluated
    started = time.perf_counter()
    reply = runnable.invoke(messages)
    usage = reply.response_metadata.get("token_usage", {})
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
    }


def warm_with(model: BaseChatModel, messages: list[BaseMessage]) -> None:
    """Leave another finding's prompt in the KV cache, as the previous draft of a report does (one token out)."""
    model.client.reset()
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    chat = [{"role": roles[m.type], "content": str(m.content)} for m in messages]
    model.client.create_chat_completion(messages=chat, max_tokens=1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=devlib_data.MODEL_DATA_DIR)
    parser.add_argument("--findings", default=DEFAULT_FINDINGS)
    parser.add_argument("--json", type=Path, default=None, help="results file (default bench/results/llm-<time>.json)")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"load_average_start": os.getloadavg()}
    model, results["load_s"] = measure_load(args.data_dir, LocalModelSettings())
    results["throughput"] = t = measure_throughput(model)
    print(
        f"load {results['load_s']:.1f} s; prompt eval {t['prompt_tok_s']:.0f} tok/s; "
        f"generation {t['gen_tok_s']:.1f} tok/s"
    )
    cases = {c.id: c for c in devlib_data.load()[0]}
    index = devlib_data.index()
    drafter = Drafter(index, model, "local", today=lambda: devlib_data.TODAY)
    # llama.cpp's JSON-schema grammar, every field required: how v1 forced a structured reply.
    schema = {**TextOnly.model_json_schema(), "required": ["text"]}
    grammar = model.bind(response_format={"type": "json_object", "schema": schema})
    rows: dict[str, list[dict[str, Any]]] = {"plain": [], "grammar": [], "chunks": [], "plain, prefix cached": []}
    ids = args.findings.split(",")
    prompts = {finding_id: prompts_for(drafter, cases[finding_id]) for finding_id in ids}
    for previous, finding_id in zip([ids[-1], *ids], ids, strict=False):
        messages = prompts[finding_id]
        rows["plain"].append(timed(model, model, messages["plain"], cold=True))
        # Only the shared system prompt and instructions can be reused: the previous finding's prompt is cached.
        warm_with(model, prompts[previous]["plain"])
        rows["plain, prefix cached"].append(timed(model, model, messages["plain"], cold=False))
        rows["grammar"].append(timed(grammar, model, messages["plain"], cold=True))
        rows["chunks"].append(timed(model, model, messages["chunks"], cold=True))
        print(f"{finding_id}: " + ", ".join(f"{k} {v[-1]['seconds']:.1f} s" for k, v in rows.items()), flush=True)
    print("\n| prompt | median s | max s | prompt tokens | completion tokens |")
    print("|---|---|---|---|---|")
    summary = {}
    for name, items in rows.items():
        summary[name] = {
            "median_s": statistics.median(r["seconds"] for r in items),
            "max_s": max(r["seconds"] for r in items),
            "prompt_tokens": statistics.median(r["prompt_tokens"] or 0 for r in items),
            "completion_tokens": statistics.median(r["completion_tokens"] or 0 for r in items),
        }
        s = summary[name]
        print(
            f"| {name} | {s['median_s']:.1f} | {s['max_s']:.1f} | {s['prompt_tokens']:.0f} "
            f"| {s['completion_tokens']:.0f} |"
        )
    results |= {"rows": rows, "summary": summary, "load_average_end": os.getloadavg()}
    out = args.json or devlib_data.RESULTS / f"llm-{datetime.now():%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"load average start {results['load_average_start'][0]:.2f}, end {results['load_average_end'][0]:.2f}; {out}")
    return results


if __name__ == "__main__":
    main()
