"""Printing results: a readable table, strict JSON, or CSV of the main table."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from journeys.analyses.base import Result
from journeys.report.display import counted, shown_cells, shown_headers

OutputFormat = Literal["table", "json", "csv"]
MAX_ROWS = 25
#: A number as the tables show it: 1,234, -0.5, 12.5%, < 0.001, 3.2 h.
NUMBER = re.compile(r"(< )?[+-]?[\d,]*\.?\d+(%| s| min| h| d)?")
#: A text column wraps at spaces, no narrower than this (or its longest word).
TEXT_WIDTH = 24

# Wide enough for every table when the output goes to a file or a pipe.
FILE_WIDTH = 200
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else FILE_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def say(console: Console, text: str, style: str = "", label: str = "") -> None:
    """Print text that may hold a user's words (paths, step names) exactly as written.

    The text is never read as rich markup: ``cart[/b]`` or ``[unknown-stage]`` stay as
    they are. ``label`` (``error:``, ``warning:``) is styled apart.
    """
    line = Text()
    if label:
        line.append(label, style=f"bold {style}".strip())
        line.append(" ")
    line.append(text, style="dim" if not label and style == "dim" else "")
    console.print(line, highlight=False)


def writable(path: Path) -> Path:
    """``path``, with its folder made when missing; a clear error when it cannot be written."""
    from journeys.errors import OptionsError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _cannot_write(path, error) from None
    if path.is_dir():
        raise OptionsError(f"{path} is a folder", hint="give --out a file name", code="output")
    return path


def write_text(path: Path, text: str) -> None:
    """Write a file the user asked for; a clear error instead of a traceback when it fails."""
    try:
        writable(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise _cannot_write(path, error) from None


def _cannot_write(path: Path, error: OSError) -> Exception:
    from journeys.errors import OptionsError

    return OptionsError(
        f"cannot write {path}: {error.strerror or error}",
        hint="choose a --out in a folder you can write to",
        code="output",
    )


def emit(result: Result, output: OutputFormat, path: Path | None = None) -> None:
    """Print (or write to ``path``) a result as a table, JSON or CSV."""
    if output == "json":
        text = result.to_json()
    elif output == "csv":
        text = result.to_pandas().to_csv(index=False)
    else:
        if path is None:
            print_views(result)
            return
        page = Console(file=io.StringIO(), highlight=False, width=FILE_WIDTH, color_system=None)
        print_views(result, page)
        text = page.file.getvalue()  # type: ignore[attr-defined]
    if path is None:
        out.print(text, markup=False, end="" if text.endswith("\n") else "\n")
        return
    write_text(path, text if text.endswith("\n") else text + "\n")
    say(err, f"wrote {output} to {path}", "dim")


def print_views(result: Result, console: Console | None = None) -> None:
    """The result as a person reads it: its numbers, each of its tables, then what else it holds.

    These are :meth:`Result.parts`: together they show every part of the JSON output.
    """
    console = console or out
    for title, frame in result.parts():
        if frame.empty:
            console.print(Text(title, style="bold"))
            console.print("(none)")
            continue
        for part, table in enumerate(rich_tables(frame.head(MAX_ROWS), console.width), start=1):
            console.print(Text(title if part == 1 else f"{title} (continued)", style="bold"))
            console.print(table)
        hidden = len(frame) - MAX_ROWS
        if hidden > 0:
            console.print(
                f"... {counted(hidden, 'more row')}; --format csv or json writes them all",
                markup=False,
            )


def rich_tables(frame: pd.DataFrame, width: int | None = None) -> list[Table]:
    """A DataFrame as rich tables that fit ``width`` (the console's): headers in words,
    shares as percentages, durations readable, numbers aligned and never split.

    A table too wide for the screen is cut into several, each repeating the first
    text columns (what the rows are), rather than squeezing numbers onto two lines.
    """
    cells = shown_cells(frame)
    headers = shown_headers(frame)
    columns = [
        _Column(
            headers[index],
            [row[index] for row in cells],
            pd.api.types.is_numeric_dtype(frame[name]) or _numbers(row[index] for row in cells),
        )
        for index, name in enumerate(frame.columns)
    ]
    room = (width or out.width) - 1
    tables = []
    for group in _groups(columns, _keys(columns, room), room):
        view = Table(show_lines=False, header_style="bold")
        for column, size in zip(group, _widths(group, room), strict=True):
            view.add_column(
                Text(column.header, no_wrap=False, overflow="fold"),
                justify="right" if column.numeric else "left",
                no_wrap=column.numeric,
                overflow="fold",
                width=size,
            )
        for index in range(len(frame)):
            view.add_row(*(column.cells[index] for column in group))
        tables.append(view)
    return tables


@dataclass(frozen=True)
class _Column:
    header: str
    cells: list[str]
    numeric: bool

    @property
    def natural(self) -> int:
        """The width that shows the header and every cell on one line."""
        return max([len(self.header), *(len(cell) for cell in self.cells)])

    @property
    def least(self) -> int:
        """The narrowest width: numbers whole, header words whole, text wrapped at spaces."""
        header = max([0, *(len(word) for word in self.header.split())])
        longest = max([0, *(len(cell) for cell in self.cells)])
        if self.numeric:
            return max(header, longest)
        words = max([0, *(len(word) for cell in self.cells for word in cell.split())])
        return max(header, words, min(longest, TEXT_WIDTH))


def _numbers(cells: Iterable[str]) -> bool:
    """Whether every cell of a column reads as a number, a share or a duration."""
    return all(not cell or NUMBER.fullmatch(cell) for cell in cells)


def _space(columns: Sequence[_Column]) -> int:
    """Borders and padding of a rich table of ``columns``: three characters each, and one."""
    return 3 * len(columns) + 1


def _fits(columns: Sequence[_Column], room: int) -> bool:
    return _space(columns) + sum(column.least for column in columns) <= room


def _keys(columns: list[_Column], room: int) -> list[_Column]:
    """The leading text columns that say what each row is (repeated in every part)."""
    keys: list[_Column] = []
    for column in columns[:2]:
        if column.numeric or not _fits([*keys, column], room // 2):
            break
        keys.append(column)
    return keys


def _groups(columns: list[_Column], keys: list[_Column], room: int) -> list[list[_Column]]:
    """The columns cut into parts that each fit ``room``, the key columns first in each."""
    if _fits(columns, room):
        return [columns]
    groups: list[list[_Column]] = []
    current = list(keys)
    for column in columns[len(keys) :]:
        candidate = [*current, column]
        if len(current) > len(keys) and not _fits(candidate, room):
            groups.append(current)
            candidate = [*keys, column]
        current = candidate
    groups.append(current)
    return groups


def _widths(columns: list[_Column], room: int) -> list[int]:
    """Each column's width: its natural width when all fit, else its least width plus
    a share of what is left, given first to the columns that need least to fit."""
    free = room - _space(columns)
    if sum(column.natural for column in columns) <= free:
        return [column.natural for column in columns]
    widths = [column.least for column in columns]
    left = free - sum(widths)
    for index in sorted(range(len(columns)), key=lambda i: columns[i].natural - widths[i]):
        grow = max(0, min(left, columns[index].natural - widths[index]))
        widths[index] += grow
        left -= grow
    return widths


@contextmanager
def progress(description: str) -> Iterator[None]:
    """A spinner with elapsed time on stderr while long work runs."""
    with _bar() as bar:
        bar.add_task(description, total=None)
        yield


def section_progress(sections: Sequence[str]) -> Iterator[str]:
    """Yield each report section's name while a progress bar counts them."""
    with _bar() as bar:
        task = bar.add_task("report", total=len(sections))
        for name in sections:
            bar.update(task, description=f"report: {name}")
            yield name
            bar.advance(task)


def _bar() -> Progress:
    """A transient progress display on stderr, shown only on a terminal."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
