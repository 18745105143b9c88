"""Customer lifetime value: purchase summaries in the engine, BTYD models on the summaries.

Each customer's purchases are summarised in the engine (purchases on the same day merged
into one): ``frequency`` (repeat purchases before the calibration end), ``recency`` and
``T`` (time from the first purchase to the last one and to the calibration end, in the
time unit) and the mean value of the repeat purchases. BG/NBD and Pareto/NBD purchase
models and the Gamma-Gamma spend model (:mod:`journeys.models`) are fitted on those
summaries. When purchases continue after the calibration end, the holdout check compares
predicted and actual purchases in that period.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

import ibis
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, PrivateAttr

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf, frame_of
from journeys.analyses.definitions import purchases
from journeys.analyses.registry import Analysis
from journeys.data.reader import EventLog
from journeys.errors import DataError, OptionsError
from journeys.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from journeys.models.btyd import PurchaseModel

DAY_US = 86_400_000_000
UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
DAYS_PER_YEAR = 365.25
HOLDOUT_GROUPS = 7
EXACT = "decimal(38, 6)"
NO_VALUE = (
    "the purchases carry no value (the events have no value column): expected purchases "
    "and the probability of being alive are estimated, spend and lifetime value are not; "
    "name the column with --value-col"
)
# The spend model fits badly when its average purchase is this many times off the observed one.
SPEND_TOLERANCE = 1.5


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


class FittedModel(BaseModel):
    """A fitted model's parameters, their standard errors and the fit."""

    params: dict[str, float] = Field(
        description="The fitted parameters by name "
        "(r, alpha, a, b; r, alpha, s, beta; p, q, gamma)."
    )
    standard_errors: dict[str, float | None] = Field(
        description="From the Hessian at the optimum (null where it is not invertible)."
    )
    log_likelihood: float = Field(description="The log-likelihood at the optimum.")
    converged: bool = Field(description="Whether the optimiser converged.")

    @classmethod
    def of(cls, model: PurchaseModel | GammaGammaModel) -> FittedModel:
        return cls(
            params=model.params,
            standard_errors=model.standard_errors,
            log_likelihood=model.log_likelihood_,
            converged=model.converged_,
        )


class ClvCustomerRow(Row):
    """One customer: purchase summary, predictions and value."""

    customer_id: str = Field(description="The customer.")
    frequency: int = Field(description="Repeat purchases (days with a purchase, less one).")
    recency: float = Field(description="First to last purchase, in time units.")
    T: float = Field(description="First purchase to the calibration end, in time units.")
    monetary_value: float | None = Field(description="Mean value of the repeat purchases.")
    first_purchase: dt.date = Field(description="The day of the first purchase.")
    holdout_purchases: int = Field(description="Purchase days after the calibration end.")
    holdout_value: float = Field(description="Value of the purchases after the calibration end.")
    expected_purchases: float = Field(description="Expected purchases over the horizon.")
    p_alive: float = Field(description="Probability that the customer is still active.")
    expected_average_value: float | None = Field(description="Expected value of a purchase.")
    clv: float | None = Field(description="Expected value over the horizon x margin, discounted.")


class HoldoutRow(Row):
    """Mean actual and predicted purchases after the calibration end, by calibration purchases."""

    repeat_purchases_in_calibration: str = Field(
        description="The group: 0 to 6, 7+, or 'all (sum)'."
    )
    customers: int = Field(description="Customers in the group.")
    actual_purchases: float = Field(
        description="Mean purchase days after the calibration end (the sum in the last row)."
    )
    bgnbd_predicted: float = Field(
        description="Mean predicted by BG/NBD over the holdout (the sum in the last row)."
    )
    pareto_nbd_predicted: float = Field(
        description="Mean predicted by Pareto/NBD over the holdout (the sum in the last row)."
    )


