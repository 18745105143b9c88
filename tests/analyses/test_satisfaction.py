"""Satisfaction and the emotion curve, checked against counts made by hand and a plain reading.

The definitions (module :mod:`journeys.analyses.satisfaction`): an event is the answer of
the first survey that names it; a score off the scale or missing is counted and left out.
An answer is about its own touchpoint unless that is a survey touchpoint (or it has none);
then about the last non-survey touchpoint strictly before it, within the window (ties at
an instant: the last by event name, then touchpoint). Means with Student's t interval,
CSAT share (4-5), NPS (promoters minus detractors) with the t interval of the +1/0/-1
mean, intervals cut to the scale. Behaviour: each customer's last answer per stage, its
band, activity in the next calendar month (when the data covers it whole) and a purchase
after it. :func:`~tests.analyses.satisfaction_reference.plain_reading` reads those
definitions over plain Python rows.
"""

from __future__ import annotations

import csv
import importlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend
from jinja2 import Environment, PackageLoader, StrictUndefined

from journeys.analyses.registry import Entry, ReportSection
from journeys.analyses.satisfaction import SatisfactionParams, SatisfactionResult, satisfaction
from journeys.cli import main
from journeys.data.mapping import apply_spec
from journeys.data.reader import EventLog, read_events
from journeys.errors import OptionsError
from journeys.plots.labels import Labels
from journeys.plots.satisfaction import (
    behaviour_figure,
    emotion_curve_figures,
    touchpoints_figures,
    trend_figures,
)
from journeys.report.display import Display
from journeys.spec import parse_spec
from journeys.spec.models import Spec
from tests.analyses.satisfaction_reference import (
    PlainJourney,
    PlainSurvey,
    assert_matches,
    keyed,
    plain_reading,
)

Row = dict[str, Any]

SPEC = """\
name: Support
stages:
  - {id: buy, name: Buy}
  - {id: onboard, name: Onboard}
  - {id: serve, name: Serve}
touchpoints:
  - {id: order, name: Order, stage: buy, channel: web, events: purchase}
  - {id: kickoff, name: Kickoff call, stage: onboard, channel: call, events: kickoff_call}
  - {id: chat, name: Support chat, stage: serve, channel: chat, events: support_chat}
  - {id: ticket, name: Ticket, stage: serve, events: ticket}
  - {id: csat, name: CSAT survey, stage: serve, channel: email, events: csat_survey}
  - {id: nps, name: NPS survey, stage: serve, channel: email, events: nps_survey}
personas:
  - {id: smb, name: Small business, where: [{column: segment, equals: smb}]}
  - {id: big, name: Enterprise, where: [{column: segment, equals: big}]}
milestones:
  - {id: purchase, name: Purchase, events: purchase}
feedback:
  window: 2d
  min_responses: 3
  surveys:
    - {touchpoints: csat, kind: csat}
    - {touchpoints: nps, kind: nps}
    - {name: Chat rating, events: support_chat, kind: custom, min: 0, max: 10, score: rating}
"""

