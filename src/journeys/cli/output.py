"""Printing results: a readable table, strict JSON, or CSV of the main table."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from journeys.analyses.base import Result
from journeys.formatting import duration_text

OutputFormat = Literal["table", "json", "csv"]
SHARE_WORDS = ("conversion", "share", "rate", "retention", "p_alive", "margin_of_safety")
MAX_ROWS = 25

# Wide enough for every table when the output goes to a file or a pipe.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
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
        text = result.to_pandas().to_string(index=False)
    if path is None:
        out.print(text, markup=False, end="" if text.endswith("\n") else "\n")
        return
    write_text(path, text if text.endswith("\n") else text + "\n")
    say(err, f"wrote {output} to {path}", "dim")


def print_views(result: Result) -> None:
    """The result as a person reads it: its numbers, then each of its tables."""
    scalars = {key: value for key, value in result.scalars().items() if value is not None}
    if scalars:
        numbers = pd.DataFrame(
            [{"measure": key, "value": _cell(key, value)} for key, value in scalars.items()]
        )
        out.print(rich_table(numbers))
    for title, frame in result.views():
        out.print(Text(title, style="bold"))
        if frame.empty:
            out.print("(none)")
            continue
        out.print(rich_table(frame.head(MAX_ROWS)))
        if len(frame) > MAX_ROWS:
            out.print(
                f"... {len(frame) - MAX_ROWS:,} more rows; --format csv or json writes them all"
            )


def rich_table(frame: pd.DataFrame) -> Table:
    """A DataFrame as a rich table: shares as percentages, durations readable, numbers aligned."""
    view = Table(show_lines=False, header_style="bold")
    columns = [str(column) for column in frame.columns]
    for column in columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        title = column.replace("_seconds", "").replace("_days", "").replace("_", " ")
        view.add_column(title, justify="right" if numeric else "left", overflow="fold")
    for row in frame.itertuples(index=False):
        view.add_row(*(_cell(column, value) for column, value in zip(columns, row)))
    return view


def _cell(column: str, value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and (column.endswith("_seconds") or "_seconds_" in column):
        return duration_text(value)
    if isinstance(value, float) and (column.endswith("_days") or "_days_" in column):
        return duration_text(value * 86400)
    if isinstance(value, float) and any(word in column for word in SHARE_WORDS):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(column, item) for item in value)
    return str(value)


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
