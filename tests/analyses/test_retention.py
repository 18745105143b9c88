from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from journeys.analyses.definitions import Period
from journeys.analyses.retention import RetentionParams, retention
from journeys.data.reader import EventLog, read_events
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
    typed = {cohort.cohort: cohort for cohort in result.cohorts}
    assert list(typed) == list(expected)
    for label, cohort in typed.items():
        assert cohort.size == cohorts[label]["size"]
        assert cohort.retention == pytest.approx(expected[label]), label
        assert cohort.customers == [round(share * cohort.size) for share in cohort.retention]
    matrix = result.matrix()
    for label, shares in expected.items():
        row = matrix.loc[label].dropna().tolist()
        assert row == pytest.approx(shares), label
    long = result.to_pandas()
    assert list(long.columns) == [
        "cohort",
        "size",
        "period",
        "customers",
        "retention",
        "unbounded_retention",
    ]
    assert len(long) == sum(len(shares) for shares in expected.values())


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
def test_simple_shop_retention_by_period(
    con: BaseBackend, simple_shop_rows: list[dict[str, Any]], period: Period
) -> None:
    result = retention(read_events(SIMPLE_SHOP, connection=con), RetentionParams(period=period))
    expected = reference.cohort_retention(simple_shop_rows, period)
    assert [cohort.cohort for cohort in result.cohorts] == list(expected)
    for cohort in result.cohorts:
        wanted = expected[cohort.cohort]
        assert cohort.size == wanted["size"], cohort.cohort
        assert cohort.retention == pytest.approx(wanted["retention"]), cohort.cohort
        assert cohort.unbounded_retention == pytest.approx(wanted["unbounded_retention"])
    unbounded = result.matrix(unbounded=True)
    first = next(iter(expected))
    assert unbounded.loc[first].dropna().tolist() == pytest.approx(
        expected[first]["unbounded_retention"]
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
    assert list(cohorts) == ["2024-01-01", "2024-01-08"]
    assert cohorts["2024-01-01"]["size"] == 2
    assert cohorts["2024-01-01"]["retention"] == [0.0, 0.0, 0.5, 0.5]
    assert cohorts["2024-01-01"]["unbounded_retention"] == [1.0, 1.0, 1.0, 0.5]
    assert cohorts["2024-01-01"]["customers"] == [0, 0, 1, 1]
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


def test_every_row_of_a_transaction_log_is_a_purchase(con: BaseBackend) -> None:
    orders = pa.Table.from_pylist(
        [
            {"customer_id": "ann", "timestamp": datetime(2024, 1, 5), "amount": 10.0},
            {"customer_id": "ann", "timestamp": datetime(2024, 2, 7), "amount": 4.0},
            {"customer_id": "bob", "timestamp": datetime(2024, 2, 1), "amount": 6.0},
            {"customer_id": "cyd", "timestamp": datetime(2024, 2, 9), "amount": 1.0},
            {"customer_id": "cyd", "timestamp": datetime(2024, 2, 20), "amount": 2.0},
        ]
    )
    events = read_events(orders, connection=con, every_row_is="order")
    assert "event" not in events.report.columns
    result = retention(events)
    # purchasers: all three; repeaters: ann and cyd
    assert result.purchasers == 3
    assert result.repeat_purchase_rate == pytest.approx(2 / 3)
    assert result.revenue is not None
    revenue = result.revenue.set_index("period")
    assert revenue.loc["2024-01", "new"] == 10.0
    assert revenue.loc["2024-02", "new"] == 9.0  # bob 6, cyd 1 + 2
    assert revenue.loc["2024-02", "existing"] == 4.0  # ann
    assert revenue.loc["2024-02", "new_customers"] == 2
    assert revenue.loc["2024-02", "existing_customers"] == 1
    assert revenue.loc["2024-02", "existing_share"] == pytest.approx(4 / 13)
    json_rows = {row["period"]: row for row in result.to_dict()["revenue"]}
    assert json_rows["2024-01"]["existing_share"] == 0.0
    assert json_rows["2024-02"]["total"] == 13.0


def test_the_table_a_person_reads_shows_each_cohorts_size() -> None:
    result = retention(read_events(SIMPLE_SHOP), RetentionParams(period="month"))
    title, table = result.views()[0]
    assert title.startswith("retention by monthly cohort")
    first_users: dict[str, str] = {}
    import csv

    with SIMPLE_SHOP.open() as handle:
        for row in csv.DictReader(handle):
            month = row["timestamp"][:7]
            if month < first_users.get(row["user_id"], "9999"):
                first_users[row["user_id"]] = month
    expected = {
        month: list(first_users.values()).count(month) for month in set(first_users.values())
    }
    assert dict(zip(table["cohort"], table["customers"], strict=True)) == expected
