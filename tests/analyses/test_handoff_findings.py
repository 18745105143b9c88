"""Findings read off the hand-offs: a persona's breaches and what a breach costs in score."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from ibis.backends import BaseBackend
from scipy.stats import fisher_exact

from journeys.analyses.findings import FindingsParams, findings
from journeys.data.mapping import apply_spec
from journeys.data.reader import read_events
from journeys.spec import parse_spec

SPEC = """\
name: Welcome
stages:
  - {id: buy, name: Buy}
  - {id: start, name: Start}
touchpoints:
  - {id: order, name: Order, stage: buy, owner: sales, events: purchase}
  - {id: welcome, name: Welcome e-mail, stage: start, owner: success, events: welcome}
  - {id: survey, name: Survey, stage: start, owner: success, events: survey}
personas:
  - {id: shop, name: Shop, where: [{column: segment, equals: shop}]}
  - {id: firm, name: Firm, where: [{column: segment, equals: firm}]}
milestones:
  - {id: purchase, name: Purchase, events: purchase}
handoffs:
  - {name: Welcome, from: milestone:purchase, to: touchpoint:welcome, within: 1h}
"""


def rows() -> list[dict[str, Any]]:
    """40 shops, 30 of them welcomed after 3 hours (late); 40 firms, 5 late. A survey a
    day after the purchase: 2 or 3 after a late welcome, 4 or 5 after one on time."""
    start = datetime(2024, 3, 4, 9)
    made: list[dict[str, Any]] = []
    for segment, late_count in (("shop", 30), ("firm", 5)):
        for k in range(40):
            customer = f"{segment}{k}"
            late = k < late_count
            at = start + timedelta(hours=k)
            wait = timedelta(hours=3) if late else timedelta(minutes=10)
            score = (2 if k % 2 else 3) if late else (4 if k % 2 else 5)
            for event, when, value in (
                ("purchase", at, None),
                ("welcome", at + wait, None),
                ("survey", at + timedelta(days=1), float(score)),
            ):
                made.append(
                    {
                        "customer_id": customer,
                        "event": event,
                        "timestamp": when,
                        "segment": segment,
                        "satisfaction": value,
                    }
                )
    return made


def test_a_persona_breached_far_more_often_and_the_score_after_a_breach(
    duckdb_con: BaseBackend,
) -> None:
    events = apply_spec(
        read_events(pa.Table.from_pylist(rows()), connection=duckdb_con), parse_spec(SPEC)
    )
    result = findings(events, FindingsParams(min_customers=30))
    found = {item.kind: item for item in result.items()}
    breach = found["hand_off_breach"]
    # Shops: 30 of 40 late; the others (firms): 5 of 40. Two personas compared.
    _, p_value = fisher_exact([[30, 10], [5, 35]], alternative="greater")
    assert breach.subject == "shop"
    assert breach.value == 30 / 40
    assert breach.baseline == 5 / 40
    assert breach.customers == 40
    assert breach.text == (
        "Welcome: 75% of Shop (shop) customers wait longer than 60 min, against 12% of the "
        f"others ({'p < 0.001' if p_value * 2 < 0.001 else f'p = {p_value * 2:.3f}'})."
    )
    # The score after the hand-off, read from the rows: late when the welcome came more
    # than an hour after the purchase.
    by_customer: dict[str, dict[str, Any]] = {}
    for row in rows():
        by_customer.setdefault(row["customer_id"], {})[row["event"]] = row
    late, met = [], []
    for events_of in by_customer.values():
        wait = events_of["welcome"]["timestamp"] - events_of["purchase"]["timestamp"]
        (late if wait > timedelta(hours=1) else met).append(events_of["survey"]["satisfaction"])
    score = found["hand_off_satisfaction"]
    assert score.customers == len(late) == 35
    assert score.value == sum(late) / len(late)
    assert score.baseline == sum(met) / len(met)
    assert score.text.startswith(
        f"Customers whose Welcome was late or never came score "
        f"{sum(met) / len(met) - sum(late) / len(late):.3g} lower afterwards"
    )


def test_too_few_customers_make_no_finding(duckdb_con: BaseBackend) -> None:
    events = apply_spec(
        read_events(pa.Table.from_pylist(rows()), connection=duckdb_con), parse_spec(SPEC)
    )
    result = findings(events, FindingsParams(min_customers=41))
    assert not [item for item in result.items() if item.source == "handoffs"]
