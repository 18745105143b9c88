"""Retention by cohort, repeat purchase, and revenue from new versus existing customers.

A customer's cohort is the period (day, week or month) of their first event, or of
their first ``cohort_event``. Classic retention in period *k* is the share of the
cohort with a ``return_event`` (any event by default) in the *k*-th period after the
cohort's; unbounded retention counts those with one in period *k* or later. Only
periods that the data covers are reported (the last may be partly covered).

Purchases are the spec's ``purchase`` milestone, or the ``purchase_event`` given.
The repeat-purchase rate is the share of purchasing customers who purchased more than
once. Revenue in a period is new when it comes from customers whose first purchase
falls in that period, existing when they first purchased before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import ibis
import pandas as pd
from pydantic import Field

from journeys.analyses.base import Params, Result, clean, records
from journeys.analyses.matching import Matcher, milestone_predicate
from journeys.data.reader import EventLog

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

Period = Literal["day", "week", "month"]
TRUNCATE = {"day": "D", "week": "W", "month": "M"}
LABELS = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m"}


class RetentionParams(Params):
    """Cohorts, periods and the events that count."""

    period: Period = "month"
    cohort_event: str | None = Field(
        default=None, description="Cohorts by the first time of this step (default: any event)."
    )
    return_event: str | None = Field(
        default=None, description="What counts as coming back (default: any event)."
    )
    purchase_event: str | None = Field(
        default=None, description="What a purchase is, when the spec has no purchase milestone."
    )
    max_periods: int | None = Field(default=None, ge=1, description="Periods shown per cohort.")


@dataclass(frozen=True)
class RetentionResult(Result):
    """Cohort tables, and the purchase measures when purchases are known.

    ``cohorts`` has ``cohort``, ``size``, ``period`` (k), ``customers``, ``retention``
    and ``unbounded_retention``; ``revenue`` has ``period``, ``new``, ``existing``,
    ``total`` and ``existing_share`` (None without purchases with a value).
    """

    params: RetentionParams
    cohorts: pd.DataFrame
    repeat_purchase_rate: float | None
    purchasers: int | None
    revenue: pd.DataFrame | None

    def to_pandas(self) -> pd.DataFrame:
        return self.cohorts

    def matrix(self, unbounded: bool = False) -> pd.DataFrame:
        """Cohorts as rows, periods as columns, retention shares as values."""
        column = "unbounded_retention" if unbounded else "retention"
        return self.cohorts.pivot(index="cohort", columns="period", values=column)

    def to_dict(self) -> dict[str, Any]:
        cohorts = []
        for cohort, group in self.cohorts.groupby("cohort", sort=True):
            group = group.sort_values("period")
            cohorts.append(
                {
                    "cohort": cohort,
                    "size": int(group["size"].iloc[0]),
                    "retention": clean(list(group["retention"])),
                    "unbounded_retention": clean(list(group["unbounded_retention"])),
                    "customers": clean(list(group["customers"])),
                }
            )
        result: dict[str, Any] = {"period": self.params.period, "cohorts": cohorts}
        result["repeat_purchase_rate"] = self.repeat_purchase_rate
        result["purchasers"] = self.purchasers
        result["revenue"] = None if self.revenue is None else records(self.revenue)
        return result

    def figure(self) -> Figure:
        from journeys.plots.retention import retention_figure

        return retention_figure(self)


def retention(events: EventLog, params: RetentionParams | None = None) -> RetentionResult:
    """Cohort retention, repeat purchase and revenue from new versus existing customers.

    Examples
    --------
    >>> retention(events, RetentionParams(period="week")).matrix()  # doctest: +SKIP
    """
    params = params or RetentionParams()
    table = events.table
    matcher = Matcher(events)
    unit = TRUNCATE[params.period]
    cohort_match = (
        matcher.predicate(params.cohort_event) if params.cohort_event else ibis.literal(True)
    )
    return_match = (
        matcher.predicate(params.return_event) if params.return_event else ibis.literal(True)
    )
    if params.cohort_event is None and params.return_event is None:
        active, sizes, last_period = _active_periods_any_event(table, unit, params.period)
    else:
        active, sizes, last_period = _active_periods(
            table, unit, params.period, cohort_match, return_match
        )
    last_active = active.group_by(["customer_id", "cohort_start"]).aggregate(
        last=active.period.max()
    )
    # Customers by their last active period: unbounded retention is its running total.
    lasts = last_active.group_by(["cohort_start", "last"]).aggregate(customers=last_active.count())
    horizon = sizes.mutate(
        observed=_periods_between(sizes.cohort_start, ibis.literal(last_period), params.period)
    )
    classic = active.group_by(["cohort_start", "period"]).aggregate(customers=active.count())
    frame = _cohort_frame(horizon.to_pandas(), classic.to_pandas(), lasts.to_pandas(), params)
    repeat_rate, purchasers, revenue = _purchases(events, params)
    return RetentionResult(
        params=params,
        cohorts=frame,
        repeat_purchase_rate=repeat_rate,
        purchasers=purchasers,
        revenue=revenue,
    )


def _active_periods_any_event(
    table: ibis.Table, unit: str, period: Period
) -> tuple[ibis.Table, ibis.Table, Any]:
    """With any event starting a cohort and counting as a return: one scan of the events.

    The customer's active periods are found once; the cohort is the first of them.
    """
    periods = (
        table.select("customer_id", period_start=table.timestamp.truncate(unit)).distinct().cache()
    )
    last_period = pd.Timestamp(periods.period_start.max().execute()).to_pydatetime()
    marked = periods.mutate(cohort_start=periods.period_start.min().over(group_by="customer_id"))
    active = marked.select(
        "customer_id",
        "cohort_start",
        period=_periods_between(marked.cohort_start, marked.period_start, period),
    ).cache()
    firsts = active.filter(active.period == 0)
    sizes = firsts.group_by("cohort_start").aggregate(size=firsts.count())
    return active, sizes, last_period


def _active_periods(
    table: ibis.Table,
    unit: str,
    period: Period,
    cohort_match: ibis.Value,
    return_match: ibis.Value,
) -> tuple[ibis.Table, ibis.Table, Any]:
    """Active periods counted from each customer's first cohort event, returns after it."""
    marked = table.select(
        "customer_id",
        "timestamp_us",
        period_start=table.timestamp.truncate(unit),
        is_cohort=cohort_match,
        is_return=return_match,
    )
    last_period = pd.Timestamp(marked.period_start.max().execute()).to_pydatetime()
    starts = marked.filter(marked.is_cohort)
    firsts = starts.group_by("customer_id").aggregate(
        start_us=starts.timestamp_us.min(), cohort_start=starts.period_start.min()
    )
    returns = marked.filter(marked.is_return).inner_join(firsts, "customer_id")
    returns = returns.filter(returns.timestamp_us >= returns.start_us)
    returns = returns.mutate(
        period=_periods_between(returns.cohort_start, returns.period_start, period)
    )
    active = returns.select("customer_id", "cohort_start", "period").distinct().cache()
    sizes = firsts.group_by("cohort_start").aggregate(size=firsts.count())
    return active, sizes, last_period


