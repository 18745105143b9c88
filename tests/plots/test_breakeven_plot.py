"""The break-even figures draw a scenario that never breaks even."""

from __future__ import annotations

import pandas as pd

from journeys.analyses.breakeven import BreakevenInputs, breakeven_sheet
from journeys.plots.breakeven import scenarios_figure


def test_a_scenario_that_never_breaks_even_reads_never() -> None:
    result = breakeven_sheet(
        BreakevenInputs(
            fixed_costs={"team": 8000}, variable_cost_per_customer=20, value_per_customer=70
        )
    )
    today = result.scenarios.iloc[0].to_dict()
    worse = {**today, "scenario": "cheaper plan", "break_even_customers": None}
    scenarios = pd.DataFrame([today, worse], columns=result.scenarios.columns).astype(object)
    figure = scenarios_figure(result.model_copy(update={"scenarios": scenarios}))
    assert figure is not None
    assert list(figure.data[0].text) == [f"{today['break_even_customers']:,.0f}", "never"]
