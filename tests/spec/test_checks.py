"""Each check of the spec on its own: its code, where it points, and what it leaves alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeys.analyses.support_settings import Support
from journeys.errors import SpecError
from journeys.spec.checks import CORE_CHECKS
from journeys.spec.loader import check_spec, parse_spec

JOURNEY = """\
name: Shop
stages:
  - {id: visit, name: Visit}
  - {id: buy, name: Buy}
touchpoints:
  - {id: site, name: Site, stage: visit, events: page_view}
  - {id: pay, name: Pay, stage: buy, events: order}
milestones:
  - {id: purchase, name: Purchase, touchpoints: pay}
"""


def codes(text: str) -> list[tuple[str, str]]:
    """The (code, field) of every error in a spec that does not load."""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "shop.yaml")
    return [(problem.code, problem.field) for problem in caught.value.problems]


def warnings_of(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "shop.yaml").write_text(text)
    return [str(problem) for problem in check_spec(tmp_path / "shop.yaml")[1]]


def test_the_journey_loads_without_problems(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, JOURNEY) == []


def test_duplicate_ids_are_found_in_each_list() -> None:
    text = JOURNEY.replace("{id: buy, name: Buy}", "{id: visit, name: Buy}").replace(
        "stage: buy", "stage: visit"
    )
    assert codes(text) == [("duplicate-id", "stages.1.id")]


def test_a_touchpoint_stage_must_exist() -> None:
    assert codes(JOURNEY.replace("stage: buy", "stage: checkout")) == [
        ("unknown-stage", "touchpoints.1.stage")
    ]


def test_a_milestone_touchpoint_must_exist() -> None:
    assert codes(JOURNEY.replace("touchpoints: pay}", "touchpoints: [pay, refund]}")) == [
        ("unknown-touchpoint", "milestones.0.touchpoints.1")
    ]


def test_a_stage_without_touchpoints_is_a_located_warning(tmp_path: Path) -> None:
    text = JOURNEY.replace(
        "  - {id: buy, name: Buy}\n", "  - {id: buy, name: Buy}\n  - {id: renew, name: Renew}\n"
    )
    assert warnings_of(tmp_path, text) == [
        f"{tmp_path / 'shop.yaml'}:5:10: stage 'renew' has no touchpoint, so no customer "
        "reaches it; add a touchpoint with `stage: renew` (stages.2.id) [empty-stage]"
    ]
    assert parse_spec(text).stages[2].id == "renew"


def test_a_spec_without_a_purchase_milestone_is_warned(tmp_path: Path) -> None:
    text = JOURNEY.split("milestones:")[0]
    found = warnings_of(tmp_path, text)
    assert len(found) == 1
    assert found[0].endswith("(milestones) [no-purchase]")


def test_a_spec_with_only_stages_gets_no_warning(tmp_path: Path) -> None:
    text = "name: Sketch\nstages:\n  - {id: visit, name: Visit}\n"
    assert warnings_of(tmp_path, text) == []


SUPPORT = """\
support:
  contacts: {touchpoints: [site, helpdesk]}
  fixed_costs:
    - {name: Team, amount: 100}
    - {name: Team, amount: 200}
"""


def test_the_support_section_brings_its_own_checks() -> None:
    assert codes(JOURNEY + SUPPORT) == [
        ("unknown-touchpoint", "support.contacts.touchpoints.1"),
        ("duplicate-cost-line", "support.fixed_costs.1.name"),
    ]


def test_every_check_has_a_distinct_code_and_a_rule() -> None:
    checks = [*CORE_CHECKS, *Support.checks]
    by_code: dict[str, list[str]] = {}
    for check in checks:
        assert check.rule.endswith(".")
        by_code.setdefault(check.code, []).append(check.__name__)
    shared = {code: names for code, names in by_code.items() if len(names) > 1}
    # Two sections may report the same kind of problem (a touchpoint that does not exist).
    assert shared == {
        "unknown-touchpoint": ["MilestoneTouchpointsExist", "SupportTouchpointsExist"]
    }
