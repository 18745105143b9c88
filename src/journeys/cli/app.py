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
# The order a new user meets them: try the demo, describe your data, check it, report.
FIRST_COMMANDS = ("demo", "init", "validate", "report")
# Commands that read events without being analyses; built on first use (cli/commands.py).
READING_COMMANDS = {
    "validate": "Check a spec (and, with --events or its data section, the events against it).",
    "init": "Write a starter spec from the data: columns found, events listed, stages to fill in.",
    "report": "Write the self-contained HTML report: journey map, KPIs, funnel, paths, "
    "retention, value.",
}


class AnalysesGroup(TyperGroup):
    """The root command: the commands defined here, and one per registered analysis."""

    def list_commands(self, ctx: Any) -> list[str]:
        fixed = [*super().list_commands(ctx), *READING_COMMANDS]
        first = [name for name in FIRST_COMMANDS if name in fixed]
        rest = [name for name in fixed if name not in first and name not in _analysis_commands()]
        return first + [entry.command for entry in ENTRIES] + rest

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        lazy = cmd_name in _analysis_commands() or cmd_name in READING_COMMANDS
        if command is not None or not lazy:
            return command
        if getattr(ctx, "resilient_parsing", False) or _listing(ctx):
            return _summary_command(cmd_name)
        if cmd_name in READING_COMMANDS:
            from journeys.cli.commands import build

            command = build(cmd_name)
        else:
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

    summaries = {entry.command: entry.summary for entry in ENTRIES} | READING_COMMANDS
    return TyperCommand(name=name, help=summaries[name], short_help=summaries[name])


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


def _print_version(given: bool) -> None:
    if given:
        from journeys import __version__

        print(f"journeys {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version of journeys and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """Map a customer journey as code, measure it on your events, decide what to change."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for a user's mistake)."""
    args = expand_multi_value_options(list(sys.argv[1:] if argv is None else argv))
    try:
        # Typer handles usage mistakes itself (message, exit code 2); ours arrive here.
        app(args=args, prog_name="journeys", standalone_mode=True)
    except JourneysError as error:
        from journeys.cli.output import err, say

        say(err, error.message, "red", "error:")
        if error.hint:
            say(err, error.hint, "yellow", "hint:")
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


@app.command(short_help="Print the JSON Schema of the spec, or of an analysis' result.")
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


@app.command(
    "demo", short_help="Generate the demo business, measure its journey, write the report."
)
def demo_command(
    folder: Annotated[Path, typer.Option("--out", help="Folder for the demo's files.")] = Path(
        "demo"
    ),
    customers: Annotated[int, typer.Option("--customers", help="How many customers.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
) -> None:
    """Generate the demo business (Brightdesk), measure its journey and write the report."""
    from journeys.cli.output import out, progress, section_progress, writable
    from journeys.cli.running import read
    from journeys.data.options import ReadOptions
    from journeys.demo import write_demo
    from journeys.report import write_report

    if customers < 100:
        raise OptionsError("the demo needs at least 100 customers", code="options")
    with progress("generating the demo business"):
        files = write_demo(writable(folder / "report.html").parent, customers=customers, seed=seed)
    out.print(
        f"demo business: {files.rows:,} events of {files.customers:,} customers in {files.events}"
    )
    out.print(f"journey spec: {files.spec}")
    log = read(None, files.spec, ReadOptions())
    report = folder / "report.html"
    write_report(log, report, progress=section_progress)
    out.print(f"report written to {report.resolve()}")
