"""Purchase models of non-contractual customers: BG/NBD and Pareto/NBD.

Both models describe each customer by a purchase rate while "alive" (Poisson purchases
with a gamma-distributed rate across customers: ``r``, ``alpha``) and a moment at which
the customer silently leaves:

- BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way: an
  alternative to the Pareto/NBD model", Marketing Science 24(2)): after each purchase
  the customer leaves with probability ``p``, beta-distributed across customers (``a``, ``b``).
- Pareto/NBD (Schmittlein, Morrison and Colombo 1987; expressions from Fader and Hardie
  2005, "A note on deriving the Pareto/NBD model and related expressions"): lifetimes are
  exponential with a gamma-distributed rate across customers (``s``, ``beta``).

Each customer is summarised by ``frequency`` (repeat purchases, that is purchases after
the first), ``recency`` (time from the first to the last purchase) and ``T`` (time from
the first purchase to the end of the observation), all in one time unit. Customers with
identical summaries are evaluated once (see :func:`journeys.models.fitting.compress`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, gammaln, hyp2f1, logsumexp

from journeys.models.fitting import Array, Fit, FittedModel, compress, fit_positive


def check_summary(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[Array, ...]:
    """The three summaries as float arrays, checked for shape and consistency."""
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    age = np.asarray(T, dtype=np.float64)
    if not (x.shape == t_x.shape == age.shape) or x.ndim != 1:
        raise ValueError("frequency, recency and T must be one-dimensional and of equal length")
    if x.size == 0:
        raise ValueError("there are no customers to fit")
    if np.any(~np.isfinite(x) | ~np.isfinite(t_x) | ~np.isfinite(age)):
        raise ValueError("frequency, recency and T must be finite numbers")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a whole number of repeat purchases, 0 or more")
    if np.any(t_x < 0) or np.any(t_x > age + 1e-9):
        raise ValueError("recency must lie between 0 and T")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("customers without repeat purchases must have recency 0")
    if np.any(age < 0):
        raise ValueError("T must not be negative: the observation ends after the first purchase")
    return x, t_x, age


class PurchaseModel(FittedModel, ABC):
    """Fit by maximum likelihood; fitted values end in ``_``."""

    start: tuple[float, ...]

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Self:
        """Estimate the parameters from one summary per customer."""
        x, t_x, age = check_summary(frequency, recency, T)
        (ux, ut, uT), weights, _ = compress(x, t_x, age)

        def log_likelihood(params: Array) -> float:
            with np.errstate(all="ignore"):
                return float(np.sum(weights * self._log_likelihood(params, ux, ut, uT)))

        fit: Fit = fit_positive(log_likelihood, np.array(self.start), float(weights.sum()))
        self._store(fit)
        return self

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """Each customer's log-likelihood under the fitted parameters."""
        x, t_x, age = check_summary(frequency, recency, T)
        return self._log_likelihood(self._fitted(), x, t_x, age)

    def expected_purchases(
        self, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Array:
        """Expected purchases in the next ``t`` time units, given each customer's past."""
        x, t_x, age = check_summary(frequency, recency, T)
        (ux, ut, uT), _, inverse = compress(x, t_x, age)
        with np.errstate(all="ignore"):
            values = self._conditional_expected(self._fitted(), float(t), ux, ut, uT)
        return values[inverse]

    def discounted_expected_purchases(
        self,
        times: ArrayLike,
        factors: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
    ) -> Array:
        """Sum over increasing ``times`` of the purchases expected since the previous time,
        each multiplied by its factor (a discount), per customer."""
        x, t_x, age = check_summary(frequency, recency, T)
        (ux, ut, uT), _, inverse = compress(x, t_x, age)
        total = np.zeros_like(ux)
        before = np.zeros_like(ux)
        with np.errstate(all="ignore"):
            for time, factor in zip(np.asarray(times, float), np.asarray(factors, float)):
                cumulative = self._conditional_expected(self._fitted(), float(time), ux, ut, uT)
                total += (cumulative - before) * factor
                before = cumulative
        return total[inverse]

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Array:
        """The probability that each customer is still a customer at the end of ``T``."""
        x, t_x, age = check_summary(frequency, recency, T)
        (ux, ut, uT), _, inverse = compress(x, t_x, age)
        with np.errstate(all="ignore"):
            values = self._probability_alive(self._fitted(), ux, ut, uT)
        return values[inverse]

    def expected_purchases_new(self, t: ArrayLike) -> Array:
        """Expected repeat purchases in ``t`` time units after a first purchase (unconditional)."""
        times = np.asarray(t, dtype=np.float64)
        with np.errstate(all="ignore"):
            return np.where(times > 0, self._unconditional(self._fitted(), times), 0.0)

    @staticmethod
    @abstractmethod
    def _log_likelihood(params: Array, x: Array, t_x: Array, T: Array) -> Array: ...

    @staticmethod
    @abstractmethod
    def _conditional_expected(params: Array, t: float, x: Array, t_x: Array, T: Array) -> Array: ...

    @staticmethod
    @abstractmethod
    def _probability_alive(params: Array, x: Array, t_x: Array, T: Array) -> Array: ...

    @staticmethod
    @abstractmethod
    def _unconditional(params: Array, t: Array) -> Array: ...


class BetaGeoModel(PurchaseModel):
    """BG/NBD (Fader, Hardie and Lee 2005): after each purchase a customer may leave.

    Examples
    --------
    >>> model = BetaGeoModel().fit([0, 2, 5], [0.0, 10.0, 30.0], [39.0, 39.0, 39.0])
    >>> sorted(model.params)
    ['a', 'alpha', 'b', 'r']
    """

    names = ("r", "alpha", "a", "b")
    start = (1.0, 1.0, 1.0, 1.0)

    @staticmethod
    def _log_likelihood(params: Array, x: Array, t_x: Array, T: Array) -> Array:
        r, alpha, a, b = params
        purchases = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        staying = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        alive_at_end = -(r + x) * np.log(alpha + T)
        left_after_last = np.where(
            x > 0,
            np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
        result: Array = purchases + staying + np.logaddexp(alive_at_end, left_after_last)
        return result

    @staticmethod
    def _log_odds_left(params: Array, x: Array, t_x: Array, T: Array) -> Array:
        r, alpha, a, b = params
        log_odds: Array = np.where(
            x > 0,
            np.log(a)
            - np.log(b + np.maximum(x, 1) - 1)
            + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
            -np.inf,
        )
        return log_odds

    @staticmethod
    def _probability_alive(params: Array, x: Array, t_x: Array, T: Array) -> Array:
        result: Array = expit(-BetaGeoModel._log_odds_left(params, x, t_x, T))
        return result

    @staticmethod
    def _conditional_expected(params: Array, t: float, x: Array, t_x: Array, T: Array) -> Array:
        r, alpha, a, b = params
        share = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        bracket = 1.0 - share * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        result: Array = (a + b + x - 1) / (a - 1) * bracket
        return result * BetaGeoModel._probability_alive(params, x, t_x, T)

    @staticmethod
    def _unconditional(params: Array, t: Array) -> Array:
        r, alpha, a, b = params
        share = (alpha / (alpha + t)) ** r
        result: Array = (
            (a + b - 1) / (a - 1) * (1 - share * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
        )
        return result


class ParetoNBDModel(PurchaseModel):
    """Pareto/NBD (Schmittlein, Morrison and Colombo 1987): exponential customer lifetimes.

    Examples
    --------
    >>> model = ParetoNBDModel().fit([0, 2, 5], [0.0, 10.0, 30.0], [39.0, 39.0, 39.0])
    >>> sorted(model.params)
    ['alpha', 'beta', 'r', 's']
    """

    names = ("r", "alpha", "s", "beta")
    start = (1.0, 1.0, 1.0, 1.0)

    @staticmethod
    def _log_a0(params: Array, x: Array, t_x: Array, T: Array) -> Array:
        """log A0 of Fader and Hardie (2005, eq. 2 and 3), by the larger of alpha and beta."""
        r, alpha, s, beta = params
        if alpha >= beta:
            larger, smaller, second = alpha, beta, s + 1
        else:
            larger, smaller, second = beta, alpha, r + x
        total = r + s + x
        gap = larger - smaller
        at_recency = hyp2f1(total, second, total + 1, gap / (larger + t_x))
        at_end = hyp2f1(total, second, total + 1, gap / (larger + T))
        terms = np.stack(
            [
                np.log(at_recency) + total * np.log(larger + T),
                np.log(at_end) + total * np.log(larger + t_x),
            ]
        )
        signs = np.stack([np.ones_like(x), -np.ones_like(x)])
        difference: Array = logsumexp(terms, axis=0, b=signs)
        result: Array = difference - total * (np.log(larger + t_x) + np.log(larger + T))
        return result

    @staticmethod
    def _log_likelihood(params: Array, x: Array, t_x: Array, T: Array) -> Array:
        r, alpha, s, beta = params
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive_at_end = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        left_before_end = np.log(s) + ParetoNBDModel._log_a0(params, x, t_x, T) - np.log(r + s + x)
        result: Array = common + np.logaddexp(alive_at_end, left_before_end)
        return result

    @staticmethod
    def _probability_alive(params: Array, x: Array, t_x: Array, T: Array) -> Array:
        r, alpha, s, beta = params
        log_odds = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + T)
            + s * np.log(beta + T)
            + ParetoNBDModel._log_a0(params, x, t_x, T)
        )
        result: Array = expit(-log_odds)
        return result

    @staticmethod
    def _conditional_expected(params: Array, t: float, x: Array, t_x: Array, T: Array) -> Array:
        r, alpha, s, beta = params
        log_ratio = np.log(beta + T) - np.log(beta + T + t)
        if abs(s - 1) < 1e-9:
            lifetime_share = -log_ratio
        else:
            lifetime_share = -np.expm1((s - 1) * log_ratio) / (s - 1)
        rate = (r + x) * (beta + T) / (alpha + T)
        result: Array = rate * lifetime_share * ParetoNBDModel._probability_alive(params, x, t_x, T)
        return result

    @staticmethod
    def _unconditional(params: Array, t: Array) -> Array:
        r, alpha, s, beta = params
        if abs(s - 1) < 1e-9:
            result: Array = r * beta / alpha * np.log1p(t / beta)
        else:
            result = r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))
        return result
