"""Customer lifetime value: purchase summaries in the engine, BTYD models on the summaries.

Each customer's purchases are summarised in the engine (:mod:`journeys.analyses.clv_summary`;
purchases on the same day merged into one): ``frequency`` (repeat purchases before the
calibration end), ``recency`` and ``T`` (time from the first purchase to the last one and
to the calibration end, in the time unit), the mean value of the repeat purchases and of
all purchases. BG/NBD and Pareto/NBD purchase models and the Gamma-Gamma spend model
(:mod:`journeys.models`) are fitted on those summaries. When purchases continue after the
calibration end, the holdout check compares predicted and actual purchases in that period.

Every fit is diagnosed, and each problem has a stable code in the result
(``bgnbd.problems``, ``pareto_nbd.problems``, ``gamma_gamma.problems``; the rules and
thresholds are those of :mod:`journeys.models.diagnosis`):

- ``not-converged``: the optimiser did not reach an optimum;
- ``at-bound``: a parameter within a factor e of the optimiser's box, exp(+/-15) around
  its start;
- ``se-larger-than-estimate``: a standard error above its estimate, or not computable;
- ``few-repeat-customers``: fewer than 200 customers bought twice (on data simulated from
  CDNOW's published fits, half the fits on 100 leave a parameter undetermined, 0-5% on 200);
- ``unbounded-mean``: the Gamma-Gamma average purchase ``p * gamma / (q - 1)`` is
  infinite (``q <= 1``), cannot be told from infinite (``q - 1`` under two standard
  errors of ``q``), or is more than 1.5 times the mean of repeat customers' mean repeat
  purchase, which estimates the same average without the model;
- ``implausible-mean``: that average is under 1/1.5 of the repeat customers' mean, or
  above the largest purchase anyone made;
- ``holdout-miss``: the purchases predicted after the calibration end are off the actual
  ones by more than 20% and more than ``2 * sqrt(predicted)``.

Spend per purchase (``spend_basis``): the Gamma-Gamma estimate when its fit has no problem
(``gamma_gamma``); otherwise (``observed_mean``) what customers paid, by credibility
(Bühlmann-Straub): a customer with ``n`` purchases (``frequency + 1``) of mean
``mean_order_value`` gets ``Z * mean_order_value + (1 - Z) * spend.mean_order_value`` with
``Z = n / (n + spend.credibility_constant)`` (``Z = 0`` for everyone when the constant is
null). That lies between the customer's own mean and the mean of all purchases, so no one,
one-time buyers included, is valued above the largest purchase. Each customer's ``clv`` is
the discounted expected purchases over the horizon x that spend x the margin, and the
customers are ranked on it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, PrivateAttr

from journeys.analyses.base import Params, Result, Row, TableOf
from journeys.analyses.clv_fits import (
    FittedModel,
    SpendBasis,
    SpendEstimate,
    choose_spend,
    warnings_of,
)
from journeys.analyses.clv_fits import undetermined_warnings as _undetermined
from journeys.analyses.clv_summary import purchase_summary, uncovered
from journeys.analyses.clv_tables import DecileRow, HoldoutRow, decile_table, holdout_table
from journeys.analyses.registry import Analysis
from journeys.data.reader import EventLog
from journeys.errors import DataError
from journeys.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from journeys.models.btyd import PurchaseModel
from journeys.models.diagnosis import (
    Problem,
    few_repeat_customers,
    fit_problems,
    holdout_miss,
    spend_problems,
)

UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
DAYS_PER_YEAR = 365.25
NO_VALUE = (
    "the purchases carry no value (the events have no value column): expected purchases "
    "and the probability of being alive are estimated, spend and lifetime value are not; "
    "name the column with --value-col"
)
SPEND_BASES = {
    "gamma_gamma": "the Gamma-Gamma spend model",
    "observed_mean": "what customers paid, by credibility",
}


class ClvParams(Params):
    """How to summarise purchases and value customers."""

    calibration_end: dt.date | None = Field(
        default=None,
        description="Last day (inclusive) of the period the models learn from; later purchases "
        "are the holdout. Default: the day of the last purchase.",
    )
    time_unit: Literal["day", "week", "month"] = Field(
        default="week", description="The unit of recency, T and the horizon."
    )
    horizon: float | None = Field(
        default=None, gt=0, description="How far ahead to value customers, in time units (1 year)."
    )
    margin: float = Field(default=1.0, gt=0, le=1, description="Share of revenue that is profit.")
    discount_rate: float = Field(default=0.0, ge=0, description="Yearly discount rate.")
    model: Literal["bgnbd", "pareto_nbd"] = Field(
        default="bgnbd", description="The purchase model behind each customer's predictions."
    )
    purchase_event: str | None = Field(
        default=None, description="What a purchase is (default: the spec's purchase milestone)."
    )
    bayes: bool = Field(
        default=False,
        description="Also fit BG/NBD and Gamma-Gamma with PyMC-Marketing for credible "
        "intervals (needs journeys[bayes]).",
    )

    @property
    def unit_days(self) -> float:
        return UNIT_DAYS[self.time_unit]

    @property
    def horizon_units(self) -> float:
        return self.horizon if self.horizon is not None else DAYS_PER_YEAR / self.unit_days


class ClvCustomerRow(Row):
    """One customer: purchase summary, predictions and value."""

    customer_id: str = Field(description="The customer.")
    frequency: int = Field(description="Repeat purchases (days with a purchase, less one).")
    recency: float = Field(description="First to last purchase, in time units.")
    T: float = Field(description="First purchase to the calibration end, in time units.")
    monetary_value: float | None = Field(
        description="Mean value of the repeat purchases (what the Gamma-Gamma model reads)."
    )
    mean_order_value: float | None = Field(
        description="Mean value of all purchases up to the calibration end, the first "
        "included (what the credibility spend reads, with frequency + 1 purchases)."
    )
    first_purchase: dt.date = Field(description="The day of the first purchase.")
    holdout_purchases: int = Field(description="Purchase days after the calibration end.")
    holdout_value: float = Field(description="Value of the purchases after the calibration end.")
    expected_purchases: float = Field(description="Expected purchases over the horizon.")
    p_alive: float = Field(description="Probability that the customer is still active.")
    expected_average_value: float | None = Field(
        description="Expected value of a purchase, on the result's spend_basis: the "
        "Gamma-Gamma estimate, or Z * mean_order_value + (1 - Z) * spend.mean_order_value "
        "with Z = (frequency + 1) / (frequency + 1 + spend.credibility_constant)."
    )
    clv: float | None = Field(
        description="Discounted expected purchases over the horizon x expected_average_value "
        "x margin; customers are ranked on it."
    )


class PosteriorRow(Row):
    """A parameter's posterior (PyMC-Marketing, NUTS)."""

    parameter: str = Field(description="The model parameter.")
    mean: float = Field(description="Posterior mean.")
    sd: float = Field(description="Posterior standard deviation.")
    hdi_low: float = Field(description="Lower end of the 94% highest-density interval.")
    hdi_high: float = Field(description="Upper end of the 94% highest-density interval.")
    r_hat: float | None = Field(
        description="The Gelman-Rubin convergence statistic (near 1 when the chains agree)."
    )


