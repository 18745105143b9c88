"""What post-purchase support does: volumes per period, the uplift of supported customers
over comparable unsupported ones, and the impact of a dated change.

Everything that touches events runs in the engine; Python only combines per-stratum
counts and sums into differences and confidence intervals.

Definitions
-----------
- Periods are weeks (starting Monday), months or quarters. The first and the last period
  of the data are left out because they may be partial.
- A customer is *supported* in a period when they make at least one support contact in it.
- The uplift compares, within each period, existing customers (first purchase in an
  earlier period) who are active in the period and in the next one: those with a contact
  in the period against those without, in the same stratum (persona and number of
  purchases so far). Requiring activity in the next period (a landmark) keeps customers
  who left early in the period, and so had less time to contact support, from counting
  against the unsupported. Outcomes are counted over the ``outcome_periods`` after that
  next period: still active in the last of them, purchases and revenue. The
  estimate is the supported customers' mean minus the comparable customers' mean, stratum
  by stratum, weighted by the supported customers in each stratum. It is observational:
  customers choose to contact support, and what brings them there may also move the
  outcome. Customer-periods are treated as independent, which narrows the intervals when
  the same customers appear in many periods.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated, Any

import ibis
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from journeys.analyses import runner
from journeys.analyses.base import Row, TableOf, frame_of
from journeys.analyses.definitions import (
    customer_periods,
    period_end,
    period_number,
    period_of,
    period_start,
    purchases,
)
from journeys.analyses.support_settings import Support, SupportContacts, SupportPeriod
from journeys.data.reader import EventLog
from journeys.errors import DataError, OptionsError
from journeys.spec.rules import rule_predicate

HISTORY_BUCKETS = ((1, 1), (2, 2), (3, 3), (4, 6), (7, 12), (13, 24), (25, 10**9))
OUTCOMES = {
    "retained": "still active at the end",
    "purchases_after": "purchases",
    "revenue_after": "revenue",
}
Z_95 = 1.959963984540054


def _matches(events: EventLog, chosen: SupportContacts) -> ibis.Value:
    table = events.table
    predicate = ibis.literal(False)
    if chosen.events:
        predicate |= rule_predicate(table, chosen.events, [])
    if chosen.touchpoints:
        if "touchpoint" not in table.columns:
            raise OptionsError(
                "support contacts are given as touchpoints, but the events have no spec applied",
                hint="load the events with the journey spec",
                code="no-spec",
            )
        predicate |= table.touchpoint.isin(chosen.touchpoints).fill_null(False)
    return predicate


def _channel(events: EventLog) -> ibis.Value:
    table = events.table
    candidates = [
        table[name] for name in ("touchpoint_channel", "channel") if name in table.columns
    ]
    if not candidates:
        return ibis.literal("all")
    return ibis.coalesce(*candidates, ibis.literal("other")).cast("string")


@dataclass(frozen=True)
class Periods:
    """The complete periods of the data: first and last period number."""

    first: int
    last: int


def complete_periods(events: EventLog, period: SupportPeriod) -> Periods:
    """The periods strictly inside the data's span (the first and last may be partial)."""
    numbered = events.table.select(number=period_number(events.table, period))
    span = runner.current().arrow(
        numbered.aggregate(low=numbered.number.min(), high=numbered.number.max())
    )
    low, high = span["low"][0].as_py(), span["high"][0].as_py()
    if low is None or high - low < 2:
        raise DataError(
            f"the events cover less than three {period}s; support needs complete periods "
            "to measure",
            hint="use a shorter support period in the spec (week) or more data",
            code="too-short",
        )
    return Periods(first=low + 1, last=high - 1)


def volumes(events: EventLog, support: Support) -> pd.DataFrame:
    """Per complete period: supported customers, and contacts and customers by channel."""
    periods = complete_periods(events, support.period)
    table = events.table
    contacts = table.filter(_matches(events, support.contacts)).select(
        "customer_id", period=period_number(table, support.period), channel=_channel(events)
    )
    contacts = contacts.filter(contacts.period.between(periods.first, periods.last))
    run = runner.current()
    by_channel = run.frame(
        contacts.group_by(["period", "channel"]).aggregate(
            contacts=contacts.count(), customers=contacts.customer_id.nunique()
        )
    )
    supported = run.frame(
        contacts.group_by("period").aggregate(supported=contacts.customer_id.nunique())
    )
    frame = pd.DataFrame({"period": range(periods.first, periods.last + 1)})
    frame = frame.merge(supported, on="period", how="left").fillna({"supported": 0})
    for channel in sorted(by_channel["channel"].unique()):
        part = by_channel[by_channel["channel"] == channel].set_index("period")
        frame[f"contacts_{channel}"] = frame["period"].map(part["contacts"]).fillna(0)
        frame[f"customers_{channel}"] = frame["period"].map(part["customers"]).fillna(0)
    frame.insert(1, "period_start", [period_start(int(n), support.period) for n in frame["period"]])
    return frame


