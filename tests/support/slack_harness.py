"""The end-to-end harness: the real Bolt app in HTTP mode on loopback, the fake Slack Web API, a store on the
test's backend (tests/support/store.py: a SQLite file, or a PostgreSQL database on a `[postgres]` leg), and the
real Drafter over a scripted chat model and a canned retriever.

Used by tests/test_slack_*.py and bench/slack_bench.py. Nothing here reaches the network.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr
from slack_sdk import WebClient

from bot.composition import Backends, build_core, build_slack
from bot.settings import Settings
from bot.slack import constants as c
from bot.slack.app import SlackBot
from bot.slack.transport import HttpServer
from drafting.chain import Drafter
from tests.support.fakes import FakeRetriever, make_hit
from tests.support.slack_fake import Call, FakeSlack, SlackSender, iter_texts
from tests.support.store import db_url
from tracker.clock import Clock, utc_now
from tracker.repository import Repository

if TYPE_CHECKING:
    from retrieval.index import PrecedentIndex

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
REVIEWER = "U_REVIEWER"
GROUP = "S_REVIEWERS"
GROUP_MEMBER = "U_GROUPIE"
OUTSIDER = "U_OUTSIDER"
ASKER = "U_ASKER"
CHANNEL = "C_REVIEWS"

RECOMMENDATION = (
    "By 30 September 2025, all chief constables should make sure that officers who respond to reports of "
    "missing children record the child's views and any risks of exploitation in the return home interview."
)

REPORT_TEXT = """\
# An inspection of how well the police respond to missing children

Published: 4 March 2025

Recommendation 1

By 30 September 2025, all chief constables should make sure that officers record the child's views in the \
return home interview.

Recommendation 2

By 31 December 2025, the Home Office should publish guidance on sharing information about missing children.

# Area for improvement

