"""The step matrix: what share of customers has each event as their k-th event.

Position 1 is each customer's first event. The ``ENDED`` row is the share of customers
whose path is already over at that position (it has fewer events), so every column
sums to 1 (as in retentioneering's step matrix).

By event, the positions are those numbered when the events were read: the matrix is a
filter and a count, with no sort.
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from journeys.analyses import runner
from journeys.analyses.base import Result
from journeys.analyses.positions import positioned
from journeys.analyses.registry import Analysis
from journeys.analyses.sequences import Level
from journeys.analyses.units import UnitParams, in_units
from journeys.data.reader import EventLog

ENDED = "ENDED"


class StepMatrixParams(UnitParams):
    """How many positions to show and what to label events by."""

    max_steps: int = Field(default=10, ge=1, le=200)
    level: Level = "event"
    collapse_repeats: bool = False


class StepMatrixResult(Result):
    """The share of customers at each position of their path with each label.

    ``shares`` maps each label (and ``ENDED``) to its share at positions 1..max_steps;
    labels are ordered by their total share, ``ENDED`` last.
    """

    main_table = "matrix"
    params: StepMatrixParams
    customers: int = Field(description="Customers with at least one event.")
    positions: list[int] = Field(description="The positions shown: 1 is each first event.")
    shares: dict[str, list[float]] = Field(
        description="Per label, the share of customers whose event at each position has it."
    )

    @property
    def matrix(self) -> pd.DataFrame:
        """A row per label (``node``), a column per position."""
        return pd.DataFrame(
            [[node, *row] for node, row in self.shares.items()],
            columns=["node", *[str(position) for position in self.positions]],
        )

    def to_pandas(self) -> pd.DataFrame:
        return self.matrix

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        shown = self.matrix
        shown.columns = ["node", *(f"share_at_{position}" for position in self.positions)]
        return [("share of customers whose k-th event is each event", shown)]


def step_matrix(events: EventLog, params: StepMatrixParams | None = None) -> StepMatrixResult:
    """Share of customers at each position of their path with each event.

    Examples
    --------
    >>> step_matrix(events, StepMatrixParams(max_steps=6)).shares  # doctest: +SKIP
    """
    params = params or StepMatrixParams()
    events = in_units(events, params)
    table = positioned(events, params.level, collapse_repeats=params.collapse_repeats)
    early = table.filter(table.position <= params.max_steps)
    counts = runner.current().frame(
        early.group_by(["node", "position"]).aggregate(customers=early.count())
    )
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
    ended = (1.0 - matrix.sum(axis=0)).clip(lower=0.0) if customers else matrix.sum(axis=0) * 0
    shares = {str(node): [float(v) for v in row] for node, row in matrix.iterrows()}
    shares[ENDED] = [float(v) for v in ended]
    return StepMatrixResult(params=params, customers=customers, positions=positions, shares=shares)


ANALYSIS = Analysis(
    params=StepMatrixParams,
    result=StepMatrixResult,
    run=step_matrix,
    figures=("journeys.plots.paths:step_matrix_figure",),
)
