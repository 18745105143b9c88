"""Each customer's purchases summarised in the engine, for the customer-value models.

Purchases on the same day are merged into one (their values summed): a *purchase*
below is a day with a purchase, and its value is that day's total. Per customer, up to
the calibration end: ``frequency`` (purchases less one), ``recency`` and ``T`` (from the
first purchase to the last one and to the calibration end, in the time unit), the mean
value of the repeat purchases (what the Gamma-Gamma model learns from), the mean value
of all purchases with the first, their sum of squared differences from that mean and
the largest one (what the credibility spend estimate learns from); after it, the
purchases and their value (the holdout).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from journeys.analyses import runner
from journeys.analyses.definitions import purchases
from journeys.data.reader import EventLog
from journeys.errors import DataError, OptionsError

if TYPE_CHECKING:
    from journeys.analyses.clv import ClvParams

DAY_US = 86_400_000_000
EXACT = "decimal(38, 6)"


def purchase_summary(events: EventLog, params: ClvParams) -> tuple[pd.DataFrame, dt.date, int, int]:
    """Per-customer frequency, recency, T and spend summaries, computed in the engine.

    Returns the summary, the calibration end, the holdout length in days and the number
    of customers whose first purchase came after the calibration end (not fitted).
    """
    is_purchase = purchases(events, params.purchase_event)
    run = runner.current()
    table = events.table
    # Summed as exact decimals: float sums in a parallel engine vary in their last digits
    # from run to run, and a customer's mean spend must not.
    value = (table.value.fill_null(0.0) if events.has_value else ibis.literal(0.0)).cast(EXACT)
    bought = table.filter(is_purchase).select(
        "customer_id", day=(table.timestamp_us // DAY_US).cast("int64"), value=value
    )
    per_day = bought.group_by(["customer_id", "day"]).aggregate(value=bought.value.sum())
    span = run.arrow(per_day.aggregate(first=per_day.day.min(), last=per_day.day.max()))
    first_day, last_day = span["first"][0].as_py(), span["last"][0].as_py()
    if first_day is None:
        raise DataError(
            "there are no purchases among the events",
            hint="check the spec's purchase milestone or --purchase-event",
            code="no-purchases",
        )
    end_day = last_day if params.calibration_end is None else _day_number(params.calibration_end)
    if end_day < first_day:
        raise OptionsError(
            f"the calibration end {params.calibration_end} is before the first purchase "
            f"({_date(first_day)})",
            hint="choose a --calibration-end between the first and the last purchase",
            code="options",
        )
    inside = per_day.day <= end_day
    per_customer = per_day.group_by("customer_id").aggregate(
        first_day=per_day.day.min(),
        last_day=per_day.day.max(where=inside),
        purchase_days=inside.cast("int64").sum(),
        calibration_value=per_day.value.sum(where=inside),
        calibration_squares=(per_day.value * per_day.value).sum(where=inside),
        largest_value=per_day.value.max(where=inside),
        first_value=per_day.value.argmin(per_day.day),
        holdout_purchases=(~inside).cast("int64").sum(),
        holdout_value=per_day.value.sum(where=~inside),
    )
    frame = run.frame(_summary(per_customer, params.unit_days, end_day, events.has_value))
    # In customer order: the engine returns rows in any order, and sums over them in
    # Python (the holdout table) would then differ in their last digits between runs.
    frame = frame.sort_values("customer_id", kind="stable")
    fitted = frame[frame["first_purchase_day"] <= end_day]
    set_aside = len(frame) - len(fitted)
    fitted = fitted.assign(
        first_purchase=pd.to_datetime(fitted["first_purchase_day"], unit="D").dt.date,
        **_spend(fitted, events.has_value),
    ).drop(
        columns=["first_purchase_day", "purchase_days", "calibration_value", "calibration_squares"]
    )
    return fitted.reset_index(drop=True), _date(end_day), last_day - end_day, set_aside


def _summary(per_customer: ibis.Table, unit: float, end_day: int, has_value: bool) -> ibis.Table:
    """The per-customer columns the models read, from the per-customer sums."""
    frequency = per_customer.purchase_days - 1

    def valued(column: ibis.Value) -> ibis.Value:
        return column.cast("float64") if has_value else ibis.null("float64")

    return per_customer.select(
        "customer_id",
        frequency=frequency,
        recency=(per_customer.last_day - per_customer.first_day) / unit,
        T=(end_day - per_customer.first_day) / unit,
        monetary_value=valued(
            (frequency > 0).ifelse(
                (per_customer.calibration_value - per_customer.first_value) / frequency, None
            )
        ),
        largest_order_value=valued(per_customer.largest_value),
        first_purchase_day=per_customer.first_day,
        holdout_purchases=per_customer.holdout_purchases,
        holdout_value=per_customer.holdout_value.cast("float64").fill_null(0.0)
        if has_value
        else ibis.null("float64"),
        purchase_days=per_customer.purchase_days,
        calibration_value=per_customer.calibration_value.cast("float64"),
        calibration_squares=per_customer.calibration_squares.cast("float64"),
    )


def _spend(fitted: pd.DataFrame, has_value: bool) -> dict[str, pd.Series]:
    """Each customer's mean purchase value and the sum of squared differences from it.

    From the exact sums the engine returned: ``sum(v^2) - sum(v)^2 / n``, never below 0.
    """
    if not has_value:
        missing = pd.Series(float("nan"), index=fitted.index)
        return {"mean_order_value": missing, "order_value_squares": missing}
    days = fitted["purchase_days"]
    total = fitted["calibration_value"]
    return {
        "mean_order_value": total / days,
        "order_value_squares": (fitted["calibration_squares"] - total**2 / days).clip(lower=0.0),
    }


def uncovered(events: EventLog, calibration_end: dt.date) -> str | None:
    """A warning when the calibration end comes after the last event of the log.

    The models then read the days no event covers as days without purchases, which is
    right only if the data run to the calibration end (a transaction log whose period is
    known to end there) and makes customers look lost otherwise.
    """
    table = events.table
    latest = runner.current().arrow(table.aggregate(last=table.timestamp_us.max()))
    last_day = _date(int(latest["last"][0].as_py()) // DAY_US)
    if calibration_end <= last_day:
        return None
    days = (calibration_end - last_day).days
    return (
        f"the calibration end {calibration_end} is {days} day{'s' if days > 1 else ''} after "
        f"the last event ({last_day}): the models read those days as days without "
        "purchases, which is right only if the data run to that day; otherwise choose a "
        f"--calibration-end up to {last_day}"
    )


def _day_number(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def _date(day_number: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day_number))
