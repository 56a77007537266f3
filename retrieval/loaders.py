"""Read the text out of the documents people hand us: plain text, Markdown, PDF and Word.

`read_text` returns the text as stored in the file (no rewriting); `clean_text` is the separate,
non-destructive normalisation the parsers apply to the artefacts of converted documents (HTML check
boxes, superscript ordinals). Every failure is a `DocumentError` naming the file and saying what to do;
the ways a file can be unreadable (encrypted, truncated, no pages, scanned, the wrong kind of file behind
the extension, empty) are `UnreadableDocument`s whose `kind` says which.
"""

from __future__ import annotations

import codecs
import html
import re
import statistics
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = frozenset({".txt", ".md"})
SUPPORTED_SUFFIXES = frozenset({*TEXT_SUFFIXES, ".pdf", ".docx"})
SIDECAR_SUFFIX = ".meta.json"

CHECKED = "[x]"
UNCHECKED = "[ ]"

_SCANNED_HINT = "export it with a text layer or paste the recommendation"
_ENCRYPTED = "the PDF is password-protected (encrypted) — save an unprotected copy and upload that"
#: How far into a file the PDF header may start (the specification allows leading junk; 1 KB is Acrobat's rule).
_HEADER_WINDOW = 1024

#: File signatures, for saying what a file really is when its extension lies (a renamed program or image).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive or Office file"),
    (b"PK\x05\x06", "a ZIP archive or Office file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (.doc or .xls)"),
    (b"MZ", "a Windows program (.exe or .dll)"),
    (b"\x7fELF", "a Linux program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS program"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)
#: Kinds that are text after all, so a .txt or .md holding them is read as text.
_TEXT_KINDS = frozenset({"an RTF document", "a web page (HTML)"})


class DocumentError(Exception):
    """A document could not be read. `str()` is a message fit to show the person who supplied it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")


class UnreadableDocument(DocumentError):
    """The file exists but cannot be read as what it claims to be; `kind` names the cause for code and tests.

    Kinds: "empty", "encrypted", "truncated", "damaged", "no_pages", "scanned", "no_text", "wrong_type".
    """

    def __init__(self, path: Path | str, kind: str, reason: str) -> None:
        self.kind = kind
        super().__init__(path, reason)


# --- reading -----------------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """Return the text of a .txt, .md, .pdf or .docx file, or raise `DocumentError`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(path, _unsupported_reason(suffix))
    if not path.is_file():
        raise DocumentError(path, "file not found — check the path and try again")
    if path.stat().st_size == 0:
        raise UnreadableDocument(path, "empty", "the file is empty (0 bytes) — nothing to read; upload it again")
    _check_signature(path, suffix)
    if suffix in TEXT_SUFFIXES:
        text = _read_plain(path)
    elif suffix == ".pdf":
        text = _read_pdf(path)
    else:
        text = _read_docx(path)
    if not text.strip():
        raise UnreadableDocument(path, "no_text", "the file contains no text — check it is the right document")
    return text


