"""The journeys command line: a thin layer that parses, calls the library and prints.

The analysis commands come from the registry and are built only when one is run, so
that ``journeys --help`` and ``journeys validate`` start without the engine. A user's
mistake (a bad spec, a missing column, an unknown step) is printed as a short message
with its location and what to do, and the command exits with code 2; no traceback is
shown for it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from journeys.analyses.registry import ENTRIES
from journeys.errors import JourneysError, OptionsError

MULTI_VALUE_OPTIONS = ("--steps",)


class AnalysesGroup(TyperGroup):
    """The root command: the commands defined here, and one per registered analysis."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [entry.command for entry in ENTRIES] + [
            name for name in super().list_commands(ctx) if name not in _analysis_commands()
        ]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in _analysis_commands():
            return command
        if getattr(ctx, "resilient_parsing", False) or _listing(ctx):
            return _summary_command(cmd_name)
        command = analysis_command(cmd_name)
        self.add_command(command, cmd_name)
        return command


def _analysis_commands() -> dict[str, str]:
    return {entry.command: entry.name for entry in ENTRIES}


def _listing(ctx: Any) -> bool:
    """Whether the root's help is being written (then the commands need only their summary)."""
    return bool(getattr(ctx, "meta", {}).get("journeys.listing"))


def _summary_command(name: str) -> Any:
    from typer.core import TyperCommand

    entry = next(entry for entry in ENTRIES if entry.command == name)
    return TyperCommand(name=name, help=entry.summary, short_help=entry.summary)


def analysis_command(name: str) -> Any:
    """The full command of an analysis (its module imported)."""
    from journeys.analyses.registry import entry, load
    from journeys.cli.analyses import build_command

    chosen = entry(name)
    return typer.main.get_command(build_command(chosen, load(chosen.name)))


class Root(AnalysesGroup):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta["journeys.listing"] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta["journeys.listing"] = False


