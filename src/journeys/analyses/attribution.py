"""Attribution: which touchpoints earn the conversion.

Each conversion is split among the touches of the path that led to it, by several models
side by side: first touch, last touch, linear, position based, time decay (from events
only), a Markov chain of order 1 to 4 (removal effects solved exactly) and Shapley values.
How paths are made from events is defined in :mod:`journeys.analyses.attribution_paths`;
every model is defined exactly in :mod:`journeys.analyses.attribution_models` and
:mod:`journeys.analyses.attribution_markov`, so that
anyone can recompute the numbers. Paths may also come pre-aggregated from a file, one row
per distinct path (``a > b > c``) with its conversions, value and non-conversions.

Every number in the ``channels`` table is attributed conversions (or, in the ``*_value``
columns, attributed conversion value); each model's column adds up to the conversions of
the paths. Conversions without any touch in their path enter no model and are counted
apart.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from journeys.analyses.attribution_markov import MarkovChain, attributed
from journeys.analyses.attribution_models import Floats, heuristics, shapley
from journeys.analyses.attribution_paths import (
    EnginePaths,
    FileColumns,
    PathRules,
    event_paths,
    file_paths,
)
from journeys.analyses.base import Params, Result, Row, TableOf, frame_of
from journeys.analyses.registry import Analysis, Option
from journeys.data.reader import EventLog
from journeys.data.sources import Source, describe
from journeys.errors import DataError, OptionsError
from journeys.params import Duration, microseconds

MODELS = (
    "first_touch",
    "last_touch",
    "linear",
    "position_based",
    "time_decay",
    "markov",
    "shapley",
)


class AttributionParams(Params):
    """The conversion and how its paths are made, the models' settings, or a paths file."""

    conversion: str | None = Field(
        default=None,
        description="The conversion: an event, touchpoint:ID, stage:ID or milestone:ID "
        "(default: milestone:purchase when the spec has it).",
    )
    lookback: Duration | None = Field(
        default=None,
        description="Keep the touches within this time before the conversion (30d); "
        "default: every touch since the previous conversion.",
    )
    level: Literal["touchpoint", "channel", "stage", "event"] = Field(
        default="touchpoint", description="Attribute to touchpoints, channels, stages or events."
    )
    order: int = Field(default=1, description="The Markov chain's order: 1 to 4.")
    collapse_repeats: bool = Field(
        default=False, description="Merge immediate repeats in a path (a a b is a b)."
    )
    max_length: int | None = Field(
        default=None, ge=1, description="Keep only the last N touches of each path."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Labels (touchpoints, channels, ...) left out of paths."
    )
    half_life: Duration = Field(
        default=timedelta(days=7), description="The time-decay model's half-life."
    )
    first_weight: float = Field(
        default=0.4, ge=0, le=1, description="Position based: the first touch's share."
    )
    last_weight: float = Field(
        default=0.4, ge=0, le=1, description="Position based: the last touch's share."
    )
    shapley_game: Literal["conversions", "rate"] = Field(
        default="conversions",
        description="Shapley's worth of a set of channels: the conversions, or the conversion "
        "rate, of the paths within it.",
    )
    permutations: int = Field(
        default=1000, ge=2, description="Orders sampled for Shapley values beyond 15 channels."
    )
    seed: int = Field(default=0, description="Seed of the sampled orders.")
    top_transitions: int = Field(
        default=200, ge=0, description="How many of the chain's transitions to list."
    )
    paths: str | None = Field(
        default=None,
        description="A file of distinct paths (CSV or Parquet) instead of events.",
    )
    path_col: str = Field(default="path", description="The paths file's path column.")
    conversions_col: str = Field(
        default="total_conversions", description="The paths file's conversions column."
    )
    conversion_value_col: str | None = Field(
        default=None,
        description="The paths file's conversion value column "
        "(default: total_conversion_value when present).",
    )
    null_col: str | None = Field(
        default=None,
        description="The paths file's non-conversions column (default: total_null when present).",
    )
    sep: str | None = Field(default=None, description="The paths file's column separator.")
    path_sep: str = Field(default=">", description="The separator between a path's steps.")

    @field_validator("order")
    @classmethod
    def _order_in_range(cls, order: int) -> int:
        if not 1 <= order <= 4:
            raise ValueError(
                f"the Markov chain's order is 1 to 4 (the touches a state remembers), not {order}"
            )
        return order

    @field_validator("lookback", "half_life")
    @classmethod
    def _longer_than_zero(cls, duration: timedelta | None) -> timedelta | None:
        if duration is not None and duration.total_seconds() <= 0:
            raise ValueError("must be longer than zero")
        return duration

    @model_validator(mode="after")
    def _weights_fit(self) -> AttributionParams:
        if self.first_weight + self.last_weight > 1:
            raise ValueError(
                "--first-weight and --last-weight add up to more than 1 "
                f"({self.first_weight} + {self.last_weight}); the middle touches share the rest"
            )
        return self


