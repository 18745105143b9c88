"""Support volumes, the uplift of supported customers and the impact of a change, against
plain-Python computations of the same definitions on a random small business."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from journeys.analyses.breakeven import breakeven
from journeys.analyses.definitions import (
    period_end,
    period_label,
    period_number,
    period_of,
    period_start,
)
from journeys.analyses.support_effect import change_impact, support_uplift, volumes
from journeys.data.mapping import apply_spec
from journeys.data.reader import EventLog
from journeys.spec import parse_spec

SPEC = """\
name: Small SaaS
stages:
  - {id: buy, name: Buy}
  - {id: use, name: Use}
touchpoints:
  - {id: order, name: Order, stage: buy, channel: web, events: pay}
  - {id: app, name: App, stage: use, channel: product, events: login}
  - {id: chat, name: Chat, stage: use, channel: chat, events: chat}
  - {id: ticket, name: Ticket, stage: use, channel: email, events: ticket}
  - {id: csat, name: CSAT, stage: use, channel: email, events: csat}
personas:
  - {id: basic, name: Basic, where: [{column: plan, equals: basic}]}
  - {id: pro, name: Pro, where: [{column: plan, equals: pro}]}
milestones:
  - {id: purchase, name: Purchase, events: pay}
support:
  period: month
  contacts: {touchpoints: [chat, ticket]}
  csat: {touchpoints: [csat]}
  outcome_periods: 2
"""
MONTHS = 12


def business(seed: int = 4) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Customers with a first purchase, monthly activity, payments and support contacts."""
    rng = random.Random(seed)
    customers: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for number in range(80):
        plan = rng.choice(["basic", "pro"])
        first = rng.randrange(0, 5)
        last = min(MONTHS - 1, first + rng.randrange(1, 10))
        events: list[tuple[str, str, dict[str, Any]]] = []
        for month in range(first, last + 1):
            day = rng.randrange(1, 28)
            stamp = f"2024-{month + 1:02d}-{day:02d} 10:00"
            events.append(("login", stamp, {"plan": plan}))
            if month == first or rng.random() < 0.6:
                value = 10.0 if plan == "basic" else 40.0
                events.append(
                    ("pay", f"2024-{month + 1:02d}-{day:02d} 11:00", {"plan": plan, "value": value})
                )
            if rng.random() < 0.4:
                kind = rng.choice(["chat", "ticket"])
                events.append((kind, f"2024-{month + 1:02d}-{day:02d} 12:00", {"plan": plan}))
                if rng.random() < 0.7:
                    score = float(rng.randrange(1, 6))
                    events.append(
                        (
                            "csat",
                            f"2024-{month + 1:02d}-{day:02d} 13:00",
                            {"plan": plan, "satisfaction": score},
                        )
                    )
        customers[f"c{number:03d}"] = events
    customers["edge"] = [
        ("login", "2024-01-01 00:00", {"plan": "basic"}),
        ("login", "2024-12-31 23:00", {"plan": "basic"}),
    ]
    return customers


@pytest.fixture
def log(journeys_for: Callable[..., EventLog]) -> EventLog:
    return apply_spec(journeys_for(business()), parse_spec(SPEC))


def _per_month() -> dict[str, dict[int, dict[str, float]]]:
    """customer -> month -> events, contacts, purchases, revenue (plain Python)."""
    table: dict[str, dict[int, dict[str, float]]] = defaultdict(
        lambda: defaultdict(lambda: {"events": 0, "contacts": 0, "purchases": 0, "revenue": 0.0})
    )
    for customer, events in business().items():
        for name, stamp, extra in events:
            cell = table[customer][int(stamp[5:7]) - 1]
            cell["events"] += 1
            cell["contacts"] += name in ("chat", "ticket")
            cell["purchases"] += name == "pay"
            cell["revenue"] += extra.get("value", 0.0) if name == "pay" else 0.0
    return table


def test_volumes_count_supported_customers_and_contacts_per_channel(log: EventLog) -> None:
    spec = parse_spec(SPEC)
    assert spec.support is not None
    frame = volumes(log, spec.support).set_index("period")
    months = list(range(1, MONTHS - 1))  # the first and the last month may be partial
    assert [int(p) % 12 for p in frame.index] == months
    contacts: dict[tuple[int, str], int] = defaultdict(int)
    supported: dict[int, set[str]] = defaultdict(set)
    for customer, events in business().items():
        for name, stamp, _ in events:
            if name in ("chat", "ticket"):
                month = int(stamp[5:7]) - 1
                contacts[(month, "chat" if name == "chat" else "email")] += 1
                supported[month].add(customer)
    for period, row in frame.iterrows():
        month = int(period) % 12
        assert row["supported"] == len(supported[month])
        assert row["contacts_chat"] == contacts[(month, "chat")]
        assert row["contacts_email"] == contacts[(month, "email")]
        assert row["period_start"] == date(2024, month + 1, 1)