The force should improve how it supervises missing children investigations.
"""

EVIDENCE = "The force will review how officers record the views of children in return home interviews."
_INSTRUCTION = re.compile(r"Reviewer's instruction: (.*)")
_DRAFT = re.compile(r"DRAFT:\n(.*?)\n\nRewrite the DRAFT", re.S)


class RecordingChatModel(BaseChatModel):
    """Rewrites the drafting chain's composed DRAFT faithfully (it echoes it), and records each prompt.

    A revision prompt's instruction is added as a last sentence (so tests see the redraft follow it);
    `delay` simulates a slow local model; `gate` (a threading.Event) holds every answer until the test sets it;
    `fail` raises it.
    """

    delay: float = 0.0
    gate: Any = None
    fail: type[Exception] | None = None
    _prompts: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "recording-fake"

    @property
    def prompts(self) -> list[list[BaseMessage]]:
        with self._lock:
            return list(self._prompts)

    def prompt_texts(self) -> list[str]:
        return ["\n".join(str(m.content) for m in prompt) for prompt in self.prompts]

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        with self._lock:
            self._prompts.append(list(messages))
        if self.delay:
            time.sleep(self.delay)
        if self.gate is not None and not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        if self.fail is not None:
            raise self.fail("scripted failure")
        prompt = "\n".join(str(m.content) for m in messages)
        draft = _DRAFT.search(prompt)
        text = draft.group(1).strip() if draft else EVIDENCE
        if match := _INSTRUCTION.search(prompt):
            instruction = match.group(1).strip().rstrip(".")
            text += f" {instruction[:1].upper()}{instruction[1:]}."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def shared_embedder() -> Any:
    """The bundled embedding model (loaded once per process): the relevance gate needs real meaning."""
    from retrieval.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings().embed_documents


def fake_retriever() -> FakeRetriever:
    return FakeRetriever(
        [
            make_hit(
                "Northumbria",
                EVIDENCE,
                recommendation="All chief constables should record the views of missing children in return home "
                "interviews.",
                number="3",
                inspection="An inspection of how well the police respond to missing children",
                published=date(2025, 3, 4),
            ),
            make_hit(
                "Cambridgeshire",
                "The Constabulary has reviewed its return home interview process.",
                number="3",
                similarity=0.6,
            ),
        ]
    )


@dataclass
class Harness:
    slack: FakeSlack
    bot: SlackBot
    server: HttpServer
    sender: SlackSender
    store: Repository
    model: RecordingChatModel
    settings: Settings

    # --- driving ----------------------------------------------------------------------------------------

    def slash(self, text: str, user: str, channel: str = CHANNEL) -> dict[str, Any]:
        """A signed `/hmicfrs` request; the ack body (the ephemeral reply)."""
        return self.sender.slash(text, user, channel, self.slack.base)

    def mention(self, text: str = RECOMMENDATION, **kwargs: Any) -> tuple[dict[str, Any], Any]:
        event = self.sender.mention(text, **kwargs)
        return event, self.sender.event(event)

    def click(self, action_id: str, value: str, user: str, message_ts: str, thread_ts: str | None = None) -> Any:
        payload = self.sender.block_action(action_id, value, user, CHANNEL, message_ts, thread_ts)
        return self.sender.interaction(payload)

    # --- waiting (on recorded calls, never blind sleeps) -------------------------------------------------

    def wait_draft(self, message_ts: str, version: int = 1, timeout: float = 15.0) -> Call:
        """The chat.update that shows `version` of the draft in the message `message_ts`."""

        def found(calls: list[Call]) -> Call | None:
            for call in reversed(calls):
                if call.method == "chat.update" and call.get("ts") == message_ts and _shows_version(call, version):
                    return call
            return None

        return self.slack.wait_for(found, timeout, f"draft v{version} in message {message_ts}")

    def wait_idle(self, timeout: float = 15.0) -> None:
        assert self.bot.wait_idle(timeout), "listeners and background drafting did not finish in time"

    def placeholder_for(self, event: dict[str, Any], timeout: float = 10.0) -> Call:
        calls = self.slack.wait_calls("chat.postMessage", thread_ts=event["ts"], timeout=timeout)
        return calls[0]


def texts(call: Call | dict[str, Any]) -> str:
    """Every text a message shows, one per line (sections, context, buttons)."""
    return "\n".join(iter_texts(call.get("blocks") or []))


def _shows_version(call: Call, version: int) -> bool:
    blocks = call.get("blocks") or []
    has_buttons = any(b.get("block_id") == "draft_actions" for b in blocks)
    return has_buttons and any(f"Draft v{version} " in t for t in _texts(blocks))


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    return list(iter_texts(blocks))


def make_settings(tmp_path: Path, api_url: str, **overrides: Any) -> Settings:
    if "database_url" not in overrides:  # asked only when used: on PostgreSQL, asking creates the database
        overrides["database_url"] = db_url(tmp_path)
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "force": "Northumbria",
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": api_url,
        "reviewers": [REVIEWER, GROUP],
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextmanager
def running_bot(
    tmp_path: Path,
    *,
    model: RecordingChatModel | None = None,
    draft_workers: int = 2,
    drain: bool = True,
    retriever: FakeRetriever | None = None,
    index: PrecedentIndex | None = None,
    clock: Clock = utc_now,
    **settings: Any,
) -> Iterator[Harness]:
    """`drain=False` drops queued drafts at the end instead of waiting for them all (benchmarks);
        `retriever` replaces the canned library (e.g. with a planted OFFICIAL-SENSITIVE document); `index`: draft from
        a real index instead, the one the bot also writes to (learned answers, register updates); `clock`: the time
    every part of the bot reads (reminders, due dates)."""
    model = model or RecordingChatModel()
    with FakeSlack() as slack:
        slack.usergroups[GROUP] = [GROUP_MEMBER]
        config = make_settings(tmp_path, slack.api_url, **settings)
        timeout = max(10.0, model.delay * 4)
        library = index or retriever or fake_retriever()
        drafter = Drafter(library, model, "fake-model", timeout=timeout, embed=shared_embedder())
        core = build_core(config, clock=clock, backends=Backends(config, index=index, drafter=drafter))
        client = WebClient(token=BOT_TOKEN, base_url=slack.api_url)
        bot = build_slack(core, client, token_verification_enabled=False, draft_workers=draft_workers)
        server = HttpServer(bot.app, "127.0.0.1", 0).start()
        try:
            yield Harness(slack, bot, server, SlackSender(server.url, SIGNING_SECRET), core.store, model, config)
        finally:
            server.stop()
            bot.close(wait=True, cancel_queued=not drain)
            core.close()


def confirm_everything(
    h: Harness, event: dict[str, Any], ts: str, finding_id: int, user: str = GROUP_MEMBER, note: str = "Checked"
) -> int:
    """Confirm every placeholder of the latest version through the card's button and modal; the new version."""
    version = h.store.findings.get(finding_id).latest_version
    while h.store.drafts.latest(finding_id).placeholders:  # type: ignore[union-attr]
        h.slack.clear()
        h.click(c.ACTION_CONFIRM, f"{finding_id}:{version}", user, ts, event["ts"])
        view = h.slack.wait_calls("views.open")[0]["view"]
        values = {
            c.INPUT_MARKER_BLOCK: {c.INPUT_MARKER_ACTION: {"type": "radio_buttons", "selected_option": {"value": "0"}}},
            c.INPUT_NOTE_BLOCK: {c.INPUT_NOTE_ACTION: {"type": "plain_text_input", "value": note}},
        }
        assert h.sender.interaction(h.sender.view_submission(view, user, values)).status == 200
        version += 1
        h.wait_draft(ts, version)
    return version
