"""Paths: the most common paths from or to an event.

Top paths follow each customer from the first time they do the anchor event for
``depth`` steps (or lead up to it), keep the ``top`` most common paths and group the
rest as ``other``. By event, the positions are those numbered when the events were read:
a path is a join on each customer's first anchor and a group-by, with no sort.
"""

from __future__ import annotations

from typing import Annotated, Any

import ibis
import pandas as pd
from pydantic import Field, model_validator

from journeys.analyses import runner
from journeys.analyses.base import Result, Row, TableOf
from journeys.analyses.matching import Matcher
from journeys.analyses.positions import positioned
from journeys.analyses.registry import Analysis, Option
from journeys.analyses.sequences import Level
from journeys.analyses.units import UnitParams, in_units
from journeys.data.reader import EventLog

END = "END"
START = "START"
OTHER = "other"


class PathsParams(UnitParams):
    """Paths after (``start``) or before (``end``) an anchor, or from each first event."""

    start: str | None = Field(default=None, description="Follow paths from this step.")
    end: str | None = Field(default=None, description="Follow paths that lead to this step.")
    depth: int = Field(default=5, ge=1, le=50, description="Steps after or before the anchor.")
    top: int = Field(default=10, ge=1, le=1000, description="Paths shown; the rest are 'other'.")
    level: Level = "event"
    collapse_repeats: bool = False

    @model_validator(mode="after")
    def _one_anchor(self) -> PathsParams:
        if self.start is not None and self.end is not None:
            raise ValueError("give 'start' or 'end', not both")
        return self


class PathRow(Row):
    """One of the most common paths."""

    rank: int | None = Field(description="1 for the most common; null for 'other'.")
    path: str = Field(description="Labels joined by ' > '; 'other' for the rest.")
    customers: int
    share: float = Field(description="Share of the customers followed.")


class FlowRow(Row):
    """Customers moving from one label to the next between two positions."""

    position: int = Field(description="0 is the anchor; negative positions lead up to it.")
    source: str
    target: str
    customers: int


class PathsResult(Result):
    """The most common paths, and the flows between positions (for the Sankey)."""

    main_table = "paths"
    params: PathsParams
    customers: int = Field(description="Customers followed (those with the anchor).")
    paths: Annotated[pd.DataFrame, TableOf(PathRow)]
    flows: Annotated[pd.DataFrame, TableOf(FlowRow)]


def paths(events: EventLog, params: PathsParams | None = None) -> PathsResult:
    """The most common paths after or before an anchor step.

    Each customer's path starts at their first anchor event (for ``end``: leads up to
    their first anchor event); a path that stops before ``depth`` steps ends with
    ``END`` (before the anchor: starts with ``START``). Without an anchor, paths start
    at each customer's first event.

    Examples
    --------
    >>> paths(events, PathsParams(start="cart", depth=3)).paths  # doctest: +SKIP
    """
    params = params or PathsParams()
    events = in_units(events, params)
    anchor_name = params.start or params.end
    extra = {"anchor": Matcher(events).predicate(anchor_name)} if anchor_name else {}
    table = positioned(events, params.level, collapse_repeats=params.collapse_repeats, extra=extra)
    backwards = params.end is not None
    names = _step_names(params)
    walks = _walks(table, params, anchored=anchor_name is not None)
    run = runner.current()
    walks = run.cached(walks)
    customers = int(run.scalar(walks.count()))
    ranked = walks.group_by(names).aggregate(customers=walks.count())
    top = run.frame(ranked.order_by([ibis.desc("customers"), *names]).limit(params.top))
    path_rows: list[dict[str, Any]] = [
        {
            "rank": rank + 1,
            "path": " > ".join(_trim(row[names].tolist(), backwards)),
            "customers": int(row["customers"]),
        }
        for rank, (_, row) in enumerate(top.iterrows())
    ]
    rest = customers - sum(row["customers"] for row in path_rows)
    if rest > 0:
        path_rows.append({"rank": None, "path": OTHER, "customers": rest})
    path_table = pd.DataFrame(path_rows, columns=["rank", "path", "customers"])
    path_table["rank"] = path_table["rank"].astype("Int64")
    path_table["share"] = path_table["customers"] / customers if customers else 0.0
    flows = _flows(walks, names, params)
    return PathsResult(params=params, paths=path_table, flows=flows, customers=customers)


def _walks(table: ibis.Table, params: PathsParams, *, anchored: bool) -> ibis.Table:
    """One row per customer followed: the labels at each step of their path from (or to)
    the anchor (:func:`_step_names`); ``END`` (``START``) where the path has no more events.

    The customer's first anchor is a minimum per customer; the steps around it are the
    events whose positions lie within ``depth`` of it, spread into columns by a group-by.
    """
    backwards = params.end is not None
    if anchored:
        anchors = table.filter(table.anchor)
        firsts = anchors.group_by("customer_id").aggregate(first=anchors.position.min())
        near = table.select("customer_id", "node", "position").join(firsts, "customer_id")
        offset = (near.first - near.position) if backwards else (near.position - near.first)
    else:
        near = table.filter(table.position <= params.depth + 1)
        offset = near.position - 1
    near = near.select("customer_id", "node", offset=offset)
    near = near.filter((near.offset >= 0) & (near.offset <= params.depth))
    filler = START if backwards else END
    names = _step_names(params)
    walks = near.group_by("customer_id").aggregate(
        **{
            name: near.node.max(where=near.offset == (params.depth - i if backwards else i))
            for i, name in enumerate(names)
        }
    )
    return walks.select(**{name: walks[name].fill_null(filler) for name in names})


def _step_names(params: PathsParams) -> list[str]:
    """``n0`` (the anchor) .. ``n{depth}`` after it; ``p0`` .. ``p{depth}`` (the anchor) before."""
    prefix = "p" if params.end is not None else "n"
    return [f"{prefix}{j}" for j in range(params.depth + 1)]


def _trim(nodes: list[str], backwards: bool) -> list[str]:
    """Show one END (or START) instead of a run of them."""
    filler = START if backwards else END
    ordered = list(reversed(nodes)) if backwards else nodes
    kept: list[str] = []
    for node in ordered:
        kept.append(node)
        if node == filler:
            break
    return list(reversed(kept)) if backwards else kept


def _flows(walks: ibis.Table, names: list[str], params: PathsParams) -> pd.DataFrame:
    """Customers moving between consecutive positions, for the Sankey figure."""
    backwards = params.end is not None
    parts = []
    for j in range(len(names) - 1):
        position = j - params.depth if backwards else j
        pair = walks.group_by(source=walks[names[j]], target=walks[names[j + 1]]).aggregate(
            customers=walks.count()
        )
        parts.append(pair.mutate(position=ibis.literal(position)))
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part)
    # Past the end of a path there is nothing to show (before its start, likewise).
    union = union.filter(union.target != START) if backwards else union.filter(union.source != END)
    ordered = union.select("position", "source", "target", "customers").order_by(
        ["position", ibis.desc("customers"), "source", "target"]
    )
    return runner.current().frame(ordered)


ANALYSIS = Analysis(
    params=PathsParams,
    result=PathsResult,
    run=paths,
    figures=("journeys.plots.paths:sankey_figure",),
    options={"start": Option(name="--from"), "end": Option(name="--to")},
)
