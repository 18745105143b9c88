"""Findings against plain-Python counts on a small hand-made journey, on every engine."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from journeys.analyses.findings import (
    MIN_CUSTOMERS,
    FindingsParams,
    FindingsResult,
    _below_the_rest,
    findings,
)
from journeys.data.mapping import apply_spec
from journeys.data.reader import EventLog, read_events
from journeys.errors import OptionsError
from journeys.spec import parse_spec
from tests.conftest import event_table

Journeys = Callable[..., EventLog]

SPEC = parse_spec(
    """
name: Software
stages:
  - {id: consideration, name: Consideration}
  - {id: purchase, name: Purchase}
  - {id: onboarding, name: Onboarding}
  - {id: renewal, name: Renewal}
touchpoints:
  - {id: demo, name: Demo, stage: consideration, events: demo, owner: sales}
  - {id: order, name: Order, stage: purchase, events: buy, owner: sales}
  - {id: kickoff, name: Kickoff, stage: onboarding, events: kickoff, owner: implementation}
  - {id: renew, name: Renew, stage: renewal, events: renew, owner: success}
personas:
  - {id: big, name: Enterprise, where: [{column: plan, equals: enterprise}]}
  - {id: small, name: Small business, where: [{column: plan, equals: team}]}
  - {id: tiny, name: Solo, where: [{column: plan, equals: solo}]}
milestones:
  - {id: purchase, name: Purchase, touchpoints: order}
"""
)

START = datetime(2024, 1, 1)
# Per persona: customers, buyers among them, days from demo to purchase, purchase to kickoff.
# Every buyer renews a year later: the slowest pair, but after onboarding, so never flagged.
PLAN = {
    "big": ("enterprise", 40, 30, 3, 10),
    "small": ("team", 40, 8, 5, 14),
    # 29 customers, none of whom buys: the worst conversion, but one short of MIN_CUSTOMERS.
    "tiny": ("solo", MIN_CUSTOMERS - 1, 0, 0, 0),
}


def journeys_of_plan() -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    declared = {}
    for persona, (plan, customers, buyers, to_buy, to_kickoff) in PLAN.items():
        for number in range(customers):
            first = START + timedelta(hours=number)
            events = [("demo", first)]
            if number < buyers:
                bought = first + timedelta(days=to_buy)
                kickoff = bought + timedelta(days=to_kickoff)
                events += [
                    ("buy", bought),
                    ("kickoff", kickoff),
                    ("renew", kickoff + timedelta(days=365)),
                ]
            declared[f"{persona}{number:02d}"] = [
                (name, time.isoformat(), {"plan": plan}) for name, time in events
            ]
    return declared


def reference() -> dict[str, Any]:
    """The numbers behind each finding, counted in plain Python from the declared events."""
    declared = journeys_of_plan()
    firsts = {
        customer: {name: datetime.fromisoformat(time) for name, time, _ in reversed(events)}
        for customer, events in declared.items()
    }
    reached = dict.fromkeys(PLAN, 0)
    bought = dict.fromkeys(PLAN, 0)
    for customer, first in firsts.items():
        persona = customer.rstrip("0123456789")
        reached[persona] += "demo" in first
        bought[persona] += "buy" in first
    days = {
        pair: [
            (first[pair[1]] - first[pair[0]]).total_seconds() / 86400
            for first in firsts.values()
            if pair[0] in first and pair[1] in first
        ]
        for pair in (("demo", "buy"), ("buy", "kickoff"))
    }
    return {
        "small_conversion": bought["small"] / reached["small"],
        "all_conversion": sum(bought.values()) / sum(reached.values()),
        "small_customers": reached["small"],
        "hand_off_median": statistics.median(days[("buy", "kickoff")]),
        "other_median": statistics.median(days[("demo", "buy")]),
        "hand_off_customers": len(days[("buy", "kickoff")]),
    }


@pytest.fixture(scope="module")
def mapped(con: BaseBackend) -> EventLog:
    return apply_spec(read_events(event_table(journeys_of_plan()), connection=con), SPEC)


@pytest.fixture(scope="module")
def found(mapped: EventLog) -> dict[int, FindingsResult]:
    """Findings with each threshold the tests need, computed once per engine."""
    thresholds = (MIN_CUSTOMERS - 1, MIN_CUSTOMERS, 38, 39, 41)
    return {n: findings(mapped, FindingsParams(min_customers=n)) for n in thresholds}


def test_the_persona_that_drops_off(found: dict[int, FindingsResult]) -> None:
    expected = reference()
    result = found[MIN_CUSTOMERS]
    (drop,) = [item for item in result.items() if item.kind == "drop_off"]
    assert drop.subject == "small"
    assert drop.step == "consideration -> purchase"
    assert drop.source == "funnel"
    assert drop.value == pytest.approx(expected["small_conversion"])  # 8 of 40
    assert drop.baseline == pytest.approx(expected["all_conversion"])  # 38 of 109
    assert drop.customers == expected["small_customers"]
    # Four persona-steps are compared (enterprise at three steps, small business at one):
    # the chance of 8 or fewer of 40 going on when 38 of 109 do, times four.
    p_value = 4 * lower_tail(total=109, successes=38, drawn=40, at_most=8)
    assert drop.text == (
        "Small business (small): 20% of those who reach Consideration go on to Purchase, "
        f"against 35% of all customers (p = {p_value:.3f})."
    )


def lower_tail(total: int, successes: int, drawn: int, at_most: int) -> float:
    """P(X <= at_most) for X hypergeometric: Fisher's one-sided exact test, by hand."""
    ways = math.comb(total, drawn)
    return (
        sum(
            math.comb(successes, k) * math.comb(total - successes, drawn - k)
            for k in range(at_most + 1)
        )
        / ways
    )


