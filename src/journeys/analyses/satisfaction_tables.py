"""The tables of :mod:`journeys.analyses.satisfaction`: its rows, and each table built from
the aggregates the engine returns (:mod:`journeys.analyses.satisfaction_measures`).

Python only sees one row per group here: the intervals, shares and the NPS come from each
group's count, mean, sample variance and counts of high and low answers.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any, Literal

import ibis
import pandas as pd
from pydantic import Field
from scipy import stats

from journeys.analyses import runner
from journeys.analyses import satisfaction_measures as measures
from journeys.analyses.base import Row, frame_of, number, records
from journeys.analyses.definitions import period_label, period_of, purchase_predicate
from journeys.analyses.feedback_settings import BANDS, Scale
from journeys.data.reader import EventLog
from journeys.params import format_duration
from journeys.spec.models import Spec

#: Where rows of something the spec does not list (unassigned customers) sort.
LAST = 10**6


class Measures(Row):
    """What a group of answers on one scale says."""

    scale: str = Field(description="csat, nps, ces or custom MIN-MAX.")
    responses: int = Field(description="Answers on the scale.")
    mean: float | None = Field(description="Mean score.")
    mean_low: float | None = Field(description="Lower end of its 95% t interval.")
    mean_high: float | None = Field(description="Upper end of its 95% t interval.")
    csat_share: float | None = Field(description="CSAT only: share of answers of 4 or 5.")
    nps: float | None = Field(
        description="NPS only: % promoters (9-10) minus % detractors (0-6), in points."
    )
    nps_low: float | None = Field(description="Lower end of the NPS's 95% t interval.")
    nps_high: float | None = Field(description="Upper end of the NPS's 95% t interval.")
    too_few: bool = Field(description="Fewer answers than the minimum: not to be relied on.")


class ByTouchpoint(Row):
    touchpoint: str = Field(description="The touchpoint the answers are about.")
    stage: str = Field(description="Its stage.")


class ByStage(Row):
    stage: str = Field(description="The stage of the touchpoints the answers are about.")


class ByChannel(Row):
    channel: str = Field(description="The channel of the touchpoint the answers are about.")


class ByPersona(Row):
    persona: str = Field(description="The customer's persona (unassigned for none).")


class OnCurve(Row):
    stage: str = Field(description="The stage, in the spec's order.")
    persona: str = Field(description="The customers' persona.")


class InPeriod(Row):
    touchpoint: str = Field(description="The touchpoint the answers are about.")
    period: str = Field(description="The week (its Monday) or month of the answers.")


class TouchpointRow(Measures, ByTouchpoint):
    """Answers about one touchpoint, on one scale."""


class StageRow(Measures, ByStage):
    """Answers about the touchpoints of one stage, on one scale."""


class ChannelRow(Measures, ByChannel):
    """Answers about the touchpoints of one channel, on one scale."""


class PersonaRow(Measures, ByPersona):
    """Every answer of one persona's customers, on one scale."""


class CurveRow(Measures, OnCurve):
    """One point of the emotion curve: a stage, for one persona, on one scale."""


class TrendRow(Measures, InPeriod):
    """Answers about one touchpoint in one period, on one scale."""


class BehaviourRow(Row):
    """Customers by the band of their last answer at a stage, and what they did next."""

    stage: str = Field(description="The stage of the touchpoints answered about.")
    scale: str = Field(description="The scale of the answers.")
    band: str = Field(description="low, neutral or high: the band of the last answer.")
    customers: int = Field(description="Customers whose last answer at the stage is in the band.")
    retention_customers: int = Field(
        description="Of them, those whose next calendar month the data covers whole."
    )
    retained: int = Field(description="Of those, customers active in that month.")
    retention: float | None = Field(description="retained / retention_customers.")
    repurchased: int | None = Field(description="Customers with a purchase after the answer.")
    repeat_purchase: float | None = Field(description="repurchased / customers.")


class SurveyRow(Row):
    """Every feedback event of a survey, accounted for."""

    survey: str = Field(description="The survey's name (or its touchpoints and events).")
    scale: str = Field(description="Its scale.")
    events: int = Field(description="Its feedback events: answers + unscored + off_scale.")
    answers: int = Field(description="Events with a score on the scale.")
    unscored: int = Field(description="Events without a score (left out).")
    off_scale: int = Field(description="Events with a score off the scale (left out).")
    own: int = Field(description="Answers about the touchpoint of their own event.")
    previous: int = Field(description="Answers about the touchpoint seen last before them.")
    outside_window: int = Field(
        description="Unattributed: the last touchpoint was longer than the window before."
    )
    no_touchpoint: int = Field(description="Unattributed: no touchpoint before the answer.")


