"""The engine's side of satisfaction: each definition of :mod:`journeys.analyses.satisfaction`
as an Ibis expression, and the check of the spec's surveys against the events.

Every row-level step (which events are answers, their scores and bands, the touchpoint
each answer is about, each customer's last answer at a stage, their next month and their
purchases) runs in the engine; Python receives one row per group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import ibis

from journeys.analyses.definitions import Period, customer_periods, period_number
from journeys.analyses.feedback_settings import BANDS, Feedback, Scale, Survey
from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.spec.base import Problem
from journeys.spec.data_base import DataCheck, EventsRead, meant
from journeys.spec.models import Spec

#: How an answer found its touchpoint, or why it found none.
OWN, PREVIOUS, OUTSIDE_WINDOW, NO_TOUCHPOINT = "own", "previous", "outside_window", "no_touchpoint"
#: What a feedback event is: an answer on its scale, an event without a score, or off it.
ANSWER, UNSCORED, OFF_SCALE = "answer", "unscored", "off_scale"
NO_CHANNEL = "(none)"


@dataclass(frozen=True)
class SurveyRule:
    """One survey as the engine reads it: its label, scale, answers and their scores."""

    label: str
    scale: Scale
    predicate: ibis.Value
    score: ibis.Value


def survey_rules(events: EventLog, feedback: Feedback) -> list[SurveyRule]:
    """The spec's surveys over the events (their event names and score columns checked)."""
    table = events.table
    present = events.event_names
    rules = []
    for index, survey in enumerate(feedback.surveys):
        for position, name in enumerate(survey.events):
            if name not in present:
                raise OptionsError(
                    f"feedback survey '{survey.label}' (feedback.surveys.{index}.events."
                    f"{position}): event '{name}' never occurs in the data"
                    f"{meant(name, sorted(present))}",
                    hint="name the event as the data writes it (journeys validate lists them "
                    "all), or remove it from the survey",
                    code="unknown-event",
                )
        predicate = ibis.literal(False)
        if survey.touchpoints:
            predicate |= table.touchpoint.isin(survey.touchpoints).fill_null(False)
        if survey.events:
            predicate |= table.event.isin(survey.events)
        score = _score_column(events, survey, index)
        rules.append(SurveyRule(survey.label, survey.scale(), predicate, score))
    return rules


def _score_column(events: EventLog, survey: Survey, index: int) -> ibis.Value:
    """The column a survey's scores are in: ``score:`` (by either name) or satisfaction."""
    table = events.table
    where = f"feedback survey '{survey.label}' (feedback.surveys.{index}.score)"
    if survey.score is None:
        if not events.has_satisfaction:
            raise OptionsError(
                f"{where} reads its scores from the events' satisfaction column, but the "
                "events have none",
                hint="name the column with --satisfaction-col (or `satisfaction:` under the "
                "data section's columns), or give the survey's `score:` column",
                code="no-score-column",
            )
        return table.satisfaction.cast("float64")
    roles = {source: role for role, source in events.report.columns.items()}
    column = survey.score
    if column not in table.columns and roles.get(column) in table.columns:
        column = roles[column]
    if column not in table.columns:
        listing = ", ".join(sorted(set(table.columns) - DERIVED))
        raise OptionsError(
            f"{where} reads its scores from column '{survey.score}', which the events do not "
            f"have; they have: {listing}",
            hint="name the column that holds the survey's scores under its `score:`",
            code="missing-column",
        )
    if not table[column].type().is_numeric():
        raise OptionsError(
            f"{where} reads its scores from column '{survey.score}', which holds "
            f"{table[column].type()} rather than numbers",
            hint="name the column that holds the scores as numbers under the survey's `score:`",
            code="not-numbers",
        )
    return table[column].cast("float64")


#: Columns journeys adds to the events (left out when listing the user's columns).
DERIVED = frozenset(
    {
        "timestamp_us",
        "position",
        "previous_event",
        "next_event",
        "since_previous_us",
        "touchpoint",
        "stage",
        "owner",
        "touchpoint_channel",
        "persona",
    }
)


