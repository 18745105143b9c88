"""The CLI's contract: commands, JSON shapes, and clear errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journeys.cli import expand_multi_value_options, main
from tests.analyses import reference
from tests.conftest import SIMPLE_SHOP

SHOP = str(SIMPLE_SHOP)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_steps_option_takes_several_values() -> None:
    assert expand_multi_value_options(["f.csv", "--steps", "a", "b|c", "d", "--window", "3d"]) == [
        "f.csv",
        "--steps",
        "a",
        "--steps",
        "b|c",
        "--steps",
        "d",
        "--window",
        "3d",
    ]


def test_funnel_json(
    capsys: pytest.CaptureFixture[str], simple_shop_rows: list[dict[str, object]]
) -> None:
    code, out, err = run(
        capsys,
        "funnel",
        SHOP,
        "--steps",
        "catalog",
        "product1|product2",
        "cart",
        "payment_done",
        "--window",
        "30d",
        "--format",
        "json",
    )
    assert code == 0, err
    result = json.loads(out)
    from datetime import timedelta

    expected = reference.greedy_funnel(
        simple_shop_rows,
        ["catalog", "product1|product2", "cart", "payment_done"],
        timedelta(days=30),
    )
    assert [step["customers"] for step in result["steps"]] == expected
    assert result["steps"][0] == result["steps"][0] | {"step": "catalog", "customers": 3611}
    for key in (
        "conversion_from_previous",
        "conversion_from_first",
        "drop_off",
        "median_seconds_from_previous",
    ):
        assert key in result["steps"][1]
    assert "35,381 rows read" in err


def test_funnel_exports_each_customers_last_step(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "last.csv"
    code, _, _ = run(
        capsys,
        "funnel",
        SHOP,
        "--steps",
        "catalog",
        "cart",
        "--customers-out",
        str(target),
        "--format",
        "csv",
    )
    assert code == 0
    lines = target.read_text().splitlines()
    assert lines[0] == "customer_id,last_step,last_step_name"
    assert len(lines) == 3611 + 1


def test_steps_json(
    capsys: pytest.CaptureFixture[str], simple_shop_rows: list[dict[str, object]]
) -> None:
    code, out, _ = run(capsys, "steps", SHOP, "--max-steps", "6", "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["positions"] == [1, 2, 3, 4, 5, 6]
    expected = reference.step_matrix(simple_shop_rows, 6)  # type: ignore[arg-type]
    assert result["shares"]["ENDED"] == pytest.approx(expected["ENDED"])
    assert result["shares"]["catalog"] == pytest.approx(expected["catalog"])


def test_retention_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "retention", SHOP, "--period", "month", "--format", "json")
    assert code == 0
    cohorts = json.loads(out)["cohorts"]
    assert cohorts[0]["cohort"] == "2019-11"
    assert cohorts[0]["size"] == 259
    assert cohorts[0]["retention"][0] == 1.0


def test_paths_table_and_transitions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "paths", SHOP, "--from", "cart", "--depth", "2", "--top", "3")
    assert code == 0
    assert "cart > delivery_choice" in out
    code, out, _ = run(capsys, "transitions", SHOP, "--format", "csv")
    assert code == 0
    assert out.splitlines()[0] == "from,to,transitions,customers,share_of_from,median_seconds"


def test_unknown_step_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "funnel", SHOP, "--steps", "catalog", "cartt")
    assert code == 2
    assert "error: step 'cartt' matches no event" in err
    assert "did you mean 'cart'?" in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["funnel", "missing.csv", "--steps", "a", "b"], "missing.csv does not exist"),
        (["funnel", SHOP, "--steps", "a", "b", "--window", "soon"], "'soon' is not a duration"),
        (["funnel", SHOP, "--steps", "catalog", "cart", "--mode", "sideways"], "mode"),
        (["funnel", SHOP, "--steps", "catalog"], "--steps: List should have at least 2 items"),
        (["retention", SHOP, "--period", "year"], "period"),
        (["kpis", SHOP, "--timezone", "Mars/Olympus"], "is not a time zone"),
        (["kpis", SHOP, "--since", "2020-02-01", "--until", "2020-01-01"], "--until"),
        (["loops", SHOP], "needs a journey spec"),
        (["schema", "--result", "nothing"], "is not an analysis"),
        (
            ["funnel", SHOP, "--steps", "catalog", "cart", "--customer-col", "who"],
            "the customer id column 'who' does not exist",
        ),
        (["kpis"], "no events given"),
    ],
)
def test_user_mistakes_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_bad_timestamps_name_the_row(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user_id,timestamp,event\na,2024-01-01 10:00,x\nb,31/02/2024,y\n")
    code, _, err = run(capsys, "kpis", str(path))
    assert code == 2
    assert "row 2: 'timestamp' is '31/02/2024'" in err
    code, out, err = run(capsys, "kpis", str(path), "--skip-invalid", "--format", "json")
    assert code == 0
    assert json.loads(out)["events"] == 1
    assert "1 row set aside: a timestamp that cannot be read" in err


def test_a_bad_spec_names_file_line_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "journey.yaml"
    spec.write_text(
        "name: x\nstages:\n  - id: a\n    name: A\ntouchpoints:\n  - {id: t, name: T, stage: b, events: e}\n"
    )
    code, _, err = run(capsys, "validate", str(spec))
    assert code == 2
    assert f"{spec}:6:" in err
    assert "unknown stage 'b'" in err


def test_schema_and_init(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert json.loads(out)["title"] == "Spec"
    target = tmp_path / "journey.yaml"
    code, _, _ = run(capsys, "init", SHOP, "--out", str(target))
    assert code == 0
    text = target.read_text()
    assert "customer_id: user_id" in text
    assert 'events: ["payment_done"]' in text
    assert "stage: purchase  # 706 events; its name says purchase: check" in text
    assert '  - {id: purchase, name: Purchase, events: ["payment_done"]}' in text
    code, out, err = run(capsys, "validate", str(target), "--events", SHOP)
    assert code == 0, err
    assert "13 touchpoints" in out
    assert "0 events match no touchpoint" in out
    code, _, err = run(capsys, "init", SHOP, "--out", str(target))
    assert code == 2
    assert "--force" in err


def test_every_command_is_documented_in_the_readme() -> None:
    import typer

    from journeys.cli import app

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    root = typer.main.get_command(app)
    names = root.list_commands(root.context_class(root))
    assert {"demo", "init", "validate", "report", "schema", "funnel"} <= set(names)
    for name in names:
        assert f"journeys {name}" in readme, name


def test_spec_warnings_are_printed_with_their_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "journey.yaml"
    spec.write_text(
        "name: x\nstages:\n  - {id: a, name: A}\n  - {id: b, name: B}\n"
        "touchpoints:\n  - {id: t, name: T, stage: a, events: e}\n"
        "milestones:\n  - {id: purchase, name: P, touchpoints: t}\n"
    )
    code, out, err = run(capsys, "validate", str(spec))
    assert code == 0
    assert "valid with 1 warning (2 stages, 1 touchpoint, 0 personas, 1 milestone)" in out
    assert f"{spec}:4:10: warning: stage 'b' has no touchpoint" in err
    assert "[empty-stage]" in err


def test_init_validate_and_report_take_every_reading_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A semicolon file with day-first timestamps, read the same way by the three commands."""
    lines = Path(SHOP).read_text().splitlines()
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    at = header.index("timestamp")
    for row in rows:
        day, time = row[at].split("T") if "T" in row[at] else row[at].split(" ")
        year, month, date = day.split("-")
        row[at] = f"{date}/{month}/{year} {time[:8]}"
    events = tmp_path / "shop.txt"
    events.write_text("\n".join(";".join(row) for row in [header, *rows]) + "\n")
    reading = ["--input-format", "csv", "--delimiter", ";", "--time-format", "%d/%m/%Y %H:%M:%S"]
    target = tmp_path / "journey.yaml"
    code, _, err = run(capsys, "init", str(events), "--out", str(target), *reading)
    assert code == 0, err
    assert 'events: ["payment_done"]' in target.read_text()
    code, out, err = run(capsys, "validate", str(target), "--events", str(events), *reading)
    assert code == 0, err
    assert f"events: {len(rows):,} used, 0 events match no touchpoint" in out
    code, _, err = run(capsys, "validate", str(target), "--events", str(events))
    assert code == 2
    assert "--time-format" in err or "--delimiter" in err
    report = tmp_path / "report.html"
    code, out, err = run(
        capsys, "report", str(target), "--events", str(events), "--out", str(report), *reading
    )
    assert code == 0, err
    assert report.stat().st_size > 100_000


