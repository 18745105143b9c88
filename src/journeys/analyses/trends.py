"""Trends: events, customers and a funnel's conversion per day, week or month.

A checkout bug that lasted a month, a payment incident or a traffic spike shows here
and in no total. Defined exactly:

- **Periods** are calendar days, weeks (Monday to Sunday) or months, in UTC; ``auto``
  picks days for data spanning up to 31 days, weeks up to 26 weeks, months beyond.
  Every period from the first event's to the last event's is listed, with zeros where
  nothing happened.
- **events** counts the events in the period; **customers** the different customers with
  an event in it; with ``--unit session``, **sessions** the different sessions.
- **With steps** (a funnel), each unit (customer or session) is counted once, in the
  period of its first first-step event: **entered** counts the units whose first entry
  falls in the period, **converted** those of them who complete the last step in order
  (within the window from an entry, when one is given; a later entry may succeed where
  the first timed out, as in :mod:`journeys.analyses.funnel`), and **conversion** is
  converted / entered.
- **Segments** (``by``): each event counts in the segment of its own value of the column
  (a customer whose events carry two channels counts in both); a unit of the funnel
  counts in the segment of its first entry. The ``top`` largest segments (by customers)
  are kept and the rest are one segment, ``other``. Rows without a segment are all
  units together.
- **complete** is false for a period the data does not cover from its first to its last
  day, and, with steps and a window, for a period whose last entries had less than the
  window before the data ends: their numbers are lower because time ran out, not because
  customers changed.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Annotated, Any, Literal

import ibis
import pandas as pd
from pydantic import Field, field_validator, model_validator

from journeys.analyses import runner
from journeys.analyses.base import Result, Row, TableOf, frame_of, number
from journeys.analyses.definitions import (
    DAY_US,
    Breakdown,
    Period,
    breakdown,
    period_end,
    period_number,
    period_of,
    period_start,
)
from journeys.analyses.funnel import FUNNELS, FunnelContext, FunnelParams, FunnelStep
from journeys.analyses.registry import Analysis, Option
from journeys.analyses.units import UnitParams, in_units
from journeys.data.reader import EventLog
from journeys.params import Duration

TrendPeriod = Literal["auto", "day", "week", "month"]
OTHER = "other"


class TrendsParams(UnitParams):
    """What to follow over time."""

    period: TrendPeriod = Field(
        default="auto",
        description="day, week (Monday to Sunday) or month; auto picks by the data's span.",
    )
    by: str | None = Field(
        default=None,
        description="Break down by this column or 'persona' (a timestamp column groups by period).",
    )
    steps: list[FunnelStep] | None = Field(
        default=None,
        description="A funnel whose conversion to follow (event, touchpoint, stage or "
        "milestone names; 'a|b' alternatives).",
    )
    window: Duration | None = Field(
        default=None, description="Longest time from entering the funnel to its last step."
    )
    top: int = Field(default=10, ge=1, le=100, description="Segments shown; the rest are 'other'.")

    @field_validator("steps")
    @classmethod
    def _two_steps(cls, steps: list[FunnelStep] | None) -> list[FunnelStep] | None:
        if steps is not None and len(steps) < 2:
            raise ValueError("a funnel to follow needs at least two steps")
        return steps

    @model_validator(mode="after")
    def _window_needs_steps(self) -> TrendsParams:
        if self.window is not None and self.steps is None:
            raise ValueError("a conversion window applies to steps: give --steps too")
        return self

    def funnel(self) -> FunnelParams | None:
        """The funnel whose conversion is followed, if any."""
        if self.steps is None:
            return None
        return FunnelParams(steps=self.steps, window=self.window, by=self.by, times=False)


class TrendRow(Row):
    """One period (of one segment)."""

    period_start: dt.date = Field(description="The period's first day.")
    segment: str | None = Field(description="The segment; null for all units together.")
    events: int = Field(description="Events in the period.")
    customers: int = Field(description="Different customers with an event in the period.")
    sessions: int | None = Field(
        description="Different sessions with an event in the period (with --unit session)."
    )
    entered: int | None = Field(
        description="Units whose first entry into the funnel falls in the period (with steps)."
    )
    converted: int | None = Field(
        description="Of those entered, the units that completed the last step."
    )
    conversion: float | None = Field(description="converted / entered.")
    complete: bool = Field(
        description="Whether the data covers the period (and, with a window, the window after it)."
    )


class TrendsResult(Result):
    """Per period (and segment): events, customers and, with steps, conversion."""

    main_table = "series"
    params: TrendsParams
    period: Period = Field(description="The period used (auto resolved).")
    unit: str = Field(description="customer or session: what entered and converted count.")
    first_day: dt.date = Field(description="The day of the first event.")
    last_day: dt.date = Field(description="The day of the last event.")
    series: Annotated[pd.DataFrame, TableOf(TrendRow)]

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        """The series; by a column, its segments headed by the column's name (empty: all);
        without steps or sessions, without their empty columns."""
        frame = self.series
        empty = [
            column
            for column in ("sessions", "entered", "converted", "conversion")
            if frame[column].isna().all()
        ]
        frame = frame.drop(columns=empty)
        if self.params.by is None:
            frame = frame.drop(columns="segment")
        else:
            frame = frame.rename(columns={"segment": self.params.by})
        return [("series", frame)]


def trends(events: EventLog, params: TrendsParams | None = None) -> TrendsResult:
    """Events, customers and a funnel's conversion per period, optionally by segment.

    Examples
    --------
    >>> trends(events, TrendsParams(period="week", steps=["cart", "purchase"]))  # doctest: +SKIP
    """
    params = params or TrendsParams()
    run = runner.current()
    table = events.table
    bounds = run.frame(
        table.aggregate(first=table.timestamp_us.min(), last=table.timestamp_us.max())
    )
    first_us, last_us = int(bounds["first"][0]), int(bounds["last"][0])
    first_day, last_day = _day(first_us), _day(last_us)
    period = _resolve(params.period, first_day, last_day)
    units = in_units(events, params)
    segments = _segments(units, params, run) if params.by else None
    activity = _activity(units, params, period, segments, run)
    conversions = _conversions(units, params, period, segments, run)
    frame = _series(activity, conversions, params, segments, period, first_day, last_day)
    return TrendsResult(
        params=params,
        period=period,
        unit=params.unit,
        first_day=first_day,
        last_day=last_day,
        series=frame,
    )


def _day(us: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=us // DAY_US)


def _resolve(period: TrendPeriod, first: dt.date, last: dt.date) -> Period:
    if period != "auto":
        return period
    days = (last - first).days
    if days <= 31:
        return "day"
    return "week" if days <= 26 * 7 else "month"


class _Segments:
    """The segment of each event: its breakdown value, or ``other`` beyond the top ones."""

    def __init__(self, split: Breakdown, kept: list[str]) -> None:
        self.split = split
        self.value = split.value
        self.kept = kept
        self.chronological = split.chronological

    def of(self, value: ibis.Value) -> ibis.Value:
        return value.isin(self.kept).ifelse(value, ibis.literal(OTHER))


def _segments(events: EventLog, params: TrendsParams, run: runner.Runner) -> _Segments:
    assert params.by is not None
    split = breakdown(events, params.by)
    customer = _customer_column(events)
    table = events.table.select(customer=events.table[customer], segment=split.value)
    sizes = run.frame(
        table.group_by("segment").aggregate(customers=table.customer.nunique())
    ).sort_values(["customers", "segment"], ascending=[False, True])
    kept = [str(value) for value in sizes["segment"].head(params.top)]
    return _Segments(split, kept)


def _customer_column(events: EventLog) -> str:
    """The column that holds the customer (at the session level, the session's customer)."""
    return "unit_customer" if "unit_customer" in events.table.columns else "customer_id"


def _activity(
    events: EventLog,
    params: TrendsParams,
    period: Period,
    segments: _Segments | None,
    run: runner.Runner,
) -> pd.DataFrame:
    """events, customers (and sessions) per period number and segment (None for all)."""
    table = events.table
    customer = _customer_column(events)
    sessions = customer != "customer_id"
    marked = table.select(
        period=period_number(table, period),
        customer=table[customer],
        unit=table.customer_id,
        **({"segment": segments.of(segments.value)} if segments else {}),
    )
    measures: dict[str, Any] = {"events": marked.count(), "customers": marked.customer.nunique()}
    if sessions:
        measures["sessions"] = marked.unit.nunique()
    overall = run.frame(marked.group_by("period").aggregate(**measures)).assign(segment=None)
    if segments is None:
        return overall
    split = run.frame(marked.group_by(["period", "segment"]).aggregate(**measures))
    return pd.concat([overall, split], ignore_index=True)


def _conversions(
    events: EventLog,
    params: TrendsParams,
    period: Period,
    segments: _Segments | None,
    run: runner.Runner,
) -> pd.DataFrame | None:
    """entered and converted per period number (of the first entry) and segment."""
    funnel = params.funnel()
    if funnel is None:
        return None
    context = FunnelContext.build(events, funnel, segments.split if segments else None)
    per_unit = FUNNELS["ordered"](context).per_customer()
    last = f"reached{len(funnel.steps) - 1}"
    entered = per_unit.mutate(
        timestamp_us=per_unit.entered_us,
        timestamp=(per_unit.entered_us // 1_000_000).as_timestamp("s"),
    )
    marked = entered.select(
        period=period_number(entered, period),
        converted=entered[last].cast("int64"),
        **({"segment": segments.of(entered.by_value)} if segments else {}),
    )
    measures = {"entered": marked.count(), "converted": marked.converted.sum()}
    overall = run.frame(marked.group_by("period").aggregate(**measures)).assign(segment=None)
    if segments is None:
        return overall
    split = run.frame(marked.group_by(["period", "segment"]).aggregate(**measures))
    return pd.concat([overall, split], ignore_index=True)


def _series(
    activity: pd.DataFrame,
    conversions: pd.DataFrame | None,
    params: TrendsParams,
    segments: _Segments | None,
    period: Period,
    first_day: dt.date,
    last_day: dt.date,
) -> pd.DataFrame:
    """One row per period and segment, every period of the data's span, zeros filled."""
    key = ["period", "segment"]
    activity = activity.assign(segment=activity["segment"].astype(object))
    merged = activity
    if conversions is not None:
        conversions = conversions.assign(segment=conversions["segment"].astype(object))
        merged = activity.merge(conversions, on=key, how="outer")
    numbers = range(period_of(first_day, period), period_of(last_day, period) + 1)
    segment_values: list[str | None] = [None]
    if segments is not None:
        present = set(merged["segment"].dropna())
        order = sorted(segments.kept) if segments.chronological else segments.kept
        segment_values += [s for s in [*order, OTHER] if s in present]
    found = {
        (int(row["period"]), row["segment"] if isinstance(row["segment"], str) else None): row
        for row in merged.to_dict(orient="records")
    }
    window = params.window or timedelta(0)
    rows = []
    for segment in segment_values:
        for n in numbers:
            row = found.get((n, segment), {})
            start, end = period_start(n, period), period_end(n, period)
            entered = _count(row.get("entered")) if conversions is not None else None
            converted = _count(row.get("converted")) if conversions is not None else None
            rows.append(
                {
                    "period_start": start,
                    "segment": segment,
                    "events": _count(row.get("events")),
                    "customers": _count(row.get("customers")),
                    "sessions": _count(row.get("sessions")) if params.unit == "session" else None,
                    "entered": entered,
                    "converted": converted,
                    "conversion": converted / entered
                    if entered and converted is not None
                    else None,
                    "complete": start >= first_day and end + window <= last_day,
                }
            )
    return frame_of(rows, TrendRow)


def _count(value: Any) -> int:
    found = number(value)
    return int(found) if found is not None else 0


ANALYSIS = Analysis(
    params=TrendsParams,
    result=TrendsResult,
    run=trends,
    figures=("journeys.plots.trends:trends_figures",),
    options={
        "steps": Option(
            several=True,
            help="A funnel to follow: steps in order (event, touchpoint, stage or milestone "
            "names; 'a|b' for alternatives; a trailing '?' makes a step optional).",
        ),
    },
)
