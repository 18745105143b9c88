"""Figures for loops within a stage: the touchpoints customers come back to most."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.plots.labels import Labels
from journeys.plots.theme import styled

#: The touchpoints shown, those most customers came back to.
TOUCHPOINTS_SHOWN = 15

if TYPE_CHECKING:
    from journeys.analyses.loops import LoopsResult


def loops_within_figure(result: LoopsResult, *, labels: Labels | None = None) -> go.Figure | None:
    """Customers who came back to each touchpoint within its stage (the most first).

    None when nobody looped within a stage: an empty chart would say nothing.
    """
    names = labels or Labels()
    table = result.loops_to_touchpoints
    looped = table[table["looping_customers"] > 0]
    if looped.empty:
        return None
    shown = looped.sort_values(
        ["looping_customers", "returns"], ascending=False, kind="stable"
    ).head(TOUCHPOINTS_SHOWN)
    touchpoints = [names.at("touchpoint", str(value)) for value in shown["touchpoint"]]
    stages = [names.at("stage", str(value)) for value in shown["stage"]]
    figure = go.Figure(
        go.Bar(
            x=list(shown["looping_customers"]),
            y=touchpoints,
            orientation="h",
            customdata=list(
                zip(stages, shown["returns"], shown["share_of_stage"].fillna(0.0), strict=True)
            ),
            hovertemplate="%{y} (%{customdata[0]}): %{x} customers came back, "
            "%{customdata[1]} times; %{customdata[2]:.1%} of the stage's customers"
            "<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(title="customers who came back within the stage")
    height = max(320, 26 * len(shown) + 140)
    return styled(figure, "Loops within a stage: touchpoints customers come back to", height=height)
