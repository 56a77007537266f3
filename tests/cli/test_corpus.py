"""`responder ingest` output: readable in a narrow terminal."""

from __future__ import annotations

from rich.console import Console

from bot.cli.corpus import ingest_table
from retrieval.ingest import IngestRow


def test_the_ingest_summary_reads_at_80_columns_with_no_word_broken() -> None:
    names = ["cambridgeshire-child-protection-thematic-2019.txt", "northumbria-group-based-cse-2023.txt"]
    rows = [IngestRow(path=f"/corpus/{name}", precedents=6, added=8, removed=0, unchanged=0) for name in names]
    console = Console(width=80, record=True)
    console.print(ingest_table(rows))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    shown = "\n".join(lines)
    assert all(name in shown for name in names)  # each file name whole on one line
    assert all(word in shown for word in ("precedents;", "added,", "removed,", "unchanged"))
