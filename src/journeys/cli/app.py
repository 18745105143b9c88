"""The journeys command line: a thin layer that parses, calls the library and prints.

A user's mistake (a bad spec, a missing column, an unknown step) is printed as a short
message with its location and what to do, and the command exits with code 2; no
traceback is shown for it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import pandas as pd
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from journeys.analyses.base import Result
from journeys.analyses.funnel import Exclusion, FunnelParams, FunnelResult, funnel
from journeys.analyses.kpis import KpiParams, kpis
from journeys.analyses.paths import PathsParams, TransitionsParams, paths, transitions
from journeys.analyses.retention import RetentionParams, retention
from journeys.analyses.step_matrix import StepMatrixParams, step_matrix
from journeys.analyses.timing import TimingParams, timing
from journeys.data.reader import EventLog
from journeys.errors import JourneysError, OptionsError
from journeys.formatting import duration_text
from journeys.loading import LoadOptions, load
from journeys.spec.loader import load_spec, spec_json_schema

app = typer.Typer(
    name="journeys",
    help="Map a customer journey as code, measure it on your events, decide what to change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide enough for every table when the output goes to a file or a pipe.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)
SHARE_WORDS = ("conversion", "share", "rate", "retention")
OutputFormat = Literal["table", "json", "csv"]
ModelT = TypeVar("ModelT", bound=BaseModel)
MULTI_VALUE_OPTIONS = ("--steps",)

EventsArg = Annotated[
    str | None,
    typer.Argument(
        help="Events: a CSV, Parquet, JSON or DuckDB file, or a database URL. "
        "Default: the spec's data.events.",
        show_default=False,
    ),
]
SpecOpt = Annotated[
    Path | None, typer.Option("--spec", help="A journey spec (YAML): names touchpoints and stages.")
]
FormatOpt = Annotated[str, typer.Option("--format", help="table, json or csv.")]
CustomerCol = Annotated[str | None, typer.Option("--customer-col", help="Customer id column.")]
TimeCol = Annotated[str | None, typer.Option("--time-col", help="Timestamp column.")]
EventCol = Annotated[str | None, typer.Option("--event-col", help="Event name column.")]
ValueCol = Annotated[str | None, typer.Option("--value-col", help="Value (revenue) column.")]
TableOpt = Annotated[str | None, typer.Option("--table", help="Table, for a database source.")]
TimezoneOpt = Annotated[
    str | None, typer.Option("--timezone", help="Time zone of timestamps without an offset.")
]
DedupeOpt = Annotated[bool, typer.Option("--dedupe", help="Remove exact duplicate rows.")]
SkipOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Set aside (and count) rows that cannot be used."),
]
EngineOpt = Annotated[str | None, typer.Option("--engine", help="duckdb (default) or spark.")]
TimeFormatOpt = Annotated[
    str | None,
    typer.Option("--time-format", help="How timestamps are written, such as %Y%m%d."),
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for a user's mistake)."""
    args = expand_multi_value_options(list(sys.argv[1:] if argv is None else argv))
    try:
        # Typer handles usage mistakes itself (message, exit code 2); ours arrive here.
        app(args=args, prog_name="journeys", standalone_mode=True)
    except JourneysError as error:
        err.print(f"[bold red]error:[/] {error.message}", markup=True)
        if error.hint:
            err.print(f"[yellow]hint:[/] {error.hint}", markup=True)
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


def params(schema: type[ModelT], /, **values: Any) -> ModelT:
    """Validate options into an analysis' parameters; mistakes become clear errors."""
    try:
        return schema.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in error.errors(include_url=False)
        )
        raise OptionsError(f"invalid options: {problems}", code="options") from None


def choice(value: str | None, allowed: Sequence[str], option: str) -> Any:
    if value is not None and value not in allowed:
        raise OptionsError(
            f"{option} must be one of {', '.join(allowed)}, not '{value}'", code="options"
        )
    return value


