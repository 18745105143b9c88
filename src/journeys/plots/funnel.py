"""The funnel figure: customers per step, with conversion and time from the previous step."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.formatting import duration_text, window_text
from journeys.plots.labels import Labels, escape
from journeys.plots.theme import COLORS, styled

if TYPE_CHECKING:
    from journeys.analyses.funnel import FunnelResult


def funnel_figure(result: FunnelResult, *, labels: Labels | None = None) -> go.Figure:
    """Bars of customers per step (one series per breakdown value), steps by their names."""
    names = labels or Labels()
    group_name = names.persona if result.params.by == "persona" else escape
    figure = go.Figure()
    if result.breakdown is None:
        groups = [("all customers", result.steps)]
    else:
        groups = [
            (group_name(str(value)), group)
            for value, group in result.breakdown.groupby("by_value", sort=False)
        ][: len(COLORS)]
    for name, table in groups:
        rows = table.to_dict(orient="records")
        steps = [f"{row['index']}. {names.step(str(row['step']))}" for row in rows]
        hover = [
            f"{row['customers']:,} customers<br>"
            f"{(row['conversion_from_previous'] or 0):.1%} of previous step<br>"
            f"{(row['conversion_from_first'] or 0):.1%} of first step<br>"
            f"median time from previous: {duration_text(row['median_seconds_from_previous'])}"
            for row in rows
        ]
        figure.add_bar(
            x=steps,
            y=table["customers"],
            name=name,
            text=[f"{share:.1%}" for share in table["conversion_from_first"].fillna(0)],
            textposition="outside",
            hovertext=hover,
            hoverinfo="text",
        )
    figure.update_layout(barmode="group", yaxis_title="customers", showlegend=len(groups) > 1)
    window = result.params.window
    suffix = "" if window is None else f" (conversion window {window_text(window)})"
    return styled(figure, f"Funnel{suffix}")
