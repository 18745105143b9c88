"""The spec's hand-offs between departments and the RACI of its stages and milestones.

Owners are departments. The departments of a spec are the owners of its touchpoints
and the names of its optional ``departments:`` list (for a department that owns no
touchpoint but is consulted, informed or handed a customer, such as finance).

A stage or a milestone may carry a RACI: the departments ``responsible`` for it, the
one ``accountable`` for it (exactly one), those ``consulted`` and those ``informed``.
Each role takes one name or a list.

A hand-off is declared with a service level::

    handoffs:
      - {name: Welcome after purchase, from: milestone:purchase, to: touchpoint:welcome, within: 1h}
      - name: Implementation kick-off
        from: milestone:purchase
        to: owner:implementation
        within: 7d
        business_days: true

``from`` and ``to`` name a step as the other analyses do (``event:``, ``touchpoint:``,
``stage:``, ``milestone:``, a bare name, ``a|b`` for alternatives) or a department as
``owner:implementation``: any event of a touchpoint that department owns. The
hand-offs analysis (:mod:`journeys.analyses.handoffs`) measures them. This module stays
free of the engine so that reading a spec does not start one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, PlainSerializer, field_validator

from journeys.params import DURATION_SCHEMA, format_duration, longer_than_zero
from journeys.spec.base import (
    Check,
    Location,
    Names,
    Problem,
    SpecModel,
    TouchpointsExist,
    known_names,
)

if TYPE_CHECKING:
    from journeys.spec.models import Spec

#: The prefix that names a department in a hand-off's ``from`` or ``to``.
OWNER = "owner"
STEP_KINDS = ("event", "touchpoint", "stage", "milestone")
ROLES = ("responsible", "accountable", "consulted", "informed")


ServiceLevel = Annotated[
    timedelta,
    longer_than_zero("within", "a service level"),
    PlainSerializer(format_duration, return_type=str),
    DURATION_SCHEMA,
]


class Raci(SpecModel):
    """Who does what for a stage or a milestone, by department."""

    responsible: Names = Field(
        default_factory=list, description="The departments that do the work."
    )
    accountable: Names = Field(
        default_factory=list,
        description="The one department answerable for it (exactly one).",
    )
    consulted: Names = Field(
        default_factory=list, description="The departments asked before it is done."
    )
    informed: Names = Field(
        default_factory=list, description="The departments told once it is done."
    )

    def departments(self) -> Iterator[tuple[str, int, str]]:
        """Every department named, with its role and its place in the role's list."""
        for role in ROLES:
            for position, name in enumerate(getattr(self, role)):
                yield role, position, name


class Handoff(SpecModel):
    """A hand-off from one department to another, with the service level promised."""

    name: str = Field(min_length=1, description="The hand-off's name (each name once).")
    description: str = Field(default="", description="What is handed over, in a sentence.")
    from_: str = Field(
        alias="from",
        min_length=1,
        description="Where the clock starts: the customer's first such event (event:, "
        "touchpoint:, stage:, milestone: or owner: a department).",
    )
    to: str = Field(
        min_length=1,
        description="The hand-off happens at the customer's first such event at or after "
        "the start (the same kinds as 'from').",
    )
    within: ServiceLevel = Field(description="The service level: 1h, 2d, 7d, ...")
    business_days: bool = Field(
        default=False,
        description="Count only Monday to Friday (UTC) towards the service level and the wait.",
    )

    @field_validator("within")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError(
                f"'within' is {format_duration(value)}: a service level must be longer than "
                "zero (write it like 1h, 2d or 7d)"
            )
        return value

    def ends(self) -> Iterator[tuple[str, str]]:
        """``("from", text)`` and ``("to", text)``."""
        yield "from", self.from_
        yield "to", self.to


def departments(spec: Spec) -> set[str]:
    """The spec's departments: its touchpoints' owners and its ``departments:`` list."""
    owners = {touchpoint.owner for touchpoint in spec.touchpoints if touchpoint.owner}
    return owners | set(spec.departments)


def alternatives(text: str) -> list[tuple[str, str, str]]:
    """``(kind, name, as written)`` of each ``|`` alternative; a bare name's kind is ``""``."""
    found = []
    for part in (piece.strip() for piece in text.split("|")):
        if not part:
            continue
        kind, _, bare = part.partition(":")
        found.append(
            (kind, bare, part) if bare and kind in (*STEP_KINDS, OWNER) else ("", part, part)
        )
    return found


def _named(spec: Spec, kind: str) -> Iterator[tuple[Location, str]]:
    """Every name of ``kind`` in the hand-offs' ends, with the end's location."""
    for index, handoff in enumerate(spec.handoffs):
        for end, text in handoff.ends():
            for found_kind, name, _ in alternatives(text):
                if found_kind == kind:
                    yield ("handoffs", index, end), name


