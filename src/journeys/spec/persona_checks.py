"""The checks of a spec's personas against the customers of its events.

A customer gets the first persona in the spec whose conditions hold (read from the
customers table, or from the customer's first event); these checks say when a persona
gets nobody, and why, and how many customers match two personas.
"""

from __future__ import annotations

from collections.abc import Iterator

import ibis

from journeys.analyses import runner
from journeys.data.mapping import UNASSIGNED
from journeys.spec.base import Problem
from journeys.spec.data_base import DataCheck, EventsRead, count_where, meant, one_row
from journeys.spec.models import Condition
from journeys.spec.rules import all_conditions, condition_predicate

#: Values of a text column read to suggest what a persona's condition meant.
VALUES_FOR_SUGGESTIONS = 10_000


class PersonasMatch(DataCheck):
    """Every persona has customers; when one has none, the condition that excludes them."""

    code = "empty-persona"
    rule = "Every persona is the persona of at least one customer."

    def problems(self, read: EventsRead) -> Iterator[Problem]:
        if not read.spec.personas:
            return
        table = read.log.table
        found = runner.current().arrow(
            table.group_by("persona").aggregate(customers=table.customer_id.nunique())
        )
        sizes = dict(
            zip(found.column("persona").to_pylist(), found.column("customers").to_pylist())
        )
        for index, persona in enumerate(read.spec.personas):
            if not sizes.get(persona.id):
                yield self._why_empty(read, index)

    def _why_empty(self, read: EventsRead, index: int) -> Problem:
        persona = read.spec.personas[index]
        attributes = read.attributes
        counts = one_row(
            attributes.aggregate(
                all=count_where(all_conditions(attributes, persona.where)),
                **{
                    f"condition_{position}": count_where(
                        condition_predicate(attributes, condition).fill_null(False)
                    )
                    for position, condition in enumerate(persona.where)
                },
            )
        )
        start = f"persona '{persona.id}' matches no customer"
        for position, condition in enumerate(persona.where):
            if not counts[f"condition_{position}"]:
                message = (
                    f"{start}: no customer has {describe_condition(condition)}"
                    f"{_value_meant(attributes, condition)}"
                )
                location = ("personas", index, "where", position, _test_key(condition))
                return self.problem(location, message)
        if not counts["all"]:
            message = (
                f"{start}: no customer meets all its conditions "
                f"({'; '.join(describe_condition(c) for c in persona.where)})"
            )
            return self.problem(("personas", index, "where"), message)
        message = (
            f"{start}: every customer who meets its conditions ({counts['all']:,}) matches an "
            "earlier persona (a customer gets the first persona in the spec that matches)"
        )
        return self.problem(("personas", index, "id"), message)


class PersonasOverlap(DataCheck):
    """Customers who match two personas get the first."""

    code = "overlapping-personas"
    rule = (
        "A customer matches the conditions of at most one persona; one who matches two "
        "gets the first in the spec."
    )

    def problems(self, read: EventsRead) -> Iterator[Problem]:
        personas = read.spec.personas
        if len(personas) < 2:
            return
        attributes = read.attributes
        matches = [all_conditions(attributes, persona.where) for persona in personas]
        pairs = [(a, b) for b in range(len(personas)) for a in range(b)]
        counts = one_row(
            attributes.aggregate(
                **{f"pair_{a}_{b}": count_where(matches[a] & matches[b]) for a, b in pairs}
            )
        )
        for first, second in pairs:
            customers = counts[f"pair_{first}_{second}"]
            if not customers:
                continue
            winner, loser = personas[first].id, personas[second].id
            message = (
                f"{_customers(customers)} both persona '{winner}' and persona "
                f"'{loser}': a customer gets the first persona in the spec that matches, so "
                f"they are '{winner}'"
            )
            related = (f"persona '{winner}'", ("personas", first, "id"))
            yield self.problem(("personas", second, "id"), message, related)


def unassigned_customers(read: EventsRead) -> int:
    """How many customers match no persona (0 when the spec has none)."""
    if not read.spec.personas or not read.mapped:
        return 0
    table = read.log.table
    unassigned = table.filter(table.persona == UNASSIGNED).customer_id.nunique()
    return int(runner.current().scalar(unassigned) or 0)


def describe_condition(condition: Condition) -> str:
    """A condition as a person reads it: ``segment = 'smb'``."""
    if condition.equals is not None:
        return f"{condition.column} = {condition.equals!r}"
    if condition.in_ is not None:
        return f"{condition.column} in {condition.in_!r}"
    return f"{condition.column} matches {condition.regex!r}"


def _test_key(condition: Condition) -> str:
    """The key of the spec that holds a condition's test."""
    if condition.equals is not None:
        return "equals"
    return "in" if condition.in_ is not None else "regex"


def _value_meant(attributes: ibis.Table, condition: Condition) -> str:
    """For a text column, the values of the data closest to the condition's."""
    column = attributes[condition.column]
    if not column.type().is_string() or condition.regex is not None:
        return ""
    values = runner.current().arrow(
        attributes.select(value=column).distinct().limit(VALUES_FOR_SUGGESTIONS)
    )
    known = sorted(str(value) for value in values.column("value").to_pylist() if value is not None)
    wanted = [condition.equals] if condition.equals is not None else list(condition.in_ or [])
    return next((hint for value in wanted if (hint := meant(str(value), known))), "")


def _customers(count: int) -> str:
    """``1 customer matches`` or ``3 customers match``."""
    return "1 customer matches" if count == 1 else f"{count:,} customers match"
