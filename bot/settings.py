"""Every setting, read once from the environment (prefix RESPONDER_) or `.env`, then passed down."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from retrieval.config import RetrievalConfig
from retrieval.models import Classification


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


def _split_ceilings(value: object) -> object:
    """`C0123=OFFICIAL-SENSITIVE,C0456=OFFICIAL` → {channel: marking}; a part without `=` is an error."""
    if not isinstance(value, str):
        return value
    ceilings: dict[str, Classification] = {}
    for part in _split_list(value):  # type: ignore[union-attr]
        channel, sep, level = str(part).partition("=")
        if not sep or not channel.strip():
            raise ValueError(f"{part!r} is not CHANNEL=MARKING (e.g. C0123=OFFICIAL-SENSITIVE)")
        ceilings[channel.strip()] = Classification.parse(level)
    return ceilings


class SignoffStage(BaseModel):
    """One stage of RESPONDER_SIGNOFF_CHAIN: `{"name": "Policy lead", "approvers": ["U…", "S…"], "required": 1}`."""

    name: str = Field(..., min_length=1, max_length=40)
    approvers: list[str] = Field(default_factory=list, description="U… or S… ids; empty: any reviewer")
    required: int = Field(1, ge=1)

    @field_validator("approvers")
    @classmethod
    def _ids(cls, approvers: list[str]) -> list[str]:
        cleaned = [a.strip() for a in approvers if a.strip()]
        if odd := [a for a in cleaned if not a.startswith(("U", "W", "S"))]:
            raise ValueError(f"approvers must be Slack user (U…) or user-group (S…) ids, not {odd}")
        return cleaned

    @model_validator(mode="after")
    def _enough_people(self) -> SignoffStage:
        # A stage naming only people (no group) can never gather more approvals than it names.
        if (
            self.approvers
            and all(not a.startswith("S") for a in self.approvers)
            and len(self.approvers) < self.required
        ):
            raise ValueError(
                f"stage {self.name!r} needs {self.required} approvals but names only {len(self.approvers)} approver(s)"
            )
        return self


_CHAIN_EXAMPLE = '[{"name": "Policy lead", "approvers": ["U012"]}, {"name": "PCC", "approvers": ["U034"]}]'


def _parse_chain(value: object) -> object:
    """RESPONDER_SIGNOFF_CHAIN as JSON, with an error that says what was wrong and shows the form wanted."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return []
    try:
        stages = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"RESPONDER_SIGNOFF_CHAIN is not JSON ({error.msg}); write it like {_CHAIN_EXAMPLE}") from None
    if not isinstance(stages, list):
        raise ValueError(f"RESPONDER_SIGNOFF_CHAIN must be a JSON list of stages, like {_CHAIN_EXAMPLE}")
    return stages


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESPONDER_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".responder"), description="Chroma index, SQLite file and local model")
    force: str = Field("Northumbria", description="The office's own force: its precedents are evidence")
    pcc_name: str = Field("", description="Name for the sign-off block; a final pack is refused without it")
    pack_template: Path | None = Field(
        None, description="The office's own .docx template for the Word pack (letterhead); the bundled one if unset"
    )
    pack_pdf: bool = Field(True, description="Also export the pack as PDF where LibreOffice is installed")

    # retrieval
    chroma_host: str | None = Field(None, description="Use a Chroma server instead of the embedded store")
    chroma_port: int = Field(8000, description="Chroma server port")
    collection: str = Field("precedents", description="Chroma collection name")
    embedding: str = Field(
        "minilm-int8", description="'minilm-int8' (bundled) or 'st:/path/to/sentence-transformers/model'"
    )
    max_classification: Classification = Field(
        Classification.OFFICIAL,
        description="The office's upper bound: the highest ceiling any channel may be given (each is OFFICIAL "
        "unless set higher)",
    )
    channel_ceilings: Annotated[dict[str, Classification], NoDecode] = Field(
        default_factory=dict, description="Channels (or DMs) allowed above OFFICIAL: 'C0123=OFFICIAL-SENSITIVE,…'"
    )

    # drafting
    llm: str = Field("auto", description="'auto', 'local', 'composer' or 'provider:model'")
    llm_provider: str | None = Field(
        None, description="'provider:model' that `auto` tries first (then the local model, then the composer)"
    )
    llm_timeout: float = Field(120.0, description="Seconds before a chat-model call is abandoned")
    llm_base_url: str | None = Field(
        None, description="An OpenAI-compatible server for 'openai:MODEL' (llama.cpp, vLLM, Ollama, Azure …/openai/v1)"
    )
    llm_api_key: SecretStr | None = Field(
        None, description="The key for RESPONDER_LLM_BASE_URL's server; none needed for most local servers"
    )
    llm_max_retries: int = Field(2, ge=0, le=10, description="Times the provider's client retries a failed call")
    draft_budget: float = Field(30.0, gt=0, description="Seconds one draft may take; past it the composed text stands")
    evidence_max_age_years: int = Field(
        3, ge=1, description="Evidence older than this is dated in the draft and marked to confirm"
    )
    model_path: Path | None = Field(None, description="A GGUF file to use instead of the bundled model")

    # system of record
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in the data dir")

    # Slack
    slack_bot_token: SecretStr | None = Field(None, description="Bot token (xoxb-…), from the app's OAuth page")
    slack_app_token: SecretStr | None = Field(None, description="App-level token (xapp-…) for Socket Mode")
    slack_signing_secret: SecretStr | None = Field(None, description="Verifies HTTP-mode requests came from Slack")
    slack_api_url: str | None = Field(None, description="Override the Web API base URL")
    reviewers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Slack user ids (U…) or user-group ids (S…) allowed to approve"
    )
    required_approvals: int = Field(1, ge=1, description="Approvals needed before an answer is final")
    drafter_may_approve: bool = Field(True, description="Whether the requester may approve their own draft")
    signoff_chain: Annotated[list[SignoffStage], NoDecode] = Field(
        default_factory=list,
        description="Sign-off stages in order, as JSON; empty: one stage of RESPONDER_REQUIRED_APPROVALS reviewers",
    )
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Slack user ids (U…) allowed to set a channel's classification ceiling"
    )

    # the durable drafting queue
    draft_workers: int = Field(2, ge=1, le=16, description="Drafting workers per instance")
    job_lease_seconds: float = Field(
        30.0, ge=2, description="How long a drafting job is held without a heartbeat before another worker takes it"
    )

    # deadlines
    chief_constable_days: int = Field(28, ge=1, le=55, description="Days after publication for CC comments")
    reminder_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [28, 14, 7, 3, 1, 0], description="Reminder offsets before the last day"
    )
    reminder_not_before: time = Field(time(8, 0), description="UK time of day before which no reminder is posted")
    owner_reminder_days: int = Field(
        14, ge=0, le=365, description="Days before a register item's due date that its owner is reminded"
    )

    _split = field_validator("reviewers", "admins", "reminder_days", mode="before")(_split_list)
    _ceilings = field_validator("channel_ceilings", mode="before")(_split_ceilings)
    _chain = field_validator("signoff_chain", mode="before")(_parse_chain)

    @field_validator("signoff_chain")
    @classmethod
    def _distinct_stage_names(cls, chain: list[SignoffStage]) -> list[SignoffStage]:
        names = [stage.name.strip().casefold() for stage in chain]
        if len(set(names)) != len(names):
            raise ValueError("RESPONDER_SIGNOFF_CHAIN names a stage twice; give each stage its own name")
        return chain

    @model_validator(mode="after")
    def _ceilings_within_the_upper_bound(self) -> Settings:
        above = [
            f"{ch}={c.value}" for ch, c in self.channel_ceilings.items() if c.level > self.max_classification.level
        ]
        if above:
            raise ValueError(
                f"RESPONDER_CHANNEL_CEILINGS gives {', '.join(above)}, above RESPONDER_MAX_CLASSIFICATION "
                f"({self.max_classification.value}): raise the upper bound or lower those ceilings"
            )
        return self

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'responder.db').resolve()}"

    def retrieval(self) -> RetrievalConfig:
        return RetrievalConfig(
            data_dir=self.data_dir,
            chroma_host=self.chroma_host,
            chroma_port=self.chroma_port,
            collection=self.collection,
            embedding=self.embedding,
        )
