"""Synthetic HMICFRS-style report texts (written for these tests, modelled on published wording) and
helpers that render them as PDF and DOCX, so the report parser is tested on what read_text returns.

Markup used in the sample texts: "# " marks a heading, "• " a bullet point; everything else is a
paragraph. The renderers turn that into real headings, list paragraphs and body text.
"""

from __future__ import annotations

from pathlib import Path

# A national thematic report: a summary list that repeats the body's recommendations, labelled
# recommendations with due dates, and one unnumbered area for improvement.
THEMATIC = """\
# An inspection of the police response to group-based child sexual exploitation

Published: 8 December 2023

# Summary of recommendations

Recommendation 1: By 31 December 2024, the Home Office should work with the National Police Chiefs' \
Council to make sure that the national data on group-based child sexual exploitation is accurate.

Recommendation 2: By 31 December 2024, all chief constables should make sure that their forces have \
problem profiles for child sexual exploitation. This should include relevant data from local partner agencies.

# Introduction

This inspection examined how well the police and other law enforcement bodies respond to group-based \
child sexual exploitation. We inspected six forces and spoke to victims, survivors and partner agencies.

Recommendation 1

By 31 December 2024, the Home Office should work with the National Police Chiefs' Council to make sure \
that the national data on group-based child sexual exploitation is accurate.

We found that the data held nationally was incomplete, and forces recorded offences in different ways.

Recommendation 2

By 31 December 2024, all chief constables should make sure that their forces have problem profiles for \
child sexual exploitation. This should include relevant data from local partner agencies.

Recommendation 3

By 30 June 2024, the College of Policing and the National Police Chiefs' Council should publish guidance \
on the use of victim-centred language in investigations.

Recommendation 4

With immediate effect, all chief constables should take effective steps to eradicate victim-blaming \
language in their forces.

# Area for improvement

All chief constables should work with their statutory safeguarding partners to review and promote \
disruption initiatives. This should include consideration of the advice given in the Home Office \
disruption toolkit and an Operation Makesafe (a national police initiative to raise awareness of child \
sexual exploitation in the business community) type of approach.

# Conclusion

Victims deserve a consistent response wherever they live. We will revisit these findings in 2025.
"""

# A force-specific PEEL report: causes of concern each followed by their recommendation, then
# numbered areas for improvement (one with no stated subject).
PEEL = """\
# PEEL 2023–25: An inspection of Northshire Police

Published: 12 March 2024

# Causes of concern

Cause of concern 1

The force isn't answering emergency and non-emergency calls for service quickly enough, and it doesn't \
always assess the risk to callers.

Recommendations

Within three months, the force should:

• make sure it has enough call handlers to answer calls promptly;

• make sure it assesses risk consistently when calls are received.

Cause of concern 2

Northshire Police doesn't adequately safeguard vulnerable people who are reported missing.

Recommendation

By 30 September 2024, the chief constable should make sure that every missing person report is risk \
assessed and supervised.

# Areas for improvement

Area for improvement 1

The force should improve how it records crime, so that victims receive the service they are entitled to.

Area for improvement 2

Investigations need better supervision, so that victims are kept informed of progress.

# Main findings

The force has improved how it manages its workforce, and officers told us they felt supported.
"""

# The numbered style of the 2019 national child protection thematic report.
NUMBERED = """\
National Child Protection Inspections: 2019 thematic report

Recommendations

1. We recommend that the Home Office jointly with other government departments considers the development \
of a new national early help and prevention strategy.

2. We recommend that the Ministry of Justice and Department for Education undertake a review of the \
current provision of intermediaries.

3. We recommend that chief constables take steps to reduce the unnecessary criminalisation of children.

Our approach

We inspected each force's child protection arrangements between 2015 and 2019.
"""


def _items(text: str) -> list[tuple[str, str]]:
    """(kind, text) per paragraph: kind is "heading", "bullet" or "body"."""
    items: list[tuple[str, str]] = []
    for block in text.split("\n\n"):
        block = block.strip()
        if block.startswith("# "):
            items.append(("heading", block[2:]))
        elif block.startswith("• "):
            items.append(("bullet", block[2:]))
        elif block:
            items.append(("body", block))
    return items


def write_pdf(text: str, path: Path) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    story = []
    for kind, content in _items(text):
        if kind == "heading":
            story.append(Paragraph(content, styles["Heading2"]))
        elif kind == "bullet":
            story.append(Paragraph(content, styles["BodyText"], bulletText="•"))
        else:
            story.append(Paragraph(content, styles["BodyText"]))
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def write_docx(text: str, path: Path, header_rows: list[tuple[str, str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    if header_rows:
        table = document.add_table(rows=0, cols=2)
        for label, value in header_rows:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, value
    for kind, content in _items(text):
        if kind == "heading":
            document.add_heading(content, level=2)
        elif kind == "bullet":
            document.add_paragraph(content, style="List Bullet")
        else:
            document.add_paragraph(content)
    document.save(str(path))
    return path
