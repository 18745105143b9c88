from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from journeys.analyses.journey_map import journey_map
from journeys.data.mapping import apply_spec
from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.spec import parse_spec

Journeys = Callable[..., EventLog]

SPEC = parse_spec(
    """
name: Shop
stages:
  - {id: browse, name: Browse}
  - {id: buy, name: Buy}
  - {id: service, name: Service}
touchpoints:
  - {id: ad, name: Ad, stage: browse, channel: paid, owner: marketing, events: ad}
  - {id: page, name: Page, stage: browse, channel: web, owner: marketing, events: page}
  - {id: order, name: Order, stage: buy, channel: web, owner: sales, events: order}
  - {id: survey, name: Survey, stage: service, channel: email, owner: support, events: survey}
"""
)


def test_touchpoint_volume_conversion_and_score(journeys_for: Journeys) -> None:
    events = journeys_for(
        {
            # ann: ad, then order: converts from ad
            "ann": [
                ("ad", "2024-01-01", {"csat": None}),
                ("order", "2024-01-02", {"csat": None}),
                ("survey", "2024-01-05", {"csat": 4.0}),
            ],
            # bob: ordered before his first page view: page does not convert him
            "bob": [
                ("order", "2024-01-01", {"csat": None}),
                ("page", "2024-01-02", {"csat": None}),
                ("survey", "2024-01-03", {"csat": 2.0}),
            ],
            # cyd: two ads, a page, no order
            "cyd": [
                ("ad", "2024-01-01", {"csat": None}),
                ("ad", "2024-01-03", {"csat": None}),
                ("page", "2024-01-04", {"csat": None}),
            ],
        }
    )
    mapped = apply_spec(events, SPEC)
    result = journey_map(mapped)
    table = result.touchpoints.set_index("touchpoint")
    assert table.loc["ad", "events"] == 3
    assert table.loc["ad", "customers"] == 2
    assert table.loc["ad", "conversion_to_next_stage"] == pytest.approx(0.5)  # ann of ann, cyd
    assert table.loc["page", "conversion_to_next_stage"] == pytest.approx(0.0)  # bob ordered before
    assert table.loc["order", "conversion_to_next_stage"] == pytest.approx(
        1.0
    )  # both surveyed after
    assert pd.isna(table.loc["survey", "conversion_to_next_stage"])  # last stage
    assert table.loc["survey", "mean_satisfaction"] == pytest.approx(3.0)
    assert table.loc["survey", "satisfaction_responses"] == 2
    assert dict(zip(result.stages["stage"], result.stages["customers"])) == {
        "browse": 3,
        "buy": 2,
        "service": 2,
    }


def test_a_journey_map_needs_a_spec(journeys_for: Journeys) -> None:
    with pytest.raises(OptionsError, match="needs a journey spec"):
        journey_map(journeys_for({"ann": [("a", "2024-01-01")]}))


def test_a_map_without_satisfaction_scores(journeys_for: Journeys) -> None:
    events = journeys_for(
        {"ann": [("ad", "2024-01-01"), ("order", "2024-01-02")], "bob": [("page", "2024-01-01")]}
    )
    table = journey_map(apply_spec(events, SPEC)).touchpoints.set_index("touchpoint")
    assert table.loc["ad", "conversion_to_next_stage"] == pytest.approx(1.0)
    assert pd.isna(table.loc["ad", "mean_satisfaction"])
    assert table.loc["ad", "satisfaction_responses"] == 0
