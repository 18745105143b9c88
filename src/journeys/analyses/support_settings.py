"""The ``support`` section of the spec: the support operation that break-even measures.

Its costs, which events are contacts, the value of a supported customer, the scenarios to
compare and the changes whose impact to measure. Break-even
(:mod:`journeys.analyses.breakeven`) and the support effect measurements
(:mod:`journeys.analyses.support_effect`) read it; the spec composes it as its ``support``
key and runs its checks. This module stays free of the engine so that reading a spec
does not start one.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from journeys.spec.base import (
    Check,
    Location,
    Names,
    Problem,
    Section,
    SpecModel,
    TouchpointsExist,
)

if TYPE_CHECKING:
    from journeys.spec.models import Spec

SupportPeriod = Literal["week", "month", "quarter"]


class CostLine(SpecModel):
    """A named fixed cost of the support operation per period (salaries, tools, training)."""

    name: str = Field(min_length=1, description="The cost line's name (each name once).")
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

    touchpoints: Names = Field(
        default_factory=list,
        description="Touchpoint ids whose events are support contacts (for csat: whose events "
        "carry the CSAT score).",
    )
    events: Names = Field(
        default_factory=list,
        description="Event names that are support contacts (for csat: that carry the CSAT score).",
    )

    @model_validator(mode="after")
    def _something_to_match(self) -> SupportContacts:
        if not self.events and not self.touchpoints:
            raise ValueError("give 'touchpoints' or 'events' (or both)")
        return self


class Scenario(SpecModel):
    """A change to the support operation, compared side by side with today."""

    name: str = Field(min_length=1, description="The scenario's name.")
    description: str = Field(default="", description="What the scenario changes.")
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
    per_customer: float | None = Field(
        default=None, ge=0, description="New variable cost per supported customer."
    )
    value_per_customer: float | None = Field(
        default=None, description="New value of a supported customer per period."
    )
    value_factor: float = Field(default=1.0, ge=0, description="Multiplies the value.")


class SupportChange(SpecModel):
    """A change to support (a chatbot, a second shift) whose impact to measure.

    Give its ``date`` (periods before it are compared with as many after it), or the two
    windows to compare as ``before`` and ``after``: each a first and a last day.
    """

    name: str = Field(min_length=1, description="The change's name.")
    date: datetime.date | None = Field(
        default=None,
        description="The day of the change; as many complete periods before it are compared "
        "with after it.",
    )
    before: Annotated[list[datetime.date], Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="The first and last day of the window before the change."
    )
    after: Annotated[list[datetime.date], Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="The first and last day of the window after the change."
    )

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


class SupportTouchpointsExist(TouchpointsExist):
    """Support contacts and CSAT name touchpoints of the spec."""

    rule = "Support contacts and CSAT name touchpoints of the spec."

    def named(self, spec: Spec) -> Iterator[tuple[Location, list[str]]]:
        if spec.support is None:
            return
        for part in ("contacts", "csat"):
            chosen = getattr(spec.support, part)
            if chosen is not None:
                yield ("support", part, "touchpoints"), chosen.touchpoints


class CostLinesNamedOnce(Check):
    """Each fixed cost line has its own name."""

    code = "duplicate-cost-line"
    rule = "Each fixed cost line has its own name (scenarios change lines by name)."

    def problems(self, spec: Spec) -> Iterator[Problem]:
        if spec.support is None:
            return
        names = [line.name for line in spec.support.fixed_costs]
        for index, name in enumerate(names):
            if name in names[:index]:
                location = ("support", "fixed_costs", index, "name")
                yield self.problem(location, f"cost line '{name}' is named twice")


class Support(Section):
    """The post-purchase support operation: its costs, contacts, value and scenarios."""

    period: SupportPeriod = Field(
        default="month", description="The period every support number is per."
    )
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

    checks = (SupportTouchpointsExist, CostLinesNamedOnce)