def _customer_periods(events: EventLog, support: Support) -> ibis.Table:
    """One row per customer and period with any event: contacts, purchases, revenue."""
    table = events.table
    value = table.value.fill_null(0.0) if events.has_value else ibis.literal(0.0)
    is_purchase = purchases(events)
    return customer_periods(
        events,
        support.period,
        contacts=_matches(events, support.contacts).cast("int64"),
        purchases=is_purchase.cast("int64"),
        revenue=is_purchase.ifelse(value, 0.0),
    )


def _persona(events: EventLog) -> ibis.Table:
    table = events.table
    persona = table.persona if "persona" in table.columns else ibis.literal("all")
    keyed = table.select("customer_id", persona=persona.cast("string"))
    return keyed.group_by("customer_id").aggregate(persona=keyed.persona.max())


def _history_bucket(count: ibis.Value) -> ibis.Value:
    return ibis.cases(
        *[
            (
                count.between(low, high),
                f"{low}" if low == high else f"{low}+" if high > 10**8 else f"{low}-{high}",
            )
            for low, high in HISTORY_BUCKETS
        ],
        else_="0",
    )


class UpliftRow(Row):
    """One outcome: supported customers against comparable unsupported ones."""

    outcome: str
    description: str
    supported: float = Field(description="Mean outcome of supported customers.")
    comparable: float = Field(description="Mean outcome of comparable unsupported customers.")
    uplift: float = Field(description="supported - comparable, weighted over strata.")
    ci_low: float | None = Field(description="Lower end of the 95% interval.")
    ci_high: float | None
    p_value: float | None


class Uplift(BaseModel):
    """Supported against comparable unsupported customers, outcome by outcome."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    table: Annotated[pd.DataFrame, TableOf(UpliftRow)]
    outcome_periods: int
    period: SupportPeriod
    customer_periods: int
    supported_customer_periods: int
    without_comparison: int
    strata: int

    def row(self, outcome: str) -> dict[str, Any]:
        """One outcome's row."""
        found = self.table[self.table["outcome"] == outcome]
        return {str(k): v for k, v in found.iloc[0].to_dict().items()}


def support_uplift(events: EventLog, support: Support) -> Uplift:
    """The uplift of supported customers over comparable unsupported ones (see module doc)."""
    periods = complete_periods(events, support.period)
    horizon = support.outcome_periods
    last_start = periods.last - horizon - 1
    if last_start < periods.first:
        raise DataError(
            f"the data has too few complete {support.period}s to follow customers for "
            f"{horizon} {support.period}s after a contact",
            hint="lower support.outcome_periods in the spec",
            code="too-short",
        )
    cp = _customer_periods(events, support)
    first_purchase = (
        cp.filter(cp.purchases > 0).group_by("customer_id").aggregate(first=ibis._.period.min())
    )
    grid = cp.filter(cp.period.between(periods.first, last_start)).join(
        first_purchase, "customer_id"
    )
    grid = grid.filter(grid.first < grid.period).select(
        "customer_id", start=grid.period, supported=(grid.contacts > 0).cast("int64")
    )
    later = cp.select(customer_id2=cp.customer_id, at=cp.period, p=cp.purchases, r=cp.revenue)
    joined = grid.join(
        later, (grid.customer_id == later.customer_id2) & (later.at <= grid.start + horizon + 1)
    )
    after = (joined.at > joined.start + 1) & (joined.at <= joined.start + horizon + 1)
    rows = joined.group_by(["customer_id", "start", "supported"]).aggregate(
        prior=joined.p.sum(where=joined.at < joined.start),
        landmark=(joined.at == joined.start + 1).cast("int64").max(),
        retained=(joined.at == joined.start + horizon + 1).cast("int64").max(),
        purchases_after=joined.p.sum(where=after),
        revenue_after=joined.r.sum(where=after),
    )
    rows = rows.filter(rows.landmark == 1)
    rows = rows.join(_persona(events), "customer_id")
    rows = rows.mutate(
        history=_history_bucket(rows.prior.fill_null(0)),
        purchases_after=rows.purchases_after.fill_null(0).cast("float64"),
        revenue_after=rows.revenue_after.fill_null(0.0),
        retained=rows.retained.cast("float64"),
    )
    measures: dict[str, Any] = {"n": rows.count()}
    for outcome in OUTCOMES:
        measures[f"{outcome}_sum"] = rows[outcome].sum()
        measures[f"{outcome}_squares"] = (rows[outcome] * rows[outcome]).sum()
    strata = runner.current().frame(
        rows.group_by(["persona", "history", "supported"]).aggregate(**measures)
    )
    return _estimate(strata, support)