def _periods_between(start: ibis.Value, end: ibis.Value, period: Period) -> ibis.Value:
    """Whole periods from ``start`` to ``end`` (both already truncated to the period)."""
    if period == "month":
        return (end.year() * 12 + end.month()) - (start.year() * 12 + start.month())
    days = ((end.epoch_seconds() - start.epoch_seconds()) / 86400).round().cast("int64")
    return days if period == "day" else (days / 7).round().cast("int64")


def _cohort_frame(
    horizon: pd.DataFrame,
    classic: pd.DataFrame,
    lasts: pd.DataFrame,
    params: RetentionParams,
) -> pd.DataFrame:
    """Small per-cohort tables (one row per cohort and period) put together in pandas."""
    active = {
        (start, int(period)): int(customers)
        for start, period, customers in zip(
            classic["cohort_start"], classic["period"], classic["customers"]
        )
    }
    rows = []
    horizon = horizon.sort_values("cohort_start")
    for start, size, observed in zip(
        horizon["cohort_start"], horizon["size"].astype(int), horizon["observed"].astype(int)
    ):
        if params.max_periods is not None:
            observed = min(observed, params.max_periods - 1)
        mine = lasts[lasts["cohort_start"] == start]
        label = pd.Timestamp(start).strftime(LABELS[params.period])
        for period in range(observed + 1):
            customers = active.get((start, period), 0)
            rows.append(
                {
                    "cohort": label,
                    "size": size,
                    "period": period,
                    "customers": customers,
                    "retention": customers / size,
                    "unbounded_retention": int(mine.loc[mine["last"] >= period, "customers"].sum())
                    / size,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["cohort", "size", "period", "customers", "retention", "unbounded_retention"],
    )


def purchase_predicate(events: EventLog, purchase_event: str | None) -> ibis.Value | None:
    """Which events are purchases: the given step, else the spec's ``purchase`` milestone."""
    if purchase_event is not None:
        return Matcher(events).predicate(purchase_event)
    if events.spec is not None and events.spec.milestone("purchase") is not None:
        return milestone_predicate(events.table, events.spec, "purchase")
    return None


def _purchases(
    events: EventLog, params: RetentionParams
) -> tuple[float | None, int | None, pd.DataFrame | None]:
    is_purchase = purchase_predicate(events, params.purchase_event)
    if is_purchase is None:
        return None, None, None
    table = events.table
    value = table.value if events.has_value else ibis.literal(0.0)
    bought = table.select(
        "customer_id",
        period_start=table.timestamp.truncate(TRUNCATE[params.period]),
        value=value.fill_null(0.0),
        is_purchase=is_purchase,
    ).filter(ibis._.is_purchase)
    per_customer = bought.group_by("customer_id").aggregate(
        purchases=bought.count(), first_period=bought.period_start.min()
    )
    summary = per_customer.aggregate(
        purchasers=per_customer.count(),
        repeaters=(per_customer.purchases >= 2).cast("int64").sum(),
    ).to_pandas()
    purchasers = int(summary["purchasers"].iloc[0])
    repeaters = int(summary["repeaters"].fillna(0).iloc[0])
    if not events.has_value:
        return (repeaters / purchasers if purchasers else None), purchasers, None
    with_first = bought.inner_join(per_customer, "customer_id")
    is_new = with_first.period_start == with_first.first_period
    revenue = (
        with_first.group_by("period_start")
        .aggregate(
            new=is_new.ifelse(with_first.value, 0.0).sum(),
            existing=is_new.ifelse(0.0, with_first.value).sum(),
            new_customers=with_first.customer_id.nunique(where=is_new),
            existing_customers=with_first.customer_id.nunique(where=~is_new),
        )
        .order_by("period_start")
        .to_pandas()
    )
    revenue["period"] = [
        pd.Timestamp(p).strftime(LABELS[params.period]) for p in revenue["period_start"]
    ]
    revenue["total"] = revenue["new"] + revenue["existing"]
    revenue["existing_share"] = revenue["existing"] / revenue["total"].where(revenue["total"] != 0)
    columns = ["period", "new", "existing", "total", "existing_share"]
    revenue = revenue[[*columns, "new_customers", "existing_customers"]]
    return (repeaters / purchasers if purchasers else None), purchasers, revenue
