"""Prompt templates, versioned with the code. Files are named `<name>_v<N>.txt`; bump N when wording changes."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

DRAFT_PROMPT_VERSION = "v2"


@cache
def load(name: str, version: str = DRAFT_PROMPT_VERSION) -> str:
    """Return the text of prompts/<name>_<version>.txt (package data, so it works from a wheel too)."""
    resource = files(__package__) / f"{name}_{version}.txt"
    if not resource.is_file():
        raise FileNotFoundError(f"prompt template {name}_{version}.txt is missing from the prompts package")
    return resource.read_text(encoding="utf-8")
