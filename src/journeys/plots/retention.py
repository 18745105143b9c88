"""The retention heat map: cohorts as rows, periods since the cohort's start as columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.plots.theme import styled

if TYPE_CHECKING:
    from journeys.analyses.retention import RetentionResult


def retention_figure(result: RetentionResult, *, unbounded: bool = False) -> go.Figure:
    """Share of each cohort active in each later period."""
    matrix = result.matrix(unbounded=unbounded)
    sizes = {cohort.cohort: cohort.size for cohort in result.cohorts}
    labels = [f"{cohort} ({sizes[cohort]:,})" for cohort in matrix.index]
    figure = go.Figure(
        go.Heatmap(
            z=matrix.values,
            x=[str(p) for p in matrix.columns],
            y=labels,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            text=[[("" if v != v else f"{v:.0%}") for v in row] for row in matrix.values],
            texttemplate="%{text}",
            hovertemplate="%{y}, period %{x}: %{z:.1%}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", title="cohort (customers)")
    figure.update_xaxes(title=f"{result.params.period}s since the first", type="category")
    kind = "unbounded retention" if unbounded else "retention"
    return styled(figure, f"{kind.capitalize()} by {result.params.period}ly cohort", height=520)
