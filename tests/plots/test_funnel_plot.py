from __future__ import annotations

import datetime

import pytest

import journeys
from journeys.formatting import window_text
from journeys.plots.funnel import funnel_figure
from tests.conftest import SIMPLE_SHOP


@pytest.mark.parametrize(
    ("window", "text"),
    [
        (datetime.timedelta(days=30), "30 days"),
        (datetime.timedelta(days=1), "1 day"),
        (datetime.timedelta(hours=2), "2 hours"),
        (datetime.timedelta(minutes=90), "90 minutes"),
        (datetime.timedelta(seconds=45), "45 s"),
    ],
)
def test_a_window_reads_as_it_was_given(window: datetime.timedelta, text: str) -> None:
    assert window_text(window) == text


def test_the_funnel_title_names_its_window() -> None:
    log = journeys.read_events(SIMPLE_SHOP)
    result = journeys.funnel(log, journeys.FunnelParams(steps=["catalog", "cart"], window="30d"))
    assert funnel_figure(result).layout.title.text == "Funnel (conversion window 30 days)"
