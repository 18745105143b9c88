from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from journeys.data.options import ReadOptions
from journeys.errors import OptionsError, SpecError
from journeys.loading import load
from journeys.spec import load_spec, parse_spec, spec_json_schema

VALID = """\
name: Shop
data:
  events: events.csv
  columns:
    customer_id: user_id
stages:
  - id: consideration
    name: Consideration
  - id: purchase
    name: Purchase
touchpoints:
  - id: catalog
    name: Catalog
    stage: consideration
    channel: web
    owner: marketing
    events: catalog
  - id: paid
    name: Payment
    stage: purchase
    events: [payment_done]
    where:
      - column: method
        in: [card, cash]
personas:
  - id: big
    name: Big spender
    where:
      - {column: plan, equals: premium}
milestones:
  - id: purchase
    name: Purchase
    touchpoints: paid
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "journey.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_a_valid_spec_reads_into_models() -> None:
    spec = parse_spec(VALID)
    assert [stage.id for stage in spec.stages] == ["consideration", "purchase"]
    assert spec.touchpoints[0].events == ["catalog"]
    assert spec.touchpoints[1].where[0].in_ == ["card", "cash"]
    assert spec.milestones[0].touchpoints == ["paid"]
    assert spec.data is not None
    assert spec.data.columns.customer_id == "user_id"


def test_relative_data_paths_are_read_from_the_spec_folder(tmp_path: Path) -> None:
    (tmp_path / "journey.yaml").write_text(VALID)
    spec = load_spec(tmp_path / "journey.yaml")
    assert spec.data is not None
    assert spec.data.events == str(tmp_path / "events.csv")


def test_an_unknown_key_is_located_at_its_key() -> None:
    text = VALID.replace("    channel: web\n", "    colour: web\n")
    assert problems_of(text) == [
        "journey.yaml:15:5: unknown key 'colour' (touchpoints.0.colour) [unknown-key]"
    ]


def test_an_unknown_stage_names_the_known_ones() -> None:
    text = VALID.replace("stage: purchase", "stage: checkout")
    assert problems_of(text) == [
        "journey.yaml:20:12: unknown stage 'checkout'; the stages are consideration, purchase "
        "(touchpoints.1.stage) [unknown-stage]"
    ]


def test_every_cross_reference_problem_is_reported() -> None:
    text = VALID.replace("stage: purchase", "stage: checkout").replace(
        "touchpoints: paid", "touchpoints: [paid, refund]"
    )
    text = text.replace(
        "id: purchase\n    name: Purchase\ntouch", "id: consideration\n    name: P\ntouch"
    )
    found = problems_of(text)
    assert (
        "journey.yaml:9:9: id 'consideration' is used twice (stages.1.id) [duplicate-id]" in found
    )
    assert any("unknown touchpoint 'refund'" in problem for problem in found)
    assert len(found) == 3


def test_a_missing_field_points_at_its_mapping() -> None:
    text = VALID.replace("    name: Big spender\n", "")
    assert problems_of(text) == [
        "journey.yaml:26:5: 'name' is required (personas.0.name) [missing-key]"
    ]


def test_a_condition_needs_exactly_one_test() -> None:
    text = VALID.replace("{column: plan, equals: premium}", "{column: plan, equals: a, regex: b}")
    found = problems_of(text)
    assert len(found) == 1
    assert found[0].startswith("journey.yaml:29:9: give exactly one of 'equals', 'in' or 'regex'")


def test_a_bad_regular_expression_is_reported() -> None:
    text = VALID.replace("in: [card, cash]", "regex: '(card'")
    (found,) = problems_of(text)
    assert "'regex' is not a valid regular expression" in found
    assert found.startswith("journey.yaml:23:9:")


def test_broken_yaml_names_line_and_column() -> None:
    (found,) = problems_of("name: x\nstages: [a, b\n")
    assert found.startswith("journey.yaml:3:1: not valid YAML")


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    with pytest.raises(SpecError, match="the file is empty"):
        load_spec(path)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "nope.yaml")


def test_the_json_schema_describes_the_spec() -> None:
    schema = json.loads(spec_json_schema())
    assert schema["title"] == "Spec"
    assert set(schema["required"]) == {"name", "stages"}
    assert schema["additionalProperties"] is False
    condition = schema["$defs"]["Condition"]["properties"]
    assert "in" in condition


SUPPORT = """\
support:
  period: month
  contacts: {touchpoints: [catalog, helpdesk]}
  fixed_costs:
    - {name: Team, amount: 1000}
    - {name: Team, amount: 200}
  value_per_customer: estimate
