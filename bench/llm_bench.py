"""Local chat-model bench: load time, llama.cpp throughput, and the levers on the drafting prompt's cost.

Measures on this machine (2 cores) the embedded Qwen2.5-Coder-1.5B Q4_K_M through ChatLlamaCpp:
  - load time of the GGUF (first construction in this process) and raw prompt-eval / generation tokens/s;
  - the drafting chain's rewrite prompt for development findings (bench/devlib), three ways:
      plain     the shipped prompt: sentence evidence, the composed draft, a plain-text reply;
      grammar   the same prompt, the reply forced into a JSON object {"text": …} by llama.cpp's JSON grammar
                (what the chain did before: structured output);
      chunks    the evidence given as whole retrieved chunks instead of the sentences that passed the gate;
  - prefix caching: the same prompt cold (empty KV cache) and straight after another finding's prompt, as in
    a report's drafts one after another (llama.cpp reuses the longest shared prefix: the system prompt);
  - the production path's overhead (`--server`): the same rewrite prompts and whole drafts through llama.cpp's
    OpenAI-compatible server (`python -m llama_cpp.server` over the same GGUF, started here on loopback) with
    langchain-openai's ChatOpenAI, as `RESPONDER_LLM=openai:…` + `RESPONDER_LLM_BASE_URL` drafts, against the
    same in process, one after the other in the same run (`--server-only` skips the levers above).

Run: `python -m bench llm [--findings D05,D21,D33]`; results also go to bench/results/llm-<time>.json. Other
processes on the machine slow these numbers down: the load average is printed and stored with them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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
from drafting.engines import LocalModelSettings, RemoteSettings, select_chat_model
from drafting.local_model import ensure_local_model
from drafting.models import DraftRequest
from drafting.rules import decide_shape

DEFAULT_FINDINGS = "D05,D21,D33,D42"
SERVER_ALIAS = "bench-qwen"


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


@contextmanager
def llama_server(gguf: Path, settings: LocalModelSettings) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server over `gguf` on a free loopback port; its base URL for the block."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", SERVER_ALIAS]
    args += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(settings.n_ctx)]
    args += ["--n_threads", str(settings.n_threads), "--n_batch", str(settings.n_batch), "--verbose", "False"]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # A bench stopped with SIGTERM (`timeout`, a CI cancel) still stops its server: the finally below runs.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.kill()
        server.wait(30)
        signal.signal(signal.SIGTERM, previous)


def timed_remote(chat: BaseChatModel, previous: list[BaseMessage], messages: list[BaseMessage]) -> dict[str, Any]:
    """One rewrite through the server, straight after another finding's prompt (one token out), as warm_with."""
    chat.bind(max_tokens=1).invoke(previous)
    started = time.perf_counter()
    reply = chat.invoke(messages)
    return {"seconds": round(time.perf_counter() - started, 2), "chars": len(str(reply.content))}


def timed_draft(drafter: Drafter, case: devlib_data.Case) -> dict[str, Any]:
    request = DraftRequest(finding=case.finding, inspection_title=case.inspection, force=devlib_data.OWN_FORCE)
    draft = drafter.draft(request)
    return {"seconds": draft.seconds, "engine": draft.engine}


def measure_server(
    args: argparse.Namespace, model: BaseChatModel, cases: dict[str, devlib_data.Case], ids: list[str]
) -> dict[str, Any]:
    """The same prompts and drafts in process and through the OpenAI-compatible server, one after the other."""
    index = devlib_data.index()
    local = Drafter(index, model, "local", budget=120, today=lambda: devlib_data.TODAY)
    prompts = {finding_id: prompts_for(local, cases[finding_id])["plain"] for finding_id in ids}
    rows: dict[str, list[dict[str, Any]]] = {"in process": [], "server": [], "draft in process": [], "draft server": []}
    with llama_server(ensure_local_model(args.data_dir), LocalModelSettings()) as base_url:
        remote = RemoteSettings(base_url=base_url, max_retries=0)
        chat = select_chat_model(f"openai:{SERVER_ALIAS}", args.data_dir, timeout=600, remote=remote).model
        assert chat is not None
        served = Drafter(index, chat, f"openai:{SERVER_ALIAS}", budget=120, today=lambda: devlib_data.TODAY)
        timed_remote(chat, prompts[ids[0]], prompts[ids[-1]])  # the server's first request warms it up
        for previous, finding_id in zip([ids[-1], *ids], ids, strict=False):
            warm_with(model, prompts[previous])
            rows["in process"].append(timed(model, model, prompts[finding_id], cold=False))
            rows["server"].append(timed_remote(chat, prompts[previous], prompts[finding_id]))
            rows["draft in process"].append(timed_draft(local, cases[finding_id]))
            rows["draft server"].append(timed_draft(served, cases[finding_id]))
            print(f"{finding_id}: " + ", ".join(f"{k} {v[-1]['seconds']:.1f} s" for k, v in rows.items()), flush=True)
    summary = {name: statistics.median(r["seconds"] for r in items) for name, items in rows.items()}
    print("\n| path | median s |\n|---|---|")
    for name, median in summary.items():
        print(f"| {name} | {median:.1f} |")
    return {"rows": rows, "median_s": summary}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=devlib_data.MODEL_DATA_DIR)
    parser.add_argument("--findings", default=DEFAULT_FINDINGS)
    parser.add_argument("--json", type=Path, default=None, help="results file (default bench/results/llm-<time>.json)")
    parser.add_argument("--server", action="store_true", help="also through llama.cpp's OpenAI-compatible server")
    parser.add_argument("--server-only", action="store_true", help="only the load and the server comparison")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"load_average_start": os.getloadavg()}
    model, results["load_s"] = measure_load(args.data_dir, LocalModelSettings())
    results["throughput"] = t = measure_throughput(model)
    print(
        f"load {results['load_s']:.1f} s; prompt eval {t['prompt_tok_s']:.0f} tok/s; "
        f"generation {t['gen_tok_s']:.1f} tok/s"
    )
    cases = {c.id: c for c in devlib_data.load()[0]}
    ids = args.findings.split(",")
    if args.server or args.server_only:
        results["server"] = measure_server(args, model, cases, ids)
    if args.server_only:
        return _save(args, results | {"load_average_end": os.getloadavg()})
    index = devlib_data.index()
    drafter = Drafter(index, model, "local", today=lambda: devlib_data.TODAY)
    # llama.cpp's JSON-schema grammar, every field required: how v1 forced a structured reply.
    schema = {**TextOnly.model_json_schema(), "required": ["text"]}
    grammar = model.bind(response_format={"type": "json_object", "schema": schema})
    rows: dict[str, list[dict[str, Any]]] = {"plain": [], "grammar": [], "chunks": [], "plain, prefix cached": []}
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
    return _save(args, results | {"rows": rows, "summary": summary, "load_average_end": os.getloadavg()})


def _save(args: argparse.Namespace, results: dict[str, Any]) -> dict[str, Any]:
    out = args.json or devlib_data.RESULTS / f"llm-{datetime.now():%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"load average start {results['load_average_start'][0]:.2f}, end {results['load_average_end'][0]:.2f}; {out}")
    return results


if __name__ == "__main__":
    main()