# (event, time, satisfaction, rating); the data ends at ivy's last event, 2024-05-31 23:00,
# so March and April are covered whole, and May too (the log ends on its last day).
Event = tuple[str, str, float | None, float | None]
HAND_MADE: dict[str, list[Event]] = {
    # The CSAT answer follows the rated chat by an hour: about the chat (previous). The chat's
    # own rating (8 of 0-10) is about the chat (own). The NPS answer comes 16 days after the
    # chat, past the 2-day window: unattributed. A purchase after both: repeat purchase.
    "ann": [
        ("purchase", "2024-03-01T10:00", None, None),
        ("support_chat", "2024-03-04T09:00", None, 8.0),
        ("csat_survey", "2024-03-04T10:00", 5.0, None),
        ("nps_survey", "2024-03-20T10:00", 9.0, None),
        ("purchase", "2024-04-02T10:00", None, None),
    ],
    # A ticket at the very instant of the answer is not before it: the answer is about the
    # kickoff call a day earlier (onboard stage), with a low score.
    "bob": [
        ("kickoff_call", "2024-03-04T12:00", None, None),
        ("ticket", "2024-03-05T12:00", None, None),
        ("csat_survey", "2024-03-05T12:00", 2.0, None),
    ],
    # Nothing before the answer: unattributed (no touchpoint). An unmapped event does not count.
    "cyd": [
        ("newsletter_open", "2024-03-01T08:00", None, None),
        ("csat_survey", "2024-03-02T08:00", 4.0, None),
    ],
    # Two touchpoints at one instant: the last by event name (purchase after kickoff_call),
    # so the answer is about the order (buy stage).
    "dan": [
        ("purchase", "2024-03-10T09:00", None, None),
        ("kickoff_call", "2024-03-10T09:00", None, None),
        ("csat_survey", "2024-03-10T10:00", 3.0, None),
    ],
    # 7 is off the CSAT scale, 4.5 is not a whole CSAT score, and one answer has no score:
    # all three counted and left out; the last answer (1, a day after the ticket) counts.
    "eve": [
        ("ticket", "2024-03-12T09:00", None, None),
        ("csat_survey", "2024-03-12T10:00", 7.0, None),
        ("csat_survey", "2024-03-12T11:00", None, None),
        ("csat_survey", "2024-03-13T08:00", 4.5, None),
        ("csat_survey", "2024-03-13T09:00", 1.0, None),
        ("ticket", "2024-04-15T09:00", None, None),
    ],
    # A chat rating of 11 is off the 0-10 range; the next chat's 3 counts (about the chat).
    "fay": [
        ("support_chat", "2024-04-01T09:00", None, 11.0),
        ("support_chat", "2024-04-02T09:00", None, 3.0),
        ("nps_survey", "2024-04-02T10:00", 6.0, None),
    ],
    "ivy": [("ticket", "2024-05-31T23:00", None, None)],
}
SEGMENTS = {"ann": "smb", "bob": "big", "cyd": "smb", "dan": "big", "eve": "smb", "fay": "big"}


def rows_of(journeys: dict[str, list[Event]], segments: dict[str, str]) -> list[Row]:
    return [
        {
            "customer_id": customer,
            "event": name,
            "timestamp": datetime.fromisoformat(when),
            "satisfaction": score,
            "rating": rating,
            "segment": segments.get(customer, "other"),
        }
        for customer, events in journeys.items()
        for name, when, score, rating in events
    ]


def mapped(con: BaseBackend, rows: list[Row], spec: Spec) -> EventLog:
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("customer_id", pa.string()),
                ("event", pa.string()),
                ("timestamp", pa.timestamp("us")),
                ("satisfaction", pa.float64()),
                ("rating", pa.float64()),
                ("segment", pa.string()),
            ]
        ),
    )
    return apply_spec(read_events(table, connection=con), spec)


HAND_JOURNEY = PlainJourney(
    touchpoints={
        "purchase": ("order", "buy", "web"),
        "kickoff_call": ("kickoff", "onboard", "call"),
        "support_chat": ("chat", "serve", "chat"),
        "ticket": ("ticket", "serve", "(none)"),
        "csat_survey": ("csat", "serve", "email"),
        "nps_survey": ("nps", "serve", "email"),
    },
    stages=["buy", "onboard", "serve"],
    surveys=[
        PlainSurvey("csat", ("csat",), (), "csat", 1, 5, "satisfaction"),
        PlainSurvey("nps", ("nps",), (), "nps", 0, 10, "satisfaction"),
        PlainSurvey("Chat rating", (), ("support_chat",), "custom", 0, 10, "rating"),
    ],
    window=timedelta(days=2),
    minimum=3,
    purchases=("purchase",),
    personas={"smb": "smb", "big": "big"},
)


# --- the hand-made journeys ----------------------------------------------------------------


@pytest.fixture
def hand_made(duckdb_con: BaseBackend) -> SatisfactionResult:
    # Counted by hand on DuckDB; the random journeys below compare both engines.
    return satisfaction(mapped(duckdb_con, rows_of(HAND_MADE, SEGMENTS), parse_spec(SPEC)))


def test_every_feedback_event_is_accounted_for_as_counted_by_hand(
    hand_made: SatisfactionResult,
) -> None:
    surveys = keyed(hand_made, "surveys")
    # csat: ann 5 (chat), bob 2 (kickoff), cyd 4 (none before), dan 3 (order), eve: 7 and
    # 4.5 off the scale, one unscored, 1 (ticket).
    assert surveys[("csat", "csat")] == {
        "events": 8,
        "answers": 5,
        "unscored": 1,
        "off_scale": 2,
        "own": 0,
        "previous": 4,
        "outside_window": 0,
        "no_touchpoint": 1,
    }
    # nps: ann 9 (16 days after the chat), fay 6 (an hour after her chat).
    assert surveys[("nps", "nps")] == {
        "events": 2,
        "answers": 2,
        "unscored": 0,
        "off_scale": 0,
        "own": 0,
        "previous": 1,
        "outside_window": 1,
        "no_touchpoint": 0,
    }
    # Chat ratings: ann 8, fay 11 (off the 0-10 range) and 3.
    assert surveys[("Chat rating", "custom 0-10")] == {
        "events": 3,
        "answers": 2,
        "unscored": 0,
        "off_scale": 1,
        "own": 2,
        "previous": 0,
        "outside_window": 0,
        "no_touchpoint": 0,
    }
    assert hand_made.unattributed == 2
    assert hand_made.min_responses == 3
    assert hand_made.window == "2d"


