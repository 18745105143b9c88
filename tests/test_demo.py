"""The demo business: its planted problems are really in its data, and the report finds them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from journeys.demo import HAND_OFF_MEDIAN_DAYS, TRUTH, generate, write_demo
from journeys.loading import load
from journeys.report import write_report


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, customers=4000, seed=3)
    return folder


def test_generation_is_reproducible() -> None:
    first, second = generate(500, seed=1), generate(500, seed=1)
    pd.testing.assert_frame_equal(first, second)
    assert first["customer_id"].nunique() == 500


def test_the_planted_problems_are_in_the_data() -> None:
    frame = generate(6000, seed=5)
    trials = frame[frame["event"] == "trial_start"].groupby("segment")["customer_id"].nunique()
    buyers = frame[frame["event"] == "purchase"].groupby("segment")["customer_id"].nunique()
    rate = (buyers / trials).to_dict()
    assert rate["smb"] < 0.5 * rate["mid_market"]
    first = frame.groupby(["customer_id", "event"])["timestamp"].min().unstack()
    hand_off = (first["kickoff_call"] - first["purchase"]).dt.total_seconds() / 86400
    assert hand_off.median() == pytest.approx(HAND_OFF_MEDIAN_DAYS, rel=0.15)


def test_the_report_finds_what_was_planted(demo: Path, tmp_path: Path) -> None:
    events = load(spec=demo / "journey.yaml")
    assert events.unmapped_events == 0
    target = tmp_path / "report.html"
    report = write_report(events, target)
    findings = {finding.kind: finding for finding in report.findings}
    drop = findings["drop_off"]
    assert drop.subject == TRUTH["dropping_persona"]
    assert drop.step == "consideration -> purchase"
    assert drop.value is not None
    assert drop.baseline is not None
    assert drop.value < 0.5 * drop.baseline
    slow = findings["slow_hand_off"]
    assert slow.step == TRUTH["slow_hand_off"]
    assert slow.value == pytest.approx(HAND_OFF_MEDIAN_DAYS, rel=0.25)
    assert slow.text.startswith("Purchase to Onboarding takes a median")
    page = target.read_text()
    assert "sales to implementation" in page
    uplift = findings["support_uplift"]
    assert uplift.value is not None
    assert uplift.value > 0
    assert "observational" in uplift.text
    change = findings["support_change"]
    assert change.subject == "Chatbot launch"
    assert "CSAT of support" in change.text
    assert change.value is not None
    assert change.baseline is not None
    assert change.value > change.baseline
    verdict = findings["support_break_even"]
    # a fifth of the demo's customers against the full demo's fixed costs
    assert verdict.text.startswith("Support does not pay for itself")
    assert verdict.baseline is not None
    assert verdict.value is not None
    assert 0 < verdict.baseline < verdict.value


def test_the_report_is_self_contained(demo: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_report(load(spec=demo / "journey.yaml"), target)
    page = target.read_text()
    assert page.count("* plotly.js v") == 1
    assert '<script src="http' not in page
    assert "<link" not in page
    for section in (
        "Journey map",
        "Key numbers",
        "Funnel through the stages",
        "Paths",
        "Loops",
        "Retention",
        "Time between stages",
        "Customer lifetime value",
        "Checking the value model",
        "Support: break-even and impact",
        "Findings",
    ):
        assert f"<h2>{section}</h2>" in page
    assert "Not computed" not in page


def test_support_uplift_is_found_only_where_it_was_planted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the planted effect the 95% interval lies above zero; without it, it covers zero."""
    import journeys.demo as demo_module
    from journeys.analyses.support_effect import support_uplift

    intervals = {}
    for name, churn in (
        ("planted", TRUTH["monthly_churn_after_support"]),
        ("none", TRUTH["monthly_churn_without_support"]),
    ):
        monkeypatch.setattr(demo_module, "CHURN_AFTER_SUPPORT", churn)
        write_demo(tmp_path / name, customers=4000, seed=3)
        events = load(spec=tmp_path / name / "journey.yaml")
        assert events.spec is not None
        assert events.spec.support is not None
        row = support_uplift(events, events.spec.support).row("retained")
        intervals[name] = (row["ci_low"], row["ci_high"])
    assert intervals["planted"][0] > 0
    assert intervals["none"][0] < 0 < intervals["none"][1]


def test_support_serving_nobody_is_reported_without_a_margin_of_safety(demo: Path) -> None:
    """With no supported customers the margin of safety is undefined; the verdict stands."""
    from journeys.analyses.breakeven import BreakevenParams, breakeven
    from journeys.analyses.findings import support_findings

    events = load(spec=demo / "journey.yaml")
    findings = support_findings(breakeven(events, BreakevenParams(actual_customers=0)))
    (verdict,) = [finding for finding in findings if finding.kind == "support_break_even"]
    assert verdict.text.startswith("Support does not pay for itself")
    assert verdict.text.endswith("and serves 0.")
    assert verdict.baseline == 0
    assert verdict.value is not None
    assert verdict.value > 0
