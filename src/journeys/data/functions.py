"""Engine functions that Ibis does not wrap, declared as Ibis builtins.

Kept apart (and without postponed annotations) because Ibis reads the type
annotations of these declarations at import time.
"""

import ibis
import ibis.expr.datatypes as dt

UTC_TIMESTAMP = dt.Timestamp(timezone="UTC")


@ibis.udf.scalar.builtin(name="to_utc_timestamp")  # type: ignore[untyped-decorator]
def spark_to_utc_timestamp(ts: dt.timestamp, tz: dt.string) -> dt.timestamp:
    """Spark: read ``ts`` as a local time in ``tz`` and give it in UTC."""


@ibis.udf.scalar.builtin(name="timezone")  # type: ignore[untyped-decorator]
def duckdb_timezone(tz: dt.string, ts: dt.timestamp) -> UTC_TIMESTAMP:  # type: ignore[valid-type]
    """DuckDB: read ``ts`` as a local time in ``tz`` and give the instant."""


@ibis.udf.scalar.builtin(name="epoch_us")  # type: ignore[untyped-decorator]
def duckdb_epoch_us(ts: dt.timestamp) -> dt.int64:
    """DuckDB: microseconds since 1970-01-01 UTC."""


@ibis.udf.scalar.builtin(name="unix_micros")  # type: ignore[untyped-decorator]
def spark_unix_micros(ts: dt.timestamp) -> dt.int64:
    """Spark: microseconds since 1970-01-01 UTC."""


@ibis.udf.scalar.builtin(name="timestamp")  # type: ignore[untyped-decorator]
def spark_timestamp(ts: dt.timestamp) -> dt.timestamp:
    """Spark: the same instant as a TIMESTAMP (Parquet files may hold TIMESTAMP_NTZ)."""


@ibis.udf.scalar.builtin(name="try_strptime")  # type: ignore[untyped-decorator]
def duckdb_try_strptime(text: dt.string, format: dt.string) -> dt.timestamp:
    """DuckDB: ``text`` read with a strptime ``format``, null where it does not match."""


def epoch_microseconds(ts: ibis.Value, engine: str) -> ibis.Value:
    """Microseconds since 1970 as an integer: an exact order key that range windows accept."""
    if engine == "pyspark":
        return spark_unix_micros(spark_timestamp(ts))
    return duckdb_epoch_us(ts)
