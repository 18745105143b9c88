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

from datetime import timedelta
from typing import Annotated, Any

import ibis
import pandas as pd
from pydantic import Field, PrivateAttr

from journeys.analyses import handoff_measures as measures
from journeys.analyses import runner
from journeys.analyses.base import Params, Result, Row, TableOf, columns, frame_of
from journeys.analyses.definitions import period_start
from journeys.analyses.handoff_measures import STATES
from journeys.analyses.handoff_settings import Handoff
from journeys.analyses.registry import Analysis, Option
from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.params import Duration
from journeys.spec.models import Spec


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


class Named(Row):
    """The hand-off a row is about."""

    name: str = Field(description="The hand-off's name in the spec.")


class ByPersona(Named):
    persona: str = Field(description="The persona (unassigned for customers of none).")


class ByWeek(Named):
    week: str = Field(description="The Monday (UTC) of the week the clock started.")


class PersonaRow(Outcomes, ByPersona):
    """A declared hand-off for the customers of one persona."""


class WeekRow(Outcomes, ByWeek):
    """A declared hand-off for the customers whose clock started in one week."""


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
    observed = measures.observed(events.table)[columns(ObservedRow)]
    message = None
    if not spec.handoffs:
        message = (
            "the spec declares no hand-offs, so only the hand-offs observed between owners "
            "are shown; declare them under `handoffs:` with a service level to measure them"
        )
    # An empty log has no end; it has no outcomes either.
    end_us = int(data_end_us) if data_end_us is not None else 0
    outcomes = run.cached(measures.outcomes(events, spec, end_us))
    declared = _declared(outcomes, spec.handoffs)
    by_persona = frame_of([], PersonaRow)
    if spec.personas:
        by_persona = _outcome_frame(outcomes, ["handoff", "persona"], spec.handoffs)
        by_persona = by_persona[columns(PersonaRow)]
    by_week = _by_week(outcomes, spec.handoffs)
    satisfaction = None
    if events.has_satisfaction:
        window = params.satisfaction_window
        satisfaction = frame_of(
            measures.satisfaction(events.table, outcomes, spec.handoffs, window), SatisfactionRow
        )
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
    shown = ["name", *keys[1:], *columns(Outcomes)]
    return frame.rename(columns={"handoff": "name"})[shown].reset_index(drop=True)


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
                **{key: found[key] for key in columns(Outcomes)},
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
    return frame[columns(WeekRow)]


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
        "journeys.plots.handoffs:observed_sankey_figure",
    ),
    exports={
        "customers": Option(
            help="Write the customers whose hand-off is waiting or dropped (CSV) to this file."
        )
    },
)