def sniff(head: bytes) -> str | None:
    """What the first bytes of a file say it is ("a Windows program (.exe or .dll)"), or None if unknown."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    start = head.lstrip()[:15].lower()
    if start.startswith(b"{\\rtf"):
        return "an RTF document"
    if start.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    return None


def _check_signature(path: Path, suffix: str) -> None:
    """Refuse a file whose first bytes contradict its extension, saying what it really is."""
    with path.open("rb") as handle:
        head = handle.read(_HEADER_WINDOW)
    kind = sniff(head)
    if suffix == ".pdf":
        if b"%PDF-" in head:
            return
        if kind is not None:
            raise _wrong_type(path, kind, "a PDF")
        raise UnreadableDocument(
            path, "wrong_type", "the PDF is damaged or not a PDF (it does not start with %PDF) — re-export it"
        )
    if suffix == ".docx":
        if kind == "a ZIP archive or Office file":
            return
        if kind is not None:
            raise _wrong_type(path, kind, "a Word document")
        raise UnreadableDocument(
            path, "wrong_type", "not a readable Word document (damaged, or not .docx) — re-save it as .docx"
        )
    # Text may happen to start like a signature ("MZ …"); real binaries also hold NUL bytes near the start.
    if kind == "a PDF":
        raise _wrong_type(path, kind, "text")
    if kind is not None and kind not in _TEXT_KINDS and b"\x00" in head:
        raise UnreadableDocument(
            path, "wrong_type", f"this looks like a binary file ({kind}), not text — check the file extension"
        )


def _wrong_type(path: Path, kind: str, claimed: str) -> UnreadableDocument:
    if kind == "a PDF":
        todo = "rename it to .pdf"
    elif kind == "a ZIP archive or Office file":
        todo = "if it is a Word document, rename it to .docx"
    elif kind in {"an old Office file (.doc or .xls)", "an RTF document"}:
        todo = "open it in Word and save it as .docx or PDF"
    else:
        todo = "check you picked the right file"
    name = path.suffix.lower()
    return UnreadableDocument(path, "wrong_type", f"this is {kind}, not {claimed}, despite its {name} name — {todo}")


def _unsupported_reason(suffix: str) -> str:
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    if suffix == ".doc":
        return f"old Word .doc files are not supported — save it as .docx (supported: {supported})"
    shown = f"'{suffix}'" if suffix else "(no extension)"
    return f"unsupported file type {shown} — use one of {supported}"


def _read_plain(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Notepad's "Unicode" is UTF-16 with a byte order mark: full of NUL bytes, but text.
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(path, "the UTF-16 text is damaged — save it as UTF-8") from exc
    if b"\x00" in raw:
        raise DocumentError(path, "this looks like a binary file, not text — check the file extension")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Files saved by older Windows tools (Word "Plain text", Notepad) are usually cp1252.
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise DocumentError(path, "the text is neither UTF-8 nor Windows-1252 — save it as UTF-8") from exc


def _read_pdf(path: Path) -> str:
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    reader: pypdf.PdfReader | None = None
    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument(path, "encrypted", _ENCRYPTED)
        if len(reader.pages) == 0:
            raise UnreadableDocument(path, "no_pages", "the PDF has no pages — re-export it from the original")
        pages = [_page_text(page) for page in reader.pages]
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise UnreadableDocument(path, "encrypted", _ENCRYPTED) from exc
    except DependencyError as exc:
        # AES (Word's and Acrobat's default) needs the optional `cryptography` package; without it pypdf cannot
        # even check an empty password. An unencrypted file never gets here for text extraction.
        if reader is None or reader.is_encrypted or _declares_encryption(path):
            raise UnreadableDocument(path, "encrypted", _ENCRYPTED) from exc
        raise UnreadableDocument(
            path, "damaged", "the PDF uses a feature this server cannot read — save it again as plain PDF"
        ) from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, IndexError, RecursionError) as exc:
        # pypdf signals damaged files with a mix of its own and builtin exceptions.
        if _declares_encryption(path):
            raise UnreadableDocument(path, "encrypted", _ENCRYPTED) from exc
        if not _has_eof_marker(path):
            raise UnreadableDocument(
                path, "truncated", "the PDF is damaged: it is incomplete (cut off) — download or export it again"
            ) from exc
        raise UnreadableDocument(
            path, "damaged", f"the PDF is damaged or not a PDF ({type(exc).__name__}) — re-export it"
        ) from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text.strip():
        if any(_has_images(page) for page in reader.pages):
            raise UnreadableDocument(
                path, "scanned", "the PDF has no text layer: it looks scanned; export it with text, or OCR it"
            )
        raise UnreadableDocument(path, "scanned", f"the PDF has no extractable text (scanned image?) — {_SCANNED_HINT}")
    return text


def _has_eof_marker(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - _HEADER_WINDOW))
        return b"%%EOF" in handle.read()


def _declares_encryption(path: Path) -> bool:
    """Whether the file's trailer names an /Encrypt dictionary (read as bytes, for files pypdf cannot open)."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 64 * 1024))
        return b"/Encrypt" in handle.read()


def _has_images(page: Any, depth: int = 0) -> bool:
    """Whether a page (or a form it draws, a few levels deep) paints an image: the sign of a scan."""
    try:
        objects = page["/Resources"]["/XObject"]
        for ref in objects.values():
            item = ref.get_object()
            subtype = item.get("/Subtype")
            if subtype == "/Image" or (subtype == "/Form" and depth < 3 and _has_images(item, depth + 1)):
                return True
    except (KeyError, TypeError, AttributeError, ValueError):
        return False
    return False


