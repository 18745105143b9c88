"""Commands about money: customer lifetime value and the break-even of support."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from journeys.analyses.breakeven import (
    BreakevenInputs,
    BreakevenParams,
    BreakevenResult,
    breakeven,
    breakeven_sheet,
    never_breaks_even_message,
)
from journeys.analyses.clv import ClvParams, ClvResult, clv
from journeys.cli.app import (
    CustomerCol,
    EngineOpt,
    EventCol,
    EventsArg,
    FormatOpt,
    SkipOpt,
    SpecOpt,
    TableOpt,
    TimeCol,
    TimeFormatOpt,
    app,
    choice,
    emit,
    err,
    out,
    params,
    progress,
    read,
    rich_table,
)
from journeys.errors import OptionsError

TOP_CUSTOMERS = 15


@app.command("clv")
def clv_command(
    events: EventsArg = None,
    value_col: Annotated[
        str | None, typer.Option("--value-col", help="The purchase amount column.")
    ] = None,
    calibration_end: Annotated[
        str | None,
        typer.Option(
            "--calibration-end",
            help="Last day the models learn from (YYYY-MM-DD); later purchases test them.",
        ),
    ] = None,
    time_unit: Annotated[str, typer.Option("--time-unit", help="day, week or month.")] = "week",
    horizon: Annotated[
        float | None, typer.Option("--horizon", help="Time units ahead to value (default 1 year).")
    ] = None,
    margin: Annotated[
        float, typer.Option("--margin", help="Share of revenue that is profit.")
    ] = 1.0,
    discount_rate: Annotated[
        float, typer.Option("--discount-rate", help="Yearly discount rate, such as 0.1.")
    ] = 0.0,
    model: Annotated[str, typer.Option("--model", help="bgnbd or pareto_nbd.")] = "bgnbd",
    purchase_event: Annotated[
        str | None,
        typer.Option("--purchase-event", help="What a purchase is, for a log with other events."),
    ] = None,
    bayes: Annotated[
        bool,
        typer.Option(
            "--bayes", help="Also fit with PyMC-Marketing for credible intervals (journeys[bayes])."
        ),
    ] = False,
    output: FormatOpt = "table",
    spec: SpecOpt = None,
    customer_col: CustomerCol = None,
    time_col: TimeCol = None,
    time_format: TimeFormatOpt = None,
    event_col: EventCol = None,
    table: TableOpt = None,
    skip_invalid: SkipOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma, per customer, with a holdout.

    EVENTS may be a transaction log without an event column: every row is then a purchase.
    """
    query = params(
        ClvParams,
        calibration_end=_date(calibration_end, "--calibration-end"),
        time_unit=choice(time_unit, ("day", "week", "month"), "--time-unit"),
        horizon=horizon,
        margin=margin,
        discount_rate=discount_rate,
        model=choice(model, ("bgnbd", "pareto_nbd"), "--model"),
        purchase_event=purchase_event,
        bayes=bayes,
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
        time_format=time_format,
        every_row_is="purchase",
    )
    with progress("fitting purchase and spend models"):
        result = clv(log, query)
    if output == "table":
        _print_clv(result)
    else:
        emit(result, output)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OptionsError(
            f"{option} must be a date written YYYY-MM-DD, not '{text}'", code="options"
        ) from None


def _print_clv(result: ClvResult) -> None:
    values = result.values
    out.print(
        f"{values['customers_fitted']:,} customers ({values['repeat_customers']:,} with repeat "
        f"purchases), calibration up to {values['calibration_end']}, time unit: "
        f"{values['time_unit']}"
    )
    if values["customers_after_calibration"]:
        out.print(
            f"{values['customers_after_calibration']:,} customers first bought after the "
            "calibration end and are not part of the fit"
        )
    rows = []
    for name, fitted in (
        ("BG/NBD", result.bgnbd),
        ("Pareto/NBD", result.pareto_nbd),
        ("Gamma-Gamma", result.gamma_gamma),
    ):
        if fitted is None:
            continue
        for parameter, value in fitted.params.items():
            rows.append(
                {
                    "model": name,
                    "parameter": parameter,
                    "estimate": value,
                    "standard_error": fitted.standard_errors[parameter],
                    "log_likelihood": fitted.log_likelihood_,
                }
            )
    out.print(rich_table(pd.DataFrame(rows)))
    if result.gamma_gamma is None:
        out.print("no purchase values: spend and CLV are not computed (give --value-col)")
    for name, table in (result.bayes or {}).items():
        out.print(f"{name}: posterior (PyMC-Marketing; 94% credible interval)")
        out.print(rich_table(table.reset_index()))
    if result.holdout is not None:
        out.print(f"holdout check over {values['holdout_length']:.1f} {values['time_unit']}s:")
        out.print(rich_table(result.holdout))
    out.print(f"most valuable customers over {values['horizon']:.0f} {values['time_unit']}s:")
    out.print(rich_table(result.customers.head(TOP_CUSTOMERS)))