class ClvResult(Result):
    """Fitted models, one row per customer, the holdout check and headline numbers."""

    main_table = "customers"
    params: ClvParams
    calibration_end: dt.date = Field(description="The last day of the calibration period.")
    time_unit: str = Field(
        description="The time unit of recency, T, the horizon and the holdout length."
    )
    horizon: float = Field(description="How far ahead customers are valued, in time units.")
    model: str = Field(description="The purchase model behind the predictions.")
    customers_fitted: int = Field(
        description="Customers whose first purchase is in the calibration period."
    )
    repeat_customers: int = Field(description="Fitted customers with at least one repeat purchase.")
    customers_after_calibration: int = Field(
        description="Customers whose first purchase came after the calibration end (not fitted)."
    )
    holdout_length: float | None = Field(description="Time units after the calibration end.")
    total_expected_purchases: float = Field(
        description="Expected purchases of all fitted customers over the horizon."
    )
    total_clv: float | None = Field(
        description="CLV of all fitted customers (null without purchase values)."
    )
    spend_basis: SpendBasis | None = Field(
        description="Where each customer's spend per purchase comes from: gamma_gamma when "
        "the Gamma-Gamma fit has no problem, else observed_mean (what customers paid, by "
        "credibility; see spend); null without purchase values."
    )
    spend: SpendEstimate | None = Field(
        description="Why that basis, and the figures to recompute the spend per purchase "
        "(null without purchase values)."
    )
    warnings: list[str] = Field(
        description="Every problem of the fits in words, and the spend basis when it is not "
        "the spend model."
    )
    bgnbd: FittedModel = Field(description="The BG/NBD fit and its problems.")
    pareto_nbd: FittedModel = Field(description="The Pareto/NBD fit and its problems.")
    gamma_gamma: FittedModel | None = Field(
        description="The Gamma-Gamma fit and its problems (null without purchase values, or "
        "when no repeat purchase has a positive value)."
    )
    holdout: Annotated[pd.DataFrame, TableOf(HoldoutRow)] | None = Field(
        description="The holdout check (null when no purchase follows the calibration end)."
    )
    deciles: Annotated[pd.DataFrame, TableOf(DecileRow)] = Field(
        description="Customers ranked by CLV in ten groups."
    )
    bayes: dict[str, Annotated[pd.DataFrame, TableOf(PosteriorRow)]] | None = Field(
        default=None, description="Posteriors by model (bgnbd, gamma_gamma), with --bayes."
    )
    customers: Annotated[pd.DataFrame, TableOf(ClvCustomerRow)] = Field(
        description="One row per fitted customer, most valuable first."
    )
    _estimators: dict[str, Any] = PrivateAttr(default_factory=dict)

    def fits(self) -> list[tuple[str, FittedModel]]:
        """The fitted models with their names as a person reads them."""
        named = (("BG/NBD", self.bgnbd), ("Pareto/NBD", self.pareto_nbd))
        if self.gamma_gamma is None:
            return list(named)
        return [*named, ("Gamma-Gamma", self.gamma_gamma)]

    def models(self) -> pd.DataFrame:
        """One row per model parameter: estimate, standard error, log-likelihood, problems.

        ``problems`` lists the codes of the fit's problems that concern the parameter,
        and on the first row of each model those that concern the whole fit.
        """
        rows = [
            {
                "model": label,
                "parameter": parameter,
                "estimate": value,
                "standard_error": fitted.standard_errors.get(parameter),
                "log_likelihood": fitted.log_likelihood,
                "converged": fitted.converged,
                "problems": ", ".join(
                    problem.code
                    for problem in fitted.problems
                    if problem.parameter == parameter or (problem.parameter is None and first)
                ),
            }
            for label, fitted in self.fits()
            for first, (parameter, value) in zip(
                [True, *[False] * len(fitted.params)], fitted.params.items()
            )
        ]
        return pd.DataFrame(rows)

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        shown = [("models", self.models())]
        for name, table in (self.bayes or {}).items():
            shown.append((f"{name}: posterior (PyMC-Marketing, 94% interval)", table))
        if self.holdout is not None:
            shown.append(
                (f"holdout check over {self.holdout_length:.1f} {self.time_unit}s", self.holdout)
            )
        horizon = f"{self.horizon:.0f} {self.time_unit}s"
        if self.total_clv is None:
            shown.append((f"customers by expected purchases over {horizon}", self.customers))
            return shown
        basis = SPEND_BASES[self.spend_basis or "observed_mean"]
        shown.append(("customers by value", self.deciles))
        shown.append((f"most valuable customers over {horizon} (spend: {basis})", self.customers))
        return shown

    def estimator(self, name: str) -> PurchaseModel | GammaGammaModel:
        """The fitted estimator: ``bgnbd``, ``pareto_nbd`` or ``gamma_gamma``."""
        model: PurchaseModel | GammaGammaModel = self._estimators[name]
        return model


