"""Failures told to the user: what went wrong and what to do, never a stack trace, never the user's text."""

from __future__ import annotations

from bot.services.slack_files import FileFetchError
from bot.slack.ui.common import refusal_text
from drafting.llm import ChatModelError, ModelTimeoutError
from drafting.report import NoFindingsError
from retrieval.faults import REBUILD_HINT, IndexUnavailable
from retrieval.loaders import DocumentError
from tracker.errors import TrackerError
from tracker.faults import PLAIN, StorageProblem, storage_problem

#: What to do about any storage fault: the person cannot fix the server, an administrator can.
STORAGE_TODO = "Please tell your administrator; try again once it is fixed. Nothing already stored was lost."

#: Failures with a known cause and a message for the user (as opposed to bugs, which are logged with a trace).
EXPECTED = (
    ModelTimeoutError,
    ChatModelError,
    FileFetchError,
    DocumentError,
    NoFindingsError,
    TrackerError,
    IndexUnavailable,
)


def is_expected(error: Exception) -> bool:
    """A failure with a known cause (logged in one line), as opposed to a bug (logged with its trace)."""
    return isinstance(error, EXPECTED) or storage_problem(error) is not None


def storage_message(problem: StorageProblem) -> tuple[str, str]:
    """(what went wrong, what to do) when the database cannot be written."""
    return f"I cannot save anything right now: {PLAIN[problem]}.", STORAGE_TODO


def index_message(error: IndexUnavailable) -> tuple[str, str]:
    return f"I cannot draft right now: {error}", REBUILD_HINT


def describe_error(error: Exception, file_name: str = "") -> tuple[str, str]:
    """(what went wrong, what to do) for the thread."""
    where = file_name or "the report"
    if isinstance(error, ModelTimeoutError):
        return (
            "The drafting model did not answer in time.",
            "Press Regenerate to try again. If it keeps happening, an admin can raise RESPONDER_LLM_TIMEOUT "
            "or set RESPONDER_LLM=composer for model-free drafts.",
        )
    if isinstance(error, ChatModelError):
        return "The drafting model cannot run.", f"{error} An admin can check it with `responder model`."
    if isinstance(error, DocumentError):
        # The reason alone: the file's name is in the first line, and a Slack download is saved as "report.pdf".
        reason = error.reason[:1].upper() + error.reason[1:]
        return f"I could not read {where}.", reason if reason.endswith(".") else reason + "."
    if isinstance(error, FileFetchError):
        return f"I could not read {where}.", str(error)
    if isinstance(error, NoFindingsError):
        return f"I found no findings in {where}.", str(error) + "."
    if isinstance(error, TrackerError):
        return "The answer was not updated.", refusal_text(error)
    if isinstance(error, IndexUnavailable):
        return index_message(error)
    if (problem := storage_problem(error)) is not None:
        return storage_message(problem)
    return (
        f"Something went wrong ({type(error).__name__}).",
        "Nothing already stored was lost. Try again; if it keeps happening, check the bot's log.",
    )
