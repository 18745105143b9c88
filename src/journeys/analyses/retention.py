"""Retention by cohort, repeat purchase, and revenue from new versus existing customers.

A customer's cohort is the calendar period (day, week, month or quarter) of their first
event, or of their first ``cohort_event``. Classic retention in period *k* is the share of the
cohort with a ``return_event`` (any event by default) in the *k*-th period after the
cohort's; unbounded retention counts those with one in period *k* or later. Only
periods that the data covers are reported (the last may be partly covered).

Purchases are the ``purchase_event`` given, else the spec's ``purchase`` milestone, else
every row of a log read without an event column (see :mod:`journeys.analyses.definitions`).
The repeat-purchase rate is the share of purchasing customers who purchased more than
once. Revenue in a period is new when it comes from customers whose first purchase
falls in that period, existing when they first purchased before it.
"""

from __future__ import annotations

from typing import Annotated, Any

import ibis
import pandas as pd
from pydantic import Field

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf, frame_of
from journeys.analyses.definitions import (
    Period,
    customer_periods,
    period_label,
    period_number,
    purchase_predicate,
)
from journeys.analyses.matching import Matcher
from journeys.analyses.registry import Analysis
from journeys.data.reader import EventLog


class RetentionParams(Params):
    """Cohorts, periods and the events that count."""

    period: Period = Field(default="month", description="day, week, month or quarter.")
    cohort_event: str | None = Field(
        default=None, description="Cohorts by the first time of this step (default: any event)."
    )
    return_event: str | None = Field(
        default=None, description="What counts as coming back (default: any event)."
    )
    purchase_event: str | None = Field(
        default=None, description="What a purchase is (default: the spec's purchase milestone)."
    )
    max_periods: int | None = Field(default=None, ge=1, description="Periods shown per cohort.")


class Cohort(Row):
    """One cohort: its size and, for each period since, who was active."""

    cohort: str = Field(description="The cohort's period (2024-03, or its first day).")
    size: int = Field(description="Customers in the cohort.")
    customers: list[int] = Field(description="Active customers in period 0, 1, 2, ...")
    retention: list[float] = Field(description="customers / size, period by period.")
    unbounded_retention: list[float] = Field(
        description="Share active in that period or any later one."
    )


class RevenueRow(Row):
    """Revenue of one period from new and from existing purchasers."""

    period: str = Field(description="The period (2024-03, 2024-Q1, or its first day).")
    new: float = Field(description="From customers whose first purchase is in this period.")
    existing: float = Field(description="From customers who first purchased before it.")
    total: float = Field(description="new + existing.")
    existing_share: float | None = Field(description="existing / total (null when the total is 0).")
    new_customers: int = Field(
        description="Customers whose first purchase is in this period who purchased in it."
    )
    existing_customers: int = Field(
        description="Customers who first purchased before this period and purchased in it."
    )


class RetentionResult(Result):
    """Cohorts, and the purchase measures when which events are purchases is known."""

    main_table = "cohorts"
    params: RetentionParams
    cohorts: list[Cohort] = Field(description="One entry per cohort, oldest first.")
    repeat_purchase_rate: float | None = Field(
        description="Share of purchasers who purchased more than once."
    )
    purchasers: int | None = Field(
        description="Customers with at least one purchase (null when which events are "
        "purchases is not known)."
    )
    revenue: Annotated[pd.DataFrame, TableOf(RevenueRow)] | None = Field(
        description="Per period, revenue from new versus existing purchasers (null without "
        "purchase values)."
    )

    def to_pandas(self) -> pd.DataFrame:
        """One row per cohort and period: ``cohort``, ``size``, ``period``, ``customers``,
        ``retention``, ``unbounded_retention``."""
        rows = [
            {
                "cohort": cohort.cohort,
                "size": cohort.size,
                "period": period,
                "customers": customers,
                "retention": cohort.retention[period],
                "unbounded_retention": cohort.unbounded_retention[period],
            }
            for cohort in self.cohorts
            for period, customers in enumerate(cohort.customers)
        ]
        return pd.DataFrame(rows, columns=[*LONG_COLUMNS])

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        matrix = self.matrix().reset_index()
        matrix.columns = ["cohort", *(f"retention_{period}" for period in matrix.columns[1:])]
        sizes = {cohort.cohort: cohort.size for cohort in self.cohorts}
        matrix.insert(1, "customers", [sizes[cohort] for cohort in matrix["cohort"]])
        shown = [(f"retention by {self.params.period}ly cohort (rows) and period since", matrix)]
        if self.revenue is not None:
            shown.append(("revenue from new and existing purchasers", self.revenue))
        return shown

    def matrix(self, unbounded: bool = False) -> pd.DataFrame:
        """Cohorts as rows, periods as columns, retention shares as values."""
        column = "unbounded_retention" if unbounded else "retention"
        return self.to_pandas().pivot(index="cohort", columns="period", values=column)


