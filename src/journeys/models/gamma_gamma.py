"""The Gamma-Gamma model of spend per purchase (Fader and Hardie 2013, "The Gamma-Gamma
model of monetary value"; Fader, Hardie and Lee 2005, "RFM and CLV: using iso-value
curves for customer base analysis", Journal of Marketing Research 42(4)).

Each purchase's value is gamma-distributed around the customer's own mean (shape ``p``);
customers' scale parameters are gamma-distributed (``q``, ``gamma``). The model assumes
that spend does not depend on how often a customer buys. It is fitted on customers with at
least one repeat purchase, from the number and the mean value of their repeat purchases.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln

from journeys.models.fitting import Array, FittedModel, compress, fit_positive


def check_spend(frequency: ArrayLike, mean_value: ArrayLike) -> tuple[Array, Array]:
    """Repeat-purchase counts and mean values as float arrays, checked."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(mean_value, dtype=np.float64)
    if x.shape != m.shape or x.ndim != 1:
        raise ValueError("frequency and mean_value must be one-dimensional and of equal length")
    if x.size == 0:
        raise ValueError("no customer has a repeat purchase with a value; spend cannot be fitted")
    if np.any(~np.isfinite(x)) or np.any(x < 1):
        raise ValueError("the spend model needs customers with at least one repeat purchase")
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ValueError("mean purchase values must be positive numbers")
    return x, m


class GammaGammaModel(FittedModel):
    """Spend per purchase; ``expected_average_value`` shrinks each mean towards the population's.

    Examples
    --------
    >>> model = GammaGammaModel().fit([1, 2, 4, 1], [20.0, 35.0, 18.5, 60.0])
    >>> sorted(model.params)
    ['gamma', 'p', 'q']
    """

    names = ("p", "q", "gamma")

    def fit(self, frequency: ArrayLike, mean_value: ArrayLike) -> Self:
        """Estimate ``p``, ``q`` and ``gamma`` from customers with repeat purchases."""
        x, m = check_spend(frequency, mean_value)
        (ux, um), weights, _ = compress(x, m)

        def log_likelihood(params: Array) -> float:
            with np.errstate(all="ignore"):
                return float(np.sum(weights * self._log_likelihood(params, ux, um)))

        fit = fit_positive(
            log_likelihood, np.array([1.0, 1.0, float(np.mean(m))]), float(weights.sum())
        )
        self._store(fit)
        return self

    @staticmethod
    def _log_likelihood(params: Array, x: Array, m: Array) -> Array:
        p, q, gamma = params
        result: Array = (
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(gamma)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(gamma + m * x)
        )
        return result

    def population_mean(self) -> float:
        """Expected value of a purchase of a customer with no history (needs ``q`` > 1)."""
        p, q, gamma = self._fitted()
        return float(p * gamma / (q - 1)) if q > 1 else float("nan")

    def expected_average_value(self, frequency: ArrayLike, mean_value: ArrayLike) -> Array:
        """Each customer's expected spend per purchase, given their repeat purchases.

        Customers without repeat purchases (frequency 0, mean value missing) get the
        population mean.
        """
        p, q, gamma = self._fitted()
        x = np.asarray(frequency, dtype=np.float64)
        m = np.nan_to_num(np.asarray(mean_value, dtype=np.float64), nan=0.0)
        with np.errstate(all="ignore"):
            conditional = (gamma + m * x) * p / (p * x + q - 1)
        result: Array = np.where(x > 0, conditional, self.population_mean())
        return result
