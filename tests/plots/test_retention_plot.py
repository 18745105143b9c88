"""The retention heat map stays readable with many cohorts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from ibis.backends import BaseBackend

from journeys.analyses.retention import RetentionParams, retention
from journeys.data.reader import EventLog, read_events
from journeys.plots.retention import ROW_HEIGHT, retention_figure
from tests.conftest import event_table


@pytest.fixture
def journeys_for(duckdb_con: BaseBackend) -> Callable[..., EventLog]:
    """Events declared per customer, on DuckDB: the figure's layout does not depend on the engine."""

    def make(journeys: Any, **options: Any) -> EventLog:
        return read_events(event_table(journeys), connection=duckdb_con, **options)

    return make


def test_thirty_five_weekly_cohorts_each_keep_a_readable_row(
    journeys_for: Callable[..., EventLog],
) -> None:
    start = dt.datetime(2024, 1, 1, 10)
    journeys = {
        f"c{week}": [
            ("visit", (start + dt.timedelta(weeks=week + k)).isoformat()) for k in range(3)
        ]
        for week in range(35)
    }
    result = retention(journeys_for(journeys), RetentionParams(period="week"))
    figure = retention_figure(result)
    cohorts = len(figure.data[0].y)
    assert cohorts >= 35
    assert figure.layout.height >= ROW_HEIGHT * cohorts
    # 37 periods are too many to write a share in each cell: the hover keeps them.
    assert len(figure.data[0].x) > 30
    assert all(text == "" for row in figure.data[0].text for text in row)


def test_a_few_cohorts_show_their_shares(journeys_for: Callable[..., EventLog]) -> None:
    journeys = {
        "a": [("visit", "2024-01-01T10:00"), ("visit", "2024-02-01T10:00")],
        "b": [("visit", "2024-02-01T10:00")],
    }
    figure = retention_figure(retention(journeys_for(journeys), RetentionParams(period="month")))
    assert figure.layout.height == 520
    assert figure.data[0].text[0][0] == "100%"
