"""Time between stages: from a customer's first entry of stage A to their first entry of stage B.

By default the pairs are consecutive stages of the spec (awareness to consideration,
consideration to purchase, ...); any steps can be paired instead (events, touchpoints,
stages or milestones). Customers who entered B before A, or never entered B, have no
duration for that pair and are counted apart.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
from pydantic import Field

from journeys.analyses.base import Params, Result, records
from journeys.analyses.matching import Matcher
from journeys.data.reader import EventLog
from journeys.errors import OptionsError

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

QUANTILES = {"p10": 0.1, "p25": 0.25, "median": 0.5, "p75": 0.75, "p90": 0.9}


class TimingParams(Params):
    """Pairs of steps to time; default the spec's consecutive stages."""

    pairs: list[tuple[str, str]] | None = Field(
        default=None, description="(from, to) steps; default each stage and the next."
    )


@dataclass(frozen=True)
class TimingResult(Result):
    """One row per pair: customers at each end, with a duration, and its distribution in days."""

    params: TimingParams
    table: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return {"pairs": records(self.table)}

    def figure(self) -> Figure:
        from journeys.plots.timing import timing_figure

        return timing_figure(self)


def timing(events: EventLog, params: TimingParams | None = None) -> TimingResult:
    """Durations between first entries of pairs of steps, in days.

    Examples
    --------
    >>> timing(mapped_events).table[["from", "to", "median_days"]]  # doctest: +SKIP
    """
    params = params or TimingParams()
    pairs = params.pairs or _stage_pairs(events)
    names = list(dict.fromkeys(name for pair in pairs for name in pair))
    firsts = first_entries(events, names).cache()
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
        row = firsts.aggregate(**aggregates).to_pandas().iloc[0].to_dict()
        rows.append({"from": source, "to": target, **row})
    frame = pd.DataFrame(rows)
    for column in ("customers_from", "customers_to", "customers", "reversed"):
        frame[column] = frame[column].fillna(0).astype(int)
    return TimingResult(params=params, table=frame)


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


def first_entries(events: EventLog, steps: list[str]) -> ibis.Table:
    """Per customer, the first time (``timestamp_us``) of each step, as ``first0``, ``first1``..."""
    marked = events.table.select(
        "customer_id",
        "timestamp_us",
        **{f"s{i}": p for i, p in enumerate(Matcher(events).predicates(steps))},
    )
    return marked.group_by("customer_id").aggregate(
        **{f"first{i}": marked.timestamp_us.min(where=marked[f"s{i}"]) for i in range(len(steps))}
    )
