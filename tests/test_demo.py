"""The demo business: its planted problems are really in its data, and the report finds them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from journeys.cli.app import app, main
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


ONBOARDING_AND_AFTER = [
    "kickoff_call",
    "setup_complete",
    "login",
    "feature_use",
    "support_chat",
    "support_ticket",
    "csat_survey",
    "renewal",
    "upgrade",
    "nps_survey",
    "referral",
    "review",
]


def test_the_planted_problems_are_in_the_data() -> None:
    frame = generate(6000, seed=5)
    trials = frame[frame["event"] == "trial_start"].groupby("segment")["customer_id"].nunique()
    buyers = frame[frame["event"] == "purchase"].groupby("segment")["customer_id"].nunique()
    rate = (buyers / trials).to_dict()
    assert rate["smb"] < 0.5 * rate["mid_market"]
    first = frame.groupby(["customer_id", "event"])["timestamp"].min().unstack()
    hand_off = (first["kickoff_call"] - first["purchase"]).dt.total_seconds() / 86400
    persona = frame.groupby("customer_id")["segment"].first()
    queued = persona == TRUTH["breaching_persona"]
    assert hand_off[~queued].median() == pytest.approx(HAND_OFF_MEDIAN_DAYS, rel=0.15)
    # Small businesses wait in the implementation queue on top: exponential, mean 8 days.
    extra = hand_off[queued].mean() - hand_off[~queued].mean()
    assert extra == pytest.approx(TRUTH["queue_mean_days"], abs=2.5)


# What the demo drew for 2,000 customers (seed 1) before the hand-off plants were added.
EARLIER_EVENTS = {
    "ad_click": 676,
    "blog_visit": 2133,
    "csat_survey": 587,
    "demo_request": 337,
    "feature_use": 38089,
    "kickoff_call": 333,
    "login": 66612,
    "nps_survey": 138,
    "pricing_view": 1418,
    "purchase": 333,
    "referral": 45,
    "renewal": 2084,
    "review": 19,
    "setup_complete": 297,
    "support_chat": 912,
    "support_ticket": 717,
    "trial_start": 1066,
    "upgrade": 33,
    "webinar_join": 204,
}


def test_the_hand_off_plants_only_add_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-off plants draw from a generator of their own. Switched off (no welcome
    e-mail, no survey, no queue, no broken release), the demo is what it was before them;
    switched on, they add events and move small businesses' onboarding, nothing else."""
    import journeys.demo as demo_module

    planted = generate(2000, seed=1)
    for name in ("WELCOME_ON_TIME", "WELCOME_LATE", "SURVEY_RESPONSE", "LOOP_SHARE"):
        monkeypatch.setattr(demo_module, name, 0.0)
    monkeypatch.setattr(demo_module, "QUEUE_MEAN_DAYS", 0.0)
    before = generate(2000, seed=1)
    assert before["event"].value_counts().to_dict() == EARLIER_EVENTS
    assert before["score"].sum() == 3291
    assert before["amount"].sum() == pytest.approx(1_248_966.5)
    queued = planted["segment"] == TRUTH["breaching_persona"]
    kept = planted[~queued & ~planted["event"].isin(["welcome_email", "onboarding_survey"])]
    month = kept["timestamp"].dt.strftime("%Y-%m") == TRUTH["looping_month"]
    persona = kept["segment"] == TRUTH["looping_persona"]
    looped = kept[kept["event"].isin(["feature_use", "support_chat"]) & month & persona]
    found = looped.merge(before, how="left", indicator=True)["_merge"].to_numpy()
    broken_release = looped.loc[found == "left_only"]
    assert len(broken_release) > 20
    rest = kept.drop(index=broken_release.index).reset_index(drop=True)
    expected = before[before["segment"] != TRUTH["breaching_persona"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(rest, expected)
    # Small businesses keep every event up to their purchase as it was.
    queued_before = before[before["segment"] == TRUTH["breaching_persona"]]
    earlier = queued_before[~queued_before["event"].isin(ONBOARDING_AND_AFTER)]
    same = earlier.merge(planted, how="left", indicator=True)
    assert (same["_merge"] == "both").all()


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
    # The hand-offs: each declared one in words, the queue of small businesses by persona.
    assert "<h2>Hand-offs between departments</h2>" in page
    assert "<strong>Implementation kick-off</strong>: " in page
    assert "Declared hand-offs by persona" in page
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
        "Hand-offs between departments",
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


def test_the_demo_command_writes_data_spec_and_report(tmp_path: Path) -> None:
    """``journeys demo --out DIR`` then ``journeys handoffs --spec DIR/journey.yaml``, as a
    user runs them: the hand-offs of the written events, counted here from the file."""
    folder = tmp_path / "brightdesk"
    made = CliRunner().invoke(app, ["demo", "--out", str(folder), "--customers", "800"])
    assert made.exit_code == 0, made.output
    assert f"report written to {(folder / 'report.html').resolve()}" in made.output
    page = (folder / "report.html").read_text()
    assert "<h2>Hand-offs between departments</h2>" in page
    measured = CliRunner().invoke(
        app, ["handoffs", "--spec", str(folder / "journey.yaml"), "--format", "json"]
    )
    assert measured.exit_code == 0, measured.output
    declared = {row["name"]: row for row in json.loads(measured.stdout)["declared"]}
    assert list(declared) == [
        "Welcome after purchase",
        "Implementation kick-off",
        "Setup after the kick-off",
    ]
    frame = pd.read_parquet(folder / "events.parquet")
    buyers = frame.loc[frame["event"] == "purchase", "customer_id"].nunique()
    kickoffs = frame.loc[frame["event"] == "kickoff_call", "customer_id"].nunique()
    assert declared["Welcome after purchase"]["customers"] == buyers
    assert declared["Implementation kick-off"]["picked_up"] == kickoffs
    assert declared["Setup after the kick-off"]["customers"] == kickoffs


def test_too_small_a_demo_is_a_message_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--out", str(tmp_path), "--customers", "50"])
    err = capsys.readouterr().err
    assert code == 2
    assert "the demo needs at least 100 customers" in err
    assert "Traceback" not in err
    assert not (tmp_path / "events.parquet").exists()