def _estimate(strata: pd.DataFrame, support: Support) -> Uplift:
    treated = strata[strata["supported"] == 1].set_index(["persona", "history"])
    control = strata[strata["supported"] == 0].set_index(["persona", "history"])
    both = treated.index.intersection(control.index)
    without = int(treated.loc[treated.index.difference(control.index), "n"].sum())
    if both.empty:
        raise DataError(
            "no supported customer has a comparable unsupported one (same persona and "
            "purchases so far)",
            hint="more data or a longer support period may give comparable customers",
            code="no-comparison",
        )
    t, c = treated.loc[both], control.loc[both]
    weights = t["n"] / t["n"].sum()
    rows = []
    for outcome, label in OUTCOMES.items():
        t_mean, t_var = _moments(t, outcome)
        c_mean, c_var = _moments(c, outcome)
        uplift = float(np.sum(weights * (t_mean - c_mean)))
        variance = float(np.sum(weights**2 * (t_var / t["n"] + c_var / c["n"])))
        error = math.sqrt(variance)
        rows.append(
            {
                "outcome": outcome,
                "description": label,
                "supported": float(np.sum(weights * t_mean)),
                "comparable": float(np.sum(weights * c_mean)),
                "uplift": uplift,
                "ci_low": uplift - Z_95 * error,
                "ci_high": uplift + Z_95 * error,
                "p_value": float(2 * stats.norm.sf(abs(uplift) / error)) if error > 0 else None,
            }
        )
    return Uplift(
        table=frame_of(rows, UpliftRow),
        outcome_periods=support.outcome_periods,
        period=support.period,
        customer_periods=int(strata["n"].sum()),
        supported_customer_periods=int(treated["n"].sum()),
        without_comparison=without,
        strata=len(both),
    )


def _moments(frame: pd.DataFrame, outcome: str) -> tuple[pd.Series, pd.Series]:
    n = frame["n"].astype(float)
    mean = frame[f"{outcome}_sum"] / n
    variance = (frame[f"{outcome}_squares"] - n * mean**2) / (n - 1).clip(lower=1)
    return mean, variance.clip(lower=0)


class ChangeRow(Row):
    """One measure before and after a change."""

    measure: str
    kind: str = Field(description="share, score or money.")
    before: float | None
    after: float | None
    difference: float | None
    ci_low: float | None = Field(description="Lower end of the 95% interval of the difference.")
    ci_high: float | None
    p_value: float | None
    n_before: int
    n_after: int


