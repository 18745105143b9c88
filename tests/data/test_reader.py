from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.backends import BaseBackend

from journeys.data import read_events
from journeys.errors import DataError
from journeys.spec import Columns
from tests.conftest import SIMPLE_SHOP


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_simple_shop_reads_whole(
    con: BaseBackend, simple_shop_rows: list[dict[str, object]]
) -> None:
    events = read_events(SIMPLE_SHOP, connection=con)
    assert events.report.rows_read == len(simple_shop_rows) == 35381
    assert events.report.columns == {
        "customer_id": "user_id",
        "timestamp": "timestamp",
        "event": "event",
    }
    first = (
        events.table.filter(events.table.customer_id == "219483890")
        .order_by("timestamp")
        .limit(1)
        .to_pyarrow()
        .to_pylist()[0]
    )
    assert first["event"] == "catalog"
    assert first["timestamp"] == datetime(2019, 11, 1, 17, 59, 13, 273932)


def test_columns_are_detected_and_values_read(tmp_path: Path, con: BaseBackend) -> None:
    path = write(
        tmp_path,
        "events.csv",
        "client_id,event_time,action,revenue,plan\n"
        "7,2024-03-01 10:00:00,visit,,free\n"
        "7,2024-03-02 11:30:00,buy,19.5,free\n",
    )
    events = read_events(path, connection=con)
    rows = events.table.order_by("timestamp").to_pyarrow().to_pylist()
    assert [row["customer_id"] for row in rows] == ["7", "7"]
    assert [row["value"] for row in rows] == [None, 19.5]
    assert [row["plan"] for row in rows] == ["free", "free"]


def test_timestamps_with_offsets_become_utc(tmp_path: Path, con: BaseBackend) -> None:
    path = write(
        tmp_path,
        "events.csv",
        "user_id,timestamp,event\na,2024-03-01T10:00:00+02:00,x\nb,2024-03-01 10:00:00Z,y\n",
    )
    rows = read_events(path, connection=con).table.order_by("timestamp").to_pyarrow().to_pylist()
    assert [row["timestamp"] for row in rows] == [
        datetime(2024, 3, 1, 8, 0),
        datetime(2024, 3, 1, 10, 0),
    ]


def test_naive_timestamps_are_read_in_the_given_zone(tmp_path: Path, con: BaseBackend) -> None:
    path = write(tmp_path, "e.csv", "user_id,timestamp,event\na,2024-07-01 10:00:00,x\n")
    (row,) = (
        read_events(path, timezone="Europe/Berlin", connection=con).table.to_pyarrow().to_pylist()
    )
    assert row["timestamp"] == datetime(2024, 7, 1, 8, 0)


def test_mixed_offsets_are_an_error(tmp_path: Path, con: BaseBackend) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "user_id,timestamp,event\na,2024-03-01 10:00:00+02:00,x\nb,2024-03-01 10:00:00,y\n",
    )
    with pytest.raises(
        DataError, match=r"mixes timestamps with a UTC offset.*row 1.*row 2"
    ) as caught:
        read_events(path, connection=con)
    assert caught.value.code == "mixed-timezones"


def test_unreadable_timestamps_are_an_error_with_their_row(
    tmp_path: Path, con: BaseBackend
) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "user_id,timestamp,event\na,2024-03-01 10:00:00,x\na,yesterday,y\n,2024-03-02,z\n",
    )
    with pytest.raises(DataError) as caught:
        read_events(path, connection=con)
    message = str(caught.value)
    assert "1 with no customer id, 1 with a timestamp that cannot be read" in message
    assert "row 2: 'timestamp' is 'yesterday'" in message
    assert "row 3: 'user_id' is empty" in message
    assert "--skip-invalid" in message


def test_skipping_invalid_rows_counts_them(tmp_path: Path, con: BaseBackend) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "user_id,timestamp,event\na,2024-03-01 10:00:00,x\na,yesterday,y\n,2024-03-02,z\n",
    )
    events = read_events(path, on_invalid="skip", connection=con)
    assert events.report.rows_read == 3
    assert events.report.rows_used == 1
    assert events.report.set_aside == {"null_customer_id": 1, "bad_timestamp": 1}
    assert events.table.count().execute() == 1


def test_duplicates_are_counted_and_removed_only_when_asked(
    journeys_for: Callable[..., object],
) -> None:
    journey = {"a": [("x", "2024-01-01 10:00"), ("x", "2024-01-01 10:00"), ("y", "2024-01-02")]}
    kept = journeys_for(journey)
    assert kept.report.duplicates == 1  # type: ignore[attr-defined]
    assert kept.table.count().execute() == 3  # type: ignore[attr-defined]
    removed = journeys_for(journey, dedupe=True)
    assert removed.report.rows_used == 2  # type: ignore[attr-defined]
    assert removed.table.count().execute() == 2  # type: ignore[attr-defined]