def test_answers_go_to_the_touchpoint_they_are_about(hand_made: SatisfactionResult) -> None:
    touchpoints = keyed(hand_made, "by_touchpoint")
    assert {key: row["responses"] for key, row in touchpoints.items()} == {
        ("chat", "serve", "csat"): 1,  # ann's 5
        ("kickoff", "onboard", "csat"): 1,  # bob's 2: the ticket at the same instant is not before
        ("order", "buy", "csat"): 1,  # dan's 3: the order is last at the instant by event name
        ("ticket", "serve", "csat"): 1,  # eve's 1
        ("chat", "serve", "nps"): 1,  # fay's 6
        ("chat", "serve", "custom 0-10"): 2,  # ann's 8, fay's 3: their own touchpoint
    }
    chat = touchpoints[("chat", "serve", "custom 0-10")]
    # 8 and 3: mean 5.5, standard deviation 3.5355; t(0.975, 1) = 12.706; the interval runs
    # past the scale and is cut to 0-10. Two answers are fewer than the spec's minimum of 3.
    assert chat["mean"] == pytest.approx(5.5)
    assert (chat["mean_low"], chat["mean_high"]) == (0.0, 10.0)
    assert chat["too_few"] is True
    stages = keyed(hand_made, "by_stage")
    serve = stages[("serve", "csat")]
    # ann 5 and eve 1 at the serve stage: mean 3, one of two satisfied (4-5).
    assert (serve["responses"], serve["mean"], serve["csat_share"]) == (2, 3.0, 0.5)
    assert keyed(hand_made, "by_channel")[("(none)", "csat")]["mean"] == 1.0


def test_the_nps_in_points_and_by_persona(hand_made: SatisfactionResult) -> None:
    personas = keyed(hand_made, "by_persona")
    # Every answer of a persona counts, attributed or not: smb's CSAT are ann 5, cyd 4, eve 1.
    smb = personas[("smb", "csat")]
    assert (smb["responses"], smb["mean"]) == (3, pytest.approx(10 / 3))
    assert smb["csat_share"] == pytest.approx(2 / 3)
    assert smb["too_few"] is False
    # NPS: ann (smb) 9 is a promoter, fay (big) 6 a detractor.
    assert personas[("smb", "nps")]["nps"] == 100.0
    assert personas[("big", "nps")]["nps"] == -100.0


def test_the_hand_made_journeys_match_the_plain_reading(hand_made: SatisfactionResult) -> None:
    assert_matches(hand_made, plain_reading(rows_of(HAND_MADE, SEGMENTS), HAND_JOURNEY))


def test_the_emotion_curve_follows_the_stages_for_each_persona(
    hand_made: SatisfactionResult,
) -> None:
    curve = hand_made.emotion_curve
    csat = curve[curve["scale"] == "csat"]
    # Every stage of the spec, in its order, for each persona with CSAT answers about a
    # touchpoint: ann and eve (smb) at serve; bob (big) at onboard, dan (big) at buy.
    assert list(zip(csat["persona"], csat["stage"], csat["responses"])) == [
        ("smb", "buy", 0),
        ("smb", "onboard", 0),
        ("smb", "serve", 2),
        ("big", "buy", 1),
        ("big", "onboard", 1),
        ("big", "serve", 0),
    ]
    assert csat["mean"].isna().tolist() == [True, True, False, False, False, True]


