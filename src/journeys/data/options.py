"""How to read events: one model for every command, the spec's ``data`` section and Python.

The command line spells each field as an option (:data:`CLI_NAMES`); the spec's
``data`` section uses the field names; Python passes them to :func:`journeys.read_events`.
Options given on the command line win over the spec's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

Format = Literal["csv", "parquet", "json", "duckdb", "text"]
EngineName = Literal["duckdb", "spark"]
ROLES = ("customer_id", "timestamp", "event", "value", "channel", "satisfaction", "session")


class OptionsModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Columns(OptionsModel):
    """Which columns of the events hold what. Unset ones are detected where unambiguous."""

    customer_id: str | None = Field(default=None, description="The customer id column.")
    timestamp: str | None = Field(default=None, description="The timestamp column.")
    event: str | None = Field(default=None, description="The event name column.")
    value: str | None = Field(default=None, description="Revenue or amount of the event.")
    channel: str | None = Field(default=None, description="The channel of the event.")
    satisfaction: str | None = Field(default=None, description="A CSAT or NPS score.")
    session: str | None = Field(default=None, description="The session (visit) id column.")

    def over(self, base: Columns) -> Columns:
        """These columns where given, ``base``'s otherwise."""
        return Columns(**{role: getattr(self, role) or getattr(base, role) for role in ROLES})


class ReadOptions(OptionsModel):
    """How to read the events."""

    columns: Columns = Field(default_factory=Columns)
    table: str | None = Field(default=None, description="The table, for a database source.")
    format: Format | None = Field(
        default=None,
        description="csv, parquet, json, duckdb, or text (columns separated by spaces); "
        "default: from the file's name.",
    )
    delimiter: str | None = Field(
        default=None,
        min_length=1,
        max_length=1,
        description="The character between a CSV file's columns (default: detected).",
    )
    timezone: str = Field(
        default="UTC",
        description="The time zone of timestamps written without an offset (default: UTC).",
    )
    time_format: str | None = Field(
        default=None,
        description="How timestamps are written, as a strptime format such as %Y%m%d or "
        "'%d/%m/%Y %H:%M' (default: ISO 8601 or numbers since 1970).",
    )
    skip_invalid: bool = Field(
        default=False,
        description="Set aside (and count) rows without a customer, an event or a readable "
        "timestamp, instead of stopping at them.",
    )
    dedupe: bool = Field(default=False, description="Remove exact duplicate rows (always counted).")
    engine: EngineName = Field(default="duckdb", description="duckdb (default) or spark.")
    since: dt.date | dt.datetime | None = Field(
        default=None, description="Leave out events before this day or time (counted)."
    )
    until: dt.date | dt.datetime | None = Field(
        default=None,
        description="Leave out events after this day (inclusive of the whole day) or time "
        "(counted).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value.upper() == "UTC":
            return "UTC"
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"'{value}' is not a time zone; write one such as UTC, Europe/Berlin or "
                "America/New_York"
            ) from None
        return value

    @field_validator("until")
    @classmethod
    def _range_in_order(
        cls, value: dt.date | dt.datetime | None, info: ValidationInfo
    ) -> dt.date | dt.datetime | None:
        since = info.data.get("since")
        zone = info.data.get("timezone", "UTC")
        if value is not None and since is not None:
            start, end = (
                ReadOptions(since=since, timezone=zone).bounds()[0],
                ReadOptions(until=value, timezone=zone).bounds()[1],
            )
            if start is not None and end is not None and start > end:
                raise ValueError(f"{value} is before the start of the range ({since})")
        return value

    def over(self, base: ReadOptions) -> ReadOptions:
        """These options where given explicitly, ``base``'s otherwise."""
        values: dict[str, Any] = {name: getattr(base, name) for name in base.model_fields_set}
        values |= {name: getattr(self, name) for name in self.model_fields_set}
        values["columns"] = self.columns.over(base.columns)
        return ReadOptions(**values)

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The date range as UTC instants: the first included, the last included."""
        zone = ZoneInfo(self.timezone) if self.timezone != "UTC" else dt.UTC
        return _instant(self.since, zone, end=False), _instant(self.until, zone, end=True)


def _instant(value: dt.date | dt.datetime | None, zone: Any, *, end: bool) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        day = value + dt.timedelta(days=1) if end else value
        value = dt.datetime.combine(day, dt.time())
        if end:
            value -= dt.timedelta(microseconds=1)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC).replace(tzinfo=None)


# How each reading option is spelt on the command line.
CLI_NAMES: dict[str, str] = {
    "customer_id": "--customer-col",
    "timestamp": "--time-col",
    "event": "--event-col",
    "value": "--value-col",
    "channel": "--channel-col",
    "satisfaction": "--satisfaction-col",
    "session": "--session-col",
    "table": "--table",
    "format": "--input-format",
    "delimiter": "--delimiter",
    "timezone": "--timezone",
    "time_format": "--time-format",
    "skip_invalid": "--skip-invalid",
    "dedupe": "--dedupe",
    "engine": "--engine",
    "since": "--since",
    "until": "--until",
}


def option_for(field: str) -> str:
    """How a reading option (or a column role) is given: ``--time-col`` or ``data.columns``."""
    return CLI_NAMES[field]