def clv(events: EventLog, params: ClvParams | None = None) -> ClvResult:
    """Fit BG/NBD, Pareto/NBD and Gamma-Gamma, diagnose the fits and value every customer.

    Examples
    --------
    >>> result = clv(transactions, ClvParams(calibration_end="1997-09-30"))  # doctest: +SKIP
    >>> round(result.bgnbd.params["r"], 3)  # doctest: +SKIP
    0.243
    """
    params = params or ClvParams()
    summary, calibration_end, holdout_days, set_aside = purchase_summary(events, params)
    unit = params.unit_days
    x = summary["frequency"].to_numpy(dtype=np.float64)
    recency = summary["recency"].to_numpy(dtype=np.float64)
    age = summary["T"].to_numpy(dtype=np.float64)
    if not np.any(x > 0):
        raise DataError(
            f"no customer bought twice up to {calibration_end}; purchase models need repeat "
            "purchases to learn from",
            hint="choose a later --calibration-end or check which events are purchases",
            code="no-repeat-purchases",
        )
    bgnbd = BetaGeoModel().fit(x, recency, age)
    pareto = ParetoNBDModel().fit(x, recency, age)
    chosen: PurchaseModel = bgnbd if params.model == "bgnbd" else pareto
    customers = summary.drop(columns=["order_value_squares", "largest_order_value"])
    horizon = params.horizon_units
    customers["expected_purchases"] = chosen.expected_purchases(horizon, x, recency, age)
    customers["p_alive"] = chosen.probability_alive(x, recency, age)
    spending = choose_spend(summary) if events.has_value else None
    if spending is not None:
        customers["expected_average_value"] = spending.values
        customers["clv"] = _discounted_value(chosen, params, x, recency, age, spending.values)
    else:
        customers["expected_average_value"] = np.nan
        customers["clv"] = np.nan
    holdout = None
    if holdout_days > 0:
        holdout = holdout_table(customers, bgnbd, pareto, holdout_days / unit)
    ranking = ["clv", "customer_id"] if spending else ["expected_purchases", "customer_id"]
    customers = customers.sort_values(ranking, ascending=[False, True])
    period = f"{holdout_days / unit:.3g} {params.time_unit}s"
    fits = {
        label: _purchase_problems(label, model, int(np.sum(x > 0)), holdout, column, period)
        for label, model, column in (
            ("BG/NBD", bgnbd, "bgnbd_predicted"),
            ("Pareto/NBD", pareto, "pareto_nbd_predicted"),
        )
    }
    spend = spending.model if spending is not None else None
    if spending is not None and spend is not None:
        fits["Gamma-Gamma"] = spending.problems
    result = ClvResult(
        bayes=_bayes(params, summary) if params.bayes else None,
        params=params,
        bgnbd=FittedModel.of(bgnbd, fits["BG/NBD"]),
        pareto_nbd=FittedModel.of(pareto, fits["Pareto/NBD"]),
        gamma_gamma=FittedModel.of(spend, fits["Gamma-Gamma"]) if spend is not None else None,
        spend_basis=spending.basis if spending is not None else None,
        spend=spending.estimate if spending is not None else None,
        customers=customers.reset_index(drop=True),
        holdout=holdout,
        deciles=decile_table(customers),
        warnings=[
            *warnings_of(fits, spending),
            *_undetermined({"BG/NBD": bgnbd, "Pareto/NBD": pareto, "Gamma-Gamma": spend}),
            *([] if events.has_value else [NO_VALUE]),
            *_uncovered(events, params),
        ],
        calibration_end=calibration_end,
        time_unit=params.time_unit,
        horizon=horizon,
        model=params.model,
        customers_fitted=len(customers),
        repeat_customers=int(np.sum(x > 0)),
        customers_after_calibration=set_aside,
        holdout_length=holdout_days / unit if holdout_days > 0 else None,
        total_expected_purchases=float(customers["expected_purchases"].sum()),
        total_clv=float(customers["clv"].sum()) if spending is not None else None,
    )
    result._estimators.update(bgnbd=bgnbd, pareto_nbd=pareto, gamma_gamma=spend)
    return result


