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
