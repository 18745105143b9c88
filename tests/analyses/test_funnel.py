from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from journeys.analyses.funnel import FunnelParams, FunnelStep, funnel
from journeys.analyses.runner import Runner
from journeys.data.mapping import apply_spec
from journeys.data.reader import EventLog, read_events
from journeys.errors import OptionsError
from journeys.params import parse_duration
from journeys.spec import parse_spec
from tests.analyses import reference
from tests.conftest import SIMPLE_SHOP

Journeys = Callable[..., EventLog]
SHOP_STEPS = ["catalog", "product1|product2", "cart", "payment_done"]


@pytest.fixture(scope="module")
def shop_events(con: BaseBackend) -> EventLog:
    return read_events(SIMPLE_SHOP, connection=con)


def counts(result: Any) -> list[int]:
    return [int(n) for n in result.steps["customers"]]


def test_simple_shop_ordered_funnel_matches_a_plain_computation(
    shop_events: EventLog, simple_shop_rows: list[dict[str, Any]]
) -> None:
    result = funnel(shop_events, SHOP_STEPS)
    expected = reference.greedy_funnel(simple_shop_rows, SHOP_STEPS)
    assert counts(result) == expected
    assert expected[0] == 3611
    steps = result.steps
    assert steps["conversion_from_previous"].iloc[2] == pytest.approx(expected[2] / expected[1])
    assert steps["conversion_from_first"].iloc[3] == pytest.approx(expected[3] / expected[0])
    assert list(steps["drop_off"]) == [0] + [a - b for a, b in itertools.pairwise(expected)]
    times = reference.funnel_step_times(simple_shop_rows, SHOP_STEPS)
    for k in range(1, len(SHOP_STEPS)):
        assert steps["median_seconds_from_previous"].iloc[k] == pytest.approx(
            reference.quantile(times[k], 0.5), rel=1e-9
        )
        assert steps["p90_seconds_from_previous"].iloc[k] == pytest.approx(
            reference.quantile(times[k], 0.9), rel=1e-9
        )


def test_without_times_the_counts_stay_and_the_times_are_null(
    shop_events: EventLog, simple_shop_rows: list[dict[str, Any]]
) -> None:
    result = funnel(shop_events, FunnelParams(steps=SHOP_STEPS, times=False))
    assert counts(result) == reference.greedy_funnel(simple_shop_rows, SHOP_STEPS)
    time_columns = ["median_seconds_from_previous", "p90_seconds_from_previous"]
    assert result.steps[time_columns].isna().all().all()
    for row in result.to_dict()["steps"]:
        assert row["median_seconds_from_previous"] is None
        assert row["p90_seconds_from_previous"] is None
    timed = funnel(shop_events, SHOP_STEPS).steps
    assert timed["median_seconds_from_previous"].iloc[1:].notna().all()
    pd.testing.assert_frame_equal(
        result.steps.drop(columns=time_columns), timed.drop(columns=time_columns)
    )


@pytest.mark.parametrize("mode", ["ordered", "strict"])
def test_without_times_no_query_measures_them(duckdb_con: BaseBackend, mode: str) -> None:
    # The queries are the same on every engine; DuckDB's SQL shows them.
    shop_events = read_events(SIMPLE_SHOP, connection=duckdb_con)

    def queries(times: bool) -> str:
        shown: list[str] = []
        with Runner(show_sql=shown.append, remember=False):
            funnel(shop_events, FunnelParams(steps=SHOP_STEPS, mode=mode, times=times))
        return "\n".join(shown).lower()

    timed, untimed = queries(True), queries(False)
    assert "quantile" in timed
    assert "gap1" in timed
    assert "quantile" not in untimed
    assert "gap" not in untimed
    # Without a breakdown, no breakdown value is carried or aggregated either.
    assert "by_value" not in untimed
    # The ordered funnel's one range window per step, and no second one for the times.
    if mode == "ordered":
        assert untimed.count(" over ") < timed.count(" over ")


def test_an_any_order_funnel_has_no_times(shop_events: EventLog) -> None:
    steps = ["delivery_choice", "payment_choice", "cart"]
    result = funnel(shop_events, FunnelParams(steps=steps, mode="any", times=True))
    assert result.steps["median_seconds_from_previous"].isna().all()


