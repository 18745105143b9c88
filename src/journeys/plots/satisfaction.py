"""Figures of how customers feel: the emotion curve through the stages, each touchpoint's
mean score, what customers did after a low or high score, and each touchpoint's trend.

Every mean is drawn with its 95% interval; a mean of too few answers is drawn hollow and
named so in its hover text. Scores on different scales are never drawn on one axis: each
scale gets a figure of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go

from journeys.plots.labels import Labels, escape
from journeys.plots.theme import COLORS, styled

if TYPE_CHECKING:
    from journeys.analyses.satisfaction import SatisfactionResult

BAND_COLORS = {"low": "#dc2626", "neutral": "#9ca3af", "high": "#16a34a"}
SCALE_NAMES = {"csat": "CSAT", "nps": "NPS", "ces": "CES"}


def scale_name(scale: str) -> str:
    """A scale as people write it: CSAT, NPS, CES or custom 0-100."""
    return SCALE_NAMES.get(scale, scale)


def _error_bars(frame: pd.DataFrame) -> dict[str, Any]:
    """Plotly error bars from ``mean_low`` and ``mean_high`` (none where unknown)."""
    mean = frame["mean"].astype(float)
    return {
        "type": "data",
        "symmetric": False,
        "array": list((frame["mean_high"].astype(float) - mean).fillna(0.0)),
        "arrayminus": list((mean - frame["mean_low"].astype(float)).fillna(0.0)),
        "visible": True,
    }


def _markers(frame: pd.DataFrame, color: str) -> dict[str, Any]:
    """Filled markers for reliable means, hollow ones for too few answers."""
    return {
        "color": [("white" if few else color) for few in frame["too_few"]],
        "line": {"color": color, "width": 2},
        "size": 9,
    }


def _notes(frame: pd.DataFrame) -> list[str]:
    return [
        f"{int(n)} answers" + (" (too few to rely on)" if few else "")
        for n, few in zip(frame["responses"], frame["too_few"])
    ]


def emotion_curve_figures(
    result: SatisfactionResult, *, labels: Labels | None = None
) -> list[go.Figure]:
    """The mean score at each stage, in the spec's order, one line per persona (one figure
    per scale); the stages without answers leave a gap."""
    names = labels or Labels()
    table = result.emotion_curve
    figures = []
    for scale, part in table.groupby("scale", sort=False):
        figure = go.Figure()
        for place, (persona, line) in enumerate(part.groupby("persona", sort=False)):
            color = COLORS[place % len(COLORS)]
            figure.add_trace(
                go.Scatter(
                    x=[escape(names.stages.get(str(s), str(s))) for s in line["stage"]],
                    y=list(line["mean"].astype(float)),
                    mode="lines+markers",
                    name=escape(names.personas.get(str(persona), str(persona))),
                    line={"color": color},
                    marker=_markers(line, color),
                    error_y=_error_bars(line) | {"color": color},
                    text=_notes(line),
                    hovertemplate="%{x}: %{y:.2f} (%{text})<extra>%{fullData.name}</extra>",
                    connectgaps=False,
                )
            )
        figure.update_xaxes(type="category", title="stage")
        figure.update_yaxes(title=f"mean {scale_name(str(scale))} (95% interval)")
        figures.append(styled(figure, f"Emotion curve: {scale_name(str(scale))} by stage"))
    return figures


def touchpoints_figures(
    result: SatisfactionResult, *, labels: Labels | None = None
) -> list[go.Figure]:
    """Each touchpoint's mean score with its interval (one figure per scale)."""
    names = labels or Labels()
    figures = []
    for scale, part in result.by_touchpoint.groupby("scale", sort=False):
        color = COLORS[0]
        figure = go.Figure(
            go.Scatter(
                x=list(part["mean"].astype(float)),
                y=[escape(names.touchpoints.get(str(t), str(t))) for t in part["touchpoint"]],
                mode="markers",
                marker=_markers(part, color),
                error_x=_error_bars(part) | {"color": color},
                text=_notes(part),
                hovertemplate="%{y}: %{x:.2f} (%{text})<extra></extra>",
                showlegend=False,
            )
        )
        figure.update_yaxes(type="category", autorange="reversed")
        figure.update_xaxes(title=f"mean {scale_name(str(scale))} (95% interval; hollow: too few)")
        height = max(300, 40 * len(part) + 160)
        title = f"{scale_name(str(scale))} by touchpoint"
        figures.append(styled(figure, title, height=height))
    return figures


def behaviour_figure(
    result: SatisfactionResult, *, labels: Labels | None = None
) -> go.Figure | None:
    """Retention in the next month by the band of the last answer at each stage."""
    names = labels or Labels()
    table = result.behaviour
    if table.empty:
        return None
    groups = [
        f"{escape(names.stages.get(str(stage), str(stage)))} ({scale_name(str(scale))})"
        for stage, scale in zip(table["stage"], table["scale"])
    ]
    table = table.assign(group=groups)
    figure = go.Figure()
    for band, color in BAND_COLORS.items():
        part = table[table["band"] == band]
        figure.add_trace(
            go.Bar(
                x=list(part["group"]),
                y=list(part["retention"].astype(float)),
                name=f"{band} score",
                marker_color=color,
                customdata=list(zip(part["retained"], part["retention_customers"])),
                hovertemplate="%{x}: %{y:.1%} active the next month "
                "(%{customdata[0]} of %{customdata[1]})<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(barmode="group", legend={"orientation": "h", "y": -0.25})
    figure.update_yaxes(title="active in the next month", tickformat=".0%")
    figure.update_xaxes(type="category")
    return styled(figure, "Retention by the last score at each stage")


def trend_figures(result: SatisfactionResult, *, labels: Labels | None = None) -> list[go.Figure]:
    """Each touchpoint's mean score per period (one figure per scale)."""
    names = labels or Labels()
    figures = []
    for scale, part in result.trend.groupby("scale", sort=False):
        figure = go.Figure()
        for place, (touchpoint, line) in enumerate(part.groupby("touchpoint", sort=False)):
            color = COLORS[place % len(COLORS)]
            figure.add_trace(
                go.Scatter(
                    x=list(line["period"]),
                    y=list(line["mean"].astype(float)),
                    mode="lines+markers",
                    name=escape(names.touchpoints.get(str(touchpoint), str(touchpoint))),
                    line={"color": color},
                    marker=_markers(line, color),
                    text=_notes(line),
                    hovertemplate="%{x}: %{y:.2f} (%{text})<extra>%{fullData.name}</extra>",
                )
            )
        periods = sorted({str(period) for period in part["period"]})
        figure.update_xaxes(
            type="category",
            categoryorder="array",
            categoryarray=periods,
            title=result.params.period,
        )
        figure.update_yaxes(title=f"mean {scale_name(str(scale))} (hollow: too few answers)")
        figures.append(styled(figure, f"{scale_name(str(scale))} by touchpoint over time"))
    return figures
