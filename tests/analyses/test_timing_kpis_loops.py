from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ibis.backends import BaseBackend

from journeys.analyses.kpis import kpis
from journeys.analyses.loops import loops
from journeys.analyses.timing import TimingParams, timing
from journeys.data.mapping import apply_spec
from journeys.data.reader import EventLog, read_events
from journeys.errors import OptionsError
from journeys.spec import parse_spec
from tests.analyses import reference
from tests.conftest import SIMPLE_SHOP

Journeys = Callable[..., EventLog]

SPEC = parse_spec(
    """
name: Software
stages:
  - {id: consideration, name: Consideration}
  - {id: purchase, name: Purchase}
  - {id: onboarding, name: Onboarding}
touchpoints:
  - {id: demo, name: Demo, stage: consideration, events: demo, owner: sales}
  - {id: order, name: Order, stage: purchase, events: buy, owner: sales}
  - {id: kickoff, name: Kickoff, stage: onboarding, events: kickoff, owner: implementation}
personas:
  - id: big
    name: Enterprise
    where: [{column: plan, equals: enterprise}]
milestones:
  - {id: purchase, name: Purchase, touchpoints: order}
"""
)


@pytest.fixture
def mapped(journeys_for: Journeys) -> EventLog:
    events = journeys_for(
        {
            "ann": [
                ("demo", "2024-01-01", {"plan": "enterprise", "amount": None}),
                ("buy", "2024-01-03", {"plan": "enterprise", "amount": 100.0}),
                ("kickoff", "2024-01-13", {"plan": "enterprise", "amount": None}),
                ("demo", "2024-02-01", {"plan": "enterprise", "amount": None}),
                ("buy", "2024-02-02", {"plan": "enterprise", "amount": 50.0}),
            ],
            "bob": [
                ("demo", "2024-01-01", {"plan": "team", "amount": None}),
                ("buy", "2024-01-05", {"plan": "team", "amount": 30.0}),
                ("kickoff", "2024-01-07", {"plan": "team", "amount": None}),
            ],
            "cyd": [
                ("demo", "2024-01-01", {"plan": "team", "amount": None}),
                ("newsletter", "2024-01-02", {"plan": "team", "amount": None}),
            ],
        }
    )
    return apply_spec(events, SPEC)


def test_time_between_consecutive_stages(mapped: EventLog) -> None:
    table = timing(mapped).pairs.set_index(["from", "to"])
    first = table.loc[("stage:consideration", "stage:purchase")]
    assert first["customers_from"] == 3
    assert first["customers"] == 2
    assert first["median_days"] == pytest.approx(3.0)  # 2 and 4 days
    assert first["customers_to"] == 2
    assert first["reversed"] == 0
    hand_off = table.loc[("stage:purchase", "stage:onboarding")]
    assert hand_off["median_days"] == pytest.approx(6.0)  # 10 and 2 days
    assert hand_off["p90_days"] == pytest.approx(2 + 0.9 * 8)
    assert hand_off["mean_days"] == pytest.approx(6.0)


def test_timing_between_named_steps(mapped: EventLog) -> None:
    table = timing(mapped, TimingParams(pairs=[("demo", "kickoff"), ("kickoff", "buy")])).pairs
    assert table.loc[0, "customers"] == 2
    assert table.loc[0, "median_days"] == pytest.approx(9.0)  # 12 and 6 days
    # first entries: both bought before their first kickoff
    assert table.loc[1, "customers"] == 0
    assert table.loc[1, "reversed"] == 2
    rows = timing(mapped, TimingParams(pairs=[("kickoff", "buy")])).to_dict()["pairs"]
    assert rows[0]["from"] == "kickoff"
    assert rows[0]["customers"] == 0
    assert rows[0]["median_days"] is None


