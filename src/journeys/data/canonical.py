"""Shape a source's columns into the canonical event table (see :mod:`journeys.data.reader`).

Each role's column gets its canonical name and type: ids, events, channels and sessions
as text, timestamps as UTC instants, values and satisfaction scores as numbers. The
source's other columns keep their names.
"""

from __future__ import annotations

from typing import Any

import ibis

from journeys.data.checks import NUMBER_ROLES, read_number, text_column
from journeys.data.columns import ColumnMapping
from journeys.data.functions import epoch_microseconds
from journeys.data.options import option_for
from journeys.data.timestamps import parse_formatted, parse_timestamp
from journeys.errors import DataError

#: The columns that number each customer's events (see
#: :func:`journeys.data.reader.number_events`).
NUMBERING = ("position", "previous_event", "next_event", "since_previous_us")
#: The columns of the canonical event table that come from the source's columns.
CANONICAL = (
    "customer_id",
    "timestamp",
    "timestamp_us",
    "event",
    "value",
    "channel",
    "satisfaction",
    "session_id",
)


def text_columns(mapping: ColumnMapping) -> tuple[str, ...]:
    """The columns of a CSV file that journeys reads as text and checks itself."""
    given = (mapping.timestamp, mapping.value, mapping.satisfaction, mapping.session)
    return tuple(column for column in given if column is not None)


def shape(
    raw: ibis.Table,
    mapping: ColumnMapping,
    timezone: str,
    name: str,
    engine: str,
    time_format: str | None,
    every_row_is: str | None,
) -> ibis.Table:
    """The source's columns in canonical form, with the columns the checks read.

    Besides the canonical columns and the source's others, the table has
    ``__timestamp_text`` and ``__offset`` (each timestamp's text and whether it had an
    offset) and ``__<role>_text`` for each number column read from text.
    """
    timestamp_column = raw[mapping.timestamp]
    if time_format is not None:
        text, parsed, offset = parse_formatted(timestamp_column, time_format, timezone, engine)
    else:
        text, parsed, offset = parse_timestamp(
            timestamp_column, timezone, engine, mapping.timestamp, name
        )
    roles = mapping.as_dict()
    event = (
        raw[mapping.event].cast("string")
        if mapping.event is not None
        else ibis.literal(str(every_row_is), type="string")
    )
    canonical: dict[str, Any] = {
        "customer_id": raw[mapping.customer_id].cast("string"),
        "timestamp": parsed,
        "timestamp_us": epoch_microseconds(parsed, engine),
        "event": event,
    }
    checks: dict[str, ibis.Value] = {}
    for role in NUMBER_ROLES:
        column = getattr(mapping, role)
        if column is not None:
            canonical[role], written = _number(raw, column, name, role)
            if written is not None:
                checks[text_column(role)] = written
    if mapping.channel is not None:
        canonical["channel"] = raw[mapping.channel].cast("string")
    if mapping.session is not None:
        canonical["session_id"] = raw[mapping.session].cast("string")
    used = set(roles.values())
    reserved = {*CANONICAL, *NUMBERING}
    extras = {
        (f"{column}_original" if column in reserved else column): raw[column]
        for column in raw.columns
        if column not in used
    }
    return raw.select(**canonical, **extras, __timestamp_text=text, __offset=offset, **checks)


def _number(
    raw: ibis.Table, column: str, name: str, role: str
) -> tuple[ibis.Value, ibis.Value | None]:
    """A number column as numbers, and (when read from text) the text, to check."""
    value = raw[column]
    if value.type().is_numeric():
        return value.cast("float64"), None
    if value.type().is_string():
        return read_number(value)
    raise DataError(
        f"{name}: column '{column}' holds {value.type()}, not numbers",
        hint=f"name a numeric column with {option_for(role)}",
        code="column-type",
    )