@pytest.mark.parametrize("interval", ["2m", "1h"])
def test_simple_shop_max_interval_on_every_step(
    shop_events: EventLog, simple_shop_rows: list[dict[str, Any]], interval: str
) -> None:
    params = FunnelParams(steps=SHOP_STEPS, max_interval=interval)
    limit = parse_duration(interval)
    assert [step.max_interval for step in params.steps] == [None, limit, limit, limit]
    expected = reference.interval_funnel(simple_shop_rows, SHOP_STEPS, limit)
    assert expected != reference.greedy_funnel(simple_shop_rows, SHOP_STEPS)
    assert counts(funnel(shop_events, params)) == expected


def test_a_step_interval_wins_over_the_interval_for_every_step() -> None:
    params = FunnelParams(
        steps=["a", FunnelStep(name="b", max_interval="1d"), "c"], max_interval="3h"
    )
    assert [step.max_interval for step in params.steps] == [
        None,
        timedelta(days=1),
        timedelta(hours=3),
    ]
    assert FunnelParams.model_validate_json(params.model_dump_json()) == params
    with pytest.raises(ValueError, match="no optional steps or step intervals"):
        FunnelParams(steps=["a", "b"], mode="any", max_interval="1h")


@pytest.mark.parametrize("window", [timedelta(minutes=5), timedelta(days=2)])
def test_simple_shop_windowed_funnel(
    shop_events: EventLog, simple_shop_rows: list[dict[str, Any]], window: timedelta
) -> None:
    result = funnel(shop_events, FunnelParams(steps=SHOP_STEPS, window=window))
    assert counts(result) == reference.greedy_funnel(simple_shop_rows, SHOP_STEPS, window)


def test_simple_shop_strict_funnel(
    shop_events: EventLog, simple_shop_rows: list[dict[str, Any]]
) -> None:
    steps = ["catalog", "product1|product2", "cart"]
    result = funnel(shop_events, FunnelParams(steps=steps, mode="strict"))
    assert counts(result) == reference.funnel_counts(simple_shop_rows, steps, strict=True)


def test_simple_shop_any_order_funnel(
    shop_events: EventLog, simple_shop_rows: list[dict[str, Any]]
) -> None:
    steps = ["delivery_choice", "payment_choice", "cart"]
    result = funnel(shop_events, FunnelParams(steps=steps, mode="any"))
    expected = [0, 0, 0]
    for events in reference.by_customer(simple_shop_rows).values():
        done = len({step for step in steps if any(e["event"] == step for e in events)})
        for k in range(done):
            expected[k] += 1
    assert counts(result) == expected


def test_a_later_entry_can_convert_within_the_window(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            "ann": [
                ("visit", "2024-01-01"),
                ("buy", "2024-02-10"),
                ("visit", "2024-02-20"),
                ("buy", "2024-02-21"),
            ],
            "bob": [("visit", "2024-01-01"), ("buy", "2024-02-10")],
        }
    )
    result = funnel(events, FunnelParams(steps=["visit", "buy"], window="30d"))
    assert counts(result) == [2, 1]


def test_a_step_interval_takes_the_later_previous_step(journeys_for: Journeys) -> None:
    journey = [
        ("a", "2024-01-01 00:00"),
        ("b", "2024-01-01 01:00"),
        ("b", "2024-01-01 05:00"),
        ("c", "2024-01-01 07:00"),
    ]
    events = journeys_for({"ann": journey})
    steps = [FunnelStep(name="a"), FunnelStep(name="b"), FunnelStep(name="c", max_interval="3h")]
    assert counts(funnel(events, FunnelParams(steps=steps))) == [1, 1, 1]
    tight = [*steps[:2], FunnelStep(name="c", max_interval="1h")]
    assert counts(funnel(events, FunnelParams(steps=tight))) == [1, 1, 0]


def test_an_optional_step_may_be_skipped(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            "ann": [("visit", "2024-01-01"), ("coupon", "2024-01-02"), ("buy", "2024-01-03")],
            "bob": [("visit", "2024-01-01"), ("buy", "2024-01-03")],
            "cyd": [("visit", "2024-01-01"), ("coupon", "2024-01-02")],
        }
    )
    result = funnel(events, ["visit", "coupon?", "buy"])
    assert counts(result) == [3, 2, 2]
    assert list(result.steps["step"]) == ["visit", "coupon?", "buy"]


