"""Funnels: how many customers go through a sequence of steps, where they drop off, how long.

Three kinds of funnel share one context and differ only in how a customer's events
reach each step:

- ``ordered`` (the default): the steps happen in order; other events may come between.
- ``strict``: each step is the customer's very next event after the previous step.
- ``any``: the steps happen in any order; step *k* counts customers who did *k* of them.

A customer enters the funnel with any event of the first step. With a conversion
``window``, every later step must fall within the window from that entry, and with a
step's ``max_interval``, within that interval from the previous step. The funnel
counts a customer as reaching a step if *some* sequence of their events does so (a
later entry may succeed where an earlier one timed out). A step happens strictly
after the previous one: two events at the same microsecond are not in order.

An ``optional`` step may be skipped: the next step may follow the step before it. The
step after an optional one is measured (conversion, drop-off) against the last step
that was not optional, as PostHog does: its customers include those who skipped.
An exclusion of event X from step i to step j drops a sequence from step i+1 on once X
happens after its step-i event (up to and including the time of a later step, up to
step j): those customers may still convert through another sequence without X.

Everything is computed in the engine, with one pass of window functions per step over
the events that match some step (not one scan per step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

import ibis
import pandas as pd
from pydantic import Field, PrivateAttr, field_validator, model_validator

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf, frame_of, number
from journeys.analyses.definitions import Breakdown, breakdown
from journeys.analyses.matching import Matcher
from journeys.analyses.registry import Analysis, Option
from journeys.analyses.units import UnitParams, in_units
from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.params import Duration, microseconds, parse_duration

FunnelMode = Literal["ordered", "strict", "any"]
NULL_INT = ibis.null("int64")


class FunnelStep(Params):
    """One step: a name (or ``a|b`` alternatives), whether it may be skipped, its time limit.

    A plain string is read as a step, and a trailing ``?`` makes it optional
    (``"coupon?"``).
    """

    name: str = Field(min_length=1)
    optional: bool = False
    max_interval: Duration | None = Field(
        default=None, description="Longest time allowed since the previous step."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            name = value.strip()
            optional = name.endswith("?")
            return {"name": name.removesuffix("?").strip(), "optional": optional}
        return value


class Exclusion(Params):
    """Sequences in which ``event`` happens between step ``from_step`` and ``to_step`` fail."""

    event: str = Field(min_length=1)
    from_step: int = Field(default=1, ge=1, description="1-based.")
    to_step: int | None = Field(default=None, ge=2, description="1-based; default the last.")


class FunnelParams(UnitParams):
    """What funnel to build."""

    steps: list[FunnelStep] = Field(min_length=2)
    mode: FunnelMode = "ordered"
    window: Duration | None = Field(
        default=None, description="Longest time from entering the funnel to each later step."
    )
    exclusions: list[Exclusion] = Field(default_factory=list)
    by: str | None = Field(
        default=None,
        description="Break down by this column (its value at the customer's entry) or 'persona'.",
    )
    max_interval: Duration | None = Field(
        default=None,
        description="Longest time between two consecutive steps (for every step without its own).",
    )
    times: bool = Field(
        default=True,
        description="Measure the time from the previous step (median and 90th percentile).",
    )

    @model_validator(mode="before")
    @classmethod
    def _interval_on_every_step(cls, values: Any) -> Any:
        if not isinstance(values, dict) or values.get("max_interval") is None:
            return values
        steps = [FunnelStep.model_validate(step) for step in values.get("steps") or []]
        limit = parse_duration(values["max_interval"])
        limited = [
            step
            if index == 0 or step.max_interval is not None
            else step.model_copy(update={"max_interval": limit})
            for index, step in enumerate(steps)
        ]
        return {**values, "steps": limited}

    @field_validator("window")
    @classmethod
    def _window_longer_than_zero(cls, window: timedelta | None) -> timedelta | None:
        if window is not None and window.total_seconds() <= 0:
            raise ValueError(
                "a conversion window must be longer than zero (no later step could fall in "
                "it); leave it out for no window"
            )
        return window

    @model_validator(mode="after")
    def _consistent(self) -> FunnelParams:
        if self.steps[0].optional:
            raise ValueError("the first step cannot be optional")
        if self.steps[-1].optional:
            raise ValueError("the last step cannot be optional")
        for exclusion in self.exclusions:
            to_step = exclusion.to_step or len(self.steps)
            if not exclusion.from_step < to_step <= len(self.steps):
                raise ValueError(
                    f"exclusion '{exclusion.event}' runs from step {exclusion.from_step} "
                    f"to step {to_step}; both must be steps 1 to {len(self.steps)}, in order"
                )
        if self.mode != "ordered" and self.exclusions:
            raise ValueError("exclusions apply to ordered funnels only")
        if self.mode == "any" and any(s.optional or s.max_interval for s in self.steps):
            raise ValueError("an any-order funnel has no optional steps or step intervals")
        return self

    def window_us(self) -> int | None:
        """The conversion window in microseconds."""
        return None if self.window is None else microseconds(self.window)


class FunnelStepRow(Row):
    """One step of the funnel."""

    step: str = Field(description="The step as given; optional steps end with '?'.")
    index: int = Field(description="1 for the first step.")
    customers: int = Field(description="Customers who reached the step.")
    conversion_from_previous: float | None = Field(
        description="Share of the previous step's customers (after an optional step: of the "
        "last step that is not optional); null when it had none."
    )
    conversion_from_first: float | None = Field(
        description="Share of the first step's customers; null when it had none."
    )
    drop_off: int = Field(
        description="Customers of the previous step (the last one not optional) who did not "
        "reach this one."
    )
    drop_off_rate: float | None = Field(description="drop_off as a share of the previous step.")
    median_seconds_from_previous: float | None = Field(
        description="Median time from the previous step (null for the first step, or when "
        "times were not asked for)."
    )
    p90_seconds_from_previous: float | None = Field(
        description="90th percentile of the time from the previous step."
    )


class BreakdownValue(Row):
    by_value: str = Field(description="The breakdown value (at the customer's entry).")


class FunnelBreakdownRow(FunnelStepRow, BreakdownValue):
    """One step of the funnel for one breakdown value."""


class FunnelResult(Result):
    """Customers per step, conversion, drop-off and time between steps.

    ``steps`` has a row per step; ``breakdown`` the same per value of ``params.by``;
    :meth:`customers` the last step each customer reached (an Ibis table, for export).
    """

    main_table = "steps"
    params: FunnelParams
    steps: Annotated[pd.DataFrame, TableOf(FunnelStepRow)]
    breakdown: Annotated[pd.DataFrame, TableOf(FunnelBreakdownRow)] | None = None
    _per_customer: ibis.Table | None = PrivateAttr(default=None)

    def to_pandas(self) -> pd.DataFrame:
        """The steps; with a breakdown, all customers' rows (an empty ``by_value``) first."""
        if self.breakdown is None:
            return self.steps
        overall = self.steps.assign(by_value=None)[list(self.breakdown.columns)]
        return pd.concat([overall, self.breakdown], ignore_index=True)

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        """The tables a person reads; the breakdown's column is headed by the column's name."""
        by = self.params.by or "by_value"
        return [
            (title, frame.rename(columns={"by_value": by}) if "by_value" in frame else frame)
            for title, frame in super().views()
        ]

    def customers(self) -> ibis.Table:
        """The last step each customer reached (0 when none), with the breakdown value."""
        if self._per_customer is None:
            raise ValueError("this result was read from JSON: its customers are not known")
        return _last_steps(self._per_customer, self.params)


