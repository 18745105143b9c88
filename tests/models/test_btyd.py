"""BG/NBD, Pareto/NBD and Gamma-Gamma against the published CDNOW figures and against
direct numerical integration over the models' latent rates."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable
from datetime import date

import numpy as np
import pytest
from scipy import integrate, stats

from journeys.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from tests.conftest import DATA

CALIBRATION_END = date(1997, 9, 30)


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    """Calibration summaries of the CDNOW sample, computed here in plain Python."""
    days: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    with (DATA / "cdnow_sample.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            text = row["date"]
            day = date(int(text[:4]), int(text[4:6]), int(text[6:]))
            days[row["customer_id"]][day] += float(row["amount"])
    x, t_x, age, mean_value = [], [], [], []
    for purchases in days.values():
        inside = sorted(day for day in purchases if day <= CALIBRATION_END)
        first, last = inside[0], inside[-1]
        x.append(len(inside) - 1)
        t_x.append((last - first).days / 7)
        age.append((CALIBRATION_END - first).days / 7)
        repeat = [purchases[day] for day in inside[1:]]
        mean_value.append(sum(repeat) / len(repeat) if repeat else math.nan)
    return {
        "x": np.array(x, dtype=float),
        "t_x": np.array(t_x),
        "T": np.array(age),
        "m": np.array(mean_value),
    }


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow: dict[str, np.ndarray]) -> None:
    model = BetaGeoModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: round(v, 3) for k, v in model.params.items()} == published
    assert round(model.log_likelihood_, 1) == -9582.4
    assert model.converged_


def test_pareto_nbd_reproduces_fader_hardie_lee_2005(cdnow: dict[str, np.ndarray]) -> None:
    model = ParetoNBDModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    assert {k: round(v, 3) for k, v in model.params.items()} == published
    assert round(model.log_likelihood_, 1) == -9595.0


def test_gamma_gamma_reproduces_fader_hardie_2013(cdnow: dict[str, np.ndarray]) -> None:
    repeaters = cdnow["x"] > 0
    assert repeaters.sum() == 946
    model = GammaGammaModel().fit(cdnow["x"][repeaters], cdnow["m"][repeaters])
    assert {k: round(v, 2) for k, v in model.params.items()} == {
        "p": 6.25,
        "q": 3.74,
        "gamma": 15.44,
    }


def test_standard_errors_are_those_of_an_independent_hessian(
    cdnow: dict[str, np.ndarray],
) -> None:
    """Standard errors from the inverse observed information, computed here by a wider
    finite-difference stencil on the natural parameters."""
    model = BetaGeoModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    theta = model.params_

    def total(params: np.ndarray) -> float:
        return float(np.sum(model._log_likelihood(params, cdnow["x"], cdnow["t_x"], cdnow["T"])))

    size = len(theta)
    steps = theta * 1e-3
    hessian = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            shifted = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                point = theta.copy()
                point[i] += si * steps[i]
                point[j] += sj * steps[j]
                shifted.append(total(point))
            hessian[i, j] = (shifted[0] - shifted[1] - shifted[2] + shifted[3]) / (
                4 * steps[i] * steps[j]
            )
    expected = np.sqrt(np.diag(np.linalg.inv(-hessian)))
    np.testing.assert_allclose(model.standard_errors_, expected, rtol=1e-2)


# A customer from the BG/NBD paper's discussion: 2 repeat purchases, the last at 30.43
# weeks, observed for 38.86 weeks.
CUSTOMER = {"x": 2.0, "t_x": 30.43, "T": 38.86}
HORIZON = 39.0


def _bgnbd_by_integration(params: dict[str, float]) -> tuple[float, float]:
    """E[purchases in (T, T+t]] and P(alive) by integrating over the rate and the drop-out
    probability: prior x likelihood of the customer's past, for an alive customer the
    expected purchases of a geometric drop-out process are (1 - exp(-lambda p t)) / p."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x, t_x, age = CUSTOMER["x"], CUSTOMER["t_x"], CUSTOMER["T"]

    rate = stats.gamma(r, scale=1 / alpha)
    dropout = stats.beta(a, b)

    def alive(lam: float, p: float) -> float:
        return float((1 - p) ** x * lam**x * math.exp(-lam * age))

    def left(lam: float, p: float) -> float:
        return float(p * (1 - p) ** (x - 1) * lam**x * math.exp(-lam * t_x))

    def future(lam: float, p: float) -> float:
        return (1 - math.exp(-lam * p * HORIZON)) / p

    def double(f: Callable[[float, float], float]) -> float:
        """Integral over both priors, as an integral over their quantiles."""
        value, _ = integrate.dblquad(
            lambda u, v: f(float(rate.ppf(u)), float(dropout.ppf(v))),
            0,
            1,
            0,
            1,
            epsabs=1e-12,
            epsrel=1e-8,
        )
        return float(value)

    evidence = double(lambda lam, p: alive(lam, p) + left(lam, p))
    staying = double(alive)
    expected = double(lambda lam, p: alive(lam, p) * future(lam, p))
    return expected / evidence, staying / evidence