app = typer.Typer(
    name="journeys",
    cls=Root,
    help="Map a customer journey as code, measure it on your events, decide what to change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: formatting it with rich would double the start-up time.
    rich_markup_mode=None,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for a user's mistake)."""
    args = expand_multi_value_options(list(sys.argv[1:] if argv is None else argv))
    try:
        # Typer handles usage mistakes itself (message, exit code 2); ours arrive here.
        app(args=args, prog_name="journeys", standalone_mode=True)
    except JourneysError as error:
        from journeys.cli.output import err

        err.print(f"[bold red]error:[/] {error.message}", markup=True, highlight=False)
        if error.hint:
            err.print(f"[yellow]hint:[/] {error.hint}", markup=True, highlight=False)
        return 2
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else int(done.code is not None)
    return 0


def expand_multi_value_options(args: list[str]) -> list[str]:
    """Let ``--steps a b c`` mean ``--steps a --steps b --steps c`` (until the next option)."""
    expanded: list[str] = []
    current: str | None = None
    for arg in args:
        if arg.startswith("-") and len(arg) > 1:
            current = arg if arg in MULTI_VALUE_OPTIONS else None
            expanded.append(arg)
            continue
        if current is not None and expanded[-1] != current:
            expanded.append(current)
        expanded.append(arg)
    return expanded


@app.command()
def schema(
    result: Annotated[
        str | None,
        typer.Option(
            "--result", help="Print the JSON Schema of an analysis' result (funnel, clv, ...)."
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of the journey spec, or of an analysis' JSON output."""
    import json

    if result is None:
        from journeys.spec.loader import spec_json_schema

        print(spec_json_schema())
        return
    from journeys.analyses.registry import entry, load

    try:
        chosen = entry(result)
    except KeyError:
        known = ", ".join(item.command for item in ENTRIES)
        raise OptionsError(
            f"--result '{result}' is not an analysis", hint=f"choose one of {known}"
        ) from None
    print(json.dumps(load(chosen.name).result.model_json_schema(), indent=2))


@app.command()
def validate(
    spec: Annotated[Path, typer.Argument(help="The journey spec (YAML).")],
    events: Annotated[str | None, typer.Option("--events", help="Check these events too.")] = None,
) -> None:
    """Check a spec (and, with --events or its data section, the events against it)."""
    from journeys.spec.loader import load_spec

    journey = load_spec(spec)
    print(
        f"{spec}: valid ({len(journey.stages)} stages, {len(journey.touchpoints)} touchpoints, "
        f"{len(journey.personas)} personas, {len(journey.milestones)} milestones)"
    )
    if events is None and journey.data is None:
        return
    from journeys.analyses import runner
    from journeys.cli.output import err, out
    from journeys.cli.running import read
    from journeys.data.options import ReadOptions

    log = read(events, spec, ReadOptions())
    names = runner.current().arrow(log.table.select("event").distinct())
    present = set(names.column("event").to_pylist())
    for touchpoint in journey.touchpoints:
        if not set(touchpoint.events) & present:
            err.print(
                f"[yellow]warning:[/] touchpoint '{touchpoint.id}' matches no event", markup=True
            )
    out.print(f"events: {log.report.rows_used:,} used, {log.unmapped_events:,} match no touchpoint")


@app.command()
def init(
    events: Annotated[str, typer.Argument(help="Events to describe.")],
    output: Annotated[Path, typer.Option("--out", help="Where to write the spec.")] = Path(
        "journey.yaml"
    ),
    customer_col: Annotated[
        str | None, typer.Option("--customer-col", help="The customer id column.")
    ] = None,
    time_col: Annotated[
        str | None, typer.Option("--time-col", help="The timestamp column.")
    ] = None,
    event_col: Annotated[
        str | None, typer.Option("--event-col", help="The event name column.")
    ] = None,
    value_col: Annotated[
        str | None, typer.Option("--value-col", help="Revenue or amount of the event.")
    ] = None,
    time_format: Annotated[
        str | None, typer.Option("--time-format", help="How timestamps are written (%Y%m%d).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter spec from the data: columns found, events listed, stages to fill in."""
    from journeys.cli.output import out
    from journeys.cli.running import read
    from journeys.data.options import ReadOptions
    from journeys.spec.starter import starter_spec

    if output.exists() and not force:
        raise OptionsError(f"{output} exists", hint="pass --force to overwrite it, or --out")
    columns = {
        "customer_id": customer_col,
        "timestamp": time_col,
        "event": event_col,
        "value": value_col,
    }
    reading = ReadOptions(
        columns={role: name for role, name in columns.items() if name},
        **({"time_format": time_format} if time_format else {}),
    )
    log = read(events, None, reading)
    output.write_text(starter_spec(log, events), encoding="utf-8")
    out.print(
        f"wrote {output}: fill in the stages and touchpoints, then `journeys validate {output}`"
    )


@app.command("report")
def report_command(
    spec: Annotated[Path, typer.Argument(help="The journey spec (YAML).")],
    events: Annotated[
        str | None, typer.Option("--events", help="Events (default: the spec's data.events).")
    ] = None,
    output: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Set aside (and count) unusable rows.")
    ] = False,
    engine: Annotated[
        str | None, typer.Option("--engine", help="duckdb (default) or spark.")
    ] = None,
) -> None:
    """Write the self-contained HTML report: journey map, KPIs, funnel, paths, retention, value."""
    from journeys.cli.output import out, section_progress
    from journeys.cli.running import read
    from journeys.data.reader import reading_options
    from journeys.report import write_report

    values: dict[str, Any] = {"skip_invalid": True} if skip_invalid else {}
    if engine is not None:
        values["engine"] = engine
    log = read(events, spec, reading_options(None, values))
    write_report(log, output, progress=section_progress)
    out.print(f"report written to {output.resolve()}")


@app.command("demo")
def demo_command(
    folder: Annotated[Path, typer.Option("--out", help="Folder for the demo's files.")] = Path(
        "demo"
    ),
    customers: Annotated[int, typer.Option("--customers", help="How many customers.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
) -> None:
    """Generate the demo business (Brightdesk), measure its journey and write the report."""
    from journeys.cli.output import out, progress, section_progress
    from journeys.cli.running import read
    from journeys.data.options import ReadOptions
    from journeys.demo import write_demo
    from journeys.report import write_report

    if customers < 100:
        raise OptionsError("the demo needs at least 100 customers", code="options")
    with progress("generating the demo business"):
        files = write_demo(folder, customers=customers, seed=seed)
    out.print(
        f"demo business: {files.rows:,} events of {files.customers:,} customers in {files.events}"
    )
    out.print(f"journey spec: {files.spec}")
    log = read(None, files.spec, ReadOptions())
    report = folder / "report.html"
    write_report(log, report, progress=section_progress)
    out.print(f"report written to {report.resolve()}")
