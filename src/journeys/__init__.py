"""journeys: map a customer journey as code, measure it on your events, decide what to change.

Names are imported on first use, so that ``import journeys`` (and the command line)
start without loading the engine. Each analysis exports its function, its
``...Params`` and its ``...Result``, derived from :mod:`journeys.analyses.registry`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from journeys.analyses.registry import ENTRIES

__version__ = "0.1.0"

# Names that are not analyses, and the module that holds each.
_OTHERS = {
    "attribution_from_paths": "journeys.analyses.attribution",
    "BreakevenInputs": "journeys.analyses.breakeven",
    "breakeven_sheet": "journeys.analyses.breakeven",
    "compute_breakeven": "journeys.analyses.breakeven",
    "Exclusion": "journeys.analyses.funnel",
    "FunnelStep": "journeys.analyses.funnel",
    "EventLog": "journeys.data.reader",
    "LoadReport": "journeys.data.reader",
    "read_events": "journeys.data.reader",
    "connect": "journeys.data.engine",
    "ReadOptions": "journeys.data.options",
    "apply_spec": "journeys.data.mapping",
    "DataError": "journeys.errors",
    "JourneysError": "journeys.errors",
    "OptionsError": "journeys.errors",
    "SpecError": "journeys.errors",
    "load": "journeys.loading",
    "BetaGeoModel": "journeys.models",
    "GammaGammaModel": "journeys.models",
    "ParetoNBDModel": "journeys.models",
    "plot": "journeys.plots",
    "build_report": "journeys.report",
    "write_report": "journeys.report",
    "Spec": "journeys.spec",
    "load_spec": "journeys.spec",
    "parse_spec": "journeys.spec",
}
_EXPORTS = {name: entry.module for entry in ENTRIES for name in entry.exports} | _OTHERS

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'journeys' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from journeys.analyses.attribution import (
        AttributionParams,
        AttributionResult,
        attribution,
        attribution_from_paths,
    )
    from journeys.analyses.breakeven import (
        BreakevenInputs,
        BreakevenParams,
        BreakevenResult,
        breakeven,
        breakeven_sheet,
        compute_breakeven,
    )
    from journeys.analyses.clv import ClvParams, ClvResult, clv
    from journeys.analyses.clv_check import ClvCheckParams, ClvCheckResult, clv_check
    from journeys.analyses.findings import FindingsParams, FindingsResult, findings
    from journeys.analyses.funnel import Exclusion, FunnelParams, FunnelResult, FunnelStep, funnel
    from journeys.analyses.handoffs import HandoffsParams, HandoffsResult, handoffs
    from journeys.analyses.journey_map import JourneyMapParams, JourneyMapResult, journey_map
    from journeys.analyses.kpis import KpiParams, KpiResult, kpis
    from journeys.analyses.loops import LoopsParams, LoopsResult, loops
    from journeys.analyses.paths import PathsParams, PathsResult, paths
    from journeys.analyses.retention import RetentionParams, RetentionResult, retention
    from journeys.analyses.satisfaction import (
        SatisfactionParams,
        SatisfactionResult,
        satisfaction,
    )
    from journeys.analyses.step_matrix import StepMatrixParams, StepMatrixResult, step_matrix
    from journeys.analyses.timing import TimingParams, TimingResult, timing
    from journeys.analyses.transitions import TransitionsParams, TransitionsResult, transitions
    from journeys.analyses.trends import TrendsParams, TrendsResult, trends
    from journeys.data.engine import connect
    from journeys.data.mapping import apply_spec
    from journeys.data.options import ReadOptions
    from journeys.data.reader import EventLog, LoadReport, read_events
    from journeys.errors import DataError, JourneysError, OptionsError, SpecError
    from journeys.loading import load
    from journeys.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
    from journeys.plots import plot
    from journeys.report import build_report, write_report
    from journeys.spec import Spec, load_spec, parse_spec
