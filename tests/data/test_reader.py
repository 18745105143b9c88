from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.backends import BaseBackend

from journeys.data.options import ReadOptions
from journeys.data.reader import NUMBERING, number_events, read_events
from journeys.errors import DataError, OptionsError
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
    events = read_events(path, skip_invalid=True, connection=con)
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
        skip_invalid=True,
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


# The first lines of CDNOW_master.txt (Bruce Hardie's public release of the CDNOW data, as
# in cdnow_sample.csv): columns padded with spaces, a header line, Windows line ends.
CDNOW_HEADER = " customer_id  date number_of_cds  dollar_value"
CDNOW_LINES = [
    " 00001 19970101  1   11.77",
    " 00002 19970112  1   12.00",
    " 00002 19970112  5   77.00",
    " 00003 19970102  2   20.76",
    " 00003 19970330  2   20.76",
    " 00003 19970402  2   19.54",
    " 00003 19971115  5   57.45",
    " 00003 19971125  4   20.96",
    " 00003 19980528  1   16.99",
    " 00004 19970101  2   29.33",
    " 00004 19970118  2   29.73",
    " 00004 19970802  1   14.96",
    " 00004 19971212  2   26.48",
    " 00005 19970101  2   29.33",
    " 00005 19970114  1   13.97",
    " 00007 19980322  9  138.50",
    " 00008 19970101  1    9.77",
]


def _cdnow_by_hand() -> list[tuple[str, datetime, float, str]]:
    """The lines parsed in plain Python: customer, day, dollars, number of CDs."""
    rows = []
    for line in CDNOW_LINES:
        customer, day, cds, dollars = line.split()
        when = datetime(int(day[:4]), int(day[4:6]), int(day[6:]))
        rows.append((customer, when, float(dollars), cds))
    return sorted(rows)


@pytest.mark.parametrize("header", [True, False], ids=["header", "no-header"])
def test_whitespace_separated_text(tmp_path: Path, con: BaseBackend, header: bool) -> None:
    lines = ([CDNOW_HEADER] if header else []) + CDNOW_LINES
    path = tmp_path / "cdnow.txt"
    path.write_bytes("".join(line + "\r\n" for line in lines).encode())
    if header:
        columns = Columns(value="dollar_value")
        names = {"customer_id": "customer_id", "timestamp": "date", "value": "dollar_value"}
        cds = "number_of_cds"
    else:
        columns = Columns(customer_id="column0", timestamp="column1", value="column3")
        names = {"customer_id": "column0", "timestamp": "column1", "value": "column3"}
        cds = "column2"
    events = read_events(
        path, columns=columns, time_format="%Y%m%d", every_row_is="purchase", connection=con
    )
    assert events.report.columns == names
    assert events.report.rows_read == events.report.rows_used == len(CDNOW_LINES)
    found = sorted(
        (row["customer_id"], row["timestamp"], row["value"], row[cds])
        for row in events.table.to_pyarrow().to_pylist()
    )
    assert found == _cdnow_by_hand()
    assert set(events.table.event.to_pyarrow().to_pylist()) == {"purchase"}


def test_text_format_can_be_named(tmp_path: Path, duckdb_con: BaseBackend) -> None:
    """A file whose name says nothing is read as text when told so; tabs separate too."""
    path = tmp_path / "cdnow.log"
    path.write_text("\n".join(line.replace("  ", "\t") for line in CDNOW_LINES) + "\n")
    options = ReadOptions(
        format="text", columns=Columns(customer_id="column0", timestamp="column1", value="column3")
    )
    events = read_events(
        path,
        options,
        time_format="%Y%m%d",
        every_row_is="purchase",
        connection=duckdb_con,
    )
    found = sorted(
        (row["customer_id"], row["timestamp"], row["value"], row["column2"])
        for row in events.table.to_pyarrow().to_pylist()
    )
    assert found == _cdnow_by_hand()


def test_text_without_a_header_whose_first_row_has_no_plain_number(
    tmp_path: Path, con: BaseBackend
) -> None:
    """A first row of names and ISO times is a row of events, not a header."""
    path = write(
        tmp_path,
        "events.txt",
        "u1   2024-03-01T10:00:00  view\nu2\t2024-03-02T11:00:00\tbuy\n",
    )
    events = read_events(
        path,
        columns=Columns(customer_id="column0", timestamp="column1", event="column2"),
        connection=con,
    )
    rows = events.table.order_by("timestamp").to_pyarrow().to_pylist()
    assert [(r["customer_id"], r["timestamp"], r["event"]) for r in rows] == [
        ("u1", datetime(2024, 3, 1, 10), "view"),
        ("u2", datetime(2024, 3, 2, 11), "buy"),
    ]


def test_a_txt_file_with_commas_is_read_as_csv(tmp_path: Path, con: BaseBackend) -> None:
    path = write(
        tmp_path,
        "events.txt",
        "user_id,timestamp,event\na,2024-03-01 10:00:00,view\nb,2024-03-02 11:00:00,buy\n",
    )
    rows = read_events(path, connection=con).table.order_by("timestamp").to_pyarrow().to_pylist()
    assert [(row["customer_id"], row["event"]) for row in rows] == [("a", "view"), ("b", "buy")]


def _simple_shop_between(low: datetime | None, high: datetime | None) -> int:
    """Rows of simple_shop.csv from ``low`` to ``high`` (both included), counted in Python."""
    with SIMPLE_SHOP.open(newline="") as handle:
        stamps = [datetime.fromisoformat(row["timestamp"]) for row in csv.DictReader(handle)]
    return sum(
        1 for stamp in stamps if (low is None or stamp >= low) and (high is None or stamp <= high)
    )


@pytest.mark.parametrize(
    ("bounds", "low", "high"),
    [
        (
            {"since": "2020-01-01", "until": "2020-01-31"},
            datetime(2020, 1, 1),
            datetime(2020, 2, 1) - timedelta(microseconds=1),
        ),
        ({"since": date(2020, 3, 15)}, datetime(2020, 3, 15), None),
        ({"until": "2019-11-30"}, None, datetime(2019, 12, 1) - timedelta(microseconds=1)),
        (
            {"since": "2019-12-24 18:30:00", "until": "2020-01-06T12:00:00"},
            datetime(2019, 12, 24, 18, 30),
            datetime(2020, 1, 6, 12),
        ),
    ],
    ids=["month", "since-day", "until-day", "times"],
)
def test_since_and_until_leave_out_and_count_rows(
    con: BaseBackend,
    bounds: dict[str, Any],
    low: datetime | None,
    high: datetime | None,
) -> None:
    inside = _simple_shop_between(low, high)
    total = _simple_shop_between(None, None)
    assert 0 < inside < total
    events = read_events(SIMPLE_SHOP, connection=con, **bounds)
    report = events.report
    assert report.rows_read == total == 35381
    assert report.outside_dates == total - inside
    assert report.rows_used == inside
    assert events.table.count().execute() == inside
    span = events.table.aggregate(
        first=events.table.timestamp.min(), last=events.table.timestamp.max()
    ).to_pyarrow()
    assert low is None or span["first"][0].as_py() >= low
    assert high is None or span["last"][0].as_py() <= high
    assert any("outside the dates asked" in line for line in report.lines())


def test_until_a_day_is_read_in_the_time_zone(tmp_path: Path, con: BaseBackend) -> None:
    """'until 2024-03-01' in Berlin ends at 23:00 UTC; the 23:30 UTC event is already March 2."""
    path = write(
        tmp_path,
        "e.csv",
        "user_id,timestamp,event\n"
        "a,2024-03-01T22:30:00Z,x\n"
        "a,2024-03-01T23:30:00Z,y\n"
        "a,2024-02-29T22:59:00Z,z\n",
    )
    events = read_events(
        path, since="2024-03-01", until="2024-03-01", timezone="Europe/Berlin", connection=con
    )
    assert events.table.event.to_pyarrow().to_pylist() == ["x"]
    assert events.report.outside_dates == 2
    assert (events.report.since, events.report.until) == ("2024-03-01", "2024-03-01")


def test_dates_that_leave_nothing_are_an_error(con: BaseBackend) -> None:
    with pytest.raises(DataError, match="no events are left") as caught:
        read_events(SIMPLE_SHOP, since="2021-01-01", connection=con)
    assert caught.value.code == "empty"


def test_rows_all_set_aside_say_so(tmp_path: Path, con: BaseBackend) -> None:
    path = write(tmp_path, "e.csv", "user_id,timestamp,event\na,yesterday,x\n,2024-03-02,y\n")
    with pytest.raises(DataError, match="every row was set aside as unusable") as caught:
        read_events(path, skip_invalid=True, connection=con)
    assert "1 with no customer id, 1 with a timestamp that cannot be read" in str(caught.value)
    assert caught.value.code == "empty"


def test_since_after_until_is_refused() -> None:
    with pytest.raises(OptionsError, match="until"):
        read_events(SIMPLE_SHOP, since="2020-02-01", until="2020-01-01")


def test_a_semicolon_delimiter(tmp_path: Path, con: BaseBackend) -> None:
    """Semicolons between columns and commas inside them (decimal commas, notes)."""
    path = write(
        tmp_path,
        "e.csv",
        "user_id;timestamp;event;note\n"
        "a;2024-03-01 10:00:00;view;red, large\n"
        "a;2024-03-02 11:00:00;buy;blue, small\n"
        "b;2024-03-03 12:00:00;view;green\n",
    )
    events = read_events(path, delimiter=";", connection=con)
    assert events.report.columns == {
        "customer_id": "user_id",
        "timestamp": "timestamp",
        "event": "event",
    }
    rows = events.table.order_by("timestamp").to_pyarrow().to_pylist()
    assert [(r["customer_id"], r["timestamp"], r["event"], r["note"]) for r in rows] == [
        ("a", datetime(2024, 3, 1, 10), "view", "red, large"),
        ("a", datetime(2024, 3, 2, 11), "buy", "blue, small"),
        ("b", datetime(2024, 3, 3, 12), "view", "green"),
    ]


def test_a_tab_delimiter_in_options(tmp_path: Path, duckdb_con: BaseBackend) -> None:
    path = write(tmp_path, "e.tsv", "user_id\ttimestamp\tevent\na\t2024-03-01 10:00:00\tx y\n")
    (row,) = (
        read_events(path, ReadOptions(delimiter="\t"), connection=duckdb_con)
        .table.to_pyarrow()
        .to_pylist()
    )
    assert (row["customer_id"], row["event"]) == ("a", "x y")


def test_a_bad_time_zone_is_a_clear_options_error() -> None:
    with pytest.raises(OptionsError) as caught:
        read_events(SIMPLE_SHOP, timezone="Mars/Olympus_Mons")
    message = str(caught.value)
    assert "timezone" in message
    assert "'Mars/Olympus_Mons' is not a time zone" in message
    assert "Europe/Berlin" in message
    assert caught.value.code == "options"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"delimiter": ";;"}, "delimiter"),
        ({"format": "xlsx"}, "format"),
        ({"engine": "postgres"}, "engine"),
        ({"since": "last tuesday"}, "since"),
        ({"on_invalid": "skip"}, "on_invalid"),
    ],
)
def test_bad_reading_options_name_the_option(values: dict[str, Any], field: str) -> None:
    with pytest.raises(OptionsError, match=f"invalid reading options: {field}"):
        read_events(SIMPLE_SHOP, **values)


def plain_numbering(
    rows: list[dict[str, Any]],
) -> dict[tuple[str, datetime, str], tuple[int, str | None, str | None, int | None]]:
    """Each event's position, previous and next event and microseconds since the previous,
    by sorting each customer's events by time and then by name, written apart from the
    reader."""
    numbering = {}
    customers = sorted({row["customer_id"] for row in rows})
    for customer in customers:
        path = sorted(
            (row for row in rows if row["customer_id"] == customer),
            key=lambda row: (row["timestamp"], row["event"]),
        )
        for index, row in enumerate(path):
            previous = path[index - 1] if index else None
            following = path[index + 1] if index + 1 < len(path) else None
            gap = None
            if previous is not None:
                gap = (row["timestamp"] - previous["timestamp"]) // timedelta(microseconds=1)
            numbering[(customer, row["timestamp"], row["event"])] = (
                index + 1,
                None if previous is None else previous["event"],
                None if following is None else following["event"],
                gap,
            )
    return numbering


def stored_numbering(
    table: Any,
) -> dict[tuple[str, datetime, str], tuple[int, str | None, str | None, int | None]]:
    columns = ["customer_id", "timestamp", "event", *NUMBERING]
    rows = table.select(*columns).to_pyarrow().to_pylist()
    return {
        (row["customer_id"], row["timestamp"], row["event"]): (
            row["position"],
            row["previous_event"],
            row["next_event"],
            row["since_previous_us"],
        )
        for row in rows
    }


def test_each_customers_events_are_numbered_once_in_time_then_name_order(
    tmp_path: Path, con: BaseBackend
) -> None:
    path = write(
        tmp_path,
        "ties.csv",
        "customer_id,timestamp,event,channel\n"
        "ann,2024-01-01 10:00:00,view,web\n"
        "ann,2024-01-01 10:00:00,cart,web\n"  # a tie: cart before view
        "ann,2024-01-01 09:59:59.5,home,web\n"
        "ann,2024-01-03 08:00:00,pay,app\n"
        "bob,2024-01-02 00:00:00,view,web\n"
        "cyd,2024-01-05 00:00:00,view,web\n"
        "cyd,2024-01-05 00:00:00,home,app\n"
        "cyd,2024-01-04 23:00:00.000001,zoom,app\n"
        "dan,2023-12-30 00:00:00,home,web\n"  # left out by --since: ann's numbering unchanged
        "dan,2024-01-06 00:00:00,view,web\n",
    )
    events = read_events(path, connection=con, since="2024-01-01")
    rows = [
        {"customer_id": c, "timestamp": datetime.fromisoformat(t), "event": e}
        for c, t, e, _ in csv.reader(path.read_text().splitlines()[1:])
    ]
    kept = [row for row in rows if row["timestamp"] >= datetime(2024, 1, 1)]
    expected = plain_numbering(kept)
    assert stored_numbering(events.table) == expected
    assert expected[("ann", datetime(2024, 1, 1, 10), "cart")] == (2, "home", "view", 500_000)
    assert expected[("dan", datetime(2024, 1, 6), "view")] == (1, None, None, None)


def test_numbering_follows_removed_duplicates_and_keeps_a_source_column_of_that_name(
    tmp_path: Path, con: BaseBackend
) -> None:
    path = write(
        tmp_path,
        "duplicates.csv",
        "customer_id,timestamp,event,position\n"
        "ann,2024-01-01 10:00:00,view,top\n"
        "ann,2024-01-01 10:00:00,view,top\n"
        "ann,2024-01-01 11:00:00,cart,side\n",
    )
    kept = read_events(path, connection=con)
    positions = kept.table.order_by(["timestamp_us", "position"]).to_pyarrow()
    assert positions.column("position").to_pylist() == [1, 2, 3]
    assert positions.column("position_original").to_pylist() == ["top", "top", "side"]
    deduped = read_events(path, connection=con, dedupe=True).table.order_by("position")
    assert deduped.to_pyarrow().select(["event", "position", "previous_event"]).to_pylist() == [
        {"event": "view", "position": 1, "previous_event": None},
        {"event": "cart", "position": 2, "previous_event": "view"},
    ]


def test_numbering_customers_in_groups_gives_the_same_numbering(duckdb_con: BaseBackend) -> None:
    events = read_events(SIMPLE_SHOP, connection=duckdb_con)
    bare = events.table.drop(*NUMBERING)
    whole = stored_numbering(number_events(bare))
    assert stored_numbering(number_events(bare, groups=3)) == whole
    assert stored_numbering(events.table) == whole
    assert len(whole) == events.report.rows_used


def test_a_compressed_file_is_read_by_the_name_before_gz(tmp_path: Path) -> None:
    import gzip

    target = tmp_path / "events.csv.gz"
    target.write_bytes(gzip.compress(SIMPLE_SHOP.read_bytes()))
    compressed = read_events(target)
    plain = read_events(SIMPLE_SHOP)
    assert compressed.report.rows_used == plain.report.rows_used == 35381
    assert compressed.report.columns == plain.report.columns
