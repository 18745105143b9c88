"""Time between stages: from a customer's first entry of stage A to their first entry of stage B.

By default the pairs are consecutive stages of the spec (awareness to consideration,
consideration to purchase, ...); any steps can be paired instead (events, touchpoints,
stages or milestones). Customers who entered B before A, or never entered B, have no
duration for that pair and are counted apart.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any

import pandas as pd
from pydantic import Field

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf, frame_of
from journeys.analyses.definitions import first_entries
from journeys.analyses.registry import Analysis, Option
from journeys.data.reader import EventLog
from journeys.errors import OptionsError

QUANTILES = {"p10": 0.1, "p25": 0.25, "median": 0.5, "p75": 0.75, "p90": 0.9}


class TimingParams(Params):
    """Pairs of steps to time; default the spec's consecutive stages."""

    pairs: list[tuple[str, str]] | None = Field(
        default=None, description="(from, to) steps; default each stage and the next."
    )


class TimingRow(Row):
    """Time from the first entry of one step to the first entry of the next, in days."""

    from_: str = Field(alias="from")
    to: str
    customers_from: int = Field(description="Customers who entered 'from'.")
    customers_to: int = Field(description="Customers who entered 'to'.")
    customers: int = Field(description="Customers who entered both, 'to' not before 'from'.")
    reversed: int = Field(description="Customers who entered 'to' before 'from'.")
    mean_days: float | None
    p10_days: float | None
    p25_days: float | None
    median_days: float | None
    p75_days: float | None
    p90_days: float | None


class TimingResult(Result):
    """One row per pair of steps."""

    main_table = "pairs"
    params: TimingParams
    pairs: Annotated[pd.DataFrame, TableOf(TimingRow)]


def timing(events: EventLog, params: TimingParams | None = None) -> TimingResult:
    """Durations between first entries of pairs of steps, in days.

    Examples
    --------
    >>> timing(mapped_events).pairs[["from", "to", "median_days"]]  # doctest: +SKIP
    """
    params = params or TimingParams()
    pairs = params.pairs or _stage_pairs(events)
    names = list(dict.fromkeys(name for pair in pairs for name in pair))
    run = runner.current()
    firsts = run.cached(first_entries(events, names))
    index = {name: i for i, name in enumerate(names)}
    rows = []
    for source, target in pairs:
        start, end = firsts[f"first{index[source]}"], firsts[f"first{index[target]}"]
        days = (end - start) / 86_400e6
        in_order = start.notnull() & end.notnull() & (end >= start)
        aggregates: dict[str, Any] = {
            "customers_from": start.notnull().cast("int64").sum(),
            "customers_to": end.notnull().cast("int64").sum(),
            "customers": in_order.cast("int64").sum(),
            "reversed": (start.notnull() & end.notnull() & (end < start)).cast("int64").sum(),
            "mean_days": days.mean(where=in_order),
        }
        aggregates |= {
            f"{label}_days": days.quantile(q, where=in_order) for label, q in QUANTILES.items()
        }
        row = {
            str(key): value
            for key, value in run.frame(firsts.aggregate(**aggregates)).iloc[0].items()
        }
        rows.append({"from": source, "to": target, **row})
    frame = frame_of(rows, TimingRow)
    for column in ("customers_from", "customers_to", "customers", "reversed"):
        frame[column] = frame[column].fillna(0).astype(int)
    return TimingResult(params=params, pairs=frame)


def _stage_pairs(events: EventLog) -> list[tuple[str, str]]:
    if events.spec is None:
        raise OptionsError(
            "timing between stages needs a journey spec",
            hint="pass --spec SPEC, or name the pairs of steps to time",
            code="needs-spec",
        )
    stages = [f"stage:{stage.id}" for stage in events.spec.stages]
    if len(stages) < 2:
        raise OptionsError("timing needs at least two stages in the spec", code="needs-spec")
    return list(itertools.pairwise(stages))


def _pair(text: str) -> tuple[str, str]:
    first, sep, second = text.partition(":")
    if not sep or not first or not second:
        raise OptionsError(f"--pair '{text}': write FROM:TO, like trial_start:purchase")
    return first, second


ANALYSIS = Analysis(
    params=TimingParams,
    result=TimingResult,
    run=timing,
    figures=("journeys.plots.timing:timing_figure",),
    options={"pairs": Option(name="--pair", parse=_pair, help="FROM:TO steps to time.")},
)
