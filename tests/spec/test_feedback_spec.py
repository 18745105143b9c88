"""The spec's feedback section: what loads, and every mistake located at its line and column.

Each problem is found at the value it is about, with a stable code, when the spec is read,
by `journeys validate` and by any command given the spec.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from journeys.analyses.feedback_settings import Feedback, Scale
from journeys.analyses.satisfaction_measures import FeedbackEventsOccur
from journeys.cli.app import main
from journeys.data.options import ReadOptions
from journeys.errors import SpecError
from journeys.spec.data_base import read_for_checks
from journeys.spec.loader import parse_spec, read_spec, spec_json_schema

JOURNEY = """\
name: Support
stages:
  - {id: serve, name: Serve}
touchpoints:
  - {id: chat, name: Support chat, stage: serve, events: support_chat}
  - {id: csat, name: CSAT survey, stage: serve, events: csat_survey}
  - {id: nps, name: NPS survey, stage: serve, events: nps_survey}
feedback:
  window: 3d
  min_responses: 50
  surveys:
    - {touchpoints: csat, kind: csat}
    - {touchpoints: nps, kind: nps, score: recommend}
    - name: Chat rating
      events: [support_chat]
      kind: custom
      min: 0
      max: 100
"""


def at(text: str, needle: str, after: str = "") -> str:
    """``LINE:COLUMN`` (1-based) where ``needle`` starts in ``text`` (it must occur once), or
    where what follows its beginning ``after`` starts."""
    assert text.count(needle) == 1, needle
    before = text[: text.index(needle) + len(after)]
    return f"{before.count(chr(10)) + 1}:{len(before) - before.rfind(chr(10))}"


def problems(text: str) -> list[str]:
    """Every problem of a spec that does not load, as the command line prints it."""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "journey.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_a_spec_with_feedback_loads() -> None:
    spec = parse_spec(JOURNEY)
    feedback = spec.feedback
    assert feedback is not None
    assert (feedback.window, feedback.min_responses) == (timedelta(days=3), 50)
    csat, nps, chat = feedback.surveys
    assert (csat.touchpoints, csat.kind, csat.score, csat.label) == (["csat"], "csat", None, "csat")
    assert (nps.score, nps.scale().label) == ("recommend", "nps")
    assert (chat.label, chat.events) == ("Chat rating", ["support_chat"])
    scale = chat.scale()
    # A custom range in thirds: low up to 33.3, high from 66.7, any number on it.
    assert (scale.label, scale.minimum, scale.maximum, scale.whole) == (
        "custom 0-100",
        0,
        100,
        False,
    )
    assert (scale.low_upto, scale.high_from) == (pytest.approx(100 / 3), pytest.approx(200 / 3))
    assert feedback.survey_touchpoints() == ["csat", "nps"]
    written = spec.model_dump(mode="json", by_alias=True)["feedback"]
    assert written["window"] == "3d"
    assert (written["surveys"][2]["min"], written["surveys"][2]["max"]) == (0, 100)


def test_the_defaults_are_a_week_and_thirty_answers() -> None:
    feedback = Feedback.model_validate({"surveys": [{"touchpoints": "csat", "kind": "csat"}]})
    assert (feedback.window, feedback.min_responses) == (timedelta(days=7), 30)


@pytest.mark.parametrize(
    ("kind", "scale"),
    [
        ("csat", Scale("csat", 1, 5, 2, 4, whole=True)),
        ("nps", Scale("nps", 0, 10, 6, 9, whole=True)),
        ("ces", Scale("ces", 1, 7, 3, 5, whole=True)),
    ],
)
def test_each_standard_scale_has_its_range_and_bands(kind: str, scale: Scale) -> None:
    assert Scale.of(kind) == scale


def test_a_survey_of_an_unknown_touchpoint_is_located() -> None:
    text = JOURNEY.replace("{touchpoints: csat, kind: csat}", "{touchpoints: cast, kind: csat}")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'cast')}: unknown touchpoint 'cast'; the touchpoints are "
        "chat, csat, nps (feedback.surveys.0.touchpoints.0) [unknown-touchpoint]"
    ]


def test_a_custom_range_that_does_not_rise_is_located() -> None:
    text = JOURNEY.replace("max: 100", "max: 0")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'max: 0', 'max: ')}: the range runs from 'min' to 'max', but "
        "min (0) is not below max (0) (feedback.surveys.2.max) [invalid-scale]"
    ]


def test_a_custom_scale_without_its_range_is_located() -> None:
    text = JOURNEY.replace("      min: 0\n      max: 100\n", "")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'custom', '')}: a custom scale needs its range: give min and "
        "max (such as min: 0, max: 100) (feedback.surveys.2.kind) [invalid-scale]"
    ]
    only_min = JOURNEY.replace("      max: 100\n", "")
    assert "give max (such as" in problems(only_min)[0]


def test_a_range_on_a_standard_scale_is_located() -> None:
    text = JOURNEY.replace(
        "{touchpoints: csat, kind: csat}", "{touchpoints: csat, kind: csat, max: 10}"
    )
    assert problems(text) == [
        f"journey.yaml:{at(text, 'csat, max: 10', 'csat, max: ')}: kind csat runs from 1 to 5; 'min' and "
        "'max' are only for kind: custom (remove them, or write kind: custom) "
        "(feedback.surveys.0.max) [invalid-scale]"
    ]


def test_an_unknown_kind_is_located() -> None:
    text = JOURNEY.replace("kind: nps,", "kind: promoter,")
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith(f"journey.yaml:{at(text, 'promoter')}: Input should be")
    assert found[0].endswith("(feedback.surveys.1.kind) [invalid-value]")


@pytest.mark.parametrize(("written", "shown"), [("-1d", "-1d"), ("0", "0s")])
def test_a_window_of_zero_or_less_is_located(written: str, shown: str) -> None:
    text = JOURNEY.replace("window: 3d", f"window: {written}")
    assert problems(text) == [
        f"journey.yaml:{at(text, f'window: {written}', 'window: ')}: 'window' is {shown}: the "
        "attribution window must be longer than zero (write it like 1h, 2d or 7d) "
        "(feedback.window) [invalid-value]"
    ]


def test_a_minimum_of_no_answers_is_located() -> None:
    text = JOURNEY.replace("min_responses: 50", "min_responses: 0")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'min_responses: 0', 'min_responses: ')}: Input should be "
        "greater than or equal to 1 (feedback.min_responses) [invalid-value]"
    ]


def test_a_survey_without_answers_is_located() -> None:
    text = JOURNEY.replace("{touchpoints: csat, kind: csat}", "{kind: csat}")
    assert problems(text) == [
        f"journey.yaml:{at(text, '{kind: csat}')}: give 'touchpoints' or 'events' (or both): "
        "the survey's answers (feedback.surveys.0) [invalid-value]"
    ]


def test_two_surveys_of_one_name_are_located() -> None:
    text = JOURNEY.replace("name: Chat rating", "name: csat")
    line = at(text, "- name: csat").split(":")[0]
    assert problems(text) == [
        f"journey.yaml:{line}:7: two surveys are called 'csat'; give each its own 'name' "
        "(the first 'csat' is at line 12) (feedback.surveys.2) [duplicate-survey]"
    ]


def test_a_misspelt_key_of_a_survey_is_located() -> None:
    text = JOURNEY.replace("{touchpoints: csat, kind: csat}", "{touchpoint: csat, kind: csat}")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'touchpoint: csat')}: unknown key 'touchpoint' "
        "(feedback.surveys.0.touchpoint) [unknown-key]"
    ]


def test_every_feedback_check_has_its_rule() -> None:
    for check in Feedback.checks:
        assert check.rule.endswith(".")
    assert [check.code for check in Feedback.checks] == [
        "unknown-touchpoint",
        "invalid-scale",
        "duplicate-survey",
    ]


def test_the_json_schema_describes_the_surveys() -> None:
    schema = json.loads(spec_json_schema())
    survey = schema["$defs"]["Survey"]
    assert survey["required"] == ["kind"]
    assert {"min", "max", "score", "touchpoints", "events", "name"} <= set(survey["properties"])
    assert survey["properties"]["kind"]["enum"] == ["csat", "nps", "ces", "custom"]
    window = schema["$defs"]["Feedback"]["properties"]["window"]
    assert {"type": "number", "exclusiveMinimum": 0} in window["anyOf"]


# --- against the events, and through the command line ---------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "events.csv").write_text(
        "customer_id,event,timestamp,satisfaction,recommend\n"
        "a,support_chat,2024-03-01T09:00,,\n"
        "a,csat_survey,2024-03-01T10:00,5,\n"
        "a,nps_survey,2024-03-02T10:00,,9\n"
    )
    spec = tmp_path / "journey.yaml"
    spec.write_text(JOURNEY + "data:\n  events: events.csv\n")
    return spec


def test_a_survey_event_the_data_never_has_is_located(files: Path) -> None:
    files.write_text(files.read_text().replace("events: [support_chat]", "events: [support_chats]"))
    checked = read_spec(files)
    read = read_for_checks(None, checked.spec, ReadOptions())
    found = [str(checked.locate(problem)) for problem in FeedbackEventsOccur().problems(read)]
    text = files.read_text()
    assert found == [
        f"{files}:{at(text, 'support_chats')}: event 'support_chats' of feedback survey "
        "'Chat rating' never occurs in the data; did you mean 'support_chat'? "
        "(feedback.surveys.2.events.0) [unknown-event]"
    ]


def test_a_survey_event_the_data_has_is_no_problem(files: Path) -> None:
    checked = read_spec(files)
    read = read_for_checks(None, checked.spec, ReadOptions())
    assert list(FeedbackEventsOccur().problems(read)) == []


def test_validate_prints_every_located_problem_and_exits_with_2(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files.write_text(
        files.read_text()
        .replace("{touchpoints: csat, kind: csat}", "{touchpoints: cast, kind: csat}")
        .replace("max: 100", "max: -5")
    )
    code = main(["validate", str(files)])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err + captured.out
    text = files.read_text()
    for located in (
        f"{files}:{at(text, 'cast')}: error: unknown touchpoint 'cast'",
        f"{files}:{at(text, 'max: -5', 'max: ')}: error: the range runs from 'min' to 'max'",
    ):
        assert located in captured.err
    assert "not valid: 2 errors" in captured.out + captured.err


def test_validate_says_a_window_below_zero(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files.write_text(files.read_text().replace("window: 3d", "window: -3d"))
    code = main(["validate", str(files)])
    captured = capsys.readouterr()
    assert code == 2
    located = at(files.read_text(), "window: -3d", "window: ")
    assert f"{files}:{located}: error: 'window' is -3d" in captured.err


def test_validate_accepts_the_feedback_section(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", str(files)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"{files}: valid" in captured.out
