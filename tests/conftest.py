"""Fixtures shared by every test: the engines, and events declared per customer.

Every analysis test takes the ``con`` fixture and so runs on DuckDB and on Spark
(local mode), in the manner of Ibis' own backend fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from journeys.data.engine import connect
from journeys.data.reader import EventLog, read_events

DATA = Path(__file__).parent / "data"
SIMPLE_SHOP = DATA / "simple_shop.csv"

Event = tuple[str, str] | tuple[str, str, Mapping[str, Any]]


@pytest.fixture(scope="session")
def duckdb_con() -> BaseBackend:
    return connect("duckdb")


@pytest.fixture(scope="session")
def spark_con() -> Iterator[BaseBackend]:
    con = connect("spark", spark_master="local[1]")
    yield con
    con._session.stop()


@pytest.fixture(scope="session", params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def con(request: pytest.FixtureRequest) -> BaseBackend:
    """A connection to each engine in turn."""
    name = "duckdb_con" if request.param == "duckdb" else "spark_con"
    backend: BaseBackend = request.getfixturevalue(name)
    return backend


def event_table(journeys: Mapping[str, Sequence[Event]]) -> pa.Table:
    """Rows from events declared per customer: ``{customer: [(event, time, extra?), ...]}``."""
    rows: list[dict[str, Any]] = []
    for customer, events in journeys.items():
        for item in events:
            name, time = item[0], item[1]
            extra = dict(item[2]) if len(item) > 2 else {}  # type: ignore[misc]
            rows.append(
                {"customer_id": customer, "event": name, "timestamp": datetime.fromisoformat(time)}
                | extra
            )
    columns = sorted({key for row in rows for key in row})
    return pa.Table.from_pylist([{key: row.get(key) for key in columns} for row in rows])


@pytest.fixture
def journeys_for(con: BaseBackend) -> Callable[..., EventLog]:
    """Read events declared per customer on the engine under test."""

    def make(journeys: Mapping[str, Sequence[Event]], **options: Any) -> EventLog:
        return read_events(event_table(journeys), connection=con, **options)

    return make


@pytest.fixture(scope="session")
def simple_shop_rows() -> list[dict[str, Any]]:
    """The simple_shop clickstream as plain Python rows, for independent computations."""
    import csv

    with SIMPLE_SHOP.open(newline="") as handle:
        return [
            {
                "customer_id": row["user_id"],
                "event": row["event"],
                "timestamp": datetime.fromisoformat(row["timestamp"]),
            }
            for row in csv.DictReader(handle)
        ]
