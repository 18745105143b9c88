"""Customer value never rests on an unbounded spend model, and says which spend it used.

Two data sets: subscription plans, where each customer pays about the same price every
month and prices differ a lot between plans, so the Gamma-Gamma fit drifts towards q = 1
and its average purchase runs far above what anyone pays; and the CDNOW sample, where the
published Gamma-Gamma fit is good and must keep valuing the customers.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pa_csv
import pytest
from ibis.backends import BaseBackend
from jinja2 import Environment, PackageLoader, StrictUndefined

from journeys.analyses.clv import ClvParams, ClvResult, clv
from journeys.cli import main
from journeys.data.reader import EventLog, read_events
from journeys.plots.clv import value_figure
from journeys.report.display import Display
from tests.conftest import DATA, Event, event_table

Journeys = Callable[..., EventLog]
CALIBRATION_END = "2024-12-31"
PARAMS = ClvParams(purchase_event="payment", calibration_end=dt.date(2024, 12, 31))


def subscription_plans(seed: int = 5, customers: int = 400) -> dict[str, list[Event]]:
    """Monthly payments at one of five plan prices, a fifth of them with an add-on (+50%)."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2024, 1, 1, 10)
    journeys: dict[str, list[Event]] = {}
    for number in range(customers):
        price = float(rng.choice([29.0, 79.0, 199.0, 499.0, 1499.0], p=[0.35, 0.3, 0.2, 0.1, 0.05]))
        first = int(rng.integers(0, 200))
        months = int(rng.geometric(0.15))
        events: list[Event] = []
        for month in range(months):
            day = start + dt.timedelta(days=first + 30 * month)
            if day >= dt.datetime(2025, 6, 30):
                break
            extra = price * 0.5 if rng.random() < 0.2 else 0.0
            events.append(("payment", day.isoformat(sep=" "), {"value": price + extra}))
        journeys[f"c{number:03d}"] = events
    return journeys


def _paid_by_day(journeys: dict[str, list[Event]], end: str) -> dict[str, list[float]]:
    """Each customer's purchases up to ``end``, those of the same day added up."""
    paid: dict[str, list[float]] = {}
    for customer, events in journeys.items():
        days: dict[str, float] = {}
        for event in events:
            day = event[1][:10]
            if day <= end:
                days[day] = days.get(day, 0.0) + float(event[2]["value"])  # type: ignore[misc]
        if days:
            paid[customer] = list(days.values())
    return paid


def _credibility_by_hand(paid: dict[str, list[float]]) -> tuple[dict[str, float], float]:
    """Bühlmann-Straub, written out: within and between variances, k, then each weight."""
    total = sum(len(values) for values in paid.values())
    overall = sum(sum(values) for values in paid.values()) / total
    own = {customer: sum(values) / len(values) for customer, values in paid.items()}
    within = sum(
        (value - own[customer]) ** 2 for customer, values in paid.items() for value in values
    ) / sum(len(values) - 1 for values in paid.values())
    between = (
        sum(len(values) * (own[customer] - overall) ** 2 for customer, values in paid.items())
        - (len(paid) - 1) * within
    ) / (total - sum(len(values) ** 2 for values in paid.values()) / total)
    k = within / between
    return {
        customer: len(values) / (len(values) + k) * own[customer] + k / (len(values) + k) * overall
        for customer, values in paid.items()
    }, k


@pytest.fixture(scope="module")
def plans() -> dict[str, list[Event]]:
    return subscription_plans()


@pytest.fixture
def plans_result(plans: dict[str, list[Event]], con: BaseBackend) -> ClvResult:
    return clv(read_events(event_table(plans), connection=con), PARAMS)


