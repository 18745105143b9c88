"""Maximum likelihood on positive parameters, shared by the customer-value models.

Parameters are optimised on the log scale (so they stay positive), each within a factor
of exp(15) (about 3.3 million) either side of its starting value; standard errors come
from the numerical Hessian of the log-likelihood at the optimum, carried back to the
natural scale with the delta method. A parameter that ends within a factor e of that box
(:data:`AT_BOUND_MARGIN` in log units) is reported *at bound*: the likelihood still rises
towards the edge, so the true optimum lies outside the box (often at 0 or infinity, where
the model degenerates) and the estimate is the box's, not the data's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

Array = NDArray[np.float64]
LOG_BOUND = 15.0
AT_BOUND_MARGIN = 1.0
PENALTY = 1e10
DIFFERENCE_STEP = 1e-3
NEWTON_STEPS = 3


@dataclass(frozen=True)
class Fit:
    """Fitted parameters, their standard errors and the maximised log-likelihood."""

    params: Array
    standard_errors: Array
    log_likelihood: float
    converged: bool
    iterations: int
    at_bound: NDArray[np.bool_]


class FittedModel:
    """What every fitted model offers: parameters and standard errors by name.

    Subclasses name their parameters in ``names`` and call :meth:`_store` from ``fit()``.
    """

    names: tuple[str, ...]
    params_: Array
    standard_errors_: Array
    log_likelihood_: float
    converged_: bool
    #: Which parameters ended at the optimiser's box (set by ``fit()``; none if set by hand).
    at_bound_: NDArray[np.bool_] | None = None

    @property
    def params(self) -> dict[str, float]:
        """The fitted parameters by name."""
        return {name: float(value) for name, value in zip(self.names, self._fitted())}

    @property
    def standard_errors(self) -> dict[str, float]:
        """The standard errors of the fitted parameters by name."""
        self._fitted()
        return {name: float(value) for name, value in zip(self.names, self.standard_errors_)}

    @property
    def parameters_at_bound(self) -> list[str]:
        """The parameters that ended at the optimiser's box (see the module's docstring)."""
        self._fitted()
        if self.at_bound_ is None:
            return []
        return [name for name, edge in zip(self.names, self.at_bound_) if edge]

    def _fitted(self) -> Array:
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")
        return self.params_

    def _store(self, fit: Fit) -> None:
        self.params_ = fit.params
        self.standard_errors_ = fit.standard_errors
        self.log_likelihood_ = fit.log_likelihood
        self.converged_ = fit.converged
        self.at_bound_ = fit.at_bound


def fit_positive(
    log_likelihood: Callable[[Array], float],
    start: Array,
    customers: float,
) -> Fit:
    """Maximise ``log_likelihood(params)`` over positive ``params`` starting from ``start``.

    L-BFGS-B on the log-parameters (kept within exp(+/-15) of ``start``) minimises the mean
    negative log-likelihood per customer, so that step sizes do not grow with the number
    of customers; if it stops without converging, Nelder-Mead continues from there.
    """

    def objective(log_params: Array) -> float:
        value = log_likelihood(np.exp(log_params)) / customers
        return -value if np.isfinite(value) else PENALTY

    centre = np.log(start)
    bounds = [(middle - LOG_BOUND, middle + LOG_BOUND) for middle in centre]
    result = minimize(
        objective,
        centre,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-13, "gtol": 1e-7, "maxiter": 2000},
    )
    iterations = int(result.nit)
    location = result.x
    if not result.success:
        polish = minimize(
            objective,
            result.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 4000},
        )
        iterations += int(polish.nit)
        if polish.fun <= result.fun:
            location = polish.x
    location, value, gradient, curvature = _newton_polish(log_likelihood, location, centre)
    params = np.exp(location)
    return Fit(
        params=params,
        standard_errors=_standard_errors(curvature, params),
        log_likelihood=value,
        converged=bool(np.max(np.abs(gradient)) / customers < 1e-5),
        iterations=iterations,
        at_bound=np.abs(location - centre) >= LOG_BOUND - AT_BOUND_MARGIN,
    )


def _newton_polish(
    log_likelihood: Callable[[Array], float], location: Array, centre: Array
) -> tuple[Array, float, Array, Array]:
    """A few Newton steps in log-parameters from near the optimum, kept while they improve.

    A quasi-Newton search with finite-difference gradients stops where the likelihood is
    flat to machine precision, which can leave a weakly identified parameter off in its
    third decimal; Newton steps on central differences settle it. Returns the location,
    the log-likelihood there, and its gradient and Hessian (in log-parameters).
    """
    value = log_likelihood(np.exp(location))
    gradient, curvature = _derivatives(log_likelihood, location, value)
    for _ in range(NEWTON_STEPS):
        try:
            step = np.linalg.solve(curvature, gradient)
        except np.linalg.LinAlgError:
            break
        candidate = location - step
        if np.any(np.abs(candidate - centre) > LOG_BOUND):
            break
        candidate_value = log_likelihood(np.exp(candidate))
        if not np.isfinite(candidate_value) or candidate_value < value:
            break
        location, value = candidate, candidate_value
        gradient, curvature = _derivatives(log_likelihood, location, value)
    return location, value, gradient, curvature


def _derivatives(
    log_likelihood: Callable[[Array], float], center: Array, middle: float
) -> tuple[Array, Array]:
    """Gradient and Hessian by central differences (2k^2 + 2k evaluations for k parameters).

    scipy.differentiate.hessian's adaptive scheme needs about fifty times as many
    likelihood evaluations, which is minutes for a million customers.
    """
    size = len(center)
    step = DIFFERENCE_STEP

    def at(*moves: tuple[int, float]) -> float:
        point = center.copy()
        for index, move in moves:
            point[index] += move
        return log_likelihood(np.exp(point))

    gradient = np.zeros(size)
    matrix = np.zeros((size, size))
    for i in range(size):
        up, down = at((i, step)), at((i, -step))
        gradient[i] = (up - down) / (2 * step)
        matrix[i, i] = (up - 2 * middle + down) / step**2
        for j in range(i):
            corners = (
                at((i, step), (j, step))
                - at((i, step), (j, -step))
                - at((i, -step), (j, step))
                + at((i, -step), (j, -step))
            )
            matrix[i, j] = matrix[j, i] = corners / (4 * step**2)
    return gradient, matrix


def _standard_errors(curvature: Array, params: Array) -> Array:
    """Delta-method standard errors from the Hessian in log-parameters (NaN if singular)."""
    try:
        covariance = np.linalg.inv(-curvature)
    except np.linalg.LinAlgError:
        return np.full_like(params, np.nan)
    variances = np.diag(covariance) * params**2
    return np.where(variances > 0, np.sqrt(np.abs(variances)), np.nan)


def compress(*columns: Array) -> tuple[list[Array], Array, NDArray[np.intp]]:
    """Unique rows of the given columns, how often each occurs, and each row's unique index.

    Likelihoods are sums over customers; customers with identical summaries contribute
    identical terms, so models evaluate each distinct summary once with its count as weight.
    """
    order = np.lexsort(columns[::-1])
    ordered = [column[order] for column in columns]
    starts = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        starts[1:] = np.any(np.stack([np.diff(column) != 0 for column in ordered]), axis=0)
    group = np.cumsum(starts) - 1
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = group
    counts = np.bincount(group).astype(np.float64)
    return [column[starts] for column in ordered], counts, inverse
