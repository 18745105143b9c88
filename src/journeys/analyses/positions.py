"""Each customer's path as numbered positions, for the step matrix, paths and transitions.

Reading the events numbers each customer's events once (:data:`journeys.data.reader.NUMBERING`).
At the event level, without merging repeats, that numbering *is* the path, so these
analyses filter and group it instead of sorting every event again. By touchpoint or
stage (events without one leave the path) or with repeats merged, the path is a subset
of the events and is numbered again here, in the same order (time, then event name).
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis

from journeys.analyses.sequences import Level, labelled, numbered, order_keys
from journeys.data.reader import EventLog, numbered_table


def uses_stored_numbering(level: Level, collapse_repeats: bool) -> bool:
    """Whether the path is every event of the customer, as numbered when read."""
    return level == "event" and not collapse_repeats


def positioned(
    events: EventLog,
    level: Level,
    *,
    collapse_repeats: bool = False,
    extra: Mapping[str, ibis.Value] | None = None,
) -> ibis.Table:
    """Events as ``customer_id``, ``node`` (the label at ``level``), ``position`` (1 for
    each customer's first) and the ``extra`` columns computed on the events.

    Examples
    --------
    >>> early = positioned(events, "event")  # doctest: +SKIP
    >>> early.filter(early.position <= 3)  # doctest: +SKIP
    """
    if uses_stored_numbering(level, collapse_repeats):
        table = numbered_table(events)
        return table.select(
            "customer_id", node=table.event, position=table.position, **(extra or {})
        )
    path = numbered(labelled(events, level, collapse_repeats=collapse_repeats, extra=extra))
    return path.select("customer_id", "node", "position", *(extra or {}))


def consecutive(events: EventLog, level: Level, *, collapse_repeats: bool = False) -> ibis.Table:
    """Each pair of consecutive labels of a customer: ``customer_id``, ``source``, ``to``
    and ``gap_us`` (microseconds from ``source`` to ``to``)."""
    if uses_stored_numbering(level, collapse_repeats):
        table = numbered_table(events)
        pairs = table.filter(table.previous_event.notnull())
        return pairs.select(
            "customer_id",
            source=pairs.previous_event,
            to=pairs.event,
            gap_us=pairs.since_previous_us,
        )
    table = labelled(events, level, collapse_repeats=collapse_repeats)
    order = ibis.window(group_by="customer_id", order_by=order_keys(table))
    pairs = table.mutate(
        to=table.node.lead().over(order),
        gap_us=table.timestamp_us.lead().over(order) - table.timestamp_us,
    )
    pairs = pairs.filter(pairs.to.notnull())
    return pairs.select("customer_id", source=pairs.node, to=pairs.to, gap_us=pairs.gap_us)