"""


def test_the_support_section_is_checked_against_touchpoints_and_cost_lines() -> None:
    found = problems_of(VALID + SUPPORT)
    assert (
        "journey.yaml:36:37: unknown touchpoint 'helpdesk'; the touchpoints are catalog, paid "
        "(support.contacts.touchpoints.1) [unknown-touchpoint]" in found
    )
    assert (
        "journey.yaml:39:14: cost line 'Team' is named twice (support.fixed_costs.1.name) "
        "[duplicate-cost-line]" in found
    )


def test_a_support_value_must_be_a_number_or_estimate() -> None:
    text = VALID + SUPPORT.replace("helpdesk", "paid").replace(
        "{name: Team, amount: 200}", "{name: Tools, amount: 200}"
    )
    assert parse_spec(text).support is not None
    found = problems_of(text.replace("value_per_customer: estimate", "value_per_customer: lots"))
    assert len(found) == 2
    assert all("support.value_per_customer" in problem for problem in found)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("{name: bot}", "give 'date', or both 'before' and 'after'"),
        (
            "{name: bot, date: 2024-06-01, before: [2024-01-01, 2024-02-01], after: [2024-07-01, 2024-08-01]}",
            "give 'date'",
        ),
        ("{name: bot, before: [2024-01-01, 2024-02-01]}", "give 'date'"),
        (
            "{name: bot, before: [2024-03-01, 2024-02-01], after: [2024-07-01, 2024-08-01]}",
            "first day to its last day",
        ),
        (
            "{name: bot, before: [2024-01-01, 2024-08-01], after: [2024-07-01, 2024-09-01]}",
            "must end before",
        ),
    ],
)
def test_a_support_change_needs_a_date_or_two_windows(change: str, message: str) -> None:
    support = "support:\n  contacts: {touchpoints: [catalog]}\n  changes:\n    - " + change + "\n"
    found = problems_of(VALID + support)
    assert len(found) == 1
    assert message in found[0]
    assert "support.changes.0" in found[0]


READING = """\
name: Shop
data:
  events: events.csv
  delimiter: ";"
  timezone: Europe/Berlin
  since: 2024-03-02
  skip_invalid: true
  columns:
    customer_id: who
stages:
  - {id: visit, name: Visit}
touchpoints:
  - {id: view, name: View, stage: visit, events: [view, buy]}
"""


def test_the_data_section_takes_every_reading_option() -> None:
    spec = parse_spec(READING)
    assert spec.data is not None
    assert spec.data.events == "events.csv"
    assert spec.data.reading() == ReadOptions(
        delimiter=";",
        timezone="Europe/Berlin",
        since=date(2024, 3, 2),
        skip_invalid=True,
        columns={"customer_id": "who"},
    )
    assert spec.data.reading().model_fields_set == {
        "delimiter",
        "timezone",
        "since",
        "skip_invalid",
        "columns",
    }


@pytest.mark.parametrize(
    ("line", "replacement", "message"),
    [
        ("  timezone: Europe/Berlin\n", "  timezone: Mars/Olympus\n", "journeys.yaml:5:13: 'Mars"),
        ('  delimiter: ";"\n', '  delimiter: ";;"\n', "journeys.yaml:4:14: "),
        ("  skip_invalid: true\n", "  on_invalid: skip\n", "journeys.yaml:7:3: unknown key"),
        ("  since: 2024-03-02\n", "  since: 2024-03-02\n  until: 2024-03-01\n", "data.until"),
    ],
)
def test_a_bad_reading_option_in_the_spec_is_located(
    line: str, replacement: str, message: str
) -> None:
    assert line in READING
    with pytest.raises(SpecError) as caught:
        parse_spec(READING.replace(line, replacement), "journeys.yaml")
    (found,) = [str(problem) for problem in caught.value.problems]
    assert message in found


def test_load_reads_with_the_spec_options_and_keywords_win(tmp_path: Path) -> None:
    """The spec says: semicolons, Berlin time, from 2 March, set aside unreadable rows."""
    (tmp_path / "journey.yaml").write_text(READING)
    (tmp_path / "events.csv").write_text(
        "who;timestamp;event\n"
        "a;2024-03-01 12:00:00;view\n"
        "a;2024-03-02 00:30:00;view\n"
        "b;2024-03-03 10:00:00;buy\n"
        "b;not a time;buy\n"
    )
    events = load(spec=tmp_path / "journey.yaml")
    report = events.report
    assert (report.rows_read, report.rows_used) == (4, 2)
    assert report.set_aside == {"bad_timestamp": 1}
    assert report.outside_dates == 1
    rows = events.table.order_by("timestamp").to_pyarrow().to_pylist()
    # 00:30 in Berlin on 2 March is 23:30 UTC on 1 March, and still inside the range
    assert [(r["customer_id"], r["timestamp"]) for r in rows] == [
        ("a", datetime(2024, 3, 1, 23, 30)),
        ("b", datetime(2024, 3, 3, 9, 0)),
    ]
    assert events.spec is not None
    assert events.unmapped_events == 0
    wider = load(spec=tmp_path / "journey.yaml", since="2024-03-01", timezone="UTC")
    assert wider.report.rows_used == 3
    assert wider.report.outside_dates == 0
    given = load(
        spec=tmp_path / "journey.yaml", options=ReadOptions(until="2024-03-02"), timezone="UTC"
    )
    assert given.report.rows_used == 1
    with pytest.raises(OptionsError, match="skip_invalid"):
        load(spec=tmp_path / "journey.yaml", skip_invalid="perhaps")