def test_behaviour_by_the_last_score_at_a_stage(hand_made: SatisfactionResult) -> None:
    behaviour = keyed(hand_made, "behaviour")
    # ann's last CSAT at serve is 5 (March): active in April (her purchase), bought again.
    # eve's last CSAT at serve is 1 (March): active in April (a ticket), never bought again.
    assert behaviour[("serve", "csat", "high")] == {
        "customers": 1,
        "retention_customers": 1,
        "retained": 1,
        "retention": 1.0,
        "repurchased": 1,
        "repeat_purchase": 1.0,
    }
    assert behaviour[("serve", "csat", "low")] == {
        "customers": 1,
        "retention_customers": 1,
        "retained": 1,
        "retention": 1.0,
        "repurchased": 0,
        "repeat_purchase": 0.0,
    }
    # bob's 2 at onboard (March): nothing in April.
    assert behaviour[("onboard", "csat", "low")]["retained"] == 0
    # fay's chat ratings at serve: the last is 3 of 0-10 (low, up to 3.33); April's answer:
    # May is covered (the data ends on its last day) and fay is not active in it.
    assert behaviour[("serve", "custom 0-10", "low")]["retention_customers"] == 1
    assert behaviour[("serve", "custom 0-10", "low")]["retained"] == 0


def test_the_warnings_say_what_was_left_out(hand_made: SatisfactionResult) -> None:
    assert "survey 'csat': 1 event without a score left out" in hand_made.warnings
    assert "survey 'csat': 2 scores off the csat scale left out" in hand_made.warnings
    assert (
        "survey 'nps': 1 answer about no touchpoint (1 with the last touchpoint more than 2d "
        "before, 0 with none before)" in hand_made.warnings
    )
    assert any(note.startswith("by stage: ") for note in hand_made.warnings)


def test_the_trend_by_week(duckdb_con: BaseBackend) -> None:
    events = mapped(duckdb_con, rows_of(HAND_MADE, SEGMENTS), parse_spec(SPEC))
    result = satisfaction(events, SatisfactionParams(period="week", min_responses=1))
    trend = keyed(result, "trend")
    # ann's chat rating on Monday 2024-03-04, fay's on Tuesday 2024-04-02 (week of 04-01).
    assert trend[("chat", "2024-03-04", "custom 0-10")]["mean"] == 8.0
    assert trend[("chat", "2024-04-01", "custom 0-10")]["mean"] == 3.0
    assert trend[("chat", "2024-04-01", "custom 0-10")]["too_few"] is False


# --- random journeys --------------------------------------------------------------------


def random_rows(seed: int, customers: int = 40) -> list[Row]:
    generator = random.Random(seed)
    names = ["purchase", "kickoff_call", "support_chat", "ticket", "csat_survey", "nps_survey"]
    names += ["newsletter_open"]
    start = datetime(2024, 1, 1)
    rows = []
    for number in range(customers):
        segment = generator.choice(["smb", "big", "other"])
        # Each customer is active for a while within about three months, so that some are
        # active in the month after an answer and some are not.
        first, span = generator.randint(0, 60), generator.randint(1, 40)
        for _ in range(generator.randint(1, 20)):
            name = generator.choice(names)
            # Every third hour: ties at one instant happen.
            when = start + timedelta(hours=3 * generator.randint(8 * first, 8 * (first + span)))
            satisfaction = rating = None
            if name == "csat_survey":
                satisfaction = generator.choice([None, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 6.0, 3.5])
            elif name == "nps_survey":
                satisfaction = float(generator.choice([*range(11), 11, -1]))
            elif name == "support_chat":
                rating = generator.choice([None, 0.0, 2.5, 5.0, 7.5, 10.0, 12.0])
            rows.append(
                {
                    "customer_id": f"c{number:02d}",
                    "event": name,
                    "timestamp": when,
                    "satisfaction": satisfaction,
                    "rating": rating,
                    "segment": segment,
                }
            )
    return rows


@pytest.mark.parametrize("seed", [1, 2])
def test_random_journeys_match_the_plain_reading(con: BaseBackend, seed: int) -> None:
    rows = random_rows(seed)
    result = satisfaction(mapped(con, rows, parse_spec(SPEC)))
    assert_matches(result, plain_reading(rows, HAND_JOURNEY))


# --- the demo business ---------------------------------------------------------------------

DEMO_FEEDBACK = """\
feedback:
  surveys:
    - {touchpoints: csat, kind: csat}
    - {touchpoints: onboarding_survey, kind: csat}
    - {touchpoints: nps, kind: nps}
"""


