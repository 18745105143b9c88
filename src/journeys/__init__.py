"""journeys: map a customer journey as code, measure it on your events, decide what to change."""

__version__ = "0.1.0"

from journeys.analyses.breakeven import (
    BreakevenInputs,
    BreakevenParams,
    BreakevenResult,
    breakeven,
    breakeven_sheet,
)
from journeys.analyses.breakeven import compute as compute_breakeven
from journeys.analyses.clv import ClvParams, ClvResult, clv
from journeys.analyses.funnel import Exclusion, FunnelParams, FunnelResult, FunnelStep, funnel
from journeys.analyses.journey_map import JourneyMapResult, journey_map
from journeys.analyses.kpis import KpiParams, KpiResult, kpis
from journeys.analyses.loops import LoopsResult, loops
from journeys.analyses.paths import (
    PathsParams,
    PathsResult,
    TransitionsParams,
    TransitionsResult,
    paths,
    transitions,
)
from journeys.analyses.retention import RetentionParams, RetentionResult, retention
from journeys.analyses.step_matrix import StepMatrixParams, StepMatrixResult, step_matrix
from journeys.analyses.timing import TimingParams, TimingResult, timing
from journeys.data import EventLog, LoadReport, connect, read_events
from journeys.data.mapping import apply_spec
from journeys.errors import DataError, JourneysError, OptionsError, SpecError
from journeys.loading import LoadOptions, load
from journeys.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from journeys.report import build_report, write_report
from journeys.spec import Spec, load_spec, parse_spec

__all__ = [
    "BetaGeoModel",
    "BreakevenInputs",
    "BreakevenParams",
    "BreakevenResult",
    "ClvParams",
    "ClvResult",
    "DataError",
    "EventLog",
    "Exclusion",
    "FunnelParams",
    "FunnelResult",
    "FunnelStep",
    "GammaGammaModel",
    "JourneyMapResult",
    "JourneysError",
    "KpiParams",
    "KpiResult",
    "LoadOptions",
    "LoadReport",
    "LoopsResult",
    "OptionsError",
    "ParetoNBDModel",
    "PathsParams",
    "PathsResult",
    "RetentionParams",
    "RetentionResult",
    "Spec",
    "SpecError",
    "StepMatrixParams",
    "StepMatrixResult",
    "TimingParams",
    "TimingResult",
    "TransitionsParams",
    "TransitionsResult",
    "apply_spec",
    "breakeven",
    "breakeven_sheet",
    "build_report",
    "clv",
    "compute_breakeven",
    "connect",
    "funnel",
    "journey_map",
    "kpis",
    "load",
    "load_spec",
    "loops",
    "parse_spec",
    "paths",
    "read_events",
    "retention",
    "step_matrix",
    "timing",
    "transitions",
    "write_report",
]
