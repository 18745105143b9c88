"""The customer-value fits as the result reports them, and the spend each customer gets.

Each fit is reported with its problems (:mod:`journeys.models.diagnosis` states every rule
and threshold). The spend per purchase behind the values comes from the Gamma-Gamma model
only when its fit has no problem at all; otherwise from what customers paid, weighted by
credibility (:class:`journeys.models.credibility.CredibilitySpend`), which never exceeds
the largest purchase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from journeys.models import GammaGammaModel
from journeys.models.credibility import CredibilitySpend
from journeys.models.diagnosis import (
    Problem,
    ProblemCode,
    few_repeat_customers,
    fit_problems,
    readable,
    spend_problems,
)
from journeys.models.fitting import FittedModel as Estimator

SpendBasis = Literal["gamma_gamma", "observed_mean"]


class FitProblem(BaseModel):
    """One problem of a fit, with the stable code a tool can act on."""

    code: ProblemCode = Field(
        description="not-converged; at-bound (a parameter within a factor e of the "
        "optimiser's box, exp(+/-15) around its start); se-larger-than-estimate (standard "
        "error above the estimate, or not computable; converged fits only); "
        "few-repeat-customers (fewer than 200 fitted customers bought twice); "
        "unbounded-mean (Gamma-Gamma q <= 1, q - 1 under 2 standard errors of q, or the "
        "average purchase p * gamma / (q - 1) over 1.5 times repeat customers' mean spend); "
        "implausible-mean (that average under 1/1.5 of it, or above the largest purchase); "
        "holdout-miss (predicted purchases after the calibration end off the actual ones "
        "by more than 20% and more than 2 * sqrt(predicted))."
    )
    parameter: str | None = Field(description="The parameter concerned (null for the whole fit).")
    message: str = Field(description="The problem in words.")

    @classmethod
    def of(cls, problem: Problem) -> FitProblem:
        return cls(code=problem.code, parameter=problem.parameter, message=problem.message)


class FittedModel(BaseModel):
    """A fitted model's parameters, their standard errors, the fit and its problems."""

    params: dict[str, float] = Field(
        description="The fitted parameters by name "
        "(r, alpha, a, b; r, alpha, s, beta; p, q, gamma)."
    )
    standard_errors: dict[str, float | None] = Field(
        description="From the Hessian at the optimum (null where it is not invertible)."
    )
    log_likelihood: float = Field(description="The log-likelihood at the optimum.")
    converged: bool = Field(description="Whether the optimiser converged.")
    problems: list[FitProblem] = Field(
        default_factory=list,
        description="What is wrong with the fit (empty when nothing is): see each code.",
    )

    @classmethod
    def of(cls, model: Estimator, problems: list[Problem] | None = None) -> FittedModel:
        return cls(
            params=model.params,
            standard_errors=model.standard_errors,
            log_likelihood=model.log_likelihood_,
            converged=model.converged_,
            problems=[FitProblem.of(problem) for problem in problems or []],
        )


class SpendEstimate(BaseModel):
    """Where each customer's spend per purchase comes from, with the figures to recompute it."""

    reason: str = Field(description="Why this basis, in words.")
    purchases: int = Field(
        description="Purchases (days with one) of the fitted customers up to the calibration end."
    )
    mean_order_value: float = Field(
        description="Mean value of those purchases: sum of values / purchases."
    )
    largest_order_value: float = Field(description="The largest of those purchases.")
    mean_repeat_spend: float | None = Field(
        description="Mean, over customers with a repeat purchase of positive value, of their "
        "mean repeat purchase (what the Gamma-Gamma average is checked against)."
    )
    gamma_gamma_average: float | None = Field(
        description="The Gamma-Gamma average purchase p * gamma / (q - 1) (null when q <= 1: "
        "infinite, or without a fit)."
    )
    within_variance: float | None = Field(
        description="Credibility: variance of a customer's purchases around their own mean, "
        "sum of squared differences / sum of (n - 1) (null when nobody bought twice)."
    )
    between_variance: float | None = Field(
        description="Credibility: variance of customers' own means, "
        "(sum n (m - mean)^2 - (customers - 1) within) / (N - sum n^2 / N)."
    )
    credibility_constant: float | None = Field(
        description="k = within / between: a customer with n purchases gets n / (n + k) of "
        "their own mean and the rest of the mean of all purchases (null when between <= 0: "
        "everyone gets the mean of all purchases)."
    )


@dataclass(frozen=True)
class Spending:
    """The spend model, its problems, the basis chosen and each customer's spend per purchase."""

    model: GammaGammaModel | None
    problems: list[Problem]
    basis: SpendBasis
    estimate: SpendEstimate
    values: np.ndarray


