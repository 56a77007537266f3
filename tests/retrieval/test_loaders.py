"""Reading documents (retrieval.loaders): formats, clear errors, folder expansion, text cleaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.loaders import DocumentError, clean_text, iter_document_files, read_text


def _pdf(path: Path, paragraphs: list[str]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    story = [Paragraph(text, styles["BodyText"]) for text in paragraphs]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


LONG = (
    "By 31 December 2024, all chief constables should make sure that their forces have problem profiles "
    "for child sexual exploitation, each of which should include an assessment of the nature and extent of "
    "group-based child sexual exploitation."
)


def test_reads_utf8_text_and_markdown(tmp_path: Path) -> None:
    txt = tmp_path / "response.txt"
    txt.write_text("I welcome the report – it is “clear”.\n", encoding="utf-8")
    md = tmp_path / "notes.md"
    md.write_text("# Heading\n\n**Recommendation 1** (text)\n", encoding="utf-8")
    assert read_text(txt) == "I welcome the report – it is “clear”.\n"
    assert read_text(md) == "# Heading\n\n**Recommendation 1** (text)\n"


def test_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffInspection title".encode())
    assert read_text(path) == "Inspection title"


def test_falls_back_to_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "old.TXT"  # extension case does not matter
    path.write_bytes("Early help is vital – it’s so important".encode("cp1252"))
    assert read_text(path) == "Early help is vital – it’s so important"


def test_pdf_text_keeps_paragraph_breaks(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "report.pdf", ["Recommendation 1", LONG, "Our inspection found good practice."])
    text = read_text(path)
    blocks = [" ".join(block.split()) for block in text.split("\n\n")]
    assert blocks == ["Recommendation 1", LONG, "Our inspection found good practice."]


def test_docx_paragraphs_tables_and_lists(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("NORTHUMBRIA PCC RESPONSE TO HMICFRS")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "Inspection title"
    merged = table.cell(0, 1).merge(table.cell(0, 2))
    merged.text = "An inspection of group-based child sexual exploitation"
    table.cell(1, 0).text = "Date inspection published"
    table.cell(1, 1).text = "8th December 2023"
    table.cell(1, 2).text = "checked"
    document.add_paragraph("Within three months, the force should:")
    document.add_paragraph("make sure it answers calls promptly;", style="List Bullet")
    document.add_paragraph("review its risk assessment.", style="List Number")
    document.add_paragraph("I welcome the report.")
    path = tmp_path / "response.docx"
    document.save(str(path))

    assert read_text(path).split("\n\n") == [
        "NORTHUMBRIA PCC RESPONSE TO HMICFRS",
        # One row per line, cells joined by a tab; the merged cell appears once.
        "Inspection title\tAn inspection of group-based child sexual exploitation\n"
        "Date inspection published\t8th December 2023\tchecked",
        "Within three months, the force should:",
        "• make sure it answers calls promptly;",
        "1. review its risk assessment.",
        "I welcome the report.",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty.txt: the file is empty"),
        ("blank.md", b"  \n\n \t\n", "blank.md: the file contains no text"),
        ("binary.txt", b"PK\x03\x04\x00\x00binary", "binary.txt: this looks like a binary file"),
        (
            "corrupt.pdf",
            b"%PDF-1.4\nthis is not really a pdf\n%%EOF",
            "corrupt.pdf: the PDF is damaged or not a PDF",
        ),
        ("notes.pdf", b"just some text saved with the wrong extension", "notes.pdf: the PDF is damaged"),
        ("broken.docx", b"PK\x03\x04 not a zip", "broken.docx: not a readable Word document"),
        ("sheet.xlsx", b"PK", "sheet.xlsx: unsupported file type '.xlsx'"),
        (
            "legacy.doc",
            b"\xd0\xcf\x11\xe0",
            "legacy.doc: old Word .doc files are not supported — save it as .docx",
        ),
        ("README", b"text", "README: unsupported file type (no extension)"),
    ],
)
def test_unreadable_files_raise_a_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        read_text(path)
    assert str(caught.value).startswith(message)
    assert caught.value.path == path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"^gone\.pdf: file not found"):
        read_text(tmp_path / "gone.pdf")


def test_pdf_without_text_layer_says_it_may_be_scanned(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(path))
    page.rect(100, 100, 300, 400, fill=1)  # an image-like page: shapes, no text
    page.save()
    with pytest.raises(DocumentError) as caught:
        read_text(path)
    assert str(caught.value) == (
        "scan.pdf: the PDF has no extractable text (scanned image?) — "
        "export it with a text layer or paste the recommendation"
    )


def test_password_protected_pdf(tmp_path: Path) -> None:
    import pypdf

    plain = _pdf(tmp_path / "plain.pdf", ["Secret recommendation text."])
    writer = pypdf.PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(DocumentError, match=r"^locked\.pdf: the PDF is password-protected"):
        read_text(locked)


def test_pdf_encrypted_with_an_empty_password_is_read(tmp_path: Path) -> None:
    import pypdf

    plain = _pdf(tmp_path / "plain.pdf", ["Readable recommendation text."])
    writer = pypdf.PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "restricted.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    assert read_text(path).strip() == "Readable recommendation text."


def test_iter_document_files_expands_folders(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in [
        "a.txt",
        "a.meta.json",
        "b/z.pdf",
        "b/deep/c.DOCX",
        "b/notes.md",
        "b/sheet.xlsx",
        "b/~$c.docx",
        ".hidden/x.txt",
        ".secret.txt",
    ]:
        (tmp_path / name).write_text("x")
    assert iter_document_files([tmp_path]) == [
        tmp_path / "a.txt",
        tmp_path / "b" / "deep" / "c.DOCX",
        tmp_path / "b" / "notes.md",
        tmp_path / "b" / "z.pdf",
    ]


def test_iter_document_files_keeps_named_files_once_and_skips_named_sidecars(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "a.meta.json").write_text("{}")
    (tmp_path / "odd.xlsx").write_text("x")
    files = iter_document_files([tmp_path / "odd.xlsx", tmp_path / "a.txt", tmp_path, tmp_path / "a.meta.json"])
    # A file named explicitly is kept (read_text will say why it is unsupported); no duplicates.
    assert files == [tmp_path / "odd.xlsx", tmp_path / "a.txt"]


def test_iter_document_files_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"^nowhere: no such file or folder"):
        iter_document_files([tmp_path / "nowhere"])


def test_clean_text_normalises_conversion_artefacts() -> None:
    raw = (
        'Type of inspection\t<input checked="" type="checkbox"/> Northumbria-specific '
        '<input type="checkbox"/> National Thematic\r\n'
        "Date inspection published\t8 <sup>th</sup> December 2023\t\r\n"
        "Deadline\t2 nd January 2024\n"
        "Recommendations\t✓ National\t☐ Local □ Other\n"
        "\uf0b7 first bullet\n"
        "**Recommendation 2** (By 31 December 2024, &amp; more)\u00a0\n"
        "Chapter 3 the end; 6 Area Command model"
    )
    assert clean_text(raw).split("\n") == [
        "Type of inspection\t[x] Northumbria-specific [ ] National Thematic",
        "Date inspection published\t8th December 2023",
        "Deadline\t2nd January 2024",
        "Recommendations\t[x] National\t[ ] Local [ ] Other",
        "• first bullet",
        "**Recommendation 2** (By 31 December 2024, & more)",
        "Chapter 3 the end; 6 Area Command model",
    ]


def test_clean_text_does_not_change_what_read_text_returned(tmp_path: Path) -> None:
    path = tmp_path / "seedlike.txt"
    original = "Date inspection published\t7 th November 2023\n"
    path.write_text(original, encoding="utf-8")
    text = read_text(path)
    assert clean_text(text) == "Date inspection published\t7th November 2023\n"
    assert text == original