def _reference_uplift() -> dict[str, tuple[float, float, float]]:
    """Stratified difference in means and its 95% interval, by the module's definitions."""
    cells = _per_month()
    plans = {customer: events[0][2]["plan"] for customer, events in business().items()}
    horizon = 2
    rows = []
    for customer, months in cells.items():
        bought = [m for m, cell in months.items() if cell["purchases"]]
        if not bought:
            continue
        first = min(bought)
        for start in range(1, MONTHS - 2 - horizon - 1 + 1):
            if start not in months or first >= start or start + 1 not in months:
                continue
            prior = sum(cell["purchases"] for m, cell in months.items() if m < start)
            after = range(start + 2, start + horizon + 2)
            bucket = next(
                label
                for low, high, label in (
                    (1, 1, "1"),
                    (2, 2, "2"),
                    (3, 3, "3"),
                    (4, 6, "4-6"),
                    (7, 12, "7-12"),
                )
                if low <= prior <= high
            )
            rows.append(
                {
                    "stratum": (plans[customer], bucket),
                    "supported": months[start]["contacts"] > 0,
                    "retained": float(start + horizon + 1 in months),
                    "purchases_after": float(
                        sum(months[m]["purchases"] for m in after if m in months)
                    ),
                    "revenue_after": sum(months[m]["revenue"] for m in after if m in months),
                }
            )
    result = {}
    for outcome in ("retained", "purchases_after", "revenue_after"):
        groups: dict[tuple[Any, bool], list[float]] = defaultdict(list)
        for row in rows:
            groups[(row["stratum"], row["supported"])].append(row[outcome])
        strata = [
            s
            for s in {row["stratum"] for row in rows}
            if (s, True) in groups and (s, False) in groups
        ]
        treated_total = sum(len(groups[(s, True)]) for s in strata)
        uplift = variance = 0.0
        for stratum in strata:
            t, c = groups[(stratum, True)], groups[(stratum, False)]
            weight = len(t) / treated_total
            uplift += weight * (statistics.fmean(t) - statistics.fmean(c))
            var_t = statistics.variance(t) if len(t) > 1 else 0.0
            var_c = statistics.variance(c) if len(c) > 1 else 0.0
            variance += weight**2 * (var_t / len(t) + var_c / len(c))
        error = 1.959963984540054 * math.sqrt(variance)
        result[outcome] = (uplift, uplift - error, uplift + error)
    return result


def test_uplift_is_the_stratified_difference_of_supported_and_comparable(log: EventLog) -> None:
    spec = parse_spec(SPEC)
    assert spec.support is not None
    found = support_uplift(log, spec.support)
    for outcome, (uplift, low, high) in _reference_uplift().items():
        row = found.row(outcome)
        assert row["uplift"] == pytest.approx(uplift), outcome
        assert row["ci_low"] == pytest.approx(low), outcome
        assert row["ci_high"] == pytest.approx(high), outcome


def test_change_impact_compares_equal_windows(log: EventLog) -> None:
    spec = parse_spec(SPEC)
    assert spec.support is not None
    impact = change_impact(log, spec.support, "new bot", date(2024, 6, 15), periods=2)
    # the change falls inside June: before is April-May, after July-August
    assert impact.before == (date(2024, 4, 1), date(2024, 5, 31))
    assert impact.after == (date(2024, 7, 1), date(2024, 8, 31))
    cells = _per_month()
    counts = {"before": [0, 0, 0], "after": [0, 0, 0]}
    for months in cells.values():
        bought = [m for m, cell in months.items() if cell["purchases"]]
        if not bought:
            continue
        for month in months:
            side = "before" if month in (3, 4) else "after" if month in (6, 7) else None
            if side is None or min(bought) >= month:
                continue
            counts[side][0] += 1
            counts[side][1] += month + 1 in months
            counts[side][2] += months[month]["purchases"] > 0
    table = impact.table.set_index("measure")
    retention = table.loc["retention (active again next period)"]
    assert retention["n_before"] == counts["before"][0]
    assert retention["before"] == pytest.approx(counts["before"][1] / counts["before"][0])
    assert retention["after"] == pytest.approx(counts["after"][1] / counts["after"][0])
    bought = table.loc["repeat purchase (bought in the period)"]
    assert bought["after"] == pytest.approx(counts["after"][2] / counts["after"][0])
    scores: dict[str, list[float]] = {"before": [], "after": []}
    for events in business().values():
        for name, stamp, extra in events:
            month = int(stamp[5:7]) - 1
            side = "before" if month in (3, 4) else "after" if month in (6, 7) else None
            if name == "csat" and side:
                scores[side].append(extra["satisfaction"])
    csat = table.loc["CSAT of support"]
    assert csat["before"] == pytest.approx(statistics.fmean(scores["before"]))
    assert csat["after"] == pytest.approx(statistics.fmean(scores["after"]))
    error = math.sqrt(
        statistics.variance(scores["before"]) / len(scores["before"])
        + statistics.variance(scores["after"]) / len(scores["after"])
    )
    assert csat["ci_high"] - csat["difference"] == pytest.approx(1.959963984540054 * error)