class ChannelRow(Row):
    """One channel: what each model attributes to it."""

    channel: str
    touches: float = Field(description="Touches of the channel in all paths.")
    first_touch: float
    last_touch: float
    linear: float
    position_based: float
    time_decay: float | None = Field(description="Null for paths read from a file.")
    markov: float
    shapley: float
    shapley_se: float | None = Field(description="Sampling standard error (null when exact).")
    removal_effect: float = Field(description="1 - conversion probability without it / with it.")
    first_touch_value: float | None
    last_touch_value: float | None
    linear_value: float | None
    position_based_value: float | None
    time_decay_value: float | None
    markov_value: float | None
    shapley_value: float | None
    value_removal_effect: float | None


class ShareRow(Row):
    """The share of all conversions one model gives one channel."""

    channel: str
    model: str
    conversions: float
    share: float | None


class TransitionRow(Row):
    """One transition of the Markov chain between states (the last ``order`` channels)."""

    from_: str = Field(alias="from")
    to: str
    transitions: float = Field(description="Walks along it (paths x their conversions + nulls).")
    probability: float


class AttributionResult(Result):
    """Attribution per channel by every model, the removal effects and the chain."""

    main_table = "channels"
    params: AttributionParams
    source: str = Field(description="Where the paths come from.")
    from_events: bool = Field(description="Whether the paths were built from events.")
    order: int
    conversion_probability: float = Field(description="Of reaching conversion from the start.")
    markov_solver: str = Field(description="sparse LU, or flow iteration for large chains.")
    markov_error_bound: float = Field(
        description="The most the iteration's stopping could change a conversion probability."
    )
    conversions: float = Field(description="Conversions attributed (those with touches).")
    value: float | None = Field(description="Their conversion value (null without values).")
    non_conversions: float
    distinct_paths: int = Field(description="Distinct paths.")
    conversions_without_touches: float
    value_without_touches: float | None
    left_out: dict[str, int] = Field(description="Events left out of the paths, by reason.")
    shapley_method: str = Field(description="exact or sampled.")
    shapley_permutations: int | None
    transitions_total: int = Field(
        description="Transitions of the chain (the table lists the top)."
    )
    channels: Annotated[pd.DataFrame, TableOf(ChannelRow)]
    shares: Annotated[pd.DataFrame, TableOf(ShareRow)]
    transitions: Annotated[pd.DataFrame, TableOf(TransitionRow)]

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        conversions = ["channel", "touches", *MODELS, "shapley_se", "removal_effect"]
        shown = [("attributed conversions", self.channels[conversions].dropna(axis=1, how="all"))]
        if self.value is not None:
            worth = ["channel", *(f"{model}_value" for model in MODELS), "value_removal_effect"]
            shown.append(("attributed value", self.channels[worth].dropna(axis=1, how="all")))
        shown.append(("share of the conversions by model", self.shares))
        shown.append(
            (
                f"transitions of the chain of order {self.order} "
                f"({len(self.transitions)} of {self.transitions_total}, the most walked)",
                self.transitions,
            )
        )
        return shown


def attribution(events: EventLog, params: AttributionParams | None = None) -> AttributionResult:
    """Attribute the conversions of ``events`` to the touches before them.

    Examples
    --------
    >>> params = AttributionParams(conversion="milestone:purchase", lookback="30d")
    >>> result = attribution(events, params)  # doctest: +SKIP
    >>> result.channels[["channel", "last_touch", "markov", "shapley"]]  # doctest: +SKIP
    """
    params = params or AttributionParams()
    if params.paths is not None:
        raise OptionsError(
            "--paths reads paths from a file, but events were given as well",
            hint="give either EVENTS (or --spec SPEC) or --paths FILE",
            code="options",
        )
    conversion = params.conversion
    if conversion is None:
        spec = events.spec
        if spec is None or spec.milestone("purchase") is None:
            raise OptionsError(
                "which conversion should attribution explain?",
                hint="name it with --conversion (an event, touchpoint:ID or milestone:ID)",
                code="options",
            )
        conversion = "milestone:purchase"
    rules = PathRules(
        conversion=conversion,
        level=params.level,
        lookback_us=None if params.lookback is None else microseconds(params.lookback),
        collapse_repeats=params.collapse_repeats,
        max_length=params.max_length,
        exclude=tuple(params.exclude),
        half_life_us=microseconds(params.half_life),
    )
    return attribute(event_paths(events, rules), params, events.report.source)


def attribution_from_paths(
    table: Source, params: AttributionParams | None = None, **values: object
) -> AttributionResult:
    """Attribute the conversions of a table of distinct paths (a file or a table in memory).

    ``values`` are parameters given by name (``path_col="path"``, ``order=2``).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [1, 1],
    ...                       "total_null": [0, 2]})
    >>> channels = attribution_from_paths(table).channels.set_index("channel")
    >>> channels["linear"].to_dict()
    {'b': 1.5, 'a': 0.5}
    """
    chosen = params or AttributionParams.model_validate(values)
    columns = FileColumns(
        path=chosen.path_col,
        conversions=chosen.conversions_col,
        value=chosen.conversion_value_col,
        nulls=chosen.null_col,
        path_separator=chosen.path_sep,
    )
    found = file_paths(table, columns, delimiter=chosen.sep)
    return attribute(found, chosen, describe(table))


