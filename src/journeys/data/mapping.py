"""Apply a journey spec to events: touchpoint and stage per event, persona per customer."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import replace

import ibis

from journeys.data.reader import NUMBERING, EventLog
from journeys.errors import DataError
from journeys.spec.models import Condition, Spec
from journeys.spec.rules import all_conditions, rule_predicate

UNASSIGNED = "unassigned"


def apply_spec(events: EventLog, spec: Spec, customers: ibis.Table | None = None) -> EventLog:
    """Map every event to its touchpoint (the first whose rule matches) and its stage.

    Events that match no touchpoint keep null there and are counted as unmapped.
    Customers get the first persona whose conditions hold, read from ``customers``
    when given, otherwise from the customer's first event; the rest are 'unassigned'.

    Examples
    --------
    >>> mapped = apply_spec(read_events("events.csv"), load_spec("journey.yaml"))  # doctest: +SKIP
    >>> mapped.unmapped_events  # doctest: +SKIP
    0
    """
    table = events.table
    _check_columns(
        table.columns,
        ((f"touchpoint '{touchpoint.id}'", touchpoint.where) for touchpoint in spec.touchpoints),
        events.report.source,
    )
    _check_columns(
        table.columns,
        ((f"milestone '{milestone.id}'", milestone.where) for milestone in spec.milestones),
        events.report.source,
    )
    mapped = table.mutate(**_touchpoint_columns(table, spec))
    if spec.personas:
        mapped = _with_personas(mapped, spec, customers, events.report.source)
    mapped = mapped.cache()
    unmapped = 0
    if spec.touchpoints:
        unmapped = int(mapped.touchpoint.isnull().sum().execute() or 0)
    return replace(events, table=mapped, spec=spec, unmapped_events=unmapped)


def _touchpoint_columns(table: ibis.Table, spec: Spec) -> dict[str, ibis.Value]:
    null = ibis.null("string")
    if not spec.touchpoints:
        return {
            "touchpoint": null,
            "stage": null,
            "owner": null,
            "touchpoint_channel": null,
        }
    branches = [
        (rule_predicate(table, touchpoint.events, touchpoint.where), touchpoint.id)
        for touchpoint in spec.touchpoints
    ]
    touchpoint = ibis.cases(*branches, else_=null)

    def lookup(attribute: str) -> ibis.Value:
        pairs = [
            (touchpoint == item.id, getattr(item, attribute))
            for item in spec.touchpoints
            if getattr(item, attribute) is not None
        ]
        return ibis.cases(*pairs, else_=null) if pairs else null

    return {
        "touchpoint": touchpoint,
        "stage": lookup("stage"),
        "owner": lookup("owner"),
        "touchpoint_channel": lookup("channel"),
    }


def _with_personas(
    events: ibis.Table, spec: Spec, customers: ibis.Table | None, source: str
) -> ibis.Table:
    needed = sorted({c.column for persona in spec.personas for c in persona.where})
    if customers is not None:
        _check_columns(
            customers.columns,
            ((f"persona '{p.id}'", p.where) for p in spec.personas),
            "the customers table",
        )
        attributes = customers.select("customer_id", *needed).distinct(on="customer_id")
    else:
        _check_columns(
            events.columns, ((f"persona '{p.id}'", p.where) for p in spec.personas), source
        )
        attributes = events.group_by("customer_id").aggregate(
            **{name: events[name].argmin(events.timestamp_us) for name in needed}
        )
    branches = [(all_conditions(attributes, p.where), p.id) for p in spec.personas]
    personas = attributes.select(
        "customer_id", persona=ibis.cases(*branches, else_=ibis.literal(UNASSIGNED))
    )
    joined = events.left_join(personas, "customer_id").drop("customer_id_right")
    return joined.mutate(persona=joined.persona.fill_null(UNASSIGNED))


# Columns journeys adds to the events; a message listing the user's columns leaves them out.
DERIVED = frozenset(
    {"timestamp_us", *NUMBERING, "touchpoint", "stage", "owner", "touchpoint_channel", "persona"}
)


def _check_columns(
    available: Iterable[str],
    rules: Iterable[tuple[str, list[Condition]]],
    source: str,
) -> None:
    columns = list(available)
    shown = [column for column in columns if column not in DERIVED]
    for owner, conditions in rules:
        for condition in conditions:
            if condition.column not in columns:
                close = difflib.get_close_matches(condition.column, shown, n=1)
                meant = f"did you mean '{close[0]}'? " if close else ""
                raise DataError(
                    f"{owner} of the spec has a condition on column '{condition.column}', "
                    f"which {source} does not have; its columns are: {', '.join(shown)}",
                    hint=f"{meant}correct the column name in the spec, or add the column "
                    "to the data",
                    code="missing-column",
                )
