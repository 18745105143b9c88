"""Parameter types shared by the analyses, the CLI and the spec."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(value: Any) -> Any:
    """Read ``30d``, ``12h``, ``90m``, ``45s`` or ``2w`` (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(
                f"'{value}' is not a duration; write a number and a unit: 45s, 90m, 12h, 30d or 2w"
            )
        return timedelta(seconds=float(match.group(1)) * UNITS[match.group(2)])
    return value


def format_duration(value: timedelta) -> str:
    """The shortest exact form of a duration, as :func:`parse_duration` reads it."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % UNITS[unit] == 0:
            return f"{int(seconds // UNITS[unit])}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


def microseconds(value: timedelta) -> int:
    """A duration in whole microseconds (the unit of ``timestamp_us``)."""
    return value // timedelta(microseconds=1)


#: How a duration appears in a JSON Schema (the spec's and the results').
DURATION_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[smhdw]\s*$"},
            {"type": "number", "exclusiveMinimum": 0},
        ],
        "description": "A duration: 45s, 90m, 12h, 7d or 2w (or a number of seconds).",
    }
)


def longer_than_zero(field: str, meaning: str) -> BeforeValidator:
    """A validator reading a duration that must be longer than zero; its error names
    ``field`` as the spec writes it and says what it is (``"a service level"``).

    A minus sign is refused before parsing: ``-2h`` is a level below zero, not a misspelling.
    """

    def check(value: Any) -> Any:
        shown: str | None = None
        if isinstance(value, str) and value.strip().startswith("-"):
            shown = value.strip()
        else:
            value = parse_duration(value)
            if isinstance(value, timedelta) and value.total_seconds() <= 0:
                shown = format_duration(value)
        if shown is not None:
            raise ValueError(
                f"'{field}' is {shown}: {meaning} must be longer than zero "
                "(write it like 1h, 2d or 7d)"
            )
        return value

    return BeforeValidator(check)
