"""The engine's side of the hand-offs analysis: each definition of
:mod:`journeys.analyses.handoffs` as an Ibis expression.

Every row-level step (matching the ends of a hand-off, the first events, the waits, the
states, the consecutive owners) runs in the engine; Python only receives aggregates.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import ibis
import pandas as pd

from journeys.analyses import runner
from journeys.analyses.base import number, records
from journeys.analyses.definitions import DAY_US, WEEK_SHIFT
from journeys.analyses.handoff_settings import OWNER, Handoff, alternatives
from journeys.analyses.matching import Matcher
from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.params import microseconds
from journeys.spec.models import Spec

WEEK_US = 7 * DAY_US
WORKING_WEEK_US = 5 * DAY_US
#: Z of a two-sided 95% interval.
Z95 = 1.959963984540054
STATES = ("met", "late", "dropped", "waiting")


def end_predicate(matcher: Matcher, table: ibis.Table, handoff: Handoff, end: str) -> ibis.Value:
    """Whether each event is a hand-off's ``from`` or ``to`` end: a step, or ``owner:D``."""
    text = handoff.from_ if end == "from" else handoff.to
    found = alternatives(text)
    owners = [name for kind, name, _ in found if kind == OWNER]
    steps = [written for kind, _, written in found if kind != OWNER]
    predicate = ibis.literal(False)
    if owners:
        predicate |= table.owner.isin(owners).fill_null(False)
    if steps:
        try:
            predicate |= matcher.predicate("|".join(steps))
        except OptionsError as error:
            raise OptionsError(
                f"hand-off '{handoff.name}', {end} '{text}': {error.message}",
                hint=error.hint,
                code=error.code,
            ) from None
    return predicate


def business_us(instant_us: ibis.Value) -> ibis.Value:
    """Microseconds of Monday-to-Friday time (UTC) from Monday 1969-12-29 to ``instant_us``.

    The difference of two of these is the business time between two instants.
    """
    since_monday = instant_us + WEEK_SHIFT * DAY_US
    weeks = (since_monday / WEEK_US).floor().cast("int64")
    into_week = since_monday - weeks * WEEK_US
    return weeks * WORKING_WEEK_US + ibis.least(into_week, WORKING_WEEK_US)


def outcomes(events: EventLog, spec: Spec, data_end_us: int) -> ibis.Table:
    """One row per hand-off and customer whose clock started: start, end, wait, state.

    Columns: ``handoff`` (its name), ``customer_id``, ``persona``, ``started`` (the
    first ``from`` event's timestamp) and ``start_us`` (the same in microseconds),
    ``end_us`` (null when not picked up), ``wait_us`` (null then), ``open_us`` (from the
    start to the end of the data), ``level_us``, ``week`` (numbered as calendar weeks)
    and ``state``.
    """
    table = events.table
    if not spec.handoffs:
        return _no_outcomes(table)
    matcher = Matcher(events)
    marks: dict[str, ibis.Value] = {}
    for index, handoff in enumerate(spec.handoffs):
        marks[f"from{index}"] = end_predicate(matcher, table, handoff, "from")
        marks[f"to{index}"] = end_predicate(matcher, table, handoff, "to")
    persona = table.persona if "persona" in table.columns else ibis.literal("unassigned")
    marked = table.select("customer_id", "timestamp", "timestamp_us", persona=persona, **marks)
    whole = ibis.window(group_by="customer_id")
    null, no_time = ibis.null("int64"), ibis.null(marked.timestamp.type())
    starts = marked.mutate(
        **{
            f"start{index}": ibis.ifelse(marked[f"from{index}"], marked.timestamp_us, null)
            .min()
            .over(whole)
            for index in range(len(spec.handoffs))
        }
    )
    aggregates: dict[str, ibis.Value] = {}
    for index in range(len(spec.handoffs)):
        start = starts[f"start{index}"]
        after = starts[f"to{index}"] & (starts.timestamp_us >= start)
        aggregates[f"start{index}"] = start.min()
        first = starts[f"from{index}"]
        aggregates[f"started{index}"] = ibis.ifelse(first, starts.timestamp, no_time).min()
        aggregates[f"end{index}"] = ibis.ifelse(after, starts.timestamp_us, null).min()
    per_customer = starts.group_by(["customer_id", "persona"]).aggregate(**aggregates)
    parts = [
        states(per_customer, index, handoff, data_end_us)
        for index, handoff in enumerate(spec.handoffs)
    ]
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def _no_outcomes(table: ibis.Table) -> ibis.Table:
    """The outcomes' columns, without rows (for a spec that declares no hand-off)."""
    no_number = ibis.null("int64")
    return table.select(
        handoff=ibis.literal("", type="string"),
        customer_id=table.customer_id,
        persona=ibis.literal("", type="string"),
        started=table.timestamp,
        start_us=table.timestamp_us,
        end_us=no_number,
        wait_us=no_number,
        open_us=no_number,
        level_us=no_number,
        week=no_number,
        state=ibis.literal("", type="string"),
    ).filter(ibis.literal(False))


