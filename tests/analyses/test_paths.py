from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from journeys.analyses.paths import OTHER, PathsParams, paths
from journeys.analyses.step_matrix import StepMatrixParams, step_matrix
from journeys.analyses.transitions import TransitionsParams, transitions
from journeys.data.mapping import apply_spec
from journeys.data.reader import NUMBERING, EventLog, read_events
from journeys.spec import parse_spec
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


SHOP_SPEC = """
name: Shop
stages:
  - {id: browse, name: Browse}
  - {id: buy, name: Buy}
touchpoints:
  - {id: catalog_page, name: Catalog, stage: browse, events: [catalog]}
  - {id: product_page, name: Product page, stage: browse, events: [product1, product2]}
  - {id: checkout, name: Checkout, stage: buy, events: [cart, delivery_choice, payment_choice]}
  - {id: paid, name: Paid, stage: buy, events: [payment_done]}
"""
TOUCHPOINTS = {
    "catalog": "catalog_page",
    "product1": "product_page",
    "product2": "product_page",
    "cart": "checkout",
    "delivery_choice": "checkout",
    "payment_choice": "checkout",
    "payment_done": "paid",
}


def plain_labels(
    rows: list[dict[str, Any]], by_touchpoint: bool, collapse: bool
) -> dict[str, list[tuple[str, Any]]]:
    """Each customer's path as (label, time): events in time then name order, labelled by
    event or touchpoint (events without one leave the path), runs of a label merged into
    their first event when ``collapse``."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for customer, events in reference.by_customer(rows).items():
        path: list[tuple[str, Any]] = []
        for event in events:
            label = TOUCHPOINTS.get(event["event"]) if by_touchpoint else event["event"]
            if label is None or (collapse and path and path[-1][0] == label):
                continue
            path.append((label, event["timestamp"]))
        if path:
            found[customer] = path
    return found


def plain_paths(
    labels: dict[str, list[tuple[str, Any]]], anchor: str, depth: int, backwards: bool
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in labels.values():
        names = [label for label, _ in path]
        if anchor not in names:
            continue
        first = names.index(anchor)
        if backwards:
            before = names[max(first - depth, 0) : first + 1]
            shown = (["START"] if len(before) <= depth else []) + before
        else:
            after = names[first : first + depth + 1]
            shown = after + (["END"] if len(after) <= depth else [])
        key = " > ".join(shown)
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.parametrize("backwards", [False, True])
def test_paths_around_an_anchor_match_a_plain_walk(
    shop_events: EventLog, simple_shop_rows: list[dict[str, Any]], backwards: bool
) -> None:
    anchor = {"end": "payment_done"} if backwards else {"start": "cart"}
    result = paths(shop_events, PathsParams(**anchor, depth=3, top=1000))
    labels = plain_labels(simple_shop_rows, by_touchpoint=False, collapse=False)
    expected = plain_paths(labels, "payment_done" if backwards else "cart", 3, backwards)
    assert OTHER not in set(result.paths["path"])
    assert dict(zip(result.paths["path"], result.paths["customers"], strict=True)) == expected
    assert result.customers == sum(expected.values())


@pytest.mark.parametrize("backwards", [False, True])
def test_paths_by_touchpoint_with_repeats_merged_match_a_plain_walk(
    con: BaseBackend, simple_shop_rows: list[dict[str, Any]], backwards: bool
) -> None:
    events = apply_spec(read_events(SIMPLE_SHOP, connection=con), parse_spec(SHOP_SPEC))
    anchor = {"end": "paid"} if backwards else {"start": "checkout"}
    params = PathsParams(**anchor, depth=3, top=1000, level="touchpoint", collapse_repeats=True)
    result = paths(events, params)
    labels = plain_labels(simple_shop_rows, by_touchpoint=True, collapse=True)
    expected = plain_paths(labels, "paid" if backwards else "checkout", 3, backwards)
    assert dict(zip(result.paths["path"], result.paths["customers"], strict=True)) == expected
    matrix = step_matrix(
        events, StepMatrixParams(max_steps=4, level="touchpoint", collapse_repeats=True)
    )
    for k in range(4):
        at_k = [path[k][0] for path in labels.values() if len(path) > k]
        for label in set(at_k):
            assert matrix.shares[label][k] == pytest.approx(at_k.count(label) / len(labels))
    moves = transitions(events, TransitionsParams(level="touchpoint", collapse_repeats=True))
    pairs: dict[tuple[str, str], list[float]] = {}
    for path in labels.values():
        for (source, at), (target, then) in itertools.pairwise(path):
            pairs.setdefault((source, target), []).append((then - at).total_seconds())
    found = {
        (row._1, row.to): (row.transitions, row.median_seconds)
        for row in moves.transitions.itertuples()
    }
    assert found == {
        pair: (len(seconds), pytest.approx(reference.quantile(seconds, 0.5)))
        for pair, seconds in pairs.items()
    }


def test_a_log_built_without_its_numbering_gives_the_same_answers(shop_events: EventLog) -> None:
    bare = EventLog(table=shop_events.table.drop(*NUMBERING), report=shop_events.report)
    params = PathsParams(start="cart", depth=2, top=50)
    pd.testing.assert_frame_equal(paths(bare, params).paths, paths(shop_events, params).paths)
    pd.testing.assert_frame_equal(paths(bare, params).flows, paths(shop_events, params).flows)
    pd.testing.assert_frame_equal(
        transitions(bare).transitions, transitions(shop_events).transitions
    )
    assert step_matrix(bare).shares == step_matrix(shop_events).shares
