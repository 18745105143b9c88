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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import ibis
import numpy as np
import pandas as pd
from pydantic import Field

from journeys.analyses.base import Params, Result, clean, records
from journeys.analyses.retention import purchase_predicate
from journeys.data.reader import EventLog
from journeys.errors import DataError, OptionsError
from journeys.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from journeys.models.bayes import fit_bayesian
from journeys.models.btyd import PurchaseModel

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

DAY_US = 86_400_000_000
UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
DAYS_PER_YEAR = 365.25
HOLDOUT_GROUPS = 7


class ClvParams(Params):
    """How to summarise purchases and value customers."""

    calibration_end: dt.date | None = Field(
        default=None,
        description="Last day (inclusive) of the period the models learn from; later purchases "
        "are the holdout. Default: the day of the last purchase.",
    )
    time_unit: Literal["day", "week", "month"] = "week"
    horizon: float | None = Field(
        default=None, gt=0, description="How far ahead to value customers, in time units (1 year)."
    )
    margin: float = Field(default=1.0, gt=0, le=1, description="Share of revenue that is profit.")
    discount_rate: float = Field(default=0.0, ge=0, description="Yearly discount rate.")
    model: Literal["bgnbd", "pareto_nbd"] = Field(
        default="bgnbd", description="The purchase model behind each customer's predictions."
    )
    purchase_event: str | None = None
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


@dataclass(frozen=True)
class ClvResult(Result):
    """Fitted models, one row per customer, the holdout check and headline numbers."""

    params: ClvParams
    bgnbd: BetaGeoModel
    pareto_nbd: ParetoNBDModel
    gamma_gamma: GammaGammaModel | None
    customers: pd.DataFrame
    holdout: pd.DataFrame | None
    deciles: pd.DataFrame
    values: dict[str, Any]
    bayes: dict[str, pd.DataFrame] | None = None

    def to_pandas(self) -> pd.DataFrame:
        return self.customers

    def to_dict(self) -> dict[str, Any]:
        spend = self.gamma_gamma
        result: dict[str, Any] = clean(
            {
                **self.values,
                "bgnbd": _model_dict(self.bgnbd),
                "pareto_nbd": _model_dict(self.pareto_nbd),
                "gamma_gamma": _model_dict(spend) if spend is not None else None,
                "holdout": records(self.holdout) if self.holdout is not None else None,
                "deciles": records(self.deciles),
                "bayes": {name: table.to_dict(orient="index") for name, table in self.bayes.items()}
                if self.bayes is not None
                else None,
                "customers": records(self.customers),
            }
        )
        return result

    def figure(self) -> Figure:
        from journeys.plots.clv import holdout_figure, value_figure

        return holdout_figure(self) if self.holdout is not None else value_figure(self)


def _model_dict(model: PurchaseModel | GammaGammaModel) -> dict[str, Any]:
    return {
        **model.params,
        "log_likelihood": model.log_likelihood_,
        "standard_errors": model.standard_errors,
        "converged": model.converged_,
    }


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
    customers = customers.sort_values(["clv", "customer_id"], ascending=[False, True])
    values = {
        "calibration_end": calibration_end.isoformat(),
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
        bayes = {"bgnbd": fit_bayesian("bgnbd", x, recency, age)}
        if spend is not None:
            bayes["gamma_gamma"] = fit_bayesian(
                "gamma_gamma", x[spenders], mean_value=mean_value[spenders]
            )
    return ClvResult(
        bayes=bayes,
        params=params,
        bgnbd=bgnbd,
        pareto_nbd=pareto,
        gamma_gamma=spend,
        customers=customers.reset_index(drop=True),
        holdout=holdout,
        deciles=_deciles(customers),
        values=values,
    )


def purchase_summary(events: EventLog, params: ClvParams) -> tuple[pd.DataFrame, dt.date, int, int]:
    """Per-customer frequency, recency, T and mean repeat value, computed in the engine.

    Returns the summary, the calibration end, the holdout length in days and the number
    of customers whose first purchase came after the calibration end (not fitted).
    """
    is_purchase = _purchases(events, params)
    table = events.table
    value = table.value.fill_null(0.0) if events.has_value else ibis.literal(0.0)
    bought = table.filter(is_purchase).select(
        "customer_id", day=(table.timestamp_us // DAY_US).cast("int64"), value=value
    )
    per_day = bought.group_by(["customer_id", "day"]).aggregate(value=bought.value.sum())
    span = per_day.aggregate(first=per_day.day.min(), last=per_day.day.max()).to_pyarrow()
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
        monetary_value=(frequency > 0).ifelse(
            (per_customer.calibration_value - per_customer.first_value) / frequency, ibis.null()
        ),
        first_purchase_day=per_customer.first_day,
        holdout_purchases=per_customer.holdout_purchases,
        holdout_value=per_customer.holdout_value.fill_null(0.0),
    )
    frame = summary.to_pandas()
    fitted = frame[frame["first_purchase_day"] <= end_day]
    set_aside = len(frame) - len(fitted)
    fitted = fitted.assign(
        first_purchase=pd.to_datetime(fitted["first_purchase_day"], unit="D").dt.date
    ).drop(columns="first_purchase_day")
    return fitted.reset_index(drop=True), _date(end_day), last_day - end_day, set_aside


def _purchases(events: EventLog, params: ClvParams) -> ibis.Value:
    predicate = purchase_predicate(events, params.purchase_event)
    if predicate is not None:
        return predicate
    if "event" not in events.report.columns:
        return ibis.literal(True)
    raise OptionsError(
        "which events are purchases is not known",
        hint="pass --purchase-event NAME, or a spec with a `purchase` milestone; a log without "
        "an event column is read as one purchase per row",
        code="no-purchase-definition",
    )


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
    columns = ["decile", "customers", "clv", "share_of_clv", "mean_p_alive"]
    valued = customers.dropna(subset=["clv"])
    if valued.empty:
        return pd.DataFrame(columns=columns)
    ranked = valued.sort_values("clv", ascending=False).reset_index(drop=True)
    ranked["decile"] = (np.arange(len(ranked)) * 10 // len(ranked)) + 1
    table = (
        ranked.groupby("decile")
        .agg(customers=("clv", "size"), clv=("clv", "sum"), mean_p_alive=("p_alive", "mean"))
        .reset_index()
    )
    total = table["clv"].sum()
    table["share_of_clv"] = table["clv"] / total if total else np.nan
    return table[columns]
