"""Customer lifetime value from an event log: summaries in the engine, models on top."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import numpy as np
import pytest
from ibis.backends import BaseBackend

from journeys.analyses.clv import ClvParams, clv, purchase_summary
from journeys.data.reader import EventLog, read_events
from journeys.errors import DataError, OptionsError
from journeys.models import BetaGeoModel, ParetoNBDModel
from tests.conftest import DATA


@pytest.fixture
def cdnow_log(con: BaseBackend) -> EventLog:
    return read_events(
        DATA / "cdnow_sample.csv",
        connection=con,
        time_format="%Y%m%d",
        every_row_is="purchase",
    )


def test_cdnow_from_the_raw_log_reproduces_the_published_fits(cdnow_log: EventLog) -> None:
    result = clv(cdnow_log, ClvParams(calibration_end=date(1997, 9, 30), horizon=39))
    assert {k: round(v, 3) for k, v in result.bgnbd.params.items()} == {
        "r": 0.243,
        "alpha": 4.414,
        "a": 0.793,
        "b": 2.426,
    }
    assert round(result.bgnbd.log_likelihood, 1) == -9582.4
    assert result.bgnbd.converged
    assert {k: round(v, 3) for k, v in result.pareto_nbd.params.items()} == {
        "r": 0.553,
        "alpha": 10.578,
        "s": 0.606,
        "beta": 11.669,
    }
    assert round(result.pareto_nbd.log_likelihood, 1) == -9595.0
    assert result.gamma_gamma is not None
    assert {k: round(v, 2) for k, v in result.gamma_gamma.params.items()} == {
        "p": 6.25,
        "q": 3.74,
        "gamma": 15.44,
    }
    assert result.customers_fitted == 2357
    assert result.repeat_customers == 946
    assert result.holdout_length == 39.0
    assert result.calibration_end == date(1997, 9, 30)
    assert result.warnings == []
    # the fitted estimators behind the reported numbers
    assert result.estimator("bgnbd").params == result.bgnbd.params
    assert result.estimator("gamma_gamma").params == result.gamma_gamma.params
    # strict JSON: the same numbers, the parameters, no NaN
    document = result.to_dict()
    assert document["params"]["calibration_end"] == "1997-09-30"
    assert document["params"]["horizon"] == 39
    assert document["customers_fitted"] == 2357
    assert document["bgnbd"]["params"] == result.bgnbd.params
    assert "NaN" not in result.to_json()


def test_holdout_table_counts_the_purchases_after_the_calibration_end(
    cdnow_log: EventLog,
) -> None:
    """Actual holdout purchases (purchase days after 1997-09-30), counted here from the file."""
    days: dict[str, set[str]] = {}
    with (DATA / "cdnow_sample.csv").open() as handle:
        next(handle)
        for line in handle:
            _, customer, day, _, _ = line.strip().split(",")
            days.setdefault(customer, set()).add(day)
    later = sum(1 for found in days.values() for day in found if day > "19970930")
    result = clv(cdnow_log, ClvParams(calibration_end=date(1997, 9, 30)))
    assert result.holdout is not None
    total = result.holdout.iloc[-1]
    assert total["customers"] == 2357
    assert total["actual_purchases"] == later
    by_group = result.holdout.iloc[:-1]
    assert by_group["customers"].sum() == 2357
    # the predictions are those of the fitted model for a 39-week holdout
    summary = result.customers
    model = result.estimator("bgnbd")
    assert isinstance(model, BetaGeoModel)
    expected = model.expected_purchases(
        39.0, summary["frequency"], summary["recency"], summary["T"]
    )
    assert total["bgnbd_predicted"] == pytest.approx(expected.sum())


Journeys = Callable[..., EventLog]


def test_summary_merges_same_day_purchases_and_sets_aside_late_customers(
    journeys_for: Journeys,
) -> None:
    log = journeys_for(
        {
            "a": [
                ("buy", "2024-01-01 09:00", {"value": 10.0}),
                ("buy", "2024-01-01 17:00", {"value": 5.0}),
                ("visit", "2024-01-05 10:00", {"value": 99.0}),
                ("buy", "2024-01-08 10:00", {"value": 30.0}),
                ("buy", "2024-01-15 10:00", {"value": 50.0}),
                ("buy", "2024-02-01 10:00", {"value": 70.0}),
            ],
            "b": [("buy", "2024-01-02 10:00", {"value": 20.0})],
            "c": [("buy", "2024-01-20 10:00", {"value": 40.0})],
        }
    )
    params = ClvParams(calibration_end=date(2024, 1, 15), purchase_event="buy")
    summary, end, holdout_days, set_aside = purchase_summary(log, params)
    assert end == date(2024, 1, 15)
    assert holdout_days == (date(2024, 2, 1) - date(2024, 1, 15)).days
    assert set_aside == 1
    rows = {row.customer_id: row for row in summary.itertuples()}
    assert set(rows) == {"a", "b"}
    a = rows["a"]
    assert a.frequency == 2
    assert a.recency == pytest.approx(14 / 7)
    assert pytest.approx(14 / 7) == a.T
    assert a.monetary_value == pytest.approx((30 + 50) / 2)
    assert a.holdout_purchases == 1
    assert rows["b"].frequency == 0
    assert math.isnan(rows["b"].monetary_value)
    assert pytest.approx(13 / 7) == rows["b"].T


def test_clv_is_discounted_expected_spend(cdnow_log: EventLog) -> None:
    """CLV = sum over the horizon's weeks of expected purchases x value x margin / (1+d)^years."""
    params = ClvParams(
        calibration_end=date(1997, 9, 30), horizon=10, margin=0.3, discount_rate=0.12
    )
    result = clv(cdnow_log, params)
    row = result.customers.iloc[0]
    model = result.estimator("bgnbd")
    assert isinstance(model, BetaGeoModel)
    args = ([row["frequency"]], [row["recency"]], [row["T"]])
    total = 0.0
    for week in range(1, 11):
        gained = (
            model.expected_purchases(week, *args)[0] - model.expected_purchases(week - 1, *args)[0]
            if week > 1
            else model.expected_purchases(week, *args)[0]
        )
        total += gained / 1.12 ** (week * 7 / 365.25)
    assert row["clv"] == pytest.approx(total * row["expected_average_value"] * 0.3)
    undiscounted = clv(
        cdnow_log, ClvParams(calibration_end=date(1997, 9, 30), horizon=10)
    ).customers.set_index("customer_id")
    check = undiscounted.loc[row["customer_id"]]
    assert check["clv"] == pytest.approx(
        check["expected_purchases"] * check["expected_average_value"]
    )
    assert result.deciles["customers"].sum() == 2357
    assert result.deciles["share_of_clv"].sum() == pytest.approx(1.0)


