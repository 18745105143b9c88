"""The commands that read events but are not analyses: validate, init and report.

Like the analysis commands they take every reading option (built from
:class:`journeys.ReadOptions`), so a file that needs ``--delimiter ';'`` or
``--time-format`` is read the same way by every command. They are built on first use:
the root's help lists them from
:data:`journeys.cli.app.READING_COMMANDS` without importing this module.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from journeys.cli.analyses import reading_from, reading_parameters
from journeys.data.options import ReadOptions
from journeys.errors import JourneysError, OptionsError, SpecProblem

if TYPE_CHECKING:
    from journeys.spec.loader import CheckedSpec


def validate(
    spec: Annotated[Path, typer.Argument(help="The journey spec (YAML).")],
    events: Annotated[str | None, typer.Option("--events", help="Check these events too.")] = None,
    *,
    reading: ReadOptions,
) -> None:
    """Check a spec (and, with --events or its data section, the events against it).

    Every problem is printed on stderr, errors first, each at its file, line and column;
    the last line, on stdout, is the one verdict: valid, valid with warnings, or not
    valid (exit code 2).
    """
    from journeys.errors import SpecError
    from journeys.spec.loader import read_spec

    try:
        checked = read_spec(spec)
    except SpecError as error:
        _verdict(spec, [_located(p, "error") for p in error.problems], [], error.hint)
        return
    warnings = [_located(problem, "warning") for problem in checked.warnings]
    counts = ", ".join(
        _count(len(items), noun)
        for items, noun in (
            (checked.spec.stages, "stage"),
            (checked.spec.touchpoints, "touchpoint"),
            (checked.spec.personas, "persona"),
            (checked.spec.milestones, "milestone"),
        )
    )
    if events is None and checked.spec.data is None:
        _verdict(spec, [], warnings, counts=counts)
        return
    from journeys.cli.output import progress

    try:
        with progress("checking the events against the spec"):
            errors, found, notes = _check_events(events, checked, reading)
    except JourneysError as error:
        _verdict(spec, [f"error: {error.message}"], warnings, error.hint)
        return
    _verdict(spec, errors, [*warnings, *found], counts=counts, notes=notes)


def _check_events(
    events: str | None, checked: CheckedSpec, reading: ReadOptions
) -> tuple[list[str], list[str], list[str]]:
    """The errors and warnings of the spec against its events, and what was read."""
    from journeys.cli.output import err, say
    from journeys.data.mapping import UNASSIGNED
    from journeys.report.display import counted
    from journeys.spec.data_base import read_for_checks
    from journeys.spec.data_checks import data_problems
    from journeys.spec.persona_checks import unassigned_customers

    read = read_for_checks(events, checked.spec, reading)
    for line in read.log.report.lines():
        say(err, line, "dim")
    problems = data_problems(read)
    errors = [_located(checked.locate(p), "error") for p in problems if p.severity == "error"]
    warnings = [_located(checked.locate(p), "warning") for p in problems if p.severity == "warning"]
    used = f"events: {read.log.report.rows_used:,} used"
    if read.mapped:
        unmapped = read.log.unmapped_events
        verb = "matches" if unmapped == 1 else "match"
        notes = [f"{used}, {counted(unmapped, 'event')} {verb} no touchpoint"]
    else:
        notes = [f"{used} (not mapped: a condition names a column the data lacks)"]
    unassigned = unassigned_customers(read)
    if unassigned:
        verb = "matches" if unassigned == 1 else "match"
        notes.append(f"personas: {counted(unassigned, 'customer')} {verb} none ({UNASSIGNED})")
    return errors, warnings, notes


def _located(problem: SpecProblem, severity: str) -> str:
    """A problem as ``FILE:LINE:COLUMN: warning: message (field) [code]``."""
    where = problem.path
    if problem.line is not None:
        where += f":{problem.line}"
        if problem.column is not None:
            where += f":{problem.column}"
    field = f" ({problem.field})" if problem.field else ""
    code = f" [{problem.code}]" if problem.code else ""
    return f"{where}: {severity}: {problem.message}{field}{code}"


def _verdict(
    spec: Path,
    errors: list[str],
    warnings: list[str],
    hint: str | None = None,
    *,
    counts: str = "",
    notes: Sequence[str] = (),
) -> None:
    """Print the problems (stderr), then what was read and the one verdict (stdout).

    Exits with code 2 when there are errors.
    """
    for line in errors:
        typer.secho(line, err=True, fg="red")
    if hint:
        typer.secho(f"hint: {hint}", err=True, fg="yellow")
    for line in warnings:
        typer.secho(line, err=True, fg="yellow")
    for note in notes:
        typer.echo(note)
    also = f", {_count(len(warnings), 'warning')}" if warnings else ""
    if errors:
        typer.echo(f"{spec}: not valid: {_count(len(errors), 'error')}{also}")
        raise typer.Exit(2)
    with_warnings = f" with {_count(len(warnings), 'warning')}" if warnings else ""
    typer.echo(f"{spec}: valid{with_warnings} ({counts})")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def init(
    events: Annotated[str, typer.Argument(help="Events to describe.")],
    output: Annotated[Path, typer.Option("--out", help="Where to write the spec.")] = Path(
        "journey.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    *,
    reading: ReadOptions,
) -> None:
    """Write a starter spec from the data: columns found, events listed, stages to fill in."""
    from journeys.cli.output import out, write_text
    from journeys.cli.running import read
    from journeys.spec.starter import starter_spec

    if output.exists() and not force:
        raise OptionsError(f"{output} exists", hint="pass --force to overwrite it, or --out")
    log = read(events, None, reading)
    # The spec reads a relative path from its own folder: write the events' path from there.
    named = events
    if "://" not in events and not Path(events).is_absolute():
        named = os.path.relpath(Path(events).resolve(), output.resolve().parent)
    write_text(output, starter_spec(log, named))
    out.print(
        f"wrote {output}: fill in the stages and touchpoints, then `journeys validate {output}`"
    )


def report(
    spec: Annotated[Path, typer.Argument(help="The journey spec (YAML).")],
    events: Annotated[
        str | None, typer.Option("--events", help="Events (default: the spec's data.events).")
    ] = None,
    output: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    *,
    reading: ReadOptions,
) -> None:
    """Write the self-contained HTML report: journey map, KPIs, funnel, paths, retention, value."""
    from journeys.cli.output import out, section_progress, writable
    from journeys.cli.running import read
    from journeys.report import write_report

    writable(output)
    log = read(events, spec, reading)
    write_report(log, output, progress=section_progress)
    out.print(f"report written to {output.resolve()}")


COMMANDS: dict[str, Callable[..., None]] = {"validate": validate, "init": init, "report": report}


def build(name: str) -> Any:
    """The click command ``name``: its own options, then every reading option."""
    function = COMMANDS[name]
    own = [
        parameter
        for parameter in inspect.signature(function, eval_str=True).parameters.values()
        if parameter.name != "reading"
    ]

    def command(**values: Any) -> None:
        reading = reading_from(values)
        function(**{parameter.name: values[parameter.name] for parameter in own}, reading=reading)

    command.__signature__ = inspect.Signature([*own, *reading_parameters()])  # type: ignore[attr-defined]
    command.__doc__ = function.__doc__
    app = typer.Typer(rich_markup_mode=None, add_completion=False)
    app.command(name)(command)
    return typer.main.get_command(app)
