"""The spec's departments, RACI and declared hand-offs: what loads, and every mistake located.

Each problem is found at the line and column of the value it is about, with a stable code,
when the spec is read, by `journeys validate` and by any command given the spec.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from journeys.analyses.handoff_settings import HANDOFF_CHECKS, departments
from journeys.cli.app import main
from journeys.errors import SpecError
from journeys.spec.loader import parse_spec, spec_json_schema

JOURNEY = """\
name: Onboarding
stages:
  - {id: buy, name: Buy, raci: {responsible: sales, accountable: sales, informed: [finance]}}
  - id: onboard
    name: Onboard
    raci:
      responsible: [implementation]
      accountable: implementation
      consulted: [sales, support]
touchpoints:
  - {id: order, name: Order, stage: buy, owner: sales, events: purchase}
  - {id: kickoff, name: Kickoff call, stage: onboard, owner: implementation, events: kickoff_call}
  - {id: welcome, name: Welcome e-mail, stage: onboard, owner: support, events: welcome_email}
departments: [finance]
milestones:
  - {id: purchase, name: Purchase, events: purchase, raci: {accountable: sales}}
handoffs:
  - {name: Welcome after purchase, from: milestone:purchase, to: touchpoint:welcome, within: 1h}
  - name: Implementation kick-off
    from: milestone:purchase
    to: owner:implementation
    within: 7d
    business_days: true
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


def test_a_spec_with_departments_raci_and_hand_offs_loads() -> None:
    spec = parse_spec(JOURNEY)
    assert departments(spec) == {"sales", "implementation", "support", "finance"}
    onboard = spec.stages[1].raci
    assert onboard is not None
    assert (onboard.responsible, onboard.accountable) == (["implementation"], ["implementation"])
    assert onboard.consulted == ["sales", "support"]
    assert spec.stages[0].raci is not None
    assert spec.stages[0].raci.informed == ["finance"]
    assert spec.milestones[0].raci is not None
    welcome, kickoff = spec.handoffs
    assert (welcome.from_, welcome.to, welcome.within) == (
        "milestone:purchase",
        "touchpoint:welcome",
        timedelta(hours=1),
    )
    assert welcome.business_days is False
    assert (kickoff.to, kickoff.within, kickoff.business_days) == (
        "owner:implementation",
        timedelta(days=7),
        True,
    )
    # Written back as the spec writes it.
    assert spec.model_dump(mode="json", by_alias=True)["handoffs"][1]["within"] == "1w"


def test_an_unknown_department_in_a_raci_is_located() -> None:
    text = JOURNEY.replace("consulted: [sales, support]", "consulted: [sales, legal]")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'legal')}: unknown department 'legal'; the departments are "
        "finance, "
        "implementation, sales, support; a department owns a touchpoint (`owner:`) or is "
        "listed under `departments:` (stages.1.raci.consulted.1) [unknown-department]"
    ]


def test_a_department_listed_under_departments_is_known() -> None:
    text = JOURNEY.replace("informed: [finance]", "informed: [finance, legal]")
    assert problems(text)[0].startswith(f"journey.yaml:{at(text, 'legal')}: unknown department")
    listed = text.replace("departments: [finance]", "departments: [finance, legal]")
    assert "legal" in departments(parse_spec(listed))


def test_an_unknown_department_in_a_hand_off_is_located() -> None:
    text = JOURNEY.replace("to: owner:implementation", "to: owner:implementaton")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'owner:implementaton')}: unknown department 'implementaton'; "
        "the departments are finance, "
        "implementation, sales, support; a department owns a touchpoint (`owner:`) or is "
        "listed under `departments:` (handoffs.1.to) [unknown-department]"
    ]


@pytest.mark.parametrize(
    ("written", "code", "message"),
    [
        (
            "touchpoint:welcome_mail",
            "unknown-touchpoint",
            "unknown touchpoint 'welcome_mail'; the touchpoints are kickoff, order, welcome",
        ),
        ("stage:serve", "unknown-stage", "unknown stage 'serve'; the stages are buy, onboard"),
        (
            "milestone:renewal",
            "unknown-milestone",
            "unknown milestone 'renewal'; the milestones are purchase",
        ),
    ],
)
def test_a_hand_off_to_something_the_spec_does_not_have_is_located(
    written: str, code: str, message: str
) -> None:
    text = JOURNEY.replace("to: touchpoint:welcome", f"to: {written}")
    assert problems(text) == [
        f"journey.yaml:{at(text, written)}: {message} (handoffs.0.to) [{code}]"
    ]