class DecileRow(Row):
    """A tenth of the customers, ranked by value."""

    decile: int = Field(description="1 for the most valuable tenth.")
    customers: int = Field(description="Customers in the group.")
    clv: float = Field(description="Their total CLV.")
    share_of_clv: float | None = Field(description="Their share of the total CLV.")
    mean_p_alive: float = Field(description="Their mean probability of being alive.")


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
    warnings: list[str] = Field(description="Fits that did not converge, in words.")
    bgnbd: FittedModel = Field(description="The BG/NBD fit.")
    pareto_nbd: FittedModel = Field(description="The Pareto/NBD fit.")
    gamma_gamma: FittedModel | None = Field(
        description="The Gamma-Gamma fit (null without purchase values)."
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

    def models(self) -> pd.DataFrame:
        """One row per model parameter: estimate, standard error, log-likelihood."""
        rows = [
            {
                "model": label,
                "parameter": parameter,
                "estimate": value,
                "standard_error": fitted.standard_errors.get(parameter),
                "log_likelihood": fitted.log_likelihood,
                "converged": fitted.converged,
            }
            for label, fitted in (
                ("BG/NBD", self.bgnbd),
                ("Pareto/NBD", self.pareto_nbd),
                ("Gamma-Gamma", self.gamma_gamma),
            )
            if fitted is not None
            for parameter, value in fitted.params.items()
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
        shown.append(("customers by value", self.deciles))
        shown.append((f"most valuable customers over {horizon}", self.customers))
        return shown

    def estimator(self, name: str) -> PurchaseModel | GammaGammaModel:
        """The fitted estimator: ``bgnbd``, ``pareto_nbd`` or ``gamma_gamma``."""
        model: PurchaseModel | GammaGammaModel = self._estimators[name]
        return model


def clv(events: EventLog, params: ClvParams | None = None) -> ClvResult:
    """Fit BG/NBD, Pareto/NBD and Gamma-Gamma and value every customer.

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
    mean_value = summary["monetary_value"].to_numpy(dtype=np.float64)
    spenders = (x > 0) & np.isfinite(mean_value) & (mean_value > 0)
    spend = GammaGammaModel().fit(x[spenders], mean_value[spenders]) if spenders.any() else None
    customers = summary.copy()
    horizon = params.horizon_units
    customers["expected_purchases"] = chosen.expected_purchases(horizon, x, recency, age)
    customers["p_alive"] = chosen.probability_alive(x, recency, age)
    if spend is not None:
        customers["expected_average_value"] = spend.expected_average_value(x, mean_value)
        customers["clv"] = _discounted_value(
            chosen, params, x, recency, age, customers["expected_average_value"].to_numpy()
        )
    else:
        customers["expected_average_value"] = np.nan
        customers["clv"] = np.nan
    holdout = None
    if holdout_days > 0:
        holdout = _holdout_table(customers, bgnbd, pareto, holdout_days / unit)
    ranking = ["clv", "customer_id"] if spend is not None else ["expected_purchases", "customer_id"]
    customers = customers.sort_values(ranking, ascending=[False, True])
    values = {
        "calibration_end": calibration_end,
        "time_unit": params.time_unit,
        "horizon": horizon,
        "model": params.model,
        "customers_fitted": len(customers),
        "repeat_customers": int(np.sum(x > 0)),
        "customers_after_calibration": set_aside,
        "holdout_length": holdout_days / unit if holdout_days > 0 else None,
        "total_expected_purchases": float(customers["expected_purchases"].sum()),
        "total_clv": float(customers["clv"].sum()) if spend is not None else None,
    }
    bayes = None
    if params.bayes:
        from journeys.models.bayes import fit_bayesian

        bayes = {"bgnbd": fit_bayesian("bgnbd", x, recency, age).reset_index()}
        if spend is not None:
            bayes["gamma_gamma"] = fit_bayesian(
                "gamma_gamma", x[spenders], mean_value=mean_value[spenders]
            ).reset_index()
    result = ClvResult(
        bayes=bayes,
        params=params,
        bgnbd=FittedModel.of(bgnbd),
        pareto_nbd=FittedModel.of(pareto),
        gamma_gamma=FittedModel.of(spend) if spend is not None else None,
        customers=customers.reset_index(drop=True),
        holdout=holdout,
        deciles=_deciles(customers),
        warnings=[
            *_fit_warnings({"BG/NBD": bgnbd, "Pareto/NBD": pareto, "Gamma-Gamma": spend}),
            *_spend_warnings(spend, mean_value[spenders]),
            *_undetermined({"BG/NBD": bgnbd, "Pareto/NBD": pareto, "Gamma-Gamma": spend}),
            *([] if events.has_value else [NO_VALUE]),
        ],
        **values,
    )
    result._estimators.update(bgnbd=bgnbd, pareto_nbd=pareto, gamma_gamma=spend)
    return result


def _fit_warnings(models: dict[str, PurchaseModel | GammaGammaModel | None]) -> list[str]:
    """What a reader must know about fits that did not settle."""
    return [
        f"the {name} fit did not converge: treat its parameters and predictions with caution"
        for name, model in models.items()
        if model is not None and not model.converged_
    ]


def _undetermined(models: dict[str, PurchaseModel | GammaGammaModel | None]) -> list[str]:
    """Parameters whose standard error exceeds their estimate: the data say little of them."""
    notes = []
    for name, model in models.items():
        if model is None or not model.converged_:
            continue
        fitted = FittedModel.of(model)
        loose = [
            f"{parameter} {estimate:,.3g} (standard error {error:,.3g})"
            for parameter, estimate in fitted.params.items()
            if (error := fitted.standard_errors.get(parameter)) is None or error > abs(estimate)
        ]
        if loose:
            notes.append(
                f"the {name} fit leaves {', '.join(loose)} poorly determined: the data say "
                "little about them, so read its predictions for groups of customers rather "
                "than its parameters"
            )
    return notes


def _spend_warnings(spend: GammaGammaModel | None, mean_values: np.ndarray) -> list[str]:
    """Whether the spend model's average purchase is far from what repeat customers spend.

    A customer without repeat purchases is valued at the model's population average,
    ``p * gamma / (q - 1)``; as ``q`` nears 1 that average grows without bound, and
    those customers would top the ranking on the model's say alone.
    """
    if spend is None or len(mean_values) == 0:
        return []
    implied, observed = spend.population_mean(), float(np.mean(mean_values))
    if np.isfinite(implied) and 1 / SPEND_TOLERANCE <= implied / observed <= SPEND_TOLERANCE:
        return []
    average = f"{implied:,.2f}" if np.isfinite(implied) else "no finite amount"
    return [
        f"the Gamma-Gamma spend model fits badly: it implies an average purchase of {average} "
        f"(q = {spend.params_[1]:.2f}) where repeat customers spend {observed:,.2f} on "
        "average; the value of customers without repeat purchases rests on that average and "
        "is not reliable"
    ]


def purchase_summary(events: EventLog, params: ClvParams) -> tuple[pd.DataFrame, dt.date, int, int]:
    """Per-customer frequency, recency, T and mean repeat value, computed in the engine.

    Returns the summary, the calibration end, the holdout length in days and the number
    of customers whose first purchase came after the calibration end (not fitted).
    """
    is_purchase = purchases(events, params.purchase_event)
    run = runner.current()
    table = events.table
    # Summed as exact decimals: float sums in a parallel engine vary in their last digits
    # from run to run, and a customer's mean spend must not.
    value = (table.value.fill_null(0.0) if events.has_value else ibis.literal(0.0)).cast(EXACT)
    bought = table.filter(is_purchase).select(
        "customer_id", day=(table.timestamp_us // DAY_US).cast("int64"), value=value
    )
    per_day = bought.group_by(["customer_id", "day"]).aggregate(value=bought.value.sum())
    span = run.arrow(per_day.aggregate(first=per_day.day.min(), last=per_day.day.max()))
    first_day, last_day = span["first"][0].as_py(), span["last"][0].as_py()
    if first_day is None:
        raise DataError(
            "there are no purchases among the events",
            hint="check the spec's purchase milestone or --purchase-event",
            code="no-purchases",
        )
    end_day = last_day if params.calibration_end is None else _day_number(params.calibration_end)
    if end_day < first_day:
        raise OptionsError(
            f"the calibration end {params.calibration_end} is before the first purchase "
            f"({_date(first_day)})",
            hint="choose a --calibration-end between the first and the last purchase",
            code="options",
        )
    inside = per_day.day <= end_day
    per_customer = per_day.group_by("customer_id").aggregate(
        first_day=per_day.day.min(),
        last_day=per_day.day.max(where=inside),
        purchase_days=inside.cast("int64").sum(),
        calibration_value=per_day.value.sum(where=inside),
        first_value=per_day.value.argmin(per_day.day),
        holdout_purchases=(~inside).cast("int64").sum(),
        holdout_value=per_day.value.sum(where=~inside),
    )
    unit = params.unit_days
    frequency = per_customer.purchase_days - 1
    summary = per_customer.select(
        "customer_id",
        frequency=frequency,
        recency=(per_customer.last_day - per_customer.first_day) / unit,
        T=(end_day - per_customer.first_day) / unit,
        monetary_value=(frequency > 0)
        .ifelse((per_customer.calibration_value - per_customer.first_value) / frequency, None)
        .cast("float64")
        if events.has_value
        else ibis.null("float64"),
        first_purchase_day=per_customer.first_day,
        holdout_purchases=per_customer.holdout_purchases,
        holdout_value=per_customer.holdout_value.cast("float64").fill_null(0.0)
        if events.has_value
        else ibis.null("float64"),
    )
    # In customer order: the engine returns rows in any order, and sums over them in
    # Python (the holdout table) would then differ in their last digits between runs.
    frame = run.frame(summary).sort_values("customer_id", kind="stable")
    fitted = frame[frame["first_purchase_day"] <= end_day]
    set_aside = len(frame) - len(fitted)
    fitted = fitted.assign(
        first_purchase=pd.to_datetime(fitted["first_purchase_day"], unit="D").dt.date
    ).drop(columns="first_purchase_day")
    return fitted.reset_index(drop=True), _date(end_day), last_day - end_day, set_aside


def _day_number(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def _date(day_number: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day_number))


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


def _holdout_table(
    customers: pd.DataFrame, bgnbd: BetaGeoModel, pareto: ParetoNBDModel, length: float
) -> pd.DataFrame:
    """Mean actual and predicted holdout purchases by purchases in the calibration period."""
    x = customers["frequency"].to_numpy(dtype=np.float64)
    recency = customers["recency"].to_numpy(dtype=np.float64)
    age = customers["T"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame(
        {
            "group": np.minimum(x, HOLDOUT_GROUPS).astype(int),
            "actual": customers["holdout_purchases"].to_numpy(dtype=np.float64),
            "bgnbd": bgnbd.expected_purchases(length, x, recency, age),
            "pareto_nbd": pareto.expected_purchases(length, x, recency, age),
        }
    )
    table = (
        frame.groupby("group")
        .agg(
            customers=("actual", "size"),
            actual=("actual", "mean"),
            bgnbd=("bgnbd", "mean"),
            pareto_nbd=("pareto_nbd", "mean"),
        )
        .reset_index()
    )
    table.insert(
        0,
        "repeat_purchases_in_calibration",
        [str(g) if g < HOLDOUT_GROUPS else f"{HOLDOUT_GROUPS}+" for g in table["group"]],
    )
    total = {
        "repeat_purchases_in_calibration": "all (sum)",
        "customers": len(frame),
        "actual": frame["actual"].sum(),
        "bgnbd": frame["bgnbd"].sum(),
        "pareto_nbd": frame["pareto_nbd"].sum(),
    }
    table = pd.concat([table.drop(columns="group"), pd.DataFrame([total])], ignore_index=True)
    return table.rename(
        columns={
            "actual": "actual_purchases",
            "bgnbd": "bgnbd_predicted",
            "pareto_nbd": "pareto_nbd_predicted",
        }
    )


def _deciles(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers ranked by value in ten equal groups, with each group's share of the total."""
    valued = customers.dropna(subset=["clv"])
    if valued.empty:
        return frame_of([], DecileRow)
    ranked = valued.sort_values("clv", ascending=False).reset_index(drop=True)
    ranked["decile"] = (np.arange(len(ranked)) * 10 // len(ranked)) + 1
    table = (
        ranked.groupby("decile")
        .agg(customers=("clv", "size"), clv=("clv", "sum"), mean_p_alive=("p_alive", "mean"))
        .reset_index()
    )
    total = table["clv"].sum()
    table["share_of_clv"] = table["clv"] / total if total else np.nan
    return table[["decile", "customers", "clv", "share_of_clv", "mean_p_alive"]]


ANALYSIS = Analysis(
    params=ClvParams,
    result=ClvResult,
    run=clv,
    every_row_is="purchase",
    figures=("journeys.plots.clv:holdout_figure", "journeys.plots.clv:value_figure"),
)