class Summer:
    """Turns a group's count, mean, variance and high and low answers into its measures.

    Parameters
    ----------
    minimum
        Groups of fewer answers are ``too_few``.
    scales
        The scales by label: an interval is cut to its scale's range (an NPS to -100..100).
    """

    def __init__(self, minimum: int, scales: dict[str, Scale]) -> None:
        self.minimum = minimum
        self.scales = scales

    def stats(self, found: dict[str, Any]) -> dict[str, Any]:
        """The measures (:class:`Measures`) of one group."""
        responses = int(found["responses"] or 0)
        mean, variance = number(found["mean"]), number(found["variance"])
        scale = self.scales[str(found["scale"])]
        high, low = int(found["high"] or 0), int(found["low"] or 0)
        values: dict[str, Any] = {
            "scale": scale.label,
            "responses": responses,
            "mean": mean if responses else None,
            "mean_low": None,
            "mean_high": None,
            "csat_share": high / responses if scale.kind == "csat" and responses else None,
            "nps": None,
            "nps_low": None,
            "nps_high": None,
            "too_few": responses < self.minimum,
        }
        if mean is not None and variance is not None and responses > 1:
            low_end, high_end = t_interval(mean, variance, responses)
            values["mean_low"] = max(low_end, scale.minimum)
            values["mean_high"] = min(high_end, scale.maximum)
        if scale.kind == "nps" and responses:
            recoded = (high - low) / responses
            values["nps"] = 100 * recoded
            if responses > 1:
                spread = (high + low - responses * recoded**2) / (responses - 1)
                low_end, high_end = t_interval(recoded, spread, responses)
                values["nps_low"] = 100 * max(low_end, -1.0)
                values["nps_high"] = 100 * min(high_end, 1.0)
        return values

    def empty(self, scale: str) -> dict[str, Any]:
        """The measures of a group without answers."""
        return self.stats(
            {"scale": scale, "responses": 0, "mean": None, "variance": None, "high": 0, "low": 0}
        )

    def measured(self, answered: ibis.Table, keys: list[str]) -> pd.DataFrame:
        """The measures of ``answered`` per ``keys`` and scale, keys first."""
        found = records(runner.current().frame(measures.summary(answered, [*keys, "scale"])))
        rows = [{key: row[key] for key in keys} | self.stats(row) for row in found]
        return pd.DataFrame(rows, columns=[*keys, *Measures.model_fields])


def t_interval(mean: float, variance: float, count: int) -> tuple[float, float]:
    """Student's t 95% interval of a mean of ``count`` values with this sample variance."""
    half = float(stats.t.ppf(0.975, count - 1)) * math.sqrt(max(variance, 0.0) / count)
    return mean - half, mean + half


class Order:
    """The spec's order of stages, touchpoints and personas, and the surveys' order of
    scales, to sort rows by."""

    def __init__(self, spec: Spec, scales: list[str]) -> None:
        self.stages = [stage.id for stage in spec.stages]
        self.places = {
            "stage": {name: place for place, name in enumerate(self.stages)},
            "touchpoint": {t.id: place for place, t in enumerate(spec.touchpoints)},
            "persona": {p.id: place for place, p in enumerate(spec.personas)},
            "scale": {name: place for place, name in enumerate(dict.fromkeys(scales))},
        }

    def place(self, kind: str, value: str) -> int:
        """Where ``value`` comes in the spec's order (after every listed one when unlisted)."""
        return self.places[kind].get(value, LAST)

    def sort(
        self, frame: pd.DataFrame, keys: list[str], then: tuple[str, ...] = ()
    ) -> pd.DataFrame:
        """Rows by each key in the spec's order (others after), then scale, then ``then``."""
        ranks = {
            f"_{key}": frame[key].map(self.places[key]).fillna(LAST) for key in [*keys, "scale"]
        }
        ordered = frame.assign(**ranks).sort_values([*ranks, *keys, *then], kind="stable")
        return ordered.drop(columns=list(ranks))

    def by_volume(self, frame: pd.DataFrame, key: str) -> pd.DataFrame:
        """Rows by scale, then most answers first, then ``key``."""
        ranked = frame.assign(_scale=frame["scale"].map(self.places["scale"]).fillna(LAST))
        ordered = ranked.sort_values(
            ["_scale", "responses", key], ascending=[True, False, True], kind="stable"
        )
        return ordered.drop(columns="_scale")


