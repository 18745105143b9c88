"""What the path analyses share: the label of each event and its place in the customer's path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import ibis

from journeys.data.reader import EventLog
from journeys.errors import OptionsError

Level = Literal["event", "touchpoint", "stage"]


def order_keys(table: ibis.Table) -> list[str]:
    """Each customer's events in time order, equal times broken by the event name.

    At the event level the label is the event name, so ``node`` breaks the ties.
    """
    return ["timestamp_us", "event" if "event" in table.columns else "node"]


def labelled(
    events: EventLog,
    level: Level,
    *,
    collapse_repeats: bool = False,
    extra: Mapping[str, ibis.Value] | None = None,
) -> ibis.Table:
    """Events as ``customer_id``, ``timestamp_us``, ``node`` (the label at ``level``) and,
    above the event level, ``event`` (which orders events at the same time).

    ``extra`` adds columns computed on the events (such as whether an event is an anchor).

    At the touchpoint or stage level, events without one are left out of the path
    (they are the spec's unmapped events, counted by :func:`journeys.data.mapping.apply_spec`).
    With ``collapse_repeats``, an event with the same label as the customer's
    previous one is dropped (``a a b`` becomes ``a b``).
    """
    table = events.table
    if level != "event" and events.spec is None:
        raise OptionsError(
            f"paths by {level} need a journey spec",
            hint="pass --spec SPEC, or use the event level",
            code="needs-spec",
        )
    # Window operators carry every column they are given: at the event level the label is
    # the event name itself, so it is not carried twice.
    keys = {} if level == "event" else {"event": table.event}
    labelled_table = table.select(
        "customer_id",
        "timestamp_us",
        **keys,
        node=table[level].cast("string"),
        **(extra or {}),
    )
    if level != "event":
        labelled_table = labelled_table.filter(labelled_table.node.notnull())
    if collapse_repeats:
        order = ibis.window(group_by="customer_id", order_by=order_keys(labelled_table))
        # The window goes into a column first: Spark cannot filter on a window directly.
        with_previous = labelled_table.mutate(previous=labelled_table.node.lag().over(order))
        labelled_table = with_previous.filter(
            with_previous.previous.isnull() | (with_previous.previous != with_previous.node)
        ).drop("previous")
    return labelled_table


def numbered(table: ibis.Table) -> ibis.Table:
    """Add ``position``: 1 for each customer's first event, 2 for the next, ..."""
    order = ibis.window(group_by="customer_id", order_by=order_keys(table))
    return table.mutate(position=ibis.row_number().over(order) + 1)
