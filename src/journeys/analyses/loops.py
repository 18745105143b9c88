"""Loops: customers who come back to an earlier stage, or to a touchpoint within a stage.

Two kinds of loop are measured, on each customer's events at a touchpoint, in time
order (events that match no touchpoint are skipped: they neither end a visit of a stage
nor separate two events of one).

*Returns to an earlier stage.* A return is an event whose stage comes earlier in the
spec's order of stages than the furthest stage the customer had reached before it:
after onboarding, a customer back in consideration (shopping around), or from loyalty
back to purchase (buying again). Repeats of the same stage in a row are not returns.

*Loops within a stage.* A *visit* of a stage is a run of a customer's events in that
stage, from the first event that enters it to the last before an event of another
stage. A loop within a stage is an event at a touchpoint the customer had already
visited earlier in the same visit, when the event just before it was at another
touchpoint of the stage: cart, shipping, cart is one loop, from shipping back to cart;
cart, shipping, cart, shipping is two (the second back to shipping). Repeats in a row
(cart, cart) are not loops. Leaving the stage and coming back starts a new visit: cart,
payment, cart is never a loop within the stage (it is a return to an earlier stage when
that stage comes before the furthest one reached), so no step is counted twice.
"""

from __future__ import annotations

from typing import Annotated, Any

import ibis
import pandas as pd
from pydantic import Field

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf
from journeys.analyses.registry import Analysis
from journeys.data.reader import EventLog, numbered_table
from journeys.errors import OptionsError
from journeys.spec.models import Spec


class LoopsParams(Params):
    """Nothing to set yet: loops are measured between the spec's stages and touchpoints."""


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


class StageLoopRow(Row):
    """Loops within one stage: returns to a touchpoint already visited in the same visit."""

    stage: str = Field(description="The stage (every stage of the spec, in its order).")
    customers: int = Field(description="Customers with an event in the stage.")
    looping_customers: int = Field(
        description="Customers who looped within the stage at least once."
    )
    loops: int = Field(description="Loops within the stage, over every customer and visit.")
    share_looping: float | None = Field(
        description="looping_customers / customers (null for a stage nobody reached)."
    )


class TouchpointLoopRow(Row):
    """Loops back to one touchpoint within its stage."""

    stage: str = Field(description="The touchpoint's stage.")
    touchpoint: str = Field(description="The touchpoint (every touchpoint of the spec).")
    customers: int = Field(description="Customers with an event at the touchpoint.")
    looping_customers: int = Field(
        description="Customers who came back to the touchpoint within a visit of its stage."
    )
    returns: int = Field(description="Loops back to the touchpoint, over every customer.")
    share_of_stage: float | None = Field(
        description="looping_customers / the customers of the stage (null for a stage "
        "nobody reached)."
    )


class LoopPairRow(Row):
    """A loop within a stage: the touchpoint left from and the one returned to."""

    stage: str = Field(description="The stage both touchpoints belong to.")
    from_touchpoint: str = Field(description="The touchpoint just before the return.")
    to_touchpoint: str = Field(
        description="The touchpoint returned to, already visited in the same visit."
    )
    returns: int = Field(description="Loops from the one touchpoint back to the other.")
    customers: int = Field(description="Customers who made at least one of them.")


class LoopsResult(Result):
    """Returns to earlier stages, and loops between the touchpoints of one stage."""

    main_table = "returns"
    params: LoopsParams
    customers: int = Field(description="Customers with an event in some stage.")
    looping_customers: int = Field(
        description="Customers who came back to an earlier stage at least once."
    )
    share_looping: float | None = Field(description="looping_customers / customers.")
    customers_looping_within: int = Field(
        description="Customers who looped within some stage at least once."
    )
    share_looping_within: float | None = Field(description="customers_looping_within / customers.")
    returns: Annotated[pd.DataFrame, TableOf(ReturnRow)]
    distribution: Annotated[pd.DataFrame, TableOf(ReturnCountRow)]
    loops_within_stages: Annotated[pd.DataFrame, TableOf(StageLoopRow)]
    loops_to_touchpoints: Annotated[pd.DataFrame, TableOf(TouchpointLoopRow)]
    loops_between_touchpoints: Annotated[pd.DataFrame, TableOf(LoopPairRow)]