@app.command("breakeven")
def breakeven_command(
    events: EventsArg = None,
    spec: SpecOpt = None,
    fixed_costs: Annotated[
        float | None, typer.Option("--fixed-costs", help="Fixed support costs per period.")
    ] = None,
    variable_cost: Annotated[
        float | None,
        typer.Option("--variable-cost", help="Variable cost per supported customer per period."),
    ] = None,
    value_per_customer: Annotated[
        float | None,
        typer.Option("--value-per-customer", help="What a supported customer brings per period."),
    ] = None,
    actual_customers: Annotated[
        float | None,
        typer.Option("--actual-customers", help="Supported customers per period today."),
    ] = None,
    output: FormatOpt = "table",
    skip_invalid: SkipOpt = False,
    engine: EngineOpt = None,
) -> None:
    """Break-even of post-purchase support: from a spec and events, or from a sheet of inputs."""
    choice(output, ("table", "json", "csv"), "--format")
    result = (
        _sheet(fixed_costs, variable_cost, value_per_customer, actual_customers)
        if spec is None and events is None
        else _measured(
            events,
            spec,
            BreakevenParams(
                fixed_costs=fixed_costs,
                variable_cost=variable_cost,
                value_per_customer=value_per_customer,
                actual_customers=actual_customers,
            ),
            skip_invalid,
            engine,
        )
    )
    if not result.numbers.breaks_even:
        err.print(f"[bold yellow]{never_breaks_even_message(result.numbers)}[/]", markup=True)
    if output != "table":
        emit(result, output)
        return
    out.print(rich_table(_readable(result)))
    for title, frame in (
        ("by channel", result.channels),
        ("scenarios", result.scenarios),
        ("sensitivity of the break-even point (inputs -/+20%)", result.sensitivity),
    ):
        if not frame.empty:
            out.print(title + ":")
            out.print(rich_table(frame))
    if result.uplift is not None:
        out.print(
            f"supported against comparable customers over {result.uplift.outcome_periods} "
            f"{result.period}s (observational):"
        )
        out.print(rich_table(result.uplift.table))
    for change in result.changes:
        before, after = change.before, change.after
        out.print(
            f"{change.name} ({change.date}): {before[0]} to {before[1]} against "
            f"{after[0]} to {after[1]}"
        )
        out.print(rich_table(change.table))


SHARES = ("contribution_margin_ratio", "margin_of_safety")
COUNTS = ("break_even_customers", "actual_customers", "margin_of_safety_customers")


def _readable(result: BreakevenResult) -> pd.DataFrame:
    """The break-even numbers as a person reads them: shares in %, money with two decimals."""
    rows = []
    for measure, value in result.numbers.as_dict().items():
        if value is None:
            text = "never" if measure.startswith("break_even") else ""
        elif measure in SHARES:
            text = f"{value:.1%}"
        elif measure in COUNTS:
            text = f"{value:,.0f}"
        else:
            text = f"{value:,.2f}"
        rows.append({"measure": measure.replace("_", " "), "value": text})
    if not result.volumes.empty:
        rows.append({"measure": "per", "value": result.period})
    return pd.DataFrame(rows)


def _sheet(
    fixed_costs: float | None,
    variable_cost: float | None,
    value_per_customer: float | None,
    actual_customers: float | None,
) -> BreakevenResult:
    given = {
        "--fixed-costs": fixed_costs,
        "--variable-cost": variable_cost,
        "--value-per-customer": value_per_customer,
    }
    missing = [option for option, value in given.items() if value is None]
    if missing:
        raise OptionsError(
            f"without a spec, break-even needs {', '.join(given)}; missing: {', '.join(missing)}",
            hint="give them all, or --spec SPEC with a `support` section (and its events)",
            code="options",
        )
    inputs = params(
        BreakevenInputs,
        fixed_costs={"total": fixed_costs},
        variable_cost_per_customer=variable_cost,
        value_per_customer=value_per_customer,
        actual_customers=actual_customers,
    )
    return breakeven_sheet(inputs)


def _measured(
    events: str | None,
    spec: Path | None,
    overrides: BreakevenParams,
    skip_invalid: bool,
    engine: str | None,
) -> BreakevenResult:
    if spec is None:
        raise OptionsError(
            "measuring support's break-even on events needs the journey spec",
            hint="add --spec SPEC (with a `support` section)",
            code="options",
        )
    log = read(events, spec, skip_invalid=skip_invalid, engine=engine)
    with progress("measuring support"):
        return breakeven(log, overrides)
