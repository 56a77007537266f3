"""A terminal that fits: every table at 80 and 120 columns with no word broken, paths whole, help without
`<bool>`, no log noise without -v, one clear line (no traceback) for a user's mistake."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from bot.cli import console as cli_console
from bot.cli.main import app
from bot.settings import Settings
from tests.support.inspections import seed_inspection
from tests.support.report_samples import THEMATIC
from tracker.repository import Repository

runner = CliRunner()
LONG_TITLE = (
    "An inspection of the effectiveness of the police and law enforcement bodies' response to group-based "
    "child sexual exploitation in England and Wales"
)
QUERY = "problem profile for child sexual exploitation"
#: What table borders and card punctuation are made of: never part of a word.
_SEPARATORS = re.compile(r"[\s│┃┏┓┗┛━─┡┩╇┳┻┼├┤┬┴└┘┌┐╭╮╰╯┣┫╋═║╔╗╚╝]+")
_EDGES = ".,;:!?()[]{}“”\"'‘’…·/"


@pytest.fixture(scope="module", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bundled corpus ingested once for the module and one tracked inspection with a long title."""
    root = tmp_path_factory.mktemp("cli-terminal")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.delenv("RESPONDER_DATABASE_URL", raising=False)
        patch.setenv("RESPONDER_DATA_DIR", str(root / "data"))
        patch.setenv("RESPONDER_FORCE", "Northumbria")
        patch.setenv("RESPONDER_PCC_NAME", "Susan Dungworth")
        patch.setenv("RESPONDER_LLM", "composer")
        assert runner.invoke(app, ["ingest", "--bundled"]).exit_code == 0
        store = Repository.connect(Settings().sqlalchemy_url)
        seed_inspection(store, approve=(True, False, True), title=LONG_TITLE)
        store.close()
        yield root / "data"


