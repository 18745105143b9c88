"""The checks of the core journey: each a small rule with a stable code.

Sections owned by analyses bring their own checks (:class:`journeys.spec.base.Section`);
:meth:`journeys.spec.models.Spec.problems` runs these first, then theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from journeys.spec.base import Check, Location, Problem, TouchpointsExist

if TYPE_CHECKING:
    from journeys.spec.models import Spec

LISTS = ("stages", "touchpoints", "personas", "milestones")


class IdsUnique(Check):
    """Ids are unique within their list."""

    code = "duplicate-id"
    rule = "Each stage, touchpoint, persona and milestone id is used once in its list."

    def problems(self, spec: Spec) -> Iterator[Problem]:
        for section in LISTS:
            seen: set[str] = set()
            for index, item in enumerate(getattr(spec, section)):
                if item.id in seen:
                    yield self.problem((section, index, "id"), f"id '{item.id}' is used twice")
                seen.add(item.id)


class TouchpointStagesExist(Check):
    """A touchpoint's stage is a stage of the spec."""

    code = "unknown-stage"
    rule = "Every touchpoint names a stage of the spec."

    def problems(self, spec: Spec) -> Iterator[Problem]:
        stages = list(dict.fromkeys(stage.id for stage in spec.stages))
        for index, touchpoint in enumerate(spec.touchpoints):
            if touchpoint.stage not in stages:
                message = f"unknown stage '{touchpoint.stage}'; the stages are {', '.join(stages)}"
                yield self.problem(("touchpoints", index, "stage"), message)


class MilestoneTouchpointsExist(TouchpointsExist):
    """A milestone's touchpoints are touchpoints of the spec."""

    rule = "Every touchpoint a milestone names is a touchpoint of the spec."

    def named(self, spec: Spec) -> Iterator[tuple[Location, list[str]]]:
        for index, milestone in enumerate(spec.milestones):
            yield ("milestones", index, "touchpoints"), milestone.touchpoints


class StagesHaveTouchpoints(Check):
    """A stage without touchpoints is never reached."""

    code = "empty-stage"
    rule = "Every stage has at least one touchpoint, or no customer can reach it."
    severity = "warning"

    def problems(self, spec: Spec) -> Iterator[Problem]:
        if not spec.touchpoints:
            return
        used = {touchpoint.stage for touchpoint in spec.touchpoints}
        for index, stage in enumerate(spec.stages):
            if stage.id not in used:
                message = (
                    f"stage '{stage.id}' has no touchpoint, so no customer reaches it; "
                    "add a touchpoint with `stage: " + stage.id + "`"
                )
                yield self.problem(("stages", index, "id"), message)


class EventsClaimedOnce(Check):
    """An event goes to the first touchpoint that matches it: a later one may never get it."""

    code = "shared-event"
    rule = (
        "An event goes to the first touchpoint in the spec whose events and conditions "
        "match it; a later touchpoint that lists an event of an earlier touchpoint without "
        "conditions never gets it."
    )
    severity = "warning"

    def problems(self, spec: Spec) -> Iterator[Problem]:
        first_claim: dict[str, int] = {}
        for index, touchpoint in enumerate(spec.touchpoints):
            for position, event in enumerate(touchpoint.events):
                earlier = first_claim.get(event)
                if earlier is not None and earlier != index:
                    owner = spec.touchpoints[earlier]
                    message = (
                        f"touchpoint '{touchpoint.id}' lists event '{event}', which touchpoint "
                        f"'{owner.id}' lists too: an event goes to the first touchpoint in the "
                        f"spec that matches it, and '{owner.id}' has no conditions, so it takes "
                        f"every '{event}' event and '{touchpoint.id}' never gets one"
                    )
                    related = (f"touchpoint '{owner.id}'", ("touchpoints", earlier, "id"))
                    yield self.problem(("touchpoints", index, "events", position), message, related)
                elif earlier is None and not touchpoint.where:
                    first_claim[event] = index


class PurchaseDefined(Check):
    """Without a ``purchase`` milestone, the value analyses have nothing to count."""

    code = "no-purchase"
    rule = (
        "A spec names its purchase as the milestone 'purchase': retention, revenue, "
        "customer value and support value count it."
    )
    severity = "warning"

    def problems(self, spec: Spec) -> Iterator[Problem]:
        if spec.touchpoints and spec.milestone("purchase") is None:
            message = (
                "no milestone 'purchase': retention, revenue KPIs, customer value and "
                "break-even need one (or `--purchase-event` on the command line)"
            )
            yield self.problem(("milestones",), message)


CORE_CHECKS: tuple[type[Check], ...] = (
    IdsUnique,
    TouchpointStagesExist,
    MilestoneTouchpointsExist,
    StagesHaveTouchpoints,
    EventsClaimedOnce,
    PurchaseDefined,
)