def test_messages_are_printed_as_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A user's text in a message is never read as markup, and problem codes stay visible."""
    code, _, err = run(capsys, "funnel", SHOP, "--steps", "catalog", "cart[/b]")
    assert code == 2
    assert "step 'cart[/b]' matches no event" in err
    assert "Traceback" not in err
    spec = tmp_path / "journey.yaml"
    spec.write_text(
        "name: x\nstages:\n  - {id: a, name: A}\n"
        "touchpoints:\n  - {id: t, name: T, stage: b, events: e}\n"
    )
    code, _, err = run(capsys, "validate", str(spec))
    assert code == 2
    assert "(touchpoints.0.stage) [unknown-stage]" in err


def test_out_makes_its_folder_or_says_why_it_cannot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "new" / "folder" / "kpis.json"
    code, _, err = run(capsys, "kpis", SHOP, "--format", "json", "--out", str(target))
    assert code == 0, err
    assert json.loads(target.read_text())["customers"] == 3751
    blocked = tmp_path / "file"
    blocked.write_text("")
    code, _, err = run(capsys, "kpis", SHOP, "--format", "json", "--out", str(blocked / "k.json"))
    assert code == 2
    assert f"cannot write {blocked / 'k.json'}" in err
    assert "Traceback" not in err


def test_validate_warns_about_milestones_and_personas_the_data_never_meets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "journey.yaml"
    spec.write_text(
        "name: Shop\nstages:\n  - {id: browse, name: Browse}\n  - {id: buy, name: Buy}\n"
        "touchpoints:\n  - {id: catalog, name: Catalog, stage: browse, events: catalog}\n"
        "  - {id: paid, name: Paid, stage: buy, events: payment_done}\n"
        "personas:\n  - {id: big, name: Big, where: [{column: event, equals: catalogue}]}\n"
        "milestones:\n  - {id: purchase, name: Purchase, events: payment_don}\n"
    )
    code, out, err = run(capsys, "validate", str(spec), "--events", SHOP)
    assert code == 0, err
    assert "(2 stages, 2 touchpoints, 1 persona, 1 milestone)" in out
    assert (
        "warning: event 'payment_don' of milestone 'purchase' never occurs in the data, so "
        "the milestone matches no event; did you mean 'payment_done'?" in err
    )
    assert "warning: persona 'big' matches no customer" in err
    assert "event = 'catalogue'" in err
    assert "personas: 3,751 customers match none (unassigned)" in out