def funnel(events: EventLog, params: FunnelParams | Sequence[str]) -> FunnelResult:
    """Build a funnel over ``events``.

    Parameters
    ----------
    events
        Events from :func:`journeys.read_events` (with a spec applied, steps may name
        touchpoints, stages and milestones).
    params
        A :class:`FunnelParams`, or just the steps.

    Examples
    --------
    >>> result = funnel(events, ["catalog", "product1|product2", "cart"])  # doctest: +SKIP
    >>> result.steps[["step", "customers"]]  # doctest: +SKIP
    """
    if not isinstance(params, FunnelParams):
        params = FunnelParams(steps=[FunnelStep.model_validate(step) for step in params])
    events = in_units(events, params)
    split = breakdown(events, params.by) if params.by else None
    context = FunnelContext.build(events, params, split)
    per_customer = FUNNELS[params.mode](context).per_customer()
    chronological = split is not None and split.chronological
    if params.by:
        per_customer = runner.current().cached(per_customer)
    result = FunnelResult(
        params=params,
        steps=_summarise(per_customer, params, by=False),
        breakdown=_summarise(per_customer, params, by=True, chronological=chronological)
        if params.by
        else None,
    )
    result._per_customer = per_customer
    return result


@dataclass(frozen=True)
class FunnelContext:
    """The events a funnel looks at, with a ``m{k}`` column per step (does it match)."""

    params: FunnelParams
    table: ibis.Table
    all_events: ibis.Table

    @classmethod
    def build(
        cls, events: EventLog, params: FunnelParams, split: Breakdown | None = None
    ) -> FunnelContext:
        """The context; ``split`` is the breakdown of ``params.by`` when already resolved."""
        matcher = Matcher(events)
        table = events.table
        predicates = matcher.predicates(
            [step.name for step in params.steps], [step.optional for step in params.steps]
        )
        flags = {f"m{k}": p for k, p in enumerate(predicates)}
        exclusions = {
            f"x{j}": matcher.predicate(exclusion.event)
            for j, exclusion in enumerate(params.exclusions)
        }
        if params.by and split is None:
            split = breakdown(events, params.by)
        by = {"by_value": split.value} if split is not None else {}
        # Window operators carry every column they are given: the event name is only needed
        # to order events at the same time in a strict funnel.
        keys = ["event"] if params.mode == "strict" else []
        marked = table.select(
            "customer_id",
            "timestamp_us",
            *keys,
            **by,
            **flags,
            **exclusions,
        )
        relevant = ibis.literal(False)
        for flag in [*flags, *exclusions]:
            relevant |= marked[flag]
        return cls(params=params, table=marked.filter(relevant), all_events=marked)


