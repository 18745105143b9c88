"""The headline numbers of a journey: customers, events, conversion to each stage, purchases."""

from __future__ import annotations

from typing import Annotated, Any

import ibis
import pandas as pd
from pydantic import Field

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf, frame_of, number
from journeys.analyses.definitions import purchase_predicate
from journeys.analyses.registry import Analysis
from journeys.data.reader import EventLog


class KpiParams(Params):
    """Which events are purchases, when the spec has no ``purchase`` milestone."""

    purchase_event: str | None = Field(
        default=None, description="What a purchase is (default: the spec's purchase milestone)."
    )


class StageReachRow(Row):
    """Customers who entered a stage."""

    stage: str = Field(description="The stage's id in the spec.")
    name: str = Field(description="The stage's name in the spec.")
    customers: int = Field(description="Customers with at least one event in the stage.")
    share: float | None = Field(description="Share of all customers.")


class KpiResult(Result):
    """Headline numbers, and the share of customers reaching each stage.

    The purchase numbers are null when which events are purchases is not known.
    """

    main_table = "stages"
    params: KpiParams
    customers: int = Field(description="Distinct customers among the events read.")
    events: int = Field(description="Events read (rows used).")
    first_event: str = Field(description="Time of the first event (UTC, ISO 8601).")
    last_event: str = Field(description="Time of the last event (UTC, ISO 8601).")
    unmapped_events: int | None = Field(
        description="Events that match no touchpoint (null without a spec)."
    )
    purchasers: int | None = Field(
        default=None,
        description="Customers with at least one purchase (null when which events are "
        "purchases is not known).",
    )
    median_days_to_purchase: float | None = Field(
        default=None, description="From a purchaser's first event to their first purchase."
    )
    repeat_purchase_rate: float | None = Field(
        default=None, description="Share of purchasers who purchased more than once."
    )
    revenue: float | None = Field(default=None, description="Total value of the purchases.")
    revenue_from_existing_share: float | None = Field(
        default=None, description="Share of revenue from purchases after a customer's first."
    )
    stages: Annotated[pd.DataFrame, TableOf(StageReachRow)]

    def to_pandas(self) -> pd.DataFrame:
        """The headline numbers as a table of ``kpi`` and ``value``."""
        return pd.DataFrame(
            [{"kpi": key, "value": value} for key, value in self.scalars().items()],
            columns=["kpi", "value"],
        )


def kpis(events: EventLog, params: KpiParams | None = None) -> KpiResult:
    """Customers, events, stage conversion, time to purchase, repeat purchase, revenue split.

    The share of revenue from existing customers counts the revenue of every purchase
    after a customer's first one.

    Examples
    --------
    >>> kpis(mapped_events).customers  # doctest: +SKIP
    """
    params = params or KpiParams()
    table = events.table
    overview = runner.current().frame(
        table.aggregate(
            customers=table.customer_id.nunique(),
            events=table.count(),
            first_event=table.timestamp.min(),
            last_event=table.timestamp.max(),
        )
    )
    values: dict[str, Any] = {
        "customers": int(overview["customers"].iloc[0]),
        "events": int(overview["events"].iloc[0]),
        "first_event": pd.Timestamp(overview["first_event"].iloc[0]).isoformat(),
        "last_event": pd.Timestamp(overview["last_event"].iloc[0]).isoformat(),
        "unmapped_events": events.unmapped_events if events.spec is not None else None,
    }
    values |= _purchase_kpis(events, params)
    stages = _stage_reach(events, values["customers"])
    return KpiResult(params=params, stages=stages, **values)


def _purchase_kpis(events: EventLog, params: KpiParams) -> dict[str, Any]:
    is_purchase = purchase_predicate(events, params.purchase_event)
    if is_purchase is None:
        return {}
    table = events.table
    value = table.value.fill_null(0.0) if events.has_value else ibis.literal(0.0)
    marked = table.select("customer_id", "timestamp_us", value=value, is_purchase=is_purchase)
    per_customer = marked.group_by("customer_id").aggregate(
        first_us=marked.timestamp_us.min(),
        purchase_us=marked.timestamp_us.min(where=marked.is_purchase),
        purchases=marked.is_purchase.cast("int64").sum(),
    )
    summary = runner.current().frame(
        per_customer.aggregate(
            purchasers=(per_customer.purchases > 0).cast("int64").sum(),
            repeaters=(per_customer.purchases > 1).cast("int64").sum(),
            median_days_to_purchase=(
                (per_customer.purchase_us - per_customer.first_us) / 86_400e6
            ).quantile(0.5),
        )
    )
    purchasers = int(summary["purchasers"].fillna(0).iloc[0])
    result: dict[str, Any] = {
        "purchasers": purchasers,
        "median_days_to_purchase": number(summary["median_days_to_purchase"].iloc[0]),
        "repeat_purchase_rate": (
            int(summary["repeaters"].fillna(0).iloc[0]) / purchasers if purchasers else None
        ),
    }
    if events.has_value:
        bought = marked.filter(marked.is_purchase)
        order = ibis.window(group_by="customer_id", order_by=["timestamp_us"])
        bought = bought.mutate(nth=ibis.row_number().over(order))
        revenue = runner.current().frame(
            bought.aggregate(
                total=bought.value.sum(), existing=bought.value.sum(where=bought.nth > 0)
            )
        )
        total = number(revenue["total"].iloc[0]) or 0.0
        existing = number(revenue["existing"].iloc[0]) or 0.0
        result["revenue"] = total
        result["revenue_from_existing_share"] = existing / total if total else None
    return result


def _stage_reach(events: EventLog, customers: int) -> pd.DataFrame:
    if events.spec is None or not events.spec.touchpoints:
        return frame_of([], StageReachRow)
    table = events.table.filter(events.table.stage.notnull())
    reached = runner.current().frame(
        table.group_by("stage").aggregate(customers=table.customer_id.nunique())
    )
    counts = dict(zip(reached["stage"], reached["customers"], strict=True))
    rows = [
        {
            "stage": stage.id,
            "name": stage.name,
            "customers": int(counts.get(stage.id, 0)),
            "share": counts.get(stage.id, 0) / customers if customers else None,
        }
        for stage in events.spec.stages
    ]
    return frame_of(rows, StageReachRow)


ANALYSIS = Analysis(
    params=KpiParams,
    result=KpiResult,
    run=kpis,
    figures=("journeys.plots.kpis:stages_figure",),
)