def journey_of(spec: Spec, *, window: timedelta, minimum: int) -> PlainJourney:
    """The plain reading's view of a spec whose touchpoints have no conditions."""
    touchpoints: dict[str, tuple[str, str, str]] = {}
    for touchpoint in spec.touchpoints:
        for event in touchpoint.events:
            touchpoints.setdefault(
                event, (touchpoint.id, touchpoint.stage, touchpoint.channel or "(none)")
            )
    purchase = spec.milestone("purchase")
    return PlainJourney(
        touchpoints=touchpoints,
        stages=[stage.id for stage in spec.stages],
        surveys=[
            PlainSurvey("csat", ("csat",), (), "csat", 1, 5, "satisfaction"),
            PlainSurvey(
                "onboarding_survey", ("onboarding_survey",), (), "csat", 1, 5, "satisfaction"
            ),
            PlainSurvey("nps", ("nps",), (), "nps", 0, 10, "satisfaction"),
        ],
        window=window,
        minimum=minimum,
        purchases=tuple(purchase.events) if purchase is not None else (),
        personas={str(p.where[0].equals): p.id for p in spec.personas},
    )


def test_the_demo_business_matches_the_plain_reading(
    duckdb_con: BaseBackend, tmp_path: Path
) -> None:
    from journeys.demo import generate, write_demo
    from journeys.loading import load

    files = write_demo(tmp_path, customers=2000, seed=11)
    # The demo's spec declares its surveys as the plain reading does.
    assert DEMO_FEEDBACK in files.spec.read_text()
    events = load(spec=files.spec)
    assert events.spec is not None
    result = satisfaction(events)
    frame = generate(2000, seed=11)
    rows = [
        {
            "customer_id": row.customer_id,
            "event": row.event,
            "timestamp": row.timestamp.to_pydatetime(),
            "segment": row.segment,
            "satisfaction": None if pd.isna(row.score) else float(row.score),
        }
        for row in frame.itertuples(index=False)
    ]
    expected = plain_reading(rows, journey_of(events.spec, window=timedelta(days=7), minimum=30))
    assert_matches(result, expected)
    # The CSAT survey follows a support contact by an hour: its answers are about the
    # touchpoints before it, never about the survey itself.
    assert "csat" not in set(result.by_touchpoint["touchpoint"])
    # Most are about the support contact an hour before (product use may come in between);
    # the onboarding survey's answers, on the same scale, are about the kick-off.
    csat = result.by_touchpoint[result.by_touchpoint["scale"] == "csat"]
    onboarding = {t.id for t in events.spec.touchpoints if t.stage == "onboarding"}
    csat = csat[~csat["touchpoint"].isin(onboarding)]
    support = csat[csat["touchpoint"].isin(["ticket", "chat"])]["responses"].sum()
    assert support > 0.75 * csat["responses"].sum()


# --- without a feedback section -------------------------------------------------------------


def without_feedback(text: str = SPEC) -> Spec:
    return parse_spec(text.split("feedback:")[0])


def test_without_feedback_scores_of_one_to_five_are_read_as_csat(
    duckdb_con: BaseBackend,
) -> None:
    rows = [row for row in rows_of(HAND_MADE, SEGMENTS) if row["event"] != "nps_survey"]
    rows = [
        row | {"satisfaction": None} if row["satisfaction"] in (7.0, 4.5) else row for row in rows
    ]
    result = satisfaction(mapped(duckdb_con, rows, without_feedback()))
    assert result.scale_inferred is True
    # Every event with a score is an answer on the CSAT scale; no touchpoint is a survey, so
    # each answer is about its own touchpoint; the window and minimum are the defaults.
    every = PlainSurvey(
        "satisfaction column",
        (),
        tuple({row["event"] for row in rows}),
        "csat",
        1,
        5,
        "satisfaction",
    )
    journey = replace(
        HAND_JOURNEY, surveys=[every], window=timedelta(days=7), minimum=30, scored_only=True
    )
    assert_matches(result, plain_reading(rows, journey))
    assert set(keyed(result, "by_touchpoint")) == {("csat", "serve", "csat")}


def test_without_feedback_a_column_of_mixed_scales_asks_for_the_section(
    duckdb_con: BaseBackend,
) -> None:
    with pytest.raises(OptionsError) as caught:
        satisfaction(mapped(duckdb_con, rows_of(HAND_MADE, SEGMENTS), without_feedback()))
    assert caught.value.code == "ambiguous-scale"
    assert "scores from 1 to 9" in caught.value.message
    assert caught.value.hint is not None
    assert "feedback:" in caught.value.hint


