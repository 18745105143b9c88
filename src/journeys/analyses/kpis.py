"""The headline numbers of a journey: customers, events, conversion to each stage, purchases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from journeys.analyses.base import Params, Result, clean, records
from journeys.analyses.retention import purchase_predicate
from journeys.data.reader import EventLog

if TYPE_CHECKING:
    from plotly.graph_objects import Figure


class KpiParams(Params):
    """Which events are purchases, when the spec has no ``purchase`` milestone."""

    purchase_event: str | None = None


@dataclass(frozen=True)
class KpiResult(Result):
    """Headline numbers (``values``) and the share of customers reaching each stage."""

    params: KpiParams
    values: dict[str, Any]
    stages: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame([{"kpi": key, "value": value} for key, value in self.values.items()])

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = clean({**self.values, "stages": records(self.stages)})
        return result

    def figure(self) -> Figure:
        from journeys.plots.kpis import stages_figure

        return stages_figure(self)


def kpis(events: EventLog, params: KpiParams | None = None) -> KpiResult:
    """Customers, events, stage conversion, time to purchase, repeat purchase, revenue split.

    The share of revenue from existing customers counts the revenue of every purchase
    after a customer's first one.

    Examples
    --------
    >>> kpis(mapped_events).values["customers"]  # doctest: +SKIP
    """
    params = params or KpiParams()
    table = events.table
    overview = table.aggregate(
        customers=table.customer_id.nunique(),
        events=table.count(),
        first_event=table.timestamp.min(),
        last_event=table.timestamp.max(),
    ).to_pandas()
    values: dict[str, Any] = {
        "customers": int(overview["customers"].iloc[0]),
        "events": int(overview["events"].iloc[0]),
        "first_event": pd.Timestamp(overview["first_event"].iloc[0]).isoformat(),
        "last_event": pd.Timestamp(overview["last_event"].iloc[0]).isoformat(),
        "unmapped_events": events.unmapped_events if events.spec is not None else None,
    }
    values |= _purchase_kpis(events, params)
    stages = _stage_reach(events, values["customers"])
    return KpiResult(params=params, values=values, stages=stages)


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
    summary = per_customer.aggregate(
        purchasers=(per_customer.purchases > 0).cast("int64").sum(),
        repeaters=(per_customer.purchases > 1).cast("int64").sum(),
        median_days_to_purchase=(
            (per_customer.purchase_us - per_customer.first_us) / 86_400e6
        ).quantile(0.5),
    ).to_pandas()
    purchasers = int(summary["purchasers"].fillna(0).iloc[0])
    result: dict[str, Any] = {
        "purchasers": purchasers,
        "median_days_to_purchase": _float(summary["median_days_to_purchase"].iloc[0]),
        "repeat_purchase_rate": (
            int(summary["repeaters"].fillna(0).iloc[0]) / purchasers if purchasers else None
        ),
    }
    if events.has_value:
        bought = marked.filter(marked.is_purchase)
        order = ibis.window(group_by="customer_id", order_by=["timestamp_us"])
        bought = bought.mutate(nth=ibis.row_number().over(order))
        revenue = bought.aggregate(
            total=bought.value.sum(), existing=bought.value.sum(where=bought.nth > 0)
        ).to_pandas()
        total = _float(revenue["total"].iloc[0]) or 0.0
        existing = _float(revenue["existing"].iloc[0]) or 0.0
        result["revenue"] = total
        result["revenue_from_existing_share"] = existing / total if total else None
    return result


def _stage_reach(events: EventLog, customers: int) -> pd.DataFrame:
    columns = ["stage", "name", "customers", "share"]
    if events.spec is None or not events.spec.touchpoints:
        return pd.DataFrame(columns=columns)
    table = events.table.filter(events.table.stage.notnull())
    reached = table.group_by("stage").aggregate(customers=table.customer_id.nunique()).to_pandas()
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
    return pd.DataFrame(rows, columns=columns)


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