def test_a_drop_off_chance_explains_is_not_a_finding() -> None:
    """20 of 48 going on where 147 of 310 do: lower, but well within chance (p about 0.24)."""
    candidates = pd.DataFrame({"index": [4], "before": [48], "customers": [20]})
    steps = pd.DataFrame({"index": [3, 4], "customers": [310, 147]})
    (p_value,) = _below_the_rest(candidates, steps)
    assert p_value == pytest.approx(lower_tail(310, 147, 48, 20))
    assert p_value > 0.2  # one-sided, before any correction for the comparisons made


def test_the_slowest_hand_off_up_to_onboarding(found: dict[int, FindingsResult]) -> None:
    expected = reference()
    result = found[MIN_CUSTOMERS]
    (slow,) = [item for item in result.items() if item.kind == "slow_hand_off"]
    assert slow.step == "purchase -> onboarding"
    assert slow.source == "timing"
    assert slow.value == pytest.approx(expected["hand_off_median"])  # 10 days
    assert slow.baseline == pytest.approx(expected["other_median"])  # 3 days
    assert slow.customers == expected["hand_off_customers"]
    assert slow.text == (
        "Purchase to Onboarding takes a median 10.0 days (a hand-off from sales to "
        "implementation), the slowest step of the journey; the other stages take a median "
        "3.0 days."
    )


def test_a_persona_short_of_the_threshold_is_not_compared(
    found: dict[int, FindingsResult],
) -> None:
    """Solo customers never buy, but there are 29 of them: one short of a finding."""
    (drop,) = found[MIN_CUSTOMERS - 1].of("funnel")
    assert drop.subject == "tiny"
    assert drop.value == 0
    assert drop.customers == MIN_CUSTOMERS - 1
    assert found[MIN_CUSTOMERS].of("funnel")[0].subject == "small"


def test_a_hand_off_timed_on_too_few_customers_is_not_flagged(
    found: dict[int, FindingsResult],
) -> None:
    assert reference()["hand_off_customers"] == 38
    assert {item.kind for item in found[38].items()} == {"drop_off", "slow_hand_off"}
    assert {item.kind for item in found[39].items()} == {"drop_off"}


def test_no_finding(found: dict[int, FindingsResult]) -> None:
    """With more customers asked for than any persona has, nothing is found, and nothing fails."""
    result = found[41]
    assert result.items() == []
    assert result.findings.empty
    assert result.warnings == []
    assert result.to_dict()["findings"] == []


def test_findings_need_a_spec(journeys_for: Journeys) -> None:
    with pytest.raises(OptionsError, match="needs a journey spec"):
        findings(journeys_for(journeys_of_plan()))
