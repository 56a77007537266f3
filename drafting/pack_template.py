"""Build the bundled Word template for the response pack: `python -m drafting.pack_template [path]`.

The committed `drafting/templates/response.docx` is this script's output (a test checks they match), so change
the layout here and re-run it. An office replaces the template with its own letterhead and styles; the values
it may use, filled by `drafting.pack_render.export_docx` through docxtpl:

- `office`, `title`, `letter_heading`, `watermark` (empty unless a working copy), `monitoring`, `pcc_name`,
  `pcc_role` ("PCC for Northumbria");
- `header_rows`: a list of `{label, value}` for a `{%tr for row in header_rows %}` loop, or each value by its
  label's name: `inspection_title`, `type_of_inspection`, `date_inspection_published`,
  `deadline_for_pcc_response_56_days`, `recommendations`;
- `opening`, `chief_constable`: lists of paragraphs;
- `findings`: a list of `{labels, answers}`; each label is run XML for `{{r label }}` ("**Recommendation 2**
  (its text)"), each answer a paragraph. A cause of concern and its recommendation share one entry.

The protective marking (the highest of the answers') needs no placeholder: the export puts it on the first line
of every page's header and the last of its footer, whatever the template.
"""

from __future__ import annotations

import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docx.document import Document as DocumentObject
    from docx.text.paragraph import Paragraph

TEMPLATE = Path(__file__).with_name("templates") / "response.docx"
# Fixed, so that building twice gives the same file (zip entries otherwise carry the build time).
BUILT = datetime(2024, 1, 1, tzinfo=UTC)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FONT = "Arial"


def build_template(path: Path = TEMPLATE) -> Path:
    """Write the default response template to `path`, byte for byte the same on every run."""
    from docx import Document

    document = Document()
    _styles(document)
    _letterhead(document)
    _footer(document)
    _body(document)
    _properties(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    _normalise_zip(path)
    return path


def _styles(document: DocumentObject) -> None:
    from docx.shared import Pt, RGBColor

    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(11)
    normal.paragraph_format.space_after = Pt(8)
    for name, size in (("Title", 14), ("Heading 1", 12)):
        style = document.styles[name]
        style.font.name, style.font.size, style.font.bold = FONT, Pt(size), True
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_after = Pt(12)


def _letterhead(document: DocumentObject) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = document.sections[0].header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph.add_run("{{ office }}").bold = True


def _footer(document: DocumentObject) -> None:
    """'Page X of Y' as real PAGE and NUMPAGES fields, which Word and LibreOffice update on opening."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = document.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("Page ")
    _field(paragraph, "PAGE")
    paragraph.add_run(" of ")
    _field(paragraph, "NUMPAGES")


def _field(paragraph: Paragraph, instruction: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {instruction} \\* MERGEFORMAT ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"  # shown until the field is updated
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _body(document: DocumentObject) -> None:
    from docx.shared import RGBColor

    document.add_paragraph("{%p if watermark %}")
    warning = document.add_paragraph().add_run("{{ watermark }}")
    warning.bold, warning.font.color.rgb = True, RGBColor(0xC0, 0, 0)
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{{ title }}", style="Title")
    _header_table(document)
    document.add_paragraph("{{ letter_heading }}", style="Heading 1")
    for name in ("opening", "chief_constable"):
        _loop(document, f"for paragraph in {name}", "{{ paragraph }}")
    document.add_paragraph("{%p for finding in findings %}")
    _loop(document, "for label in finding.labels", "{{r label }}")
    _loop(document, "for answer in finding.answers", "{{ answer }}")
    document.add_paragraph("{%p endfor %}")
    for line in ("{{ monitoring }}", "Yours sincerely,", "{{ pcc_name }}", "{{ pcc_role }}"):
        document.add_paragraph(line)


def _header_table(document: DocumentObject) -> None:
    table = document.add_table(rows=3, cols=2)
    table.style = "Table Grid"
    table.cell(0, 0).text = "{%tr for row in header_rows %}"
    table.cell(1, 0).paragraphs[0].add_run("{{ row.label }}").bold = True
    table.cell(1, 1).text = "{{ row.value }}"
    table.cell(2, 0).text = "{%tr endfor %}"
    document.add_paragraph()  # keeps the table apart from the heading below it


def _loop(document: DocumentObject, header: str, line: str) -> None:
    document.add_paragraph(f"{{%p {header} %}}")
    document.add_paragraph(line)
    document.add_paragraph("{%p endfor %}")


def _properties(document: DocumentObject) -> None:
    """The template's own metadata; export_docx sets the pack's at render time."""
    props = document.core_properties
    props.title = "PCC response to an HMICFRS inspection"
    props.subject = "Response under section 55 of the Police Act 1996"
    props.author = props.last_modified_by = "Office of the Police and Crime Commissioner"
    props.comments = ""
    props.keywords = "HMICFRS; Police Act 1996 s.55"
    props.language = "en-GB"
    props.created = props.modified = BUILT
    props.revision = 1


def _normalise_zip(path: Path) -> None:
    """Rewrite the package with fixed entry times and the same order, so rebuilding changes nothing."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)


if __name__ == "__main__":
    print(build_template(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE))
