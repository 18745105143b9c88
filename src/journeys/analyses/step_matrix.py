"""The step matrix: what share of customers has each event as their k-th event.

Position 1 is each customer's first event. The ``ENDED`` row is the share of customers
whose path is already over at that position (it has fewer events), so every column
sums to 1 (as in retentioneering's step matrix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import Field

from journeys.analyses.base import Params, Result, clean
from journeys.analyses.sequences import Level, labelled, numbered
from journeys.data.reader import EventLog

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

ENDED = "ENDED"


class StepMatrixParams(Params):
    """How many positions to show and what to label events by."""

    max_steps: int = Field(default=10, ge=1, le=200)
    level: Level = "event"
    collapse_repeats: bool = False


@dataclass(frozen=True)
class StepMatrixResult(Result):
    """``shares``: a row per label (and ``ENDED``), a column per position 1..max_steps."""

    params: StepMatrixParams
    shares: pd.DataFrame
    customers: int

    def to_pandas(self) -> pd.DataFrame:
        return self.shares.reset_index(names="node")

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "positions": [int(p) for p in self.shares.columns],
            "shares": {
                str(node): clean([float(v) for v in row]) for node, row in self.shares.iterrows()
            },
        }

    def figure(self) -> Figure:
        from journeys.plots.paths import step_matrix_figure

        return step_matrix_figure(self)


def step_matrix(events: EventLog, params: StepMatrixParams | None = None) -> StepMatrixResult:
    """Share of customers at each position of their path with each event.

    Examples
    --------
    >>> step_matrix(events, StepMatrixParams(max_steps=6)).shares  # doctest: +SKIP
    """
    params = params or StepMatrixParams()
    table = numbered(labelled(events, params.level, collapse_repeats=params.collapse_repeats))
    early = table.filter(table.position <= params.max_steps)
    counts = early.group_by(["node", "position"]).aggregate(customers=early.count()).to_pandas()
    # Every customer has exactly one first event: the first position counts them all.
    customers = int(counts.loc[counts["position"] == 1, "customers"].sum())
    positions = list(range(1, params.max_steps + 1))
    matrix = (
        counts.pivot_table(
            index="node", columns="position", values="customers", aggfunc="sum", fill_value=0
        )
        .reindex(columns=positions, fill_value=0)
        .astype(float)
    )
    if customers:
        matrix = matrix / customers
    order = matrix.sum(axis=1).sort_values(ascending=False, kind="stable").index
    matrix = matrix.loc[order]
    matrix.loc[ENDED] = 1.0 - matrix.sum(axis=0) if customers else 0.0
    matrix.loc[ENDED] = matrix.loc[ENDED].clip(lower=0.0)
    matrix.columns = pd.Index(positions, name="position")
    matrix.index.name = None
    return StepMatrixResult(params=params, shares=matrix, customers=customers)
