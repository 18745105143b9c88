"""Figures for hand-offs between departments: the declared ones against their service level,
and the department-to-department matrix and flow of the hand-offs the events show."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.plots.labels import escape
from journeys.plots.theme import styled

if TYPE_CHECKING:
    from journeys.analyses.handoffs import HandoffsResult

#: The outcomes of a declared hand-off, in the order the bars stack, with their colours.
OUTCOMES = (
    ("met", "within the level", "#16a34a"),
    ("late", "picked up late", "#ea580c"),
    ("dropped", "dropped", "#dc2626"),
    ("waiting", "still waiting", "#9ca3af"),
)


def wait_text(seconds: float | None) -> str:
    """A wait as people say it: minutes, hours or days."""
    if seconds is None or seconds != seconds:
        return ""
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def declared_figure(result: HandoffsResult) -> go.Figure | None:
    """Each declared hand-off's customers by outcome: met, late, dropped, waiting.

    None when the spec declares no hand-offs.
    """
    table = result.declared
    if table.empty:
        return None
    names = [escape(str(name)) for name in table["name"]]
    figure = go.Figure()
    for column, label, color in OUTCOMES:
        shares = (table[column] / table["customers"].where(table["customers"] > 0)).fillna(0.0)
        figure.add_trace(
            go.Bar(
                x=list(table[column]),
                y=names,
                orientation="h",
                name=label,
                marker_color=color,
                customdata=list(shares),
                hovertemplate=f"%{{y}}: %{{x}} customers {label} "
                "(%{customdata:.1%})<extra></extra>",
            )
        )
    figure.update_layout(barmode="stack", legend={"orientation": "h", "y": -0.2})
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(title="customers whose clock started")
    height = max(300, 50 * len(names) + 160)
    return styled(figure, "Declared hand-offs against their service level", height=height)


def _departments(result: HandoffsResult) -> list[str]:
    table = result.observed
    return sorted({*map(str, table["from_owner"]), *map(str, table["to_owner"])})


def observed_matrix_figure(result: HandoffsResult) -> go.Figure | None:
    """Transitions from each department (rows) to each other (columns), with the median wait.

    None when the events show no hand-off between owners.
    """
    table = result.observed
    if table.empty:
        return None
    departments = _departments(result)
    place = {name: index for index, name in enumerate(departments)}
    size = len(departments)
    counts: list[list[float | None]] = [[None] * size for _ in range(size)]
    waits = [[""] * size for _ in range(size)]
    for row in table.to_dict(orient="records"):
        source, target = place[str(row["from_owner"])], place[str(row["to_owner"])]
        counts[source][target] = float(row["transitions"])
        waits[source][target] = wait_text(row["median_seconds"])
    labels = [escape(name) for name in departments]
    figure = go.Figure(
        go.Heatmap(
            z=counts,
            x=labels,
            y=labels,
            text=waits,
            texttemplate="%{z:,.0f}<br>%{text}",
            colorscale="Blues",
            hovertemplate="from %{y} to %{x}: %{z:,.0f} hand-offs, median wait %{text}"
            "<extra></extra>",
            colorbar={"title": "hand-offs"},
        )
    )
    figure.update_yaxes(title="from", autorange="reversed", type="category")
    figure.update_xaxes(title="to", type="category", side="top")
    height = max(360, 60 * size + 160)
    return styled(figure, "Hand-offs between departments: how many, median wait", height=height)


def observed_sankey_figure(result: HandoffsResult) -> go.Figure | None:
    """The flow of hand-offs from departments (left) to departments (right).

    None when the events show no hand-off between owners.
    """
    table = result.observed
    if table.empty:
        return None
    departments = _departments(result)
    place = {name: index for index, name in enumerate(departments)}
    labels = [escape(name) for name in departments]
    figure = go.Figure(
        go.Sankey(
            node={"label": labels + labels, "pad": 18},
            link={
                "source": [place[str(name)] for name in table["from_owner"]],
                "target": [len(departments) + place[str(name)] for name in table["to_owner"]],
                "value": [int(value) for value in table["transitions"]],
                "customdata": [wait_text(value) for value in table["median_seconds"]],
                "hovertemplate": "%{source.label} to %{target.label}: %{value:,} hand-offs, "
                "median wait %{customdata}<extra></extra>",
            },
        )
    )
    return styled(figure, "Hand-offs between departments: the flow", height=420)
