"""What an analyst meets in the first hour of reading events: sessions, values that are not
numbers, folders of mixed files, quiet Spark, and a report in plain words.

Each user mistake is checked through the command line (a clear message, exit code 2, no
traceback); each number against a count made here, in plain Python, from the rows written.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from ibis.backends import BaseBackend

from journeys.cli import main
from journeys.data.reader import read_events

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
