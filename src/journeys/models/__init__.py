"""Statistical models of customer value: no I/O, no plots, numpy arrays in and out."""

from journeys.models.btyd import BetaGeoModel, ParetoNBDModel
from journeys.models.gamma_gamma import GammaGammaModel

__all__ = ["BetaGeoModel", "GammaGammaModel", "ParetoNBDModel"]
