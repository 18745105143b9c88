"""The tables of customer value read from the per-customer predictions.

The holdout check (mean actual and predicted purchases after the calibration end, by the
repeat purchases each customer made before it: Fader, Hardie and Lee 2005, figure 4) and
the customers ranked by value in ten equal groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from journeys.analyses.base import Row, frame_of
from journeys.models import BetaGeoModel, ParetoNBDModel

HOLDOUT_GROUPS = 7


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


def holdout_table(
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


def decile_table(customers: pd.DataFrame) -> pd.DataFrame:
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
