"""One function per figure: (result, **options) -> plotly Figure. Layout only, no computation.

Results do not import plots; :func:`plot` finds a result's figures through the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

    from journeys.analyses.base import Result


def plot(result: Result) -> Figure:
    """The main figure of an analysis' result.

    Examples
    --------
    >>> figure = plot(journeys.funnel(events, ["catalog", "cart"]))  # doctest: +SKIP
    """
    from journeys.analyses.registry import figures

    drawn = figures(result)
    if not drawn:
        raise ValueError(f"{type(result).__name__} has nothing to draw")
    return drawn[0]