def test_an_unbounded_spend_model_values_no_one(
    plans: dict[str, list[Event]], plans_result: ClvResult
) -> None:
    result = plans_result
    assert result.gamma_gamma is not None
    p, q, gamma = (result.gamma_gamma.params[name] for name in ("p", "q", "gamma"))
    codes = {problem.code for problem in result.gamma_gamma.problems}
    assert "unbounded-mean" in codes
    paid = _paid_by_day(plans, CALIBRATION_END)
    repeat_means = [sum(v[1:]) / (len(v) - 1) for v in paid.values() if len(v) > 1]
    observed = sum(repeat_means) / len(repeat_means)
    # the reason, recomputed: the model's average is over 1.5 times what repeat customers pay
    assert q <= 1 or p * gamma / (q - 1) > 1.5 * observed
    assert result.spend_basis == "observed_mean"
    assert result.spend is not None
    assert "the Gamma-Gamma spend model is not used (" in result.spend.reason
    assert result.spend.reason in result.warnings
    assert result.spend.mean_repeat_spend == pytest.approx(observed)

    expected, k = _credibility_by_hand(paid)
    assert result.spend.credibility_constant == pytest.approx(k)
    customers = result.customers.set_index("customer_id")
    got = customers["expected_average_value"]
    assert set(got.index) == set(expected)
    np.testing.assert_allclose(got[list(expected)].to_numpy(), list(expected.values()))
    largest = max(max(values) for values in paid.values())
    assert result.spend.largest_order_value == largest
    one_time = customers[customers["frequency"] == 0]
    assert len(one_time) > 0
    assert one_time["expected_average_value"].max() <= largest
    assert (customers["expected_average_value"] <= largest).all()
    # each customer's own mean of all purchases, the first included
    mine = {customer: sum(values) / len(values) for customer, values in paid.items()}
    np.testing.assert_allclose(
        customers.loc[list(mine), "mean_order_value"].to_numpy(), list(mine.values())
    )


def test_the_ranking_rests_on_the_spend_used(plans_result: ClvResult) -> None:
    """Undiscounted, a customer's value is expected purchases x the spend used; the table is
    ranked on it, most valuable first."""
    customers = plans_result.customers
    np.testing.assert_allclose(
        customers["clv"], customers["expected_purchases"] * customers["expected_average_value"]
    )
    values = customers["clv"].to_numpy()
    assert (values[:-1] >= values[1:]).all()
    assert plans_result.total_clv == pytest.approx(values.sum())
    title = plans_result.views()[-1][0]
    assert (
        title
        == "most valuable customers over 52 weeks (spend: what customers paid, by credibility)"
    )


def test_the_holdout_miss_is_judged_on_the_actual_purchases(
    plans: dict[str, list[Event]], plans_result: ClvResult
) -> None:
    """Purchase days after the calibration end, counted here, against the model's total."""
    actual = sum(
        len({event[1][:10] for event in events if event[1][:10] > CALIBRATION_END})
        for events in plans.values()
    )
    assert plans_result.holdout is not None
    total = plans_result.holdout.iloc[-1]
    assert total["actual_purchases"] == actual
    for fitted, column in (
        (plans_result.bgnbd, "bgnbd_predicted"),
        (plans_result.pareto_nbd, "pareto_nbd_predicted"),
    ):
        predicted = float(total[column])
        missed = abs(predicted - actual) > max(0.2 * actual, 2 * math.sqrt(predicted))
        assert ("holdout-miss" in {problem.code for problem in fitted.problems}) == missed
    assert any(p.code == "holdout-miss" for p in plans_result.bgnbd.problems)


@pytest.fixture
def cdnow(con: BaseBackend) -> ClvResult:
    log = read_events(
        DATA / "cdnow_sample.csv", connection=con, time_format="%Y%m%d", every_row_is="purchase"
    )
    return clv(log, ClvParams(calibration_end=dt.date(1997, 9, 30), horizon=39))


def test_a_good_spend_model_keeps_valuing_customers(cdnow: ClvResult) -> None:
    """CDNOW: the published Gamma-Gamma fit (p 6.25, q 3.74, gamma 15.44; Fader, Hardie and
    Lee 2005) has no problem, so each customer's spend is its conditional expectation
    (gamma + m x) p / (p x + q - 1), and p gamma / (q - 1) = 35.22 without repeat purchases."""
    assert cdnow.spend_basis == "gamma_gamma"
    for fitted in (cdnow.bgnbd, cdnow.pareto_nbd, cdnow.gamma_gamma):
        assert fitted is not None
        assert fitted.problems == []
    assert cdnow.warnings == []
    assert cdnow.gamma_gamma is not None
    p, q, gamma = (cdnow.gamma_gamma.params[name] for name in ("p", "q", "gamma"))
    assert cdnow.spend is not None
    assert cdnow.spend.gamma_gamma_average == pytest.approx(6.25 * 15.44 / 2.74, rel=5e-3)
    for row in cdnow.customers.head(300).itertuples():
        x = row.frequency
        if x == 0:
            expected = p * gamma / (q - 1)
        else:
            expected = (gamma + row.monetary_value * x) * p / (p * x + q - 1)
        assert row.expected_average_value == pytest.approx(expected)


