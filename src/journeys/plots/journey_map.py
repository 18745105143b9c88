"""The journey map as a figure: stages as columns, touchpoints as bubbles sized by customers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.plots.theme import styled

if TYPE_CHECKING:
    from journeys.analyses.journey_map import JourneyMapResult


def journey_map_figure(result: JourneyMapResult) -> go.Figure:
    """Touchpoints placed under their stage, sized by customers, coloured by conversion."""
    table = result.touchpoints
    stage_names = dict(zip(result.stages["stage"], result.stages["name"]))
    row_in_stage = table.groupby("stage").cumcount()
    biggest = max(int(table["customers"].max() or 1), 1)
    figure = go.Figure(
        go.Scatter(
            x=[stage_names[s] for s in table["stage"]],
            y=row_in_stage,
            mode="markers+text",
            text=table["name"],
            textposition="middle right",
            marker={
                "size": [12 + 40 * (c / biggest) ** 0.5 for c in table["customers"]],
                "color": table["conversion_to_next_stage"].fillna(0),
                "colorscale": "RdYlGn",
                "cmin": 0,
                "cmax": 1,
                "colorbar": {"title": "conversion<br>to next stage", "tickformat": ".0%"},
            },
            customdata=table[["customers", "events"]].values,
            hovertemplate="%{text}: %{customdata[0]:,} customers, "
            "%{customdata[1]:,} events<extra></extra>",
        )
    )
    figure.update_xaxes(
        categoryorder="array", categoryarray=list(result.stages["name"]), title=None
    )
    figure.update_yaxes(visible=False, autorange="reversed")
    return styled(figure, "Journey map", height=max(360, 70 * (int(row_in_stage.max()) + 1) + 160))
