"""Bayesian fits with PyMC-Marketing agree with our maximum-likelihood fits on CDNOW."""

from __future__ import annotations

import numpy as np
import pytest

from journeys.models import BetaGeoModel, GammaGammaModel
from journeys.models.bayes import fit_bayesian
from tests.models.test_btyd import cdnow  # noqa: F401  (the fixture)


def test_bgnbd_posterior_covers_the_maximum_likelihood_estimate(
    cdnow: dict[str, np.ndarray],  # noqa: F811
) -> None:
    mle = BetaGeoModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"]).params
    posterior = fit_bayesian(
        "bgnbd", cdnow["x"], cdnow["t_x"], cdnow["T"], draws=500, tune=500, seed=1
    )
    for name, value in mle.items():
        row = posterior.loc[name]
        assert row["hdi_low"] < value < row["hdi_high"], name
        assert abs(row["mean"] - value) < 2 * row["sd"], name
        assert row["r_hat"] < 1.05


def test_gamma_gamma_posterior_covers_the_maximum_likelihood_estimate(
    cdnow: dict[str, np.ndarray],  # noqa: F811
) -> None:
    repeaters = cdnow["x"] > 0
    mle = GammaGammaModel().fit(cdnow["x"][repeaters], cdnow["m"][repeaters]).params
    posterior = fit_bayesian(
        "gamma_gamma",
        cdnow["x"][repeaters],
        mean_value=cdnow["m"][repeaters],
        draws=500,
        tune=500,
        seed=1,
    )
    assert list(posterior.index) == ["p", "q", "gamma"]
    for name, value in mle.items():
        row = posterior.loc[name]
        assert row["hdi_low"] < value < row["hdi_high"], name


def test_without_the_extra_the_message_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from journeys.errors import OptionsError

    monkeypatch.setitem(sys.modules, "pymc_marketing", None)
    with pytest.raises(OptionsError, match="PyMC-Marketing") as caught:
        fit_bayesian("bgnbd", [1], [1.0], [2.0])
    assert caught.value.hint == "pip install 'journeys[bayes]'"
