"""The pieces every report section is made of: the section itself, figures and tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from plotly.graph_objects import Figure


@dataclass
class Section:
    """One part of the report: a title, words, figures and tables."""

    id: str
    title: str
    intro: str = ""
    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    html: str = ""


def figure_html(figure: Figure) -> str:
    """A figure as an HTML fragment that uses the page's single copy of plotly.js."""
    return str(figure.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True}))


def table_html(
    frame: pd.DataFrame, formats: dict[str, str | Callable[[Any], str]] | None = None
) -> str:
    """A table as HTML, with the given columns formatted."""
    shown = frame.copy()
    for column, pattern in (formats or {}).items():
        if column in shown:
            render = pattern.format if isinstance(pattern, str) else pattern
            shown[column] = [
                "" if value is None or pd.isna(value) else render(value) for value in shown[column]
            ]
    return str(shown.to_html(index=False, na_rep="", classes="data", border=0, escape=True))
