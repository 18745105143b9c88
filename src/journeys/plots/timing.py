"""Time between stages: the spread of durations for each pair, as box plots in days."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.plots.labels import Labels
from journeys.plots.theme import styled

if TYPE_CHECKING:
    from journeys.analyses.timing import TimingResult


def timing_figure(result: TimingResult, *, labels: Labels | None = None) -> go.Figure:
    """A box per pair from its quantiles (10th to 90th percentile as whiskers)."""
    table = result.pairs[result.pairs["customers"] > 0]
    names = labels or Labels()
    pairs = [f"{names.step(a)} → {names.step(b)}" for a, b in zip(table["from"], table["to"])]
    figure = go.Figure(
        go.Box(
            y=pairs,
            q1=table["p25_days"],
            median=table["median_days"],
            q3=table["p75_days"],
            lowerfence=table["p10_days"],
            upperfence=table["p90_days"],
            mean=table["mean_days"],
            orientation="h",
            name="days",
            boxpoints=False,
        )
    )
    figure.update_xaxes(title="days (box: 25th-75th percentile, whiskers: 10th-90th)")
    figure.update_yaxes(autorange="reversed")
    return styled(figure, "Time between stages", height=max(360, 60 * len(pairs) + 120))
