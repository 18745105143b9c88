"""The shared business definitions, each against a plain-Python reading of the same events."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

from journeys.analyses import runner
from journeys.analyses.definitions import (
    customer_periods,
    period_label,
    period_of,
    period_start,
)
from journeys.data.reader import EventLog

JOURNEYS: dict[str, list[Any]] = {
    "ann": [
        ("visit", "2024-01-01 09:00"),  # a Monday
        ("buy", "2024-01-07 23:59", {"value": 30.0}),  # the Sunday of the same week
        ("buy", "2024-01-08 00:00", {"value": 12.5}),  # the next Monday
    ],
    "bob": [
        ("visit", "2024-02-29 10:00"),
        ("visit", "2024-03-31 10:00"),
        ("buy", "2024-04-01 10:00", {"value": 7.0}),
    ],
}


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
def test_the_customer_period_table_sums_each_customers_period(
    journeys_for: Callable[..., EventLog], period: Any
) -> None:
    log = journeys_for(JOURNEYS)
    table = log.table
    is_buy = table.event == "buy"
    frame = runner.current().frame(
        customer_periods(
            log,
            period,
            purchases=is_buy.cast("int64"),
            revenue=is_buy.ifelse(table.value.fill_null(0.0), 0.0),
        )
    )
    found = {
        (row.customer_id, period_label(int(row.period), period)): (row.purchases, row.revenue)
        for row in frame.itertuples()
    }
    expected: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for customer, events in JOURNEYS.items():
        for event in events:
            day = dt.datetime.fromisoformat(event[1]).date()
            key = (customer, _label(day, period))
            expected[key][0] += event[0] == "buy"
            expected[key][1] += event[2]["value"] if event[0] == "buy" else 0.0
    assert found == {key: tuple(value) for key, value in expected.items()}


def test_without_sums_it_lists_the_active_periods(journeys_for: Callable[..., EventLog]) -> None:
    log = journeys_for(JOURNEYS)
    frame = runner.current().frame(customer_periods(log, "week"))
    weeks = sorted(
        (row.customer_id, period_start(int(row.period), "week")) for row in frame.itertuples()
    )
    assert weeks == [
        ("ann", dt.date(2024, 1, 1)),
        ("ann", dt.date(2024, 1, 8)),
        ("bob", dt.date(2024, 2, 26)),
        ("bob", dt.date(2024, 3, 25)),
        ("bob", dt.date(2024, 4, 1)),
    ]
    assert period_of(dt.date(2024, 1, 7), "week") == period_of(dt.date(2024, 1, 1), "week")


def _label(day: dt.date, period: str) -> str:
    """The period of a day, written independently of journeys' numbering."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