class FunnelKind:
    """How a customer's events reach each step; subclasses are the funnel modes.

    ``per_customer`` returns one row per customer who entered the funnel, with
    ``reached{k}`` (bool), with a breakdown ``by_value``, and with times ``gap{k}`` for
    each later step (microseconds since the previous step, on the customer's first
    arrival at step ``k``). Without times, no query measures them.
    """

    def __init__(self, context: FunnelContext) -> None:
        self.context = context
        self.params = context.params
        self.count = len(context.params.steps)

    def per_customer(self) -> ibis.Table:
        table = self.arrivals()
        aggregates: dict[str, Any] = {
            "entered_us": table.timestamp_us.min(where=table.a0.notnull())
        }
        if self.params.by:
            aggregates["by_value"] = table.by_value.argmin(
                table.timestamp_us, where=table.a0.notnull()
            )
        for k in range(self.count):
            arrived = table[f"a{k}"].notnull()
            aggregates[f"reached{k}"] = arrived.any()
            if self.params.times and k:
                aggregates[f"gap{k}"] = table[f"gap{k}"].argmin(table.timestamp_us, where=arrived)
        per_customer = table.group_by("customer_id").aggregate(**aggregates)
        return per_customer.filter(per_customer.reached0)

    def arrivals(self) -> ibis.Table:
        """Events with ``a{k}`` (non-null where the event completes step k) and, with
        times, ``gap{k}`` for each later step."""
        raise NotImplementedError


def _best(first: ibis.Value, second: ibis.Value) -> ibis.Value:
    """The larger of two values, either of which may be null."""
    return ibis.cases(
        (first.isnull(), second),
        (second.isnull(), first),
        else_=ibis.greatest(first, second),
    )