def attribution_without_events(params: AttributionParams) -> AttributionResult:
    """Attribution of the paths in ``--paths FILE`` (the command without events)."""
    if params.paths is None:
        raise OptionsError(
            "attribution needs events or a file of paths",
            hint="give EVENTS --spec SPEC (or a spec whose data section names the events), "
            "or --paths FILE",
            code="options",
        )
    return attribution_from_paths(params.paths, params)


def attribute(found: EnginePaths, params: AttributionParams, source: str) -> AttributionResult:
    """Run every model on the paths and gather the result."""
    paths = found.paths
    total = float(paths.conversions.sum())
    if len(paths) == 0 or total <= 0:
        raise DataError(
            f"{source}: no conversion has a touch before it, so there is nothing to attribute "
            f"({found.conversions_without_touches:g} conversions without touches)",
            hint="check the conversion step, the level and the lookback",
            code="no-conversions",
        )
    chain = MarkovChain.fit(paths, params.order)
    solution = chain.solve()
    effects, value_effects = solution.removal_effects()
    values = shapley(paths, params.shapley_game, permutations=params.permutations, seed=params.seed)
    by_model = heuristics(paths, paths.conversions, params.first_weight, params.last_weight)
    by_model["markov"] = attributed(total, effects)
    by_model["shapley"] = values.conversions
    worth = heuristics(paths, paths.value, params.first_weight, params.last_weight)
    worth["markov"] = attributed(float(paths.value.sum()), value_effects)
    worth["shapley"] = values.value
    decay, decay_value = _time_decay(found, paths.channels)
    if decay is not None and decay_value is not None:
        by_model["time_decay"], worth["time_decay"] = decay, decay_value
    walks = paths.conversions + paths.nulls
    table = pd.DataFrame({"channel": list(paths.channels)})
    table["touches"] = np.bincount(
        paths.touches, weights=walks[paths.path_of_touch], minlength=len(paths.channels)
    )
    for model in MODELS:
        table[model] = by_model.get(model)
        table[f"{model}_value"] = worth.get(model) if found.has_value else None
    table["shapley_se"] = values.standard_error
    table["removal_effect"] = effects
    table["value_removal_effect"] = value_effects if found.has_value else None
    table = table.sort_values("markov", ascending=False, kind="stable").reset_index(drop=True)
    return AttributionResult(
        params=params,
        source=source,
        from_events=found.time_decay is not None,
        order=params.order,
        conversion_probability=solution.probability,
        markov_solver=solution.method,
        markov_error_bound=solution.error_bound,
        conversions=total,
        value=float(paths.value.sum()) if found.has_value else None,
        non_conversions=float(paths.nulls.sum()),
        distinct_paths=len(paths),
        conversions_without_touches=found.conversions_without_touches,
        value_without_touches=found.value_without_touches if found.has_value else None,
        left_out=found.left_out,
        shapley_method=values.method,
        shapley_permutations=values.permutations,
        transitions_total=int(chain.counts.nnz),
        channels=frame_of(_records(table), ChannelRow),
        shares=_shares(table, total),
        transitions=_transitions(chain, params.top_transitions),
    )


def _time_decay(
    found: EnginePaths, channels: tuple[str, ...]
) -> tuple[Floats | None, Floats | None]:
    if found.time_decay is None:
        return None, None
    frame = found.time_decay.set_index("channel").reindex(list(channels)).fillna(0.0)
    return frame["conversions"].to_numpy(float), frame["value"].to_numpy(float)


def _shares(table: pd.DataFrame, total: float) -> pd.DataFrame:
    shown = [model for model in MODELS if table[model].notna().any()]
    long = table.melt(
        id_vars="channel", value_vars=shown, var_name="model", value_name="conversions"
    )
    long["share"] = long["conversions"] / total
    return frame_of(_records(long), ShareRow)


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def _transitions(chain: MarkovChain, top: int) -> pd.DataFrame:
    counts = chain.counts.tocoo()
    out = chain.out_counts
    order = np.lexsort((counts.col, counts.row, -counts.data))[:top]
    rows = [
        {
            "from": chain.label(int(counts.row[i])),
            "to": chain.label(int(counts.col[i])),
            "transitions": float(counts.data[i]),
            "probability": float(counts.data[i] / out[counts.row[i]]),
        }
        for i in order
    ]
    return frame_of(rows, TransitionRow)


ANALYSIS = Analysis(
    params=AttributionParams,
    result=AttributionResult,
    run=attribution,
    without_events=attribution_without_events,
    without_events_help="Without EVENTS and --spec, it reads distinct paths with their "
    "conversion counts from --paths FILE.",
    figures=("journeys.plots.attribution:models_figure",),
    options={"exclude": Option(several=True)},
)