def test_change_impact_between_two_given_windows(log: EventLog) -> None:
    """The same comparison as a change on 15 June, given as two windows instead."""
    spec = parse_spec(SPEC)
    assert spec.support is not None
    by_date = change_impact(log, spec.support, "bot", date(2024, 6, 15), periods=2)
    by_windows = change_impact(
        log,
        spec.support,
        "bot",
        None,
        windows=((date(2024, 4, 1), date(2024, 5, 31)), (date(2024, 7, 1), date(2024, 8, 31))),
    )
    assert by_windows.before == by_date.before
    assert by_windows.after == by_date.after
    assert by_windows.table.equals(by_date.table)


def test_breakeven_volumes_are_one_row_per_period_and_channel(log: EventLog) -> None:
    """The break-even result's volumes: long, every complete month and channel, counted here."""
    result = breakeven(log)
    contacts: dict[tuple[int, str], int] = defaultdict(int)
    customers: dict[tuple[int, str], set[str]] = defaultdict(set)
    supported: dict[int, set[str]] = defaultdict(set)
    for customer, events in business().items():
        for name, stamp, _ in events:
            if name in ("chat", "ticket"):
                month = int(stamp[5:7])
                channel = "chat" if name == "chat" else "email"
                contacts[(month, channel)] += 1
                customers[(month, channel)].add(customer)
                supported[month].add(customer)
    expected = [
        {
            "period": f"2024-{month:02d}",
            "period_start": date(2024, month, 1),
            "supported": len(supported[month]),
            "channel": channel,
            "contacts": contacts[(month, channel)],
            "customers": len(customers[(month, channel)]),
        }
        for month in range(2, MONTHS)  # the first and the last month may be partial
        for channel in ("chat", "email")
    ]
    assert result.volumes.to_dict(orient="records") == expected
    # today's supported customers: the mean of the last six complete months
    recent = range(MONTHS - 6, MONTHS)
    assert result.numbers.actual_customers == pytest.approx(
        statistics.fmean(len(supported[month]) for month in recent)
    )
    assert result.period == "month"
    assert result.scenarios.iloc[0]["scenario"] == "today"
    # the value is the measured revenue uplift (margin 1), as support_uplift gives it
    support = parse_spec(SPEC).support
    assert support is not None
    assert result.uplift is not None
    assert result.numbers.value_per_customer == pytest.approx(
        support_uplift(log, support).row("revenue_after")["uplift"]
    )
    rows = result.to_dict()["volumes"]
    assert rows[0] == {**expected[0], "period_start": expected[0]["period_start"].isoformat()}


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
def test_period_helpers_agree_with_the_calendar(period: Any) -> None:
    day = date(2023, 12, 1)
    seen: list[int] = []
    while day <= date(2025, 3, 31):
        number = period_of(day, period)
        assert period_start(number, period) <= day <= period_end(number, period)
        assert period_end(number, period) + timedelta(days=1) == period_start(number + 1, period)
        if not seen or seen[-1] != number:
            assert not seen or number == seen[-1] + 1
            assert period_start(number, period) == day or not seen
            seen.append(number)
        day += timedelta(days=1)
    if period == "week":
        assert all(period_start(number, period).weekday() == 0 for number in seen)
    labels = {
        "day": "2024-02-29",
        "week": "2024-02-26",
        "month": "2024-02",
        "quarter": "2024-Q1",
    }
    assert period_label(period_of(date(2024, 2, 29), period), period) == labels[period]


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
def test_period_numbers_in_the_engine_are_those_of_the_calendar(
    journeys_for: Callable[..., EventLog], period: Any
) -> None:
    stamps = [
        "2023-12-31 23:59",
        "2024-01-01 00:00",
        "2024-03-31 23:30",
        "2024-04-01 00:10",
        "2024-06-02 12:00",  # a Sunday
        "2024-06-03 00:00",  # a Monday
        "1969-12-29 08:00",  # before 1970
        "2024-12-31 23:59",
    ]
    events = journeys_for({f"c{i}": [("x", stamp)] for i, stamp in enumerate(stamps)})
    table = events.table
    rows = (
        table.select("customer_id", "timestamp", number=period_number(table, period))
        .to_pyarrow()
        .to_pylist()
    )
    assert len(rows) == len(stamps)
    for row in rows:
        assert row["number"] == period_of(row["timestamp"].date(), period), row
