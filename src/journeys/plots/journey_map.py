"""The journey map as a figure: stages as columns, touchpoints as bubbles sized by customers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.plots.theme import COLORS, styled

if TYPE_CHECKING:
    import pandas as pd

    from journeys.analyses.journey_map import JourneyMapResult

#: Vertical room of one touchpoint: its bubble and its name under it.
ROW_HEIGHT = 90


def journey_map_figure(result: JourneyMapResult) -> go.Figure:
    """Touchpoints placed under their stage, sized by customers, coloured by conversion.

    Each name sits under its bubble, so the last stage's names stay inside the figure
    and no name runs into the next stage. A touchpoint with no next stage (the last
    stage's) has no conversion: it is grey, not counted as 0%.
    """
    table = result.touchpoints.assign(row=result.touchpoints.groupby("stage").cumcount())
    stage_names = dict(zip(result.stages["stage"], result.stages["name"]))
    biggest = max(int(table["customers"].max() or 1), 1)
    measured = table["conversion_to_next_stage"].notna()
    figure = go.Figure()
    for part, coloured in ((table[measured], True), (table[~measured], False)):
        if part.empty:
            continue
        figure.add_trace(_bubbles(part, stage_names, biggest, coloured))
    figure.update_xaxes(
        categoryorder="array", categoryarray=list(result.stages["name"]), title=None
    )
    figure.update_yaxes(visible=False, autorange="reversed")
    rows = int(table["row"].max()) + 1 if len(table) else 1
    figure.update_layout(showlegend=False)
    return styled(figure, "Journey map", height=max(360, ROW_HEIGHT * rows + 160))


def _bubbles(
    part: pd.DataFrame, stage_names: dict[str, str], biggest: int, coloured: bool
) -> go.Scatter:
    marker: dict[str, object] = {
        "size": [12 + 40 * (c / biggest) ** 0.5 for c in part["customers"]]
    }
    if coloured:
        marker |= {
            "color": part["conversion_to_next_stage"],
            "colorscale": "RdYlGn",
            "cmin": 0,
            "cmax": 1,
            "colorbar": {"title": "conversion<br>to next stage", "tickformat": ".0%"},
        }
    else:
        marker["color"] = COLORS[7]
    return go.Scatter(
        x=[stage_names[stage] for stage in part["stage"]],
        y=part["row"],
        mode="markers+text",
        text=part["name"],
        textposition="bottom center",
        marker=marker,
        customdata=part[["customers", "events"]].values,
        hovertemplate="%{text}: %{customdata[0]:,} customers, "
        "%{customdata[1]:,} events<extra></extra>",
    )
