"""A plain reading of the satisfaction analysis' definitions, written apart from it.

It loops over rows on purpose: slow and obvious, to check the engine's answers on small
journeys and on the demo business (:mod:`journeys.analyses.satisfaction` defines what is
read here: answers, attribution, measures, bands, behaviour).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from scipy import stats

from journeys.analyses.satisfaction import SatisfactionResult

Row = dict[str, Any]


@dataclass(frozen=True)
class PlainSurvey:
    label: str
    touchpoints: tuple[str, ...]
    events: tuple[str, ...]
    kind: str
    low: float
    high: float
    column: str


@dataclass(frozen=True)
class PlainJourney:
    """What the plain reading needs to know of a spec, written out by hand."""

    touchpoints: dict[str, tuple[str, str, str]]  # event -> (touchpoint, stage, channel)
    stages: list[str]
    surveys: list[PlainSurvey]
    window: timedelta
    minimum: int
    purchases: tuple[str, ...]
    personas: dict[str, str]  # segment -> persona
    scored_only: bool = False  # without a feedback section: only events with a score


def scale_of(survey: PlainSurvey) -> str:
    return survey.kind if survey.kind != "custom" else f"custom {survey.low:g}-{survey.high:g}"


def band(survey: PlainSurvey, score: float) -> str:
    """Bands written out per scale: CSAT 1-2/3/4-5, NPS 0-6/7-8/9-10, custom in thirds."""
    if survey.kind == "csat":
        return "low" if score <= 2 else "high" if score >= 4 else "neutral"
    if survey.kind == "nps":
        return "low" if score <= 6 else "high" if score >= 9 else "neutral"
    if survey.kind == "ces":
        return "low" if score <= 3 else "high" if score >= 5 else "neutral"
    third = (survey.high - survey.low) / 3
    if score <= survey.low + third:
        return "low"
    return "high" if score >= survey.high - third else "neutral"


@dataclass
class Answer:
    customer: str
    persona: str
    time: datetime
    survey: PlainSurvey
    score: float | None
    status: str
    attribution: str | None = None
    touchpoint: str | None = None
    stage: str | None = None
    channel: str | None = None


def plain_answers(rows: list[Row], journey: PlainJourney) -> list[Answer]:
    survey_touchpoints = {t for survey in journey.surveys for t in survey.touchpoints}
    by_customer: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_customer[row["customer_id"]].append(row)
    found = []
    for customer, events in by_customer.items():
        first = min(events, key=lambda row: row["timestamp"])
        persona = journey.personas.get(first["segment"], "unassigned")
        for event in events:
            touchpoint = journey.touchpoints.get(event["event"], (None, None, None))[0]
            survey = next(
                (
                    s
                    for s in journey.surveys
                    if touchpoint in s.touchpoints or event["event"] in s.events
                ),
                None,
            )
            score = event[survey.column] if survey is not None else None
            if survey is None or (journey.scored_only and score is None):
                continue
            if score is None:
                status = "unscored"
            elif not survey.low <= score <= survey.high or (
                survey.kind != "custom" and score != int(score)
            ):
                status = "off_scale"
            else:
                status = "answer"
            answer = Answer(customer, persona, event["timestamp"], survey, score, status)
            found.append(answer)
            if status != "answer":
                continue
            if touchpoint is not None and touchpoint not in survey_touchpoints:
                answer.attribution, chosen = "own", event
            else:
                before = [
                    other
                    for other in events
                    if other["timestamp"] < event["timestamp"]
                    and other["event"] in journey.touchpoints
                    and journey.touchpoints[other["event"]][0] not in survey_touchpoints
                ]
                if not before:
                    answer.attribution = "no_touchpoint"
                    continue
                chosen = max(
                    before,
                    key=lambda o: (o["timestamp"], o["event"], journey.touchpoints[o["event"]][0]),
                )
                if event["timestamp"] - chosen["timestamp"] > journey.window:
                    answer.attribution = "outside_window"
                    continue
                answer.attribution = "previous"
            answer.touchpoint, answer.stage, answer.channel = journey.touchpoints[chosen["event"]]
    return found


def plain_measures(answers: list[Answer], journey: PlainJourney) -> dict[str, Any]:
    survey = answers[0].survey
    scores = [answer.score for answer in answers if answer.score is not None]
    count = len(scores)
    mean = statistics.fmean(scores)
    values: dict[str, Any] = {
        "responses": count,
        "mean": mean,
        "mean_low": None,
        "mean_high": None,
        "csat_share": None,
        "nps": None,
        "nps_low": None,
        "nps_high": None,
        "too_few": count < journey.minimum,
    }
    if count > 1:
        error = statistics.stdev(scores) / math.sqrt(count)
        if error > 0:
            low, high = stats.t.interval(0.95, count - 1, loc=mean, scale=error)
        else:
            low = high = mean
        values["mean_low"], values["mean_high"] = max(low, survey.low), min(high, survey.high)
    if survey.kind == "csat":
        values["csat_share"] = sum(score >= 4 for score in scores) / count
    if survey.kind == "nps":
        recoded = [1 if s >= 9 else -1 if s <= 6 else 0 for s in scores]
        values["nps"] = 100 * (recoded.count(1) - recoded.count(-1)) / count
        if count > 1:
            error = statistics.stdev(recoded) / math.sqrt(count)
            centre = statistics.fmean(recoded)
            if error > 0:
                low, high = stats.t.interval(0.95, count - 1, loc=centre, scale=error)
            else:
                low = high = centre
            values["nps_low"], values["nps_high"] = 100 * max(low, -1), 100 * min(high, 1)
    return values


def grouped(
    answers: Iterable[Answer], key: Callable[[Answer], tuple[Any, ...]], journey: PlainJourney
) -> dict[tuple[Any, ...], dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[Answer]] = defaultdict(list)
    for answer in answers:
        groups[(*key(answer), scale_of(answer.survey))].append(answer)
    return {group: plain_measures(members, journey) for group, members in groups.items()}


def next_month(day: date) -> tuple[int, int]:
    return (day.year + day.month // 12, day.month % 12 + 1)


def month_last_day(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def plain_behaviour(
    rows: list[Row], answers: list[Answer], journey: PlainJourney
) -> dict[tuple[Any, ...], dict[str, Any]]:
    last_day = max(row["timestamp"] for row in rows).date()
    active = {(row["customer_id"], row["timestamp"].year, row["timestamp"].month) for row in rows}
    purchases: dict[str, list[datetime]] = defaultdict(list)
    for row in rows:
        if row["event"] in journey.purchases:
            purchases[row["customer_id"]].append(row["timestamp"])
    bands = ("low", "neutral", "high")
    latest: dict[tuple[str, str, str], Answer] = {}
    for answer in answers:
        key = (answer.customer, str(answer.stage), scale_of(answer.survey))
        held = latest.get(key)
        if (
            held is None
            or answer.time > held.time
            or (
                answer.time == held.time
                and bands.index(band(answer.survey, answer.score or 0))
                < bands.index(band(held.survey, held.score or 0))
            )
        ):
            latest[key] = answer
    table: dict[tuple[Any, ...], dict[str, Any]] = {}
    for (customer, stage, scale), answer in latest.items():
        group = table.setdefault(
            (stage, scale, band(answer.survey, answer.score or 0)),
            {"customers": 0, "retention_customers": 0, "retained": 0, "repurchased": 0},
        )
        group["customers"] += 1
        year, month = next_month(answer.time.date())
        if month_last_day(year, month) <= last_day:
            group["retention_customers"] += 1
            group["retained"] += (customer, year, month) in active
        group["repurchased"] += any(time > answer.time for time in purchases[customer])
    for group in table.values():
        base = group["retention_customers"]
        group["retention"] = group["retained"] / base if base else None
        group["repeat_purchase"] = group["repurchased"] / group["customers"]
    return table


def plain_reading(rows: list[Row], journey: PlainJourney) -> dict[str, Any]:
    found = plain_answers(rows, journey)
    answers = [answer for answer in found if answer.status == "answer"]
    attributed = [answer for answer in answers if answer.touchpoint is not None]
    surveys = {}
    for survey in journey.surveys:
        mine = [answer for answer in found if answer.survey == survey]
        counts = {
            "events": len(mine),
            "answers": sum(a.status == "answer" for a in mine),
            "unscored": sum(a.status == "unscored" for a in mine),
            "off_scale": sum(a.status == "off_scale" for a in mine),
        }
        for how in ("own", "previous", "outside_window", "no_touchpoint"):
            counts[how] = sum(a.attribution == how for a in mine)
        surveys[(survey.label, scale_of(survey))] = counts
    return {
        "by_touchpoint": grouped(attributed, lambda a: (a.touchpoint, a.stage), journey),
        "by_stage": grouped(attributed, lambda a: (a.stage,), journey),
        "by_channel": grouped(attributed, lambda a: (a.channel,), journey),
        "by_persona": grouped(answers, lambda a: (a.persona,), journey),
        "emotion_curve": grouped(attributed, lambda a: (a.stage, a.persona), journey),
        "trend": grouped(attributed, lambda a: (a.touchpoint, a.time.strftime("%Y-%m")), journey),
        "behaviour": plain_behaviour(rows, attributed, journey),
        "surveys": surveys,
    }


KEYS = {
    "by_touchpoint": ("touchpoint", "stage", "scale"),
    "by_stage": ("stage", "scale"),
    "by_channel": ("channel", "scale"),
    "by_persona": ("persona", "scale"),
    "emotion_curve": ("stage", "persona", "scale"),
    "trend": ("touchpoint", "period", "scale"),
    "behaviour": ("stage", "scale", "band"),
    "surveys": ("survey", "scale"),
}


def keyed(result: SatisfactionResult, name: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """A table of the result by its key columns, without the rows of no answers."""
    keys = KEYS[name]
    table = {}
    for row in getattr(result, name).to_dict(orient="records"):
        if name == "emotion_curve" and row["responses"] == 0:
            continue
        values = {k: _plain(v) for k, v in row.items() if k not in keys}
        table[tuple(row[k] for k in keys)] = values
    return table


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def assert_matches(result: SatisfactionResult, expected: dict[str, Any]) -> None:
    for name, table in expected.items():
        found = keyed(result, name)
        assert set(found) == set(table), name
        for key, values in table.items():
            assert found[key] == pytest.approx(values, abs=1e-9), (name, key)