def test_each_alternative_of_a_hand_off_end_is_checked() -> None:
    text = JOURNEY.replace("from: milestone:purchase\n", "from: milestone:purchase|stage:pay\n")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'milestone:purchase|stage:pay')}: unknown stage 'pay'; the "
        "stages are buy, onboard (handoffs.1.from) "
        "[unknown-stage]"
    ]


def test_two_accountable_departments_are_located() -> None:
    text = JOURNEY.replace("accountable: implementation", "accountable: [implementation, sales]")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'accountable: [')}: the RACI of stage 'onboard' has 2 "
        "accountable departments "
        "(implementation, sales); exactly one is answerable, make the others responsible "
        "(stages.1.raci.accountable) [accountable]"
    ]


def test_a_raci_without_an_accountable_department_is_located() -> None:
    text = JOURNEY.replace("raci: {accountable: sales}", "raci: {informed: support}")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'raci: {informed')}: the RACI of milestone 'purchase' has "
        "no accountable department; "
        "name the one department answerable for it as `accountable:` (milestones.0.raci) "
        "[accountable]"
    ]


@pytest.mark.parametrize(
    ("written", "shown"), [("-2h", "-2h"), ("-3600", "-1h"), ("0", "0s"), ("0d", "0s")]
)
def test_a_service_level_of_zero_or_less_is_located(written: str, shown: str) -> None:
    text = JOURNEY.replace("within: 7d", f"within: {written}")
    assert problems(text) == [
        f"journey.yaml:{at(text, f'within: {written}', 'within: ')}: 'within' is {shown}: a service level must be longer than zero "
        "(write it like 1h, 2d or 7d) (handoffs.1.within) [invalid-value]"
    ]


def test_a_service_level_that_is_not_a_duration_is_located() -> None:
    text = JOURNEY.replace("within: 7d", "within: a week")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'a week')}: 'a week' is not a duration; write a number and a unit: 45s, 90m, "
        "12h, 30d or 2w (handoffs.1.within) [invalid-value]"
    ]


def test_two_hand_offs_with_one_name_are_located() -> None:
    text = JOURNEY.replace("name: Implementation kick-off", "name: Welcome after purchase")
    second = at(text, "- name: Welcome after purchase").split(":")[0]
    assert problems(text) == [
        f"journey.yaml:{second}:11: hand-off 'Welcome after "
        "purchase' is named twice (the first 'Welcome after purchase' is at line 18) (handoffs.1.name) [duplicate-handoff]"
    ]


def test_a_misspelt_key_of_a_hand_off_is_located() -> None:
    text = JOURNEY.replace("    business_days: true", "    business_day: true")
    assert problems(text) == [
        f"journey.yaml:{at(text, 'business_day:')}: unknown key 'business_day' (handoffs.1.business_day) [unknown-key]"
    ]


def test_every_hand_off_check_has_its_rule() -> None:
    for check in HANDOFF_CHECKS:
        assert check.rule.endswith(".")
    codes = [check.code for check in HANDOFF_CHECKS]
    assert codes == [
        "unknown-touchpoint",
        "unknown-stage",
        "unknown-milestone",
        "unknown-department",
        "accountable",
        "duplicate-handoff",
    ]


def test_the_json_schema_describes_hand_offs_and_raci() -> None:
    schema = json.loads(spec_json_schema())
    handoff = schema["$defs"]["Handoff"]
    assert set(handoff["required"]) == {"name", "from", "to", "within"}
    assert {"type": "number", "exclusiveMinimum": 0} in handoff["properties"]["within"]["anyOf"]
    assert set(schema["$defs"]["Raci"]["properties"]) == {
        "responsible",
        "accountable",
        "consulted",
        "informed",
    }


# --- through the command line --------------------------------------------------------------


def test_validate_prints_every_located_problem_and_exits_with_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "journey.yaml"
    spec.write_text(
        JOURNEY.replace("accountable: implementation", "accountable: [implementation, sales]")
        .replace("to: touchpoint:welcome", "to: touchpoint:welcome_mail")
        .replace("to: owner:implementation", "to: owner:legal")
    )
    code = main(["validate", str(spec)])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err + captured.out
    for located in (
        f"{spec}:18:66: error: unknown touchpoint 'welcome_mail'",
        f"{spec}:21:9: error: unknown department 'legal'",
        f"{spec}:8:7: error: the RACI of stage 'onboard' has 2 accountable departments",
    ):
        assert located in captured.err
    assert "not valid: 3 errors" in captured.out + captured.err


def test_validate_accepts_the_hand_offs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "journey.yaml"
    spec.write_text(JOURNEY)
    code = main(["validate", str(spec)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"{spec}: valid" in captured.out
