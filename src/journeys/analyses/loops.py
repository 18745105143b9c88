"""Loops: customers who come back to an earlier stage of the journey, and how often.

A return is an event whose stage comes earlier in the spec's order of stages than the
furthest stage the customer had reached before it: after onboarding, a customer back in
consideration (shopping around), or from loyalty back to purchase (buying again).
Repeats of the same stage in a row are not returns.
"""

from __future__ import annotations

from typing import Annotated

import ibis
import pandas as pd
from pydantic import Field

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf
from journeys.analyses.registry import Analysis
from journeys.data.reader import EventLog, numbered_table
from journeys.errors import OptionsError


class LoopsParams(Params):
    """Nothing to set yet: loops are measured between the spec's stages."""


class ReturnRow(Row):
    """Returns from the furthest stage reached to an earlier one."""

    from_stage: str = Field(description="The furthest stage the customer had reached.")
    to_stage: str = Field(description="The earlier stage they came back to.")
    returns: int
    customers: int


class ReturnCountRow(Row):
    """How many customers came back how many times."""

    returns: int
    customers: int


class LoopsResult(Result):
    """Returns per (furthest stage, stage returned to), and customers by number of returns."""

    main_table = "returns"
    params: LoopsParams
    customers: int = Field(description="Customers with an event in some stage.")
    looping_customers: int = Field(description="Customers who came back at least once.")
    share_looping: float | None = Field(description="looping_customers / customers.")
    returns: Annotated[pd.DataFrame, TableOf(ReturnRow)]
    distribution: Annotated[pd.DataFrame, TableOf(ReturnCountRow)]


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
    run = runner.current()
    # Three summaries read the returns: compute the window once.
    table = run.cached(_returns(events, stage_order))
    customers = int(run.scalar(table.customer_id.nunique()))
    names = {index: stage for stage, index in stage_order.items()}
    returned = table.filter(table.is_return)
    by_pair = run.frame(
        returned.group_by(["furthest", "rank"])
        .aggregate(returns=returned.count(), customers=returned.customer_id.nunique())
        .order_by([ibis.desc("returns"), "furthest", "rank"])
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
    counted = run.frame(
        per_customer.group_by("returns")
        .aggregate(customers=per_customer.count())
        .order_by("returns")
    )
    looping = int(counted.loc[counted["returns"] > 0, "customers"].sum())
    return LoopsResult(
        params=params,
        returns=returns,
        distribution=counted.astype(int),
        customers=customers,
        looping_customers=looping,
        share_looping=looping / customers if customers else None,
    )


def _returns(events: EventLog, stage_order: dict[str, int]) -> ibis.Table:
    """Each event with a stage: ``customer_id``, ``rank`` (its stage's place in the spec),
    ``furthest`` (the furthest rank the customer reached before it) and ``is_return``.

    One window, in the order the events were numbered when read: the furthest stage
    before an event is the same whether or not repeats are merged (a repeat has the rank
    of the event it repeats), so a repeat is simply not counted as a return.
    """
    table = numbered_table(events)
    staged = table.filter(table.stage.notnull())
    rank = ibis.cases(*[(staged.stage == stage, index) for stage, index in stage_order.items()])
    staged = staged.select("customer_id", "position", rank=rank)
    order = ibis.window(group_by="customer_id", order_by="position")
    before = ibis.window(group_by="customer_id", order_by="position", rows=(None, -1))
    marked = staged.mutate(
        previous=staged.rank.lag().over(order), furthest=staged.rank.max().over(before)
    )
    repeat = marked.previous.notnull() & (marked.previous == marked.rank)
    return marked.select(
        "customer_id",
        "rank",
        "furthest",
        is_return=((marked.rank < marked.furthest) & ~repeat).fill_null(False),
    )


ANALYSIS = Analysis(
    params=LoopsParams,
    result=LoopsResult,
    run=loops,
    needs_spec=True,
    figures=("journeys.plots.paths:loops_figure",),
)