def test_a_date_written_another_way_says_how_to_write_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "kpis", SHOP, "--since", "13/03/2024")
    assert code == 2
    assert err.count("--since:") == 1
    assert "write a day as YYYY-MM-DD or a time as YYYY-MM-DD HH:MM" in err


def test_init_lists_columns_that_could_define_personas(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = ["user_id,event,timestamp,plan,device,page_url"]
    for number in range(7):
        plan = "team" if number % 2 else "solo"
        for day in (1, 2):
            device = "mobile" if number == 0 and day == 2 else "desktop"
            rows.append(f"u{number},visit,2024-01-0{day} 10:00,{plan},{device},/p/{number}/{day}")
    events = tmp_path / "events.csv"
    events.write_text("\n".join(rows) + "\n")
    target = tmp_path / "journey.yaml"
    code, _, err = run(capsys, "init", str(events), "--out", str(target))
    assert code == 0, err
    text = target.read_text()
    assert "#   plan: solo, team (the same for every event of a customer)" in text
    assert (
        "#   device: desktop, mobile (changes for 1 customer: a persona reads their first "
        "event's value)" in text
    )
    assert "page_url" not in text  # 14 values: too many to be a persona
    assert "milestones: []" in text


def test_a_funnel_breakdown_prints_in_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "funnel", SHOP, "--steps", "catalog", "cart", "--by", "event", "--format", "table"
    )
    assert code == 0, err
    assert out.index("steps") < out.index("breakdown")
    # The breakdown's column is headed by the column it breaks down by.
    assert "┃ event" in out
    assert "by value" not in out


def test_a_funnel_breakdown_in_csv_keeps_all_customers_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "funnel", SHOP, "--steps", "catalog", "cart", "--by", "event", "--format", "csv"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("by_value,step,index,customers")
    assert lines[1].startswith(",catalog,1,3611,")  # all customers, first
    assert lines[2].startswith(",cart,2,1924,")
    assert lines[3].startswith("catalog,catalog,1,3611,")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from journeys import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"journeys {__version__}"


def test_a_folder_given_as_the_spec(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 2
    assert f"{tmp_path}: error: this is a folder, not a spec file [not-a-file]" in err
    assert "Traceback" not in err


def test_init_writes_the_events_path_from_the_specs_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "shop.csv").write_bytes(Path(SHOP).read_bytes())
    code, _, err = run(capsys, "init", "data/shop.csv", "--out", "specs/journey.yaml")
    assert code == 0, err
    text = (tmp_path / "specs" / "journey.yaml").read_text()
    assert 'events: "../data/shop.csv"' in text
    assert 'name: "shop.csv"' in text
    code, out, err = run(capsys, "validate", "specs/journey.yaml")
    assert code == 0, err
    assert "events: 35,381 used" in out


def test_a_conversion_window_of_zero_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "funnel", SHOP, "--steps", "catalog", "cart", "--window", "0d")
    assert code == 2
    assert "--window: a conversion window must be longer than zero" in err