def test_without_feedback_or_a_score_column_is_an_error(duckdb_con: BaseBackend) -> None:
    rows = [
        {k: v for k, v in row.items() if k != "satisfaction"}
        for row in rows_of(HAND_MADE, SEGMENTS)
    ]
    table = pa.Table.from_pylist(rows)
    events = apply_spec(read_events(table, connection=duckdb_con), without_feedback())
    with pytest.raises(OptionsError) as caught:
        satisfaction(events)
    assert caught.value.code == "no-feedback"


# --- a user's mistakes --------------------------------------------------------------------


def test_a_survey_event_the_data_never_has_is_named_with_the_closest(
    duckdb_con: BaseBackend,
) -> None:
    spec = parse_spec(SPEC.replace("events: support_chat, kind", "events: support_chats, kind"))
    with pytest.raises(OptionsError) as caught:
        satisfaction(mapped(duckdb_con, rows_of(HAND_MADE, SEGMENTS), spec))
    assert caught.value.code == "unknown-event"
    assert caught.value.message == (
        "feedback survey 'Chat rating' (feedback.surveys.2.events.0): event 'support_chats' "
        "never occurs in the data; did you mean 'support_chat'?"
    )


def test_a_score_column_the_data_lacks_is_named(duckdb_con: BaseBackend) -> None:
    spec = parse_spec(SPEC.replace("score: rating", "score: ratings"))
    with pytest.raises(OptionsError) as caught:
        satisfaction(mapped(duckdb_con, rows_of(HAND_MADE, SEGMENTS), spec))
    assert caught.value.code == "missing-column"
    assert "column 'ratings', which the events do not have; they have: " in caught.value.message
    assert "rating" in caught.value.message.split("they have: ")[1]


def test_a_score_column_of_text_is_refused(duckdb_con: BaseBackend) -> None:
    spec = parse_spec(SPEC.replace("score: rating", "score: segment"))
    with pytest.raises(OptionsError) as caught:
        satisfaction(mapped(duckdb_con, rows_of(HAND_MADE, SEGMENTS), spec))
    assert caught.value.code == "not-numbers"


def test_satisfaction_needs_a_spec(duckdb_con: BaseBackend) -> None:
    table = pa.Table.from_pylist(rows_of(HAND_MADE, SEGMENTS))
    with pytest.raises(OptionsError) as caught:
        satisfaction(read_events(table, connection=duckdb_con))
    assert caught.value.code == "needs-spec"


# --- the figures and the report's section --------------------------------------------------


def test_the_figures_draw_each_scale_with_its_intervals(hand_made: SatisfactionResult) -> None:
    labels = Labels.of(parse_spec(SPEC))
    curves = emotion_curve_figures(hand_made, labels=labels)
    # One figure per scale of the answers about a touchpoint: CSAT, NPS, the chat rating.
    assert [figure.layout.title.text for figure in curves] == [
        "Emotion curve: CSAT by stage",
        "Emotion curve: NPS by stage",
        "Emotion curve: custom 0-10 by stage",
    ]
    csat = {trace.name: trace for trace in curves[0].data}
    assert list(csat) == ["Small business", "Enterprise"]
    assert list(csat["Small business"].x) == ["Buy", "Onboard", "Serve"]
    # ann 5 and eve 1: mean 3, t(0.975, 1) * 2 * sqrt(2) / sqrt(2) = 25.4, cut to 1..5.
    small = csat["Small business"]
    assert small.y[2] == 3.0
    assert (small.error_y.arrayminus[2], small.error_y.array[2]) == (2.0, 2.0)
    assert math.isnan(small.y[0])
    touchpoints = touchpoints_figures(hand_made, labels=labels)
    assert list(touchpoints[0].data[0].y) == ["Order", "Kickoff call", "Support chat", "Ticket"]
    assert list(touchpoints[0].data[0].x) == [3.0, 2.0, 5.0, 1.0]
    # Every CSAT mean rests on one answer: too few, drawn hollow.
    assert set(touchpoints[0].data[0].marker.color) == {"white"}
    behaviour = behaviour_figure(hand_made, labels=labels)
    assert behaviour is not None
    bars = {trace.name: dict(zip(trace.x, trace.y)) for trace in behaviour.data}
    assert bars["low score"]["Serve (CSAT)"] == 1.0
    assert bars["low score"]["Onboard (CSAT)"] == 0.0
    trends = trend_figures(hand_made, labels=labels)
    assert [trace.name for trace in trends[2].data] == ["Support chat"]
    assert list(trends[2].data[0].x) == ["2024-03", "2024-04"]


