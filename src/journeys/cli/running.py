"""Running an analysis command: read the events, run the analysis, print the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from journeys.analyses.registry import Analysis, Entry
from journeys.analyses.runner import Runner
from journeys.cli.analyses import params_from, reading_from
from journeys.cli.output import emit, err, progress, say, write_text
from journeys.data.options import ReadOptions
from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.report.display import counted


def run_analysis(entry: Entry, analysis: Analysis, values: dict[str, Any]) -> None:
    """Everything an analysis command does, from the options it was given."""
    params = params_from(analysis, values)
    reading = reading_from(values)
    events, spec = values.get("events"), values.get("spec")
    show_sql = _print_sql if values.get("show_sql") else None
    with Runner(show_sql=show_sql):
        if analysis.without_events is not None and events is None and spec is None:
            result = analysis.without_events(params)
        else:
            if analysis.needs_spec and spec is None:
                raise OptionsError(
                    f"`journeys {entry.command}` needs a journey spec",
                    hint="pass --spec SPEC (its data section may name the events)",
                    code="needs-spec",
                )
            log = read(events, spec, reading, every_row_is=analysis.every_row_is)
            with progress(f"{entry.command}: computing"):
                result = analysis.run(log, params)
        for name in analysis.exports:
            target = values.get(f"export_{name}")
            if target is not None:
                _export(getattr(result, name)(), target)
    output, path = values.get("output_format", "table"), values.get("output_path")
    # A table on the screen shows the warnings itself; JSON, CSV and files leave them here.
    if output != "table" or path is not None:
        for note in [result.scalars().get("message"), *getattr(result, "warnings", [])]:
            if note:
                say(err, note, "yellow", "warning:")
    emit(result, output, path)


def read(
    events: str | None,
    spec: Path | None,
    reading: ReadOptions,
    *,
    every_row_is: str | None = None,
) -> EventLog:
    """Read events (and the spec) with a progress spinner, and report what was read."""
    from journeys.loading import load

    with progress("reading events"):
        log = load(events, spec, reading, every_row_is=every_row_is)
    for line in log.report.lines():
        say(err, line, "dim")
    if log.spec is not None and log.unmapped_events:
        verb = "matches" if log.unmapped_events == 1 else "match"
        say(err, f"{counted(log.unmapped_events, 'event')} {verb} no touchpoint of the spec", "dim")
    return log


def _export(table: Any, path: Path) -> None:
    frame = table.to_pandas() if hasattr(table, "to_pandas") else table
    write_text(path, frame.to_csv(index=False))
    say(err, f"wrote {counted(len(frame), 'row')} to {path}", "dim")


def _print_sql(sql: str) -> None:
    err.print(sql.rstrip() + ";", markup=False, highlight=False)
