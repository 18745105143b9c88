"""Turn the conditions of a spec into Ibis predicates over an event or customer table."""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from journeys.spec.models import Condition


def condition_predicate(table: ibis.Table, condition: Condition) -> ibis.Value:
    """Whether each row meets ``condition``."""
    column = table[condition.column]
    if condition.equals is not None:
        return column == _literal_like(column, condition.equals)
    if condition.in_ is not None:
        return column.isin([_literal_like(column, value) for value in condition.in_])
    assert condition.regex is not None
    return column.cast("string").re_search(condition.regex)


def all_conditions(table: ibis.Table, conditions: Sequence[Condition]) -> ibis.Value:
    """Whether each row meets every condition (true when there are none)."""
    predicate = ibis.literal(True)
    for condition in conditions:
        predicate &= condition_predicate(table, condition)
    return predicate.fill_null(False)


def rule_predicate(
    table: ibis.Table, events: Sequence[str], conditions: Sequence[Condition]
) -> ibis.Value:
    """Whether each event has one of the ``events`` names and meets the conditions."""
    return table.event.isin(list(events)) & all_conditions(table, conditions)


def _literal_like(column: ibis.Value, value: object) -> object:
    """Compare text columns with text, so that ``equals: 5`` matches a '5'."""
    if column.type().is_string() and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value