def choose_spend(summary: pd.DataFrame) -> Spending:
    """Fit Gamma-Gamma and the credibility estimate; use Gamma-Gamma only if it has no problem."""
    x = summary["frequency"].to_numpy(dtype=np.float64)
    repeat_mean = summary["monetary_value"].to_numpy(dtype=np.float64)
    spenders = (x > 0) & np.isfinite(repeat_mean) & (repeat_mean > 0)
    order_mean = summary["mean_order_value"].to_numpy(dtype=np.float64)
    credibility = CredibilitySpend().fit(
        x + 1, order_mean, summary["order_value_squares"].to_numpy(dtype=np.float64)
    )
    largest = float(np.max(summary["largest_order_value"].to_numpy(dtype=np.float64)))
    model, problems, observed = None, [], None
    if spenders.any():
        model = GammaGammaModel().fit(x[spenders], repeat_mean[spenders])
        observed = float(np.mean(repeat_mean[spenders]))
        q_error = model.standard_errors["q"] if model.converged_ else None
        problems = [
            *fit_problems("Gamma-Gamma", model),
            *few_repeat_customers("Gamma-Gamma", int(spenders.sum())),
            *spend_problems(model, observed, largest, q_error),
        ]
    average = model.population_mean() if model is not None else float("nan")
    usable = model is not None and not problems
    estimate = SpendEstimate(
        reason=_reason(model, problems, credibility) if not usable else _TRUSTED,
        purchases=int(np.sum(x + 1)),
        mean_order_value=credibility.mean_,
        largest_order_value=largest,
        mean_repeat_spend=observed,
        gamma_gamma_average=average if np.isfinite(average) else None,
        within_variance=credibility.within_variance_,
        between_variance=credibility.between_variance_,
        credibility_constant=credibility.constant_,
    )
    if usable and model is not None:
        values = model.expected_average_value(x, repeat_mean)
        return Spending(model, problems, "gamma_gamma", estimate, values)
    values = credibility.expected_average_value(x + 1, order_mean)
    return Spending(model, problems, "observed_mean", estimate, values)


_TRUSTED = (
    "the Gamma-Gamma spend model fits without a problem: each customer's spend per purchase "
    "is its estimate, their own mean repeat purchase weighed against the model's average"
)


def _reason(
    model: GammaGammaModel | None, problems: list[Problem], credibility: CredibilitySpend
) -> str:
    """Why the values rest on what customers paid, and how, in words."""
    if model is None:
        why = "no customer with a repeat purchase spent anything, so the Gamma-Gamma spend "
        why += "model cannot be fitted"
    else:
        codes = ", ".join(dict.fromkeys(problem.code for problem in problems))
        why = f"the Gamma-Gamma spend model is not used ({codes})"
    mean = f"{credibility.mean_:,.2f}"
    if credibility.constant_ is None:
        how = (
            f"every customer's spend per purchase is the mean of all purchases ({mean}): "
            "customers' own means differ no more than chance explains"
        )
    else:
        k = credibility.constant_
        how = (
            "each customer's spend per purchase is their own mean purchase weighted by "
            f"credibility n / (n + k), k = {readable(k)} (a one-time buyer's own purchase counts "
            f"for {1 / (1 + k):.0%}), and the mean of all purchases ({mean}) for the rest; "
            "it never exceeds the largest purchase"
        )
    return f"{why}; {how}"


def undetermined_warnings(models: dict[str, Estimator | None]) -> list[str]:
    """Parameters whose standard error exceeds their estimate, one sentence per fit."""
    notes = []
    for name, model in models.items():
        if model is None:
            continue
        loose = [
            f"{problem.parameter} {model.params[problem.parameter]:,.3g} (standard error "
            f"{model.standard_errors[problem.parameter]:,.3g})"
            for problem in fit_problems(name, model)
            if problem.code == "se-larger-than-estimate" and problem.parameter is not None
        ]
        if loose:
            notes.append(
                f"the {name} fit leaves {', '.join(loose)} poorly determined: the data say "
                "little about them, so read its predictions for groups of customers rather "
                "than its parameters"
            )
    return notes


def warnings_of(fits: dict[str, list[Problem]], spending: Spending | None) -> list[str]:
    """Every problem in words (undetermined parameters apart, one sentence per fit), then
    the spend basis when the values do not rest on the spend model."""
    said = [
        problem.message
        for problems in fits.values()
        for problem in problems
        if problem.code != "se-larger-than-estimate"
    ]
    if spending is not None and spending.basis == "observed_mean":
        said.append(spending.estimate.reason)
    return said