def states(per_customer: ibis.Table, index: int, handoff: Handoff, data_end_us: int) -> ibis.Table:
    """The customers of one hand-off whose clock started, with their wait and state."""
    started = per_customer.filter(per_customer[f"start{index}"].notnull())
    start, end = started[f"start{index}"], started[f"end{index}"]
    end_of_data = ibis.literal(data_end_us, type="int64")

    def measured(instant: ibis.Value) -> ibis.Value:
        return business_us(instant) if handoff.business_days else instant

    level = microseconds(handoff.within)
    wait = measured(end) - measured(start)
    open_for = measured(end_of_data) - measured(start)
    state = ibis.cases(
        (end.notnull() & (wait <= level), "met"),
        (end.notnull(), "late"),
        (open_for > level, "dropped"),
        else_="waiting",
    )
    since_monday = start + WEEK_SHIFT * DAY_US
    return started.select(
        handoff=ibis.literal(handoff.name, type="string"),
        customer_id=started.customer_id,
        persona=started.persona,
        started=started[f"started{index}"],
        start_us=start,
        end_us=end,
        wait_us=wait,
        open_us=open_for,
        level_us=ibis.literal(level, type="int64"),
        week=(since_monday / WEEK_US).floor().cast("int64"),
        state=state,
    )


# --- satisfaction around a hand-off ---------------------------------------------------


def satisfaction(
    table: ibis.Table, outcomes: ibis.Table, handoffs: list[Handoff], window: timedelta
) -> list[dict[str, Any]]:
    """Met against breached: each customer's mean score in the window, then per group."""
    decided = outcomes.filter(outcomes.state != "waiting").select(
        "handoff",
        "customer_id",
        "start_us",
        breached=outcomes.state != "met",
    )
    scores = table.filter(table.satisfaction.notnull()).select(
        score_customer=table.customer_id,
        score_us=table.timestamp_us,
        score=table.satisfaction.cast("float64"),
    )
    window_us = microseconds(window)
    joined = decided.left_join(
        scores,
        [
            decided.customer_id == scores.score_customer,
            scores.score_us >= decided.start_us,
            scores.score_us <= decided.start_us + window_us,
        ],
    )
    per_customer = joined.group_by(["handoff", "customer_id", "breached"]).aggregate(
        score=joined.score.mean()
    )
    scored = per_customer.score.notnull()
    grouped = per_customer.group_by(["handoff", "breached"]).aggregate(
        customers=scored.cast("int64").sum(),
        unscored=(~scored).cast("int64").sum(),
        mean=per_customer.score.mean(),
        variance=per_customer.score.var(how="sample"),
    )
    found = {
        (str(row["handoff"]), bool(row["breached"])): row
        for row in records(runner.current().frame(grouped))
    }
    return [compare(handoff.name, found) for handoff in handoffs]


def compare(name: str, found: dict[tuple[str, bool], dict[str, Any]]) -> dict[str, Any]:
    """One hand-off's row: the two means, their difference and its 95% interval."""
    met, breached = found.get((name, False), {}), found.get((name, True), {})
    met_n, breached_n = int(met.get("customers") or 0), int(breached.get("customers") or 0)
    met_mean = number(met.get("mean")) if met_n else None
    breached_mean = number(breached.get("mean")) if breached_n else None
    difference = low = high = None
    if met_mean is not None and breached_mean is not None:
        difference = breached_mean - met_mean
        met_var, breached_var = number(met.get("variance")), number(breached.get("variance"))
        if met_n > 1 and breached_n > 1 and met_var is not None and breached_var is not None:
            error = math.sqrt(met_var / met_n + breached_var / breached_n)
            low, high = difference - Z95 * error, difference + Z95 * error
    return {
        "name": name,
        "met_customers": met_n,
        "met_mean": met_mean,
        "breached_customers": breached_n,
        "breached_mean": breached_mean,
        "difference": difference,
        "difference_low": low,
        "difference_high": high,
        "unscored": int(met.get("unscored") or 0) + int(breached.get("unscored") or 0),
    }


# --- observed hand-offs ---------------------------------------------------------------


def observed(table: ibis.Table) -> pd.DataFrame:
    """Consecutive owned events with different owners, per pair of departments."""
    owned = table.filter(table.owner.notnull()).select(
        "customer_id", "timestamp_us", "event", "touchpoint", "owner"
    )
    order = ibis.window(group_by="customer_id", order_by=["timestamp_us", "event", "touchpoint"])
    marked = owned.mutate(
        from_owner=owned.owner.lag().over(order),
        previous_us=owned.timestamp_us.lag().over(order),
    )
    moves = marked.filter(marked.from_owner.notnull() & (marked.from_owner != marked.owner))
    seconds = (moves.timestamp_us - moves.previous_us) / 1e6
    counted = moves.group_by(["from_owner", moves.owner.name("to_owner")]).aggregate(
        transitions=moves.count(),
        customers=moves.customer_id.nunique(),
        median_seconds=seconds.quantile(0.5),
        p90_seconds=seconds.quantile(0.9),
    )
    frame = runner.current().frame(counted)
    frame[["transitions", "customers"]] = frame[["transitions", "customers"]].astype(int)
    frame = frame.sort_values(
        ["transitions", "customers", "from_owner", "to_owner"],
        ascending=[False, False, True, True],
    )
    return frame.reset_index(drop=True)