class OrderedFunnel(FunnelKind):
    """Steps in order, other events allowed between them.

    For each step-k event, ``a{k}`` is the latest entry time (anchor) among the
    sequences that reach it: the latest anchor leaves the most room in the window.
    ``c{k}`` is what may precede step k+1: ``a{k}``, or for an optional step also what
    could precede it.
    """

    def arrivals(self) -> ibis.Table:
        table = self.context.table
        window_us = self.params.window_us()
        ts = table.timestamp_us
        table = table.mutate(a0=table.m0.ifelse(ts, NULL_INT), c0=table.m0.ifelse(ts, NULL_INT))
        segments = self._exclusion_segments(table)
        table = table.mutate(**segments)
        for k in range(1, self.count):
            step = self.params.steps[k]
            limits = [
                microseconds(limit) for limit in (step.max_interval, self.params.window) if limit
            ]
            frame = ibis.window(
                group_by=["customer_id", *self._segments_for(k)],
                order_by="timestamp_us",
                range=(-min(limits) if limits else None, -1),
            )
            previous = table[f"c{k - 1}"]
            anchor = previous.max().over(frame)
            arrived = table[f"m{k}"] & anchor.notnull()
            if window_us is not None:
                arrived &= (table.timestamp_us - anchor) <= window_us
            columns = {f"a{k}": arrived.ifelse(anchor, NULL_INT)}
            if self.params.times:
                latest = previous.notnull().ifelse(table.timestamp_us, NULL_INT).max().over(frame)
                columns[f"gap{k}"] = arrived.ifelse(table.timestamp_us - latest, NULL_INT)
            table = table.mutate(**columns)
            carried = table[f"a{k}"]
            if step.optional:
                carried = _best(carried, table[f"c{k - 1}"])
            table = table.mutate(**{f"c{k}": carried})
        return table

    def _exclusion_segments(self, table: ibis.Table) -> dict[str, ibis.Value]:
        running = ibis.window(group_by="customer_id", order_by="timestamp_us", range=(None, 0))
        return {
            f"seg{j}": table[f"x{j}"].cast("int64").sum().over(running)
            for j in range(len(self.params.exclusions))
        }

    def _segments_for(self, k: int) -> list[str]:
        """Exclusion segments that step k (0-based) must share with its predecessor."""
        names = []
        for j, exclusion in enumerate(self.params.exclusions):
            to_step = exclusion.to_step or self.count
            if exclusion.from_step - 1 < k <= to_step - 1:
                names.append(f"seg{j}")
        return names


class StrictFunnel(FunnelKind):
    """Each step is the very next event of the customer after the previous step."""

    def arrivals(self) -> ibis.Table:
        table = self.context.all_events
        ts = table.timestamp_us
        window_us = self.params.window_us()
        table = table.mutate(a0=table.m0.ifelse(ts, NULL_INT), c0=table.m0.ifelse(ts, NULL_INT))
        order = ibis.window(group_by="customer_id", order_by=["timestamp_us", "event"])
        table = table.mutate(previous_us=table.timestamp_us.lag().over(order))
        for k in range(1, self.count):
            step = self.params.steps[k]
            anchor = table[f"c{k - 1}"].lag().over(order)
            gap = table.timestamp_us - table.previous_us
            arrived = table[f"m{k}"] & anchor.notnull() & (gap > 0)
            if window_us is not None:
                arrived &= (table.timestamp_us - anchor) <= window_us
            if step.max_interval is not None:
                arrived &= gap <= microseconds(step.max_interval)
            columns = {f"a{k}": arrived.ifelse(anchor, NULL_INT)}
            if self.params.times:
                columns[f"gap{k}"] = arrived.ifelse(gap, NULL_INT)
            table = table.mutate(**columns)
            carried = table[f"a{k}"]
            if step.optional:
                carried = _best(carried, table[f"c{k - 1}"])
            table = table.mutate(**{f"c{k}": carried})
        return table


class AnyOrderFunnel(FunnelKind):
    """The steps in any order: step k counts customers who did k different steps.

    Each step event starts a candidate window; the number of different steps found
    from it to the end of the window is counted, and the customer's best window counts.
    Time between steps is not defined for this kind of funnel.
    """

    def per_customer(self) -> ibis.Table:
        table = self.context.table
        window_us = self.params.window_us()
        frame = ibis.window(group_by="customer_id", order_by="timestamp_us", range=(0, window_us))
        done = ibis.literal(0)
        for k in range(self.count):
            next_time = table[f"m{k}"].ifelse(table.timestamp_us, NULL_INT).min().over(frame)
            done += next_time.notnull().cast("int64")
        table = table.mutate(done=done)
        best = table.done.max()
        aggregates: dict[str, Any] = {"entered_us": table.timestamp_us.min()}
        if self.params.by:
            aggregates["by_value"] = table.by_value.argmin(table.timestamp_us)
        for k in range(self.count):
            aggregates[f"reached{k}"] = best >= k + 1
        return table.group_by("customer_id").aggregate(**aggregates)


