"""Bad input (issue 10): unreadable files, unsafe characters, over-long titles and impossible years.

Every fixture is built here, in tmp_path (reportlab, pypdf, python-docx and raw bytes); no binary is committed.
"""

from __future__ import annotations

import importlib.util
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.errors import describe_error
from bot.services.inputs import split_date_and_title
from drafting.report import NoFindingsError, Report, parse_report
from retrieval.dates import DateParseError, parse_date
from retrieval.loaders import UnreadableDocument, read_text, safe_text
from tests.support.store import FakeClock, findings, make_repo
from tracker.errors import InvalidInput
from tracker.repository import Repository

HAS_CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None
ENCRYPTED = "the PDF is password-protected (encrypted) — save an unprotected copy and upload that"
SCANNED = "the PDF has no text layer: it looks scanned; export it with text, or OCR it"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


# ── fixtures built at test time ──────────────────────────────────────────────────────────────────────────


def _text_pdf(path: Path, text: str = "Recommendation 1: the force should improve its audits.") -> Path:
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path))
    page.drawString(72, 720, text)
    page.save()
    return path


def _encrypted(tmp_path: Path, algorithm: str, user_password: str = "secret") -> Path:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=str(_text_pdf(tmp_path / "plain.pdf")))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    path = tmp_path / f"locked-{algorithm}.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def _aes256_by_hand(path: Path) -> Path:
    """A PDF whose trailer names an AES-256 (V5 R6) security handler, as Word and Acrobat write by default.

    Written byte by byte because pypdf needs `cryptography` to encrypt with AES; reading it without that
    package is exactly what used to fail with "Something went wrong (DependencyError)".
    """

    def hexed(size: int, fill: int) -> str:
        return "<" + bytes([fill] * size).hex() + ">"

    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        "<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /StmF /StdCF /StrF /StdCF "
        "/CF << /StdCF << /AuthEvent /DocOpen /CFM /AESV3 /Length 32 >> >> "
        f"/O {hexed(48, 1)} /U {hexed(48, 2)} /OE {hexed(32, 3)} /UE {hexed(32, 4)} /Perms {hexed(16, 5)} >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Encrypt 4 0 R /ID [{hexed(16, 6)} {hexed(16, 6)}] >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    path.write_bytes(bytes(out))
    return path


def _docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph("Recommendation 1: the force should improve its audits. " * 20)
    document.save(str(path))
    return path


def _read_error(path: Path) -> UnreadableDocument:
    with pytest.raises(UnreadableDocument) as caught:
        read_text(path)
    assert caught.value.path == path
    return caught.value


# ── unreadable documents: one clear, distinct message each ───────────────────────────────────────────────


@pytest.mark.parametrize("user_password", ["secret", ""])
def test_aes_256_encrypted_pdf_says_password_protected_not_dependency_error(tmp_path: Path, user_password: str) -> None:
    if HAS_CRYPTOGRAPHY:
        path = _encrypted(tmp_path, "AES-256", user_password)
    else:
        path = _aes256_by_hand(tmp_path / "word-default.pdf")
    if HAS_CRYPTOGRAPHY and not user_password:
        assert "audits" in read_text(path)  # with the package, a permissions-only PDF is simply read
        return
    error = _read_error(path)
    assert (error.kind, error.reason) == ("encrypted", ENCRYPTED)


def test_hand_made_aes_pdf_is_refused_as_encrypted_with_or_without_cryptography(tmp_path: Path) -> None:
    error = _read_error(_aes256_by_hand(tmp_path / "acrobat.pdf"))
    assert (error.kind, error.reason) == ("encrypted", ENCRYPTED)


def test_rc4_encrypted_pdf_says_password_protected(tmp_path: Path) -> None:
    error = _read_error(_encrypted(tmp_path, "RC4-128"))
    assert (error.kind, error.reason) == ("encrypted", ENCRYPTED)