def test_exclusion_between_steps(journeys_for: Journeys) -> None:
    journeys = {
        "ann": [("visit", "2024-01-01"), ("complaint", "2024-01-02"), ("buy", "2024-01-03")],
        "bob": [
            ("visit", "2024-01-01"),
            ("complaint", "2024-01-02"),
            ("visit", "2024-01-04"),
            ("buy", "2024-01-05"),
        ],
        "cyd": [("visit", "2024-01-01"), ("buy", "2024-01-03"), ("complaint", "2024-01-04")],
    }
    events = journeys_for(journeys)
    params = FunnelParams(steps=["visit", "buy"], exclusions=[{"event": "complaint"}])
    assert counts(funnel(events, params)) == [3, 2]


def test_same_time_is_not_in_order(journeys_for: Journeys) -> None:
    events = journeys_for({"ann": [("a", "2024-01-01 10:00"), ("b", "2024-01-01 10:00")]})
    assert counts(funnel(events, ["a", "b"])) == [1, 0]


def test_strict_funnel_needs_the_very_next_event(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            "ann": [
                ("a", "2024-01-01 10:00"),
                ("x", "2024-01-01 10:01"),
                ("b", "2024-01-01 10:02"),
            ],
            "bob": [("a", "2024-01-01 10:00"), ("b", "2024-01-01 10:02")],
        }
    )
    assert counts(funnel(events, FunnelParams(steps=["a", "b"], mode="strict"))) == [2, 1]
    assert counts(funnel(events, FunnelParams(steps=["a", "b"]))) == [2, 2]


def test_random_journeys_agree_with_exhaustive_search(journeys_for: Journeys) -> None:
    import random

    generator = random.Random(7)
    journeys: dict[str, list[tuple[str, str]]] = {}
    for customer in range(40):
        times = sorted(generator.sample(range(60 * 24 * 6), generator.randint(1, 9)))
        journeys[f"c{customer}"] = [
            (generator.choice("abcx"), f"2024-01-0{1 + t // 1440} {t % 1440 // 60:02}:{t % 60:02}")
            for t in times
        ]
    events = journeys_for(journeys)
    rows = [
        {"customer_id": customer, "event": name, "timestamp": reference.datetime.fromisoformat(at)}
        for customer, items in journeys.items()
        for name, at in items
    ]
    steps = ["a", "b", "c"]
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({}, {}),
        ({"window": "1d"}, {"window": timedelta(days=1)}),
        (
            {"steps": ["a", FunnelStep(name="b", max_interval="6h"), "c"]},
            {"intervals": [None, timedelta(hours=6), None]},
        ),
        ({"steps": ["a", "b?", "c"]}, {"optional": [False, True, False]}),
        (
            {"exclusions": [{"event": "x", "from_step": 1, "to_step": 3}]},
            {"exclusions": [("x", 1, 3)]},
        ),
        ({"max_interval": "6h"}, {"intervals": [None, timedelta(hours=6), timedelta(hours=6)]}),
        (
            {"steps": ["a", FunnelStep(name="b", max_interval="1d"), "c"], "max_interval": "3h"},
            {"intervals": [None, timedelta(days=1), timedelta(hours=3)]},
        ),
        (
            {"steps": ["a", "b?", "c"], "max_interval": "12h"},
            {"optional": [False, True, False], "intervals": [None] + [timedelta(hours=12)] * 2},
        ),
        ({"mode": "strict"}, {"strict": True}),
        (
            {"mode": "strict", "max_interval": "6h"},
            {"strict": True, "intervals": [None, timedelta(hours=6), timedelta(hours=6)]},
        ),
        (
            {"mode": "strict", "steps": ["a", "b?", "c"]},
            {"strict": True, "optional": [False, True, False]},
        ),
    ]
    for options, expected_options in cases:
        params = FunnelParams(**{"steps": steps, **options})
        expected = reference.funnel_counts(rows, steps, **expected_options)
        assert counts(funnel(events, params)) == expected, options