@dataclass
class _Line:
    y: float | None
    size: float
    text: str


def _page_text(page: object) -> str:
    """Extract a page's text, marking paragraph breaks with a blank line.

    pypdf's plain extraction separates every visual line with one newline, which loses paragraph
    boundaries; the report parser needs them to tell where a finding ends. The vertical gap between
    baselines tells us: a gap clearly larger than the font's line spacing starts a new paragraph.
    """
    lines: list[_Line] = []
    current: list[str] = []
    start: list[float | None] = [None]
    size: list[float] = [0.0]

    def visit(text: str, cm: list[float], tm: list[float], _font: object, font_size: float) -> None:
        if not text:
            return
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(cm[3]) or 1.0
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if start[0] is None and piece.strip():
                start[0], size[0] = y, font_size * scale
            current.append(piece)
            if index < len(pieces) - 1:
                lines.append(_Line(start[0], size[0], "".join(current)))
                current.clear()
                start[0], size[0] = None, 0.0

    plain: str = page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    if current:
        lines.append(_Line(start[0], size[0], "".join(current)))
    rebuilt = _join_lines(lines)
    # Trust the rebuilt text only if it holds exactly the same characters as pypdf's own output.
    if _squash(rebuilt) != _squash(plain):
        return plain
    return rebuilt


def _join_lines(lines: list[_Line]) -> str:
    sizes = [line.size for line in lines if line.size > 0]
    typical = statistics.median(sizes) if sizes else 0.0
    out: list[str] = []
    previous: _Line | None = None
    for line in lines:
        if not line.text.strip():
            continue
        if previous is not None and _starts_paragraph(previous, line, typical):
            out.append("")
        out.append(line.text.rstrip())
        previous = line
    return "\n".join(out)


def _starts_paragraph(previous: _Line, line: _Line, typical: float) -> bool:
    if previous.y is None or line.y is None:
        return False
    gap = previous.y - line.y
    sizes = [s for s in (line.size, previous.size) if s > 0]
    # The smaller font decides: a heading's large size must not hide the gap after it.
    size = min(sizes) if sizes else typical or 10.0
    # Single-spaced body text advances about 1.2 x the font size; paragraph spacing adds more.
    # A negative gap means a new column or text box, which also starts a new block.
    return gap > 1.45 * size or gap < -0.5 * size


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _read_docx(path: Path) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
        return _docx_text(document)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, EOFError, OSError, zlib.error) as exc:
        raise _unreadable_docx(path, exc) from exc
    except SyntaxError as exc:  # lxml's XMLSyntaxError: a damaged part inside the package
        raise _unreadable_docx(path, exc) from exc


def _unreadable_docx(path: Path, exc: Exception) -> UnreadableDocument:
    # It starts like a ZIP (checked already): no readable ZIP directory, or a member cut short, means truncated.
    truncated = isinstance(exc, EOFError | zlib.error) or not zipfile.is_zipfile(path)
    return UnreadableDocument(
        path,
        "truncated" if truncated else "damaged",
        "not a readable Word document (damaged, or not .docx) — re-save it as .docx",
    )


def _docx_text(document: Any) -> str:
    from docx.table import Table

    blocks: list[str] = []
    number = 0
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.append(_table_text(item))
            continue
        style = (item.style.name if item.style is not None else "") or ""
        # Word keeps list numbers and bullets in the numbering part, not the text: put them back so
        # "should:" followed by its bullet points still reads as one list.
        number = number + 1 if style.startswith("List Number") else 0
        if number:
            blocks.append(f"{number}. {item.text}")
        elif style.startswith("List") or (item._p.pPr is not None and item._p.pPr.numPr is not None):
            blocks.append(f"• {item.text}")
        else:
            blocks.append(item.text)
    return "\n\n".join(block for block in blocks if block.strip(" •.0123456789"))


def _table_text(table: object) -> str:
    """Render a Word table one row per line, cells joined by a tab, as the seeds' header tables are."""
    rows: list[str] = []
    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans; keep it once.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        rows.append("\t".join(cells))
    return "\n".join(rows)


# --- finding files -----------------------------------------------------------------------------------