def test_a_missing_column_names_the_option(tmp_path: Path, con: BaseBackend) -> None:
    path = write(tmp_path, "e.csv", "who,timestamp,event\na,2024-03-01,x\n")
    with pytest.raises(
        DataError, match=r"no column for the customer id.*who, timestamp, event"
    ) as caught:
        read_events(path, connection=con)
    assert caught.value.hint is not None
    assert "--customer-col" in caught.value.hint
    events = read_events(path, columns=Columns(customer_id="who"), connection=con)
    assert events.report.columns["customer_id"] == "who"


def test_a_named_column_that_does_not_exist(tmp_path: Path, con: BaseBackend) -> None:
    path = write(tmp_path, "e.csv", "user_id,timestamp,event\na,2024-03-01,x\n")
    with pytest.raises(DataError, match="the event column 'name' does not exist"):
        read_events(path, columns=Columns(event="name"), connection=con)


def test_ambiguous_columns_ask_which(tmp_path: Path, con: BaseBackend) -> None:
    path = write(tmp_path, "e.csv", "user_id,client_id,timestamp,event\na,b,2024-03-01,x\n")
    with pytest.raises(DataError, match="more than one column could be the customer id"):
        read_events(path, connection=con)


def test_empty_inputs(tmp_path: Path, con: BaseBackend) -> None:
    with pytest.raises(DataError, match="is empty"):
        read_events(write(tmp_path, "e.csv", ""), connection=con)
    with pytest.raises(DataError, match="has no rows"):
        read_events(write(tmp_path, "h.csv", "user_id,timestamp,event\n"), connection=con)


def test_a_missing_file(tmp_path: Path, con: BaseBackend) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_events(tmp_path / "nope.csv", connection=con)


def test_parquet_and_json(tmp_path: Path, con: BaseBackend) -> None:
    table = pa.table(
        {
            "user_id": [1, 2],
            "ts": [datetime(2024, 1, 1, 9), datetime(2024, 1, 2, 9)],
            "event": ["a", "b"],
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    assert read_events(tmp_path / "e.parquet", connection=con).report.rows_used == 2
    write(
        tmp_path,
        "e.ndjson",
        '{"user_id": 1, "ts": "2024-01-01 09:00:00", "event": "a"}\n'
        '{"user_id": 2, "ts": "2024-01-02 09:00:00", "event": "b"}\n',
    )
    events = read_events(tmp_path / "e.ndjson", connection=con)
    assert sorted(events.table.customer_id.to_pyarrow().to_pylist()) == ["1", "2"]


def test_epoch_seconds_and_milliseconds(con: BaseBackend) -> None:
    for scale in (1, 1000):
        table = pa.table({"user_id": ["a"], "ts": [1_700_000_000 * scale], "event": ["x"]})
        (row,) = read_events(table, connection=con).table.to_pyarrow().to_pylist()
        assert row["timestamp"] == datetime(2023, 11, 14, 22, 13, 20)


def test_a_duckdb_file_and_a_database_url(tmp_path: Path) -> None:
    import duckdb

    # One process opens a DuckDB file one way only, so the file and the URL are two files.
    file_path, url_path = tmp_path / "shop.duckdb", tmp_path / "served.duckdb"
    for path in (file_path, url_path):
        with duckdb.connect(str(path)) as db:
            db.execute(
                "create table clicks as select * from (values "
                "('a', timestamp '2024-01-01 10:00', 'view'), ('b', timestamp '2024-01-02 10:00', 'buy')"
                ") as t(user_id, ts, event)"
            )
    assert read_events(file_path).report.rows_used == 2
    with pytest.raises(DataError, match="has no table 'nope'"):
        read_events(file_path, table="nope")
    from_url = read_events(f"duckdb://{url_path}", table="clicks")
    assert from_url.report.rows_used == 2
    with pytest.raises(DataError, match="which table holds the events"):
        read_events(f"duckdb://{url_path}")


def test_a_time_format_reads_dates_and_counts_those_that_do_not_match(
    tmp_path: Path, duckdb_con: BaseBackend
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer,date,amount\na,19970101,10\nb,19970231,5\nc,1997-01-03,7\nd,19970104,1\n"
    )
    with pytest.raises(DataError, match="2 with a timestamp that cannot be read") as caught:
        read_events(path, connection=duckdb_con, time_format="%Y%m%d", every_row_is="purchase")
    assert "row 2: 'date' is '19970231'" in caught.value.message
    log = read_events(
        path,
        connection=duckdb_con,
        time_format="%Y%m%d",
        every_row_is="purchase",
        on_invalid="skip",
    )
    assert log.report.set_aside == {"bad_timestamp": 2}
    rows = log.table.order_by("customer_id").to_pyarrow().to_pylist()
    assert [(r["customer_id"], r["timestamp"], r["event"]) for r in rows] == [
        ("a", datetime(1997, 1, 1), "purchase"),
        ("d", datetime(1997, 1, 4), "purchase"),
    ]


def test_dates_written_as_numbers_are_refused_without_a_format(duckdb_con: BaseBackend) -> None:
    table = pa.table({"customer_id": ["a"], "date": [19970101], "amount": [1.0]})
    with pytest.raises(DataError, match="look like dates written as yyyymmdd") as caught:
        read_events(table, connection=duckdb_con, every_row_is="purchase")
    assert caught.value.hint == "say how to read them with --time-format %Y%m%d"
