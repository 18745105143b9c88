"""Resolve what a user names in a step (event, touchpoint, stage, milestone) into a predicate.

A step is one name or alternatives separated by ``|`` (``product1|product2``). Each
name may carry a prefix: ``event:``, ``touchpoint:``, ``stage:`` or ``milestone:``.
Without one, a name is looked up among the spec's touchpoints, then its stages, then
its milestones, and otherwise taken as an event name. A name that is none of these and
that no event has is an error, with the closest known names as suggestions.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import ibis

from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.spec.models import Spec
from journeys.spec.rules import rule_predicate

KINDS = ("event", "touchpoint", "stage", "milestone")


class Matcher:
    """Builds predicates for named steps over one event log."""

    def __init__(self, events: EventLog) -> None:
        self.events = events
        self.table = events.table
        self.spec: Spec | None = events.spec

    def event_names(self) -> frozenset[str]:
        """Every event name in the data (found once per event log)."""
        return self.events.event_names

    def predicate(self, step: str, *, optional: bool = False) -> ibis.Value:
        """Whether each event matches ``step`` (any of its ``|`` alternatives).

        An event name the data never has is an error, except as one of several
        alternatives or in an ``optional`` step: there it matches nothing (a refund that
        never happened is a step with no customers, not a mistake).
        """
        names = [name.strip() for name in step.split("|") if name.strip()]
        if not names:
            raise OptionsError(f"step '{step}' names nothing", code="unknown-step")
        absent = [name for name in names if self._absent_event(name)]
        if absent and len(absent) == len(names) and not optional:
            self._one(absent[0])  # raises: the step could never happen
        predicate = ibis.literal(False)
        for name in names:
            if name not in absent:
                predicate |= self._one(name)
        return predicate

    def predicates(
        self, steps: Sequence[str], optional: Sequence[bool] | None = None
    ) -> list[ibis.Value]:
        """A predicate per step (``optional`` says which steps may be skipped)."""
        flags = list(optional) if optional is not None else [False] * len(steps)
        return [
            self.predicate(step, optional=flag) for step, flag in zip(steps, flags, strict=True)
        ]

    def _absent_event(self, name: str) -> bool:
        """Whether ``name`` is an event name (not a touchpoint, stage or milestone) that no
        event has."""
        kind, _, bare = name.partition(":")
        if bare and kind in KINDS:
            return kind == "event" and bare not in self.event_names()
        spec = self.spec
        if spec is not None and (
            spec.touchpoint(name) is not None
            or any(stage.id == name for stage in spec.stages)
            or spec.milestone(name) is not None
        ):
            return False
        return name not in self.event_names()

    def _one(self, name: str) -> ibis.Value:
        kind, _, bare = name.partition(":")
        if bare and kind in KINDS:
            return self._of_kind(kind, bare, name)
        spec = self.spec
        if spec is not None:
            if spec.touchpoint(name) is not None:
                return self._of_kind("touchpoint", name, name)
            if any(stage.id == name for stage in spec.stages):
                return self._of_kind("stage", name, name)
            if spec.milestone(name) is not None:
                return self._of_kind("milestone", name, name)
        return self._of_kind("event", name, name)

    def _of_kind(self, kind: str, name: str, given: str) -> ibis.Value:
        if kind == "event":
            if name not in self.event_names():
                self._unknown(given, sorted(self.event_names()), "event")
            return self.table.event == name
        spec = self._require_spec(given, kind)
        if kind == "touchpoint":
            if spec.touchpoint(name) is None:
                self._unknown(given, [t.id for t in spec.touchpoints], "touchpoint")
            return (self.table.touchpoint == name).fill_null(False)
        if kind == "stage":
            if not any(stage.id == name for stage in spec.stages):
                self._unknown(given, [s.id for s in spec.stages], "stage")
            return (self.table.stage == name).fill_null(False)
        milestone = spec.milestone(name)
        if milestone is None:
            self._unknown(given, [m.id for m in spec.milestones], "milestone")
            raise AssertionError  # pragma: no cover - _unknown raises
        return milestone_predicate(self.table, spec, name)

    def _require_spec(self, given: str, kind: str) -> Spec:
        if self.spec is None:
            raise OptionsError(
                f"step '{given}' names a {kind}, but no journey spec was given",
                hint="pass --spec SPEC so that touchpoints, stages and milestones are known",
                code="unknown-step",
            )
        return self.spec

    @staticmethod
    def _unknown(given: str, known: Sequence[str], kind: str) -> None:
        close = difflib.get_close_matches(given.rpartition(":")[2], known, n=3)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None
        listing = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
        raise OptionsError(
            f"step '{given}' matches no {kind}; the known {kind}s are: {listing or 'none'}",
            hint=hint or "check the spelling, or pass --spec SPEC to name touchpoints and stages",
            code="unknown-step",
        )


def milestone_predicate(table: ibis.Table, spec: Spec, milestone_id: str) -> ibis.Value:
    """Whether each event is the milestone (by its events and/or its touchpoints)."""
    milestone = spec.milestone(milestone_id)
    if milestone is None:
        raise OptionsError(
            f"the journey spec has no milestone '{milestone_id}'",
            hint=f"add a milestone with id '{milestone_id}' under `milestones:` in the spec",
            code="unknown-milestone",
        )
    predicate = ibis.literal(False)
    if milestone.events:
        predicate |= rule_predicate(table, milestone.events, milestone.where)
    if milestone.touchpoints:
        predicate |= table.touchpoint.isin(milestone.touchpoints).fill_null(False)
    return predicate
