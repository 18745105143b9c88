"""The spec's ``feedback:`` section: which events are survey answers, and on what scale.

Satisfaction (:mod:`journeys.analyses.satisfaction`) reads it::

    feedback:
      window: 7d            # how far back an answer looks for the touchpoint it is about
      min_responses: 30     # fewer answers than this make a mean "too few"
      surveys:
        - {touchpoints: csat, kind: csat}                # 1-5, from the satisfaction column
        - {touchpoints: nps, kind: nps}                  # 0-10
        - {events: effort_answer, kind: ces, score: effort}
        - {events: [rating], kind: custom, min: 0, max: 100}

A survey names its answers by touchpoints and/or event names, and its ``kind``: ``csat``
(whole numbers 1 to 5), ``nps`` (whole numbers 0 to 10), ``ces`` (whole numbers 1 to 7,
the agreement scale of CES 2.0: higher is easier) or ``custom`` with its range ``min`` and
``max`` (any number in it). The score is read from the column ``score`` names (by its name
in the events), by default the events' satisfaction column. An event is the answer of the
first survey in the list that names it.

Each scale has three bands, the low, neutral and high answers: CSAT 1-2, 3, 4-5; NPS 0-6
(detractors), 7-8 (passives), 9-10 (promoters); CES 1-3, 4, 5-7; a custom range from
``min`` to ``max`` is cut in thirds: low up to ``min + (max - min) / 3``, high from
``max - (max - min) / 3``, both inclusive, neutral between.

This module stays free of the engine so that reading a spec does not start one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, PlainSerializer, model_validator

from journeys.params import DURATION_SCHEMA, format_duration, longer_than_zero
from journeys.spec.base import Check, Location, Names, Problem, Section, SpecModel, TouchpointsExist

if TYPE_CHECKING:
    from journeys.spec.models import Spec

Kind = Literal["csat", "nps", "ces", "custom"]
#: The range of each standard scale (whole numbers) and where its low and high bands end.
STANDARD_SCALES: dict[str, tuple[int, int, int, int]] = {
    "csat": (1, 5, 2, 4),
    "nps": (0, 10, 6, 9),
    "ces": (1, 7, 3, 5),
}
BANDS = ("low", "neutral", "high")


Window = Annotated[
    timedelta,
    longer_than_zero("window", "the attribution window"),
    PlainSerializer(format_duration, return_type=str),
    DURATION_SCHEMA,
]


@dataclass(frozen=True)
class Scale:
    """A scale of answers: its kind, its range, and where its low and high bands end.

    ``whole`` says that only whole numbers are on the scale (the standard kinds).
    """

    kind: str
    minimum: float
    maximum: float
    low_upto: float
    high_from: float
    whole: bool

    @classmethod
    def of(cls, kind: str, minimum: float | None = None, maximum: float | None = None) -> Scale:
        """The scale of a kind (a custom one needs its range)."""
        if kind in STANDARD_SCALES:
            low, high, low_upto, high_from = STANDARD_SCALES[kind]
            return cls(kind, low, high, low_upto, high_from, whole=True)
        if minimum is None or maximum is None or not minimum < maximum:
            raise ValueError("a custom scale needs its range, with min below max")
        third = (maximum - minimum) / 3
        return cls(kind, minimum, maximum, minimum + third, maximum - third, whole=False)

    @property
    def label(self) -> str:
        """``csat``, ``nps``, ``ces``, or ``custom 0-100``."""
        if self.kind in STANDARD_SCALES:
            return self.kind
        return f"custom {self.minimum:g}-{self.maximum:g}"

    @property
    def range_text(self) -> str:
        """The range as people write it: ``1-5``."""
        return f"{self.minimum:g}-{self.maximum:g}"


class Survey(SpecModel):
    """Events that are answers to one survey, and the scale they are on."""

    name: str | None = Field(
        default=None,
        min_length=1,
        description="The survey's name in results (by default its touchpoints or events).",
    )
    touchpoints: Names = Field(
        default_factory=list, description="Touchpoint ids whose events are the answers."
    )
    events: Names = Field(default_factory=list, description="Event names that are the answers.")
    kind: Kind = Field(
        description="csat (1-5), nps (0-10), ces (1-7, higher is easier) or custom (give min "
        "and max)."
    )
    minimum: float | None = Field(
        default=None, alias="min", description="The lowest score of a custom scale."
    )
    maximum: float | None = Field(
        default=None, alias="max", description="The highest score of a custom scale."
    )
    score: str | None = Field(
        default=None,
        min_length=1,
        description="The column holding the score (by default the events' satisfaction column).",
    )

    @model_validator(mode="after")
    def _something_to_match(self) -> Survey:
        if not self.events and not self.touchpoints:
            raise ValueError("give 'touchpoints' or 'events' (or both): the survey's answers")
        return self

    @property
    def label(self) -> str:
        """The survey's name, or what it is made of: ``csat`` or ``csat, nps_answer``."""
        return self.name or ", ".join([*self.touchpoints, *self.events])

    def scale(self) -> Scale:
        """The survey's scale (its range checked by :class:`ScaleRanges`)."""
        return Scale.of(self.kind, self.minimum, self.maximum)


