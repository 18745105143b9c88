"""Tables a person can read: on the command line, in ``repr`` and in a notebook.

Every part of an analysis' JSON is visible in its table output; numbers are never split
across lines nor written in scientific notation; headers are in words; counts take the
right noun (1 row, 2 rows); a result printed in Python shows its tables.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar

import pandas as pd
import pytest
from rich.console import Console

from journeys.analyses.base import Result, Row, TableOf
from journeys.analyses.registry import ENTRIES, load
from journeys.cli import main
from journeys.cli.output import MAX_ROWS, print_views, rich_tables
from journeys.demo import write_demo
from tests.conftest import SIMPLE_SHOP
from tests.test_commands import ARGUMENTS

SCIENTIFIC = re.compile(r"\d[.,]?\d*e[+-]?\d", re.IGNORECASE)
BOX = str.maketrans(dict.fromkeys("│┃┏┓┗┛┡┩└┘┳┻╇╋━─┼┬┴", " "))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def printed(result: Result, width: int = 200) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    print_views(result, console)
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    return text


def rendered(frame: pd.DataFrame, width: int = 200) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    for table in rich_tables(frame.head(MAX_ROWS), width):
        console.print(table)
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    return text


def renderings(key: str, value: Any) -> set[str]:
    """The ways a reader may find ``value`` in a table (computed here, not by journeys)."""
    if isinstance(value, bool):
        return {"yes" if value else "no"}
    if isinstance(value, str):
        return {value[:10] if re.fullmatch(r"\d{4}-\d\d-\d\dT.*", value) else value}
    number = float(value)
    shown = {f"{number:,.0f}", f"{number:.1%}", f"{number:,}", f"{value:,}"}
    if abs(number) < 1000:
        digits = max(0, 3 - len(str(int(abs(number)))))
        for places in range(digits, digits + 8):
            text = f"{number:,.{places}f}"
            shown |= {text, text.rstrip("0").rstrip(".")}
    shown |= {"< 0.001"} if "p_value" in key and number < 0.001 else set()
    for seconds in (number, number * 86400):
        shown |= {f"{seconds:.0f} s", f"{seconds / 60:.0f} min"}
        shown |= {f"{seconds / 3600:.1f} h", f"{seconds / 86400:.1f} d"}
    return shown


def leaves(value: Any, key: str = "") -> list[tuple[str, Any]]:
    """Every single value of a JSON document with the name it sits under; tables and
    lists only as far as the table output prints them (their first rows)."""
    if isinstance(value, dict):
        return [pair for name, item in value.items() for pair in leaves(item, str(name))]
    if isinstance(value, list):
        return [pair for item in value[:MAX_ROWS] for pair in leaves(item, key)]
    return [] if value is None else [(key, value)]


def visible(key: str, value: Any, text: str, words: set[str]) -> bool:
    if isinstance(value, str) and len(value) > 24:
        # Long text wraps inside its cell: each of its words is there.
        return all(word in words for word in value.split())
    return any(shown in text for shown in renderings(key, value))


@pytest.fixture(scope="module")
def demo_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = write_demo(tmp_path_factory.mktemp("demo"), customers=800, seed=3)
    return files.spec


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.command for entry in ENTRIES])
def test_every_part_of_the_json_is_in_the_table_output(
    capsys: pytest.CaptureFixture[str], demo_spec: Path, entry: Any
) -> None:
    args = [entry.command, "--spec", str(demo_spec), *ARGUMENTS.get(entry.command, [])]
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    # The table output of the same result, as the command prints it.
    result = load(entry.name).result.model_validate_json(out)
    text = printed(result)
    flat = text.translate(BOX)
    words = set(flat.split())
    missing = [
        (key, value)
        for key, value in leaves({k: v for k, v in document.items() if k != "params"})
        if not visible(key, value, flat, words)
    ]
    assert missing == []
    # The numbers journeys formats (the warnings are sentences the analyses write).
    tables = [frame for title, frame in result.parts() if title != "warnings"]
    assert not SCIENTIFIC.search("".join(rendered(frame) for frame in tables))
    headers = [line for line in text.splitlines() if line.startswith("┃")]
    assert headers
    assert all("_" not in line for line in headers), "headers in words"


def test_the_table_format_prints_through_the_command_line(
    capsys: pytest.CaptureFixture[str], demo_spec: Path
) -> None:
    code, out, err = run(capsys, "breakeven", "--spec", str(demo_spec), "--format", "table")
    assert code == 0, err
    assert "inputs: fixed costs" in out
    assert "sources" in out
    assert "Support team salaries" in out
    assert "11,000" in out  # the salaries line of the demo's spec
    assert not SCIENTIFIC.search(out)


def test_numbers_are_never_split_across_lines() -> None:
    rows = 4
    frame = pd.DataFrame(
        {
            "cohort": [f"2024-0{n + 1}" for n in range(rows)],
            **{f"retention_{k}": [1 / (k + n + 1) for n in range(rows)] for k in range(24)},
            "revenue": [1.48e4 * (n + 1) for n in range(rows)],
            "median_seconds_from_previous": [9000.0 * (n + 1) for n in range(rows)],
        }
    )
    for width in (60, 100, 200):
        console = Console(file=io.StringIO(), width=width, color_system=None)
        tables = rich_tables(frame, width)
        for table in tables:
            console.print(table)
        text: str = console.file.getvalue()  # type: ignore[attr-defined]
        assert max(len(line) for line in text.splitlines()) <= width
        lines = text.splitlines()
        for k in range(24):
            for n in range(rows):
                share = f"{1 / (k + n + 1):.1%}"
                assert any(share in line for line in lines), (width, k, n)
        for n in range(rows):
            assert any(f"{1.48e4 * (n + 1):,.0f}" in line for line in lines)
            assert any(f"{2.5 * (n + 1):.1f} h" in line for line in lines)
            # Every part repeats what the rows are: each cohort in each part.
            assert text.count(f"2024-0{n + 1}") == len(tables)
        if width == 60:
            assert len(tables) > 2


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1.48e4, "14,800"), (2.5e7, "25,000,000"), (0.0000123, "0.0000123"), (56.47, "56.47")],
)
def test_money_is_never_in_scientific_notation(value: float, shown: str) -> None:
    frame = pd.DataFrame({"fixed_costs": [value], "profit_at_actual": [-value]})
    text = rendered(frame, 120)
    assert shown in text
    assert f"-{shown}" in text
    assert not SCIENTIFIC.search(text)


class StepRow(Row):
    step: str
    customers_per_step: int


class Steps(Result):
    main_table: ClassVar[str] = "steps"
    label: str
    steps: Annotated[pd.DataFrame, TableOf(StepRow)]


def steps_of(count: int) -> Steps:
    return Steps(
        label="made by hand",
        steps=pd.DataFrame({"step": [f"s{n}" for n in range(count)], "customers_per_step": 7}),
    )


@pytest.mark.parametrize(("count", "line"), [(26, "... 1 more row;"), (27, "... 2 more rows;")])
def test_rows_left_out_take_the_right_noun(count: int, line: str) -> None:
    assert line in printed(steps_of(count))


def test_an_export_of_one_row_says_row(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    events = tmp_path / "one.csv"
    events.write_text(
        "user_id,event,timestamp\nu1,catalog,2024-01-01 10:00\nu1,cart,2024-01-01 11:00\n"
    )
    target = tmp_path / "last.csv"
    code, _, err = run(
        capsys, "funnel", str(events), "--steps", "catalog", "cart", "--customers-out", str(target)
    )
    assert code == 0, err
    assert f"wrote 1 row to {target}" in err
    assert len(target.read_text().splitlines()) == 2  # the header and the one customer


def test_a_result_in_python_shows_its_tables(
    capsys: pytest.CaptureFixture[str], simple_shop_rows: list[dict[str, Any]]
) -> None:
    code, out, err = run(capsys, "kpis", str(SIMPLE_SHOP), "--format", "json")
    assert code == 0, err
    result = load("kpis").result.model_validate_json(out)
    customers = len({row["customer_id"] for row in simple_shop_rows})
    shown = repr(result)
    assert shown == str(result)
    assert shown.startswith("KpiResult\n")
    assert re.search(rf"\bcustomers\s+{customers:,}\b", shown), shown
    assert f"events {len(simple_shop_rows):,}" in " ".join(shown.split())
    for wall in ("DataFrame", "ibis", "Table(", "model_config", "params="):
        assert wall not in shown
    html = result._repr_html_()
    assert "<h4>summary</h4>" in html
    assert f"<td>{customers:,}</td>" in html
    assert "<table" in html


def test_a_long_table_in_python_shows_its_first_rows() -> None:
    result = steps_of(30)
    shown = repr(result)
    assert "label" in shown
    assert "made by hand" in shown
    assert "customers per step" in shown
    assert "s9" in shown
    assert "s10" not in shown
    assert "... 20 more rows" in shown
    assert "<p>... 20 more rows</p>" in result._repr_html_()