def curve(attributed: ibis.Table, order: Order, summer: Summer) -> pd.DataFrame:
    """Per persona and scale, every stage of the spec in order (without answers: no mean)."""
    found = summer.measured(attributed, ["stage", "persona"])
    lines = sorted(
        {(str(p), str(s)) for p, s in zip(found["persona"], found["scale"])},
        key=lambda line: (order.place("scale", line[1]), order.place("persona", line[0]), line[0]),
    )
    measured = {(r["stage"], r["persona"], r["scale"]): r for r in records(found)}
    rows = [
        measured.get(
            (stage, persona, scale),
            {"stage": stage, "persona": persona} | summer.empty(scale),
        )
        for persona, scale in lines
        for stage in order.stages
    ]
    return frame_of(rows, CurveRow)


def trend(
    attributed: ibis.Table, order: Order, period: Literal["week", "month"], summer: Summer
) -> pd.DataFrame:
    found = records(runner.current().frame(measures.trend(attributed, period)))
    rows = [
        {"touchpoint": row["touchpoint"], "period": period_label(int(row["period"]), period)}
        | summer.stats(row)
        for row in found
    ]
    return order.sort(frame_of(rows, TrendRow), ["touchpoint"], ("period",))


def behaviour(events: EventLog, attributed: ibis.Table, order: Order) -> pd.DataFrame:
    run = runner.current()
    last = run.scalar(events.table.timestamp.max())
    covered = covered_month(last.date() if last is not None else None)
    purchase = purchase_predicate(events)
    found = records(run.frame(measures.behaviour(events, attributed, purchase, covered)))
    rows = []
    for row in found:
        customers, base = int(row["customers"]), int(row["retention_customers"])
        bought = int(row["repurchased"]) if purchase is not None else None
        rows.append(
            {
                "stage": row["stage"],
                "scale": row["scale"],
                "band": BANDS[int(row["band_rank"])],
                "customers": customers,
                "retention_customers": base,
                "retained": int(row["retained"]),
                "retention": int(row["retained"]) / base if base else None,
                "repurchased": bought,
                "repeat_purchase": bought / customers if bought is not None else None,
            }
        )
    frame = frame_of(rows, BehaviourRow)
    frame["_band"] = frame["band"].map(BANDS.index)
    return order.sort(frame, ["stage"], ("_band",)).drop(columns="_band")


def covered_month(last_day: date | None) -> int:
    """The last calendar month (numbered) that the data covers to its last day."""
    if last_day is None:
        return -1
    month = period_of(last_day, "month")
    ends_month = (last_day + timedelta(days=1)).month != last_day.month
    return month if ends_month else month - 1


def surveys_table(found: ibis.Table, rules: list[measures.SurveyRule]) -> pd.DataFrame:
    """Every survey in the spec's order, with zeros for a survey without events."""
    counted = {
        str(row["survey"]): row for row in records(runner.current().frame(measures.surveys(found)))
    }
    zero = dict.fromkeys(
        (
            "events",
            "answers",
            "unscored",
            "off_scale",
            "own",
            "previous",
            "outside_window",
            "no_touchpoint",
        ),
        0,
    )
    rows = []
    for rule in rules:
        row = counted.get(rule.label, {})
        rows.append(
            {"survey": rule.label, "scale": rule.scale.label}
            | {key: int(row.get(key) or 0) for key in zero}
        )
    return frame_of(rows, SurveyRow)


def warnings_of(
    surveys: pd.DataFrame, tables: dict[str, pd.DataFrame], minimum: int, window: timedelta
) -> list[str]:
    """What was left out or cannot be relied on, in sentences."""
    notes = []
    for row in records(surveys):
        name = f"survey '{row['survey']}'"
        if row["events"] == 0:
            notes.append(f"{name} has no feedback event in the data")
        if row["unscored"]:
            notes.append(f"{name}: {counted(row['unscored'], 'event')} without a score left out")
        if row["off_scale"]:
            scale = row["scale"]
            notes.append(
                f"{name}: {counted(row['off_scale'], 'score')} off the {scale} scale left out"
            )
        unattributed = row["outside_window"] + row["no_touchpoint"]
        if unattributed:
            notes.append(
                f"{name}: {counted(unattributed, 'answer')} about no touchpoint "
                f"({row['outside_window']} with the last touchpoint more than "
                f"{format_duration(window)} before, {row['no_touchpoint']} with none before)"
            )
    for name in ("by_touchpoint", "by_stage", "by_channel", "by_persona"):
        frame = tables[name]
        few = frame[frame["too_few"] & (frame["responses"] > 0)]
        if not few.empty:
            notes.append(
                f"{name.replace('_', ' ')}: {counted(len(few), 'row')} of {len(frame)} rest on "
                f"fewer than {minimum} answers (too_few): not to be relied on"
            )
    return notes


def counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
