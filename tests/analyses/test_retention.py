from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ibis.backends import BaseBackend

from journeys.analyses.retention import RetentionParams, retention
from journeys.data import EventLog, read_events
from tests.analyses import reference
from tests.conftest import SIMPLE_SHOP

Journeys = Callable[..., EventLog]


def test_simple_shop_monthly_retention(
    con: BaseBackend, simple_shop_rows: list[dict[str, Any]]
) -> None:
    result = retention(read_events(SIMPLE_SHOP, connection=con))
    expected = reference.monthly_retention(simple_shop_rows)
    cohorts = {c["cohort"]: c for c in result.to_dict()["cohorts"]}
    assert list(cohorts) == list(expected)
    for label, shares in expected.items():
        assert cohorts[label]["retention"] == pytest.approx(shares), label
    assert cohorts["2019-11"]["size"] == sum(
        1
        for events in reference.by_customer(simple_shop_rows).values()
        if events[0]["timestamp"].strftime("%Y-%m") == "2019-11"
    )


def test_weekly_cohorts_unbounded_and_a_return_event(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            # Monday 2024-01-01 starts the week
            "ann": [("signup", "2024-01-02"), ("buy", "2024-01-16")],
            "bob": [("signup", "2024-01-03"), ("login", "2024-01-09"), ("buy", "2024-01-24")],
            "cyd": [("signup", "2024-01-09"), ("buy", "2024-01-10")],
        }
    )
    result = retention(
        events, RetentionParams(period="week", cohort_event="signup", return_event="buy")
    )
    cohorts = {c["cohort"]: c for c in result.to_dict()["cohorts"]}
    assert cohorts["2024-01-01"]["size"] == 2
    assert cohorts["2024-01-01"]["retention"] == [0.0, 0.0, 0.5, 0.5]
    assert cohorts["2024-01-01"]["unbounded_retention"] == [1.0, 1.0, 1.0, 0.5]
    assert cohorts["2024-01-08"]["retention"] == [1.0, 0.0, 0.0]


def test_repeat_purchase_and_revenue_split(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            "ann": [
                ("buy", "2024-01-05", {"amount": 10.0}),
                ("buy", "2024-01-20", {"amount": 5.0}),
                ("buy", "2024-02-03", {"amount": 7.0}),
            ],
            "bob": [("buy", "2024-02-10", {"amount": 20.0}), ("visit", "2024-03-01")],
            "cyd": [("visit", "2024-01-01")],
        }
    )
    result = retention(events, RetentionParams(purchase_event="buy"))
    assert result.purchasers == 2
    assert result.repeat_purchase_rate == 0.5
    assert result.revenue is not None
    revenue = result.revenue.set_index("period")
    assert revenue.loc["2024-01", "new"] == 15.0
    assert revenue.loc["2024-01", "existing"] == 0.0
    assert revenue.loc["2024-02", "new"] == 20.0
    assert revenue.loc["2024-02", "existing"] == 7.0
    assert revenue.loc["2024-02", "existing_share"] == pytest.approx(7 / 27)
