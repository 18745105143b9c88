"""The measured journey map: every touchpoint under its stage, with volume, conversion and score.

For each touchpoint: events, customers, owner and channel, the mean satisfaction of
its events (when the data has a score), and its conversion: the share of its customers
who enter the next stage of the journey after first touching it.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any

import ibis
import pandas as pd
from pydantic import Field

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf, frame_of, number
from journeys.analyses.registry import Analysis
from journeys.data.reader import EventLog


class JourneyMapParams(Params):
    """Nothing to set: the map follows the spec."""


class MapTouchpointRow(Row):
    """One touchpoint of the spec, measured."""

    touchpoint: str = Field(description="The touchpoint's id in the spec.")
    name: str = Field(description="The touchpoint's name in the spec.")
    stage: str = Field(description="The stage the touchpoint belongs to.")
    channel: str | None = Field(description="The touchpoint's channel in the spec.")
    owner: str | None = Field(description="The department that owns it.")
    events: int = Field(description="Events mapped to the touchpoint.")
    customers: int = Field(description="Customers with at least one of its events.")
    next_stage: str | None = Field(description="The stage after this touchpoint's stage.")
    conversion_to_next_stage: float | None = Field(
        description="Share of its customers who enter the next stage after first touching it."
    )
    mean_satisfaction: float | None = Field(description="Mean score of its events, if scored.")
    satisfaction_responses: int = Field(description="Its events that carry a satisfaction score.")


class MapStageRow(Row):
    """Customers who entered each stage."""

    stage: str = Field(description="The stage's id in the spec.")
    name: str = Field(description="The stage's name in the spec.")
    customers: int = Field(description="Customers with at least one event in the stage.")


class JourneyMapResult(Result):
    """``touchpoints``: one row per touchpoint; ``stages``: customers per stage."""

    main_table = "touchpoints"
    params: JourneyMapParams
    touchpoints: Annotated[pd.DataFrame, TableOf(MapTouchpointRow)]
    stages: Annotated[pd.DataFrame, TableOf(MapStageRow)]


def journey_map(events: EventLog, params: JourneyMapParams | None = None) -> JourneyMapResult:
    """Measure each touchpoint of the spec on the events.

    Examples
    --------
    >>> journey_map(mapped_events).touchpoints  # doctest: +SKIP
    """
    params = params or JourneyMapParams()
    spec = events.require_spec("a journey map")
    run = runner.current()
    table = events.table.filter(events.table.touchpoint.notnull())
    if not events.has_satisfaction:
        table = table.mutate(satisfaction=ibis.null("float64"))
    score = table.satisfaction
    volume = run.frame(
        table.group_by("touchpoint").aggregate(
            events=table.count(),
            customers=table.customer_id.nunique(),
            mean_satisfaction=score.mean(),
            responses=score.count(),
        )
    ).set_index("touchpoint")
    stage_ids = [stage.id for stage in spec.stages]
    next_stage = dict(itertools.pairwise(stage_ids))
    first_touch = table.group_by(["customer_id", "touchpoint"]).aggregate(
        touched_us=table.timestamp_us.min()
    )
    stage_entry = table.group_by(["customer_id", "stage"]).aggregate(
        entered_us=table.timestamp_us.min()
    )
    targets = ibis.memtable(
        {
            "touchpoint": [t.id for t in spec.touchpoints if t.stage in next_stage],
            "next_stage": [next_stage[t.stage] for t in spec.touchpoints if t.stage in next_stage],
        }
    )
    paired = first_touch.inner_join(targets, "touchpoint").left_join(
        stage_entry,
        [
            ibis._.customer_id == stage_entry.customer_id,
            ibis._.next_stage == stage_entry.stage,
        ],
    )
    converted = run.frame(
        paired.group_by("touchpoint").aggregate(
            converted=(paired.entered_us > paired.touched_us).fill_null(False).cast("int64").sum()
        )
    ).set_index("touchpoint")["converted"]
    measured_rows: dict[Any, Any] = volume.to_dict(orient="index")
    rows = []
    for touchpoint in spec.touchpoints:
        found = measured_rows.get(touchpoint.id)
        customers = int(found["customers"]) if found is not None else 0
        has_next = touchpoint.stage in next_stage
        conversion = (
            int(converted.get(touchpoint.id, 0)) / customers if customers and has_next else None
        )
        satisfaction = found["mean_satisfaction"] if found is not None else None
        rows.append(
            {
                "touchpoint": touchpoint.id,
                "name": touchpoint.name,
                "stage": touchpoint.stage,
                "channel": touchpoint.channel,
                "owner": touchpoint.owner,
                "events": int(found["events"]) if found is not None else 0,
                "customers": customers,
                "next_stage": next_stage.get(touchpoint.stage),
                "conversion_to_next_stage": conversion,
                "mean_satisfaction": number(satisfaction),
                "satisfaction_responses": int(found["responses"]) if found is not None else 0,
            }
        )
    by_stage = events.table.filter(events.table.stage.notnull())
    reached = run.frame(
        by_stage.group_by("stage").aggregate(customers=by_stage.customer_id.nunique())
    ).set_index("stage")["customers"]
    stages = frame_of(
        [
            {
                "stage": stage.id,
                "name": stage.name,
                "customers": int(reached.get(stage.id, 0)),
            }
            for stage in spec.stages
        ],
        MapStageRow,
    )
    return JourneyMapResult(
        params=params, touchpoints=frame_of(rows, MapTouchpointRow), stages=stages
    )


ANALYSIS = Analysis(
    params=JourneyMapParams,
    result=JourneyMapResult,
    run=journey_map,
    needs_spec=True,
    figures=("journeys.plots.journey_map:journey_map_figure",),
)
