"""docs/deploy.md and docs/model-endpoints.md name only settings that exist, and the production ones all."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
NAME = re.compile(r"RESPONDER_[A-Z_]+[A-Z]")


def _settings() -> set[str]:
    return {f"RESPONDER_{name.upper()}" for name in Settings.model_fields}


def _named(path: Path) -> set[str]:
    return {name for name in NAME.findall(path.read_text()) if not name.startswith("RESPONDER_TEST_")}


def test_every_setting_the_deploy_guides_name_exists() -> None:
    for doc in ("deploy.md", "model-endpoints.md"):
        unknown = _named(DOCS / doc) - _settings()
        assert not unknown, f"{doc} names settings Responder does not have: {sorted(unknown)}"


def test_the_deploy_guide_covers_every_production_back_end_setting() -> None:
    production = {
        "RESPONDER_DATABASE_URL",
        "RESPONDER_CHROMA_HOST",
        "RESPONDER_CHROMA_PORT",
        "RESPONDER_LLM",
        "RESPONDER_SLACK_SIGNING_SECRET",
        "RESPONDER_DRAFT_WORKERS",
        "RESPONDER_JOB_LEASE_SECONDS",
    }
    assert production <= _named(DOCS / "deploy.md")