@contextmanager
def progress(description: str) -> Iterator[None]:
    """A spinner with elapsed time on stderr while long work runs."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        bar.add_task(description, total=None)
        yield


def read(
    events: str | None,
    spec: Path | None,
    *,
    customer_col: str | None = None,
    time_col: str | None = None,
    event_col: str | None = None,
    value_col: str | None = None,
    table: str | None = None,
    timezone: str | None = None,
    dedupe: bool = False,
    skip_invalid: bool = False,
    engine: str | None = None,
    time_format: str | None = None,
    every_row_is: str | None = None,
) -> EventLog:
    """Read events (and the spec) with a progress spinner, and report what was read."""
    options = LoadOptions(
        time_format=time_format,
        every_row_is=every_row_is,
        customer_col=customer_col,
        time_col=time_col,
        event_col=event_col,
        value_col=value_col,
        table=table,
        timezone=timezone,
        dedupe=dedupe,
        on_invalid="skip" if skip_invalid else "error",
        engine=choice(engine, ("duckdb", "spark"), "--engine"),
    )
    with progress("reading events"):
        log = load(events, spec, options)
    for line in log.report.lines():
        err.print(f"[dim]{line}[/]", markup=True)
    if log.spec is not None and log.unmapped_events:
        err.print(
            f"[dim]{log.unmapped_events:,} events match no touchpoint of the spec[/]", markup=True
        )
    return log


def emit(result: Result, output: str, *, table: pd.DataFrame | None = None) -> None:
    """Print a result as a table, JSON or CSV."""
    choice(output, ("table", "json", "csv"), "--format")
    frame = result.to_pandas() if table is None else table
    if output == "json":
        out.print(result.to_json(), markup=False)
    elif output == "csv":
        out.print(frame.to_csv(index=False), end="", markup=False)
    else:
        out.print(rich_table(frame))


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
    if isinstance(value, float) and (column.endswith("_seconds") or "_seconds_" in column):
        return duration_text(float(value))
    if isinstance(value, float) and any(word in column for word in SHARE_WORDS):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the journey spec."""
    out.print(spec_json_schema(), markup=False)


@app.command()
def validate(
    spec: Annotated[Path, typer.Argument(help="The journey spec (YAML).")],
    events: Annotated[str | None, typer.Option("--events", help="Check these events too.")] = None,
    engine: EngineOpt = None,
) -> None:
    """Check a spec (and, with --events or its data section, the events against it)."""
    journey = load_spec(spec)
    out.print(
        f"{spec}: valid ({len(journey.stages)} stages, {len(journey.touchpoints)} touchpoints, "
        f"{len(journey.personas)} personas, {len(journey.milestones)} milestones)"
    )
    if events is None and journey.data is None:
        return
    log = read(events, spec, engine=engine)
    names = set(log.table.select("event").distinct().to_pyarrow().column("event").to_pylist())
    silent = [t.id for t in journey.touchpoints if not set(t.events) & names]
    for touchpoint in silent:
        err.print(f"[yellow]warning:[/] touchpoint '{touchpoint}' matches no event", markup=True)
    out.print(f"events: {log.report.rows_used:,} used, {log.unmapped_events:,} match no touchpoint")