def is_sidecar(path: Path) -> bool:
    return path.name.lower().endswith(SIDECAR_SUFFIX)


def iter_document_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders (recursively) into their supported documents, sorted, sidecars skipped.

    Files named explicitly are kept whatever their extension, so `read_text` can say why one is
    unsupported instead of it vanishing silently. A path that does not exist raises `DocumentError`.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if _is_document(p, root=path)))
        elif path.is_file():
            if not is_sidecar(path):
                found.append(path)
        else:
            raise DocumentError(path, "no such file or folder — check the path")
    return list(dict.fromkeys(found))


def _is_document(path: Path, root: Path) -> bool:
    relative = path.relative_to(root).parts
    # Skip hidden files and folders, and Word's "~$name.docx" lock files.
    if any(part.startswith((".", "~$")) for part in relative):
        return False
    return path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not is_sidecar(path)


# --- normalising -------------------------------------------------------------------------------------

# Characters that must not reach the database or a Slack card: NUL (PostgreSQL refuses it), the other C0 and
# C1 controls (ESC starts terminal escapes), bidi overrides and isolates (they reorder what a reviewer reads,
# "Trojan Source"), the direction marks (U+200E/U+200F, U+061C) and lone surrogates (not encodable as UTF-8).
# Newline and tab are kept. The one definition: the Slack sanitiser and the store both use it.
_UNSAFE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")


def safe_text(text: str) -> str:
    """Untrusted text made safe to store and show: line breaks become "\\n", unsafe characters go.

    Removes NUL and every other C0/C1 control character except newline and tab, the bidi override and
    isolate characters (U+202A–U+202E, U+2066–U+2069), the direction marks and lone surrogates; carriage
    returns, vertical tabs, form feeds and Unicode line separators become newlines. Nothing else changes
    (pure, idempotent).
    """
    return _UNSAFE.sub("", _LINE_BREAKS.sub("\n", text))


_CHECKBOX = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_CHECKED_MARKS = re.compile(r"[✓✔☑☒■▣]")
_UNCHECKED_MARKS = re.compile(r"[□☐▢◻]")
# Bullet glyphs that PDF extraction returns as private-use or control characters (Word's Symbol-font
# bullets come out as U+F0B7; ReportLab's as DEL).
_ODD_BULLETS = re.compile(r"^([ \t]*)[\uf0b7\uf0a7\uf076\uf0d8\uf0fc\uf06c\uf0a8\x7f\u2219](?=[ \t]|$)", re.MULTILINE)
_SUPERSCRIPT = re.compile(r"</?(?:sup|sub)\s*>", re.IGNORECASE)
_INLINE_TAGS = re.compile(r"</?(?:b|i|u|em|strong|span|font|p|div)\b[^>]*>|<br\s*/?>", re.IGNORECASE)
# "7 th November", "8 <sup>th</sup> December" (after the tags go) -> "7th November"
_SPACED_ORDINAL = re.compile(r"\b(\d{1,2})\s+(st|nd|rd|th)\b(?=\s+[A-Z])")


def clean_text(text: str) -> str:
    """Normalise conversion artefacts for parsing; returns a new string, the stored text is untouched.

    - HTML check boxes and tick glyphs become `[x]` / `[ ]`;
    - superscript tags are dropped and detached ordinals re-joined ("7 th November" -> "7th November");
    - bullet glyphs that PDFs extract as private-use characters become "•";
    - harmless inline HTML tags and entities are removed, non-breaking spaces become spaces;
    - line endings become "\\n" and trailing spaces go. Markdown (`**`, `#`) is kept: parsers use it.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ODD_BULLETS.sub(r"\1•", text)
    text = _CHECKBOX.sub(_checkbox_mark, text)
    text = _CHECKED_MARKS.sub(CHECKED, text)
    text = _UNCHECKED_MARKS.sub(UNCHECKED, text)
    text = _SUPERSCRIPT.sub("", text)
    text = _INLINE_TAGS.sub("", text)
    text = html.unescape(text)
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    text = _SPACED_ORDINAL.sub(r"\1\2", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _checkbox_mark(match: re.Match[str]) -> str:
    tag = match.group(0).lower()
    if "checkbox" not in tag:
        return ""
    return CHECKED if "checked" in tag else UNCHECKED