def _uncovered(events: EventLog, params: ClvParams) -> list[str]:
    """Whether the calibration end the user gave lies after the last event."""
    if params.calibration_end is None:
        return []
    found = uncovered(events, params.calibration_end)
    return [found] if found else []


def _purchase_problems(
    label: str,
    model: PurchaseModel,
    repeat_customers: int,
    holdout: pd.DataFrame | None,
    column: str,
    period: str,
) -> list[Problem]:
    """A purchase model's problems: its fit, its data and, with a holdout, its predictions."""
    problems = [*fit_problems(label, model), *few_repeat_customers(label, repeat_customers)]
    if holdout is not None:
        total = holdout.iloc[-1]
        problems += holdout_miss(
            label, float(total[column]), float(total["actual_purchases"]), period
        )
    return problems


def _bayes(params: ClvParams, summary: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Posteriors of BG/NBD and (with values) Gamma-Gamma by PyMC-Marketing."""
    from journeys.models.bayes import fit_bayesian

    x = summary["frequency"].to_numpy(dtype=np.float64)
    mean_value = summary["monetary_value"].to_numpy(dtype=np.float64)
    found = {
        "bgnbd": fit_bayesian(
            "bgnbd", x, summary["recency"].to_numpy(), summary["T"].to_numpy()
        ).reset_index()
    }
    spenders = (x > 0) & np.isfinite(mean_value) & (mean_value > 0)
    if spenders.any():
        found["gamma_gamma"] = fit_bayesian(
            "gamma_gamma", x[spenders], mean_value=mean_value[spenders]
        ).reset_index()
    return found


def _spend_warnings(
    spend: GammaGammaModel | None,
    mean_values: np.ndarray,
    largest: float | None = None,
    q_error: float | None = None,
) -> list[str]:
    """The spend model's average purchase set against what repeat customers spend, in words.

    A customer without repeat purchases would be valued at the model's population
    average, ``p * gamma / (q - 1)``; as ``q`` nears 1 that average grows without bound
    (:func:`journeys.models.diagnosis.spend_problems` gives the rules).
    """
    if spend is None or len(mean_values) == 0:
        return []
    observed = float(np.mean(mean_values))
    return [problem.message for problem in spend_problems(spend, observed, largest, q_error)]


def _discounted_value(
    model: PurchaseModel,
    params: ClvParams,
    x: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    average_value: np.ndarray,
) -> np.ndarray:
    """Sum over each time unit of the horizon: purchases in it x value x margin, discounted."""
    horizon = params.horizon_units
    steps = np.append(np.arange(1, math.ceil(horizon)), horizon)
    years = steps * params.unit_days / DAYS_PER_YEAR
    factors = 1 / (1 + params.discount_rate) ** years
    total = model.discounted_expected_purchases(steps, factors, x, recency, age)
    result: np.ndarray = total * average_value * params.margin
    return result


ANALYSIS = Analysis(
    params=ClvParams,
    result=ClvResult,
    run=clv,
    every_row_is="purchase",
    figures=("journeys.plots.clv:holdout_figure", "journeys.plots.clv:value_figure"),
)