def inferred_scale(events: EventLog) -> Scale:
    """The scale of the satisfaction column without a ``feedback:`` section: CSAT when every
    score is a whole number from 1 to 5; otherwise the spec must say."""
    score = events.table.satisfaction.cast("float64")
    found = (
        events.table.aggregate(
            scores=score.count(),
            low=score.min(),
            high=score.max(),
            whole=(score == score.floor()).cast("int64").sum(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    scores = int(found["scores"] or 0)
    hint = (
        "declare the surveys under `feedback:` in the spec, each with its kind, such as "
        "feedback: {surveys: [{touchpoints: csat, kind: csat}, {touchpoints: nps, kind: nps}]}"
    )
    if scores == 0:
        raise OptionsError("the satisfaction column holds no score", hint=hint, code="no-scores")
    low, high = float(found["low"]), float(found["high"])
    if int(found["whole"] or 0) == scores and low >= 1 and high <= 5:
        return Scale.of("csat")
    raise OptionsError(
        f"the spec has no `feedback:` section and the satisfaction column holds scores from "
        f"{low:g} to {high:g}, which is not one scale that can be told apart (CSAT is "
        "whole numbers 1-5; NPS 0-10 and CES 1-7 overlap, and a column may mix surveys)",
        hint=hint,
        code="ambiguous-scale",
    )


def answers(
    events: EventLog, rules: list[SurveyRule], survey_touchpoints: list[str], window_us: int
) -> ibis.Table:
    """One row per feedback event: what it is, its score and band, and its touchpoint.

    Columns: ``customer_id``, ``persona``, ``timestamp``, ``timestamp_us``, ``survey``
    and ``scale`` (labels), ``score``, ``status`` (answer, unscored, off_scale), ``band``
    (low, neutral, high; null unless an answer), ``band_rank`` (0, 1, 2), ``attribution``
    (own, previous, outside_window, no_touchpoint), ``touchpoint``, ``stage`` and ``channel`` of
    the touchpoint the answer is about (null when it is about none).
    """
    table = events.table
    spec = events.spec
    null_text, null_number = ibis.null("string"), ibis.null("int64")
    survey = ibis.cases(*[(rule.predicate, i) for i, rule in enumerate(rules)], else_=null_number)
    candidate = table.touchpoint.notnull()
    if survey_touchpoints:
        candidate &= ~table.touchpoint.isin(survey_touchpoints)
    persona = table.persona if "persona" in table.columns else ibis.literal("unassigned")
    marked = table.select(
        "customer_id",
        "timestamp",
        "timestamp_us",
        "event",
        "touchpoint",
        persona=persona,
        survey=survey,
        score=ibis.cases(*[(survey == i, rule.score) for i, rule in enumerate(rules)]),
        candidate=candidate.fill_null(False).cast("int64"),
    )
    # Each customer's events in time order, those that are not a touchpoint first at an
    # instant: ``seen`` counts the touchpoint events up to each row, so an answer's group
    # opens with the last touchpoint event strictly before it.
    order = ibis.window(
        group_by="customer_id",
        order_by=["timestamp_us", "candidate", "event", "touchpoint"],
        rows=(None, 0),
    )
    counted = marked.mutate(seen=marked.candidate.sum().over(order))
    group = ibis.window(group_by=["customer_id", "seen"])
    is_candidate = counted.candidate == 1
    last = counted.mutate(
        last_touchpoint=ibis.ifelse(is_candidate, counted.touchpoint, null_text).max().over(group),
        last_us=ibis.ifelse(is_candidate, counted.timestamp_us, null_number).max().over(group),
    )
    found = last.filter(last.survey.notnull())
    return _attributed(found, rules, spec, window_us)


def _attributed(
    found: ibis.Table, rules: list[SurveyRule], spec: Spec | None, window_us: int
) -> ibis.Table:
    """The answers with their status, band and the touchpoint each is about."""

    def per_survey(value: Callable[[SurveyRule], Any]) -> ibis.Value:
        return ibis.cases(*[(found.survey == i, value(rule)) for i, rule in enumerate(rules)])

    score = found.score
    minimum = per_survey(lambda rule: rule.scale.minimum)
    maximum = per_survey(lambda rule: rule.scale.maximum)
    whole = per_survey(lambda rule: rule.scale.whole)
    off = (score < minimum) | (score > maximum) | (whole & (score != score.floor()))
    status = ibis.cases((score.isnull(), UNSCORED), (off, OFF_SCALE), else_=ANSWER)
    low = score <= per_survey(lambda rule: rule.scale.low_upto)
    high = score >= per_survey(lambda rule: rule.scale.high_from)
    rank = ibis.cases((status != ANSWER, ibis.null("int64")), (low, 0), (high, 2), else_=1)
    own = found.candidate == 1
    within = found.last_us.notnull() & (found.timestamp_us - found.last_us <= window_us)
    attribution = ibis.cases(
        (own, OWN),
        (within, PREVIOUS),
        (found.last_us.notnull(), OUTSIDE_WINDOW),
        else_=NO_TOUCHPOINT,
    )
    touchpoint = ibis.cases(
        (own, found.touchpoint), (within, found.last_touchpoint), else_=ibis.null("string")
    )
    return found.select(
        "customer_id",
        "persona",
        "timestamp",
        "timestamp_us",
        survey=per_survey(lambda rule: rule.label),
        scale=per_survey(lambda rule: rule.scale.label),
        score=score,
        status=status,
        band_rank=rank,
        band=ibis.cases(*[(rank == i, band) for i, band in enumerate(BANDS)]),
        attribution=attribution,
        touchpoint=touchpoint,
        stage=_lookup(touchpoint, spec, "stage"),
        channel=_lookup(touchpoint, spec, "channel").fill_null(NO_CHANNEL),
    )


def _lookup(touchpoint: ibis.Value, spec: Spec | None, attribute: str) -> ibis.Value:
    """The spec's ``attribute`` (stage, channel) of each touchpoint id."""
    pairs = [
        (touchpoint == item.id, getattr(item, attribute))
        for item in (spec.touchpoints if spec is not None else [])
        if getattr(item, attribute) is not None
    ]
    return ibis.cases(*pairs, else_=ibis.null("string")) if pairs else ibis.null("string")


def summary(answered: ibis.Table, keys: list[str]) -> ibis.Table:
    """Per group: answers, mean, sample variance, high and low answers."""
    return answered.group_by(keys).aggregate(
        responses=answered.count(),
        mean=answered.score.mean(),
        variance=answered.score.var(how="sample"),
        high=(answered.band_rank == 2).cast("int64").sum(),
        low=(answered.band_rank == 0).cast("int64").sum(),
    )


def trend(answered: ibis.Table, period: Period) -> ibis.Table:
    """Per touchpoint, scale and period (numbered) of the answer: the summary."""
    numbered = answered.mutate(period=period_number(answered, period))
    return summary(numbered, ["touchpoint", "scale", "period"])


def surveys(found: ibis.Table) -> ibis.Table:
    """Per survey: its events by status and its answers by attribution."""
    answer = found.status == ANSWER
    counts = {
        "events": found.count(),
        "answers": answer.cast("int64").sum(),
        UNSCORED: (found.status == UNSCORED).cast("int64").sum(),
        OFF_SCALE: (found.status == OFF_SCALE).cast("int64").sum(),
    }
    for how in (OWN, PREVIOUS, OUTSIDE_WINDOW, NO_TOUCHPOINT):
        counts[how] = (answer & (found.attribution == how)).cast("int64").sum()
    return found.group_by(["survey", "scale"]).aggregate(**counts)


def behaviour(
    events: EventLog, answered: ibis.Table, purchase: ibis.Value | None, covered_month: int
) -> ibis.Table:
    """Per stage, scale and band of each customer's last answer at the stage: customers,
    those whose next month the data covers, those active in it, and those who bought after.

    At a tie (two last answers at one instant) the lower band counts.
    """
    month = period_number(answered, "month")
    latest = ibis.window(group_by=["customer_id", "stage", "scale"])
    marked = answered.mutate(month=month, last_us=answered.timestamp_us.max().over(latest))
    last = (
        marked.filter(marked.timestamp_us == marked.last_us)
        .group_by(["customer_id", "stage", "scale"])
        .aggregate(
            band_rank=marked.band_rank.min(),
            answered_us=marked.timestamp_us.max(),
            month=marked.month.max(),
        )
    )
    active = customer_periods(events, "month").select(
        active_customer="customer_id", active_month="period"
    )
    joined = last.left_join(
        active,
        [last.customer_id == active.active_customer, active.active_month == last.month + 1],
    )
    table = events.table
    if purchase is not None:
        bought = (
            table.filter(purchase.fill_null(False))
            .group_by("customer_id")
            .aggregate(purchase_us=table.timestamp_us.max())
            .rename(buyer="customer_id")
        )
        joined = joined.left_join(bought, joined.customer_id == bought.buyer)
        repurchased = (joined.purchase_us > joined.answered_us).fill_null(False)
    else:
        repurchased = ibis.literal(False)
    covered = joined.month + 1 <= covered_month
    retained = covered & joined.active_customer.notnull()
    return joined.group_by(["stage", "scale", "band_rank"]).aggregate(
        customers=joined.count(),
        retention_customers=covered.cast("int64").sum(),
        retained=retained.cast("int64").sum(),
        repurchased=repurchased.cast("int64").sum(),
    )


# --- the check of the spec against the events (for journeys validate) ----------------------


class FeedbackEventsOccur(DataCheck):
    """Every event a feedback survey names occurs in the data."""

    code = "unknown-event"
    rule = "Every event name of a feedback survey occurs in the events."
    severity = "error"
    needs_mapping = False

    def problems(self, read: EventsRead) -> Iterator[Problem]:
        feedback = read.spec.feedback
        if feedback is None:
            return
        present = set(read.event_names)
        for index, survey in enumerate(feedback.surveys):
            for position, event in enumerate(survey.events):
                if event in present:
                    continue
                message = (
                    f"event '{event}' of feedback survey '{survey.label}' never occurs in the "
                    f"data{meant(event, read.event_names)}"
                )
                yield self.problem(("feedback", "surveys", index, "events", position), message)
