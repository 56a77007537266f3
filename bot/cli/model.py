"""`responder model`: assemble and verify the embedded chat model once, and say where it is."""

from __future__ import annotations

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bot.cli.console import console, err, fail
from bot.cli.layout import print_path
from bot.settings import Settings


def model() -> None:
    """Assemble and verify the embedded chat model (once), then say which engine `auto` picks."""
    from drafting.local_model import LocalModelError, ensure_local_model

    settings = Settings()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as bar:
            task = bar.add_task("Assembling the local model", total=None)
            path = ensure_local_model(
                settings.data_dir,
                on_progress=lambda stage, done, total: bar.update(
                    task, description=f"Local model: {stage}", completed=done, total=total
                ),
            )
    except LocalModelError as exc:
        raise fail(str(exc)) from exc
    print_path(console, "Local model ready:", path)
