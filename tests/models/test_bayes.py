"""Bayesian fits with PyMC-Marketing agree with our maximum-likelihood fits on CDNOW."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from ibis.backends import BaseBackend

from journeys.analyses.clv import ClvParams, clv
from journeys.data.reader import read_events
from journeys.models import BetaGeoModel, GammaGammaModel
from journeys.models.bayes import fit_bayesian
from tests.conftest import DATA
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


def test_clv_reports_the_posteriors_beside_the_maximum_likelihood_fits(
    duckdb_con: BaseBackend,
) -> None:
    """``bayes=True``: one table per model, a row per parameter, in Python and in JSON."""
    log = read_events(
        DATA / "cdnow_sample.csv",
        connection=duckdb_con,
        time_format="%Y%m%d",
        every_row_is="purchase",
    )
    result = clv(log, ClvParams(calibration_end=date(1997, 9, 30), bayes=True))
    assert result.bayes is not None
    assert set(result.bayes) == {"bgnbd", "gamma_gamma"}
    assert result.gamma_gamma is not None
    for name, fitted in (("bgnbd", result.bgnbd), ("gamma_gamma", result.gamma_gamma)):
        table = result.bayes[name]
        assert table["parameter"].tolist() == list(fitted.params)
        for row in table.itertuples():
            assert row.hdi_low < fitted.params[row.parameter] < row.hdi_high, (name, row)
    document = result.to_dict()
    assert [row["parameter"] for row in document["bayes"]["bgnbd"]] == ["r", "alpha", "a", "b"]
    assert any("posterior" in title for title, _ in result.views())


def test_without_the_extra_the_message_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from journeys.errors import OptionsError

    monkeypatch.setitem(sys.modules, "pymc_marketing", None)
    with pytest.raises(OptionsError, match="PyMC-Marketing") as caught:
        fit_bayesian("bgnbd", [1], [1.0], [2.0])
    assert caught.value.hint == "pip install 'journeys[bayes]'"
