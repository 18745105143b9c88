"""The CLI's money commands: clv and breakeven, their JSON contracts and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journeys.cli import main
from journeys.demo import write_demo
from tests.conftest import DATA

CDNOW = str(DATA / "cdnow_sample.csv")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_clv_json_reproduces_cdnow(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "clv",
        CDNOW,
        "--value-col",
        "amount",
        "--time-format",
        "%Y%m%d",
        "--calibration-end",
        "1997-09-30",
        "--time-unit",
        "week",
        "--horizon",
        "52",
        "--margin",
        "0.3",
        "--discount-rate",
        "0.1",
        "--format",
        "json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert {k: round(result["bgnbd"]["params"][k], 3) for k in ("r", "alpha", "a", "b")} == {
        "r": 0.243,
        "alpha": 4.414,
        "a": 0.793,
        "b": 2.426,
    }
    assert round(result["bgnbd"]["log_likelihood"], 1) == -9582.4
    assert {
        k: round(result["pareto_nbd"]["params"][k], 3) for k in ("r", "alpha", "s", "beta")
    } == {
        "r": 0.553,
        "alpha": 10.578,
        "s": 0.606,
        "beta": 11.669,
    }
    assert {k: round(result["gamma_gamma"]["params"][k], 2) for k in ("p", "q", "gamma")} == {
        "p": 6.25,
        "q": 3.74,
        "gamma": 15.44,
    }
    assert len(result["customers"]) == 2357
    first = result["customers"][0]
    assert set(first) >= {
        "customer_id",
        "frequency",
        "recency",
        "T",
        "expected_purchases",
        "p_alive",
        "expected_average_value",
        "clv",
    }
    assert first["clv"] == max(customer["clv"] for customer in result["customers"])


def test_clv_table_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "clv", CDNOW, "--time-format", "%Y%m%d")
    assert code == 0, err
    assert "BG/NBD" in out
    assert "most valuable customers" in out
    code, out, err = run(capsys, "clv", CDNOW)
    assert code == 2
    assert "--time-format" in err
    assert "Traceback" not in err
    code, out, err = run(
        capsys, "clv", CDNOW, "--time-format", "%Y%m%d", "--calibration-end", "30/09/1997"
    )
    assert code == 2
    assert "YYYY-MM-DD" in err
    code, out, err = run(capsys, "clv", CDNOW, "--time-format", "%Y%m%d", "--time-unit", "year")
    assert code == 2
    assert "--time-unit" in err
    assert "'day', 'week' or 'month'" in err


def test_breakeven_sheet_without_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "breakeven",
        "--fixed-costs",
        "2000",
        "--variable-cost",
        "120",
        "--value-per-customer",
        "200",
        "--actual-customers",
        "40",
        "--format",
        "json",
    )
    assert code == 0, err
    result = json.loads(out)
    numbers = result["numbers"]
    assert numbers["break_even_customers"] == 25
    assert numbers["break_even_revenue"] == pytest.approx(5000)
    assert numbers["contribution_margin"] == pytest.approx(80)
    assert numbers["margin_of_safety"] == pytest.approx(15 / 40)


def test_breakeven_that_never_breaks_even_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "breakeven",
        "--fixed-costs",
        "2000",
        "--variable-cost",
        "120",
        "--value-per-customer",
        "100",
        "--format",
        "json",
    )
    assert code == 0
    assert "never breaks even" in err
    result = json.loads(out)
    assert result["numbers"]["break_even_customers"] is None
    assert result["never_breaks_even"] is True
    assert result["message"].startswith("support never breaks even")


def test_breakeven_needs_all_sheet_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "breakeven", "--fixed-costs", "2000")
    assert code == 2
    assert "missing: --variable-cost, --value-per-customer" in err


def test_breakeven_on_the_demo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    files = write_demo(tmp_path, customers=3000, seed=2)
    code, out, err = run(capsys, "breakeven", "--spec", str(files.spec), "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["numbers"]["fixed_costs"] == pytest.approx(14_800)
    assert result["sources"]["value"].startswith("estimated")
    assert [s["scenario"] for s in result["scenarios"]] == [
        "today",
        "Chatbot answers first",
        "Second shift",
    ]
    assert result["changes"][0]["name"] == "Chatbot launch"
    code, out, err = run(
        capsys,
        "breakeven",
        "--spec",
        str(files.spec),
        "--value-per-customer",
        "30",
        "--format",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["numbers"]["value_per_customer"] == 30


def test_clv_bayes_adds_credible_intervals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "clv",
        CDNOW,
        "--time-format",
        "%Y%m%d",
        "--calibration-end",
        "1997-09-30",
        "--bayes",
        "--format",
        "json",
    )
    assert code == 0, err
    result = json.loads(out)
    for model, names in (("bgnbd", ("r", "alpha", "a", "b")), ("gamma_gamma", ("p", "q", "gamma"))):
        for name in names:
            (interval,) = [row for row in result["bayes"][model] if row["parameter"] == name]
            estimate = result[model]["params"][name]
            assert interval["hdi_low"] < estimate < interval["hdi_high"], name


def test_clv_with_a_spec_takes_the_purchase_milestone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import pandas as pd

    files = write_demo(tmp_path, customers=1500, seed=4)
    code, out, err = run(capsys, "clv", "--spec", str(files.spec), "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    frame = pd.read_parquet(files.events)
    bought = frame[frame["event"].isin(["purchase", "renewal", "upgrade"])]
    days = bought.assign(day=bought["timestamp"].dt.floor("D"))[["customer_id", "day"]]
    repeat_days = days.drop_duplicates().groupby("customer_id").size() - 1
    customers = {row["customer_id"]: row for row in result["customers"]}
    assert set(customers) == set(repeat_days.index)
    assert all(customers[c]["frequency"] == n for c, n in repeat_days.items())
