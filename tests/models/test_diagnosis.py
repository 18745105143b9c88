"""The rules that diagnose a fit, and the credibility spend, against plain computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from journeys.models import BetaGeoModel, GammaGammaModel
from journeys.models.credibility import CredibilitySpend
from journeys.models.diagnosis import (
    MIN_REPEAT_CUSTOMERS,
    few_repeat_customers,
    fit_problems,
    holdout_miss,
    spend_problems,
)


def _codes(problems: list) -> list[tuple[str, str | None]]:
    return [(problem.code, problem.parameter) for problem in problems]


def _gamma_gamma(p: float, q: float, gamma: float) -> GammaGammaModel:
    model = GammaGammaModel()
    model.params_ = np.array([p, q, gamma])
    return model


def test_buyers_who_never_leave_drive_bgnbd_to_the_edge_of_its_box() -> None:
    """Every customer buys every week up to the end: no one leaves, and purchases are more
    regular than any Poisson; the likelihood rises without end as r, alpha -> infinity and
    the dropout probability's beta mixture runs to 0 (a -> 0, b -> infinity)."""
    weeks = [20.0, 24.0, 28.0, 32.0] * 5
    model = BetaGeoModel().fit(weeks, weeks, weeks)
    found = _codes(fit_problems("BG/NBD", model))
    assert [code for code in found if code[0] == "at-bound"] == [
        ("at-bound", "r"),
        ("at-bound", "alpha"),
        ("at-bound", "a"),
        ("at-bound", "b"),
    ]
    # within a factor e of exp(15) around the start (1): above e^14 or below e^-14
    for name, value in model.params.items():
        assert abs(math.log(value)) >= 14, name


def test_a_well_determined_fit_has_no_problem() -> None:
    """CDNOW's published BG/NBD fit with standard errors well below the estimates."""
    model = BetaGeoModel()
    model.params_ = np.array([0.243, 4.414, 0.793, 2.426])
    model.standard_errors_ = np.array([0.013, 0.38, 0.186, 0.705])
    model.log_likelihood_ = -9582.4
    model.converged_ = True
    assert fit_problems("BG/NBD", model) == []
    model.standard_errors_ = np.array([0.013, 0.38, 0.9, np.nan])
    assert _codes(fit_problems("BG/NBD", model)) == [
        ("se-larger-than-estimate", "a"),
        ("se-larger-than-estimate", "b"),
    ]
    model.converged_ = False
    assert _codes(fit_problems("BG/NBD", model)) == [("not-converged", None)]


def test_few_repeat_customers_below_the_threshold() -> None:
    assert MIN_REPEAT_CUSTOMERS == 200
    assert few_repeat_customers("BG/NBD", 200) == []
    (problem,) = few_repeat_customers("BG/NBD", 199)
    assert problem.code == "few-repeat-customers"
    assert "199 customers who bought more than once, fewer than 200" in problem.message


@pytest.mark.parametrize(
    ("params", "q_error", "observed", "largest", "expected"),
    [
        # q below 1: the average purchase p * gamma / (q - 1) is infinite
        ((2.0, 0.95, 50.0), None, 480.0, None, "unbounded-mean"),
        # the demo's fit: q = 1.03 with a standard error of 0.034 (q - 1 < 2 x 0.034)
        ((2.937, 1.03, 56.73), 0.0338, 5000.0, None, "unbounded-mean"),
        # 2.937 * 56.73 / 0.03 = 5,554, 11.6 times 480
        ((2.937, 1.03, 56.73), 0.001, 480.0, None, "unbounded-mean"),
        # 4 * 30 / 2 = 60, 1.6 times 37.5: over 1.5
        ((4.0, 3.0, 30.0), 0.1, 37.5, None, "unbounded-mean"),
        # 60 against 95: under 1/1.5 of it
        ((4.0, 3.0, 30.0), 0.1, 95.0, None, "implausible-mean"),
        # 60 against 55 observed, but no purchase above 58
        ((4.0, 3.0, 30.0), 0.1, 55.0, 58.0, "implausible-mean"),
        # CDNOW's published fit: 6.25 * 15.44 / 2.74 = 35.22 against 35.08 observed
        ((6.25, 3.74, 15.44), 0.29, 35.08, 300.0, None),
        # 60 against 41 (ratio 1.46) and 89 (ratio 0.674): inside 1/1.5 to 1.5
        ((4.0, 3.0, 30.0), 0.1, 41.0, None, None),
        ((4.0, 3.0, 30.0), 0.1, 89.0, None, None),
    ],
)
def test_the_spend_model_average_against_what_customers_pay(
    params: tuple[float, float, float],
    q_error: float | None,
    observed: float,
    largest: float | None,
    expected: str | None,
) -> None:
    found = [p.code for p in spend_problems(_gamma_gamma(*params), observed, largest, q_error)]
    assert found == ([expected] if expected else [])


def test_the_demo_spend_fit_is_described_in_numbers() -> None:
    (problem,) = spend_problems(_gamma_gamma(2.937, 1.03, 56.73), 480.0, 1499.0, 0.0338)
    implied = 2.937 * 56.73 / 0.03
    assert problem.message.startswith(
        f"the Gamma-Gamma spend model implies an average purchase of {implied:,.2f} "
        "(q = 1.03) where repeat customers spend 480.00 on average, 11.6 times as much: q is "
        "within 2 standard errors"
    )


