"""journeys on a real standalone Spark cluster: a master and two workers on this machine.

The cluster is started once per test session from the PySpark distribution in the
virtual environment (see ``tests/spark_cluster.py``, which also explains why the
cluster's driver is a subprocess: the local-mode session of ``tests/conftest.py`` is
never touched, whichever of the two runs first). The driver connects with
``journeys.connect("spark", spark_master="spark://127.0.0.1:PORT")``, reads the
simple_shop clickstream and runs the funnel, the step matrix and retention; each number
of their JSON must equal DuckDB's on the same file and a plain-Python computation.

Counts are compared exactly; shares to 1e-12 (the engines may add up in another order).
Java 17 is required: without it the cluster fixture fails, it does not skip.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import journeys
from tests.analyses import reference
from tests.conftest import SIMPLE_SHOP
from tests.spark_cluster import (
    FUNNEL_STEPS,
    MAX_STEPS,
    ClusterError,
    StandaloneCluster,
    terminate_as_interrupt,
)
from tests.spark_cluster import run_analyses as run_on

pytestmark = [pytest.mark.spark, pytest.mark.spark_cluster]

Rows = list[dict[str, Any]]
DATA = SIMPLE_SHOP.resolve()
WINDOW = timedelta(days=30)


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    """A master and two workers (one core, 1g each), stopped at the end of the session.

    They are stopped also when a test fails, on Ctrl-C and on SIGTERM (``timeout``).
    """
    cluster = StandaloneCluster(tmp_path_factory.mktemp("spark-cluster"), workers=2)
    problem = None
    with terminate_as_interrupt():
        try:
            try:
                cluster.start()
            except ClusterError as error:
                problem = f"cannot start the standalone Spark cluster: {error}"
            if problem is not None:
                pytest.fail(problem, pytrace=False)
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="module")
def on_cluster(spark_cluster: StandaloneCluster) -> dict[str, Any]:
    """The analyses' JSON as computed on the cluster, with facts about the driver."""
    assert DATA.is_absolute()
    assert DATA.is_file()
    try:
        return spark_cluster.run_driver(DATA)
    except ClusterError as error:
        problem = f"the analyses failed on the cluster: {error}"
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="module")
def on_duckdb() -> dict[str, Any]:
    """The same analyses' JSON, computed by DuckDB on the same file."""
    return run_on(journeys.connect("duckdb"), DATA)


def test_the_work_is_done_by_two_executors_of_the_cluster(
    spark_cluster: StandaloneCluster, on_cluster: dict[str, Any]
) -> None:
    driver = on_cluster["driver"]
    assert driver["master"] == spark_cluster.master_url
    assert driver["executors"] == 2
    # The executors' Python workers run the same interpreter as the driver.
    assert driver["executor_pythons"] == [spark_cluster.python]
    assert Path(spark_cluster.python).resolve() == Path(sys.executable).resolve()
    status = spark_cluster.status()
    assert sum(worker["state"] == "ALIVE" for worker in status["workers"]) == 2
    apps = status["activeapps"] + status["completedapps"]
    assert [app["name"] for app in apps] == ["journeys"]
    # Each worker launched an executor for the application, in its own work folder.
    for number in (1, 2):
        work = spark_cluster.root / f"worker-{number}" / "work"
        assert [path.name for path in work.iterdir()] == [apps[0]["id"]]


def test_funnel_on_the_cluster_equals_duckdb_and_a_plain_computation(
    on_cluster: dict[str, Any], on_duckdb: dict[str, Any], simple_shop_rows: Rows
) -> None:
    def customers(result: dict[str, Any]) -> list[int]:
        return [step["customers"] for step in result["funnel"]["steps"]]

    expected = reference.greedy_funnel(simple_shop_rows, FUNNEL_STEPS, WINDOW)
    assert customers(on_cluster) == customers(on_duckdb) == expected
    assert expected[0] > expected[-1] > 0


def test_step_matrix_on_the_cluster_equals_duckdb_and_a_plain_computation(
    on_cluster: dict[str, Any], on_duckdb: dict[str, Any], simple_shop_rows: Rows
) -> None:
    cluster = on_cluster["step_matrix"]["shares"]
    duckdb = on_duckdb["step_matrix"]["shares"]
    expected = reference.step_matrix(simple_shop_rows, MAX_STEPS)
    assert "ENDED" in expected
    assert set(cluster) == set(duckdb) == set(expected)
    for event, shares in expected.items():
        assert len(cluster[event]) == len(duckdb[event]) == MAX_STEPS, event
        assert cluster[event] == pytest.approx(duckdb[event], abs=1e-12), event
        assert cluster[event] == pytest.approx(shares, abs=1e-12), event


def test_retention_on_the_cluster_equals_duckdb_and_a_plain_computation(
    on_cluster: dict[str, Any], on_duckdb: dict[str, Any], simple_shop_rows: Rows
) -> None:
    cluster = on_cluster["retention"]["cohorts"]
    duckdb = on_duckdb["retention"]["cohorts"]
    expected = reference.monthly_retention(simple_shop_rows)
    sizes: dict[str, int] = {}
    for events in reference.by_customer(simple_shop_rows).values():
        cohort = events[0]["timestamp"].strftime("%Y-%m")
        sizes[cohort] = sizes.get(cohort, 0) + 1
    assert [c["cohort"] for c in cluster] == [c["cohort"] for c in duckdb] == list(expected)
    for ours, theirs in zip(cluster, duckdb):
        label = ours["cohort"]
        assert ours["size"] == theirs["size"] == sizes[label], label
        assert ours["retention"] == pytest.approx(theirs["retention"], abs=1e-12), label
        assert ours["retention"] == pytest.approx(expected[label], abs=1e-12), label
