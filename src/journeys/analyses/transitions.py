"""Transitions: what customers do next.

Each pair of consecutive events of a customer is a transition: how often ``from`` is
followed by ``to``, by how many customers, what share of everything that follows
``from`` it is, and the median time between them. By event, the pairs are read from each
event's previous event, stored when the events were read.
"""

from __future__ import annotations

from typing import Annotated

import ibis
import pandas as pd
from pydantic import Field

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf
from journeys.analyses.positions import consecutive
from journeys.analyses.registry import Analysis
from journeys.analyses.sequences import Level
from journeys.data.reader import EventLog


class TransitionsParams(Params):
    """Which labels to follow, and whether to collapse immediate repeats."""

    level: Level = Field(default="event", description="Label events by event, touchpoint or stage.")
    collapse_repeats: bool = Field(
        default=False, description="Merge immediate repeats of the same label (a a b is a b)."
    )


class TransitionRow(Row):
    """One pair of consecutive labels."""

    from_: str = Field(alias="from", description="The earlier label.")
    to: str = Field(description="The label that follows it.")
    transitions: int = Field(description="How often 'from' is followed by 'to'.")
    customers: int = Field(description="Customers with at least one such transition.")
    share_of_from: float = Field(description="Share of everything that follows 'from'.")
    median_seconds: float | None = Field(description="Median time between the two.")


class TransitionsResult(Result):
    """One row per (from, to) pair, most frequent first."""

    main_table = "transitions"
    params: TransitionsParams
    transitions: Annotated[pd.DataFrame, TableOf(TransitionRow)]


def transitions(events: EventLog, params: TransitionsParams | None = None) -> TransitionsResult:
    """Count transitions between consecutive events of each customer.

    Examples
    --------
    >>> transitions(events).transitions.head(3)  # doctest: +SKIP
    """
    params = params or TransitionsParams()
    pairs = consecutive(events, params.level, collapse_repeats=params.collapse_repeats)
    counted = pairs.group_by(["source", "to"]).aggregate(
        transitions=pairs.count(),
        customers=pairs.customer_id.nunique(),
        median_seconds=(pairs.gap_us / 1e6).quantile(0.5),
    )
    from_total = counted.transitions.sum().over(ibis.window(group_by="source"))
    counted = counted.mutate(share_of_from=counted.transitions / from_total)
    ordered = counted.select(
        "source", "to", "transitions", "customers", "share_of_from", "median_seconds"
    ).order_by([ibis.desc("transitions"), "source", "to"])
    frame = runner.current().frame(ordered).rename(columns={"source": "from"})
    return TransitionsResult(params=params, transitions=frame)


ANALYSIS = Analysis(
    params=TransitionsParams,
    result=TransitionsResult,
    run=transitions,
    figures=("journeys.plots.paths:transitions_figure",),
)
