from __future__ import annotations

from typing import Any

import pytest
from ibis.backends import BaseBackend

from journeys.analyses.step_matrix import ENDED, StepMatrixParams, step_matrix
from journeys.data.reader import read_events
from tests.analyses import reference
from tests.conftest import SIMPLE_SHOP


def test_simple_shop_step_matrix(con: BaseBackend, simple_shop_rows: list[dict[str, Any]]) -> None:
    events = read_events(SIMPLE_SHOP, connection=con)
    result = step_matrix(events, StepMatrixParams(max_steps=6))
    expected = reference.step_matrix(simple_shop_rows, 6)
    shares = result.to_dict()["shares"]
    assert set(shares) == set(expected)
    for name, row in expected.items():
        assert shares[name] == pytest.approx(row, abs=1e-12), name
    assert result.to_dict()["positions"] == [1, 2, 3, 4, 5, 6]
    assert shares[ENDED][0] == 0.0
    assert result.shares == shares
    assert list(result.shares)[-1] == ENDED
    assert result.customers == len(reference.by_customer(simple_shop_rows))
    matrix = result.matrix.set_index("node")
    assert list(matrix.index) == list(result.shares)
    assert list(matrix.columns) == ["1", "2", "3", "4", "5", "6"]
    for name, row in expected.items():
        assert matrix.loc[name].tolist() == pytest.approx(row, abs=1e-12), name
    assert matrix.sum(axis=0).tolist() == pytest.approx([1.0] * 6)