def render(result: SatisfactionResult, spec: Spec, figures: list[str]) -> str:
    environment = Environment(
        loader=PackageLoader("journeys.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
    )
    environment.filters.update(Display.of(spec).filters())
    html = environment.get_template("sections/satisfaction.html.j2").render(
        result=result, figures=figures, findings=[]
    )
    return " ".join(html.split())


def test_the_report_section_says_each_stage_in_words(duckdb_con: BaseBackend) -> None:
    spec = parse_spec(SPEC)
    result = satisfaction(mapped(duckdb_con, rows_of(HAND_MADE, SEGMENTS), spec))
    # Three scales: a curve, the touchpoints and a trend each, and the behaviour figure.
    names = [f"FIGURE-{part}" for part in ("C1 ", "C2 ", "C3 ", "T1 ", "T2 ", "T3 ", "B ")]
    names += ["FIGURE-R1 ", "FIGURE-R2 ", "FIGURE-R3 "]
    text = render(result, spec, names)
    assert (
        "<strong>Serve</strong> (CSAT): mean 3.00 (95% interval 1.00 to 5.00), from 2 answers: "
        "<em>too few to rely on</em>; 50.0% satisfied (4 or 5)." in text
    )
    assert (
        "<strong>Serve</strong> (NPS): mean 6.00, from 1 answer: <em>too few to rely on</em>; NPS -100."
        in text
    )
    positions = [text.index(name) for name in names]
    assert positions == sorted(positions)
    assert text.index("FIGURE-C3") < text.index("The emotion curve") < text.index("FIGURE-T1")
    assert text.index("costs") < text.index("FIGURE-B") < text.index("Over time")
    assert (
        "<strong>Serve</strong> (CSAT): 100.0% of the 1 customer with a low last score were "
        "active the next month, against 100.0% of the 1 customer with a high one; 0.0% against "
        "100.0% bought again." in text
    )
    assert "too few answers" in text
    assert "survey &#39;csat&#39;: 2 scores off the csat scale left out" in text
    assert "at most 2d before" in text


def test_the_report_section_without_answers_about_a_touchpoint(duckdb_con: BaseBackend) -> None:
    spec = parse_spec(SPEC)
    # cyd's answer has no touchpoint before it; fay's chat rating of 11 is off the scale.
    rows = rows_of({"cyd": HAND_MADE["cyd"], "fay": HAND_MADE["fay"][:1]}, SEGMENTS)
    result = satisfaction(mapped(duckdb_con, rows, spec))
    assert result.by_stage.empty
    assert result.unattributed == 1
    text = render(result, spec, [])
    assert "No answer is about a touchpoint of the journey" in text
    assert "Every feedback event accounted for" in text


# --- the command line ---------------------------------------------------------------------

#: The registry's entry for satisfaction, as the command line derives its command from it.
ENTRY = Entry(
    "satisfaction",
    "satisfaction",
    "Satisfaction",
    "How customers feel: satisfaction per touchpoint, stage, channel and persona, the "
    "emotion curve, retention and repeat purchase by score, and trends.",
    ReportSection("How customers feel", "satisfaction.html.j2"),
)


@pytest.fixture
def command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """Run ``journeys satisfaction ...`` through the console entry point (exit code 2 for a
    user's mistake), with the analysis in the registry."""
    from journeys.analyses import registry

    app = importlib.import_module("journeys.cli.app")

    if not any(entry.name == "satisfaction" for entry in registry.ENTRIES):
        entries = (*registry.ENTRIES, ENTRY)
        monkeypatch.setattr(registry, "ENTRIES", entries)
        monkeypatch.setattr(app, "ENTRIES", entries)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(["satisfaction", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture
def files(tmp_path: Path) -> Path:
    with (tmp_path / "events.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "event", "timestamp", "satisfaction", "rating", "segment"])
        for row in rows_of(HAND_MADE, SEGMENTS):
            writer.writerow(
                [
                    row["customer_id"],
                    row["event"],
                    row["timestamp"].isoformat(),
                    "" if row["satisfaction"] is None else row["satisfaction"],
                    "" if row["rating"] is None else row["rating"],
                    row["segment"],
                ]
            )
    spec = tmp_path / "journey.yaml"
    spec.write_text(SPEC + "data:\n  events: events.csv\n")
    return spec


def test_the_command_in_json(command: Callable[..., tuple[int, str, str]], files: Path) -> None:
    code, out, err = command("--spec", str(files), "--format", "json", "--min-responses", "2")
    assert code == 0, err
    values = json.loads(out)
    assert values["params"] == {"period": "month", "min_responses": 2}
    assert (values["min_responses"], values["unattributed"], values["window"]) == (2, 2, "2d")
    stages = {(row["stage"], row["scale"]): row for row in values["by_stage"]}
    serve = stages[("serve", "csat")]
    # ann 5 and eve 1: mean 3; the interval cut to the scale; two answers are enough here.
    assert {k: serve[k] for k in ("responses", "mean", "mean_low", "mean_high", "csat_share")} == {
        "responses": 2,
        "mean": 3.0,
        "mean_low": 1.0,
        "mean_high": 5.0,
        "csat_share": 0.5,
    }
    assert serve["too_few"] is False
    assert serve["nps"] is None
    assert set(values) >= {
        "by_touchpoint",
        "by_stage",
        "by_channel",
        "by_persona",
        "emotion_curve",
        "behaviour",
        "trend",
        "surveys",
        "unattributed",
        "warnings",
    }
    assert "warning: survey 'csat': 2 scores off the csat scale left out" in " ".join(err.split())
    # The published schema holds, and the JSON reads back as the result it came from.
    jsonschema.validate(values, SatisfactionResult.model_json_schema())
    again = SatisfactionResult.model_validate_json(out)
    assert json.loads(again.to_json()) == values


def test_the_command_in_a_table_says_too_few(
    command: Callable[..., tuple[int, str, str]], files: Path
) -> None:
    code, out, err = command("--spec", str(files), "--period", "week")
    assert code == 0, err
    for title in ("by touchpoint", "by stage", "emotion curve", "behaviour", "trend", "surveys"):
        assert title in out
    assert "too few" in out
    assert "2024-03-04" in out


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (("events: support_chat, kind", "events: support_chats, kind"), "never occurs in the data"),
        (("score: rating", "score: ratings"), "which the events do not have"),
        (
            ("{touchpoints: csat, kind: csat}", "{touchpoints: cast, kind: csat}"),
            "unknown touchpoint 'cast'",
        ),
        (("min: 0, max: 10", "min: 10, max: 0"), "is not below max"),
        (("window: 2d", "window: -2d"), "must be longer than zero"),
    ],
)
def test_a_user_mistake_is_a_message_and_exit_code_2(
    command: Callable[..., tuple[int, str, str]],
    files: Path,
    change: tuple[str, str],
    said: str,
) -> None:
    files.write_text(files.read_text().replace(*change))
    code, _, err = command("--spec", str(files))
    assert code == 2
    assert said in " ".join(err.split())
    assert "Traceback" not in err


def test_a_column_of_mixed_scales_without_feedback_is_exit_code_2(
    command: Callable[..., tuple[int, str, str]], files: Path
) -> None:
    files.write_text(SPEC.split("feedback:")[0] + "data:\n  events: events.csv\n")
    code, _, err = command("--spec", str(files))
    assert code == 2
    assert "declare the surveys under `feedback:`" in " ".join(err.split())


def test_the_command_needs_a_spec(
    command: Callable[..., tuple[int, str, str]], files: Path
) -> None:
    code, _, err = command(str(files.parent / "events.csv"))
    assert code == 2
    assert "needs a journey spec" in err


def test_a_ces_survey_takes_whole_scores_of_one_to_seven(duckdb_con: BaseBackend) -> None:
    spec = parse_spec(SPEC.replace("kind: custom, min: 0, max: 10", "kind: ces"))
    rows = rows_of(HAND_MADE, SEGMENTS)
    result = satisfaction(mapped(duckdb_con, rows, spec))
    # The chat ratings 8 and 11 are off the 1-7 scale; fay's 3 is a low answer.
    assert keyed(result, "surveys")[("Chat rating", "ces")]["off_scale"] == 2
    chat = keyed(result, "by_touchpoint")[("chat", "serve", "ces")]
    assert (chat["responses"], chat["mean"], chat["csat_share"], chat["nps"]) == (
        1,
        3.0,
        None,
        None,
    )
    ces = PlainSurvey("Chat rating", (), ("support_chat",), "ces", 1, 7, "rating")
    journey = replace(HAND_JOURNEY, surveys=[*HAND_JOURNEY.surveys[:2], ces])
    assert_matches(result, plain_reading(rows, journey))
