"""Trends and sessions, against plain-Python computations over the same rows."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from journeys.analyses.funnel import FunnelParams, funnel
from journeys.analyses.paths import PathsParams, paths
from journeys.analyses.step_matrix import StepMatrixParams, step_matrix
from journeys.analyses.trends import TrendsParams, TrendsResult, trends
from journeys.analyses.units import UnitParams, sessions
from journeys.cli import main
from journeys.data.reader import EventLog, read_events
from journeys.errors import OptionsError
from tests.analyses.reference import by_customer
from tests.conftest import SIMPLE_SHOP, event_table

Journeys = Callable[..., EventLog]
WINDOW = dt.timedelta(hours=1)


@pytest.fixture
def journeys_for(duckdb_con: BaseBackend) -> Callable[..., EventLog]:
    """Events declared per customer, on DuckDB: the counts here are checked by hand; the
    comparisons with a plain computation on the shop's clickstream run on both engines."""

    def make(journeys: Any, **options: Any) -> EventLog:
        return read_events(event_table(journeys), connection=duckdb_con, **options)

    return make


@pytest.fixture(scope="module")
def shop(con: BaseBackend) -> EventLog:
    return read_events(SIMPLE_SHOP, connection=con)


def monday(when: dt.datetime) -> dt.date:
    day = when.date()
    return day - dt.timedelta(days=day.weekday())


def overall(result: TrendsResult) -> pd.DataFrame:
    return result.series[result.series["segment"].isna()].set_index("period_start")


def test_weekly_events_customers_and_conversion_match_a_plain_count(
    shop: EventLog, simple_shop_rows: list[dict[str, Any]]
) -> None:
    result = trends(shop, TrendsParams(period="week", steps=["catalog", "cart"], window="1h"))
    events: dict[dt.date, int] = defaultdict(int)
    customers: dict[dt.date, set[str]] = defaultdict(set)
    for row in simple_shop_rows:
        events[monday(row["timestamp"])] += 1
        customers[monday(row["timestamp"])].add(row["customer_id"])
    entered: dict[dt.date, int] = defaultdict(int)
    converted: dict[dt.date, int] = defaultdict(int)
    for rows in by_customer(simple_shop_rows).values():
        catalogs = [r["timestamp"] for r in rows if r["event"] == "catalog"]
        if not catalogs:
            continue
        week = monday(min(catalogs))
        entered[week] += 1
        carts = [r["timestamp"] for r in rows if r["event"] == "cart"]
        if any(t0 < t1 <= t0 + WINDOW for t0 in catalogs for t1 in carts):
            converted[week] += 1
    table = overall(result)
    weeks = sorted(events)
    assert list(table.index) == [weeks[0] + dt.timedelta(weeks=k) for k in range(len(weeks))]
    assert table["events"].to_dict() == dict(events)
    assert table["customers"].to_dict() == {week: len(ids) for week, ids in customers.items()}
    assert table["entered"].to_dict() == {week: entered.get(week, 0) for week in weeks}
    assert table["converted"].to_dict() == {week: converted.get(week, 0) for week in weeks}
    for week in weeks:
        if entered.get(week):
            assert table.loc[week, "conversion"] == pytest.approx(converted[week] / entered[week])
    first, last = (
        min(r["timestamp"] for r in simple_shop_rows),
        max(r["timestamp"] for r in simple_shop_rows),
    )
    # The first week starts before the data and the last ends after it: not complete.
    assert not table["complete"].iloc[0]
    assert not table["complete"].iloc[-1]
    assert table["complete"].iloc[1:-1].all()
    assert result.first_day == first.date()
    assert result.last_day == last.date()
    assert result.period == "week"
    assert result.unit == "customer"
    assert table["sessions"].isna().all()


def test_a_breakdown_counts_each_event_in_its_own_segment_and_each_entry_once(
    journeys_for: Journeys,
) -> None:
    log = journeys_for(
        {
            "a": [
                ("view", "2024-03-04T10:00", {"channel": "web"}),
                ("buy", "2024-03-05T10:00", {"channel": "app"}),
            ],
            "b": [("view", "2024-03-12T10:00", {"channel": "web"})],
            "c": [
                ("view", "2024-03-13T09:00", {"channel": "app"}),
                ("buy", "2024-03-20T09:00", {"channel": "app"}),
            ],
        }
    )
    result = trends(log, TrendsParams(period="week", by="channel", steps=["view", "buy"]))
    rows = {
        (str(r["period_start"]), r["segment"]): r for r in result.series.to_dict(orient="records")
    }
    # Week of 4 March: a viewed on the web and bought in the app (counted in both channels).
    assert rows[("2024-03-04", "web")]["customers"] == 1
    assert rows[("2024-03-04", "app")]["customers"] == 1
    assert rows[("2024-03-04", None)]["customers"] == 1
    # a entered on the web and converted: web's entry, not app's.
    assert (rows[("2024-03-04", "web")]["entered"], rows[("2024-03-04", "web")]["converted"]) == (
        1,
        1,
    )
    assert rows[("2024-03-04", "app")]["entered"] == 0
    # c entered in the app in the week of 11 March and bought the week after: counted in
    # the week of entry.
    assert (rows[("2024-03-11", "app")]["entered"], rows[("2024-03-11", "app")]["converted"]) == (
        1,
        1,
    )
    assert rows[("2024-03-11", "web")]["conversion"] == 0.0
    assert rows[("2024-03-18", None)]["entered"] == 0
    assert pd.isna(rows[("2024-03-18", None)]["conversion"])
    # Segments by size (customers), ties by name; every period listed for each.
    assert list(dict.fromkeys(result.series["segment"].dropna())) == ["app", "web"]
    assert len(result.series) == 3 * 3


