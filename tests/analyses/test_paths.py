from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ibis.backends import BaseBackend

from journeys.analyses.paths import PathsParams, paths
from journeys.analyses.transitions import TransitionsParams, transitions
from journeys.data.reader import EventLog, read_events
from tests.analyses import reference
from tests.conftest import SIMPLE_SHOP

Journeys = Callable[..., EventLog]


@pytest.fixture(scope="module")
def shop_events(con: BaseBackend) -> EventLog:
    return read_events(SIMPLE_SHOP, connection=con)


def test_transitions_match_a_plain_count(
    shop_events: EventLog, simple_shop_rows: list[dict[str, Any]]
) -> None:
    result = transitions(shop_events)
    table = result.transitions
    expected = reference.transitions(simple_shop_rows)
    assert len(table) == len(expected)
    out_of: dict[str, int] = {}
    for (source, _), (count, _, _) in expected.items():
        out_of[source] = out_of.get(source, 0) + count
    for row in table.itertuples():
        count, customers, seconds = expected[(row._1, row.to)]
        assert row.transitions == count
        assert row.customers == len(customers)
        assert row.share_of_from == pytest.approx(count / out_of[row._1])
        assert row.median_seconds == pytest.approx(reference.quantile(seconds, 0.5))
    assert table.iloc[0]["from"] == "catalog"
    assert table.iloc[0]["to"] == "catalog"
    first = result.to_dict()["transitions"][0]
    assert (first["from"], first["to"]) == ("catalog", "catalog")
    assert first["transitions"] == expected[("catalog", "catalog")][0]


def test_collapsing_repeats(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            "ann": [
                ("a", "2024-01-01 10:00"),
                ("a", "2024-01-01 10:01"),
                ("b", "2024-01-01 10:02"),
                ("a", "2024-01-01 10:03"),
            ]
        }
    )
    plain = transitions(events).transitions
    assert sorted(zip(plain["from"], plain["to"], plain["transitions"])) == [
        ("a", "a", 1),
        ("a", "b", 1),
        ("b", "a", 1),
    ]
    collapsed = transitions(events, TransitionsParams(collapse_repeats=True)).transitions
    assert sorted(zip(collapsed["from"], collapsed["to"])) == [("a", "b"), ("b", "a")]
    # the first event of a run stays: a at 10:00, then b at 10:02
    assert collapsed.loc[collapsed["from"] == "a", "median_seconds"].iloc[0] == 120.0


def test_top_paths_after_an_anchor(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            "ann": [("x", "2024-01-01"), ("cart", "2024-01-02"), ("pay", "2024-01-03")],
            "bob": [("cart", "2024-01-01"), ("pay", "2024-01-02"), ("cart", "2024-01-03")],
            "cyd": [("cart", "2024-01-01")],
            "dan": [("x", "2024-01-01")],
            "eve": [("cart", "2024-01-01"), ("pay", "2024-01-02")],
        }
    )
    result = paths(events, PathsParams(start="cart", depth=2, top=1))
    assert result.customers == 4
    assert list(result.paths["path"]) == ["cart > pay > END", "other"]
    assert list(result.paths["customers"]) == [2, 2]
    flows = {
        (row.position, row.source, row.target): row.customers for row in result.flows.itertuples()
    }
    assert flows == {
        (0, "cart", "pay"): 3,
        (0, "cart", "END"): 1,
        (1, "pay", "cart"): 1,
        (1, "pay", "END"): 2,
    }


def test_paths_leading_to_an_anchor(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            "ann": [("x", "2024-01-01"), ("y", "2024-01-02"), ("buy", "2024-01-03")],
            "bob": [("y", "2024-01-01"), ("buy", "2024-01-02"), ("buy", "2024-01-05")],
        }
    )
    result = paths(events, PathsParams(end="buy", depth=2))
    assert dict(zip(result.paths["path"], result.paths["customers"], strict=True)) == {
        "x > y > buy": 1,
        "START > y > buy": 1,
    }


def test_paths_from_first_events_of_simple_shop(
    shop_events: EventLog, simple_shop_rows: list[dict[str, Any]]
) -> None:
    result = paths(shop_events, PathsParams(depth=1, top=3))
    counts: dict[str, int] = {}
    for events in reference.by_customer(simple_shop_rows).values():
        second = events[1]["event"] if len(events) > 1 else "END"
        key = f"{events[0]['event']} > {second}"
        counts[key] = counts.get(key, 0) + 1
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]
    assert list(zip(result.paths["path"][:3], result.paths["customers"][:3])) == top
    assert result.customers == 3751
    assert result.paths["customers"].sum() == 3751
