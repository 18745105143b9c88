"""Figures of the support break-even: cost-volume-profit, tornado, scenarios, effects."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from journeys.plots.theme import COLORS, styled

if TYPE_CHECKING:
    from journeys.analyses.breakeven import BreakevenResult
    from journeys.analyses.support_effect import ChangeImpact, Uplift


def cost_volume_profit_figure(result: BreakevenResult) -> go.Figure:
    """Revenue kept and total cost against supported customers, with break-even and today."""
    numbers = result.numbers
    marks = [
        value for value in (numbers.break_even_customers_exact, numbers.actual_customers) if value
    ]
    top = max([*marks, 10.0]) * 1.5
    volume = np.linspace(0, top, 60)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=volume,
            y=numbers.value_per_customer * volume,
            name="value kept by support",
            line={"color": COLORS[1], "width": 3},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=volume,
            y=numbers.fixed_costs + numbers.variable_cost_per_customer * volume,
            name="total cost",
            line={"color": COLORS[5], "width": 3},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=volume,
            y=np.full_like(volume, numbers.fixed_costs),
            name="fixed cost",
            line={"color": COLORS[7], "dash": "dot"},
        )
    )
    if numbers.break_even_customers_exact is not None:
        figure.add_vline(
            x=numbers.break_even_customers_exact,
            line={"color": COLORS[7], "dash": "dash"},
            annotation_text=f"break-even: {numbers.break_even_customers:,} customers",
            annotation_position="top left",
        )
    if numbers.actual_customers:
        figure.add_vline(
            x=numbers.actual_customers,
            line={"color": COLORS[0]},
            annotation_text=f"today: {numbers.actual_customers:,.0f}",
            annotation_position="top right",
        )
    figure.update_xaxes(title=f"supported customers per {result.period}")
    figure.update_yaxes(title=f"per {result.period}", tickformat=",.0f")
    return styled(figure, "Cost, volume and value of support")


def tornado_figure(result: BreakevenResult) -> go.Figure:
    """How far the break-even point moves when each input moves by 20% either way."""
    table = result.sensitivity.iloc[::-1]
    base = result.numbers.break_even_customers_exact or 0.0
    figure = go.Figure()
    for column, name, color in (
        ("at_minus", "input -20%", COLORS[0]),
        ("at_plus", "input +20%", COLORS[2]),
    ):
        figure.add_trace(
            go.Bar(
                y=table["input"],
                x=table[column] - base,
                base=base,
                orientation="h",
                name=name,
                marker_color=color,
                customdata=table[column],
                hovertemplate="%{y}: break-even %{customdata:,.0f} customers<extra>"
                + name
                + "</extra>",
            )
        )
    figure.update_layout(barmode="overlay")
    figure.update_xaxes(title="break-even supported customers")
    return styled(figure, "What moves the break-even point (each input +/-20%)", height=380)


def scenarios_figure(result: BreakevenResult) -> go.Figure | None:
    """Break-even customers of each scenario next to today's volume (None without scenarios)."""
    table = result.scenarios
    if len(table) < 2:
        return None
    figure = go.Figure(
        go.Bar(
            x=table["scenario"],
            y=table["break_even_customers"],
            text=[
                "never" if value is None or value != value else f"{value:,.0f}"
                for value in table["break_even_customers"]
            ],
            textposition="outside",
            marker_color=COLORS[0],
            name="break-even",
        )
    )
    if result.numbers.actual_customers:
        figure.add_hline(
            y=result.numbers.actual_customers,
            line={"color": COLORS[1], "dash": "dash"},
            annotation_text="supported customers today",
        )
    figure.update_yaxes(title=f"break-even customers per {result.period}")
    return styled(figure, "Scenarios: the break-even point")


def uplift_figure(uplift: Uplift) -> go.Figure:
    """Supported against comparable customers, each outcome with its 95% interval."""
    table = uplift.table
    figure = go.Figure(
        go.Bar(
            x=[f"{row.description}" for row in table.itertuples()],
            y=table["uplift"] / table["comparable"].where(table["comparable"] != 0),
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (table["ci_high"] - table["uplift"]) / table["comparable"],
                "arrayminus": (table["uplift"] - table["ci_low"]) / table["comparable"],
            },
            marker_color=COLORS[1],
            customdata=table[["supported", "comparable"]],
            hovertemplate="supported %{customdata[0]:,.4~r} against %{customdata[1]:,.4~r}"
            "<extra></extra>",
        )
    )
    figure.update_yaxes(title="supported vs comparable customers", tickformat="+.0%")
    return styled(figure, "What support is associated with (observational, 95% intervals)")


def change_figure(change: ChangeImpact) -> go.Figure:
    """Each measure before and after a change, as the relative difference with its interval."""
    table = change.table.dropna(subset=["difference"])
    base = table["before"].where(table["before"] != 0)
    figure = go.Figure(
        go.Bar(
            x=table["measure"],
            y=table["difference"] / base,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (table["ci_high"] - table["difference"]) / base,
                "arrayminus": (table["difference"] - table["ci_low"]) / base,
            },
            marker_color=COLORS[3],
            customdata=table[["before", "after"]],
            hovertemplate="before %{customdata[0]:,.4~r}, after %{customdata[1]:,.4~r}"
            "<extra></extra>",
        )
    )
    figure.update_yaxes(title="change after vs before", tickformat="+.0%")
    return styled(figure, f"{change.name} ({change.date}): after against before")


def support_uplift_figure(result: BreakevenResult) -> go.Figure | None:
    """The uplift of supported customers, when it was estimated."""
    return uplift_figure(result.uplift) if result.uplift is not None else None


def change_figures(result: BreakevenResult) -> list[go.Figure]:
    """One figure per dated change of support."""
    return [change_figure(change) for change in result.changes]
