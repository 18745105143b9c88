"""Break-even of post-purchase support: how many supported customers pay for the operation.

Cost-volume-profit analysis per support period:

- contribution margin per supported customer = value per customer - variable cost per
  customer (the per-customer cost plus, per channel, contacts per customer x cost per
  contact);
- break-even customers = fixed costs / contribution margin; break-even revenue = that
  number x value per customer; contribution margin ratio = margin / value;
- margin of safety = (actual supported customers - break-even) / actual.

Inputs come from a sheet (:class:`BreakevenInputs`) or from the spec's ``support`` section,
with volumes, contacts per customer and (when ``value_per_customer: estimate``) the value
of a supported customer measured from the events (:mod:`journeys.analyses.support_effect`).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

import pandas as pd
from pydantic import ConfigDict, Field

from journeys.analyses.base import Params, Result, Row, TableOf, columns, frame_of
from journeys.analyses.definitions import period_label
from journeys.analyses.registry import Analysis
from journeys.analyses.support_effect import (
    ChangeImpact,
    Uplift,
    change_impact,
    support_uplift,
    volumes,
)
from journeys.analyses.support_settings import Scenario, Support
from journeys.data.reader import EventLog
from journeys.errors import OptionsError

SENSITIVITY = 0.2


class BreakevenInputs(Params):
    """A sheet of inputs, per period: what break-even needs and nothing more."""

    fixed_costs: dict[str, float] = Field(description="Named fixed cost lines per period.")
    variable_cost_per_customer: float = Field(ge=0)
    value_per_customer: float = Field(description="Revenue or gross profit per customer.")
    actual_customers: float | None = Field(default=None, ge=0)


class BreakevenNumbers(Row):
    """Break-even numbers of one set of inputs, per period (null where support never
    breaks even, or where the actual customers are not known)."""

    model_config = ConfigDict(frozen=True)
    fixed_costs: float
    variable_cost_per_customer: float
    value_per_customer: float
    contribution_margin: float = Field(description="Value - variable cost, per customer.")
    contribution_margin_ratio: float | None = Field(description="Contribution margin / value.")
    break_even_customers_exact: float | None = Field(
        description="Fixed costs / contribution margin (null: never breaks even)."
    )
    break_even_customers: int | None = Field(description="The exact number, rounded up.")
    break_even_revenue: float | None
    actual_customers: float | None = Field(description="Supported customers per period today.")
    margin_of_safety: float | None = Field(description="(Actual - break-even) / actual.")
    margin_of_safety_customers: float | None
    profit_at_actual: float | None

    @property
    def breaks_even(self) -> bool:
        """Whether any number of customers pays for the fixed costs."""
        return self.break_even_customers_exact is not None

    def as_dict(self) -> dict[str, Any]:
        """The numbers as a plain dict (for table rows)."""
        return self.model_dump()


def compute_breakeven(inputs: BreakevenInputs) -> BreakevenNumbers:
    """Break-even numbers of a sheet of inputs.

    Examples
    --------
    >>> sheet = BreakevenInputs(fixed_costs={"team": 10_000}, variable_cost_per_customer=20,
    ...                         value_per_customer=70, actual_customers=260)
    >>> compute_breakeven(sheet).break_even_customers
    200
    """
    fixed = float(sum(inputs.fixed_costs.values()))
    value = inputs.value_per_customer
    variable = inputs.variable_cost_per_customer
    margin = value - variable
    actual = inputs.actual_customers
    exact = fixed / margin if margin > 0 else None
    safety = None
    safety_customers = None
    if exact is not None and actual:
        safety_customers = actual - exact
        safety = safety_customers / actual
    return BreakevenNumbers(
        fixed_costs=fixed,
        variable_cost_per_customer=variable,
        value_per_customer=value,
        contribution_margin=margin,
        contribution_margin_ratio=margin / value if value > 0 else None,
        break_even_customers_exact=exact,
        break_even_customers=math.ceil(exact - 1e-9) if exact is not None else None,
        break_even_revenue=exact * value if exact is not None else None,
        actual_customers=actual,
        margin_of_safety=safety,
        margin_of_safety_customers=safety_customers,
        profit_at_actual=actual * margin - fixed if actual is not None else None,
    )


def never_breaks_even_message(numbers: BreakevenNumbers) -> str:
    """Why support cannot pay for itself at this value and variable cost."""
    return (
        f"support never breaks even: the value per customer ({numbers.value_per_customer:,.2f}) "
        f"is not above the variable cost per customer "
        f"({numbers.variable_cost_per_customer:,.2f}), so every supported customer adds "
        f"{-numbers.contribution_margin:,.2f} of loss before fixed costs"
    )


def sensitivity(inputs: BreakevenInputs, change: float = SENSITIVITY) -> pd.DataFrame:
    """Break-even customers when each input moves by -/+``change`` (a tornado's bars)."""
    base = compute_breakeven(inputs).break_even_customers_exact
    moves: list[tuple[str, BreakevenInputs, BreakevenInputs]] = []
    for name in inputs.fixed_costs:
        low, high = dict(inputs.fixed_costs), dict(inputs.fixed_costs)
        low[name] *= 1 - change
        high[name] *= 1 + change
        moves.append(
            (
                f"fixed cost: {name}",
                inputs.model_copy(update={"fixed_costs": low}),
                inputs.model_copy(update={"fixed_costs": high}),
            )
        )
    for field_name, label in (
        ("variable_cost_per_customer", "variable cost per customer"),
        ("value_per_customer", "value per customer"),
    ):
        value = getattr(inputs, field_name)
        moves.append(
            (
                label,
                inputs.model_copy(update={field_name: value * (1 - change)}),
                inputs.model_copy(update={field_name: value * (1 + change)}),
            )
        )
    rows = [
        {
            "input": label,
            "base": base,
            "at_minus": compute_breakeven(low).break_even_customers_exact,
            "at_plus": compute_breakeven(high).break_even_customers_exact,
        }
        for label, low, high in moves
    ]
    frame = pd.DataFrame(rows, columns=["input", "base", "at_minus", "at_plus"])
    for column in ("base", "at_minus", "at_plus"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    spread = (frame["at_plus"] - frame["at_minus"]).abs()
    # An input that can stop support from breaking even at all matters most: first.
    frame = frame.assign(swing=spread, order=spread.fillna(math.inf))
    return (
        frame.sort_values("order", ascending=False, kind="stable")
        .drop(columns="order")
        .reset_index(drop=True)
    )


class BreakevenParams(Params):
    """Overrides of the spec's support inputs (any of them), or a whole sheet without a spec."""

    fixed_costs: float | None = Field(
        default=None, ge=0, description="Fixed support costs per period (all lines together)."
    )
    variable_cost: float | None = Field(
        default=None, ge=0, description="Variable cost per supported customer per period."
    )
    value_per_customer: float | None = Field(
        default=None, description="What a supported customer brings per period."
    )
    actual_customers: float | None = Field(
        default=None, ge=0, description="Supported customers per period today."
    )


class SensitivityRow(Row):
    """Break-even customers when one input moves by -/+20%."""

    input: str
    base: float | None
    at_minus: float | None = Field(description="Break-even customers with the input 20% lower.")
    at_plus: float | None = Field(description="Break-even customers with the input 20% higher.")
    swing: float | None = Field(
        description="|at_plus - at_minus|; null when one side never breaks even."
    )


class ScenarioRow(BreakevenNumbers):
    """Break-even under one scenario ('today' first)."""

    scenario: str


class ChannelRow(Row):
    """A support channel: its own fixed lines against the margin of the customers it serves."""

    channel: str
    contacts_per_customer: float | None
    fixed_costs: float
    variable_cost_per_customer: float | None
    value_per_customer: float | None
    contribution_margin: float | None
    contribution_margin_ratio: float | None
    break_even_customers_exact: float | None
    break_even_customers: int | None
    break_even_revenue: float | None
    actual_customers: float | None
    margin_of_safety: float | None
    margin_of_safety_customers: float | None
    profit_at_actual: float | None


class VolumeRow(Row):
    """Supported customers and contacts of one channel in one complete period."""

    period: str
    period_start: dt.date
    supported: int = Field(description="Customers with a support contact in the period.")
    channel: str
    contacts: int
    customers: int = Field(description="Customers with a contact in this channel.")


class BreakevenResult(Result):
    """Break-even today, by channel, its sensitivity, scenarios and measured support effects."""

    main_table = "scenarios"
    period: str = Field(description="The support period the numbers are per.")
    inputs: BreakevenInputs
    numbers: BreakevenNumbers
    never_breaks_even: bool
    message: str | None = Field(description="Why support never breaks even, when it does not.")
    sources: dict[str, str] = Field(description="Where each input comes from.")
    sensitivity: Annotated[pd.DataFrame, TableOf(SensitivityRow)]
    scenarios: Annotated[pd.DataFrame, TableOf(ScenarioRow)]
    channels: Annotated[pd.DataFrame, TableOf(ChannelRow)]
    volumes: Annotated[pd.DataFrame, TableOf(VolumeRow)]
    uplift: Uplift | None = None
    changes: list[ChangeImpact] = Field(default_factory=list)

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        shown = [(f"break-even per {self.period}", self.to_pandas())]
        if len(self.scenarios) > 1:
            shown.append(("scenarios", self.scenarios))
        if not self.channels.empty:
            shown.append(("by channel", self.channels))
        shown.append(("sensitivity of the break-even point (inputs -/+20%)", self.sensitivity))
        if self.uplift is not None:
            shown.append(
                (
                    f"supported against comparable customers over {self.uplift.outcome_periods} "
                    f"{self.period}s (observational)",
                    self.uplift.table,
                )
            )
        for change in self.changes:
            shown.append(
                (
                    f"{change.name} ({change.date}): {change.before[0]} to {change.before[1]} "
                    f"against {change.after[0]} to {change.after[1]}",
                    change.table,
                )
            )
        return shown

    def to_pandas(self) -> pd.DataFrame:
        """The break-even numbers as a table of ``measure`` and ``value``."""
        return pd.DataFrame(
            [{"measure": key, "value": value} for key, value in self.numbers.as_dict().items()],
            columns=["measure", "value"],
        )


def _result(inputs: BreakevenInputs, period: str, **parts: Any) -> BreakevenResult:
    numbers = compute_breakeven(inputs)
    parts.setdefault(
        "scenarios", frame_of([{"scenario": "today", **numbers.as_dict()}], ScenarioRow)
    )
    return BreakevenResult(
        period=period,
        inputs=inputs,
        numbers=numbers,
        never_breaks_even=not numbers.breaks_even,
        message=None if numbers.breaks_even else never_breaks_even_message(numbers),
        sensitivity=sensitivity(inputs),
        channels=parts.pop("channels", frame_of([], ChannelRow)),
        volumes=parts.pop("volumes", frame_of([], VolumeRow)),
        **parts,
    )


def breakeven_sheet(inputs: BreakevenInputs, period: str = "period") -> BreakevenResult:
    """Break-even of a sheet of inputs, without data."""
    return _result(
        inputs,
        period,
        sources=dict.fromkeys(("fixed_costs", "variable_cost", "value", "actual"), "given"),
    )


def breakeven_without_events(params: BreakevenParams) -> BreakevenResult:
    """Break-even of the numbers given as parameters alone (no spec, no events)."""
    given = {
        "--fixed-costs": params.fixed_costs,
        "--variable-cost": params.variable_cost,
        "--value-per-customer": params.value_per_customer,
    }
    missing = [option for option, value in given.items() if value is None]
    if missing:
        raise OptionsError(
            f"without a spec, break-even needs {', '.join(given)}; missing: {', '.join(missing)}",
            hint="give them all, or --spec SPEC with a `support` section (and its events)",
            code="options",
        )
    return breakeven_sheet(
        BreakevenInputs(
            fixed_costs={"total": float(params.fixed_costs or 0.0)},
            variable_cost_per_customer=float(params.variable_cost or 0.0),
            value_per_customer=float(params.value_per_customer or 0.0),
            actual_customers=params.actual_customers,
        )
    )


def breakeven(events: EventLog, params: BreakevenParams | None = None) -> BreakevenResult:
    """Break-even of the spec's support operation, measured on the events.

    Examples
    --------
    >>> result = breakeven(load(spec="demo/journey.yaml"))  # doctest: +SKIP
    >>> result.numbers.break_even_customers  # doctest: +SKIP
    """
    params = params or BreakevenParams()
    support = events.spec.support if events.spec is not None else None
    if support is None:
        raise OptionsError(
            "the journey spec has no `support` section",
            hint="add one to the spec (period, contacts, fixed_costs, variable_costs, "
            "value_per_customer; see docs/spec.md); `journeys breakeven` also works from "
            "--fixed-costs, --variable-cost and --value-per-customer alone, without data",
            code="no-support",
        )
    measured = volumes(events, support)
    recent = measured.tail(support.measure_periods)
    supported = float(recent["supported"].mean())
    channels = [c.removeprefix("contacts_") for c in recent.columns if c.startswith("contacts_")]
    contacts_per_customer = {
        channel: float(recent[f"contacts_{channel}"].sum() / recent["supported"].sum())
        if recent["supported"].sum()
        else 0.0
        for channel in channels
    }
    sources = {"fixed_costs": "spec", "variable_cost": "spec and measured contacts"}
    uplift = None
    if params.value_per_customer is not None:
        value, sources["value"] = params.value_per_customer, "given"
    elif support.value_per_customer == "estimate":
        uplift = support_uplift(events, support)
        value = uplift.row("revenue_after")["uplift"] * support.margin
        sources["value"] = (
            f"estimated: revenue uplift over {support.outcome_periods} {support.period}s x margin"
        )
    else:
        value, sources["value"] = float(support.value_per_customer), "spec"
    fixed = {line.name: line.amount for line in support.fixed_costs}
    if params.fixed_costs is not None:
        fixed, sources["fixed_costs"] = {"fixed costs": params.fixed_costs}, "given"
    variable = _variable_cost(support, contacts_per_customer)
    if params.variable_cost is not None:
        variable, sources["variable_cost"] = params.variable_cost, "given"
    actual = params.actual_customers if params.actual_customers is not None else supported
    sources["actual"] = (
        "given"
        if params.actual_customers is not None
        else f"measured: mean of the last {len(recent)} complete {support.period}s"
    )
    inputs = BreakevenInputs(
        fixed_costs=fixed,
        variable_cost_per_customer=variable,
        value_per_customer=value,
        actual_customers=actual,
    )
    costs = _period_costs(support, measured)
    changes = tuple(
        change_impact(
            events,
            support,
            change.name,
            change.date,
            period_costs=costs,
            windows=change.windows(),
        )
        for change in support.changes
    )
    return _result(
        inputs,
        support.period,
        sources=sources,
        scenarios=_scenarios(inputs, support, contacts_per_customer),
        channels=_channels(support, recent, value),
        volumes=_volume_rows(measured, support.period),
        uplift=uplift,
        changes=list(changes),
    )


def _volume_rows(measured: pd.DataFrame, period: str) -> pd.DataFrame:
    """The measured volumes, one row per period and channel."""
    channels = [c.removeprefix("contacts_") for c in measured.columns if c.startswith("contacts_")]
    rows = [
        {
            "period": period_label(int(record["period"]), period),  # type: ignore[arg-type]
            "period_start": record["period_start"],
            "supported": int(record["supported"]),
            "channel": channel,
            "contacts": int(record[f"contacts_{channel}"]),
            "customers": int(record[f"customers_{channel}"]),
        }
        for record in measured.to_dict(orient="records")
        for channel in channels
    ]
    return frame_of(rows, VolumeRow)


def _variable_cost(support: Support, contacts: dict[str, float], factor: float = 1.0) -> float:
    costs = support.variable_costs
    given = costs.contacts_per_customer
    per_contact = sum(
        cost * given.get(channel, contacts.get(channel, 0.0)) * factor
        for channel, cost in costs.per_contact.items()
    )
    return costs.per_customer + per_contact


def _period_costs(support: Support, measured: pd.DataFrame) -> pd.Series:
    """Total support cost of each measured period: fixed plus variable at its volumes."""
    fixed = sum(line.amount for line in support.fixed_costs)
    total = fixed + support.variable_costs.per_customer * measured["supported"]
    for channel, cost in support.variable_costs.per_contact.items():
        column = f"contacts_{channel}"
        if column in measured.columns:
            total = total + cost * measured[column]
    return pd.Series(total.to_numpy(), index=measured["period"])


def _channels(support: Support, recent: pd.DataFrame, value: float) -> pd.DataFrame:
    """Per channel: its own fixed lines against the margin of customers it serves."""
    rows = []
    names = {c.removeprefix("contacts_") for c in recent.columns if c.startswith("contacts_")}
    names |= {line.channel for line in support.fixed_costs if line.channel is not None}
    for channel in sorted(names):
        customers = recent.get(f"customers_{channel}", pd.Series([0.0])).mean()
        contacts = recent.get(f"contacts_{channel}", pd.Series([0.0])).sum()
        served = recent.get(f"customers_{channel}", pd.Series([0.0])).sum()
        per_customer = contacts / served if served else 0.0
        variable = (
            support.variable_costs.per_customer
            + support.variable_costs.per_contact.get(channel, 0.0) * per_customer
        )
        fixed = {line.name: line.amount for line in support.fixed_costs if line.channel == channel}
        numbers = compute_breakeven(
            BreakevenInputs(
                fixed_costs=fixed,
                variable_cost_per_customer=variable,
                value_per_customer=value,
                actual_customers=float(customers),
            )
        )
        rows.append(
            {"channel": channel, "contacts_per_customer": per_customer, **numbers.as_dict()}
        )
    shared = [line for line in support.fixed_costs if line.channel is None]
    if shared:
        rows.append(
            {
                "channel": "shared (not assigned to a channel)",
                "fixed_costs": sum(line.amount for line in shared),
            }
        )
    return pd.DataFrame(rows, columns=columns(ChannelRow))


def _scenarios(base: BreakevenInputs, support: Support, contacts: dict[str, float]) -> pd.DataFrame:
    rows = [{"scenario": "today", **compute_breakeven(base).as_dict()}]
    for scenario in support.scenarios:
        rows.append(
            {
                "scenario": scenario.name,
                **compute_breakeven(apply_scenario(base, support, contacts, scenario)).as_dict(),
            }
        )
    return frame_of(rows, ScenarioRow)


def apply_scenario(
    base: BreakevenInputs, support: Support, contacts: dict[str, float], scenario: Scenario
) -> BreakevenInputs:
    """The inputs after a scenario's changes."""
    fixed = {**base.fixed_costs, **scenario.fixed_costs}
    fixed = {name: amount for name, amount in fixed.items() if amount}
    costs = support.variable_costs.model_copy(
        update={
            "per_contact": {**support.variable_costs.per_contact, **scenario.per_contact},
            "per_customer": scenario.per_customer
            if scenario.per_customer is not None
            else support.variable_costs.per_customer,
        }
    )
    changed = support.model_copy(update={"variable_costs": costs})
    variable = _variable_cost(changed, contacts, scenario.contacts_factor)
    value = (
        scenario.value_per_customer
        if scenario.value_per_customer is not None
        else base.value_per_customer
    ) * scenario.value_factor
    return base.model_copy(
        update={
            "fixed_costs": fixed,
            "variable_cost_per_customer": variable,
            "value_per_customer": value,
        }
    )


ANALYSIS = Analysis(
    params=BreakevenParams,
    result=BreakevenResult,
    run=breakeven,
    needs_spec=True,
    spec_section="support",
    without_events=breakeven_without_events,
    figures=(
        "journeys.plots.breakeven:cost_volume_profit_figure",
        "journeys.plots.breakeven:tornado_figure",
        "journeys.plots.breakeven:scenarios_figure",
        "journeys.plots.breakeven:support_uplift_figure",
        "journeys.plots.breakeven:change_figures",
    ),
)
