"""The figure of attribution: each model's share of the conversions, channel by channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.plots.labels import Labels
from journeys.plots.theme import styled

if TYPE_CHECKING:
    from journeys.analyses.attribution import AttributionResult

#: The channels shown, those the Markov model credits most.
CHANNELS_SHOWN = 12
MODEL_NAMES = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "linear": "Linear",
    "position_based": "Position based",
    "time_decay": "Time decay",
    "markov": "Markov (removal effect)",
    "shapley": "Shapley",
}


def models_figure(result: AttributionResult, *, labels: Labels | None = None) -> go.Figure:
    """Grouped bars: for each channel (the most credited first), the share of all conversions
    each model gives it."""
    names = labels or Labels()
    level = result.params.level if result.from_events else "path"
    shown = result.channels.head(CHANNELS_SHOWN)
    channels = [names.at(level, str(channel)) for channel in shown["channel"]]
    figure = go.Figure()
    for model, title in MODEL_NAMES.items():
        values = shown[model]
        if values.isna().all():
            continue
        figure.add_trace(
            go.Bar(
                name=title,
                y=channels,
                x=list(values / result.conversions),
                orientation="h",
                customdata=list(values),
                hovertemplate=f"{title}: %{{y}} earns %{{x:.1%}} of the conversions "
                "(%{customdata:,.1f})<extra></extra>",
            )
        )
    figure.update_layout(barmode="group")
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(title="share of the conversions", tickformat=".0%")
    height = max(400, 60 * len(shown) + 200)
    styled(figure, "Which touchpoints earn the conversion, by model", height=height)
    # The legend in a row between the title and the bars.
    figure.update_layout(
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0},
        margin={"t": 100},
    )
    return figure