def test_the_pareto_model_can_drive_the_predictions(cdnow_log: EventLog) -> None:
    result = clv(cdnow_log, ClvParams(calibration_end=date(1997, 9, 30), model="pareto_nbd"))
    summary = result.customers
    model = result.estimator("pareto_nbd")
    assert isinstance(model, ParetoNBDModel)
    expected = model.probability_alive(summary["frequency"], summary["recency"], summary["T"])
    np.testing.assert_allclose(summary["p_alive"], expected)


def test_a_log_with_events_needs_to_know_what_a_purchase_is(journeys_for: Journeys) -> None:
    log = journeys_for({"a": [("buy", "2024-01-01 09:00"), ("buy", "2024-01-03 09:00")]})
    with pytest.raises(OptionsError, match="which events are purchases"):
        clv(log)


def test_no_repeat_purchases_is_a_clear_error(journeys_for: Journeys) -> None:
    log = journeys_for({"a": [("buy", "2024-01-01 09:00")], "b": [("buy", "2024-01-03 09:00")]})
    with pytest.raises(DataError, match="no customer bought twice"):
        clv(log, ClvParams(purchase_event="buy"))


def test_calibration_end_before_the_first_purchase(journeys_for: Journeys) -> None:
    log = journeys_for({"a": [("buy", "2024-01-01 09:00"), ("buy", "2024-01-03 09:00")]})
    with pytest.raises(OptionsError, match="before the first purchase"):
        clv(log, ClvParams(purchase_event="buy", calibration_end=date(2023, 1, 1)))


def test_an_unknown_purchase_event_is_a_clear_error(journeys_for: Journeys) -> None:
    log = journeys_for({"a": [("visit", "2024-01-01 09:00")]})
    with pytest.raises(OptionsError, match="'buy' matches no event"):
        clv(log, ClvParams(purchase_event="buy"))


def test_a_spend_model_far_from_the_observed_spend_says_so() -> None:
    """Subscription prices: each customer pays the same at every renewal, plans differ.

    The Gamma-Gamma fit then drifts to q near 1, where the average purchase it implies
    (p * gamma / (q - 1)) is several times what customers spend; customers without repeat
    purchases are valued at that average, so the result must say the fit is not reliable.
    """
    from journeys.analyses.clv import _spend_warnings
    from journeys.models import GammaGammaModel

    rng = np.random.default_rng(1)
    repeats = rng.integers(1, 20, 800).astype(float)
    prices = rng.choice([29.0, 79.0, 199.0, 499.0], 800)
    model = GammaGammaModel().fit(repeats, prices)
    p, q, gamma = model.params_
    implied = p * gamma / (q - 1)
    assert implied / prices.mean() > 1.5
    (warning,) = _spend_warnings(model, prices)
    assert f"an average purchase of {implied:,.2f} (q = {q:.2f})" in warning
    assert f"repeat customers spend {prices.mean():,.2f} on average" in warning
    # CDNOW's published spend fit (p 6.25, q 3.74, gamma 15.44) is close to what it observes.
    cdnow = GammaGammaModel()
    cdnow.params_ = np.array([6.25, 3.74, 15.44])
    assert _spend_warnings(cdnow, np.array([30.0, 35.0, 40.0])) == []


def test_purchases_without_value_are_ranked_by_expected_purchases_and_say_why(
    con: BaseBackend,
) -> None:
    from journeys.analyses.clv import NO_VALUE
    from tests.conftest import SIMPLE_SHOP

    log = read_events(SIMPLE_SHOP, connection=con)
    result = clv(log, ClvParams(purchase_event="payment_done"))
    assert NO_VALUE in result.warnings
    assert result.total_clv is None
    assert result.customers["monetary_value"].isna().all()
    assert result.customers["holdout_value"].isna().all()
    expected = result.customers["expected_purchases"].to_numpy()
    assert (expected[:-1] >= expected[1:]).all()
    titles = [title for title, _ in result.views()]
    assert titles[-1] == "customers by expected purchases over 52 weeks"


def test_a_parameter_the_data_barely_determine_is_named() -> None:
    from journeys.analyses.clv import _undetermined

    model = BetaGeoModel()
    model.params_ = np.array([1.162, 20.43, 894.1, 2759.0])
    model.standard_errors_ = np.array([0.6267, 13.1, 19139.0, 59029.0])
    model.log_likelihood_ = -571.3
    model.converged_ = True
    (note,) = _undetermined({"BG/NBD": model})
    assert note.startswith(
        "the BG/NBD fit leaves a 894 (standard error 1.91e+04), b 2.76e+03 (standard error "
        "5.9e+04) poorly determined"
    )
    model.standard_errors_ = np.array([0.05, 1.0, 0.1, 0.3])
    assert _undetermined({"BG/NBD": model}) == []
