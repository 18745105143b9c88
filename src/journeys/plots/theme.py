"""The look shared by every figure."""

from __future__ import annotations

import plotly.graph_objects as go

COLORS = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04", "#4b5563"]


def styled(figure: go.Figure, title: str, *, height: int = 420) -> go.Figure:
    """Apply the journeys look: white background, readable fonts, a title."""
    figure.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 30, "t": 60, "b": 50},
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
        colorway=COLORS,
    )
    return figure
