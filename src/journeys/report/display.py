"""How the report's templates show values: numbers as a person reads them, ids as names.

These are Jinja filters. They turn values into plain text (never HTML): the templates
escape what they return like any other text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from journeys.analyses.base import plain, records
from journeys.data.mapping import UNASSIGNED
from journeys.formatting import duration_text
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


def _significant(value: Any) -> str:
    return f"{float(value):,.3g}"


def _signed(value: Any) -> str:
    return f"{float(value):+,.3g}"


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
        """The Jinja filters: ``show`` (a value in a format) and ``rows`` (a table's rows)."""
        return {"show": self.show, "rows": rows}

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


def rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """A table's rows as plain values (missing numbers are None)."""
    return [] if frame is None else records(frame)
