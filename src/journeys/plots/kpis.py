"""The share of customers who reach each stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.plots.theme import styled

if TYPE_CHECKING:
    from journeys.analyses.kpis import KpiResult


def stages_figure(result: KpiResult) -> go.Figure:
    """Bars of the share of customers who entered each stage, in the spec's order."""
    stages = result.stages
    figure = go.Figure(
        go.Bar(
            x=stages["name"],
            y=stages["share"],
            text=[f"{share:.0%}" for share in stages["share"].fillna(0)],
            textposition="outside",
            customdata=stages["customers"],
            hovertemplate="%{x}: %{customdata:,} customers (%{y:.1%})<extra></extra>",
        )
    )
    figure.update_yaxes(title="share of customers", tickformat=".0%", range=[0, 1.1])
    return styled(figure, "Customers reaching each stage")