LONG_COLUMNS = ("cohort", "size", "period", "customers", "retention", "unbounded_retention")


def retention(events: EventLog, params: RetentionParams | None = None) -> RetentionResult:
    """Cohort retention, repeat purchase and revenue from new versus existing customers.

    Examples
    --------
    >>> retention(events, RetentionParams(period="week")).matrix()  # doctest: +SKIP
    """
    params = params or RetentionParams()
    run = runner.current()
    if params.cohort_event is None and params.return_event is None:
        active, sizes, last_period = _active_periods_any_event(events, params.period)
    else:
        active, sizes, last_period = _active_periods(events, params)
    last_active = active.group_by(["customer_id", "cohort"]).aggregate(last=active.period.max())
    # Customers by their last active period: unbounded retention is its running total.
    lasts = last_active.group_by(["cohort", "last"]).aggregate(customers=last_active.count())
    classic = active.group_by(["cohort", "period"]).aggregate(customers=active.count())
    cohorts = _cohorts(run.frame(sizes), run.frame(classic), run.frame(lasts), last_period, params)
    repeat_rate, purchasers, revenue = _purchases(events, params)
    return RetentionResult(
        params=params,
        cohorts=cohorts,
        repeat_purchase_rate=repeat_rate,
        purchasers=purchasers,
        revenue=revenue,
    )


def _active_periods_any_event(
    events: EventLog, period: Period
) -> tuple[ibis.Table, ibis.Table, int]:
    """With any event starting a cohort and counting as a return: one scan of the events.

    The customer's active periods are found once; the cohort is the first of them.
    """
    run = runner.current()
    periods = run.cached(customer_periods(events, period))
    last_period = int(run.scalar(periods.period.max()))
    marked = periods.mutate(cohort=periods.period.min().over(group_by="customer_id"))
    active = run.cached(
        marked.select("customer_id", "cohort", period=marked.period - marked.cohort)
    )
    firsts = active.filter(active.period == 0)
    sizes = firsts.group_by("cohort").aggregate(size=firsts.count())
    return active, sizes, last_period


def _active_periods(
    events: EventLog, params: RetentionParams
) -> tuple[ibis.Table, ibis.Table, int]:
    """Active periods counted from each customer's first cohort event, returns after it."""
    run = runner.current()
    matcher = Matcher(events)
    table = events.table
    cohort_match = (
        matcher.predicate(params.cohort_event) if params.cohort_event else ibis.literal(True)
    )
    return_match = (
        matcher.predicate(params.return_event) if params.return_event else ibis.literal(True)
    )
    marked = table.select(
        "customer_id",
        "timestamp_us",
        number=period_number(table, params.period),
        is_cohort=cohort_match,
        is_return=return_match,
    )
    last_period = int(run.scalar(marked.number.max()))
    starts = marked.filter(marked.is_cohort)
    firsts = starts.group_by("customer_id").aggregate(
        start_us=starts.timestamp_us.min(), cohort=starts.number.min()
    )
    returns = marked.filter(marked.is_return).inner_join(firsts, "customer_id")
    returns = returns.filter(returns.timestamp_us >= returns.start_us)
    returns = returns.select("customer_id", "cohort", period=returns.number - returns.cohort)
    active = run.cached(returns.distinct())
    sizes = firsts.group_by("cohort").aggregate(size=firsts.count())
    return active, sizes, last_period


