"""What can be wrong with a fitted customer-value model, each with a stable code.

Every rule below is stated with its threshold so that anyone can recompute it from the
fitted parameters, their standard errors and the data's own summaries.

``not-converged``
    The optimiser stopped before the gradient vanished; estimates and standard errors
    are not those of an optimum.
``at-bound``
    A parameter ended within a factor e of the optimiser's box (exp(+/-15) around its
    start, :mod:`journeys.models.fitting`): the likelihood still rises towards the edge.
``se-larger-than-estimate``
    A parameter's standard error exceeds the estimate itself, or cannot be computed
    (the likelihood is flat there). Judged for converged fits only: elsewhere the
    Hessian is not that of an optimum.
``few-repeat-customers``
    Fewer than :data:`MIN_REPEAT_CUSTOMERS` (200) customers bought more than once.
    On purchases simulated from CDNOW's published fits (BG/NBD r 0.243, alpha 4.414,
    a 0.793, b 2.426; Gamma-Gamma p 6.25, q 3.74, gamma 15.44), 20 samples at each
    size, a parameter was left with a standard error above its estimate in 45% of
    BG/NBD fits and 50% of Gamma-Gamma fits with 100 repeat customers, and in 5% and
    0% with 200.
``unbounded-mean``
    The Gamma-Gamma model's average purchase ``p * gamma / (q - 1)`` is infinite
    (``q <= 1``), or ``q - 1`` is less than :data:`Q_STANDARD_ERRORS` (2) standard
    errors of ``q`` (the data cannot rule out an infinite average), or the average is
    more than :data:`SPEND_TOLERANCE` (1.5) times the mean of repeat customers' mean
    repeat spend, which estimates the same quantity without the model. In the same 20
    samples per size the ratio stayed within 1/1.5 to 1.5 every time, down to 25
    repeat customers: beyond it the data, not chance, speak against the model.
``implausible-mean``
    The average purchase is less than the repeat customers' mean spend divided by
    :data:`SPEND_TOLERANCE`, or more than the largest purchase anyone made.
``holdout-miss``
    Over a holdout period, the predicted purchases of all customers differ from the
    actual ones by more than :data:`HOLDOUT_TOLERANCE` (20%) of the actual number
    *and* by more than :data:`HOLDOUT_CHANCE` (2) Poisson standard deviations of the
    prediction (``2 * sqrt(predicted)``), so that a small holdout's chance misses do
    not count. On CDNOW's 39-week holdout, where the models are known to fit (Fader,
    Hardie and Lee 2005), BG/NBD misses by 12% (1,653 predicted, 1,882 purchase days).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from journeys.models.fitting import FittedModel
from journeys.models.gamma_gamma import GammaGammaModel

ProblemCode = Literal[
    "not-converged",
    "at-bound",
    "se-larger-than-estimate",
    "few-repeat-customers",
    "unbounded-mean",
    "implausible-mean",
    "holdout-miss",
]
MIN_REPEAT_CUSTOMERS = 200
SPEND_TOLERANCE = 1.5
Q_STANDARD_ERRORS = 2.0
HOLDOUT_TOLERANCE = 0.2
HOLDOUT_CHANCE = 2.0


def readable(value: float) -> str:
    """Three significant digits, never in scientific notation (1.91e+04 reads 19,100).

    Examples
    --------
    >>> readable(19139.0), readable(16.7), readable(0.006513), readable(3269017.4)
    ('19,100', '16.7', '0.00651', '3,270,000')
    """
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= 2:
        return f"{round(value, 2 - magnitude):,.0f}"
    return f"{value:,.{2 - magnitude}f}"


@dataclass(frozen=True)
class Problem:
    """One problem of one fit: a stable code, the parameter concerned and a sentence."""

    code: ProblemCode
    message: str
    parameter: str | None = None


def fit_problems(name: str, model: FittedModel) -> list[Problem]:
    """Convergence, parameters at the optimiser's box and undetermined parameters.

    Examples
    --------
    Customers who buy every week and never leave drive BG/NBD to its limits:

    >>> from journeys.models import BetaGeoModel
    >>> weeks = [20.0, 24.0, 28.0, 32.0] * 5
    >>> model = BetaGeoModel().fit(weeks, weeks, weeks)
    >>> sorted({problem.code for problem in fit_problems("BG/NBD", model)})
    ['at-bound', 'se-larger-than-estimate']
    """
    if not model.converged_:
        problems = [
            Problem(
                "not-converged",
                f"the {name} fit did not converge: treat its parameters and predictions "
                "with caution",
            )
        ]
    else:
        problems = []
    for parameter in model.parameters_at_bound:
        value = model.params[parameter]
        problems.append(
            Problem(
                "at-bound",
                f"the {name} fit ran {parameter} to {readable(value)}, the edge of the range the "
                "optimiser searches: the data push it on towards "
                f"{'infinity' if value > 1 else 'zero'}, where the model degenerates, so "
                "the value is the edge's, not the data's",
                parameter,
            )
        )
    if not model.converged_:
        return problems
    for parameter, estimate in model.params.items():
        error = model.standard_errors.get(parameter)
        if error is None or not math.isfinite(error):
            said = "cannot be computed (the likelihood is flat there)"
        elif error > abs(estimate):
            said = f"{readable(error)}, larger than the estimate"
        else:
            continue
        problems.append(
            Problem(
                "se-larger-than-estimate",
                f"the {name} fit leaves {parameter} = {readable(estimate)} undetermined: its "
                f"standard error {said}",
                parameter,
            )
        )
    return problems


def few_repeat_customers(name: str, repeat_customers: int) -> list[Problem]:
    """Whether too few customers bought more than once for the model to learn from."""
    if repeat_customers >= MIN_REPEAT_CUSTOMERS:
        return []
    return [
        Problem(
            "few-repeat-customers",
            f"the {name} fit rests on {repeat_customers:,} customers who bought more than "
            f"once, fewer than {MIN_REPEAT_CUSTOMERS}: its parameters are likely to be "
            "poorly determined",
        )
    ]


def spend_problems(
    model: GammaGammaModel,
    observed_mean: float,
    largest: float | None = None,
    q_error: float | None = None,
) -> list[Problem]:
    """Whether the spend model's average purchase is infinite, near it, or implausible.

    ``observed_mean`` is the mean of repeat customers' mean repeat spend, ``largest`` the
    largest purchase anyone made and ``q_error`` the standard error of ``q`` (either
    check is skipped when not given).

    Examples
    --------
    >>> import numpy as np
    >>> model = GammaGammaModel()
    >>> model.params_ = np.array([2.94, 1.03, 56.7])
    >>> [problem.code for problem in spend_problems(model, 480.0)]
    ['unbounded-mean']
    """
    _, q, _ = model.params_
    implied = model.population_mean()
    average = f"{implied:,.2f}" if math.isfinite(implied) else "no finite amount"
    ratio = implied / observed_mean if math.isfinite(implied) and observed_mean > 0 else math.inf
    said = (
        f"the Gamma-Gamma spend model implies an average purchase of {average} "
        f"(q = {q:.2f}) where repeat customers spend {observed_mean:,.2f} on average"
        + (f", {readable(ratio)} times as much" if math.isfinite(ratio) else "")
    )
    if q <= 1:
        why = "q is at most 1, so its average purchase is infinite"
    elif q_error is not None and math.isfinite(q_error) and q - 1 < Q_STANDARD_ERRORS * q_error:
        why = (
            f"q is within {Q_STANDARD_ERRORS:g} standard errors ({readable(q_error)}) of 1, where "
            "the average purchase becomes infinite"
        )
    elif ratio > SPEND_TOLERANCE:
        why = f"more than {SPEND_TOLERANCE:g} times, as q nears 1"
    else:
        why = ""
    if why:
        return [Problem("unbounded-mean", f"{said}: {why}", "q")]
    if ratio < 1 / SPEND_TOLERANCE:
        why = f"less than 1/{SPEND_TOLERANCE:g}"
    elif largest is not None and implied > largest:
        why = f"more than the largest purchase anyone made ({largest:,.2f})"
    return [Problem("implausible-mean", f"{said}: {why}")] if why else []


def holdout_miss(name: str, predicted: float, actual: float, period: str) -> list[Problem]:
    """Whether the predicted purchases over a holdout ``period`` miss the actual ones badly."""
    miss = abs(predicted - actual)
    if miss <= HOLDOUT_TOLERANCE * actual or miss <= HOLDOUT_CHANCE * math.sqrt(predicted):
        return []
    share = f"{miss / actual:.0%}" if actual > 0 else "all"
    return [
        Problem(
            "holdout-miss",
            f"the {name} model predicted {predicted:,.0f} purchases over the {period} after "
            f"the calibration end where customers made {actual:,.0f}: it misses by {share}, "
            f"more than {HOLDOUT_TOLERANCE:.0%} and more than chance explains",
        )
    ]