class HandoffTouchpointsExist(TouchpointsExist):
    """A hand-off's ``touchpoint:`` ends are touchpoints of the spec."""

    rule = "Every touchpoint a hand-off starts or ends at is a touchpoint of the spec."

    def problems(self, spec: Spec) -> Iterator[Problem]:
        known = {touchpoint.id for touchpoint in spec.touchpoints}
        for location, name in _named(spec, "touchpoint"):
            if name not in known:
                message = f"unknown touchpoint '{name}'{known_names('touchpoints', known)}"
                yield self.problem(location, message)


class HandoffStagesExist(Check):
    """A hand-off's ``stage:`` ends are stages of the spec."""

    code = "unknown-stage"
    rule = "Every stage a hand-off starts or ends at is a stage of the spec."

    def problems(self, spec: Spec) -> Iterator[Problem]:
        known = {stage.id for stage in spec.stages}
        for location, name in _named(spec, "stage"):
            if name not in known:
                yield self.problem(
                    location, f"unknown stage '{name}'{known_names('stages', known)}"
                )


class HandoffMilestonesExist(Check):
    """A hand-off's ``milestone:`` ends are milestones of the spec."""

    code = "unknown-milestone"
    rule = "Every milestone a hand-off starts or ends at is a milestone of the spec."

    def problems(self, spec: Spec) -> Iterator[Problem]:
        known = {milestone.id for milestone in spec.milestones}
        for location, name in _named(spec, "milestone"):
            if name not in known:
                message = f"unknown milestone '{name}'{known_names('milestones', known)}"
                yield self.problem(location, message)


class DepartmentsKnown(Check):
    """Departments named in a RACI or a hand-off are departments of the spec."""

    code = "unknown-department"
    rule = (
        "Every department a RACI or a hand-off names owns a touchpoint or is listed under "
        "`departments:`."
    )

    def problems(self, spec: Spec) -> Iterator[Problem]:
        known = departments(spec)
        hint = (
            "; a department owns a touchpoint (`owner:`) or is listed under `departments:`"
            if known
            else ""
        )
        for location, name in _named(spec, OWNER):
            if name not in known:
                yield self.problem(location, self._message(name, known) + hint)
        for section, index, raci in _racis(spec):
            for role, position, name in raci.departments():
                if name not in known:
                    location = (section, index, "raci", role, position)
                    yield self.problem(location, self._message(name, known) + hint)

    @staticmethod
    def _message(name: str, known: set[str]) -> str:
        listing = known_names("departments", known)
        if not known:
            listing += " (no touchpoint has an owner and there is no `departments:` list)"
        return f"unknown department '{name}'{listing}"


class OneAccountable(Check):
    """A RACI has exactly one accountable department."""

    code = "accountable"
    rule = "A stage or milestone with a RACI has exactly one accountable department."

    def problems(self, spec: Spec) -> Iterator[Problem]:
        for section, index, raci in _racis(spec):
            what = f"{section[:-1]} '{getattr(spec, section)[index].id}'"
            if not raci.accountable:
                message = (
                    f"the RACI of {what} has no accountable department; name the one "
                    "department answerable for it as `accountable:`"
                )
                yield self.problem((section, index, "raci"), message)
            elif len(raci.accountable) > 1:
                named = ", ".join(raci.accountable)
                message = (
                    f"the RACI of {what} has {len(raci.accountable)} accountable departments "
                    f"({named}); exactly one is answerable, make the others responsible"
                )
                yield self.problem((section, index, "raci", "accountable"), message)


class HandoffNamesUnique(Check):
    """Each hand-off has its own name."""

    code = "duplicate-handoff"
    rule = "Each hand-off has its own name (the results list hand-offs by name)."

    def problems(self, spec: Spec) -> Iterator[Problem]:
        names = [handoff.name for handoff in spec.handoffs]
        for index, name in enumerate(names):
            if name in names[:index]:
                earlier = names.index(name)
                related = (f"the first '{name}'", ("handoffs", earlier, "name"))
                message = f"hand-off '{name}' is named twice"
                yield self.problem(("handoffs", index, "name"), message, related)


def _racis(spec: Spec) -> Iterator[tuple[str, int, Raci]]:
    for section in ("stages", "milestones"):
        for index, item in enumerate(getattr(spec, section)):
            if item.raci is not None:
                yield section, index, item.raci


HANDOFF_CHECKS: tuple[type[Check], ...] = (
    HandoffTouchpointsExist,
    HandoffStagesExist,
    HandoffMilestonesExist,
    DepartmentsKnown,
    OneAccountable,
    HandoffNamesUnique,
)
