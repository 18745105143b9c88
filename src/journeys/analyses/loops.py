"""Loops: customers who come back to an earlier stage of the journey, and how often.

A return is an event whose stage comes earlier in the spec's order of stages than the
furthest stage the customer had reached before it: after onboarding, a customer back in
consideration (shopping around), or from loyalty back to purchase (buying again).
Repeats of the same stage in a row are not returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from journeys.analyses.base import Params, Result, records
from journeys.analyses.sequences import labelled, order_keys
from journeys.data.reader import EventLog
from journeys.errors import OptionsError

if TYPE_CHECKING:
    from plotly.graph_objects import Figure


class LoopsParams(Params):
    """Nothing to set yet: loops are measured between the spec's stages."""


@dataclass(frozen=True)
class LoopsResult(Result):
    """Returns per (furthest stage, stage returned to), and customers by number of returns.

    ``returns`` has ``from_stage`` (the furthest stage reached before), ``to_stage``,
    ``returns`` and ``customers``; ``distribution`` has ``returns`` (0, 1, 2, ...) and
    ``customers``.
    """

    params: LoopsParams
    returns: pd.DataFrame
    distribution: pd.DataFrame
    customers: int
    looping_customers: int

    def to_pandas(self) -> pd.DataFrame:
        return self.returns

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "looping_customers": self.looping_customers,
            "share_looping": self.looping_customers / self.customers if self.customers else None,
            "returns": records(self.returns),
            "distribution": records(self.distribution),
        }

    def figure(self) -> Figure:
        from journeys.plots.paths import loops_figure

        return loops_figure(self)


def loops(events: EventLog, params: LoopsParams | None = None) -> LoopsResult:
    """Count returns to earlier stages.

    Examples
    --------
    >>> loops(mapped_events).distribution  # doctest: +SKIP
    """
    params = params or LoopsParams()
    spec = events.spec
    if spec is None:
        raise OptionsError(
            "loops are measured between stages, which need a journey spec",
            hint="pass --spec SPEC",
            code="needs-spec",
        )
    stage_order = {stage.id: index for index, stage in enumerate(spec.stages)}
    table = labelled(events, "stage", collapse_repeats=True)
    rank = ibis.cases(*[(table.node == stage, index) for stage, index in stage_order.items()])
    table = table.mutate(rank=rank)
    before = ibis.window(group_by="customer_id", order_by=order_keys(table), rows=(None, -1))
    furthest = table.rank.max().over(before)
    table = table.mutate(furthest=furthest)
    # Three summaries read the returns: compute the windows once.
    table = table.select(
        "customer_id", "rank", "furthest", is_return=(table.rank < table.furthest).fill_null(False)
    ).cache()
    customers = int(table.customer_id.nunique().execute())
    names = {index: stage for stage, index in stage_order.items()}
    returned = table.filter(table.is_return)
    by_pair = (
        returned.group_by(["furthest", "rank"])
        .aggregate(returns=returned.count(), customers=returned.customer_id.nunique())
        .order_by([ibis.desc("returns"), "furthest", "rank"])
        .to_pandas()
    )
    returns = pd.DataFrame(
        {
            "from_stage": [names[int(i)] for i in by_pair["furthest"]],
            "to_stage": [names[int(i)] for i in by_pair["rank"]],
            "returns": by_pair["returns"].astype(int),
            "customers": by_pair["customers"].astype(int),
        }
    )
    per_customer = table.group_by("customer_id").aggregate(
        returns=table.is_return.cast("int64").sum()
    )
    counted = (
        per_customer.group_by("returns")
        .aggregate(customers=per_customer.count())
        .order_by("returns")
        .to_pandas()
    )
    looping = int(counted.loc[counted["returns"] > 0, "customers"].sum())
    return LoopsResult(
        params=params,
        returns=returns,
        distribution=counted.astype(int),
        customers=customers,
        looping_customers=looping,
    )
