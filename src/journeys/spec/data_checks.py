"""The checks of a spec against its events: condition columns, event names, touchpoints.

Each is a small class with a stable code (:class:`journeys.spec.data_base.DataCheck`);
:func:`data_problems` runs them, and the persona checks of
:mod:`journeys.spec.persona_checks`, in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from journeys.analyses import runner
from journeys.analyses.satisfaction_measures import FeedbackEventsOccur
from journeys.data.mapping import DERIVED
from journeys.spec.base import Problem
from journeys.spec.data_base import DataCheck, EventsRead, count_where, meant, one_row
from journeys.spec.persona_checks import PersonasMatch, PersonasOverlap
from journeys.spec.rules import rule_predicate


class ConditionColumnsExist(DataCheck):
    """A condition looks at a column the data has."""

    code = "missing-column"
    rule = (
        "Every condition names a column of the events (of the customers table, for a "
        "persona when the spec has one)."
    )
    severity = "error"
    needs_mapping = False

    def problems(self, read: EventsRead) -> Iterator[Problem]:
        spec, log = read.spec, read.log
        events = (log.table.columns, log.report.columns, log.report.source)
        customers = events
        if read.customers is not None and spec.data is not None and spec.data.customers:
            roles = {"customer_id": spec.data.customers.customer_id}
            customers = (read.customers.columns, roles, spec.data.customers.source)
        lists = (
            ("touchpoints", "touchpoint", events),
            ("milestones", "milestone", events),
            ("personas", "persona", customers),
        )
        for section, kind, (names, roles, source) in lists:
            columns = _user_columns(names, roles)
            for index, item in enumerate(getattr(spec, section)):
                for position, condition in enumerate(item.where):
                    if condition.column in columns:
                        continue
                    message = (
                        f"{kind} '{item.id}' has a condition on column '{condition.column}', "
                        f"which {source} does not have; its columns are: "
                        f"{', '.join(columns.values())}"
                        f"{_column_meant(condition.column, columns, roles)}"
                    )
                    yield self.problem((section, index, "where", position, "column"), message)


class EventsOccur(DataCheck):
    """Every event a touchpoint or milestone names occurs in the data."""

    code = "unknown-event"
    rule = "Every event name of a touchpoint or milestone occurs in the events."
    needs_mapping = False

    def problems(self, read: EventsRead) -> Iterator[Problem]:
        present = set(read.event_names)
        for section, kind in (("touchpoints", "touchpoint"), ("milestones", "milestone")):
            for index, item in enumerate(getattr(read.spec, section)):
                none_occur = not set(item.events) & present and not getattr(
                    item, "touchpoints", None
                )
                for position, event in enumerate(item.events):
                    if event in present:
                        continue
                    message = f"event '{event}' of {kind} '{item.id}' never occurs in the data"
                    if none_occur:
                        message += f", so the {kind} matches no event"
                    message += meant(event, read.event_names)
                    yield self.problem((section, index, "events", position), message)


class TouchpointsGetEvents(DataCheck):
    """A touchpoint whose events occur gets some of them."""

    code = "touchpoint-without-events"
    rule = (
        "A touchpoint whose events occur in the data gets at least one of them: its "
        "conditions hold for some, and an earlier touchpoint does not take them all."
    )

    def problems(self, read: EventsRead) -> Iterator[Problem]:
        table = read.log.table
        found = runner.current().arrow(table.select("touchpoint").distinct())
        used = set(found.column("touchpoint").to_pylist())
        present = set(read.event_names)
        for index, touchpoint in enumerate(read.spec.touchpoints):
            if touchpoint.id in used or not set(touchpoint.events) & present:
                continue
            message = (
                f"touchpoint '{touchpoint.id}' gets no event: its events occur in the data, "
                "but its conditions hold for none of them, or an earlier touchpoint takes them "
                "all (an event goes to the first touchpoint in the spec that matches it)"
            )
            yield self.problem(("touchpoints", index, "id"), message)


class TouchpointsOverlap(DataCheck):
    """Events that meet the rules of two touchpoints with conditions go to the first."""

    code = "overlapping-touchpoints"
    rule = (
        "An event meets the events and conditions of at most one touchpoint; when it meets "
        "two, the first in the spec gets it."
    )

    def problems(self, read: EventsRead) -> Iterator[Problem]:
        touchpoints = read.spec.touchpoints
        pairs = [
            (first, second)
            for second in range(len(touchpoints))
            for first in range(second)
            if touchpoints[first].where
            and touchpoints[second].where
            and set(touchpoints[first].events) & set(touchpoints[second].events)
        ]
        if not pairs:
            return
        table = read.log.table
        rules = [rule_predicate(table, t.events, t.where) for t in touchpoints]
        both = {
            f"pair_{first}_{second}": count_where(rules[first] & rules[second])
            for first, second in pairs
        }
        counts = one_row(table.aggregate(**both))
        for first, second in pairs:
            events = counts[f"pair_{first}_{second}"]
            if not events:
                continue
            winner, loser = touchpoints[first].id, touchpoints[second].id
            message = (
                f"{_events(events)} the events and conditions of both touchpoint "
                f"'{winner}' and touchpoint '{loser}': an event goes to the first touchpoint "
                f"in the spec that matches it, so '{winner}' gets them"
            )
            related = (f"touchpoint '{winner}'", ("touchpoints", first, "id"))
            yield self.problem(("touchpoints", second, "id"), message, related)


DATA_CHECKS: tuple[type[DataCheck], ...] = (
    ConditionColumnsExist,
    EventsOccur,
    TouchpointsGetEvents,
    TouchpointsOverlap,
    PersonasMatch,
    PersonasOverlap,
    FeedbackEventsOccur,
)


def data_problems(read: EventsRead) -> list[Problem]:
    """What every check finds, in order; checks that need the mapping run only with it."""
    return [
        problem
        for check in DATA_CHECKS
        if read.mapped or not check.needs_mapping
        for problem in check().problems(read)
    ]


def _user_columns(columns: Sequence[str], roles: dict[str, str]) -> dict[str, str]:
    """The columns a condition may name, each with how the file calls it when it differs."""
    shown: dict[str, str] = {}
    for name in columns:
        if name in DERIVED:
            continue
        written = roles.get(name, name.removesuffix("_original"))
        shown[name] = name if written == name else f"{name} (the file's {written})"
    return shown


def _column_meant(column: str, columns: dict[str, str], roles: dict[str, str]) -> str:
    """What a misnamed condition column probably meant, or nothing."""
    for role, written in roles.items():
        if written == column and role != column:
            return f"; '{column}' is read as the {role.replace('_', ' ')}: write '{role}'"
    return meant(column, list(columns))


def _events(count: int) -> str:
    """``1 event meets`` or ``3 events meet``."""
    return "1 event meets" if count == 1 else f"{count:,} events meet"