def _render(result: ClvResult) -> str:
    environment = Environment(
        loader=PackageLoader("journeys.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(Display({}, {}, {}, {}).filters())
    return environment.get_template("sections/clv.html.j2").render(result=result, figures=[])


def test_the_report_says_plainly_which_fits_are_bad_and_which_spend_it_used(
    plans_result: ClvResult, cdnow: ClvResult
) -> None:
    html = _render(plans_result)
    assert "Spend per purchase does not come from the spend model:" in html
    assert "not from the Gamma-Gamma spend model" in html
    assert "The Gamma-Gamma fit has" in html
    assert "<code>unbounded-mean</code>" in html
    assert "spend per purchase: what they paid, by credibility" in html
    good = _render(cdnow)
    assert "With the Gamma-Gamma spend model, their expected value" in good
    assert "does not come from the spend model" not in good
    assert "fit has" not in good
    # the figure of where the value sits names the spend behind it
    figure = value_figure(plans_result)
    assert figure is not None
    assert figure.layout.title.text == (
        "Where the future value sits (spend per purchase: what customers paid, by credibility)"
    )
    figure = value_figure(cdnow)
    assert figure is not None
    assert figure.layout.title.text.endswith("(spend per purchase: the Gamma-Gamma spend model)")


def _write(journeys: dict[str, list[Event]], path: Path) -> str:
    pa_csv.write_csv(event_table(journeys), path)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_cli_names_the_spend_basis_and_each_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plans: dict[str, list[Event]]
) -> None:
    events = _write(plans, tmp_path / "plans.csv")
    options = ("--purchase-event", "payment", "--calibration-end", CALIBRATION_END)
    code, out, err = run(capsys, "clv", events, *options, "--format", "json")
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    assert document["spend_basis"] == "observed_mean"
    codes = [problem["code"] for problem in document["gamma_gamma"]["problems"]]
    assert "unbounded-mean" in codes
    assert {"code", "parameter", "message"} == set(document["gamma_gamma"]["problems"][0])
    expected, k = _credibility_by_hand(_paid_by_day(plans, CALIBRATION_END))
    assert document["spend"]["credibility_constant"] == pytest.approx(k)
    for row in document["customers"]:
        assert row["expected_average_value"] == pytest.approx(expected[row["customer_id"]])
    code, out, err = run(capsys, "clv", events, *options)
    assert code == 0, err
    assert "observed_mean" in out
    assert "unbounded-mean" in out
    # A table shows its warnings among its parts; JSON leaves them on stderr.
    assert "the Gamma-Gamma spend model is not used" in " ".join(out.split())
    code, _, err = run(capsys, "clv", events, *options, "--format", "json")
    assert code == 0, err
    assert "warning: the Gamma-Gamma spend model is not used (" in err


def test_a_calibration_end_after_the_last_event_is_said(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plans: dict[str, list[Event]]
) -> None:
    """A transaction log may be known to run past its last purchase (CDNOW's ends on
    1998-06-30), so a later calibration end is taken, and said: the days after the last
    event count as days without purchases."""
    events = _write(plans, tmp_path / "plans.csv")
    last = max(event[1][:10] for journey in plans.values() for event in journey)
    days = (dt.date(2026, 1, 31) - dt.date.fromisoformat(last)).days
    code, _, err = run(
        capsys,
        "clv",
        events,
        "--purchase-event",
        "payment",
        "--calibration-end",
        "2026-01-31",
        "--format",
        "json",
    )
    assert code == 0, err
    assert (
        f"warning: the calibration end 2026-01-31 is {days} days after the last event ({last})"
        in err
    )
    assert f"choose a --calibration-end up to {last}" in err
    code, _, err = run(
        capsys, "clv", events, "--purchase-event", "payment", "--calibration-end", last
    )
    assert code == 0, err
    assert "after the last event" not in err


def test_a_calibration_end_before_the_first_purchase_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plans: dict[str, list[Event]]
) -> None:
    events = _write(plans, tmp_path / "plans.csv")
    first = min(event[1][:10] for journey in plans.values() for event in journey)
    code, out, err = run(
        capsys, "clv", events, "--purchase-event", "payment", "--calibration-end", "2023-06-30"
    )
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert f"the calibration end 2023-06-30 is before the first purchase ({first})" in err
    assert "hint: choose a --calibration-end between the first and the last purchase" in err
