"""What every part of the journey spec is built from: the base model, shared field types,
and the checks that run once a spec has its shape.

A spec is composed of sections. The journey itself (stages, touchpoints, personas,
milestones) is the core; an analysis that needs settings of its own owns a section
(break-even owns ``support``) and defines it next to its code as a :class:`Section`, with
the checks that apply to it. A check is a small class with a stable ``code``: tests and
tools match problems by code, never by wording.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

if TYPE_CHECKING:
    from journeys.spec.models import Spec

Location = tuple[str | int, ...]
Scalar = str | int | float | bool
Severity = Literal["error", "warning"]


def as_list(value: Any) -> Any:
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
Names = Annotated[list[str], BeforeValidator(as_list)]
EventNames = Annotated[list[str], BeforeValidator(as_list), Field(min_length=1)]


class SpecModel(BaseModel):
    """A part of the spec: unknown keys are reported, values cannot change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Problem(NamedTuple):
    """One problem a check found: where (a path of keys and indices), what, and its code.

    ``related`` names another place the problem is about (what it is, and its location),
    such as the earlier touchpoint that takes an event: the loader adds its line.
    """

    location: Location
    message: str
    code: str
    severity: Severity = "error"
    related: tuple[str, Location] | None = None


class Check:
    """A rule over a whole spec, with a stable code and one sentence saying what it asks.

    Subclasses set ``code`` and ``rule`` and yield :class:`Problem` objects from
    :meth:`problems`; :meth:`problem` builds one with the check's code and severity.
    A warning does not stop the spec from loading; ``journeys validate`` shows it.
    """

    code: ClassVar[str]
    rule: ClassVar[str]
    severity: ClassVar[Severity] = "error"

    def problems(self, spec: Spec) -> Iterator[Problem]:
        """Every place where ``spec`` breaks the rule."""
        raise NotImplementedError

    @classmethod
    def problem(
        cls, location: Location, message: str, related: tuple[str, Location] | None = None
    ) -> Problem:
        """A problem of this check."""
        return Problem(location, message, cls.code, cls.severity, related)


class TouchpointsExist(Check):
    """Touchpoints named somewhere in the spec are touchpoints of the spec.

    Subclasses say where touchpoints are named: :meth:`named` yields the location of
    each list of names and the names.
    """

    code = "unknown-touchpoint"

    def named(self, spec: Spec) -> Iterator[tuple[Location, list[str]]]:
        """Each list of touchpoint names, with its location."""
        raise NotImplementedError

    def problems(self, spec: Spec) -> Iterator[Problem]:
        known = {touchpoint.id for touchpoint in spec.touchpoints}
        for location, names in self.named(spec):
            for position, name in enumerate(names):
                if name not in known:
                    message = f"unknown touchpoint '{name}'{known_names('touchpoints', known)}"
                    yield self.problem((*location, position), message)


class Section(SpecModel):
    """A section of the spec owned by an analysis, with the checks that apply to it."""

    checks: ClassVar[tuple[type[Check], ...]] = ()


def known_names(kind: str, names: set[str]) -> str:
    """The end of a message that lists what could have been meant."""
    if not names:
        return f"; the spec has no {kind}"
    return f"; the {kind} are {', '.join(sorted(names))}"


class CrossReferenceError(ValueError):
    """Problems between fields of a valid shape, each with the path it is about."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{'.'.join(map(str, p.location))}: {p.message}" for p in problems)
        )
