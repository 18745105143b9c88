"""Figures for paths: transitions, the Sankey of top paths, the step matrix, loops."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from journeys.analyses.paths import END, START
from journeys.plots.labels import Labels
from journeys.plots.theme import styled

LOOPS_SHOWN = 15

if TYPE_CHECKING:
    from journeys.analyses.loops import LoopsResult
    from journeys.analyses.paths import PathsResult
    from journeys.analyses.step_matrix import StepMatrixResult
    from journeys.analyses.transitions import TransitionsResult


def transitions_figure(
    result: TransitionsResult, *, top: int = 25, labels: Labels | None = None
) -> go.Figure:
    """A heat map of the share of each ``from`` followed by each ``to`` (busiest labels)."""
    level = result.params.level
    names = partial((labels or Labels()).at, level)
    table = result.transitions
    busiest = table.groupby("from")["transitions"].sum().sort_values(ascending=False).index[:top]
    shown = table[table["from"].isin(busiest) & table["to"].isin(busiest)]
    matrix = shown.pivot(index="from", columns="to", values="share_of_from").reindex(
        index=busiest, columns=busiest
    )
    figure = go.Figure(
        go.Heatmap(
            z=matrix.values,
            x=[names(str(label)) for label in matrix.columns],
            y=[names(str(label)) for label in matrix.index],
            colorscale="Blues",
            zmin=0,
            # Scaled to the largest share shown, so that the common transitions stand out.
            zmax=max(float(shown["share_of_from"].max()), 0.01) if not shown.empty else 1,
            hovertemplate="%{y} → %{x}: %{z:.1%} of %{y}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", title="from")
    figure.update_xaxes(title="to")
    title = "What follows each event" if level == "event" else f"What follows each {level}"
    return styled(figure, title, height=max(420, 22 * len(busiest) + 120))


def sankey_figure(
    result: PathsResult, *, per_position: int = 8, labels: Labels | None = None
) -> go.Figure:
    """The flows between positions of the paths, the busiest labels at each position."""
    names = labels or Labels()
    flows = result.flows
    keep: dict[int, set[str]] = {}
    for position_value, group in flows.groupby("position"):
        position = int(str(position_value))
        keep.setdefault(position, set()).update(
            group.groupby("source")["customers"].sum().nlargest(per_position).index
        )
        after = position + 1
        keep.setdefault(after, set()).update(
            group.groupby("target")["customers"].sum().nlargest(per_position).index
        )
    nodes: dict[tuple[int, str], int] = {}

    def node(position: int, label: str) -> int:
        # Where paths end (or start) is always shown: folded into "other", customers who
        # stopped would seem to go on.
        kept = label in keep.get(position, set()) or label in (END, START)
        shown = label if kept else "other"
        return nodes.setdefault((position, shown), len(nodes))

    sources, targets, values = [], [], []
    for row in flows.to_dict(orient="records"):
        sources.append(node(int(row["position"]), str(row["source"])))
        targets.append(node(int(row["position"]) + 1, str(row["target"])))
        values.append(int(row["customers"]))
    shown = [names.at(result.params.level, label) for (_, label) in nodes]
    figure = go.Figure(
        go.Sankey(
            node={"label": shown, "pad": 12, "thickness": 14},
            link={"source": sources, "target": targets, "value": values},
            arrangement="snap",
        )
    )
    step = result.params.start or result.params.end
    anchor = "each customer's first event" if step is None else names.step(step)
    direction = "leading to" if result.params.end else "from"
    return styled(figure, f"Paths {direction} {anchor}", height=520)


def step_matrix_figure(result: StepMatrixResult, *, labels: Labels | None = None) -> go.Figure:
    """Shares of customers by position (columns) and event (rows)."""
    names = labels or Labels()
    shares = result.matrix.set_index("node")
    figure = go.Figure(
        go.Heatmap(
            z=shares.values,
            x=[str(p) for p in shares.columns],
            y=[names.at(result.params.level, str(i)) for i in shares.index],
            colorscale="Greens",
            zmin=0,
            zmax=1,
            text=[[f"{v:.2f}" if v >= 0.005 else "" for v in row] for row in shares.values],
            texttemplate="%{text}",
            hovertemplate="step %{x}, %{y}: %{z:.1%}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title="step", type="category")
    height = max(420, 24 * len(shares.index) + 120)
    return styled(figure, "Step matrix: share of customers at each step", height=height)


def loops_figure(result: LoopsResult) -> go.Figure:
    """Customers by how many times they came back to an earlier stage."""
    table = result.distribution
    # A long thin tail would squeeze the bars people read: returns from LOOPS_SHOWN on
    # are one bar.
    tail = table["returns"] >= LOOPS_SHOWN
    labels = [str(n) for n in table["returns"][~tail]]
    counts = list(table["customers"][~tail])
    if tail.any():
        labels.append(f"{LOOPS_SHOWN}+")
        counts.append(int(table["customers"][tail].sum()))
    figure = go.Figure(go.Bar(x=labels, y=counts))
    figure.update_xaxes(title="returns to an earlier stage", type="category")
    figure.update_yaxes(title="customers")
    return styled(figure, "Loops: returns to earlier stages")
