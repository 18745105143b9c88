"""How the report's templates show values: numbers as a person reads them, ids as names.

These are Jinja filters. They turn values into plain text (never HTML): the templates
escape what they return like any other text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from journeys.analyses.base import plain, records
from journeys.data.mapping import UNASSIGNED
from journeys.formatting import duration_text, significant
from journeys.spec.models import Spec


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and not math.isfinite(value)


def _number(digits: int) -> Callable[[Any], str]:
    return lambda value: f"{float(value):,.{digits}f}"


def _percent(digits: int, sign: str = "") -> Callable[[Any], str]:
    return lambda value: f"{float(value):{sign}.{digits}%}"


def _count(value: Any) -> str:
    return f"{round(float(value)):,}"


def p_value(value: float) -> str:
    """A p-value as papers print it: three decimals, or ``< 0.001``.

    Examples
    --------
    >>> p_value(1.69e-12), p_value(0.0458)
    ('< 0.001', '0.046')
    """
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def counted(count: Any, noun: str, nouns: str | None = None) -> str:
    """A count with its noun, singular or plural: ``1 customer``, ``2,000 customers``.

    Examples
    --------
    >>> counted(1, "customer"), counted(2000, "customer"), counted(3, "entry", "entries")
    ('1 customer', '2,000 customers', '3 entries')
    """
    number = float(count)
    word = noun if number == 1 else (nouns or f"{noun}s")
    shown = f"{round(number):,}" if number == round(number) else f"{number:,.1f}"
    return f"{shown} {word}"


def _significant(value: Any) -> str:
    return significant(float(value))


def _signed(value: Any) -> str:
    return significant(float(value), sign=True)


def _p_value(value: Any) -> str:
    return p_value(float(value))


def _seconds(value: Any) -> str:
    return duration_text(float(value))


def _days(value: Any) -> str:
    return duration_text(float(value) * 86400)


NUMBER_FORMATS: dict[str, Callable[[Any], str]] = {
    "int": _count,
    "number": _number(0),
    "number1": _number(1),
    "number2": _number(2),
    "percent": _percent(0),
    "percent1": _percent(1),
    "points": _percent(1, "+"),
    "g3": _significant,
    "signed": _signed,
    "pvalue": _p_value,
    "duration": _seconds,
    "days": _days,
}


@dataclass(frozen=True)
class Display:
    """The names the spec gives to its stages, touchpoints and personas, and the formats."""

    stages: dict[str, str]
    touchpoints: dict[str, str]
    milestones: dict[str, str]
    personas: dict[str, str]

    @classmethod
    def of(cls, spec: Spec) -> Display:
        """The names of ``spec``."""
        return cls(
            stages={stage.id: stage.name for stage in spec.stages},
            touchpoints={touchpoint.id: touchpoint.name for touchpoint in spec.touchpoints},
            milestones={milestone.id: milestone.name for milestone in spec.milestones},
            personas={persona.id: persona.name for persona in spec.personas},
        )

    def filters(self) -> dict[str, Callable[..., Any]]:
        """The Jinja filters: ``show`` (a value in a format), ``rows`` (a table's rows) and
        ``counted`` (a count with its noun, singular or plural)."""
        return {"show": self.show, "rows": rows, "counted": _counted}

    def show(self, value: Any, kind: str = "text") -> str:
        """``value`` as text in the format ``kind`` (a number format, or a kind of name)."""
        if _is_missing(value):
            return ""
        value = plain(value)
        names: dict[str, Callable[[str], str]] = {
            "stage": self.stage,
            "step": self.step,
            "touchpoint": self.touchpoint,
            "path": self.path,
            "persona": self.persona,
            "date": lambda text: text[:10],
        }
        if kind in names:
            return names[kind](str(value))
        if kind in NUMBER_FORMATS and not isinstance(value, str):
            return NUMBER_FORMATS[kind](value)
        return str(value)

    def stage(self, stage: str) -> str:
        """A stage's name, from its id (with or without ``stage:``)."""
        plain_id = stage.removeprefix("stage:")
        return self.stages.get(plain_id, plain_id)

    def touchpoint(self, touchpoint: str) -> str:
        """A touchpoint's name, from its id (with or without ``touchpoint:``)."""
        plain_id = touchpoint.removeprefix("touchpoint:")
        return self.touchpoints.get(plain_id, plain_id)

    def step(self, step: str) -> str:
        """A step as a reader knows it: a stage's, touchpoint's or milestone's name."""
        if step.startswith("stage:"):
            return self.stage(step)
        if step.startswith("touchpoint:") or step in self.touchpoints:
            return self.touchpoint(step)
        plain_id = step.removeprefix("milestone:")
        return self.milestones.get(plain_id, plain_id)

    def path(self, path: str) -> str:
        """A path of touchpoints (``a > b > c``) with each touchpoint named."""
        return " > ".join(self.touchpoint(part) for part in path.split(" > "))

    def persona(self, persona: str) -> str:
        """A persona's name, from its id; customers matching no persona say so."""
        if persona == UNASSIGNED:
            return "no persona"
        return self.personas.get(persona, persona)


def _counted(count: Any, noun: str, nouns: str | None = None) -> str:
    return "" if _is_missing(count) else counted(plain(count), noun, nouns)


def rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """A table's rows as plain values (missing numbers are None)."""
    return [] if frame is None else records(frame)


# Tables in words: how the command line, ``repr`` and a notebook show a result's tables.

SHARE_WORDS = frozenset({"conversion", "share", "rate", "ratio", "retention"})
COUNT_WORDS = frozenset({"customers", "count", "events", "returns", "loops", "purchases"})
SHARES = frozenset({"p_alive", "mean_p_alive", "margin_of_safety"})
HEADER_WORDS = {
    "p10": "10th percentile",
    "p25": "25th percentile",
    "p75": "75th percentile",
    "p90": "90th percentile",
    "ci": "95% interval",
    "p value": "p-value",
    "bgnbd": "BG/NBD",
    "pareto nbd": "Pareto/NBD",
    "clv": "CLV",
    "drop off": "drop-off",
    "n before": "count before",
    "n after": "count after",
}


def is_share(column: str) -> bool:
    """Whether a column (or measure) named ``column`` holds shares, shown as percentages.

    >>> is_share("margin_of_safety"), is_share("margin_of_safety_customers")
    (True, False)
    """
    words = column.split("_")
    if column in SHARES:
        return True
    return words[-1] not in COUNT_WORDS and any(word in SHARE_WORDS for word in words)


def header_text(column: str) -> str:
    """A column's name in words: ``p90_seconds_from_previous`` is ``90th percentile from previous``.

    >>> header_text("p90_days"), header_text("ci_low")
    ('90th percentile', '95% interval low')
    """
    text = column.replace("_seconds", "").replace("_days", "").replace("_", " ")
    for short, words in HEADER_WORDS.items():
        text = re.sub(rf"\b{re.escape(short)}\b", words, text)
    return text


def cell_text(column: str, value: Any) -> str:
    """A value as a person reads it in the column ``column``: shares as percentages, times
    as durations, p-values as ``< 0.001``, other numbers plain (never 1.48e+04)."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(cell_text(column, item) for item in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_in(column, value)
    return str(value)


def _number_in(column: str, value: float) -> str:
    if column.endswith("_seconds") or "_seconds_" in column:
        return duration_text(value)
    if column.endswith("_days") or "_days_" in column:
        return duration_text(value * 86400)
    if column == "p_value" or column.endswith("_p_value"):
        return p_value(value)
    if is_share(column):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}" if abs(value) >= 1000 else significant(value, 4)


def shown_cells(frame: pd.DataFrame) -> list[list[str]]:
    """A table's cells as text, each row in the column's format; in a table of ``measure``
    and ``value``, each value in its measure's format."""
    if list(frame.columns) == ["measure", "value"]:
        return [
            [header_text(str(measure)), cell_text(str(measure), value)]
            for measure, value in frame.itertuples(index=False)
        ]
    return [
        [cell_text(str(column), value) for column, value in zip(frame.columns, row, strict=True)]
        for row in frame.itertuples(index=False)
    ]


def shown_headers(frame: pd.DataFrame) -> list[str]:
    """A table's headers in words."""
    return [header_text(str(column)) for column in frame.columns]


def text_of(frame: pd.DataFrame, rows: int) -> str:
    """A table as plain text (its first ``rows`` rows), for ``repr``."""
    head = frame.head(rows)
    shown = pd.DataFrame(shown_cells(head), columns=shown_headers(head))
    text = "(none)" if frame.empty else shown.to_string(index=False)
    return text + _more(len(frame) - rows)


def html_of(frame: pd.DataFrame, title: str, rows: int) -> str:
    """A table as an HTML table with its title (its first ``rows`` rows), for a notebook."""
    head = frame.head(rows)
    shown = pd.DataFrame(shown_cells(head), columns=shown_headers(head))
    table = shown.to_html(index=False, escape=True, border=0)
    more = escape(_more(len(frame) - rows).strip())
    return f"<h4>{escape(title)}</h4>{table}" + (f"<p>{more}</p>" if more else "")


def _more(hidden: int) -> str:
    return f"\n... {counted(hidden, 'more row')}" if hidden > 0 else ""
