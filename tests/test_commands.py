"""Every analysis command, in every output format, run as a user runs it (generated from the registry).

JSON is parsed strictly (no NaN, no Infinity) and checked against the schema that
``journeys schema --result NAME`` publishes; CSV is parsed and its header compared with
the result's main table; the table format must print without a traceback.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from journeys.analyses.registry import ENTRIES, load
from journeys.cli import app, main
from journeys.cli.analyses import all_options
from journeys.demo import write_demo
from tests.conftest import DATA, SIMPLE_SHOP

SRC = Path(__file__).parent.parent / "src" / "journeys"
# What each command needs besides the events to answer.
ARGUMENTS: dict[str, list[str]] = {
    "funnel": ["--steps", "stage:consideration", "stage:purchase", "--by", "persona"],
    "paths": ["--from", "purchase", "--depth", "3"],
    "timing": [],
}


@pytest.fixture(scope="module")
def demo_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo business: a spec with stages, personas, a purchase milestone and support."""
    files = write_demo(tmp_path_factory.mktemp("demo"), customers=800, seed=3)
    return files.spec


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("output", ["table", "json", "csv"])
@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.command for entry in ENTRIES])
def test_every_command_in_every_format(
    capsys: pytest.CaptureFixture[str], demo_spec: Path, entry: Any, output: str
) -> None:
    args = [entry.command, "--spec", str(demo_spec), *ARGUMENTS.get(entry.command, [])]
    code, out, err = run(capsys, *args, "--format", output)
    assert code == 0, err
    assert "Traceback" not in err
    analysis = load(entry.name)
    if output == "json":
        document = strict_json(out)
        jsonschema.validate(document, analysis.result.model_json_schema())
        # A result read back from its JSON (as a stored result will be) writes the same JSON.
        assert analysis.result.model_validate_json(out).to_json() == out.strip()
    elif output == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert rows, "empty CSV"
        assert len(rows[0]) >= 2
    else:
        assert out.strip()


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.command for entry in ENTRIES])
def test_the_published_schema_is_the_results(
    capsys: pytest.CaptureFixture[str], entry: Any
) -> None:
    code, out, _ = run(capsys, "schema", "--result", entry.command)
    assert code == 0
    assert strict_json(out) == load(entry.name).result.model_json_schema()


def test_csv_is_the_main_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "transitions", str(SIMPLE_SHOP), "--format", "csv")
    assert code == 0
    assert out.splitlines()[0] == "from,to,transitions,customers,share_of_from,median_seconds"


def test_the_step_matrix_table_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's own command, in the default table format."""
    code, out, err = run(capsys, "steps", str(SIMPLE_SHOP), "--max-steps", "6")
    assert code == 0, err
    assert "ENDED" in out
    assert "71.6%" in out  # catalog is the first event of 2,686 of 3,751 customers


def test_show_sql_prints_the_queries(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "funnel", str(SIMPLE_SHOP), "--steps", "catalog", "cart", "--show-sql"
    )
    assert code == 0
    assert "SELECT" in err
    assert "catalog" in out


def test_out_writes_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "kpis.json"
    code, out, _ = run(capsys, "kpis", str(SIMPLE_SHOP), "--format", "json", "--out", str(target))
    assert code == 0
    assert out == ""
    assert strict_json(target.read_text())["customers"] == 3751


def test_every_reading_option_is_on_every_analysis_command() -> None:
    from journeys.data.options import CLI_NAMES

    for entry in ENTRIES:
        command = app_command(entry.command)
        names = {name for param in command.params for name in param.opts}
        assert set(CLI_NAMES.values()) <= names, entry.command


def app_command(name: str) -> Any:
    import typer

    group = typer.main.get_command(app)
    return group.get_command(None, name)  # type: ignore[arg-type]


def test_since_and_until_are_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "kpis",
        str(SIMPLE_SHOP),
        "--since",
        "2020-01-01",
        "--until",
        "2020-01-31",
        "--format",
        "json",
    )
    assert code == 0, err
    with SIMPLE_SHOP.open() as handle:
        inside = sum(
            1
            for row in csv.DictReader(handle)
            if "2020-01-01" <= row["timestamp"][:10] <= "2020-01-31"
        )
    assert strict_json(out)["events"] == inside
    assert f"{35381 - inside:,} rows left out: outside the dates asked" in err


def test_a_transaction_log_in_whitespace_separated_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """CDNOW's original text file: no header, columns separated by runs of spaces."""
    source = Path("/work/shared/data/cdnow/CDNOW_master.txt")
    lines = source.read_text().splitlines()[1:400] if source.exists() else []
    if not lines:
        lines = [
            f" {row['master_id']:>5} {row['date']} {row['cds']:>3} {float(row['amount']):8.2f}"
            for row in csv.DictReader((DATA / "cdnow_sample.csv").open())
        ][:400]
    path = tmp_path / "cdnow.txt"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run(
        capsys,
        "clv",
        str(path),
        "--customer-col",
        "column0",
        "--time-col",
        "column1",
        "--value-col",
        "column3",
        "--time-format",
        "%Y%m%d",
        "--calibration-end",
        "1998-06-30",
        "--format",
        "json",
    )
    assert code == 0, err
    result = strict_json(out)
    fields = [line.split() for line in lines]
    assert f"{len(lines):,} rows read" in err
    assert result["customers_fitted"] == len({row[0] for row in fields})
    purchase_days = len({(row[0], row[1]) for row in fields})
    assert sum(c["frequency"] + 1 for c in result["customers"]) == purchase_days


def _option_names() -> set[str]:
    import typer

    group = typer.main.get_command(app)
    names = {opt for param in group.params for opt in param.opts}  # the root's: --version
    for name in group.list_commands(None):  # type: ignore[arg-type]
        command = group.get_command(None, name)  # type: ignore[arg-type]
        for param in command.params:
            names.update(param.opts)
            names.update(getattr(param, "secondary_opts", []))
    for entry in ENTRIES:
        names.update(all_options(load(entry.name)))
    return names


def test_every_option_a_message_names_exists() -> None:
    """Hints and errors may only name options that exist (a test Datasette would have)."""
    known = _option_names() | {"--help"}
    named: dict[str, str] = {}
    # The documentation builder is a maintainers' tool with options of its own.
    sources = [path for path in SRC.rglob("*.py") if "docs" not in path.relative_to(SRC).parts]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z](?![\w-])", node.value):
                    named.setdefault(option, str(path.relative_to(SRC)))
    unknown = {option: where for option, where in named.items() if option not in known}
    assert not unknown


@pytest.mark.parametrize(
    "args",
    [["--help"], ["validate", "SPEC"]],
    ids=["help", "validate"],
)
def test_start_up_imports_no_engine(tmp_path: Path, args: list[str]) -> None:
    spec = tmp_path / "journey.yaml"
    spec.write_text("name: Shop\nstages: [{id: browse, name: Browse}]\n")
    argv = [str(spec) if arg == "SPEC" else arg for arg in args]
    script = (
        "import sys\n"
        "from journeys.cli import main\n"
        f"code = main({argv!r})\n"
        "heavy = [m for m in ('ibis', 'pandas', 'plotly', 'pyspark', 'duckdb') if m in sys.modules]\n"
        "print('HEAVY', heavy, code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert "HEAVY [] 0" in done.stdout, done.stdout + done.stderr
