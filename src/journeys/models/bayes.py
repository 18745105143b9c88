"""The same customer-value models fitted by Bayesian inference with PyMC-Marketing.

Optional (``pip install 'journeys[bayes]'``): NUTS sampling gives credible intervals for
the parameters where the maximum-likelihood fits give standard errors. PyMC-Marketing's
default, weakly informative priors are used. Sampling takes tens of seconds for a few
thousand customers.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from journeys.errors import OptionsError
from journeys.models.btyd import check_summary
from journeys.models.gamma_gamma import check_spend

BayesModel = Literal["bgnbd", "pareto_nbd", "gamma_gamma"]
PARAMETERS = {
    "bgnbd": ["r", "alpha", "a", "b"],
    "pareto_nbd": ["r", "alpha", "s", "beta"],
    "gamma_gamma": ["p", "q", "v"],
}


def fit_bayesian(
    model: BayesModel,
    frequency: ArrayLike,
    recency: ArrayLike | None = None,
    T: ArrayLike | None = None,
    mean_value: ArrayLike | None = None,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    seed: int = 0,
) -> pd.DataFrame:
    """Posterior mean, standard deviation, 94% credible interval and r-hat of each parameter.

    ``recency`` and ``T`` are needed for the purchase models, ``mean_value`` (of the repeat
    purchases of customers with at least one) for Gamma-Gamma, whose ``gamma`` PyMC-Marketing
    calls ``v``; the table names it ``gamma``.

    Examples
    --------
    >>> fit_bayesian("bgnbd", [0, 2, 5], [0.0, 10.0, 30.0], [39.0, 39.0, 39.0])  # doctest: +SKIP
    """
    try:
        from pymc_marketing import clv as pymc_clv
    except ImportError:
        raise OptionsError(
            "Bayesian fits need PyMC-Marketing, which is not installed",
            hint="pip install 'journeys[bayes]'",
            code="missing-extra",
        ) from None
    config: dict[str, Any] = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": min(chains, 2),
        "random_seed": seed,
        "progressbar": False,
    }
    if model == "gamma_gamma":
        if mean_value is None:
            raise ValueError("the Gamma-Gamma model needs mean_value")
        x, m = check_spend(frequency, mean_value)
        data = pd.DataFrame({"customer_id": np.arange(len(x)), "frequency": x, "monetary_value": m})
        estimator: Any = pymc_clv.GammaGammaModel(sampler_config=config)
    else:
        if recency is None or T is None:
            raise ValueError("the purchase models need recency and T")
        x, t_x, age = check_summary(frequency, recency, T)
        data = pd.DataFrame(
            {"customer_id": np.arange(len(x)), "frequency": x, "recency": t_x, "T": age}
        )
        kind = pymc_clv.BetaGeoModel if model == "bgnbd" else pymc_clv.ParetoNBDModel
        estimator = kind(sampler_config=config)
    with warnings.catch_warnings():
        # PyMC's advice on chain counts and its deprecation notices are not the user's concern.
        warnings.simplefilter("ignore")
        estimator.fit(data=data)
        summary = estimator.fit_summary(var_names=PARAMETERS[model])
    table = summary.rename(
        columns={"hdi_3%": "hdi_low", "hdi_97%": "hdi_high"},
        index={"v": "gamma"},
    )
    result: pd.DataFrame = table[["mean", "sd", "hdi_low", "hdi_high", "r_hat"]]
    return result.rename_axis("parameter")
