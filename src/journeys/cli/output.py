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

from journeys.analyses.base import Result
from journeys.formatting import duration_text

OutputFormat = Literal["table", "json", "csv"]
SHARE_WORDS = ("conversion", "share", "rate", "retention", "p_alive", "margin_of_safety")
MAX_ROWS = 25

# Wide enough for every table when the output goes to a file or a pipe.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)


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
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    err.print(f"[dim]wrote {output} to {path}[/]", markup=True)


def print_views(result: Result) -> None:
    """The result as a person reads it: its numbers, then each of its tables."""
    scalars = {key: value for key, value in result.scalars().items() if value is not None}
    if scalars:
        numbers = pd.DataFrame(
            [{"measure": key, "value": _cell(key, value)} for key, value in scalars.items()]
        )
        out.print(rich_table(numbers))
    for title, frame in result.views():
        out.print(f"[bold]{title}[/]", markup=True)
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
        title = column.replace("_seconds", "").replace("_", " ")
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