class SurveyTouchpointsExist(TouchpointsExist):
    """A survey's touchpoints are touchpoints of the spec."""

    rule = "Every touchpoint a feedback survey names is a touchpoint of the spec."

    def named(self, spec: Spec) -> Iterator[tuple[Location, list[str]]]:
        if spec.feedback is None:
            return
        for index, survey in enumerate(spec.feedback.surveys):
            yield ("feedback", "surveys", index, "touchpoints"), survey.touchpoints


class ScaleRanges(Check):
    """A custom scale has a range from a lower ``min`` to a higher ``max``; a standard one
    has its own range."""

    code = "invalid-scale"
    rule = (
        "A custom feedback scale gives min and max with min below max; csat, nps and ces "
        "have their own ranges and take neither."
    )

    def problems(self, spec: Spec) -> Iterator[Problem]:
        if spec.feedback is None:
            return
        for index, survey in enumerate(spec.feedback.surveys):
            where = ("feedback", "surveys", index)
            low, high = survey.minimum, survey.maximum
            if survey.kind != "custom":
                if low is not None or high is not None:
                    first, last, _, _ = STANDARD_SCALES[survey.kind]
                    message = (
                        f"kind {survey.kind} runs from {first} to {last}; 'min' and 'max' are "
                        "only for kind: custom (remove them, or write kind: custom)"
                    )
                    yield self.problem((*where, "min" if low is not None else "max"), message)
            elif low is None or high is None:
                missing = " and ".join(
                    name for name, value in (("min", low), ("max", high)) if value is None
                )
                message = (
                    f"a custom scale needs its range: give {missing} (such as min: 0, max: 100)"
                )
                yield self.problem((*where, "kind"), message)
            elif not low < high:
                message = (
                    f"the range runs from 'min' to 'max', but min ({low:g}) is not below "
                    f"max ({high:g})"
                )
                yield self.problem((*where, "max"), message)


class SurveyNamesUnique(Check):
    """Each survey has its own name in results."""

    code = "duplicate-survey"
    rule = "Each feedback survey has its own name (the results list surveys by name)."

    def problems(self, spec: Spec) -> Iterator[Problem]:
        if spec.feedback is None:
            return
        labels = [survey.label for survey in spec.feedback.surveys]
        for index, label in enumerate(labels):
            if label in labels[:index]:
                earlier = labels.index(label)
                related = (f"the first '{label}'", ("feedback", "surveys", earlier))
                message = f"two surveys are called '{label}'; give each its own 'name'"
                yield self.problem(("feedback", "surveys", index), message, related)


class Feedback(Section):
    """Which events are survey answers, their scales, and how answers are attributed."""

    surveys: list[Survey] = Field(min_length=1, description="The surveys, each with its scale.")
    window: Window = Field(
        default=timedelta(days=7),
        description="An answer that is not itself a touchpoint's event is about the touchpoint "
        "the customer saw last before answering, at most this long before.",
    )
    min_responses: int = Field(
        default=30,
        ge=1,
        description="A mean of fewer answers than this is marked too few to rely on.",
    )

    checks = (SurveyTouchpointsExist, ScaleRanges, SurveyNamesUnique)

    def survey_touchpoints(self) -> list[str]:
        """The touchpoints that are surveys: those a survey names under ``touchpoints``.

        An answer named by its event (``events:``) that is a touchpoint's event is about that
        touchpoint (a rated chat); an answer of a survey touchpoint is about the touchpoint
        seen before it.
        """
        return list(dict.fromkeys(name for survey in self.surveys for name in survey.touchpoints))
