"""The journey spec: stages, touchpoints, personas, milestones and where the data is.

Every model forbids unknown keys, so a misspelt key is reported instead of ignored.
Cross-references (a touchpoint's stage, a milestone's touchpoints) are checked after
the fields, and each problem keeps the path of the field it is about so that the YAML
loader can point at the line and column.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, model_validator

from journeys.analyses.feedback_settings import Feedback
from journeys.analyses.handoff_settings import HANDOFF_CHECKS, Handoff, Raci
from journeys.analyses.support_settings import Support
from journeys.data.options import ReadOptions
from journeys.spec.base import (
    CrossReferenceError,
    EventNames,
    Identifier,
    Names,
    Problem,
    Scalar,
    Section,
    SpecModel,
)


class Condition(SpecModel):
    """A condition on one column of an event (or of a customer, for personas).

    Give exactly one of ``equals``, ``in`` and ``regex``.
    """

    column: str = Field(
        min_length=1,
        description="The column the condition looks at (for personas, a customer-level column).",
    )
    equals: Scalar | None = Field(default=None, description="The value the column must have.")
    in_: Annotated[
        list[Scalar] | None,
        Field(alias="in", min_length=1, description="The values the column may have."),
    ] = None
    regex: str | None = Field(
        default=None, description="A regular expression the column's text must match."
    )

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        given = [name for name in ("equals", "in_", "regex") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'equals', 'in' or 'regex'")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as error:
                raise ValueError(f"'regex' is not a valid regular expression: {error}") from None
        return self


class Stage(SpecModel):
    """A stage of the journey, such as awareness, purchase or onboarding."""

    id: Identifier
    name: str = Field(description="The stage's name as people read it.")
    description: str = Field(default="", description="What happens in the stage.")
    raci: Raci | None = Field(
        default=None, description="The departments responsible, accountable, consulted, informed."
    )


class Touchpoint(SpecModel):
    """A point of contact: its stage, channel, owning department and the events that are it."""

    id: Identifier
    name: str = Field(description="The touchpoint's name as people read it.")
    stage: str = Field(description="The id of the stage it belongs to.")
    channel: str | None = Field(
        default=None, description="Where it happens (web, email, chat, call, product, ...)."
    )
    owner: str | None = Field(default=None, description="The department that owns it.")
    description: str = Field(default="", description="What the touchpoint is.")
    events: EventNames = Field(description="Event names that are this touchpoint.")
    where: list[Condition] = Field(
        default_factory=list, description="Further conditions on the event's columns (all hold)."
    )


class Persona(SpecModel):
    """A kind of customer, recognised by conditions on customer-level columns."""

    id: Identifier
    name: str = Field(description="The persona's name as people read it.")
    description: str = Field(default="", description="Who these customers are.")
    where: list[Condition] = Field(min_length=1)


class Milestone(SpecModel):
    """A named moment such as ``purchase``: given by event names and/or touchpoints."""

    id: Identifier
    name: str = Field(description="The milestone's name as people read it.")
    events: Names = Field(default_factory=list, description="Event names that are the milestone.")
    touchpoints: Names = Field(
        default_factory=list, description="Touchpoint ids whose events are the milestone."
    )
    where: list[Condition] = Field(default_factory=list)
    raci: Raci | None = Field(
        default=None, description="The departments responsible, accountable, consulted, informed."
    )

    @model_validator(mode="after")
    def _something_to_match(self) -> Milestone:
        if not self.events and not self.touchpoints:
            raise ValueError("give 'events' or 'touchpoints' (or both)")
        return self


class Customers(SpecModel):
    """An optional table of customer-level columns (plan, country, acquisition channel)."""

    source: str = Field(description="A file path (relative to the spec) or a database URL.")
    table: str | None = Field(default=None, description="The table, when the source is a database.")
    customer_id: str = Field(
        default="customer_id", description="The column of that table that holds the customer id."
    )


class DataSource(ReadOptions):
    """Where the events are and how to read them (every reading option may be set here)."""

    events: str = Field(description="A file path (relative to the spec) or a database URL.")
    customers: Customers | None = None

    def reading(self) -> ReadOptions:
        """The reading options alone."""
        given = self.model_fields_set & set(ReadOptions.model_fields)
        return ReadOptions(**{name: getattr(self, name) for name in given})


class Spec(SpecModel):
    """A customer journey: its stages, touchpoints, personas, milestones, hand-offs and the
    surveys that say how customers feel."""

    name: str = Field(description="The journey's name, shown in the report.")
    description: str = Field(
        default="", description="What the journey is about, in a sentence or two."
    )
    data: DataSource | None = None
    stages: list[Stage] = Field(min_length=1)
    touchpoints: list[Touchpoint] = Field(default_factory=list)
    personas: list[Persona] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)
    support: Support | None = None
    feedback: Feedback | None = Field(
        default=None,
        description="Which events are survey answers (CSAT, NPS, CES or a custom scale), "
        "read by the satisfaction analysis.",
    )
    departments: Names = Field(
        default_factory=list,
        description="Departments that own no touchpoint but appear in a RACI or a hand-off "
        "(the owners of touchpoints are departments already).",
    )
    handoffs: list[Handoff] = Field(
        default_factory=list,
        description="Hand-offs between departments, each with the service level promised.",
    )

    @model_validator(mode="after")
    def _checks(self) -> Spec:
        errors = [problem for problem in self.problems() if problem.severity == "error"]
        if errors:
            raise CrossReferenceError(errors)
        return self

    def problems(self) -> list[Problem]:
        """What the checks find: the core journey's, then each section's, in order."""
        from journeys.spec.checks import CORE_CHECKS

        checks = [*CORE_CHECKS, *HANDOFF_CHECKS]
        for name in type(self).model_fields:
            section = getattr(self, name)
            if isinstance(section, Section):
                checks.extend(section.checks)
        return [problem for check in checks for problem in check().problems(self)]

    def warnings(self) -> list[Problem]:
        """Problems that do not stop the spec from loading but deserve a look."""
        return [problem for problem in self.problems() if problem.severity == "warning"]

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id."""
        return next(stage for stage in self.stages if stage.id == stage_id)

    def milestone(self, milestone_id: str) -> Milestone | None:
        """The milestone with this id, or None when the spec has none."""
        return next((m for m in self.milestones if m.id == milestone_id), None)

    def touchpoint(self, touchpoint_id: str) -> Touchpoint | None:
        """The touchpoint with this id, or None."""
        return next((t for t in self.touchpoints if t.id == touchpoint_id), None)
