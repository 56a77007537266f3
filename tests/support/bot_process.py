"""A bot in its own process, for the crash test and the load bench: the real app over HTTP on loopback, the
fake Slack in the parent, a scripted chat model that takes `--draft-seconds` per answer.

    python -m tests.support.bot_process DATA_DIR API_URL PORT_FILE [--workers N] [--draft-seconds S]

It writes its port to PORT_FILE and serves until it is killed (the tests kill it with SIGKILL).
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from slack_sdk import WebClient

from bot.composition import Backends, build_core, build_slack
from bot.slack.transport import HttpServer
from drafting.chain import Drafter
from tests.support.slack_harness import BOT_TOKEN, RecordingChatModel, fake_retriever, make_settings, shared_embedder

LEASE_SECONDS = 2.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("api_url")
    parser.add_argument("port_file", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--draft-seconds", type=float, default=0.4)
    args = parser.parse_args(argv)
    config = make_settings(
        args.data,
        args.api_url,
        database_url=f"sqlite:///{args.data / 'responder.db'}",
        job_lease_seconds=LEASE_SECONDS,
        draft_workers=args.workers,
    )
    model = RecordingChatModel(delay=args.draft_seconds)
    drafter = Drafter(fake_retriever(), model, "fake-model", timeout=30, embed=shared_embedder())
    core = build_core(config, backends=Backends(config, drafter=drafter))
    bot = build_slack(core, WebClient(token=BOT_TOKEN, base_url=args.api_url), token_verification_enabled=False)
    server = HttpServer(bot.app, "127.0.0.1", 0).start()
    args.port_file.write_text(str(server.port))
    threading.Event().wait()


if __name__ == "__main__":
    main()