FUNNELS: dict[FunnelMode, type[FunnelKind]] = {
    "ordered": OrderedFunnel,
    "strict": StrictFunnel,
    "any": AnyOrderFunnel,
}


def _summarise(
    per_customer: ibis.Table, params: FunnelParams, *, by: bool, chronological: bool = False
) -> pd.DataFrame:
    aggregates: dict[str, Any] = {}
    # An any-order funnel has no previous step to time from.
    timed = params.times and params.mode != "any"
    for k in range(len(params.steps)):
        reached = per_customer[f"reached{k}"]
        aggregates[f"customers{k}"] = reached.cast("int64").sum()
        if timed and k:
            seconds = per_customer[f"gap{k}"] / 1e6
            aggregates[f"median{k}"] = seconds.quantile(0.5, where=reached)
            aggregates[f"p90{k}"] = seconds.quantile(0.9, where=reached)
    grouped = per_customer.group_by("by_value") if by else per_customer
    frame = runner.current().frame(grouped.aggregate(**aggregates))
    if by and chronological:
        frame = frame.sort_values(by="by_value")
    elif by:
        frame = frame.sort_values(by=["customers0", "by_value"], ascending=[False, True])
    rows = []
    for record in frame.to_dict(orient="records"):
        first = int(record["customers0"] or 0)
        previous = first
        for k, step in enumerate(params.steps):
            customers = int(record[f"customers{k}"] or 0)
            rows.append(
                {
                    "by_value": str(record["by_value"]) if by else None,
                    "step": step.name if not step.optional else f"{step.name}?",
                    "index": k + 1,
                    "customers": customers,
                    "conversion_from_previous": customers / previous if previous else None,
                    "conversion_from_first": customers / first if first else None,
                    "drop_off": previous - customers if k else 0,
                    "drop_off_rate": (1 - customers / previous if k else 0.0) if previous else None,
                    "median_seconds_from_previous": number(record.get(f"median{k}")),
                    "p90_seconds_from_previous": number(record.get(f"p90{k}")),
                }
            )
            if not step.optional:
                # A step after an optional one is measured against the last step every
                # customer had to take, so that those who skipped it are not counted twice.
                previous = customers
    return frame_of(rows, FunnelBreakdownRow if by else FunnelStepRow)


def _last_steps(per_customer: ibis.Table, params: FunnelParams) -> ibis.Table:
    last = ibis.cases(
        *[(per_customer[f"reached{k}"], k + 1) for k in reversed(range(len(params.steps)))],
        else_=0,
    )
    names = ibis.cases(
        *[(last == k + 1, step.name) for k, step in enumerate(params.steps)], else_=None
    )
    columns: dict[str, Any] = {"last_step": last, "last_step_name": names}
    if params.by:
        columns[params.by] = per_customer.by_value
    return per_customer.select("customer_id", **columns).order_by("customer_id")


def _exclusion(text: str) -> Exclusion:
    """``EVENT`` or ``EVENT:FROM-TO`` (step numbers), as the command line writes it."""
    event, _, span = text.partition(":")
    if not span:
        return Exclusion(event=event)
    first, _, last = span.partition("-")
    if not (first.isdigit() and last.isdigit()):
        raise OptionsError(
            f"--exclude '{text}': write EVENT or EVENT:FROM-TO with step numbers, like refund:2-3",
            code="options",
        )
    return Exclusion(event=event, from_step=int(first), to_step=int(last))


ANALYSIS = Analysis(
    params=FunnelParams,
    result=FunnelResult,
    run=funnel,
    figures=("journeys.plots.funnel:funnel_figure",),
    exports={"customers": Option(help="Write each customer's last step (CSV) to this file.")},
    options={
        "steps": Option(
            several=True,
            help="Steps in order: event, touchpoint or stage names; 'a|b' for alternatives; "
            "a trailing '?' makes a step optional.",
        ),
        "exclusions": Option(
            name="--exclude",
            parse=_exclusion,
            help="EVENT or EVENT:FROM-TO (step numbers): sequences with it between those "
            "steps fail.",
        ),
    },
)