@app.command()
def init(
    events: Annotated[str, typer.Argument(help="Events to describe.")],
    output: Annotated[Path, typer.Option("--out", help="Where to write the spec.")] = Path(
        "journey.yaml"
    ),
    customer_col: CustomerCol = None,
    time_col: TimeCol = None,
    event_col: EventCol = None,
    value_col: ValueCol = None,
    table: TableOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter spec from the data: columns found, events listed, stages to fill in."""
    from journeys.spec.starter import starter_spec

    if output.exists() and not force:
        raise OptionsError(f"{output} exists", hint="pass --force to overwrite it, or --out")
    log = read(
        events,
        None,
        customer_col=customer_col,
        time_col=time_col,
        event_col=event_col,
        value_col=value_col,
        table=table,
    )
    output.write_text(starter_spec(log, events), encoding="utf-8")
    out.print(
        f"wrote {output}: fill in the stages and touchpoints, then `journeys validate {output}`"
    )


@app.command("funnel")
def funnel_command(
    events: EventsArg = None,
    steps: Annotated[
        list[str] | None,
        typer.Option(
            "--steps",
            help="Steps in order: event, touchpoint or stage names; 'a|b' for alternatives; "
            "a trailing '?' makes a step optional.",
        ),
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="Conversion window: 30d, 12h, 90m.")
    ] = None,
    max_interval: Annotated[
        str | None, typer.Option("--max-interval", help="Longest time between two steps.")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="ordered, strict or any.")] = "ordered",
    by: Annotated[
        str | None, typer.Option("--by", help="Break down by a column or 'persona'.")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="EVENT or EVENT:FROM-TO (step numbers) to exclude."),
    ] = None,
    customers_out: Annotated[
        Path | None, typer.Option("--customers-out", help="Write each customer's last step (CSV).")
    ] = None,
    output: FormatOpt = "table",
    spec: SpecOpt = None,
    customer_col: CustomerCol = None,
    time_col: TimeCol = None,
    event_col: EventCol = None,
    table: TableOpt = None,
    timezone: TimezoneOpt = None,
    dedupe: DedupeOpt = False,
    skip_invalid: SkipOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Customers through a sequence of steps: conversion, drop-off, time between steps."""
    if not steps or len(steps) < 2:
        raise OptionsError("a funnel needs at least two steps", hint="--steps visit signup buy")
    exclusions = [_exclusion(text) for text in exclude or []]
    options = {"window": window, "mode": mode, "by": by, "exclusions": exclusions}
    query = params(FunnelParams, steps=steps, **options)
    if max_interval is not None:
        limited = [
            query.steps[0].model_dump(),
            *({**step.model_dump(), "max_interval": max_interval} for step in query.steps[1:]),
        ]
        query = params(FunnelParams, steps=limited, **options)
    log = read(
        events,
        spec,
        customer_col=customer_col,
        time_col=time_col,
        event_col=event_col,
        table=table,
        timezone=timezone,
        dedupe=dedupe,
        skip_invalid=skip_invalid,
        engine=engine,
    )
    with progress("building the funnel"):
        result: FunnelResult = funnel(log, query)
    if customers_out is not None:
        result.customers.to_pandas().to_csv(customers_out, index=False)
        err.print(f"[dim]wrote each customer's last step to {customers_out}[/]", markup=True)
    emit(result, output)


def _exclusion(text: str) -> Exclusion:
    event, _, span = text.partition(":")
    if not span:
        return params(Exclusion, event=event)
    first, _, last = span.partition("-")
    if not (first.isdigit() and last.isdigit()):
        raise OptionsError(
            f"--exclude '{text}': write EVENT or EVENT:FROM-TO with step numbers, like refund:2-3"
        )
    return params(Exclusion, event=event, from_step=int(first), to_step=int(last))


@app.command("steps")
def steps_command(
    events: EventsArg = None,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Positions to show.")] = 10,
    level: Annotated[str, typer.Option("--level", help="event, touchpoint or stage.")] = "event",
    collapse: Annotated[
        bool, typer.Option("--collapse-repeats", help="Merge immediate repeats.")
    ] = False,
    output: FormatOpt = "table",
    spec: SpecOpt = None,
    customer_col: CustomerCol = None,
    time_col: TimeCol = None,
    event_col: EventCol = None,
    table: TableOpt = None,
    skip_invalid: SkipOpt = False,
    engine: EngineOpt = None,
) -> None:
    """The step matrix: share of customers whose k-th event is each event (and ENDED)."""
    query = params(StepMatrixParams, max_steps=max_steps, level=level, collapse_repeats=collapse)
    log = read(
        events,
        spec,
        customer_col=customer_col,
        time_col=time_col,
        event_col=event_col,
        table=table,
        skip_invalid=skip_invalid,
        engine=engine,
    )
    with progress("counting steps"):
        result = step_matrix(log, query)
    emit(result, output)


@app.command("retention")
def retention_command(
    events: EventsArg = None,
    period: Annotated[str, typer.Option("--period", help="day, week or month.")] = "month",
    cohort_event: Annotated[
        str | None, typer.Option("--cohort-event", help="Cohorts by first time of this step.")
    ] = None,
    return_event: Annotated[
        str | None, typer.Option("--return-event", help="What counts as coming back.")
    ] = None,
    purchase_event: Annotated[
        str | None, typer.Option("--purchase-event", help="What a purchase is (without a spec).")
    ] = None,
    unbounded: Annotated[
        bool, typer.Option("--unbounded", help="Show unbounded retention in the table.")
    ] = False,
    output: FormatOpt = "table",
    spec: SpecOpt = None,
    customer_col: CustomerCol = None,
    time_col: TimeCol = None,
    event_col: EventCol = None,
    value_col: ValueCol = None,
    table: TableOpt = None,
    skip_invalid: SkipOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Cohort retention by day, week or month; repeat purchase; new versus existing revenue."""
    query = params(
        RetentionParams,
        period=period,
        cohort_event=cohort_event,
        return_event=return_event,
        purchase_event=purchase_event,
    )
    log = read(
        events,
        spec,
        customer_col=customer_col,
        time_col=time_col,
        event_col=event_col,
        value_col=value_col,
        table=table,
        skip_invalid=skip_invalid,
        engine=engine,
    )
    with progress("building cohorts"):
        result = retention(log, query)
    matrix = result.matrix(unbounded=unbounded).reset_index()
    matrix.columns = [str(column) for column in matrix.columns]
    emit(result, output, table=matrix if output == "table" else result.cohorts)
    if output == "table" and result.repeat_purchase_rate is not None:
        out.print(f"repeat-purchase rate: {result.repeat_purchase_rate:.1%}")


@app.command("paths")
def paths_command(
    events: EventsArg = None,
    start: Annotated[str | None, typer.Option("--from", help="Paths after this step.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Paths leading to this step.")] = None,
    depth: Annotated[int, typer.Option("--depth", help="Steps after or before.")] = 5,
    top: Annotated[int, typer.Option("--top", help="Paths shown; the rest are 'other'.")] = 10,
    show_transitions: Annotated[
        bool, typer.Option("--transitions", help="Show transition counts instead of paths.")
    ] = False,
    level: Annotated[str, typer.Option("--level", help="event, touchpoint or stage.")] = "event",
    collapse: Annotated[
        bool, typer.Option("--collapse-repeats", help="Merge immediate repeats.")
    ] = False,
    output: FormatOpt = "table",
    spec: SpecOpt = None,
    customer_col: CustomerCol = None,
    time_col: TimeCol = None,
    event_col: EventCol = None,
    table: TableOpt = None,
    skip_invalid: SkipOpt = False,
    engine: EngineOpt = None,
) -> None:
    """The most common paths from or to a step, or the transitions between events."""
    if show_transitions:
        query: BaseModel = params(TransitionsParams, level=level, collapse_repeats=collapse)
    else:
        query = params(
            PathsParams,
            start=start,
            end=end,
            depth=depth,
            top=top,
            level=level,
            collapse_repeats=collapse,
        )
    log = read(
        events,
        spec,
        customer_col=customer_col,
        time_col=time_col,
        event_col=event_col,
        table=table,
        skip_invalid=skip_invalid,
        engine=engine,
    )
    with progress("following paths"):
        if isinstance(query, TransitionsParams):
            emit(transitions(log, query), output)
        else:
            assert isinstance(query, PathsParams)
            emit(paths(log, query), output)


@app.command("kpis")
def kpis_command(
    events: EventsArg = None,
    purchase_event: Annotated[
        str | None, typer.Option("--purchase-event", help="What a purchase is (without a spec).")
    ] = None,
    output: FormatOpt = "table",
    spec: SpecOpt = None,
    customer_col: CustomerCol = None,
    time_col: TimeCol = None,
    event_col: EventCol = None,
    value_col: ValueCol = None,
    table: TableOpt = None,
    skip_invalid: SkipOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Headline numbers: customers, events, stage conversion, purchases, revenue."""
    query = params(KpiParams, purchase_event=purchase_event)
    log = read(
        events,
        spec,
        customer_col=customer_col,
        time_col=time_col,
        event_col=event_col,
        value_col=value_col,
        table=table,
        skip_invalid=skip_invalid,
        engine=engine,
    )
    with progress("measuring"):
        result = kpis(log, query)
    emit(result, output)
    if output == "table" and not result.stages.empty:
        out.print(rich_table(result.stages))


@app.command("timing")
def timing_command(
    events: EventsArg = None,
    pair: Annotated[
        list[str] | None, typer.Option("--pair", help="FROM:TO steps to time (repeatable).")
    ] = None,
    output: FormatOpt = "table",
    spec: SpecOpt = None,
    customer_col: CustomerCol = None,
    time_col: TimeCol = None,
    event_col: EventCol = None,
    table: TableOpt = None,
    skip_invalid: SkipOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Time from the first entry of one stage (or step) to the first entry of the next."""
    pairs = None
    if pair:
        pairs = []
        for text in pair:
            first, sep, second = text.partition(":")
            if not sep or not first or not second:
                raise OptionsError(f"--pair '{text}': write FROM:TO, like trial_start:purchase")
            pairs.append((first, second))
    query = params(TimingParams, pairs=pairs)
    log = read(
        events,
        spec,
        customer_col=customer_col,
        time_col=time_col,
        event_col=event_col,
        table=table,
        skip_invalid=skip_invalid,
        engine=engine,
    )
    with progress("timing"):
        result = timing(log, query)
    emit(result, output)


@app.command("report")
def report_command(
    spec: Annotated[Path, typer.Argument(help="The journey spec (YAML).")],
    events: Annotated[
        str | None, typer.Option("--events", help="Events (default: the spec's data.events).")
    ] = None,
    output: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    skip_invalid: SkipOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Write the self-contained HTML report: journey map, KPIs, funnel, paths, retention, timing."""
    from journeys.report import write_report

    log = read(events, spec, skip_invalid=skip_invalid, engine=engine)
    write_report(log, output, progress=_section_progress)
    out.print(f"report written to {output.resolve()}")


def _section_progress(sections: Sequence[str]) -> Iterator[str]:
    """Yield each report section's name while a progress bar counts them."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("report", total=len(sections))
        for name in sections:
            bar.update(task, description=f"report: {name}")
            yield name
            bar.advance(task)


@app.command("demo")
def demo_command(
    folder: Annotated[Path, typer.Option("--out", help="Folder for the demo's files.")] = Path(
        "demo"
    ),
    customers: Annotated[int, typer.Option("--customers", help="How many customers.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
) -> None:
    """Generate the demo business (Brightdesk), measure its journey and write the report."""
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
    log = read(None, files.spec)
    report = folder / "report.html"
    write_report(log, report, progress=_section_progress)
    out.print(f"report written to {report.resolve()}")
