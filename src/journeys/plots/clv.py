"""Figures of customer value: the holdout check and where the value sits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pandas as pd
import plotly.graph_objects as go

from journeys.plots.theme import COLORS, styled

if TYPE_CHECKING:
    from journeys.analyses.clv import ClvResult


class HasParams(Protocol):
    time_unit: str


class WithHoldout(Protocol):
    """A result with a holdout comparison: customer value, or its check."""

    @property
    def params(self) -> HasParams: ...
    @property
    def holdout(self) -> pd.DataFrame | None: ...
    @property
    def holdout_length(self) -> float | None: ...


def holdout_figure(result: WithHoldout) -> go.Figure | None:
    """Mean purchases in the holdout period, actual and predicted, by calibration purchases.

    None when the result has no holdout period (the calibration end is the last day).
    """
    if result.holdout is None or result.holdout_length is None:
        return None
    table = result.holdout[result.holdout["repeat_purchases_in_calibration"] != "all (sum)"]
    groups = table["repeat_purchases_in_calibration"]
    figure = go.Figure()
    for column, name, color, dash in (
        ("actual_purchases", "actual", COLORS[7], "solid"),
        ("bgnbd_predicted", "BG/NBD", COLORS[0], "dash"),
        ("pareto_nbd_predicted", "Pareto/NBD", COLORS[2], "dot"),
    ):
        figure.add_trace(
            go.Scatter(
                x=groups,
                y=table[column],
                name=name,
                mode="lines+markers",
                line={"color": color, "dash": dash},
                customdata=table["customers"],
                hovertemplate=(
                    f"{name}: %{{y:.2f}} purchases per customer<br>"
                    "%{customdata:,} customers<extra></extra>"
                ),
            )
        )
    length = result.holdout_length
    figure.update_xaxes(title="repeat purchases in the calibration period", type="category")
    figure.update_yaxes(title="purchases per customer")
    title = (
        f"Holdout check: purchases per customer in the {length:.0f} {_unit(result)}s "
        "after fitting, predicted and actual"
    )
    return styled(figure, title)


def value_figure(result: ClvResult) -> go.Figure | None:
    """Share of the total expected value held by each tenth of customers, most valuable first.

    The title names the spend per purchase behind the values. None when the purchases
    carry no value.
    """
    deciles = result.deciles
    if deciles.empty:
        return None
    figure = go.Figure(
        go.Bar(
            x=[
                f"top {10 * d}%" if d == 1 else f"{10 * (d - 1)}-{10 * d}%"
                for d in deciles["decile"]
            ],
            y=deciles["share_of_clv"],
            text=[f"{share:.0%}" for share in deciles["share_of_clv"]],
            textposition="outside",
            customdata=deciles[["customers", "clv"]],
            hovertemplate=(
                "%{x}: %{customdata[0]:,} customers, value %{customdata[1]:,.0f} "
                "(%{y:.1%})<extra></extra>"
            ),
            marker_color=COLORS[0],
        )
    )
    figure.update_xaxes(title="customers ranked by expected value")
    figure.update_yaxes(title="share of total expected value", tickformat=".0%")
    spend = (
        "the Gamma-Gamma spend model"
        if result.spend_basis == "gamma_gamma"
        else "what customers paid, by credibility"
    )
    return styled(figure, f"Where the future value sits (spend per purchase: {spend})")


def _unit(result: WithHoldout) -> str:
    return str(result.params.time_unit)
