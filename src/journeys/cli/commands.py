"""The commands that read events but are not analyses: validate, init and report.

Like the analysis commands they take every reading option (built from
:class:`journeys.ReadOptions`), so a file that needs ``--delimiter ';'`` or
``--time-format`` is read the same way by every command. They are built on first use:
the root's help lists them from
:data:`journeys.cli.app.READING_COMMANDS` without importing this module.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from journeys.cli.analyses import reading_from, reading_parameters
from journeys.data.options import ReadOptions
from journeys.errors import OptionsError


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
    typer.echo(
        f"{spec}: valid ({len(journey.stages)} stages, {len(journey.touchpoints)} touchpoints, "
        f"{len(journey.personas)} personas, {len(journey.milestones)} milestones)"
    )
    for warning in warnings:
        typer.secho(f"warning: {warning}", err=True, fg="yellow")
    if events is None and journey.data is None:
        return
    from journeys.analyses import runner
    from journeys.cli.output import err, out
    from journeys.cli.running import read

    log = read(events, spec, reading)
    names = runner.current().arrow(log.table.select("event").distinct())
    present = set(names.column("event").to_pylist())
    for touchpoint in journey.touchpoints:
        if not set(touchpoint.events) & present:
            err.print(
                f"[yellow]warning:[/] touchpoint '{touchpoint.id}' matches no event "
                f"(it looks for {', '.join(touchpoint.events)})",
                markup=True,
                highlight=False,
            )
    out.print(f"events: {log.report.rows_used:,} used, {log.unmapped_events:,} match no touchpoint")


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
    from journeys.cli.output import out
    from journeys.cli.running import read
    from journeys.spec.starter import starter_spec

    if output.exists() and not force:
        raise OptionsError(f"{output} exists", hint="pass --force to overwrite it, or --out")
    log = read(events, None, reading)
    output.write_text(starter_spec(log, events), encoding="utf-8")
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
    from journeys.cli.output import out, section_progress
    from journeys.cli.running import read
    from journeys.report import write_report

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
