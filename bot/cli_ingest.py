"""`responder ingest`: progress bar while files are parsed and embedded, then a summary table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from bot.cli import console, progress
from bot.services import Services
from retrieval.ingest import IngestRow, ingest_bundled, ingest_paths


def run_ingest(svc: Services, paths: list[Path], bundled: bool, overrides: dict[str, Any]) -> None:

    reports = []
    with progress() as bar:
        task = bar.add_task("Ingesting", total=None)

        def on_progress(row: IngestRow, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"Ingested {Path(row.path).name}")

        if bundled:
            reports.append(ingest_bundled(svc.index, on_progress=on_progress))
        if paths:
            reports.append(ingest_paths(svc.index, paths, overrides=overrides, on_progress=on_progress))
    rows = [row for report in reports for row in report.rows]
    table = Table(title="Ingest summary")
    table.add_column("file", no_wrap=True)
    for col in ("precedents", "added", "removed", "unchanged"):
        table.add_column(col, justify="right")
    table.add_column("skipped", overflow="fold")
    for row in rows:
        table.add_row(
            Path(row.path).name,
            str(row.precedents),
            str(row.added),
            str(row.removed),
            str(row.unchanged),
            row.skipped or "",
        )
    console.print(table)
    skipped = sum(1 for r in rows if r.skipped)
    console.print(f"{len(rows) - skipped} file(s) indexed, {skipped} skipped; {svc.index.count()} chunks in the index.")
