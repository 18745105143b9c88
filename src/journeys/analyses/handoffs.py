"""Hand-offs between departments: the declared ones against their service level, and the
ones the events show.

Owners are departments (:mod:`journeys.analyses.handoff_settings` defines the spec's
``handoffs:`` and each stage's and milestone's ``raci:``). Every number is defined so that
anyone can recompute it from the events:

*Declared hand-offs.* For each hand-off of the spec and each customer, the clock starts
at the customer's first ``from`` event; the hand-off happens at their first ``to`` event
at or after that instant (an event at the same instant counts; one before it does not).
``owner:D`` matches every event of a touchpoint department D owns. The customer's
hand-off is then

- *met*: picked up, and the wait is at most the service level ``within``;
- *late*: picked up, and the wait is longer (breached);
- *dropped*: not picked up, and the data ends more than ``within`` after the start
  (breached);
- *waiting*: not picked up, and the data ends within the level: it may still be met.

"The data ends" at the last event of the whole log. With ``business_days: true`` the
wait, the level and the time until the data ends count only Monday to Friday in UTC:
the elapsed time minus the part of it that falls on a Saturday or a Sunday (UTC), so a
purchase on Friday at 17:00 picked up on Monday at 17:00 waited one day. Reported per
hand-off: ``customers`` (those with a ``from`` event), ``picked_up`` (met and late),
``met``, ``late``, ``dropped``, ``waiting``, ``breached`` (late and dropped),
``breach_rate`` (breached over the customers whose outcome is known, that is all but
those waiting), and the median and 90th percentile of the wait of those picked up (in
seconds, counted as the level counts; percentiles interpolate linearly between the
closest ranks). The same per persona and per week (Monday to Sunday, UTC) of the start;
:meth:`HandoffsResult.customers` lists the customers waiting or dropped, for the
department to act on.

*Satisfaction around a hand-off.* Only when the events carry a satisfaction column: a
customer's score is the mean of their satisfaction values from the start of the clock
to ``satisfaction_window`` after it; per hand-off, the mean over customers whose
hand-off was met against the mean over those whose hand-off was breached (late or
dropped), the difference (breached minus met) and its 95% interval (Welch's standard
error, normal approximation). Customers without a score in the window are left out and
counted.

*Observed hand-offs.* For every customer, the events of touchpoints that have an owner
in time order (events at the same instant by event name, then touchpoint; events
without an owner are skipped); two consecutive ones whose owners differ are a hand-off
from the first department to the second. Per pair of departments: ``transitions``,
``customers`` (who made at least one) and the median and 90th percentile of the time
between the two events, in seconds.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any

import ibis
import pandas as pd
from pydantic import Field, PrivateAttr

from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf, frame_of, number, records
from journeys.analyses.definitions import DAY_US, WEEK_SHIFT, period_start
from journeys.analyses.handoff_settings import OWNER, Handoff, alternatives
from journeys.analyses.matching import Matcher
from journeys.analyses.registry import Analysis, Option
from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.params import Duration, microseconds
from journeys.spec.models import Spec

WEEK_US = 7 * DAY_US
WORKING_WEEK_US = 5 * DAY_US
#: Z of a two-sided 95% interval.
Z95 = 1.959963984540054
STATES = ("met", "late", "dropped", "waiting")


class HandoffsParams(Params):
    """How satisfaction around a hand-off is read (the hand-offs come from the spec)."""

    satisfaction_window: Duration = Field(
        default=timedelta(days=30),
        description="Satisfaction scores from the start of a hand-off's clock to this long "
        "after it are the customer's score around the hand-off.",
    )


class Outcomes(Row):
    """What happened to the customers of a declared hand-off."""

    customers: int = Field(description="Customers with a 'from' event (the clock started).")
    picked_up: int = Field(description="Customers with a 'to' event at or after the start.")
    met: int = Field(description="Picked up within the service level.")
    late: int = Field(description="Picked up after the service level (breached).")
    dropped: int = Field(
        description="Not picked up, and the data ends after the service level (breached)."
    )
    waiting: int = Field(description="Not picked up, and the data ends within the level.")
    breached: int = Field(description="late + dropped.")
    breach_rate: float | None = Field(
        description="breached / (customers - waiting): the share of decided hand-offs breached."
    )
    median_seconds: float | None = Field(
        description="Median wait of those picked up (business time with business_days)."
    )
    p90_seconds: float | None = Field(description="90th percentile of that wait.")


class DeclaredRow(Row):
    """A declared hand-off against its service level."""

    name: str = Field(description="The hand-off's name in the spec.")
    from_: str = Field(alias="from", description="Where the clock starts.")
    to: str = Field(description="Where the hand-off happens.")
    within_seconds: float = Field(description="The service level, in seconds.")
    business_days: bool = Field(description="Whether only Monday to Friday (UTC) count.")
    customers: int
    picked_up: int
    met: int
    late: int
    dropped: int
    waiting: int
    breached: int
    breach_rate: float | None
    median_seconds: float | None
    p90_seconds: float | None


class PersonaRow(Outcomes):
    """A declared hand-off for the customers of one persona."""

    name: str = Field(description="The hand-off's name in the spec.")
    persona: str = Field(description="The persona (unassigned for customers of none).")


class WeekRow(Outcomes):
    """A declared hand-off for the customers whose clock started in one week."""

    name: str = Field(description="The hand-off's name in the spec.")
    week: str = Field(description="The Monday (UTC) of the week the clock started.")


class SatisfactionRow(Row):
    """Satisfaction of customers whose hand-off met the level against those it breached."""

    name: str = Field(description="The hand-off's name in the spec.")
    met_customers: int = Field(description="Customers met, with a score in the window.")
    met_mean: float | None = Field(description="Mean of their scores (each customer's mean).")
    breached_customers: int = Field(description="Customers breached, with a score.")
    breached_mean: float | None = Field(description="Mean of their scores.")
    difference: float | None = Field(description="breached_mean - met_mean.")
    difference_low: float | None = Field(description="Lower end of its 95% interval.")
    difference_high: float | None = Field(description="Upper end of its 95% interval.")
    unscored: int = Field(description="Customers met or breached without a score in the window.")


class ObservedRow(Row):
    """Hand-offs the events show from one department to another."""

    from_owner: str = Field(description="The department of the earlier event.")
    to_owner: str = Field(description="The department of the next event with an owner.")
    transitions: int = Field(description="Consecutive events from the one to the other.")
    customers: int = Field(description="Customers with at least one such transition.")
    median_seconds: float | None = Field(description="Median time between the two events.")
    p90_seconds: float | None = Field(description="90th percentile of that time.")


class HandoffsResult(Result):
    """Declared hand-offs against their service level, and the hand-offs observed."""

    main_table = "declared"
    params: HandoffsParams
    data_end: str | None = Field(description="The last event of the log (UTC): where data ends.")
    declared: Annotated[pd.DataFrame, TableOf(DeclaredRow)]
    by_persona: Annotated[pd.DataFrame, TableOf(PersonaRow)]
    by_week: Annotated[pd.DataFrame, TableOf(WeekRow)]
    satisfaction: Annotated[pd.DataFrame, TableOf(SatisfactionRow)] | None = Field(
        default=None, description="Only when the events carry a satisfaction column."
    )
    observed: Annotated[pd.DataFrame, TableOf(ObservedRow)]
    message: str | None = Field(default=None, description="What could not be measured, if any.")
    _outcomes: ibis.Table | None = PrivateAttr(default=None)

    def customers(self) -> ibis.Table:
        """The customers whose hand-off is waiting or dropped, for the department to act on.

        Columns: ``handoff``, ``customer_id``, ``persona``, ``state`` (waiting or dropped),
        ``started`` (the first ``from`` event, UTC), ``waited_seconds`` (until the data
        ends, counted as the level counts) and ``within_seconds``.
        """
        if self._outcomes is None:
            raise ValueError("this result was read from JSON: its customers are not known")
        table = self._outcomes
        open_ = table.filter(table.state.isin(["waiting", "dropped"]))
        return open_.select(
            "handoff",
            "customer_id",
            "persona",
            "state",
            "started",
            waited_seconds=open_.open_us / 1e6,
            within_seconds=open_.level_us / 1e6,
        ).order_by(["handoff", "state", "started", "customer_id"])


def handoffs(events: EventLog, params: HandoffsParams | None = None) -> HandoffsResult:
    """Measure the spec's declared hand-offs and the hand-offs between owners in the events.

    Parameters
    ----------
    events
        Events with a journey spec applied (its touchpoints' owners are departments).
    params
        How satisfaction around a hand-off is read.

    Examples
    --------
    >>> result = handoffs(mapped_events)  # doctest: +SKIP
    >>> result.declared[["name", "customers", "met", "breached", "waiting"]]  # doctest: +SKIP
    """
    params = params or HandoffsParams()
    spec = events.require_spec("measuring hand-offs between departments")
    _needs_departments(spec)
    run = runner.current()
    data_end_us = run.scalar(events.table.timestamp_us.max())
    observed = _observed(events.table)
    message = None
    if not spec.handoffs:
        message = (
            "the spec declares no hand-offs, so only the hand-offs observed between owners "
            "are shown; declare them under `handoffs:` with a service level to measure them"
        )
    if not spec.handoffs or data_end_us is None:
        empty = _empty_declared()
        return HandoffsResult(
            params=params,
            data_end=_instant(data_end_us),
            declared=empty[0],
            by_persona=empty[1],
            by_week=empty[2],
            observed=observed,
            message=message,
        )
    outcomes = run.cached(_outcomes(events, spec, int(data_end_us)))
    declared = _declared(outcomes, spec.handoffs)
    by_persona = frame_of([], PersonaRow)
    if spec.personas:
        by_persona = _outcome_frame(outcomes, ["handoff", "persona"], spec.handoffs)
        by_persona = by_persona[_columns(PersonaRow)]
    by_week = _by_week(outcomes, spec.handoffs)
    satisfaction = None
    if events.has_satisfaction:
        satisfaction = _satisfaction(events.table, outcomes, spec.handoffs, params)
    result = HandoffsResult(
        params=params,
        data_end=_instant(data_end_us),
        declared=declared,
        by_persona=by_persona,
        by_week=by_week,
        satisfaction=satisfaction,
        observed=observed,
        message=message,
    )
    result._outcomes = outcomes
    return result


# --- declared hand-offs ---------------------------------------------------------------


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


def _outcomes(events: EventLog, spec: Spec, data_end_us: int) -> ibis.Table:
    """One row per hand-off and customer whose clock started: start, end, wait, state.

    Columns: ``handoff`` (its name), ``customer_id``, ``persona``, ``started`` (the
    first ``from`` event's timestamp) and ``start_us`` (the same in microseconds),
    ``end_us`` (null when not picked up), ``wait_us`` (null then), ``open_us`` (from the
    start to the end of the data), ``level_us``, ``week`` (numbered as calendar weeks)
    and ``state``.
    """
    table = events.table
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
        _states(per_customer, index, handoff, data_end_us)
        for index, handoff in enumerate(spec.handoffs)
    ]
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def _states(per_customer: ibis.Table, index: int, handoff: Handoff, data_end_us: int) -> ibis.Table:
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


def _outcome_frame(outcomes: ibis.Table, keys: list[str], handoffs: list[Handoff]) -> pd.DataFrame:
    """The outcomes (:class:`Outcomes`) by ``keys`` (the hand-off first, as ``name``), in
    the spec's order of hand-offs."""
    picked = outcomes.end_us.notnull()
    wait_seconds = outcomes.wait_us / 1e6
    counted = outcomes.group_by(keys).aggregate(
        customers=outcomes.count(),
        picked_up=picked.cast("int64").sum(),
        **{state: (outcomes.state == state).cast("int64").sum() for state in STATES},
        median_seconds=wait_seconds.quantile(0.5, where=picked),
        p90_seconds=wait_seconds.quantile(0.9, where=picked),
    )
    frame = runner.current().frame(counted)
    whole = ["customers", "picked_up", *STATES]
    frame[whole] = frame[whole].fillna(0).astype(int)
    frame["breached"] = frame["late"] + frame["dropped"]
    decided = frame["customers"] - frame["waiting"]
    frame["breach_rate"] = (frame["breached"] / decided.where(decided > 0)).astype(float)
    order = {handoff.name: place for place, handoff in enumerate(handoffs)}
    frame = frame.assign(_order=frame["handoff"].map(order))
    frame = frame.sort_values(["_order", *keys[1:]]).drop(columns="_order")
    columns = ["name", *keys[1:], *_columns(Outcomes)]
    return frame.rename(columns={"handoff": "name"})[columns].reset_index(drop=True)


def _columns(row: type[Row]) -> list[str]:
    return [info.alias or name for name, info in row.model_fields.items()]


def _declared(outcomes: ibis.Table, handoffs: list[Handoff]) -> pd.DataFrame:
    """Every declared hand-off, in the spec's order (with zeros when nobody started it)."""
    measured = _outcome_frame(outcomes, ["handoff"], handoffs)
    by_name = {str(row["name"]): row for row in measured.to_dict(orient="records")}
    rows = []
    for handoff in handoffs:
        found = by_name.get(handoff.name, _nobody())
        rows.append(
            {
                "name": handoff.name,
                "from": handoff.from_,
                "to": handoff.to,
                "within_seconds": handoff.within.total_seconds(),
                "business_days": handoff.business_days,
                **{key: found[key] for key in _columns(Outcomes)},
            }
        )
    return frame_of(rows, DeclaredRow)


def _nobody() -> dict[str, Any]:
    counts = dict.fromkeys(
        ("customers", "picked_up", "met", "late", "dropped", "waiting", "breached"), 0
    )
    return counts | {"breach_rate": None, "median_seconds": None, "p90_seconds": None}


def _by_week(outcomes: ibis.Table, handoffs: list[Handoff]) -> pd.DataFrame:
    frame = _outcome_frame(outcomes, ["handoff", "week"], handoffs)
    frame["week"] = [period_start(int(number), "week").isoformat() for number in frame["week"]]
    return frame[_columns(WeekRow)]


def _empty_declared() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return frame_of([], DeclaredRow), frame_of([], PersonaRow), frame_of([], WeekRow)


# --- satisfaction around a hand-off ---------------------------------------------------


def _satisfaction(
    table: ibis.Table, outcomes: ibis.Table, handoffs: list[Handoff], params: HandoffsParams
) -> pd.DataFrame:
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
    window_us = microseconds(params.satisfaction_window)
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
    rows = [_compare(handoff.name, found) for handoff in handoffs]
    return frame_of(rows, SatisfactionRow)


def _compare(name: str, found: dict[tuple[str, bool], dict[str, Any]]) -> dict[str, Any]:
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


def _observed(table: ibis.Table) -> pd.DataFrame:
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
    return frame[_columns(ObservedRow)].reset_index(drop=True)


def _instant(microseconds_: Any) -> str | None:
    if microseconds_ is None:
        return None
    return pd.Timestamp(int(microseconds_), unit="us").isoformat()


def _needs_departments(spec: Spec) -> None:
    """Without hand-offs declared or owners to observe them between, nothing is measured."""
    if not spec.handoffs and not any(touchpoint.owner for touchpoint in spec.touchpoints):
        raise OptionsError(
            "the spec declares no hand-offs and no touchpoint has an owner, so there are no "
            "hand-offs between departments to measure",
            hint="give each touchpoint its department as `owner:`, and declare hand-offs "
            "with a service level under `handoffs:` in the spec",
            code="needs-departments",
        )


ANALYSIS = Analysis(
    params=HandoffsParams,
    result=HandoffsResult,
    run=handoffs,
    needs_spec=True,
    figures=(
        "journeys.plots.handoffs:declared_figure",
        "journeys.plots.handoffs:observed_matrix_figure",
    ),
    exports={
        "customers": Option(
            help="Write the customers whose hand-off is waiting or dropped (CSV) to this file."
        )
    },
)
