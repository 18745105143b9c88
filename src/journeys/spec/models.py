"""The journey spec: stages, touchpoints, personas, milestones and where the data is.

Every model forbids unknown keys, so a misspelt key is reported instead of ignored.
Cross-references (a touchpoint's stage, a milestone's touchpoints) are checked after
the fields, and each problem keeps the path of the field it is about so that the YAML
loader can point at the line and column.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from journeys.data.options import ReadOptions

Location = tuple[str | int, ...]

Scalar = str | int | float | bool


def _as_list(value: Any) -> Any:
    """Accept a single value where a list is expected (``events: purchase``)."""
    if isinstance(value, str | int | float | bool):
        return [value]
    return value


Identifier = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$",
        description="Letters, digits, '_' and '-', starting with a letter or '_'.",
    ),
]
EventNames = Annotated[list[str], BeforeValidator(_as_list), Field(min_length=1)]


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CrossReferenceError(ValueError):
    """Problems between fields of a valid shape, each with the path it is about."""

    def __init__(self, problems: list[tuple[Location, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems))


class Condition(SpecModel):
    """A condition on one column of an event (or of a customer, for personas).

    Give exactly one of ``equals``, ``in`` and ``regex``.
    """

    column: str = Field(min_length=1)
    equals: Scalar | None = None
    in_: Annotated[list[Scalar] | None, Field(alias="in", min_length=1)] = None
    regex: str | None = None

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
    name: str
    description: str = ""


class Touchpoint(SpecModel):
    """A point of contact: its stage, channel, owning department and the events that are it."""

    id: Identifier
    name: str
    stage: str
    channel: str | None = None
    owner: str | None = Field(default=None, description="The department that owns it.")
    description: str = ""
    events: EventNames = Field(description="Event names that are this touchpoint.")
    where: list[Condition] = Field(
        default_factory=list, description="Further conditions on the event's columns (all hold)."
    )


class Persona(SpecModel):
    """A kind of customer, recognised by conditions on customer-level columns."""

    id: Identifier
    name: str
    description: str = ""
    where: list[Condition] = Field(min_length=1)


class Milestone(SpecModel):
    """A named moment such as ``purchase``: given by event names and/or touchpoints."""

    id: Identifier
    name: str
    events: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    touchpoints: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    where: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_match(self) -> Milestone:
        if not self.events and not self.touchpoints:
            raise ValueError("give 'events' or 'touchpoints' (or both)")
        return self


class Customers(SpecModel):
    """An optional table of customer-level columns (plan, country, acquisition channel)."""

    source: str = Field(description="A file path (relative to the spec) or a database URL.")
    table: str | None = None
    customer_id: str = "customer_id"


class DataSource(ReadOptions):
    """Where the events are and how to read them (every reading option may be set here)."""

    events: str = Field(description="A file path (relative to the spec) or a database URL.")
    customers: Customers | None = None

    def reading(self) -> ReadOptions:
        """The reading options alone."""
        given = self.model_fields_set & set(ReadOptions.model_fields)
        return ReadOptions(**{name: getattr(self, name) for name in given})


SupportPeriod = Literal["week", "month", "quarter"]


class CostLine(SpecModel):
    """A named fixed cost of the support operation per period (salaries, tools, training)."""

    name: str = Field(min_length=1)
    amount: float = Field(ge=0, description="Cost per period.")
    channel: str | None = Field(
        default=None, description="The support channel this cost belongs to, if only one."
    )


class VariableCosts(SpecModel):
    """Costs that grow with the customers supported and the contacts they make."""

    per_customer: float = Field(default=0.0, ge=0, description="Per supported customer.")
    per_contact: dict[str, float] = Field(
        default_factory=dict, description="Cost of one contact, by channel (chat, phone, ...)."
    )
    contacts_per_customer: dict[str, float] = Field(
        default_factory=dict,
        description="Contacts per supported customer and period by channel; measured from the "
        "events when they are given, so only needed without data.",
    )


class SupportContacts(SpecModel):
    """Which events are support contacts: touchpoints and/or event names."""

    touchpoints: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    events: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_match(self) -> SupportContacts:
        if not self.events and not self.touchpoints:
            raise ValueError("give 'touchpoints' or 'events' (or both)")
        return self


class Scenario(SpecModel):
    """A change to the support operation, compared side by side with today."""

    name: str = Field(min_length=1)
    description: str = ""
    fixed_costs: dict[str, float] = Field(
        default_factory=dict,
        description="Fixed cost lines to add or change (by name); 0 removes a line.",
    )
    per_contact: dict[str, float] = Field(
        default_factory=dict, description="New cost of one contact, by channel."
    )
    contacts_factor: float = Field(
        default=1.0, ge=0, description="Multiplies contacts per customer (0.7: 30% deflected)."
    )
    per_customer: float | None = Field(default=None, ge=0)
    value_per_customer: float | None = Field(default=None)
    value_factor: float = Field(default=1.0, ge=0, description="Multiplies the value.")


class SupportChange(SpecModel):
    """A change to support (a chatbot, a second shift) whose impact to measure.

    Give its ``date`` (periods before it are compared with as many after it), or the two
    windows to compare as ``before`` and ``after``: each a first and a last day.
    """

    name: str = Field(min_length=1)
    date: datetime.date | None = None
    before: Annotated[list[datetime.date], Field(min_length=2, max_length=2)] | None = None
    after: Annotated[list[datetime.date], Field(min_length=2, max_length=2)] | None = None

    @model_validator(mode="after")
    def _date_or_windows(self) -> SupportChange:
        windows = self.before is not None and self.after is not None
        partial = (self.before is None) != (self.after is None)
        if partial or windows == (self.date is not None):
            raise ValueError("give 'date', or both 'before' and 'after' ([first day, last day])")
        if self.before is not None and self.after is not None:
            if self.before[0] > self.before[1] or self.after[0] > self.after[1]:
                raise ValueError("each window runs from its first day to its last day")
            if self.before[1] >= self.after[0]:
                raise ValueError("the 'before' window must end before the 'after' window starts")
        return self

    def windows(
        self,
    ) -> tuple[tuple[datetime.date, datetime.date], tuple[datetime.date, datetime.date]] | None:
        """The two windows to compare, when given."""
        if self.before is None or self.after is None:
            return None
        return (self.before[0], self.before[1]), (self.after[0], self.after[1])


class Support(SpecModel):
    """The post-purchase support operation: its costs, contacts, value and scenarios."""

    period: SupportPeriod = "month"
    contacts: SupportContacts
    csat: SupportContacts | None = Field(
        default=None, description="Which events carry the CSAT score of support contacts."
    )
    fixed_costs: list[CostLine] = Field(default_factory=list)
    variable_costs: VariableCosts = Field(default_factory=VariableCosts)
    value_per_customer: float | Literal["estimate"] = Field(
        default="estimate",
        description="What a supported customer brings per period (revenue or gross profit "
        "that support keeps), or 'estimate' to measure it from the events.",
    )
    margin: float = Field(
        default=1.0, gt=0, le=1, description="Share of revenue that is gross profit."
    )
    outcome_periods: int = Field(
        default=3, ge=1, le=24, description="Periods after a contact in which outcomes count."
    )
    measure_periods: int = Field(
        default=6, ge=1, description="Recent complete periods over which volumes are averaged."
    )
    scenarios: list[Scenario] = Field(default_factory=list)
    changes: list[SupportChange] = Field(default_factory=list)


class Spec(SpecModel):
    """A customer journey: its stages, touchpoints, personas and milestones."""

    name: str
    description: str = ""
    data: DataSource | None = None
    stages: list[Stage] = Field(min_length=1)
    touchpoints: list[Touchpoint] = Field(default_factory=list)
    personas: list[Persona] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)
    support: Support | None = None

    @model_validator(mode="after")
    def _cross_references(self) -> Spec:
        problems: list[tuple[Location, str]] = []
        for section in ("stages", "touchpoints", "personas", "milestones"):
            seen: set[str] = set()
            for index, item in enumerate(getattr(self, section)):
                if item.id in seen:
                    problems.append(((section, index, "id"), f"id '{item.id}' is used twice"))
                seen.add(item.id)
        stage_ids = list(dict.fromkeys(stage.id for stage in self.stages))
        for index, touchpoint in enumerate(self.touchpoints):
            if touchpoint.stage not in stage_ids:
                known = ", ".join(stage_ids)
                message = f"unknown stage '{touchpoint.stage}'; the stages are {known}"
                problems.append((("touchpoints", index, "stage"), message))
        touchpoint_ids = {touchpoint.id for touchpoint in self.touchpoints}
        for index, milestone in enumerate(self.milestones):
            for position, name in enumerate(milestone.touchpoints):
                if name not in touchpoint_ids:
                    problems.append(
                        (
                            ("milestones", index, "touchpoints", position),
                            f"unknown touchpoint '{name}'",
                        )
                    )
        if self.support is not None:
            for part in ("contacts", "csat"):
                chosen = getattr(self.support, part)
                for position, name in enumerate(chosen.touchpoints if chosen else []):
                    if name not in touchpoint_ids:
                        problems.append(
                            (
                                ("support", part, "touchpoints", position),
                                f"unknown touchpoint '{name}'",
                            )
                        )
            names = [line.name for line in self.support.fixed_costs]
            for index, name in enumerate(names):
                if name in names[:index]:
                    location = ("support", "fixed_costs", index, "name")
                    problems.append((location, f"cost line '{name}' is named twice"))
        if problems:
            raise CrossReferenceError(problems)
        return self

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id."""
        return next(stage for stage in self.stages if stage.id == stage_id)

    def milestone(self, milestone_id: str) -> Milestone | None:
        """The milestone with this id, or None when the spec has none."""
        return next((m for m in self.milestones if m.id == milestone_id), None)

    def touchpoint(self, touchpoint_id: str) -> Touchpoint | None:
        """The touchpoint with this id, or None."""
        return next((t for t in self.touchpoints if t.id == touchpoint_id), None)
