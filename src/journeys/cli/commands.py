"""The commands that read events but are not analyses: validate, init and report.

Like the analysis commands they take every reading option (built from
:class:`journeys.ReadOptions`), so a file that needs ``--delimiter ';'`` or
``--time-format`` is read the same way by every command. They are built on first use:
the root's help lists them from
:data:`journeys.cli.app.READING_COMMANDS` without importing this module.
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from journeys.cli.analyses import reading_from, reading_parameters
from journeys.data.options import ReadOptions
from journeys.errors import OptionsError

if TYPE_CHECKING:
    from journeys.spec.models import Condition


def validate(
    spec: Annotated[Path, typer.Argument(help="The journey spec (YAML).")],
    events: Annotated[str | None, typer.Option("--events", help="Check these events too.")] = None,
    *,
    reading: ReadOptions,
) -> None:
    """Check a spec (and, with --events or its data section, the events against it)."""
    from journeys.spec.loader import check_spec

    journey, warnings = check_spec(spec)
    # Plain output here: checking a spec alone must not load pandas (the tables' printer).
    counts = ", ".join(
        _count(len(items), noun)
        for items, noun in (
            (journey.stages, "stage"),
            (journey.touchpoints, "touchpoint"),
            (journey.personas, "persona"),
            (journey.milestones, "milestone"),
        )
    )
    typer.echo(f"{spec}: valid ({counts})")
    for warning in warnings:
        typer.secho(f"warning: {warning}", err=True, fg="yellow")
    if events is None and journey.data is None:
        return
    from journeys.analyses import runner
    from journeys.cli.output import err, out, say
    from journeys.cli.running import read
    from journeys.data.mapping import UNASSIGNED

    log = read(events, spec, reading)
    run = runner.current()
    present = set(run.arrow(log.table.select("event").distinct()).column("event").to_pylist())
    problems = [
        f"touchpoint '{touchpoint.id}' matches no event (it looks for "
        f"{', '.join(touchpoint.events)}){_near(touchpoint.events, present)}"
        for touchpoint in journey.touchpoints
        if not set(touchpoint.events) & present
    ]
    problems += [
        f"milestone '{milestone.id}' names no event of the data: "
        f"{', '.join(milestone.events)}{_near(milestone.events, present)}"
        for milestone in journey.milestones
        if milestone.events and not milestone.touchpoints and not set(milestone.events) & present
    ]
    if journey.personas:
        table = log.table
        found = run.frame(
            table.group_by("persona").aggregate(customers=table.customer_id.nunique())
        )
        sizes = dict(zip(found["persona"], found["customers"], strict=True))
        problems += [
            f"persona '{persona.id}' matches no customer: check the values in its conditions "
            f"({_conditions(persona.where)})"
            for persona in journey.personas
            if not sizes.get(persona.id)
        ]
        if sizes.get(UNASSIGNED):
            out.print(f"personas: {sizes[UNASSIGNED]:,} customers match none ({UNASSIGNED})")
    for problem in problems:
        say(err, problem, "yellow", "warning:")
    out.print(f"events: {log.report.rows_used:,} used, {log.unmapped_events:,} match no touchpoint")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _near(names: list[str], present: set[str]) -> str:
    """A suggestion for a misspelt event name, or nothing."""
    for name in names:
        close = difflib.get_close_matches(name, sorted(present), n=1)
        if close:
            return f"; did you mean '{close[0]}'?"
    return ""


def _conditions(conditions: list[Condition]) -> str:
    shown = []
    for condition in conditions:
        if condition.equals is not None:
            shown.append(f"{condition.column} = {condition.equals!r}")
        elif condition.in_ is not None:
            shown.append(f"{condition.column} in {condition.in_!r}")
        else:
            shown.append(f"{condition.column} matches {condition.regex!r}")
    return "; ".join(shown)


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