def loops(events: EventLog, params: LoopsParams | None = None) -> LoopsResult:
    """Count returns to earlier stages and loops within each stage.

    Examples
    --------
    >>> loops(mapped_events).loops_between_touchpoints  # doctest: +SKIP
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
    # Every summary reads the marked events: compute the windows once. The counts per
    # stage and touchpoint read a much smaller table, one row per customer and touchpoint.
    table = run.cached(_marked(events, stage_order))
    per_touchpoint = run.cached(
        table.group_by(["customer_id", "stage", "touchpoint"]).aggregate(
            loops=table.is_loop.cast("int64").sum()
        )
    )
    totals = run.frame(
        per_touchpoint.aggregate(
            customers=per_touchpoint.customer_id.nunique(),
            within=per_touchpoint.customer_id.nunique(where=per_touchpoint.loops > 0),
        )
    )
    customers = int(totals["customers"].iloc[0])
    within = int(totals["within"].iloc[0])
    returns, distribution = _stage_returns(table, stage_order)
    looping = int(distribution.loc[distribution["returns"] > 0, "customers"].sum())
    stages = _loops_within_stages(per_touchpoint, spec)
    return LoopsResult(
        params=params,
        returns=returns,
        distribution=distribution,
        customers=customers,
        looping_customers=looping,
        share_looping=looping / customers if customers else None,
        customers_looping_within=within,
        share_looping_within=within / customers if customers else None,
        loops_within_stages=stages,
        loops_to_touchpoints=_loops_to_touchpoints(per_touchpoint, spec, stages),
        loops_between_touchpoints=_loops_between_touchpoints(table, stage_order),
    )


def _stage_returns(
    table: ibis.Table, stage_order: dict[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns per (furthest stage, stage returned to), and customers by number of returns."""
    run = runner.current()
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
    return returns, counted.astype(int)


def _stage_counts(per_touchpoint: ibis.Table) -> pd.DataFrame:
    """Per stage: customers, looping customers and loops (from the loops per customer and
    touchpoint)."""
    counted = per_touchpoint.group_by("stage").aggregate(
        customers=per_touchpoint.customer_id.nunique(),
        looping_customers=per_touchpoint.customer_id.nunique(where=per_touchpoint.loops > 0),
        loops=per_touchpoint.loops.sum(),
    )
    return runner.current().frame(counted)


def _touchpoint_counts(per_touchpoint: ibis.Table) -> pd.DataFrame:
    """Per touchpoint: customers, looping customers and loops (each row is one customer)."""
    counted = per_touchpoint.group_by(["stage", "touchpoint"]).aggregate(
        customers=per_touchpoint.count(),
        looping_customers=(per_touchpoint.loops > 0).cast("int64").sum(),
        loops=per_touchpoint.loops.sum(),
    )
    return runner.current().frame(counted)


def _loops_within_stages(per_touchpoint: ibis.Table, spec: Spec) -> pd.DataFrame:
    """Every stage of the spec, in its order: customers, looping customers, loops, share."""
    counted = _stage_counts(per_touchpoint).set_index("stage")
    stages = [stage.id for stage in spec.stages]
    frame = counted.reindex(stages, fill_value=0).astype(int).rename_axis("stage").reset_index()
    frame["share_looping"] = _share(frame["looping_customers"], frame["customers"])
    return frame


def _loops_to_touchpoints(
    per_touchpoint: ibis.Table, spec: Spec, stages: pd.DataFrame
) -> pd.DataFrame:
    """Every touchpoint of a stage: customers, those who looped back to it, its loops.

    In the spec's order of stages; within a stage, the touchpoints looped back to most first.
    """
    counted = _touchpoint_counts(per_touchpoint)
    stage_order = {stage.id: index for index, stage in enumerate(spec.stages)}
    listed = pd.DataFrame(
        [
            {"stage": touchpoint.stage, "touchpoint": touchpoint.id, "order": index}
            for index, touchpoint in enumerate(spec.touchpoints)
        ],
        columns=["stage", "touchpoint", "order"],
    )
    frame = listed.merge(counted, on=["stage", "touchpoint"], how="left")
    numbers = ["customers", "looping_customers", "loops"]
    frame[numbers] = frame[numbers].fillna(0).astype(int)
    stage_customers = stages.set_index("stage")["customers"]
    frame["share_of_stage"] = _share(
        frame["looping_customers"], frame["stage"].map(stage_customers)
    )
    frame["stage_order"] = frame["stage"].map(stage_order)
    frame = frame.sort_values(
        ["stage_order", "loops", "looping_customers", "order"],
        ascending=[True, False, False, True],
    )
    return frame.rename(columns={"loops": "returns"}).drop(columns=["order", "stage_order"])