def test_segments_beyond_the_top_are_other(journeys_for: Journeys) -> None:
    log = journeys_for(
        {
            f"c{i}": [("view", "2024-01-01T10:00", {"country": country})]
            for i, country in enumerate(["de", "de", "de", "fr", "fr", "it", "es"])
        }
    )
    result = trends(log, TrendsParams(period="day", by="country", top=2))
    shown = result.series.set_index("segment")["customers"].to_dict()
    assert shown == {None: 7, "de": 3, "fr": 2, "other": 2}


def test_sessions_cut_by_inactivity_match_a_plain_count(
    shop: EventLog, simple_shop_rows: list[dict[str, Any]]
) -> None:
    gap = dt.timedelta(minutes=30)
    expected: dict[dt.date, set[tuple[str, int]]] = defaultdict(set)
    session_funnel = 0
    session_count = 0
    for customer, rows in by_customer(simple_shop_rows).items():
        ordered = sorted(rows, key=lambda r: (r["timestamp"], r["event"]))
        number = 0
        previous = None
        visits: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in ordered:
            if previous is not None and row["timestamp"] - previous > gap:
                number += 1
            previous = row["timestamp"]
            visits[number].append(row)
            expected[monday(row["timestamp"])].add((customer, number))
        session_count += len(visits)
        for visit in visits.values():
            catalogs = [r["timestamp"] for r in visit if r["event"] == "catalog"]
            carts = [r["timestamp"] for r in visit if r["event"] == "cart"]
            if catalogs and any(t > min(catalogs) for t in carts):
                session_funnel += 1
    result = trends(shop, TrendsParams(period="week", unit="session"))
    table = overall(result)
    assert table["sessions"].to_dict() == {week: len(s) for week, s in expected.items()}
    assert result.unit == "session"
    by_session = funnel(shop, FunnelParams(steps=["catalog", "cart"], unit="session", times=False))
    assert int(by_session.steps["customers"].iloc[1]) == session_funnel
    table = sessions(shop, UnitParams(unit="session").inactivity)
    assert int(table.customer_id.nunique().execute()) == session_count


def test_a_session_column_is_used_when_the_data_has_one(journeys_for: Journeys) -> None:
    log = journeys_for(
        {
            "a": [
                ("view", "2024-03-04T10:00", {"session": "s1"}),
                # Two hours later but the same visit by the data's own session id.
                ("cart", "2024-03-04T12:00", {"session": "s1"}),
                ("buy", "2024-03-04T12:01", {"session": "s2"}),
            ]
        },
        columns={"session": "session"},
    )
    by_session = funnel(log, FunnelParams(steps=["view", "cart"], unit="session"))
    assert list(by_session.steps["customers"]) == [1, 1]
    to_buy = funnel(log, FunnelParams(steps=["view", "buy"], unit="session"))
    assert list(to_buy.steps["customers"]) == [1, 0]
    by_customer_funnel = funnel(log, FunnelParams(steps=["view", "buy"]))
    assert list(by_customer_funnel.steps["customers"]) == [1, 1]


def test_a_timestamp_breakdown_groups_by_period_in_time_order(journeys_for: Journeys) -> None:
    log = journeys_for(
        {
            "a": [("view", "2024-03-04T10:00", {"signed_up": dt.datetime(2024, 5, 20, 8)})],
            "b": [("view", "2024-03-05T10:00", {"signed_up": dt.datetime(2024, 1, 2, 9)})],
            "c": [("view", "2024-03-06T10:00", {"signed_up": dt.datetime(2024, 1, 30, 9)})],
        }
    )
    result = funnel(log, FunnelParams(steps=["view", "view"], by="signed_up", times=False))
    assert result.breakdown is not None
    # Spanning 139 days: weeks, starting on Monday, in time order.
    assert list(result.breakdown["by_value"].unique()) == ["2024-01-01", "2024-01-29", "2024-05-20"]