def test_breakdown_by_a_column(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            "ann": [
                ("visit", "2024-01-01", {"plan": "pro"}),
                ("buy", "2024-01-02", {"plan": "pro"}),
            ],
            "bob": [
                ("visit", "2024-01-01", {"plan": "free"}),
                ("buy", "2024-01-02", {"plan": "free"}),
            ],
            "cyd": [("visit", "2024-01-01", {"plan": "free"})],
        }
    )
    result = funnel(events, FunnelParams(steps=["visit", "buy"], by="plan"))
    assert result.breakdown is not None
    table = result.breakdown.set_index(["by_value", "step"])["customers"].to_dict()
    assert table == {
        ("free", "visit"): 2,
        ("free", "buy"): 1,
        ("pro", "visit"): 1,
        ("pro", "buy"): 1,
    }
    rows = result.to_dict()["breakdown"]
    assert [(row["by_value"], row["step"], row["customers"]) for row in rows] == [
        ("free", "visit", 2),
        ("free", "buy", 1),
        ("pro", "visit", 1),
        ("pro", "buy", 1),
    ]
    assert [row["conversion_from_previous"] for row in rows] == [1.0, 0.5, 1.0, 1.0]


def test_last_step_per_customer(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            "ann": [("visit", "2024-01-01"), ("cart", "2024-01-02")],
            "bob": [("visit", "2024-01-01"), ("cart", "2024-01-02"), ("buy", "2024-01-03")],
            "cyd": [("visit", "2024-01-01")],
            "dan": [("cart", "2024-01-01")],
        }
    )
    result = funnel(events, ["visit", "cart", "buy"])
    rows = result.customers().to_pyarrow().to_pylist()
    assert [(r["customer_id"], r["last_step"], r["last_step_name"]) for r in rows] == [
        ("ann", 2, "cart"),
        ("bob", 3, "buy"),
        ("cyd", 1, "visit"),
    ]


def test_steps_may_name_touchpoints_and_stages(journeys_for: Journeys) -> None:
    spec = parse_spec(
        """
name: Shop
stages:
  - {id: browse, name: Browse}
  - {id: buy, name: Buy}
touchpoints:
  - {id: product_page, name: Product page, stage: browse, events: [product1, product2]}
  - {id: checkout, name: Checkout, stage: buy, events: [cart, payment_done]}
"""
    )
    events = apply_spec(
        journeys_for(
            {
                "ann": [("product2", "2024-01-01"), ("cart", "2024-01-02")],
                "bob": [("product1", "2024-01-01"), ("main", "2024-01-02")],
            }
        ),
        spec,
    )
    assert counts(funnel(events, ["product_page", "stage:buy"])) == [2, 1]
    assert events.unmapped_events == 1


def test_an_unknown_step_suggests_close_names(shop_events: EventLog) -> None:
    with pytest.raises(OptionsError, match="step 'catalogue' matches no event") as caught:
        funnel(shop_events, ["catalogue", "cart"])
    assert caught.value.hint == "did you mean 'catalog'?"
    with pytest.raises(OptionsError, match="no journey spec was given"):
        funnel(shop_events, ["touchpoint:catalog", "cart"])


def test_invalid_parameters_are_explained() -> None:
    with pytest.raises(ValueError, match="at least 2 items"):
        FunnelParams(steps=["a"])
    with pytest.raises(ValueError, match="first step cannot be optional"):
        FunnelParams(steps=["a?", "b"])
    with pytest.raises(ValueError, match="exclusions apply to ordered funnels only"):
        FunnelParams(steps=["a", "b"], mode="strict", exclusions=[{"event": "x"}])
    with pytest.raises(ValueError, match="not a duration"):
        FunnelParams(steps=["a", "b"], window="soon")


def test_breakdown_by_a_missing_column(shop_events: EventLog) -> None:
    with pytest.raises(OptionsError, match="cannot break down by 'plan'"):
        funnel(shop_events, FunnelParams(steps=["catalog", "cart"], by="plan"))


def test_the_step_after_an_optional_step_is_measured_against_the_last_required_one(
    journeys_for: Journeys,
) -> None:
    """a, b?, c: two of four customers reach c, one of them without b."""
    log = journeys_for(
        {
            "both": [
                ("a", "2024-01-01 10:00"),
                ("b", "2024-01-01 11:00"),
                ("c", "2024-01-01 12:00"),
            ],
            "skip": [("a", "2024-01-01 10:00"), ("c", "2024-01-01 12:00")],
            "stops": [("a", "2024-01-01 10:00"), ("b", "2024-01-01 11:00")],
            "only": [("a", "2024-01-01 10:00")],
        }
    )
    steps = funnel(log, FunnelParams(steps=["a", "b?", "c"])).steps
    assert list(steps["customers"]) == [4, 2, 2]
    assert list(steps["conversion_from_previous"]) == [1.0, 0.5, 0.5]  # c: 2 of a's 4
    assert list(steps["drop_off"]) == [0, 2, 2]
