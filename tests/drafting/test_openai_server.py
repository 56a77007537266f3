"""Drafting through an OpenAI-compatible model server, as offices run them: `RESPONDER_LLM=openai:MODEL` with
`RESPONDER_LLM_BASE_URL`, through langchain-openai's ChatOpenAI.

The real server is llama.cpp's own (`python -m llama_cpp.server`) over the bundled GGUF, started by
`.ci/servers/model.sh` for `make test` and CI (RESPONDER_TEST_OPENAI_BASE_URL, _MODEL, _GGUF). The tests that
need it exist only when it is configured (`needs_server`: without the variable they are not defined, so nothing
is skipped). Malformed replies come from a loopback fake (tests/support/openai_fake.py), and always run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest
from langchain_core.messages import HumanMessage
from pydantic import SecretStr

from bot.composition import Backends
from bot.settings import Settings
from drafting.chain import COMPOSER, Drafter
from drafting.engines import NO_KEY, RemoteSettings, endpoint_problem, select_chat_model
from drafting.llm import ChatModelError, ModelTimeoutError, invoke_with_timeout
from drafting.models import Draft, DraftRequest, GuardKind
from retrieval.findings import make_finding
from tests.support.fakes import FakeRetriever, make_hit
from tests.support.openai_fake import MODES, fake_openai

F = TypeVar("F", bound=Callable[..., Any])
MakeDrafter = Callable[..., Drafter]

BASE_URL = os.environ.get("RESPONDER_TEST_OPENAI_BASE_URL", "")
MODEL = os.environ.get("RESPONDER_TEST_OPENAI_MODEL", "")
TODAY = date(2026, 12, 1)

EVIDENCE = (
    "A new problem profile for child sexual exploitation has been commissioned, and chapter 1, which details "
    "the crime overview for child sexual exploitation, has been completed."
)
REQUEST = DraftRequest(
    finding=make_finding(
        "By 31 December 2026, all chief constables should make sure that their forces have problem profiles "
        "for child sexual exploitation, updated at least annually."
    ),
    inspection_title="An inspection of group-based child sexual exploitation",
    force="Northumbria",
)


def needs_server(test: F) -> F | None:
    """The test when a real server is configured; otherwise nothing, so pytest collects no such test."""
    return test if BASE_URL else None


@pytest.fixture
def retriever(model: Any) -> FakeRetriever:
    hit = make_hit(
        "Northumbria",
        EVIDENCE,
        recommendation="All chief constables should make sure their forces have problem profiles for CSE.",
        published=date(2025, 6, 10),
    )
    return FakeRetriever([hit], embeddings=model)


@pytest.fixture
def make_drafter(retriever: FakeRetriever, tmp_path: Path) -> MakeDrafter:
    return lambda *args, **kwargs: _drafter(retriever, tmp_path / "data", *args, **kwargs)


def _drafter(
    retriever: FakeRetriever, data_dir: Path, base_url: str, name: str, timeout: float = 90, budget: float = 90
) -> Drafter:
    """The drafter `responder serve` builds from these settings (bot/composition.py), over `retriever`."""
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        llm=f"openai:{name}",
        llm_base_url=base_url,
        llm_timeout=timeout,
        llm_max_retries=0,
        draft_budget=budget,
    )
    drafter = Backends(settings, index=retriever).drafter  # type: ignore[arg-type]
    drafter.finder.today = lambda: TODAY  # type: ignore[method-assign]
    return drafter


def _assert_a_good_draft(draft: Draft, engine: str) -> None:
    assert draft.engine == engine, draft.notes  # the server's rewrite passed every check
    assert "chapter 1" in draft.text and "[CONFIRM:" in draft.text
    assert not any(g.kind is GuardKind.UNSUPPORTED_SENTENCE for g in draft.guard)


# ── the real server ──────────────────────────────────────────────────────────────────────────────────────────


@needs_server
@pytest.mark.slow
def test_a_real_draft_through_the_openai_compatible_server(make_drafter: MakeDrafter) -> None:
    drafter = make_drafter(BASE_URL, MODEL)
    assert type(drafter.model).__name__ == "StreamingChatOpenAI"
    seen: list[str] = []

    draft = drafter.draft(REQUEST, on_text=seen.append)

    _assert_a_good_draft(draft, f"openai:{MODEL}")
    assert len(seen) > 3 and seen[-1].startswith(seen[0])  # streamed: the progress display saw it grow


@needs_server
@pytest.mark.slow
def test_a_tiny_timeout_is_the_products_timeout_error_and_frees_the_server(
    make_drafter: MakeDrafter,
) -> None:
    choice = select_chat_model(
        f"openai:{MODEL}", Path("."), timeout=0.2, remote=RemoteSettings(base_url=BASE_URL, max_retries=0)
    )
    long = [HumanMessage("Write a detailed essay on police inspections in England. " * 40)]
    with pytest.raises(ModelTimeoutError, match=r"within 0.2 s \(RESPONDER_LLM_TIMEOUT\)"):
        invoke_with_timeout(choice.model, long, timeout=0.2)  # the Drafter's deadline
    with pytest.raises(ModelTimeoutError, match="RESPONDER_LLM_TIMEOUT"):
        choice.model.invoke(long)  # the client's own timeout ends in the same error

    cut_off = make_drafter(BASE_URL, MODEL, timeout=0.2).draft(REQUEST)
    assert cut_off.engine == COMPOSER and any("did not finish" in note for note in cut_off.notes)
    assert "chapter 1" in cut_off.text  # the composed text stands

    started = time.perf_counter()
    _assert_a_good_draft(make_drafter(BASE_URL, MODEL).draft(REQUEST), f"openai:{MODEL}")
    # The abandoned calls closed their streams, so the server stopped generating for nobody (a 600-token essay
    # at ~25 tokens/s would hold it for ~25 s each).
    assert time.perf_counter() - started < 40


@needs_server
@pytest.mark.slow
def test_the_server_going_away_mid_draft_is_a_clear_error_and_it_drafts_again_once_back(
    make_drafter: MakeDrafter, tmp_path: Path
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1"
    drafter = make_drafter(url, "second")
    with LlamaServer(_gguf(tmp_path), port, "second", tmp_path / "first.log") as server:
        writing = threading.Event()
        outcome: dict[str, Any] = {}
        worker = threading.Thread(target=_draft_into, args=(drafter, outcome, lambda _text: writing.set()))
        worker.start()
        assert writing.wait(90), "the server never started writing"
        server.kill()  # mid-reply: the stream breaks off
        worker.join(60)
    error = outcome.get("error")
    assert isinstance(error, ChatModelError), outcome
    assert f"server at {url} is not answering" in str(error) and "next draft" in str(error)

    with pytest.raises(ChatModelError, match="is not answering"):  # still down: the same clear error, at once
        drafter.draft(REQUEST)
    with LlamaServer(_gguf(tmp_path), port, "second", tmp_path / "again.log"):
        _assert_a_good_draft(drafter.draft(REQUEST), "openai:second")  # the same drafter, nothing rebuilt


@needs_server
def test_the_endpoint_check_finds_the_served_model_and_names_a_missing_one() -> None:
    remote = RemoteSettings(base_url=BASE_URL)
    assert endpoint_problem(remote, MODEL) is None
    assert endpoint_problem(remote, "gpt-4o") == (
        f"the chat model server at {BASE_URL} has no model 'gpt-4o' (it lists {MODEL})"
    )


def test_the_endpoint_check_says_when_nothing_answers() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    problem = endpoint_problem(RemoteSettings(base_url=url, api_key=SecretStr("sk-secret")), "m", timeout=2)
    assert problem is not None and problem.startswith(f"the chat model server at {url} is not answering")
    assert "sk-secret" not in problem


def _draft_into(drafter: Drafter, outcome: dict[str, Any], on_text: Callable[[str], None]) -> None:
    try:
        outcome["draft"] = drafter.draft(REQUEST, on_text=on_text)
    except Exception as error:
        outcome["error"] = error


def _gguf(tmp_path: Path) -> Path:
    """The file the CI server serves, or the bundled model assembled by the product for this test."""
    if served := os.environ.get("RESPONDER_TEST_OPENAI_GGUF"):
        return Path(served)
    from drafting.local_model import ensure_local_model

    return ensure_local_model(tmp_path / "data")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """llama.cpp's server over `gguf` on `port` for the block; killed (and reaped) at its end whatever happens."""

    def __init__(self, gguf: Path, port: int, alias: str, log: Path) -> None:
        self.args = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", alias]
        self.args += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"]
        self.args += ["--verbose", "False"]
        self.port, self.log = port, log

    def __enter__(self) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(self.args, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        ends = time.monotonic() + 120
        while time.monotonic() < ends and self.process.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/models", timeout=1).close()
                return self.process
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise AssertionError(f"the second model server did not start: {self.log.read_text()[-2000:]}")

    def __exit__(self, *_exc: object) -> None:
        self.process.kill()
        self.process.wait(30)


# ── malformed replies (a loopback fake) ──────────────────────────────────────────────────────────────────────

#: What the draft's error says for each way the fake answers badly.
SAYS = {
    "not-json": "sent a malformed reply (JSONDecodeError",
    "no-choices": "sent a malformed reply (the reply ended without a finish_reason",
    "null-choices": "sent a malformed reply (the reply ended without a finish_reason",
    "bad-chunk": "sent a malformed reply (AttributeError",
    "cut-off": "is not answering",
    "http-500": "refused the request: Error code: 500",
}


@pytest.mark.parametrize("mode", MODES)
def test_a_malformed_reply_ends_the_draft_with_a_clear_error(make_drafter: MakeDrafter, mode: str) -> None:
    with fake_openai(mode) as fake:
        drafter = make_drafter(fake.base_url, "fake", timeout=10)
        with pytest.raises(ChatModelError) as caught:
            drafter.draft(REQUEST)
    message = str(caught.value)
    assert f"the chat model server at {fake.base_url} {SAYS[mode]}" in message
    assert EVIDENCE[:40] not in message  # never the office's text
    path, body = fake.requests[0]
    assert path == "/v1/chat/completions" and body["model"] == "fake" and body["stream"] is True


def test_the_request_carries_the_drafting_settings_and_a_placeholder_key(make_drafter: MakeDrafter) -> None:
    with fake_openai("http-500") as fake:
        drafter = make_drafter(fake.base_url, "fake", timeout=10)
        with pytest.raises(ChatModelError):
            drafter.draft(REQUEST)
    _path, body = fake.requests[0]
    assert (body["temperature"], body["max_completion_tokens"]) == (0.0, 600)
    assert len(fake.requests) == 1  # llm_max_retries=0: no retry
    assert fake.headers[0]["authorization"] == f"Bearer {NO_KEY}"


def test_the_api_key_setting_is_sent_and_never_shown(make_drafter: MakeDrafter) -> None:
    with fake_openai("http-500") as fake:
        remote = RemoteSettings(base_url=fake.base_url, api_key=SecretStr("sk-office-secret"), max_retries=0)
        choice = select_chat_model("openai:fake", Path("."), timeout=5, remote=remote)
        with pytest.raises(ChatModelError) as caught:
            invoke_with_timeout(choice.model, "hi", timeout=5)
    assert fake.headers[0]["authorization"] == "Bearer sk-office-secret"
    assert "sk-office-secret" not in str(caught.value) + choice.reason + repr(remote)


def test_a_base_url_for_another_provider_is_a_clear_error() -> None:
    with pytest.raises(ChatModelError, match="RESPONDER_LLM_BASE_URL is for 'openai:MODEL'"):
        select_chat_model("anthropic:claude-x", Path("."), timeout=5, remote=RemoteSettings(base_url="http://x/v1"))


def test_hosted_openai_without_a_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ChatModelError, match=r"'openai' chat model could not be set up: .*OPENAI_API_KEY"):
        select_chat_model("openai:gpt-4o-mini", Path("."), timeout=5, remote=RemoteSettings())


def test_an_unreachable_server_is_a_clear_error_at_once(make_drafter: MakeDrafter) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there
    started = time.perf_counter()
    with pytest.raises(ChatModelError, match=f"server at {url} is not answering"):
        make_drafter(url, "gone", timeout=10).draft(REQUEST)
    assert time.perf_counter() - started < 5


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Loopback only: a proxy in the environment must not carry these requests."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield
