"""What an analyst meets in the first hour of reading events: sessions, values that are not
numbers, folders of mixed files, quiet Spark, and a report in plain words.

Each user mistake is checked through the command line (a clear message, exit code 2, no
traceback); each number against a count made here, in plain Python, from the rows written.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.backends import BaseBackend

from journeys.cli import main
from journeys.data.reader import read_events
from journeys.errors import DataError

HEADER = "user_id,timestamp,event"
ROWS = [
    ("a", "2024-03-01 10:00:00", "visit"),
    ("a", "2024-03-01 10:05:00", "cart"),
    ("b", "2024-03-02 09:00:00", "visit"),
    ("b", "2024-03-03 09:00:00", "buy"),
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def plain_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# 1. The session column


def with_sessions(tmp_path: Path, session_column: str = "user_session") -> Path:
    rows = [
        [*row, session, visit]
        for row, session, visit in zip(
            ROWS, ["007", "007", "", "s2"], ["v1", "v1", "v2", "v3"], strict=True
        )
    ]
    return write_csv(tmp_path / "events.csv", [*HEADER.split(","), session_column, "visit"], rows)


def test_a_user_session_column_becomes_session_id(tmp_path: Path, con: BaseBackend) -> None:
    path = with_sessions(tmp_path)
    events = read_events(path, connection=con)
    assert events.report.columns["session"] == "user_session"
    table = events.table.order_by("timestamp").to_pyarrow()
    expected = [row["user_session"] or None for row in plain_rows(path)]
    assert table.column("session_id").to_pylist() == expected == ["007", "007", None, "s2"]
    assert str(events.table.schema()["session_id"]) == "string"
    assert "session <- user_session" in events.report.lines()[0]


def test_session_col_names_another_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = with_sessions(tmp_path)
    events = read_events(path, columns={"session": "visit"})
    table = events.table.order_by("timestamp").to_pyarrow()
    assert table.column("session_id").to_pylist() == [row["visit"] for row in plain_rows(path)]
    # The column detected otherwise stays, under its own name.
    assert table.column("user_session").to_pylist() == ["007", "007", None, "s2"]
    code, out, err = run(capsys, "kpis", str(path), "--session-col", "visit", "--format", "json")
    assert code == 0, err
    assert "session <- visit" in err
    assert json.loads(out)["events"] == len(ROWS)


def test_a_session_column_that_does_not_exist_names_the_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = with_sessions(tmp_path)
    code, _, err = run(capsys, "kpis", str(path), "--session-col", "sesion")
    assert code == 2
    assert "the session column 'sesion' does not exist" in err
    assert "user_id, timestamp, event, user_session, visit" in err
    assert "--session-col" in err
    assert "Traceback" not in err


def test_two_session_candidates_are_not_guessed(tmp_path: Path) -> None:
    rows = [[*row, "s1", "v1"] for row in ROWS]
    path = write_csv(tmp_path / "e.csv", [*HEADER.split(","), "session_id", "visit_id"], rows)
    events = read_events(path)
    assert "session" not in events.report.columns
    # A source column named like a canonical one but not used for it keeps its values apart.
    columns = events.table.columns
    assert "session_id" not in columns
    assert events.table.to_pyarrow().column("session_id_original").to_pylist() == ["s1"] * 4


# 2. Values that are not numbers

PRICES = ["12.5", "$12.50", "7,30", "n/a", "$12.50", "-3", "", " 4 "]


def priced(tmp_path: Path, prices: list[str] = PRICES) -> Path:
    customers = ["a", "a", "b", "b", "c", "c", "d", "d"]
    rows = [
        [customer, f"2024-03-0{day + 1} 10:00:00", "buy", price]
        for day, (customer, price) in enumerate(zip(customers, prices, strict=True))
    ]
    return write_csv(tmp_path / "events.csv", [*HEADER.split(","), "price"], rows)


def python_number(text: str) -> float | None:
    """The value a plain number's text stands for; None for empty text or not a number."""
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


def not_numbers(texts: list[str]) -> list[str]:
    return [text for text in texts if text.strip() and python_number(text) is None]


def test_values_that_are_not_numbers_stop_the_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = priced(tmp_path)
    bad = not_numbers(PRICES)
    assert len(bad) == 4
    code, _, err = run(capsys, "kpis", str(path), "--value-col", "price")
    assert code == 2
    assert "Traceback" not in err
    assert f"{len(bad)} rows have a value in column 'price' that is not a number" in err
    # Up to three examples, each text once, with the row it is first on.
    assert "such as '$12.50' (row 2), '7,30' (row 3), 'n/a' (row 4)" in err
    assert "a dot for decimals and no currency sign" in err
    assert "--skip-invalid" in err
    # The column was given: the message does not ask for it again.
    assert "--value-col" not in err


def test_a_value_column_found_by_its_name_is_checked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(f"{HEADER},revenue\na,2024-03-01 10:00:00,buy,EUR 3\n")
    code, _, err = run(capsys, "kpis", str(path))
    assert code == 2
    assert (
        "1 row has a value in column 'revenue' that is not a number, such as 'EUR 3' (row 1)" in err
    )


def test_skip_invalid_reads_them_as_empty_and_counts_them(tmp_path: Path, con: BaseBackend) -> None:
    path = priced(tmp_path)
    events = read_events(path, columns={"value": "price"}, skip_invalid=True, connection=con)
    values = events.table.order_by("timestamp").to_pyarrow().column("value").to_pylist()
    assert values == [python_number(text) for text in PRICES]
    assert values == [12.5, None, None, None, None, -3.0, None, 4.0]
    report = events.report
    assert report.rows_used == report.rows_read == len(PRICES)
    assert report.not_numbers["value"].rows == len(not_numbers(PRICES))
    assert report.lines()[1] == (
        "4 rows have a value that is not a number (such as '$12.50' in column 'price'); "
        "their value was left empty"
    )


def test_skip_invalid_on_the_command_line_sums_the_numbers_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = priced(tmp_path)
    args = ["kpis", str(path), "--value-col", "price", "--purchase-event", "buy"]
    code, out, err = run(capsys, *args, "--skip-invalid", "--format", "json")
    assert code == 0, err
    expected = sum(number for text in PRICES if (number := python_number(text)) is not None)
    assert json.loads(out)["revenue"] == pytest.approx(expected) == 13.5
    assert json.loads(out)["events"] == len(PRICES)
    assert "4 rows have a value that is not a number (such as '$12.50'" in err


def test_one_value_that_is_not_a_number_is_reported_in_the_singular(tmp_path: Path) -> None:
    path = priced(tmp_path, ["1", "2", "3", "4", "5", "6", "7", "n/a"])
    report = read_events(path, columns={"value": "price"}, skip_invalid=True).report
    assert report.lines()[1] == (
        "1 row has a value that is not a number (such as 'n/a' in column 'price'); "
        "its value was left empty"
    )


def test_a_bad_value_far_down_a_long_file_is_found(tmp_path: Path) -> None:
    # Past the rows a CSV reader samples to guess a column's type.
    rows = [["a", "2024-03-01 10:00:00", "buy", str(index % 97)] for index in range(30_000)]
    rows.append(["b", "2024-03-02 10:00:00", "buy", "$1"])
    path = write_csv(tmp_path / "long.csv", [*HEADER.split(","), "value"], rows)
    with pytest.raises(DataError, match=r"1 row has a value .* such as '\$1' \(row 30001\)"):
        read_events(path)
    events = read_events(path, skip_invalid=True)
    total = events.table.value.sum().execute()
    assert total == sum(index % 97 for index in range(30_000))


def test_numbers_already_numbers_are_read_unchanged(tmp_path: Path, con: BaseBackend) -> None:
    amounts = [Decimal("12.50"), Decimal("-3.25"), None]
    table = pa.table(
        {
            "user_id": ["a", "b", "c"],
            "timestamp": pa.array([datetime(2024, 3, day, 10) for day in (1, 2, 3)]),
            "event": ["buy"] * 3,
            "count": pa.array([3, -1, None], pa.int64()),
            "price": pa.array([2.5, 1e-3, None], pa.float64()),
            "amount": pa.array(amounts, pa.decimal128(10, 2)),
        }
    )
    path = tmp_path / "e.parquet"
    pq.write_table(table, path)
    for column, expected in (
        ("count", [3.0, -1.0, None]),
        ("price", [2.5, 1e-3, None]),
        ("amount", [12.5, -3.25, None]),
    ):
        events = read_events(path, columns={"value": column}, connection=con)
        rows = events.table.order_by("timestamp").to_pyarrow().column("value").to_pylist()
        assert rows == expected
        assert events.report.not_numbers == {}


def test_numbers_written_as_text_are_read(tmp_path: Path, con: BaseBackend) -> None:
    texts = ["12.5", "-3", "+4", "1e3", ".5", "7.", "0"]
    table = pa.table(
        {
            "user_id": ["a"] * len(texts),
            "timestamp": [datetime(2024, 3, 1, 10, minute) for minute in range(len(texts))],
            "event": ["buy"] * len(texts),
            "satisfaction": texts,
        }
    )
    events = read_events(table, connection=con)
    rows = events.table.order_by("timestamp").to_pyarrow().column("satisfaction").to_pylist()
    assert rows == [float(text) for text in texts]


# 3. Folders and globs


def one_row(customer: str, day: int) -> pa.Table:
    return pa.table(
        {"user_id": [customer], "timestamp": [datetime(2024, 3, day, 10)], "event": ["visit"]}
    )


def parquet_folder(folder: Path, customers: list[str]) -> Path:
    """A folder as Spark writes one: Parquet files and a ``_SUCCESS`` marker."""
    folder.mkdir(parents=True)
    for day, customer in enumerate(customers, start=1):
        pq.write_table(one_row(customer, day), folder / f"{customer}.parquet")
    (folder / "_SUCCESS").write_text("")
    return folder


def test_a_folder_of_parquet_files_says_how_many_it_read(tmp_path: Path, con: BaseBackend) -> None:
    customers = ["a", "b", "c"]
    folder = parquet_folder(tmp_path / "events", customers)
    events = read_events(folder, connection=con)
    assert events.report.source == f"folder {folder}: 3 Parquet files"
    read = events.table.to_pyarrow().column("customer_id").to_pylist()
    assert sorted(read) == customers


def test_a_folder_of_partition_folders_reads_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    for day, customer in enumerate(["a", "b", "c"], start=1):
        (folder / f"day={day}").mkdir(parents=True)
        pq.write_table(one_row(customer, day), folder / f"day={day}" / "part-0.parquet")
    pq.write_table(one_row("d", 4), folder / "late.parquet")
    events = read_events(folder)
    assert events.report.source == f"folder {folder}: 4 Parquet files"
    read = events.table.to_pyarrow().column("customer_id").to_pylist()
    assert sorted(read) == ["a", "b", "c", "d"]


def test_a_folder_of_csv_files_is_read_as_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    for index, row in enumerate(ROWS):
        (folder / f"day{index}.csv").write_text(f"{HEADER}\n{','.join(row)}\n")
    code, out, err = run(capsys, "kpis", str(folder), "--format", "json")
    assert code == 0, err
    assert f"{len(ROWS)} rows read from folder {folder}: {len(ROWS)} CSV files" in err
    assert json.loads(out)["customers"] == len({row[0] for row in ROWS})


def test_a_folder_mixing_formats_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = parquet_folder(tmp_path / "events", ["a", "b"])
    (folder / "late.csv").write_text(f"{HEADER}\n{','.join(ROWS[0])}\n")
    code, _, err = run(capsys, "kpis", str(folder))
    assert code == 2
    assert "Traceback" not in err
    assert (
        f"folder {folder} holds files of more than one format: 2 Parquet files and 1 CSV file"
        in err
    )
    assert "one format in a folder of their own" in err
    assert f"a glob (such as {folder}/*.parquet)" in err
    # A glob, or the format, picks the files of one format; the rest are said to be left out.
    code, out, err = run(capsys, "kpis", f"{folder}/*.csv", "--format", "json")
    assert code == 0, err
    assert f"1 row read from {folder}/*.csv: 1 CSV file (" in err
    assert json.loads(out)["customers"] == 1
    code, out, err = run(capsys, "kpis", str(folder), "--input-format", "csv", "--format", "json")
    assert code == 0, err
    assert "1 CSV file (2 other files left out: a.parquet, b.parquet)" in err


def test_a_glob_that_matches_nothing_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "kpis", str(tmp_path / "*.csv"))
    assert code == 2
    assert f"no file matches {tmp_path / '*.csv'}" in err


# 4. Spark stays quiet


@pytest.mark.spark
def test_spark_prints_no_progress_bars_and_logs_errors_only(spark_con: BaseBackend) -> None:
    session = spark_con._session
    conf = session.sparkContext.getConf()
    assert conf.get("spark.ui.showConsoleProgress") == "false"
    assert "-Dlog4j2.configurationFile=file:" in conf.get("spark.driver.extraJavaOptions")
    logging = session._jvm.org.apache.logging.log4j.LogManager
    assert str(logging.getRootLogger().getLevel().toString()) == "ERROR"


# 5. The load report in the singular and the plural


def test_the_load_report_says_row_for_one_and_rows_for_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.csv"
    one.write_text(f"{HEADER}\na,2024-03-01 10:00:00,visit\n")
    code, _, err = run(capsys, "kpis", str(one), "--format", "json")
    assert code == 0, err
    assert err.startswith(f"1 row read from {one} (")
    assert "1 used" in err

    rows = [
        ("a", "2024-03-01 10:00:00", "visit"),
        ("a", "2024-03-01 10:00:00", "visit"),
        ("", "2024-03-02 10:00:00", "visit"),
        ("b", "2024-04-01 10:00:00", "visit"),
        ("c", "2024-03-03 10:00:00", "visit"),
    ]
    path = write_csv(tmp_path / "few.csv", HEADER.split(","), [list(row) for row in rows])
    args = ["kpis", str(path), "--skip-invalid", "--until", "2024-03-31", "--format", "json"]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    lines = err.splitlines()
    assert lines[0].startswith(f"{len(rows)} rows read from {path} (")
    assert lines[1:] == [
        "1 row set aside: no customer id",
        "1 row left out: outside the dates asked (from the start to 2024-03-31)",
        "1 row is an exact duplicate of another row and was kept (use --dedupe to remove it)",
    ]
    code, _, err = run(capsys, *args, "--dedupe")
    assert "1 exact duplicate row removed" in err.splitlines()

    twice = [*rows, ("a", "2024-03-01 10:00:00", "visit"), ("", "2024-03-04 10:00:00", "buy")]
    path = write_csv(tmp_path / "more.csv", HEADER.split(","), [list(row) for row in twice])
    code, _, err = run(capsys, "kpis", str(path), "--skip-invalid", "--format", "json")
    assert code == 0, err
    assert err.splitlines()[1:] == [
        "2 rows set aside: no customer id",
        "2 rows are exact duplicates of another row and were kept (use --dedupe to remove them)",
    ]