@pytest.fixture(params=[80, 120], ids=["80-columns", "120-columns"])
def width(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Both consoles really this wide, whatever the terminal running the tests."""
    columns: int = request.param
    monkeypatch.setenv("COLUMNS", str(columns))
    for console in (cli_console.console, cli_console.err):
        monkeypatch.setattr(console, "_width", columns)
        assert console.width == columns
    return columns


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def words(*texts: str) -> set[str]:
    found = set()
    for text in texts:
        for token in _SEPARATORS.split(text):
            token = token.strip(_EDGES)
            if token:
                found.add(token)
    return found


def assert_fits(out: str, width: int, *data: str, labels: str = "") -> None:
    """No line wider than the terminal; every word of the data shown whole, and no fragment of one (a word of
    the output that is only the start of a longer word of the data or of the `labels` a layout may show)."""
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width, "\n".join(line for line in lines if len(line) > width)
    shown = words(out)
    expected = words(*data)
    missing = expected - shown
    assert not missing, f"words broken or missing: {sorted(missing)}\n{out}"
    vocabulary = expected | words(labels)
    fragments = {t for t in shown - vocabulary if len(t) > 1 and any(w.startswith(t) for w in vocabulary)}
    assert not fragments, f"fragments of words: {sorted(fragments)}\n{out}"


def assert_layout(out: str, width: int) -> None:
    """Cards below 100 columns, a table (box drawing) from 100 on."""
    assert ("┃" in out) is (width >= 100), out


# ── tables ───────────────────────────────────────────────────────────────────────────────────────────────


def test_search_shows_the_matching_passage_and_a_plain_label_without_breaking_words(width: int) -> None:
    code, raw = run("search", QUERY, "--json")
    assert code == 0, raw
    hits = json.loads(raw)
    assert hits and all(h["relevance"] in {"strong match", "good match", "weak match"} for h in hits)
    assert hits[0]["relevance"] == "strong match" and "score" in hits[0] and "similarity" in hits[0]

    code, out = run("search", QUERY)
    assert code == 0, out
    assert_layout(out, width)
    data = [QUERY, "Top 5 for"]
    for hit in hits:
        meta = hit["chunk"]["meta"]
        data += [hit["relevance"], meta["force"], meta["inspection_title"], hit["passage"]]
        assert hit["passage"] and not hit["passage"].startswith(meta["inspection_title"])  # not the chunk's start
    assert_fits(out, width, *data, labels="# match force published finding inspection passage Rec. AFI")
    assert not re.search(r"\b0\.0\d{2}", out)  # no raw fused scores
    if width < 100:  # a card shows each passage as one run of text
        flat = " ".join(out.split())
        assert all(hit["passage"] in flat for hit in hits)
    top = hits[0]["passage"].lower()
    assert "problem profile" in top or "child sexual exploitation" in top


def test_the_ingest_summary_fits(width: int) -> None:
    code, out = run("ingest", "--bundled")
    assert code == 0, out
    names = [
        "cambridgeshire-child-protection-thematic-2019.txt",
        "northumbria-child-protection-thematic-2019.txt",
        "northumbria-group-based-cse-2023.txt",
        "northumbria-jtai-early-help-2023.txt",
        "northumbria-news-child-protection-2018.txt",
    ]
    assert_fits(out, width, "Ingest summary precedents added removed unchanged", *names, labels="file result")


def test_the_deadline_list_and_one_inspection_fit(width: int) -> None:
    code, raw = run("deadlines", "--json")
    assert code == 0, raw
    (row,) = json.loads(raw)
    code, out = run("deadlines")
    assert code == 0, out
    assert_layout(out, width)
    labels = "id inspection published last day days left approved status"
    data = [LONG_TITLE, "1 Feb 2024", "8 Dec 2023", row["status"], "2/3", "Police Act 1996 s.55(5A)"]
    assert_fits(out, width, *data, labels=labels)

    code, out = run("deadlines", "show", str(row["id"]))
    assert code == 0, out
    findings = ["Recommendation 1", "Recommendation 2", "Area for improvement"]
    assert_fits(
        out,
        width,
        LONG_TITLE,
        *findings,
        "Chief constable's comments",
        labels="# finding state version Chief constable",
    )


def test_paths_are_printed_whole(width: int, tmp_path: Path) -> None:
    deep = tmp_path / "a-rather-long-folder-name-for-response-packs" / "another-level-of-folders-below-it"
    code, raw = run("deadlines", "--json")
    assert code == 0, raw
    inspection_id = str(json.loads(raw)[0]["id"])
    code, out = run("pack", inspection_id, "--out", str(deep), "--draft-watermark")
    assert code == 0, out
    (docx,) = deep.glob("*.docx")
    assert any(str(docx.resolve()) in line for line in out.splitlines()), out
    assert not any("…" in line for line in out.splitlines() if "/" in line), out

    report = tmp_path / "report.txt"
    report.write_text(THEMATIC, encoding="utf-8")
    target = deep / "the-response-pack-written-by-draft-with-a-long-name.md"
    code, out = run("draft", "--report", str(report), "--out", str(target))
    assert code == 0, out
    assert any(str(target) in line for line in out.splitlines()), out
    assert not any("…" in line for line in out.splitlines() if "/" in line)


# ── draft: a recommendation, or a clear refusal ─────────────────────────────────────────────────────────────


def test_hello_is_not_drafted_unless_forced() -> None:
    result = runner.invoke(app, ["draft", "hello"])
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "This does not look like a recommendation" in flat
    assert "Paste the recommendation's text, or use --force-draft to draft it anyway." in flat
    assert "accepts this recommendation" not in flat

    result = runner.invoke(app, ["draft", "hello", "--force-draft", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["finding"]["text"] == "hello"


# ── help ─────────────────────────────────────────────────────────────────────────────────────────────────


def command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]

    def walk(command: object, prefix: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(get_command(app), [])
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "responder")
def test_help_has_no_type_noise(path: list[str]) -> None:
    code, out = run(*path, "--help")
    assert code == 0, out
    assert "<bool>" not in out, out


def test_date_options_say_what_to_type() -> None:
    for path, option in ((["ingest"], "--published"), (["draft"], "--published"), (["search"], "--from")):
        code, out = run(*path, "--help")
        assert code == 0, out
        flat = " ".join(out.replace("│", " ").split())
        assert f"{option} DATE" in flat and "e.g. 2024-03-01 or '1 March 2024'" in flat, out


# ── logging ──────────────────────────────────────────────────────────────────────────────────────────────


def test_no_debug_lines_without_verbose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESPONDER_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "note.txt").write_text("The force refreshed its problem profile in March 2024.\n", encoding="utf-8")
    bm25s = logging.getLogger("bm25s")
    monkeypatch.setattr(bm25s, "level", logging.DEBUG)  # as bm25s sets it when imported
    code, out = run("ingest", str(tmp_path / "note.txt"))
    assert code == 0, out
    assert "DEBUG" not in out and "INFO" not in out, out

    (tmp_path / "note.txt").write_text("Changed: the profile is now refreshed every quarter.\n", encoding="utf-8")
    code, out = run("-v", "ingest", str(tmp_path / "note.txt"))
    assert code == 0, out
    assert "DEBUG retrieval.index: keyword index rebuilt" in out  # ours, with -v
    assert "DEBUG bm25s" not in out  # a library's debug lines stay out even then
    assert logging.getLogger().level == logging.WARNING  # the command put the levels back


# ── user errors: one line, an exit code, no traceback ───────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["markdown", "/nope.md"], "no such file: /nope.md"),
        (["markdown", "/"], "is a folder"),
        (["draft", "--report", "/nope.pdf"], "file not found"),
        (["ingest", "/nope"], "no such file or folder: /nope"),
        (
            ["draft", "--published", "31/02/2024", "By 2025 forces should publish their data on stop and search."],
            "29 days",
        ),
        (["search", "x", "--from", "next Tuesday"], "--from"),
        (["deadlines", "show", "abc"], "inspection_id"),
        (["deadlines", "show", "999"], "no inspection with id 999"),
    ],
)
def test_user_errors_are_one_clear_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code in (2, 3), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert message in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def test_a_missing_markdown_file_prints_no_traceback_from_the_real_command(tmp_path: Path) -> None:
    script = "from bot.cli.main import app; app()"
    env = {"RESPONDER_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script, "markdown", str(tmp_path / "nope.md")],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: no such file: {tmp_path / 'nope.md'} (check the path and try again)"
    ]
