"""Output that fits the terminal: a table when it is wide, stacked cards when it is narrow, no word broken.

`Records` is a rich renderable that chooses at render time, from the width it is given: a table from
`WIDE_COLUMNS` columns on, if every short value fits on one line and every long one can wrap between words;
otherwise one card per row (a heading line, then `label  value` lines), which reads at any width. Short
values (ids, dates, counts, labels) are never wrapped; long ones wrap only at spaces. Values are never cut
with "…": a path in particular is printed whole, on its own line, by `print_path`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType, RenderResult

#: Below this many columns every table is shown as cards.
WIDE_COLUMNS = 100


@dataclass(frozen=True)
class Field:
    """One column of a table, one `label  value` line of a card."""

    name: str
    #: 0: a short value, kept on one line (an id, a date, a count); n > 0: prose, wrapping at spaces and
    #: taking n shares of the spare width.
    ratio: int = 0
    #: A prose column narrower than this would be a tall ribbon of words: cards instead.
    min_width: int | None = None
    justify: JustifyMethod = "left"
    style: str = ""
    #: In a card, the field is part of the heading line rather than a `label  value` line.
    heading: bool = False


class Records:
    """Rows of values under named fields: a table if it fits without breaking a word, cards if not."""

    def __init__(
        self,
        fields: Sequence[Field],
        rows: Iterable[Sequence[str | Text]],
        *,
        title: str | None = None,
        caption: str | None = None,
        show_lines: bool = False,
        wide: int = WIDE_COLUMNS,
    ) -> None:
        self.fields = list(fields)
        self.rows = [list(row) for row in rows]
        self.title = title
        self.caption = caption
        self.show_lines = show_lines
        self.wide = wide

    def table(self) -> Table:
        table = Table(
            title=self.title,
            caption=self.caption,
            show_lines=self.show_lines,
            expand=any(f.ratio for f in self.fields),
            title_justify="left",
            caption_justify="left",
        )
        for spec in self.fields:
            table.add_column(
                spec.name,
                justify=spec.justify,
                style=spec.style or None,
                no_wrap=not spec.ratio,
                ratio=spec.ratio or None,
                min_width=spec.min_width,
                overflow="fold",  # only ever reached by a single word wider than its column
            )
        for row in self.rows:
            table.add_row(*row)
        return table

    def fits_as_table(self, console: Console, options: ConsoleOptions) -> bool:
        """Wide enough, and no value forced to break: rich's minimum width keeps short values whole and the
        longest word of each long one whole, so the table fits when that minimum does."""
        if options.max_width < self.wide:
            return False
        table = self.table()
        table.expand = False
        return Measurement.get(console, options, table).minimum <= options.max_width

    def cards(self) -> RenderableType:
        """One card a row: its heading fields on the first line (the first of several in a gutter, so the rest
        wrap under themselves), then a `label  value` line for each other field that has a value."""
        parts: list[RenderableType] = []
        if self.title:
            parts.append(Text(self.title, style="bold"))
        headings = [i for i, f in enumerate(self.fields) if f.heading]
        gutter = headings.pop(0) if len(headings) > 1 else None
        gutter_width = max((len(_plain(row[gutter])) for row in self.rows), default=0) if gutter is not None else 0
        for row in self.rows:
            if parts:
                parts.append(Text(""))
            details = Table.grid(padding=(0, 2))
            details.add_column(style="dim", no_wrap=True)
            details.add_column(overflow="fold")  # words wrap at spaces; fold reaches only one wider than a line
            for i, spec in enumerate(self.fields):
                if not spec.heading and _plain(row[i]):
                    details.add_row(spec.name, row[i])
            heading = self._heading(row, headings) if headings else None
            if gutter is not None:
                card = Table.grid(padding=(0, 2))
                card.add_column(no_wrap=True, style="bold", justify="right", min_width=gutter_width)
                card.add_column(overflow="fold")
                card.add_row(row[gutter], Group(*[r for r in (heading, details) if r is not None]))
                parts.append(card)
            elif heading is not None:
                parts += [heading, Padding(details, (0, 0, 0, 2), expand=False)]
            else:
                parts.append(details)
        if self.caption:
            parts += [Text(""), Text(self.caption, style="dim")]
        return Group(*parts)

    @staticmethod
    def _heading(row: Sequence[str | Text], fields: Sequence[int]) -> Text:
        """The heading fields that have a value, joined by " · "."""
        heading = Text(style="bold", overflow="fold")
        for n, i in enumerate(i for i in fields if _plain(row[i])):
            heading.append(" · " if n else "")
            heading.append(row[i] if isinstance(row[i], Text) else Text(str(row[i])))
        return heading

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table() if self.fits_as_table(console, options) else self.cards()


def _plain(value: str | Text) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def print_path(console: Console, label: str, path: Path | str) -> None:
    """`label` on one line, then the path whole on its own, never wrapped or cut (the terminal may wrap it
    on screen, but it copies as one line)."""
    console.print(label)
    console.print(Text(f"  {path}"), soft_wrap=True, highlight=False)
