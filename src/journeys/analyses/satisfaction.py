"""How customers feel: satisfaction per touchpoint, stage, channel and persona, the emotion
curve through the stages, what a bad experience costs, and each touchpoint's trend.

The spec's ``feedback:`` section (:mod:`journeys.analyses.feedback_settings`) says which
events are survey answers, their scale (CSAT 1-5, NPS 0-10, CES 1-7 or a custom range)
and the column of their scores. Every number is defined so that anyone can recompute it:

*Answers.* An event is a feedback event of the first survey that names it (by touchpoint
or event name). It is an *answer* when its score is on the survey's scale (for CSAT, NPS
and CES a whole number in the range; for a custom scale any number in it). A feedback event
without a score is *unscored*, one with a score off the scale is *off scale*: both are
counted per survey (``surveys``) and in ``warnings``, and left out of every figure.

*Attribution.* An answer is about the touchpoint of its own event when that event is
mapped to a touchpoint that is not a survey (a touchpoint named under a survey's
``touchpoints``: an answer named by its event, such as a rated chat, is about its own
touchpoint). Otherwise it is about the touchpoint the
customer saw last before answering: their last event, strictly earlier than the answer,
mapped to a touchpoint that is not a survey, when it is at most ``window`` (the spec's,
default 7 days) before the answer; of several such events at one instant, the last in the
order of event name, then touchpoint. An answer with no such touchpoint is *unattributed*:
counted (``unattributed``, and per survey whether the last touchpoint was too long before,
``outside_window``, or there was none, ``no_touchpoint``), never dropped silently. The
stage and channel of an answer are its touchpoint's in the spec (``(none)`` for a
touchpoint without a channel).

*Measures of a group of answers* (``by_touchpoint``, ``by_stage``, ``by_channel``,
``by_persona``, ``emotion_curve``, ``trend``), each per scale, for scores on different
scales are never averaged together: ``responses`` (answers), ``mean`` with its 95%
interval ``mean_low``-``mean_high`` (Student's t interval: mean +/- t(0.975, n - 1)
times the sample standard deviation over the square root of n; none for one answer),
``csat_share`` (CSAT only: share of answers of 4 or 5), ``nps`` (NPS only: percentage of
promoters, 9-10, minus percentage of detractors, 0-6, in points) with its 95% interval
``nps_low``-``nps_high`` (the NPS is 100 times the mean of the answers scored +1 for a
promoter, 0 for a passive and -1 for a detractor, so the same t interval applies to that
mean), and the CES is the ``mean`` of a ``ces`` row. A group of fewer answers than
``min_responses`` (the parameter, else the spec's, default 30) is ``too_few``: its
numbers are shown, marked as too few to rely on. Intervals treat answers as independent.
``by_persona`` counts every answer, attributed or not (a persona is the customer's); the
other tables count the attributed answers.

*Emotion curve.* The mean per stage, in the spec's stage order, per persona and scale;
stages without answers are rows with no mean, so the curve shows the gap.

*Satisfaction and behaviour.* Each answer is in a band of its scale (CSAT 1-2 low, 3
neutral, 4-5 high; NPS 0-6, 7-8, 9-10; CES 1-3, 4, 5-7; a custom range in thirds). For each
stage and scale, every customer with an answer about a touchpoint of that stage is counted
in the band of their last such answer (at a tie, the lower band). ``retention``: the share
of them active (any event) in the calendar month after the month of that answer, among
those whose following month the data covers whole (``retention_customers``: it ends on or
before the day of the last event). ``repeat_purchase``: the share who made a purchase
(:func:`journeys.analyses.definitions.purchases`) after that answer; none when what a
purchase is is not known.

*Trend.* Each touchpoint's measures per calendar week (Monday to Sunday) or month of
the answer, in UTC.

Without a ``feedback:`` section, every event with a satisfaction score is an answer, on
the CSAT scale when every score is a whole number from 1 to 5; any other scores are an
error that asks for the section (no scale is guessed).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

import pandas as pd
from pydantic import Field

from journeys.analyses import runner
from journeys.analyses import satisfaction_measures as measures
from journeys.analyses.base import Params, Result, TableOf
from journeys.analyses.feedback_settings import Feedback
from journeys.analyses.registry import Analysis
from journeys.analyses.satisfaction_measures import ANSWER, NO_TOUCHPOINT, OUTSIDE_WINDOW
from journeys.analyses.satisfaction_tables import (
    BehaviourRow,
    ChannelRow,
    CurveRow,
    Order,
    PersonaRow,
    StageRow,
    Summer,
    SurveyRow,
    TouchpointRow,
    TrendRow,
    behaviour,
    curve,
    surveys_table,
    trend,
    warnings_of,
)
from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.params import format_duration, microseconds


class SatisfactionParams(Params):
    """How satisfaction is summed up (which events are answers comes from the spec)."""

    period: Literal["week", "month"] = Field(
        default="month", description="The period of each touchpoint's trend."
    )
    min_responses: int | None = Field(
        default=None,
        ge=1,
        description="A mean of fewer answers is marked too few (default: the spec's "
        "feedback.min_responses, else 30).",
    )


class SatisfactionResult(Result):
    """Satisfaction per touchpoint, stage, channel, persona; the emotion curve; behaviour by
    band; trends; and every feedback event accounted for per survey."""

    main_table = "by_touchpoint"
    params: SatisfactionParams
    window: str = Field(description="The attribution window (an answer looks back this far).")
    min_responses: int = Field(description="Fewer answers than this are marked too few.")
    scale_inferred: bool = Field(
        description="The spec has no feedback section: the satisfaction column read as CSAT."
    )
    by_touchpoint: Annotated[pd.DataFrame, TableOf(TouchpointRow)]
    by_stage: Annotated[pd.DataFrame, TableOf(StageRow)]
    by_channel: Annotated[pd.DataFrame, TableOf(ChannelRow)]
    by_persona: Annotated[pd.DataFrame, TableOf(PersonaRow)]
    emotion_curve: Annotated[pd.DataFrame, TableOf(CurveRow)]
    behaviour: Annotated[pd.DataFrame, TableOf(BehaviourRow)]
    trend: Annotated[pd.DataFrame, TableOf(TrendRow)]
    surveys: Annotated[pd.DataFrame, TableOf(SurveyRow)]
    unattributed: int = Field(description="Answers about no touchpoint (see surveys).")
    warnings: list[str] = Field(
        description="Feedback left out or unattributed, and groups of too few answers."
    )


def satisfaction(events: EventLog, params: SatisfactionParams | None = None) -> SatisfactionResult:
    """Measure how customers feel at each touchpoint and stage, from their survey answers.

    Parameters
    ----------
    events
        Events with a journey spec applied; the spec's ``feedback:`` says which are answers.
    params
        The trend's period and the fewest answers a mean may rest on.

    Examples
    --------
    >>> result = satisfaction(mapped_events)  # doctest: +SKIP
    >>> result.by_stage[["stage", "scale", "responses", "mean", "too_few"]]  # doctest: +SKIP
    """
    params = params or SatisfactionParams()
    spec = events.require_spec("measuring satisfaction")
    feedback = spec.feedback
    window: timedelta = Feedback.model_fields["window"].default
    minimum: int = Feedback.model_fields["min_responses"].default
    if feedback is None:
        rules, survey_touchpoints = [_column_rule(events)], []
    else:
        rules = measures.survey_rules(events, feedback)
        survey_touchpoints = feedback.survey_touchpoints()
        window, minimum = feedback.window, feedback.min_responses
    minimum = params.min_responses or minimum
    found = runner.current().cached(
        measures.answers(events, rules, survey_touchpoints, microseconds(window))
    )
    answers = found.filter(found.status == ANSWER)
    attributed = answers.filter(answers.touchpoint.notnull())
    order = Order(spec, [rule.scale.label for rule in rules])
    summer = Summer(minimum, {rule.scale.label: rule.scale for rule in rules})
    surveys = surveys_table(found, rules)
    tables = {
        "by_touchpoint": order.sort(
            summer.measured(attributed, ["touchpoint", "stage"]), ["touchpoint"]
        ),
        "by_stage": order.sort(summer.measured(attributed, ["stage"]), ["stage"]),
        "by_channel": order.by_volume(summer.measured(attributed, ["channel"]), "channel"),
        "by_persona": order.sort(summer.measured(answers, ["persona"]), ["persona"]),
        "emotion_curve": curve(attributed, order, summer),
        "trend": trend(attributed, order, params.period, summer),
        "behaviour": behaviour(events, attributed, order),
    }
    unattributed = int(surveys[OUTSIDE_WINDOW].sum() + surveys[NO_TOUCHPOINT].sum())
    return SatisfactionResult(
        params=params,
        window=format_duration(window),
        min_responses=minimum,
        scale_inferred=feedback is None,
        surveys=surveys,
        unattributed=unattributed,
        warnings=warnings_of(surveys, tables, minimum, window),
        **{name: frame.reset_index(drop=True) for name, frame in tables.items()},
    )


def _column_rule(events: EventLog) -> measures.SurveyRule:
    """Without a ``feedback:`` section: every score of the satisfaction column, as CSAT when
    that is the only scale it can be."""
    if not events.has_satisfaction:
        raise OptionsError(
            "measuring satisfaction needs survey answers: the spec has no `feedback:` section "
            "and the events have no satisfaction column",
            hint="declare the surveys under `feedback:` in the spec, such as feedback: "
            "{surveys: [{touchpoints: csat, kind: csat}]}, or name the score column with "
            "--satisfaction-col",
            code="no-feedback",
        )
    score = events.table.satisfaction.cast("float64")
    scale = measures.inferred_scale(events)
    return measures.SurveyRule("satisfaction column", scale, score.notnull(), score)


ANALYSIS = Analysis(
    params=SatisfactionParams,
    result=SatisfactionResult,
    run=satisfaction,
    needs_spec=True,
    spec_section="feedback",
    figures=(
        "journeys.plots.satisfaction:emotion_curve_figures",
        "journeys.plots.satisfaction:touchpoints_figures",
        "journeys.plots.satisfaction:behaviour_figure",
        "journeys.plots.satisfaction:trend_figures",
    ),
)
