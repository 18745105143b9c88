"""What a figure writes for the ids a result carries: the spec's names, made safe as text.

Results keep ids (``stage:onboarding``, ``kickoff``, ``smb``) so that they can be joined and
compared; a figure shows the names the spec gives them (Onboarding, Kickoff call, Small
business). Plotly reads a label as a small HTML dialect (``<b>``, ``<br>``), so every label is
escaped: a name written by a user shows as written and cannot format or break the figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from journeys.spec.models import Spec

STAGE = "stage:"
MILESTONE = "milestone:"


def escape(text: str) -> str:
    """Text as plotly shows it literally (its labels accept a few HTML tags and entities)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Labels:
    """Names by id: of stages, touchpoints and personas. Empty, a figure shows the ids."""

    stages: Mapping[str, str] = field(default_factory=dict)
    touchpoints: Mapping[str, str] = field(default_factory=dict)
    personas: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: Spec | None) -> Labels:
        """The names a spec gives (none without a spec)."""
        if spec is None:
            return cls()
        return cls(
            stages={stage.id: stage.name for stage in spec.stages},
            touchpoints={touchpoint.id: touchpoint.name for touchpoint in spec.touchpoints},
            personas={persona.id: persona.name for persona in spec.personas},
        )

    def step(self, value: str) -> str:
        """A funnel or timing step: ``stage:x`` is a stage, a touchpoint id a touchpoint."""
        if value.startswith(STAGE):
            return escape(self.stages.get(value.removeprefix(STAGE), value.removeprefix(STAGE)))
        if value.startswith(MILESTONE):
            return escape(value.removeprefix(MILESTONE))
        return escape(self.touchpoints.get(value, value))

    def at(self, level: str, value: str) -> str:
        """A label of a path or matrix, named at its level (event names stay as they are)."""
        if level == "stage":
            stage = value.removeprefix(STAGE)
            return escape(self.stages.get(stage, stage))
        if level == "touchpoint":
            return escape(self.touchpoints.get(value, value))
        return escape(value)

    def persona(self, value: str) -> str:
        """A persona id as its name."""
        return escape(self.personas.get(value, value))