def test_kpis(mapped: EventLog) -> None:
    result = kpis(mapped)
    assert result.customers == 3
    assert result.events == 10
    assert result.first_event.startswith("2024-01-01T00:00:00")
    assert result.unmapped_events == 1
    assert result.purchasers == 2
    assert result.repeat_purchase_rate == 0.5
    assert result.median_days_to_purchase == pytest.approx(3.0)  # 2 and 4 days
    assert result.revenue == 180.0
    assert result.revenue_from_existing_share == pytest.approx(50 / 180)
    reach = result.stages.set_index("stage")
    assert reach["customers"].to_dict() == {"consideration": 3, "purchase": 2, "onboarding": 2}
    table = result.to_pandas().set_index("kpi")["value"]
    assert table["customers"] == 3
    assert table["revenue"] == 180.0
    assert "stages" not in table.index
    values = result.to_dict()
    assert values["customers"] == 3
    assert values["events"] == 10
    assert values["unmapped_events"] == 1
    assert values["purchasers"] == 2
    assert values["repeat_purchase_rate"] == 0.5
    assert values["median_days_to_purchase"] == pytest.approx(3.0)
    assert values["revenue"] == 180.0
    assert values["revenue_from_existing_share"] == pytest.approx(50 / 180)
    stages = {row["stage"]: row["share"] for row in values["stages"]}
    assert stages == {
        "consideration": 1.0,
        "purchase": pytest.approx(2 / 3),
        "onboarding": pytest.approx(2 / 3),
    }


def test_loops_count_returns_to_earlier_stages(mapped: EventLog) -> None:
    result = loops(mapped)
    assert result.looping_customers == 1
    assert result.customers == 3
    assert result.share_looping == pytest.approx(1 / 3)
    returns = result.returns.to_dict(orient="records")
    assert returns == [
        {"from_stage": "onboarding", "to_stage": "consideration", "returns": 1, "customers": 1},
        {"from_stage": "onboarding", "to_stage": "purchase", "returns": 1, "customers": 1},
    ]
    assert dict(zip(result.distribution["returns"], result.distribution["customers"])) == {
        0: 2,
        2: 1,
    }


def test_personas_come_from_the_first_event(mapped: EventLog) -> None:
    personas = dict(
        mapped.table.select("customer_id", "persona").distinct().to_pyarrow().to_pylist()
        and (
            (row["customer_id"], row["persona"])
            for row in mapped.table.select("customer_id", "persona")
            .distinct()
            .to_pyarrow()
            .to_pylist()
        )
    )
    assert personas == {"ann": "big", "bob": "unassigned", "cyd": "unassigned"}


def test_loops_need_a_spec(journeys_for: Journeys) -> None:
    with pytest.raises(OptionsError, match="need a journey spec"):
        loops(journeys_for({"ann": [("a", "2024-01-01")]}))


def test_loops_on_a_clickstream_match_a_plain_count(
    con: BaseBackend, simple_shop_rows: list[dict[str, Any]]
) -> None:
    spec = parse_spec(
        """
name: Shop
stages:
  - {id: browse, name: Browse}
  - {id: choose, name: Choose}
  - {id: pay, name: Pay}
touchpoints:
  - {id: catalog, name: Catalog, stage: browse, events: [catalog, main]}
  - {id: product, name: Product, stage: choose, events: [product1, product2, cart]}
  - {id: payment, name: Payment, stage: pay, events: [payment_choice, payment_done]}
"""
    )
    stage_of = {"catalog": 0, "main": 0, "product1": 1, "product2": 1, "cart": 1}
    stage_of |= {"payment_choice": 2, "payment_done": 2}
    result = loops(apply_spec(read_events(SIMPLE_SHOP, connection=con), spec))
    pairs: dict[tuple[int, int], list[str]] = {}
    per_customer: dict[str, int] = {}
    for customer, events in reference.by_customer(simple_shop_rows).items():
        ranks = [stage_of[e["event"]] for e in events if e["event"] in stage_of]
        if not ranks:
            continue
        merged = [rank for k, rank in enumerate(ranks) if k == 0 or ranks[k - 1] != rank]
        per_customer[customer] = 0
        for k, rank in enumerate(merged):
            furthest = max(merged[:k], default=-1)
            if rank < furthest:
                pairs.setdefault((furthest, rank), []).append(customer)
                per_customer[customer] += 1
    names = ["browse", "choose", "pay"]
    found = {
        (row.from_stage, row.to_stage): (row.returns, row.customers)
        for row in result.returns.itertuples()
    }
    assert found == {
        (names[a], names[b]): (len(who), len(set(who))) for (a, b), who in pairs.items()
    }
    assert result.customers == len(per_customer)
    assert result.looping_customers == sum(1 for n in per_customer.values() if n)
    histogram = dict(zip(result.distribution["returns"], result.distribution["customers"]))
    assert histogram == {
        n: sum(1 for m in per_customer.values() if m == n) for n in set(per_customer.values())
    }