def _cohorts(
    sizes: pd.DataFrame,
    classic: pd.DataFrame,
    lasts: pd.DataFrame,
    last_period: int,
    params: RetentionParams,
) -> list[Cohort]:
    """Small per-cohort tables (one row per cohort and period) put together."""
    active = {
        (int(cohort), int(period)): int(customers)
        for cohort, period, customers in zip(
            classic["cohort"], classic["period"], classic["customers"]
        )
    }
    cohorts = []
    for cohort, size in sorted(zip(sizes["cohort"].astype(int), sizes["size"].astype(int))):
        observed = last_period - cohort
        if params.max_periods is not None:
            observed = min(observed, params.max_periods - 1)
        mine = lasts[lasts["cohort"] == cohort]
        counts = [active.get((cohort, period), 0) for period in range(observed + 1)]
        later = [
            int(mine.loc[mine["last"] >= period, "customers"].sum())
            for period in range(observed + 1)
        ]
        cohorts.append(
            Cohort(
                cohort=period_label(cohort, params.period),
                size=size,
                customers=counts,
                retention=[count / size for count in counts],
                unbounded_retention=[count / size for count in later],
            )
        )
    return cohorts


def _purchases(
    events: EventLog, params: RetentionParams
) -> tuple[float | None, int | None, pd.DataFrame | None]:
    is_purchase = purchase_predicate(events, params.purchase_event)
    if is_purchase is None:
        return None, None, None
    run = runner.current()
    table = events.table
    value = table.value if events.has_value else ibis.literal(0.0)
    bought = table.select(
        "customer_id",
        number=period_number(table, params.period),
        value=value.fill_null(0.0),
        is_purchase=is_purchase,
    ).filter(ibis._.is_purchase)
    per_customer = bought.group_by("customer_id").aggregate(
        purchases=bought.count(), first_period=bought.number.min()
    )
    summary = run.frame(
        per_customer.aggregate(
            purchasers=per_customer.count(),
            repeaters=(per_customer.purchases >= 2).cast("int64").sum(),
        )
    )
    purchasers = int(summary["purchasers"].iloc[0])
    repeaters = int(summary["repeaters"].fillna(0).iloc[0])
    rate = repeaters / purchasers if purchasers else None
    if not events.has_value:
        return rate, purchasers, None
    with_first = bought.inner_join(per_customer, "customer_id")
    is_new = with_first.number == with_first.first_period
    revenue = run.frame(
        with_first.group_by("number")
        .aggregate(
            new=is_new.ifelse(with_first.value, 0.0).sum(),
            existing=is_new.ifelse(0.0, with_first.value).sum(),
            new_customers=with_first.customer_id.nunique(where=is_new),
            existing_customers=with_first.customer_id.nunique(where=~is_new),
        )
        .order_by("number")
    )
    rows: list[dict[str, Any]] = []
    for record in revenue.to_dict(orient="records"):
        total = float(record["new"]) + float(record["existing"])
        rows.append(
            {
                "period": period_label(int(record["number"]), params.period),
                "new": float(record["new"]),
                "existing": float(record["existing"]),
                "total": total,
                "existing_share": float(record["existing"]) / total if total else None,
                "new_customers": int(record["new_customers"]),
                "existing_customers": int(record["existing_customers"]),
            }
        )
    return rate, purchasers, frame_of(rows, RevenueRow)


ANALYSIS = Analysis(
    params=RetentionParams,
    result=RetentionResult,
    run=retention,
    figures=("journeys.plots.retention:retention_figure",),
)
