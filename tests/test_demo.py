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
    assert drop.value < 0.5 * drop.baseline
    slow = findings["slow_hand_off"]
    assert slow.step == TRUTH["slow_hand_off"]
    assert slow.value == pytest.approx(HAND_OFF_MEDIAN_DAYS, rel=0.25)
    page = target.read_text()
    assert "sales to implementation" in page


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
        "Paths and loops",
        "Retention",
        "Time between stages",
        "Findings",
    ):
        assert section in page