@pytest.mark.parametrize(
    ("predicted", "actual", "missed"),
    [
        (1653.4, 1882.0, False),  # CDNOW, BG/NBD over 39 weeks: 12% short
        (8281.0, 6272.0, True),  # the demo's Pareto/NBD over 26 weeks: 32% over
        (1100.0, 1882.0, True),
        (10.0, 5.0, False),  # 100% over, but within 2 * sqrt(10) = 6.3 of chance
        (30.0, 10.0, True),  # 20 off: over 20% of 10 and over 2 * sqrt(30) = 11
        (0.5, 0.0, False),
    ],
)
def test_a_holdout_miss_is_large_and_more_than_chance(
    predicted: float, actual: float, missed: bool
) -> None:
    reference = abs(predicted - actual) > 0.2 * actual and abs(predicted - actual) > 2 * (
        predicted**0.5
    )
    assert reference == missed
    assert bool(holdout_miss("BG/NBD", predicted, actual, "39 weeks")) == missed


def test_spend_in_another_currency_unit_fits_the_same() -> None:
    """Gamma-Gamma is scale-equivariant: values a million times larger (a currency of small
    units) leave p and q alone and multiply gamma by a million. The optimiser's box is
    centred on the start, so gamma is not held under exp(15) = 3.3 million."""
    rng = np.random.default_rng(3)
    repeats = rng.integers(1, 8, 400).astype(float)
    scale = rng.gamma(3.0, 1 / 40.0, 400)
    means = np.array([rng.gamma(5.0, 1 / s, int(n)).mean() for s, n in zip(scale, repeats)])
    small = GammaGammaModel().fit(repeats, means)
    large = GammaGammaModel().fit(repeats, means * 1e6)
    assert large.params["gamma"] > math.exp(15)
    assert large.params["p"] == pytest.approx(small.params["p"], rel=1e-4)
    assert large.params["q"] == pytest.approx(small.params["q"], rel=1e-4)
    assert large.params["gamma"] == pytest.approx(small.params["gamma"] * 1e6, rel=1e-4)
    assert large.parameters_at_bound == []


def _credibility_reference(
    purchases: dict[str, list[float]],
) -> tuple[dict[str, float], float, float | None]:
    """Bühlmann-Straub by hand, one customer at a time (Klugman, Panjer and Willmot)."""
    total = sum(len(values) for values in purchases.values())
    overall = sum(sum(values) for values in purchases.values()) / total
    means = {customer: sum(values) / len(values) for customer, values in purchases.items()}
    squares = 0.0
    freedom = 0
    for customer, values in purchases.items():
        for value in values:
            squares += (value - means[customer]) ** 2
        freedom += len(values) - 1
    within = squares / freedom
    spread = 0.0
    for customer, values in purchases.items():
        spread += len(values) * (means[customer] - overall) ** 2
    sizes = sum(len(values) ** 2 for values in purchases.values())
    between = (spread - (len(purchases) - 1) * within) / (total - sizes / total)
    if between <= 0:
        return dict.fromkeys(purchases, overall), overall, None
    k = within / between
    expected = {}
    for customer, values in purchases.items():
        weight = len(values) / (len(values) + k)
        expected[customer] = weight * means[customer] + (1 - weight) * overall
    return expected, overall, k


def _fit(purchases: dict[str, list[float]]) -> CredibilitySpend:
    values = list(purchases.values())
    n = [len(v) for v in values]
    means = [sum(v) / len(v) for v in values]
    squares = [sum((x - m) ** 2 for x in v) for v, m in zip(values, means)]
    return CredibilitySpend().fit(n, means, squares)


def test_credibility_spend_equals_the_rule_computed_by_hand() -> None:
    purchases = {
        "a": [100.0],
        "b": [20.0, 25.0, 15.0],
        "c": [50.0, 70.0],
        "d": [300.0, 280.0, 310.0, 290.0],
        "e": [10.0, 12.0],
    }
    expected, overall, k = _credibility_reference(purchases)
    model = _fit(purchases)
    assert model.mean_ == pytest.approx(overall)
    assert model.constant_ == pytest.approx(k)
    n = [len(v) for v in purchases.values()]
    means = [sum(v) / len(v) for v in purchases.values()]
    values = model.expected_average_value(n, means)
    np.testing.assert_allclose(values, list(expected.values()))
    assert values.max() <= max(max(v) for v in purchases.values())


def test_credibility_when_customers_do_not_differ_or_always_pay_the_same() -> None:
    # every customer's purchases spread as widely as the customers do: everyone gets the mean
    alike = {"a": [10.0, 90.0], "b": [90.0, 10.0], "c": [50.0], "d": [20.0, 80.0]}
    expected, overall, k = _credibility_reference(alike)
    assert k is None
    assert set(expected.values()) == {overall}
    model = _fit(alike)
    assert model.constant_ is None
    np.testing.assert_allclose(model.expected_average_value([2, 2, 1, 2], [50, 50, 50, 50]), 50.0)
    assert overall == pytest.approx(50.0)
    # each customer always pays their own price: each keeps it (k = 0, weight 1)
    fixed = {"a": [29.0, 29.0], "b": [499.0], "c": [79.0, 79.0, 79.0]}
    model = _fit(fixed)
    assert model.constant_ == 0.0
    np.testing.assert_allclose(
        model.expected_average_value([2, 1, 3], [29, 499, 79]), [29, 499, 79]
    )
