"""The retention heat map: cohorts as rows, periods since the cohort's start as columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.plots.theme import styled

if TYPE_CHECKING:
    from journeys.analyses.retention import RetentionResult

ROW_HEIGHT = 24
SMALL_TEXT_COLUMNS = 16
MAX_LABELLED_COLUMNS = 30


def retention_figure(result: RetentionResult, *, unbounded: bool = False) -> go.Figure:
    """Share of each cohort active in each later period."""
    matrix = result.matrix(unbounded=unbounded)
    sizes = {cohort.cohort: cohort.size for cohort in result.cohorts}
    labels = [f"{cohort} ({sizes[cohort]:,})" for cohort in matrix.index]
    rows, columns = matrix.shape
    # Each cohort keeps a row tall enough to read; past 30 periods a cell is too narrow for
    # its share, which stays in the hover and the colour.
    shown = columns <= MAX_LABELLED_COLUMNS
    figure = go.Figure(
        go.Heatmap(
            z=matrix.values,
            x=[str(p) for p in matrix.columns],
            y=labels,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            text=[
                [("" if v != v or not shown else f"{v:.0%}") for v in row] for row in matrix.values
            ],
            texttemplate="%{text}",
            textfont={"size": 12 if columns <= SMALL_TEXT_COLUMNS else 10},
            hovertemplate="%{y}, period %{x}: %{z:.1%}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", title="cohort (customers)")
    figure.update_xaxes(title=f"{result.params.period}s since the first", type="category")
    kind = "unbounded retention" if unbounded else "retention"
    height = max(520, ROW_HEIGHT * rows + 160)
    return styled(figure, f"{kind.capitalize()} by {result.params.period}ly cohort", height=height)
