"""Spend per purchase from what customers paid: each customer's mean, given credibility.

The Bühlmann-Straub credibility estimator (Bühlmann and Straub 1970, "Glaubwürdigkeit
für Schadensätze", Mitteilungen der Vereinigung schweizerischer
Versicherungsmathematiker 70; the nonparametric estimates follow Klugman, Panjer and
Willmot, "Loss Models", chapter "Empirical Bayes parameter estimation"). It assumes only
that each customer has a mean spend of their own around which their purchases vary; it
fits no distribution, so it has no population mean that can run off to infinity.

For customers ``i`` with ``n_i`` purchases of mean ``m_i`` (``N`` purchases in all, ``R``
customers) and within-customer sums of squares ``S_i = sum_j (v_ij - m_i)^2``:

- ``mean = sum_i n_i m_i / N``, the mean value of all purchases;
- ``within = sum_i S_i / sum_i (n_i - 1)``, how much one customer's purchases vary;
- ``between = (sum_i n_i (m_i - mean)^2 - (R - 1) within) / (N - sum_i n_i^2 / N)``, how
  much customers' own means vary;
- ``k = within / between`` and each customer's weight ``Z_i = n_i / (n_i + k)``;
- expected spend per purchase ``Z_i m_i + (1 - Z_i) mean``.

Where ``between`` is not positive (customers do not differ beyond chance), every weight
is 0 and every customer gets ``mean``; where ``within`` is 0 (every customer always pays
the same), every weight is 1. Each expected spend lies between a customer's own mean and
the mean of all purchases, so it never exceeds the largest purchase.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from numpy.typing import ArrayLike

from journeys.models.fitting import Array


class CredibilitySpend:
    """Expected spend per purchase: own mean and the mean of all purchases, by credibility.

    Examples
    --------
    >>> model = CredibilitySpend().fit([1, 3, 2], [100.0, 20.0, 50.0], [0.0, 8.0, 2.0])
    >>> round(model.mean_, 2)
    43.33
    """

    mean_: float
    within_variance_: float | None
    between_variance_: float | None
    constant_: float | None

    def fit(self, purchases: ArrayLike, mean_value: ArrayLike, squares: ArrayLike) -> Self:
        """Estimate the mean, the two variances and ``k`` from each customer's purchases.

        ``purchases`` counts each customer's purchases (1 or more), ``mean_value`` is their
        mean value and ``squares`` the sum of squared differences from that mean.
        """
        n, m, within_squares = self._checked(purchases, mean_value, squares)
        total = float(n.sum())
        self.mean_ = float(np.sum(n * m) / total)
        freedom = float(np.sum(n - 1))
        self.within_variance_ = float(np.sum(within_squares) / freedom) if freedom > 0 else None
        spread = total - float(np.sum(n**2)) / total
        if self.within_variance_ is None or spread <= 0:
            self.between_variance_ = self.constant_ = None
            return self
        between = (
            float(np.sum(n * (m - self.mean_) ** 2)) - (len(n) - 1) * self.within_variance_
        ) / spread
        self.between_variance_ = between
        self.constant_ = self.within_variance_ / between if between > 0 else None
        return self

    def weights(self, purchases: ArrayLike) -> Array:
        """Each customer's credibility ``n / (n + k)`` (0 when customers do not differ)."""
        n = np.asarray(purchases, dtype=np.float64)
        if self.between_variance_ is None or self.between_variance_ <= 0:
            return np.zeros_like(n)
        constant = self.constant_ if self.constant_ is not None else 0.0
        result: Array = n / (n + constant)
        return result

    def expected_average_value(self, purchases: ArrayLike, mean_value: ArrayLike) -> Array:
        """Each customer's expected spend per purchase."""
        weight = self.weights(purchases)
        m = np.asarray(mean_value, dtype=np.float64)
        result: Array = weight * m + (1 - weight) * self.mean_
        return result

    @staticmethod
    def _checked(
        purchases: ArrayLike, mean_value: ArrayLike, squares: ArrayLike
    ) -> tuple[Array, Array, Array]:
        n = np.asarray(purchases, dtype=np.float64)
        m = np.asarray(mean_value, dtype=np.float64)
        s = np.asarray(squares, dtype=np.float64)
        if not (n.shape == m.shape == s.shape) or n.ndim != 1:
            raise ValueError("purchases, mean_value and squares must be one-dimensional and equal")
        if n.size == 0:
            raise ValueError("there are no customers to estimate spend from")
        if np.any(~np.isfinite(n) | ~np.isfinite(m) | ~np.isfinite(s)):
            raise ValueError("purchases, mean values and squares must be finite numbers")
        if np.any(n < 1) or np.any(n != np.round(n)):
            raise ValueError("each customer needs a whole number of purchases, 1 or more")
        if np.any(s < 0):
            raise ValueError("sums of squares cannot be negative")
        return n, m, s
