"""Read a column of timestamps as UTC instants, whatever the way they are written.

ISO 8601 text (with or without a UTC offset), a strptime format, numbers since 1970
(seconds, milliseconds or microseconds), and typed timestamps and dates all become a
timestamp in UTC without a zone. Each reader also gives the text of every timestamp, for
messages, and whether it carried an offset (a column mixing both is refused).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from journeys.data.functions import duckdb_timezone, duckdb_try_strptime, spark_to_utc_timestamp
from journeys.data.options import option_for
from journeys.errors import DataError

OFFSET_PATTERN = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def parse_timestamp(
    column: ibis.Value, timezone: str, engine: str, column_name: str, name: str
) -> tuple[ibis.Value, ibis.Value, ibis.Value]:
    """The text of each timestamp (for messages), its UTC value, and whether it had an offset."""
    kind = column.type()
    no_offset = ibis.literal(False)
    if kind.is_timestamp():
        if kind.timezone is not None:
            return column.cast("string"), column.cast(dt.Timestamp()), no_offset
        return column.cast("string"), to_utc(column, timezone, engine), no_offset
    if kind.is_date():
        return column.cast("string"), column.cast(dt.Timestamp()), no_offset
    if kind.is_integer() or kind.is_floating():
        _refuse_day_numbers(column, column_name, name)
        return column.cast("string"), _from_epoch(column), no_offset
    if kind.is_string():
        text = column.strip()
        has_offset = text.re_search(OFFSET_PATTERN)
        with_offset = text.try_cast(dt.Timestamp(timezone="UTC")).cast(dt.Timestamp())
        naive = to_utc(text.try_cast(dt.Timestamp()), timezone, engine)
        return text, has_offset.ifelse(with_offset, naive), has_offset
    raise DataError(
        f"{name}: the timestamp column '{column_name}' holds {kind}, not dates and times",
        hint=f"name the right column with {option_for('timestamp')}",
        code="column-type",
    )


def parse_formatted(
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
    return text, to_utc(parsed, timezone, engine), ibis.literal(False)


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


def to_utc(column: ibis.Value, timezone: str, engine: str) -> ibis.Value:
    """Read naive times as local times in ``timezone`` and express them in UTC."""
    if timezone.upper() == "UTC":
        return column
    if engine == "pyspark":
        return spark_to_utc_timestamp(column, timezone)
    return duckdb_timezone(timezone, column).cast(dt.Timestamp())
