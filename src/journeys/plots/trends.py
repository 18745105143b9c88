"""Trend figures: customers per period, and a funnel's conversion per period, one line per segment.

Periods the data does not fully cover are drawn dotted, so that a short last week does
not read as a drop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from journeys.plots.labels import Labels, escape
from journeys.plots.theme import COLORS, styled

if TYPE_CHECKING:
    from journeys.analyses.trends import TrendsResult


def trends_figures(result: TrendsResult, *, labels: Labels | None = None) -> list[go.Figure]:
    """Units active per period; with steps, conversion per period of entry."""
    names = labels or Labels()
    unit = "sessions" if result.unit == "session" else "customers"
    figures = [_lines(result, unit, names, f"{unit.capitalize()} per {result.period}", ",d")]
    # Step names come escaped from the labels; the rest of the titles is journeys' text.
    if result.params.steps is not None:
        steps = " → ".join(names.step(step.name) for step in result.params.steps)
        title = f"Conversion per {result.period} of entry: {steps}"
        figures.append(_lines(result, "conversion", names, title, ".0%"))
    return figures


def _lines(
    result: TrendsResult, column: str, names: Labels, title: str, number_format: str
) -> go.Figure:
    series = result.series
    group_name = names.persona if result.params.by == "persona" else escape
    figure = go.Figure()
    groups = [("all", series[series["segment"].isna()])]
    if result.params.by is not None:
        shown = series[series["segment"].notna()]
        groups += [
            (group_name(str(value)), rows) for value, rows in shown.groupby("segment", sort=False)
        ][: len(COLORS) - 1]
    for index, (name, rows) in enumerate(groups):
        color = COLORS[index % len(COLORS)]
        x = pd.to_datetime(rows["period_start"])
        y = rows[column].astype(float)
        solid = y.where(rows["complete"])
        counts = None
        hover = f"%{{x|%Y-%m-%d}}: %{{y:{number_format}}}"
        if column == "conversion":
            counts = [
                [int(c), int(e)] for c, e in zip(rows["converted"], rows["entered"], strict=True)
            ]
            hover += " (%{customdata[0]:,} of %{customdata[1]:,})"
        figure.add_scatter(
            x=x,
            y=solid,
            customdata=counts,
            name=name,
            mode="lines+markers",
            line={"color": color},
            legendgroup=name,
            hovertemplate=f"{hover}<extra>{name}</extra>",
        )
        if not rows["complete"].all():
            figure.add_scatter(
                x=x,
                y=y,
                name=f"{name} (period not covered)",
                mode="lines+markers",
                line={"color": color, "dash": "dot"},
                legendgroup=name,
                showlegend=False,
                customdata=counts,
                hovertemplate=f"{hover}, period not fully covered by the data<extra>{name}</extra>",
            )
    figure.update_yaxes(tickformat=number_format, rangemode="tozero")
    figure.update_xaxes(title=f"{result.period} starting")
    return styled(figure, title)