def _loops_between_touchpoints(table: ibis.Table, stage_order: dict[str, int]) -> pd.DataFrame:
    """Loops by (stage, touchpoint left from, touchpoint returned to), the most common first."""
    looped = table.filter(table.is_loop)
    frame = runner.current().frame(
        looped.group_by(["stage", "from_touchpoint", "touchpoint"])
        .aggregate(returns=looped.count(), customers=looped.customer_id.nunique())
        .rename(to_touchpoint="touchpoint")
    )
    frame[["returns", "customers"]] = frame[["returns", "customers"]].astype(int)
    frame["stage_order"] = frame["stage"].map(stage_order)
    frame = frame.sort_values(
        ["returns", "customers", "stage_order", "from_touchpoint", "to_touchpoint"],
        ascending=[False, False, True, True, True],
    )
    return frame.drop(columns="stage_order").reset_index(drop=True)


def _share(part: pd.Series[Any], whole: pd.Series[Any]) -> pd.Series[Any]:
    """``part / whole``, missing where ``whole`` is zero."""
    return (part / whole.where(whole > 0)).astype(float)


def _marked(events: EventLog, stage_order: dict[str, int]) -> ibis.Table:
    """Each event with a stage, marked for both kinds of loop.

    Columns: ``customer_id``, ``stage``, ``touchpoint``, ``rank`` (its stage's place in
    the spec), ``furthest`` (the furthest rank the customer reached before it),
    ``is_return`` (back to an earlier stage), ``from_touchpoint`` (the touchpoint of the
    customer's previous event with a stage) and ``is_loop`` (back to a touchpoint within
    the same visit of the stage).

    The windows run in the order the events were numbered when read. The furthest stage
    before an event is the same whether or not repeats are merged (a repeat has the rank
    of the event it repeats), so a repeat is simply not counted as a return. A visit is
    numbered by counting the events that enter a stage; an event loops when its
    touchpoint was seen earlier in the visit and the event before it is elsewhere.
    """
    table = numbered_table(events)
    staged = table.filter(table.stage.notnull())
    rank = ibis.cases(*[(staged.stage == stage, index) for stage, index in stage_order.items()])
    staged = staged.select("customer_id", "position", "stage", "touchpoint", rank=rank)
    order = ibis.window(group_by="customer_id", order_by="position")
    before = ibis.window(group_by="customer_id", order_by="position", rows=(None, -1))
    so_far = ibis.window(group_by="customer_id", order_by="position", rows=(None, 0))
    marked = staged.mutate(
        previous=staged.rank.lag().over(order),
        from_touchpoint=staged.touchpoint.lag().over(order),
        furthest=staged.rank.max().over(before),
    )
    enters = marked.previous.isnull() | (marked.previous != marked.rank)
    visits = marked.mutate(visit=enters.cast("int64").sum().over(so_far))
    in_visit = ibis.window(group_by=["customer_id", "visit", "touchpoint"])
    seen_before = visits.position > visits.position.min().over(in_visit)
    repeat = visits.previous.notnull() & (visits.previous == visits.rank)
    return visits.select(
        "customer_id",
        "stage",
        "touchpoint",
        "rank",
        "furthest",
        "from_touchpoint",
        is_return=((visits.rank < visits.furthest) & ~repeat).fill_null(False),
        is_loop=(seen_before & (visits.from_touchpoint != visits.touchpoint)).fill_null(False),
    )


ANALYSIS = Analysis(
    params=LoopsParams,
    result=LoopsResult,
    run=loops,
    needs_spec=True,
    figures=("journeys.plots.paths:loops_figure", "journeys.plots.loops:loops_within_figure"),
)