def test_the_slack_message_for_an_encrypted_pdf_is_words_not_an_exception_name(tmp_path: Path) -> None:
    error = _read_error(_aes256_by_hand(tmp_path / "report.pdf"))
    assert describe_error(error, "Inspection.pdf") == (
        "I could not read Inspection.pdf.",
        "The PDF is password-protected (encrypted) — save an unprotected copy and upload that.",
    )


def test_truncated_pdf(tmp_path: Path) -> None:
    whole = _text_pdf(tmp_path / "whole.pdf").read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(whole[: len(whole) // 2])
    error = _read_error(path)
    assert error.kind == "truncated"
    assert error.reason == "the PDF is damaged: it is incomplete (cut off) — download or export it again"


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> garbage\n%%EOF\n")
    error = _read_error(path)
    assert error.kind == "damaged" and error.reason.startswith("the PDF is damaged or not a PDF (")


def test_pdf_with_zero_pages(tmp_path: Path) -> None:
    import pypdf

    path = tmp_path / "empty-pages.pdf"
    pypdf.PdfWriter().write(str(path))
    error = _read_error(path)
    assert (error.kind, error.reason) == ("no_pages", "the PDF has no pages — re-export it from the original")


def test_images_only_pdf_says_it_looks_scanned(tmp_path: Path) -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    picture = io.BytesIO()
    Image.new("RGB", (60, 80), (200, 200, 200)).save(picture, format="PNG")
    picture.seek(0)
    path = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(path))
    page.drawImage(ImageReader(picture), 72, 72, width=400, height=600)
    page.save()
    error = _read_error(path)
    assert (error.kind, error.reason) == ("scanned", SCANNED)


def test_truncated_docx(tmp_path: Path) -> None:
    whole = _docx(tmp_path / "whole.docx").read_bytes()
    path = tmp_path / "cut.docx"
    path.write_bytes(whole[: len(whole) // 2])
    error = _read_error(path)
    assert error.kind == "truncated"
    assert error.reason == "not a readable Word document (damaged, or not .docx) — re-save it as .docx"


def test_docx_with_a_damaged_body(tmp_path: Path) -> None:
    source = zipfile.ZipFile(_docx(tmp_path / "whole.docx"))
    path = tmp_path / "damaged.docx"
    with zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = b"<w:document><unclosed" if item.filename == "word/document.xml" else source.read(item)
            target.writestr(item, data)
    error = _read_error(path)
    assert error.kind == "damaged" and error.reason.startswith("not a readable Word document")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "report.pdf",
            EXE,
            "this is a Windows program (.exe or .dll), not a PDF, despite its .pdf name — "
            "check you picked the right file",
        ),
        (
            "report.docx",
            EXE,
            "this is a Windows program (.exe or .dll), not a Word document, despite its .docx name — "
            "check you picked the right file",
        ),
        ("report.txt", EXE, "this looks like a binary file (a Windows program (.exe or .dll)), not text"),
        ("report.md", ELF, "this looks like a binary file (a Linux program), not text"),
        ("report.docx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "this is a PDF, not a Word document, despite its .docx name"),
        ("report.txt", b"%PDF-1.7\nplain", "this is a PDF, not text, despite its .txt name — rename it to .pdf"),
        ("report.pdf", b"PK\x03\x04\x14\x00\x00\x00", "this is a ZIP archive or Office file, not a PDF"),
        ("report.pdf", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "this is a PNG image, not a PDF"),
        ("report.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "this is an old Office file (.doc or .xls)"),
    ],
)
def test_renamed_binaries_are_named_by_their_magic_bytes(tmp_path: Path, name: str, content: bytes, reason: str):
    path = tmp_path / name
    path.write_bytes(content)
    error = _read_error(path)
    assert error.kind == "wrong_type" and error.reason.startswith(reason)


def test_text_that_merely_starts_like_a_signature_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("MZ is the force's abbreviation for the Metro Zone.\n")
    assert read_text(path).startswith("MZ is")
    utf16 = tmp_path / "notepad.txt"
    utf16.write_bytes("Unicode Notepad text – “quoted”".encode("utf-16"))
    assert read_text(utf16) == "Unicode Notepad text – “quoted”"


@pytest.mark.parametrize("name", ["empty.pdf", "empty.docx", "empty.txt", "empty.md"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    error = _read_error(path)
    assert (error.kind, error.reason) == ("empty", "the file is empty (0 bytes) — nothing to read; upload it again")


def test_every_kind_of_bad_pdf_gets_its_own_message(tmp_path: Path) -> None:
    import pypdf

    whole = _text_pdf(tmp_path / "whole.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(whole[:300])
    pypdf.PdfWriter().write(str(tmp_path / "none.pdf"))
    (tmp_path / "exe.pdf").write_bytes(EXE)
    (tmp_path / "empty.pdf").write_bytes(b"")
    paths = [_aes256_by_hand(tmp_path / "aes.pdf"), *(tmp_path / n for n in ("cut.pdf", "none.pdf", "exe.pdf"))]
    paths.append(tmp_path / "empty.pdf")
    reasons = [_read_error(path).reason for path in paths]
    assert len(set(reasons)) == len(reasons)
    assert all(not describe_error(_read_error(path))[0].startswith("Something went wrong") for path in paths)


# ── untrusted text before it is stored ──────────────────────────────────────────────────────────────────


def test_safe_text_removes_nul_controls_and_bidi_overrides_but_keeps_newlines_and_tabs() -> None:
    dirty = "Police\x00 and\x1b[31m crime\x07\x9b\r\nplan\u202e gnp.exe\u2066x\u2069\tend\x7f"
    assert safe_text(dirty) == "Police and[31m crime\nplan gnp.exex\tend"


UNSAFE = st.sampled_from(["\x00", "\x1b", "\x07", "\x7f", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069", "\ud800"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), UNSAFE), max_size=20).map("".join))
def test_safe_text_is_idempotent_and_leaves_nothing_unsafe(text: str) -> None:
    cleaned = safe_text(text)
    assert safe_text(cleaned) == cleaned
    assert not any(ch in cleaned for ch in "\x00\x1b\x07\x7f\x9b\r\u202a\u202b\u202c\u202d\u202e\u2066\u2069")
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in cleaned)
    cleaned.encode("utf-8")  # storable in PostgreSQL text


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    store = make_repo(tmp_path, clock=FakeClock())
    yield store
    store.close()


def _create(repo: Repository, title: str):
    return repo.inspections.create(title, date(2023, 12, 8), "PEEL", "Northumbria", "C1", "U_ME")


def test_titles_comments_and_findings_are_stored_clean(repo: Repository) -> None:
    view = _create(repo, "An inspection\x00 of\u202e\x1b custody\n suites")
    assert view.title == "An inspection of custody suites"
    comments = repo.inspections.set_comments(view.id, "U_ME", pcc="I welcome\x00 the report.\u2066\r\nThanks")
    assert comments.pcc == "I welcome the report.\nThanks"
    dirty = findings()[1].model_copy(update={"text": "The Home Office\x00 should\u202e review\x1b funding."})
    (stored,) = repo.findings.add(view.id, [dirty])
    assert repo.findings.get(stored.id).text == "The Home Office should review funding."


def test_a_10000_character_title_is_refused_not_stored(repo: Repository) -> None:
    with pytest.raises(InvalidInput) as caught:
        _create(repo, "x" * 10_000)
    assert str(caught.value) == "The title is 10,000 characters; the longest allowed is 500 — shorten it."
    assert repo.inspections.list_open(date(2023, 12, 8)) == []
    assert _create(repo, "y" * 500).title == "y" * 500  # the column's length itself is fine


def test_split_date_and_title_refuses_an_over_long_title_and_cleans_a_short_one() -> None:
    with pytest.raises(InvalidInput, match=r"^The title is 10,000 characters; the longest allowed is 500"):
        split_date_and_title("8 Dec 2023 " + "t" * 10_000)
    assert split_date_and_title("8 Dec 2023 Custody\x00 \u202eSuites") == (date(2023, 12, 8), "Custody Suites")


def test_a_finding_with_nothing_left_after_cleaning_is_refused(repo: Repository) -> None:
    view = _create(repo, "Custody")
    empty = findings()[1].model_copy(update={"text": "\x00\u202e\x1b"})
    with pytest.raises(InvalidInput, match="finding's text is empty"):
        repo.findings.add(view.id, [empty])


# ── years outside 2000–2100 ──────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "year"), [("1 Jan 2999", "2999"), ("2999-01-01", "2999"), ("8/12/1999", "1999"), ("0000-01-01", "0000")]
)
def test_years_outside_2000_to_2100_are_refused(text: str, year: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date(text)
    assert caught.value.reason == f"{year} is outside 2000–2100: check the year"


def test_edge_years_are_accepted() -> None:
    assert parse_date("1 Jan 2000") == date(2000, 1, 1)
    assert parse_date("31 Dec 2100") == date(2100, 12, 31)


def test_slack_and_cli_both_refuse_year_2999(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInput, match="2999 is outside 2000–2100: check the year"):
        split_date_and_title("1 Jan 2999 An inspection of custody")

    from typer.testing import CliRunner

    from bot.cli.main import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RESPONDER_DATABASE_URL", raising=False)
    monkeypatch.setenv("RESPONDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESPONDER_FORCE", "Northumbria")
    result = CliRunner().invoke(app, ["deadlines", "add", "1", "Jan", "2999", "An", "inspection"])
    assert result.exit_code == 2, result.output
    assert "2999 is outside 2000–2100: check the year" in result.output
    assert "355" not in result.output  # no "355102 days left"


# ── property tests: random text gives a result or a clear error, never a crash ───────────────────────────

NASTY = st.sampled_from(["\x00", "\x1b", "\u202e", "\u2066", "\u200f", "\u200e", "\ufeff", "\n", "\t", " ", ","])
DATE_PARTS = st.sampled_from(["8", "31", "02", "12", "Dec", "December", "8th", "2023", "23", "2999", "-", "/", "of"])
RANDOM_TEXT = st.one_of(
    st.just(""),
    st.text(max_size=60),
    st.lists(st.one_of(DATE_PARTS, NASTY, st.text(max_size=4)), max_size=12).map(" ".join),
    st.text(min_size=2_000, max_size=3_000, alphabet=st.characters(codec="utf-8") | NASTY),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(RANDOM_TEXT)
def test_parse_date_gives_a_date_in_range_or_a_date_parse_error(text: str) -> None:
    try:
        value = parse_date(text, today=date(2024, 1, 1))
    except DateParseError as error:
        assert error.reason
    else:
        assert 2000 <= value.year <= 2100


@FAST
@given(RANDOM_TEXT)
def test_split_date_and_title_gives_a_result_or_invalid_input(text: str) -> None:
    try:
        published, title = split_date_and_title(text)
    except InvalidInput as error:
        assert str(error)
    else:
        assert 2000 <= published.year <= 2100
        assert title and len(title) <= 500 and safe_text(title) == title


REPORT_LINES = st.sampled_from(
    [
        "Recommendation 1",
        "Recommendations",
        "Area for improvement",
        "Cause of concern",
        "By 31 December 2024, all chief constables should review their problem profiles.",
        "1. We recommend that the force improves its audits.",
        "Within three months, the force should:",
        "• make sure it answers calls promptly;",
        "Published 8th December 2023",
        "<input type='checkbox' checked>",
        "",
    ]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(REPORT_LINES, st.text(max_size=80), NASTY), max_size=25).map("\n".join))
def test_parse_report_gives_a_report_or_no_findings_error(text: str) -> None:
    try:
        report = parse_report(text, "random.txt")
    except NoFindingsError as error:
        assert "random.txt" in str(error)
    else:
        assert isinstance(report, Report) and report.findings
