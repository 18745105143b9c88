"""Checking the customer-value models on purchases they did not see.

The purchase models (:mod:`journeys.analyses.clv`) are fitted on the first part of the
purchase period only: from the first purchase up to ``1 - holdout_share`` of the way to
the last one. Their predictions for the rest of the period are then set against the
purchases customers actually made in it, in total and by the number of repeat purchases
each customer made while the models were learning (the check of Fader, Hardie and Lee
2005, figure 4). A model whose total misses the actual one by more than 20% and more than
``2 * sqrt(predicted)`` has the problem ``holdout-miss``
(:mod:`journeys.models.diagnosis`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import pandas as pd
from pydantic import Field

from journeys.analyses.base import Params, Result, TableOf
from journeys.analyses.clv import ClvParams, clv
from journeys.analyses.clv_fits import FittedModel
from journeys.analyses.clv_summary import purchase_summary
from journeys.analyses.clv_tables import HoldoutRow
from journeys.analyses.registry import Analysis
from journeys.data.reader import EventLog
from journeys.errors import DataError

HOLDOUT_SHARE = 0.25


class ClvCheckParams(Params):
    """How much of the purchase period to hold out, and how to summarise purchases."""

    holdout_share: float = Field(
        default=HOLDOUT_SHARE,
        gt=0,
        lt=1,
        description="Share of the purchase period held out from the fit and predicted.",
    )
    time_unit: Literal["day", "week", "month"] = Field(
        default="week",
        description="The unit of recency, T and the holdout length.",
    )
    purchase_event: str | None = Field(
        default=None, description="What a purchase is (default: the spec's purchase milestone)."
    )


class ClvCheckResult(Result):
    """Predicted against actual purchases after the calibration end."""

    main_table = "holdout"
    params: ClvCheckParams
    calibration_end: dt.date = Field(description="Last day the models learnt from.")
    holdout_length: float = Field(description="Time units after the calibration end.")
    customers: int = Field(description="Customers who had bought by the calibration end.")
    actual_purchases: float = Field(description="Purchases they made after it.")
    bgnbd_predicted: float = Field(description="Purchases BG/NBD predicted for them.")
    pareto_nbd_predicted: float = Field(description="Purchases Pareto/NBD predicted for them.")
    warnings: list[str] = Field(
        description="The purchase models' problems in words (holdout-miss among them)."
    )
    bgnbd: FittedModel = Field(description="The BG/NBD fit on the first part and its problems.")
    pareto_nbd: FittedModel = Field(
        description="The Pareto/NBD fit on the first part and its problems."
    )
    holdout: Annotated[pd.DataFrame, TableOf(HoldoutRow)]


def clv_check(events: EventLog, params: ClvCheckParams | None = None) -> ClvCheckResult:
    """Fit the value models on the first part of the purchases, predict the rest.

    Examples
    --------
    >>> check = clv_check(transactions)  # doctest: +SKIP
    >>> check.bgnbd_predicted, check.actual_purchases  # doctest: +SKIP
    """
    params = params or ClvCheckParams()
    value_params = ClvParams(time_unit=params.time_unit, purchase_event=params.purchase_event)
    summary, last, _, _ = purchase_summary(events, value_params)
    first = min(summary["first_purchase"])
    cut = first + (last - first) * (1 - params.holdout_share)
    if cut >= last:
        raise DataError(
            f"the purchases span {(last - first).days} days, too short to hold part of them out",
            hint="check the models on a longer history of purchases",
            code="too-short",
        )
    fitted = clv(events, value_params.model_copy(update={"calibration_end": cut}))
    holdout, length = fitted.holdout, fitted.holdout_length
    # The last purchase comes after the cut, so the fit always has a holdout period.
    assert holdout is not None
    assert length is not None
    total = holdout.iloc[-1]
    return ClvCheckResult(
        params=params,
        calibration_end=fitted.calibration_end,
        holdout_length=length,
        customers=int(total["customers"]),
        actual_purchases=float(total["actual_purchases"]),
        bgnbd_predicted=float(total["bgnbd_predicted"]),
        pareto_nbd_predicted=float(total["pareto_nbd_predicted"]),
        warnings=[
            problem.message for fit in (fitted.bgnbd, fitted.pareto_nbd) for problem in fit.problems
        ],
        bgnbd=fitted.bgnbd,
        pareto_nbd=fitted.pareto_nbd,
        holdout=holdout,
    )


ANALYSIS = Analysis(
    params=ClvCheckParams,
    result=ClvCheckResult,
    run=clv_check,
    every_row_is="purchase",
    figures=("journeys.plots.clv:holdout_figure",),
)