class ChangeImpact(BaseModel):
    """Before and after a dated change: each measure with the difference and its interval."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    name: str
    date: dt.date
    before: tuple[dt.date, dt.date]
    after: tuple[dt.date, dt.date]
    table: Annotated[pd.DataFrame, TableOf(ChangeRow)]


def change_impact(
    events: EventLog,
    support: Support,
    name: str,
    date: dt.date | None,
    periods: int | None = None,
    period_costs: pd.Series | None = None,
    windows: tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None = None,
) -> ChangeImpact:
    """Compare retention, repeat purchase, CSAT and support cost per customer before and after.

    ``periods`` complete periods before the one the change falls in are compared with as
    many from the first period that starts on or after the change (default: the spec's
    ``outcome_periods``). Instead of a date, ``windows`` gives the two periods to compare
    (first and last day of each; the support periods they touch are used).
    ``period_costs`` (support cost per period, by period number) gives the cost per
    supported customer.
    """
    span = complete_periods(events, support.period)
    if windows is not None:
        (b0, b1), (a0, a1) = windows
        before = (max(span.first, period_of(b0, support.period)), period_of(b1, support.period))
        after = (period_of(a0, support.period), min(span.last - 1, period_of(a1, support.period)))
        date = date or a0
    elif date is None:
        raise ValueError("give the change's date or the two windows to compare")
    else:
        size = periods or support.outcome_periods
        change_period = period_of(date, support.period)
        starts_on = period_start(change_period, support.period) == date
        after_first = change_period if starts_on else change_period + 1
        before_last = change_period - 1
        before = (max(span.first, before_last - size + 1), before_last)
        after = (after_first, min(span.last - 1, after_first + size - 1))
    if before[0] > before[1] or after[0] > after[1]:
        raise DataError(
            f"the change '{name}' on {date} leaves no complete {support.period} before or after "
            "it in the data (retention needs the period after each one)",
            hint="check the change's date against the span of the events",
            code="too-short",
        )
    cp = _customer_periods(events, support)
    first_purchase = (
        cp.filter(cp.purchases > 0).group_by("customer_id").aggregate(first=ibis._.period.min())
    )
    active = cp.join(first_purchase, "customer_id")
    active = active.filter(active.first < active.period)
    following = cp.select(customer_id2=cp.customer_id, next_period=cp.period)
    marked = active.left_join(
        following,
        (active.customer_id == following.customer_id2)
        & (following.next_period == active.period + 1),
    )
    window = marked.mutate(
        side=ibis.cases(
            (marked.period.between(*before), "before"),
            (marked.period.between(*after), "after"),
            else_=None,
        )
    ).filter(ibis._.side.notnull())
    run = runner.current()
    rates = run.frame(
        window.group_by("side").aggregate(
            customers=window.count(),
            retained=window.next_period.notnull().cast("int64").sum(),
            bought=(window.purchases > 0).cast("int64").sum(),
            supported=(window.contacts > 0).cast("int64").sum(),
        )
    ).set_index("side")
    rows = [
        _proportions("retention (active again next period)", rates, "retained"),
        _proportions("repeat purchase (bought in the period)", rates, "bought"),
    ]
    if support.csat is not None and events.has_satisfaction:
        rows.append(_csat(events, support, before, after))
    if period_costs is not None:
        per_period = run.frame(
            window.filter(window.contacts > 0)
            .group_by(["side", "period"])
            .aggregate(supported=ibis._.count())
        )
        per_period["cost"] = per_period["period"].map(period_costs) / per_period["supported"]
        rows.append(_means("support cost per supported customer", per_period, "cost"))
    return ChangeImpact(
        name=name,
        date=date,
        before=(period_start(before[0], support.period), period_end(before[1], support.period)),
        after=(period_start(after[0], support.period), period_end(after[1], support.period)),
        table=frame_of(rows, ChangeRow),
    )


def _proportions(label: str, rates: pd.DataFrame, column: str) -> dict[str, Any]:
    counts = {
        side: (int(rates.at[side, column]), int(rates.at[side, "customers"]))  # type: ignore[arg-type]
        for side in ("before", "after")
    }
    p0 = counts["before"][0] / counts["before"][1]
    p1 = counts["after"][0] / counts["after"][1]
    error = math.sqrt(p0 * (1 - p0) / counts["before"][1] + p1 * (1 - p1) / counts["after"][1])
    return _row(label, p0, p1, error, counts["before"][1], counts["after"][1], "share")


def _csat(
    events: EventLog, support: Support, before: tuple[int, int], after: tuple[int, int]
) -> dict[str, Any]:
    assert support.csat is not None
    table = events.table
    scored = table.filter(_matches(events, support.csat) & table.satisfaction.notnull()).select(
        period=period_number(table, support.period), score=table.satisfaction
    )
    side = ibis.cases(
        (scored.period.between(*before), "before"),
        (scored.period.between(*after), "after"),
        else_=None,
    )
    scored = scored.mutate(side=side).filter(ibis._.side.notnull())
    moments = (
        runner.current()
        .frame(
            scored.group_by("side").aggregate(
                n=scored.count(), mean=scored.score.mean(), sd=scored.score.std()
            )
        )
        .set_index("side")
    )
    if not {"before", "after"} <= set(moments.index):
        return _row("CSAT of support", math.nan, math.nan, math.nan, 0, 0, "score")
    b, a = moments.loc["before"], moments.loc["after"]
    error = math.sqrt(b["sd"] ** 2 / b["n"] + a["sd"] ** 2 / a["n"])
    return _row(
        "CSAT of support",
        float(b["mean"]),
        float(a["mean"]),
        error,
        int(b["n"]),
        int(a["n"]),
        "score",
    )


def _means(label: str, frame: pd.DataFrame, column: str) -> dict[str, Any]:
    groups = {
        side: frame.loc[frame["side"] == side, column].to_numpy() for side in ("before", "after")
    }
    b, a = groups["before"], groups["after"]
    if len(b) < 2 or len(a) < 2:
        return _row(label, float(np.mean(b)), float(np.mean(a)), math.nan, len(b), len(a), "money")
    test = stats.ttest_ind(a, b, equal_var=False)
    interval = test.confidence_interval(0.95)
    row = _row(label, float(np.mean(b)), float(np.mean(a)), math.nan, len(b), len(a), "money")
    row["ci_low"], row["ci_high"] = float(interval.low), float(interval.high)
    row["p_value"] = float(test.pvalue)
    return row


def _row(
    label: str, before: float, after: float, error: float, n_before: int, n_after: int, kind: str
) -> dict[str, Any]:
    difference = after - before
    return {
        "measure": label,
        "kind": kind,
        "before": before,
        "after": after,
        "difference": difference,
        "ci_low": difference - Z_95 * error,
        "ci_high": difference + Z_95 * error,
        "p_value": float(2 * stats.norm.sf(abs(difference) / error)) if error > 0 else None,
        "n_before": n_before,
        "n_after": n_after,
    }
