"""People in the tracker's words, kept as ids so that each surface names them its own way.

The tracker writes `person("U123")` where a message names someone; Slack renders that as a mention, the command
line as the plain id. The system of record never writes any surface's markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_PERSON = re.compile(r"<person:([^<>]+)>")

Namer = Callable[[str], str]


def person(user_id: str) -> str:
    return f"<person:{user_id}>"


def people(user_ids: Iterable[str]) -> str:
    return ", ".join(person(user_id) for user_id in user_ids)


def plain_name(user_id: str) -> str:
    return user_id


def name_people(text: str, name: Namer = plain_name) -> str:
    """The text with every `person(...)` written the way `name` says (the plain id by default)."""
    return _PERSON.sub(lambda match: name(match.group(1)), text)