def test_a_breakdown_by_the_customer_column_is_refused_and_the_files_names_are_accepted(
    journeys_for: Journeys,
) -> None:
    log = read_events(
        pd.DataFrame(
            {
                "user": ["a", "b"],
                "action": ["view", "view"],
                "time": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                "plan": ["pro", "free"],
            }
        )
    )
    with pytest.raises(OptionsError, match="customer column"):
        trends(log, TrendsParams(by="user"))
    # The file's own name for the timestamp column, bucketed by day.
    by_time = trends(log, TrendsParams(by="time", period="day"))
    assert set(by_time.series["segment"].dropna()) == {"2024-01-01", "2024-01-02"}
    with pytest.raises(OptionsError, match="they have: user, time, action, plan"):
        trends(log, TrendsParams(by="nope"))


def test_optional_and_alternative_steps_that_never_occur_have_no_customers(
    journeys_for: Journeys,
) -> None:
    log = journeys_for({"a": [("view", "2024-03-04T10:00"), ("buy", "2024-03-04T11:00")]})
    result = funnel(log, ["view", "refund?", "buy|return"])
    assert list(result.steps["customers"]) == [1, 0, 1]
    with pytest.raises(OptionsError, match="matches no event"):
        funnel(log, ["view", "refund"])


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("output_format", ["table", "json", "csv"])
def test_the_trends_command_in_every_format(
    capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    code, out, err = run(
        capsys,
        "trends",
        str(SIMPLE_SHOP),
        "--period",
        "week",
        "--steps",
        "catalog",
        "cart",
        "--window",
        "1h",
        "--format",
        output_format,
    )
    assert code == 0, err
    if output_format == "json":
        document = json.loads(out)
        assert document["period"] == "week"
        assert document["unit"] == "customer"
        assert set(document["series"][0]) >= {
            "period_start",
            "segment",
            "events",
            "customers",
            "entered",
            "converted",
            "conversion",
        }
    elif output_format == "csv":
        assert out.splitlines()[0].startswith("period_start,segment,events")
    else:
        assert "period start" in out
        assert "conversion" in out


def test_the_session_unit_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "funnel",
        str(SIMPLE_SHOP),
        "--steps",
        "catalog",
        "cart",
        "--unit",
        "session",
        "--inactivity",
        "30m",
        "--format",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["params"]["unit"] == "session"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--by", "user_id"], "customer column"),
        (["--window", "1d"], "--steps"),
        (["--unit", "visit"], "'customer' or 'session'"),
        (["--inactivity", "0m", "--unit", "session"], "longer than zero"),
    ],
)
def test_trends_mistakes_get_a_message(
    capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    code, out, err = run(capsys, "trends", str(SIMPLE_SHOP), *args)
    assert code == 2, out + err
    assert said in err
    assert "Traceback" not in err


def test_paths_and_the_step_matrix_follow_sessions(journeys_for: Journeys) -> None:
    log = journeys_for(
        {
            "a": [
                ("home", "2024-03-04T10:00"),
                ("cart", "2024-03-04T10:05"),
                # An hour later: a second visit.
                ("home", "2024-03-04T11:30"),
                ("pay", "2024-03-04T11:31"),
            ],
            "b": [("home", "2024-03-04T10:00"), ("pay", "2024-03-04T10:10")],
        }
    )
    by_session = paths(log, PathsParams(start="home", depth=1, unit="session"))
    assert by_session.customers == 3
    assert dict(zip(by_session.paths["path"], by_session.paths["customers"], strict=True)) == {
        "home > pay": 2,
        "home > cart": 1,
    }
    by_customer_paths = paths(log, PathsParams(start="home", depth=1))
    assert by_customer_paths.customers == 2
    matrix = step_matrix(log, StepMatrixParams(max_steps=2, unit="session"))
    assert matrix.customers == 3
    assert matrix.shares["home"][0] == 1.0
    assert matrix.shares["pay"][1] == pytest.approx(2 / 3)


def test_a_breakdown_is_headed_by_its_column_in_the_table_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop = str(SIMPLE_SHOP)
    code, out, err = run(capsys, "funnel", shop, "--steps", "catalog", "cart", "--by", "timestamp")
    assert code == 0, err
    assert "┃ timestamp" in out
    assert "by value" not in out
    # Every column shown once: nothing repeated as "more columns".
    assert "more columns" not in out
    code, out, err = run(capsys, "trends", shop, "--by", "event", "--period", "month")
    assert code == 0, err
    assert "┃ event" in out
    assert "segment" not in out
    # Without steps or sessions, their empty columns are left out of the table.
    assert "conversion" not in out
    assert "sessions" not in out
