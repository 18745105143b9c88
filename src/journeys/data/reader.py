"""Read events into the canonical shape every analysis expects, checking them on the way.

The canonical event table has ``customer_id`` (string), ``timestamp`` (UTC, without
a zone), ``timestamp_us`` (the same instant as microseconds since 1970: an exact order
key for windows on every engine), ``event`` (string), the optional ``value``,
``channel``, ``satisfaction`` and ``session_id`` (string: the session, or visit, each
event belongs to), and every other column of the source under its own name (a source
column named like one of these that is not used for it is kept as ``<name>_original``).
Rows that cannot be used are an error, or, when asked, set aside and counted; exact
duplicates are counted and only removed when asked.

Each customer's events are numbered once, when the table is built (:data:`NUMBERING`):
``position`` (1 for the customer's first event), ``previous_event``, ``next_event`` and
``since_previous_us`` (microseconds since the customer's previous event). The path
analyses read these instead of each sorting every event again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
from ibis.backends import BaseBackend
from pydantic import ValidationError

from journeys.data.columns import ColumnMapping, resolve_columns
from journeys.data.engine import connect
from journeys.data.functions import (
    duckdb_timezone,
    duckdb_try_strptime,
    epoch_microseconds,
    spark_to_utc_timestamp,
)
from journeys.data.options import ReadOptions, option_for
from journeys.data.sources import Source, describe, is_csv, open_table
from journeys.errors import DataError, OptionsError

if TYPE_CHECKING:
    from journeys.spec.models import Spec

OFFSET_PATTERN = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
#: The columns that number each customer's events (see :func:`number_events`).
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
#: On DuckDB, customers are numbered in groups of about this many events: one window over
#: every event of a very large log needs more memory than DuckDB can spill to disk.
EVENTS_PER_NUMBERING = 16_000_000
REASONS = {
    "null_customer_id": "no customer id",
    "null_event": "no event name",
    "null_timestamp": "no timestamp",
    "bad_timestamp": "a timestamp that cannot be read",
}


@dataclass(frozen=True)
class LoadReport:
    """What happened while reading: rows read and used, rows set aside and why, duplicates."""

    source: str
    columns: dict[str, str]
    rows_read: int
    rows_used: int
    set_aside: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    duplicates_removed: bool = False
    outside_dates: int = 0
    since: str | None = None
    until: str | None = None

    def lines(self) -> list[str]:
        """The report as sentences for a person."""
        found = ", ".join(f"{role} <- {column}" for role, column in self.columns.items())
        lines = [
            f"{self.rows_read:,} rows read from {self.source} ({found}); {self.rows_used:,} used"
        ]
        for reason, count in self.set_aside.items():
            if count:
                lines.append(f"{count:,} rows set aside: {REASONS.get(reason, reason)}")
        if self.since or self.until:
            span = f"from {self.since or 'the start'} to {self.until or 'the end'}"
            lines.append(f"{self.outside_dates:,} rows left out: outside the dates asked ({span})")
        if self.duplicates and self.duplicates_removed:
            lines.append(f"{self.duplicates:,} exact duplicate rows removed")
        elif self.duplicates:
            lines.append(
                f"{self.duplicates:,} rows are exact duplicates of another row and were kept "
                "(use --dedupe to remove them)"
            )
        return lines


@dataclass(frozen=True)
class EventLog:
    """Events in canonical form, ready for every analysis, and how they were read.

    With a journey spec applied (:func:`journeys.apply_spec`), each event also has its
    ``touchpoint``, ``stage``, ``owner`` and ``touchpoint_channel`` (null when unmapped)
    and each customer a ``persona``; ``spec`` is then the spec.

    The :data:`NUMBERING` columns number each customer's events in ``table``: a table
    that keeps some of a customer's events and not others must be numbered again
    (:func:`number_events`) before it is given to the path analyses.
    """

    table: ibis.Table
    report: LoadReport
    spec: Spec | None = None
    unmapped_events: int = 0

    @cached_property
    def event_names(self) -> frozenset[str]:
        """Every event name in the log (asked of the engine once per log)."""
        names = self.table.select("event").distinct().to_pyarrow().column("event").to_pylist()
        return frozenset(str(name) for name in names)

    @property
    def has_value(self) -> bool:
        """Whether the events carry a value (revenue) column."""
        return "value" in self.table.columns

    def require_spec(self, what: str) -> Spec:
        """The spec; an error saying that ``what`` needs one when there is none."""
        if self.spec is None:
            raise OptionsError(
                f"{what} needs a journey spec",
                hint="pass --spec SPEC (or a spec whose data section names these events)",
                code="needs-spec",
            )
        return self.spec

    @property
    def has_satisfaction(self) -> bool:
        """Whether the events carry a satisfaction score column."""
        return "satisfaction" in self.table.columns


def read_events(
    source: Source,
    options: ReadOptions | None = None,
    *,
    connection: BaseBackend | None = None,
    every_row_is: str | None = None,
    **values: Any,
) -> EventLog:
    """Read, check and put into canonical form the events in ``source``.

    Parameters
    ----------
    source
        A file (CSV, Parquet, JSON/NDJSON, DuckDB, whitespace-separated text), a database
        URL with ``table``, an Ibis table, a pyarrow table or a pandas DataFrame.
    options
        How to read them (:class:`journeys.ReadOptions`); its fields may also be given as
        keywords (``time_format="%Y%m%d"``, ``skip_invalid=True``, ``since="2024-01-01"``).
        Unset columns are detected where unambiguous; all times become UTC; rows that
        cannot be used stop the reading or, with ``skip_invalid``, are set aside and
        counted; exact duplicates are counted and removed with ``dedupe``; events outside
        ``since``/``until`` are left out and counted.
    connection
        An open Ibis connection to use instead of connecting to ``options.engine``.
    every_row_is
        The event name of every row when the source has no event column (a transaction
        log in which every row is a purchase, say).

    Examples
    --------
    >>> events = read_events("tests/data/simple_shop.csv")  # doctest: +SKIP
    >>> events.report.rows_used  # doctest: +SKIP
    35381
    """
    options = reading_options(options, values)
    con = connection if connection is not None else connect(options.engine)
    name = describe(source)
    raw = open_table(
        con, source, table=options.table, format=options.format, delimiter=options.delimiter
    )
    mapping = resolve_columns(
        list(raw.columns), options.columns, name, event_required=every_row_is is None
    )
    if is_csv(source, options.format):
        raw = open_table(
            con,
            source,
            format=options.format,
            delimiter=options.delimiter,
            text_columns=_text_columns(mapping),
        )
    shaped = _canonical(
        raw,
        mapping,
        options.timezone,
        name,
        raw.get_backend().name,
        options.time_format,
        every_row_is,
    )
    since, until = options.bounds()
    counts = _count_problems(shaped, since, until)
    rows_read = counts.pop("rows")
    outside = counts.pop("outside_dates")
    if rows_read == 0:
        raise DataError(f"{name} has no rows", hint="give a file with events in it", code="empty")
    if counts["mixed_offsets"]:
        _raise_mixed_offsets(shaped, mapping, name)
    counts.pop("mixed_offsets")
    invalid = {reason: count for reason, count in counts.items() if count}
    if invalid and not options.skip_invalid:
        _raise_invalid(shaped, mapping, name, invalid)
    usable = shaped.filter(_usable(shaped)) if invalid else shaped
    if since is not None or until is not None:
        usable = usable.filter(_inside(usable, since, until))
    usable = usable.drop("__timestamp_text", "__offset")
    distinct_rows = usable.distinct()
    rows_kept = rows_read - sum(invalid.values()) - outside
    if rows_kept == 0:
        _raise_nothing_left(name, options, invalid, outside)
    duplicates = rows_kept - int(distinct_rows.count().execute())
    if options.dedupe and duplicates:
        usable = distinct_rows
    report = LoadReport(
        source=name,
        columns=mapping.as_dict(),
        rows_read=rows_read,
        rows_used=rows_kept - (duplicates if options.dedupe else 0),
        set_aside=invalid,
        duplicates=duplicates,
        duplicates_removed=options.dedupe and duplicates > 0,
        outside_dates=outside,
        since=None if options.since is None else str(options.since),
        until=None if options.until is None else str(options.until),
    )
    groups = 1
    if raw.get_backend().name == "duckdb":
        groups = max(1, -(-report.rows_used // EVENTS_PER_NUMBERING))
    if groups == 1:
        return EventLog(table=number_events(usable).cache(), report=report)
    # Each group's window reads the source: read and check it once, not once per group.
    source = usable.cache()
    numbered = number_events(source, groups=groups).cache()
    source.release()
    return EventLog(table=numbered, report=report)


def _text_columns(mapping: ColumnMapping) -> tuple[str, ...]:
    """The columns of a CSV file that journeys reads as text and checks itself."""
    given = (mapping.timestamp, mapping.session)
    return tuple(column for column in given if column is not None)


def number_events(table: ibis.Table, *, groups: int = 1) -> ibis.Table:
    """Add the :data:`NUMBERING` columns: each customer's events numbered in time order.

    Events at the same time are ordered by their name, as every path analysis orders
    them; two events with the same name at the same time are interchangeable there.
    With ``groups`` above 1, customers are split into that many groups (by a hash of
    their id) and each group is numbered by its own window, so that no window holds
    every event at once; the numbering is the same.

    Examples
    --------
    >>> import pyarrow as pa
    >>> rows = {"customer_id": ["a", "a", "a"], "timestamp_us": [5, 1, 5],
    ...         "event": ["pay", "home", "cart"]}
    >>> numbered = number_events(ibis.memtable(pa.table(rows))).order_by("position")
    >>> numbered.to_pyarrow().column("event").to_pylist()
    ['home', 'cart', 'pay']
    """
    if groups > 1:
        group = table.customer_id.hash() % groups
        parts = [table.filter(group == k) for k in range(groups - 1)]
        parts.append(table.filter(~group.isin(list(range(groups - 1)))))
        return ibis.union(*(number_events(part) for part in parts))
    order = ibis.window(group_by="customer_id", order_by=["timestamp_us", "event"])
    return table.mutate(
        position=ibis.row_number().over(order) + 1,
        previous_event=table.event.lag().over(order),
        next_event=table.event.lead().over(order),
        since_previous_us=table.timestamp_us - table.timestamp_us.lag().over(order),
    )


def numbered_table(events: EventLog) -> ibis.Table:
    """The events with their :data:`NUMBERING` columns (numbered now if a caller built the
    log without :func:`read_events`)."""
    table = events.table
    return table if all(name in table.columns for name in NUMBERING) else number_events(table)


def reading_options(options: ReadOptions | None, values: dict[str, Any]) -> ReadOptions:
    """Reading options from a model and/or keywords; mistakes become clear errors."""
    try:
        given = ReadOptions.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in error.errors(include_url=False)
        )
        raise OptionsError(f"invalid reading options: {problems}", code="options") from None
    return given if options is None else given.over(options)


def read_customers(
    source: Source,
    *,
    customer_id: str = "customer_id",
    table: str | None = None,
    connection: BaseBackend,
) -> ibis.Table:
    """Read a table of customer-level columns, keyed by ``customer_id`` (as text)."""
    raw = open_table(connection, source, table=table)
    if customer_id not in raw.columns:
        raise DataError(
            f"{describe(source)}: the customer id column '{customer_id}' does not exist; "
            f"the columns are: {', '.join(raw.columns)}",
            hint="set `customer_id:` under `data.customers` in the spec",
            code="missing-column",
        )
    others = [name for name in raw.columns if name != customer_id]
    return raw.select(raw[customer_id].cast("string").name("customer_id"), *others)


def _canonical(
    raw: ibis.Table,
    mapping: ColumnMapping,
    timezone: str,
    name: str,
    engine: str,
    time_format: str | None,
    every_row_is: str | None,
) -> ibis.Table:
    timestamp_column = raw[mapping.timestamp]
    if time_format is not None:
        text, parsed, offset = _parse_formatted(timestamp_column, time_format, timezone, engine)
    else:
        text, parsed, offset = _parse_timestamp(
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
    if mapping.value is not None:
        canonical["value"] = _number(raw, mapping.value, name, "value")
    if mapping.channel is not None:
        canonical["channel"] = raw[mapping.channel].cast("string")
    if mapping.satisfaction is not None:
        canonical["satisfaction"] = _number(raw, mapping.satisfaction, name, "satisfaction")
    if mapping.session is not None:
        canonical["session_id"] = raw[mapping.session].cast("string")
    used = set(roles.values())
    reserved = {*CANONICAL, *NUMBERING}
    extras = {
        (f"{column}_original" if column in reserved else column): raw[column]
        for column in raw.columns
        if column not in used
    }
    return raw.select(**canonical, **extras, __timestamp_text=text, __offset=offset)


def _number(raw: ibis.Table, column: str, name: str, role: str) -> ibis.Value:
    value = raw[column]
    if value.type().is_numeric():
        return value.cast("float64")
    if value.type().is_string():
        return value.try_cast("float64")
    raise DataError(
        f"{name}: column '{column}' holds {value.type()}, not numbers",
        hint=f"name a numeric column with {option_for(role)}",
        code="column-type",
    )


def _parse_timestamp(
    column: ibis.Value, timezone: str, engine: str, column_name: str, name: str
) -> tuple[ibis.Value, ibis.Value, ibis.Value]:
    """The text of each timestamp (for messages), its UTC value, and whether it had an offset."""
    kind = column.type()
    no_offset = ibis.literal(False)
    if kind.is_timestamp():
        if kind.timezone is not None:
            return column.cast("string"), column.cast(dt.Timestamp()), no_offset
        return column.cast("string"), _to_utc(column, timezone, engine), no_offset
    if kind.is_date():
        return column.cast("string"), column.cast(dt.Timestamp()), no_offset
    if kind.is_integer() or kind.is_floating():
        _refuse_day_numbers(column, column_name, name)
        return column.cast("string"), _from_epoch(column), no_offset
    if kind.is_string():
        text = column.strip()
        has_offset = text.re_search(OFFSET_PATTERN)
        with_offset = text.try_cast(dt.Timestamp(timezone="UTC")).cast(dt.Timestamp())
        naive = _to_utc(text.try_cast(dt.Timestamp()), timezone, engine)
        return text, has_offset.ifelse(with_offset, naive), has_offset
    raise DataError(
        f"{name}: the timestamp column '{column_name}' holds {kind}, not dates and times",
        hint=f"name the right column with {option_for('timestamp')}",
        code="column-type",
    )


def _parse_formatted(
    column: ibis.Value, time_format: str, timezone: str, engine: str
) -> tuple[ibis.Value, ibis.Value, ibis.Value]:
    """Timestamps in a given strptime format, read as local times in ``timezone``.

    On DuckDB a timestamp that does not match is null, so it is counted with the other
    unreadable ones (an error naming the rows, or set aside with ``--skip-invalid``).
    """
    text = column.cast("string").strip()
    if engine == "pyspark":
        parsed = text.as_timestamp(time_format).cast(dt.Timestamp())
    else:
        parsed = duckdb_try_strptime(text, time_format).cast(dt.Timestamp())
    return text, _to_utc(parsed, timezone, engine), ibis.literal(False)


def _refuse_day_numbers(column: ibis.Value, column_name: str, name: str) -> None:
    """Stop at numbers such as 19970101: they are dates, not seconds in August 1970."""
    alone = column.name("__t").as_table()
    bounds = alone.aggregate(low=alone.__t.min(), high=alone.__t.max()).to_pyarrow()
    low, high = bounds["low"][0].as_py(), bounds["high"][0].as_py()
    if low is not None and low >= 19_000_101 and high <= 21_001_231:
        raise DataError(
            f"{name}: the timestamp column '{column_name}' holds numbers such as {int(low)}, "
            "which look like dates written as yyyymmdd, not seconds since 1970",
            hint="say how to read them with --time-format %Y%m%d",
            code="timestamp-format",
        )


def _from_epoch(column: ibis.Value) -> ibis.Value:
    """Seconds, milliseconds or microseconds since 1970, told apart by magnitude (to the ms)."""
    magnitude = column.abs()
    seconds = (
        (magnitude < 1e11)
        .ifelse(column, (magnitude < 1e14).ifelse(column / 1e3, column / 1e6))
        .cast("float64")
    )
    whole = seconds.floor().cast("int64")
    milliseconds = ((seconds - whole) * 1000).round().cast("int64")
    return whole.as_timestamp("s") + milliseconds.as_interval("ms")


def _to_utc(column: ibis.Value, timezone: str, engine: str) -> ibis.Value:
    """Read naive times as local times in ``timezone`` and express them in UTC."""
    if timezone.upper() == "UTC":
        return column
    if engine == "pyspark":
        return spark_to_utc_timestamp(column, timezone)
    return duckdb_timezone(timezone, column).cast(dt.Timestamp())


def _inside(table: ibis.Table, since: Any, until: Any) -> ibis.Value:
    inside = ibis.literal(True)
    if since is not None:
        inside &= table.timestamp >= ibis.literal(since, type=dt.Timestamp())
    if until is not None:
        inside &= table.timestamp <= ibis.literal(until, type=dt.Timestamp())
    return inside


def _count_problems(shaped: ibis.Table, since: Any, until: Any) -> dict[str, int]:
    has_text = shaped.__timestamp_text.notnull()
    counts = shaped.aggregate(
        outside_dates=(_usable(shaped) & ~_inside(shaped, since, until)).sum(),
        rows=shaped.count(),
        null_customer_id=shaped.customer_id.isnull().sum(),
        null_event=shaped.event.isnull().sum(),
        null_timestamp=(~has_text).sum(),
        bad_timestamp=(has_text & shaped.timestamp.isnull()).sum(),
        with_offset=(has_text & shaped.__offset).sum(),
        without_offset=(has_text & ~shaped.__offset).sum(),
    ).to_pyarrow()
    row = {name: int(counts[name][0].as_py() or 0) for name in counts.column_names}
    row["mixed_offsets"] = int(row.pop("with_offset") > 0 and row.pop("without_offset") > 0)
    row.pop("without_offset", None)
    return row


def _usable(shaped: ibis.Table) -> ibis.Value:
    return shaped.customer_id.notnull() & shaped.event.notnull() & shaped.timestamp.notnull()


def _numbered(shaped: ibis.Table) -> ibis.Table:
    return shaped.mutate(__row=ibis.row_number() + 1)


def _raise_nothing_left(
    name: str, options: ReadOptions, invalid: dict[str, int], outside: int
) -> None:
    """No row is left: all set aside as unusable, or all outside the dates asked."""
    if not outside:
        summary = ", ".join(
            f"{count:,} with {REASONS[reason]}" for reason, count in invalid.items()
        )
        raise DataError(
            f"{name}: every row was set aside as unusable ({summary})",
            hint="check the columns used and how timestamps are written "
            f"({option_for('time_format')})",
            code="empty",
        )
    span = f"from {options.since or 'the start'} to {options.until or 'the end'}"
    raise DataError(
        f"{name}: no events are left {span}"
        + (
            f" ({sum(invalid.values()):,} other rows were set aside as unusable)" if invalid else ""
        ),
        hint=f"check the dates given with {option_for('since')} and {option_for('until')}",
        code="empty",
    )


def _raise_mixed_offsets(shaped: ibis.Table, mapping: ColumnMapping, name: str) -> None:
    numbered = _numbered(shaped)
    examples = []
    for flag in (True, False):
        sample = (
            numbered.filter(numbered.__offset == flag)
            .order_by("__row")
            .select("__row", "__timestamp_text")
            .limit(1)
            .to_pyarrow()
            .to_pylist()
        )
        examples.extend(sample)
    shown = " and ".join(f"row {e['__row']}: '{e['__timestamp_text']}'" for e in examples)
    raise DataError(
        f"{name}: column '{mapping.timestamp}' mixes timestamps with a UTC offset and "
        f"timestamps without one ({shown}), so their order cannot be trusted",
        hint="write every timestamp with an offset (or none), and give the time zone of "
        "timestamps without one with --timezone",
        code="mixed-timezones",
    )


def _raise_invalid(
    shaped: ibis.Table, mapping: ColumnMapping, name: str, invalid: dict[str, int]
) -> None:
    numbered = _numbered(shaped)
    bad = numbered.filter(~_usable(numbered)).order_by("__row").limit(3)
    examples = bad.select("__row", "customer_id", "event", "__timestamp_text").to_pyarrow()
    shown = "; ".join(
        f"row {row['__row']}: {_describe_row(row, mapping)}" for row in examples.to_pylist()
    )
    summary = ", ".join(f"{count:,} with {REASONS[reason]}" for reason, count in invalid.items())
    hint = "fix those rows, or pass --skip-invalid to set them aside (they are counted)"
    if "bad_timestamp" in invalid:
        hint = (
            "write timestamps as ISO 8601 (2024-03-01 14:05:00, optionally with +02:00), "
            "say how they are written with --time-format (such as %Y%m%d or %d/%m/%Y %H:%M), "
            "or pass --skip-invalid to set those rows aside (they are counted)"
        )
    raise DataError(
        f"{name}: rows that cannot be used: {summary}. First ones: {shown}",
        hint=hint,
        code="invalid-rows",
    )


def _describe_row(row: dict[str, Any], mapping: ColumnMapping) -> str:
    problems = []
    if row["customer_id"] is None:
        problems.append(f"'{mapping.customer_id}' is empty")
    if row["event"] is None:
        problems.append(f"'{mapping.event}' is empty")
    if row["__timestamp_text"] is None:
        problems.append(f"'{mapping.timestamp}' is empty")
    elif not problems:
        problems.append(f"'{mapping.timestamp}' is '{row['__timestamp_text']}'")
    return ", ".join(problems)
