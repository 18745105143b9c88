"""What the checks of a spec against its events share: the events read, and the base check.

The checks themselves are in :mod:`journeys.spec.data_checks` (events, columns,
touchpoints) and :mod:`journeys.spec.persona_checks`. Each reports a problem by its path
in the spec, so that :meth:`journeys.spec.loader.CheckedSpec.locate` points at the file's
line and column. The work runs in the engine: the checks ask it for event names, counts
and overlaps, each a small aggregate, and only compare names in Python.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

import ibis

from journeys.analyses import runner
from journeys.data.reader import EventLog, read_customers
from journeys.errors import DataError
from journeys.spec.base import Location, Problem, Severity
from journeys.spec.models import Spec

if TYPE_CHECKING:
    from journeys.data.options import ReadOptions
    from journeys.data.sources import Source

#: A name is suggested when it is this close (difflib's ratio) to the closest name.
SUGGESTION_MARGIN = 0.1


@dataclass(frozen=True)
class EventsRead:
    """The events a spec is checked against.

    ``mapped`` says whether the spec could be applied: when a condition names a column
    the data lacks, the events are read without the spec's conditions, so that every
    missing column is found at once and the event names can still be checked.
    """

    spec: Spec
    log: EventLog
    customers: ibis.Table | None
    mapped: bool

    @cached_property
    def event_names(self) -> list[str]:
        """Every event name of the data, sorted."""
        return sorted(self.log.event_names)

    @cached_property
    def attributes(self) -> ibis.Table:
        """One row per customer with events: the columns the personas look at.

        Read as the mapping reads them: from the customers table when the spec has one,
        otherwise from each customer's first event.
        """
        table = self.log.table
        needed = sorted({c.column for persona in self.spec.personas for c in persona.where})
        if self.customers is not None:
            known = table.select("customer_id").distinct()
            rows = self.customers.select("customer_id", *needed).distinct(on="customer_id")
            return rows.semi_join(known, "customer_id")
        first = {name: table[name].argmin(table.timestamp_us) for name in needed}
        return table.group_by("customer_id").aggregate(**first)


def read_for_checks(events: Source | None, spec: Spec, options: ReadOptions) -> EventsRead:
    """Read the events (``events``, else the spec's ``data.events``) and apply the spec.

    Reading mistakes raise as they do for every command; a condition on a column the
    data lacks does not: the events are then read without conditions (``mapped`` is
    False) and :class:`ConditionColumnsExist` locates each such condition.
    """
    from journeys.loading import load

    try:
        log, mapped = load(events, spec, options), True
    except DataError as error:
        if error.code != "missing-column" or not _has_conditions(spec):
            raise
        log, mapped = load(events, _without_conditions(spec), options), False
    customers = None
    if spec.data is not None and spec.data.customers is not None:
        customers = read_customers(
            spec.data.customers.source,
            customer_id=spec.data.customers.customer_id,
            table=spec.data.customers.table,
            connection=log.table.get_backend(),
        )
    return EventsRead(spec, log, customers, mapped)


class DataCheck:
    """A rule between the spec and its events, with a stable code.

    Subclasses set ``code``, ``rule`` and ``severity``, and yield problems located in
    the spec from :meth:`problems`; ``needs_mapping`` says that the check reads the
    touchpoint or persona each event was given.
    """

    code: ClassVar[str]
    rule: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    needs_mapping: ClassVar[bool] = True

    def problems(self, read: EventsRead) -> Iterator[Problem]:
        """Every place where the spec and the events break the rule."""
        raise NotImplementedError

    @classmethod
    def problem(
        cls, location: Location, message: str, related: tuple[str, Location] | None = None
    ) -> Problem:
        """A problem of this check."""
        return Problem(location, message, cls.code, cls.severity, related)


def count_where(predicate: ibis.Value) -> ibis.Value:
    """How many rows meet ``predicate`` (a null counts as not met)."""
    return predicate.fill_null(False).cast("int64").sum().fill_null(0)


def one_row(expression: ibis.Table) -> dict[str, int]:
    """The counts of an aggregate of one row, by name."""
    row = runner.current().arrow(expression).to_pylist()[0]
    return {name: int(value or 0) for name, value in row.items()}


def meant(name: str, names: Sequence[str]) -> str:
    """The end of a message suggesting the closest of ``names``, or nothing.

    Up to three names are suggested: those about as close as the closest one.
    """
    close = difflib.get_close_matches(name, names, n=3)
    if not close:
        return ""
    best = _likeness(name, close[0])
    close = [match for match in close if _likeness(name, match) >= best - SUGGESTION_MARGIN]
    quoted = [f"'{match}'" for match in close]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"; did you mean {listed}?"


def _likeness(name: str, other: str) -> float:
    return difflib.SequenceMatcher(None, name, other).ratio()


def _has_conditions(spec: Spec) -> bool:
    lists = (spec.touchpoints, spec.milestones, spec.personas)
    return any(item.where for items in lists for item in items)


def _without_conditions(spec: Spec) -> Spec:
    """The spec with no conditions, to read events whose columns a condition misnames."""
    return spec.model_copy(
        update={
            "touchpoints": [t.model_copy(update={"where": []}) for t in spec.touchpoints],
            "milestones": [m.model_copy(update={"where": []}) for m in spec.milestones],
            "personas": [],
        }
    )