def _pareto_by_integration(params: dict[str, float]) -> tuple[float, float]:
    """The same for Pareto/NBD: exponential lifetimes with rate mu; an alive customer
    makes lambda / mu * (1 - exp(-mu t)) purchases in the next t."""
    r, alpha, s, beta = params["r"], params["alpha"], params["s"], params["beta"]
    x, t_x, age = CUSTOMER["x"], CUSTOMER["t_x"], CUSTOMER["T"]

    rate = stats.gamma(r, scale=1 / alpha)
    lifetime = stats.gamma(s, scale=1 / beta)

    def alive(lam: float, mu: float) -> float:
        return float(lam**x * math.exp(-(lam + mu) * age))

    def left(lam: float, mu: float) -> float:
        return float(
            lam**x * mu / (lam + mu) * (math.exp(-(lam + mu) * t_x) - math.exp(-(lam + mu) * age))
        )

    def double(f: Callable[[float, float], float]) -> float:
        """Integral over both priors, as an integral over their quantiles."""
        value, _ = integrate.dblquad(
            lambda u, v: f(float(rate.ppf(u)), float(lifetime.ppf(v))),
            0,
            1,
            0,
            1,
            epsabs=1e-12,
            epsrel=1e-8,
        )
        return float(value)

    def future(lam: float, mu: float) -> float:
        return lam / mu * -math.expm1(-mu * HORIZON) if mu > 0 else lam * HORIZON

    evidence = double(lambda lam, mu: alive(lam, mu) + left(lam, mu))
    staying = double(alive)
    expected = double(lambda lam, mu: alive(lam, mu) * future(lam, mu))
    return expected / evidence, staying / evidence


def _fitted(model_type: type[BetaGeoModel] | type[ParetoNBDModel], params: dict[str, float]):  # type: ignore[no-untyped-def]
    model = model_type()
    model.params_ = np.array([params[name] for name in model.names])
    return model


def test_bgnbd_predictions_match_integration() -> None:
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    model = _fitted(BetaGeoModel, params)
    expected, p_alive = _bgnbd_by_integration(params)
    args = ([CUSTOMER["x"]], [CUSTOMER["t_x"]], [CUSTOMER["T"]])
    assert model.expected_purchases(HORIZON, *args)[0] == pytest.approx(expected, rel=1e-5)
    assert model.probability_alive(*args)[0] == pytest.approx(p_alive, rel=1e-5)


def test_pareto_predictions_match_integration() -> None:
    params = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    model = _fitted(ParetoNBDModel, params)
    expected, p_alive = _pareto_by_integration(params)
    args = ([CUSTOMER["x"]], [CUSTOMER["t_x"]], [CUSTOMER["T"]])
    assert model.expected_purchases(HORIZON, *args)[0] == pytest.approx(expected, rel=1e-5)
    assert model.probability_alive(*args)[0] == pytest.approx(p_alive, rel=1e-5)


def test_unconditional_expectation_matches_simulation() -> None:
    """Repeat purchases of new customers in their first 39 weeks, simulated from the model."""
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    model = _fitted(BetaGeoModel, params)
    rng = np.random.default_rng(7)
    n = 400_000
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    time = np.zeros(n)
    purchases = np.zeros(n)
    active = np.ones(n, dtype=bool)
    for _ in range(200):
        time = time + rng.exponential(1 / np.maximum(lam, 1e-300))
        bought = active & (time <= HORIZON)
        purchases += bought
        active = bought & (rng.random(n) >= p)
    simulated = purchases.mean()
    standard_error = purchases.std() / math.sqrt(n)
    assert abs(model.expected_purchases_new([HORIZON])[0] - simulated) < 4 * standard_error


def test_gamma_gamma_expected_value_is_the_posterior_mean() -> None:
    """E[spend] = E[p / nu | purchases] with nu ~ Gamma(q, gamma) a priori, by integration."""
    p, q, gamma = 6.25, 3.74, 15.44
    model = GammaGammaModel()
    model.params_ = np.array([p, q, gamma])
    x, mean = 3.0, 42.0

    def posterior(nu: float) -> float:
        prior = stats.gamma.pdf(nu, q, scale=1 / gamma)
        # the mean of x purchases, each Gamma(p, nu), is Gamma(p x, nu x)
        return float(prior * stats.gamma.pdf(mean, p * x, scale=1 / (nu * x)))

    evidence, _ = integrate.quad(posterior, 0, np.inf)
    weighted, _ = integrate.quad(lambda nu: posterior(nu) * p / nu, 0, np.inf)
    assert model.expected_average_value([x], [mean])[0] == pytest.approx(weighted / evidence)
    assert model.expected_average_value([0], [np.nan])[0] == pytest.approx(p * gamma / (q - 1))


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1, 2], [1.0], [3.0, 3.0], "equal length"),
        ([-1], [0.0], [3.0], "whole number"),
        ([1.5], [1.0], [3.0], "whole number"),
        ([2], [5.0], [3.0], "between 0 and T"),
        ([0], [1.0], [3.0], "recency 0"),
        ([1], [1.0], [-1.0], "between 0 and T"),
        ([], [], [], "no customers"),
    ],
)
def test_bad_summaries_are_refused(
    frequency: list[float], recency: list[float], T: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BetaGeoModel().fit(frequency, recency, T)


def test_predicting_before_fitting_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        BetaGeoModel().probability_alive([1], [1.0], [2.0])
