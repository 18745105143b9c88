"""What an analysis counts: customers, or their sessions (visits).

- **Session.** With a session column in the events (``--session-col``, or a column named
  like ``session_id``), a session is a customer's events with the same session id.
  Without one, or for events whose session id is empty, a customer's session ends after
  ``inactivity`` (30 minutes by default) without an event: an event more than that after
  the customer's previous one starts a new session, as web analytics tools cut visits.
- **At the session level** an analysis runs unchanged on an event log in which each
  session stands where a customer stood: its ``customer_id`` is the customer's id and
  the session's (``customer|session``), its events are numbered again from 1, and every
  other column (persona, channel, ...) is kept. Funnels, paths, the step matrix and
  trends then count sessions: a funnel's conversion is the share of sessions that
  convert within the session.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Literal

import ibis
from pydantic import Field, field_validator

from journeys.analyses.base import Params
from journeys.data.reader import EventLog, number_events, numbered_table
from journeys.params import Duration, microseconds

Unit = Literal["customer", "session"]
SESSION_COLUMN = "session_id"
#: Separates the customer's id from the session's in a session's key.
KEY_SEPARATOR = "|"


class UnitParams(Params):
    """Parameters of an analysis that can count customers or sessions."""

    unit: Unit = Field(
        default="customer",
        description="Count customers, or sessions (the session column's, or cut by inactivity).",
    )
    inactivity: Duration = Field(
        default=timedelta(minutes=30),
        description="With --unit session and no session column: the gap without events that "
        "ends a session.",
    )

    @field_validator("inactivity")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("the inactivity that ends a session must be longer than zero")
        return value


def in_units(events: EventLog, params: UnitParams) -> EventLog:
    """``events`` as the analysis should count them: unchanged for customers, by session
    otherwise (see the module's definition)."""
    if params.unit == "customer":
        return events
    return replace(events, table=sessions(events, params.inactivity))


def sessions(events: EventLog, inactivity: timedelta) -> ibis.Table:
    """The events with each session as the unit: ``customer_id`` is ``customer|session``,
    ``unit_customer`` the customer's id, ``unit_session`` the session's (``id-`` and the
    session column's value, or ``gap-`` and the session's number), numbered again."""
    table = numbered_table(events)
    gap = microseconds(inactivity)
    starts = (table.since_previous_us.isnull() | (table.since_previous_us > gap)).cast("int64")
    order = ibis.window(group_by="customer_id", order_by=["timestamp_us", "event"], rows=(None, 0))
    cut = ("gap-" + starts.sum().over(order).cast("string")).name("cut")
    if SESSION_COLUMN in table.columns:
        given = table[SESSION_COLUMN].cast("string")
        session = given.isnull().ifelse(cut, "id-" + given)
    else:
        session = cut
    keyed = table.mutate(
        unit_customer=table.customer_id,
        unit_session=session,
        customer_id=table.customer_id + KEY_SEPARATOR + session,
    )
    return number_events(keyed)
