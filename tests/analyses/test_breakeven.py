"""Break-even of support: textbook cost-volume-profit numbers, sensitivity and scenarios."""

from __future__ import annotations

import math

import pytest

from journeys.analyses.breakeven import (
    BreakevenInputs,
    BreakevenParams,
    apply_scenario,
    breakeven_sheet,
    breakeven_without_events,
    compute_breakeven,
    never_breaks_even_message,
    sensitivity,
)
from journeys.analyses.support_settings import Scenario, Support
from journeys.errors import OptionsError


def test_horngren_cost_volume_profit_example() -> None:
    """Horngren, Datar and Rajan, Cost Accounting (ch. 3): a package sells for $200, costs
    $120 variable and $2,000 fixed; break-even is 25 packages or $5,000 of revenue, the
    contribution margin ratio 40%; at 40 packages the margin of safety is 15 packages."""
    numbers = compute_breakeven(
        BreakevenInputs(
            fixed_costs={"booth": 2000},
            variable_cost_per_customer=120,
            value_per_customer=200,
            actual_customers=40,
        )
    )
    assert numbers.contribution_margin == 80
    assert numbers.contribution_margin_ratio == pytest.approx(0.4)
    assert numbers.break_even_customers_exact == pytest.approx(25)
    assert numbers.break_even_customers == 25
    assert numbers.break_even_revenue == pytest.approx(5000)
    assert numbers.margin_of_safety_customers == pytest.approx(15)
    assert numbers.margin_of_safety == pytest.approx(15 / 40)
    assert numbers.profit_at_actual == pytest.approx(40 * 80 - 2000)
    assert numbers.breaks_even
    assert numbers.as_dict()["break_even_customers"] == 25


def test_break_even_rounds_up_to_whole_customers() -> None:
    numbers = compute_breakeven(
        BreakevenInputs(
            fixed_costs={"a": 1000, "b": 2},
            variable_cost_per_customer=3,
            value_per_customer=10,
        )
    )
    assert numbers.break_even_customers_exact == pytest.approx(1002 / 7)
    assert numbers.break_even_customers == 144
    assert numbers.margin_of_safety is None


def test_a_value_at_or_below_the_variable_cost_never_breaks_even() -> None:
    numbers = compute_breakeven(
        BreakevenInputs(fixed_costs={"a": 10}, variable_cost_per_customer=50, value_per_customer=50)
    )
    assert not numbers.breaks_even
    assert numbers.break_even_customers is None
    assert "never breaks even" in never_breaks_even_message(numbers)
    result = breakeven_sheet(
        BreakevenInputs(fixed_costs={"a": 10}, variable_cost_per_customer=60, value_per_customer=50)
    )
    assert result.to_dict()["never_breaks_even"] is True
    assert "never breaks even" in result.to_dict()["message"]


def test_sensitivity_moves_each_input_by_twenty_percent() -> None:
    inputs = BreakevenInputs(
        fixed_costs={"team": 8000, "tools": 2000},
        variable_cost_per_customer=20,
        value_per_customer=70,
    )
    table = sensitivity(inputs).set_index("input")
    assert table.loc["value per customer", "at_minus"] == pytest.approx(10_000 / (56 - 20))
    assert table.loc["value per customer", "at_plus"] == pytest.approx(10_000 / (84 - 20))
    assert table.loc["fixed cost: team", "at_plus"] == pytest.approx(11_600 / 50)
    assert table.loc["variable cost per customer", "at_minus"] == pytest.approx(10_000 / 54)
    assert table.index[0] == "value per customer"


def test_a_scenario_changes_costs_contacts_and_value() -> None:
    support = Support.model_validate(
        {
            "contacts": {"events": ["chat"]},
            "fixed_costs": [{"name": "team", "amount": 9000}],
            "variable_costs": {"per_customer": 1.0, "per_contact": {"chat": 4.0, "phone": 10.0}},
            "value_per_customer": 60,
        }
    )
    contacts = {"chat": 2.0, "phone": 0.5}
    base = BreakevenInputs(
        fixed_costs={"team": 9000},
        variable_cost_per_customer=1 + 4 * 2 + 10 * 0.5,
        value_per_customer=60,
    )
    scenario = Scenario(
        name="bot",
        fixed_costs={"bot": 500, "team": 0},
        per_contact={"chat": 1.0},
        contacts_factor=0.5,
        value_factor=1.1,
    )
    changed = apply_scenario(base, support, contacts, scenario)
    assert changed.fixed_costs == {"bot": 500}
    assert changed.variable_cost_per_customer == pytest.approx(1 + 0.5 * (1 * 2 + 10 * 0.5))
    assert changed.value_per_customer == pytest.approx(66)
    numbers = compute_breakeven(changed)
    assert numbers.break_even_customers == math.ceil(500 / (66 - 4.5))


def test_a_side_that_never_breaks_even_has_no_swing() -> None:
    """Value 49 against variable cost 40: 20% less value (39.2) never breaks even, so the
    value's swing is null (not infinite) in the table and in strict JSON, and it comes first."""
    inputs = BreakevenInputs(
        fixed_costs={"team": 1000}, variable_cost_per_customer=40, value_per_customer=49
    )
    table = sensitivity(inputs).set_index("input")
    assert table.index[0] == "value per customer"
    assert math.isnan(table.loc["value per customer", "at_minus"])
    assert table.loc["value per customer", "at_plus"] == pytest.approx(1000 / (49 * 1.2 - 40))
    assert math.isnan(table.loc["value per customer", "swing"])
    assert table.loc["variable cost per customer", "at_plus"] == pytest.approx(1000 / (49 - 48))
    assert table.loc["fixed cost: team", "swing"] == pytest.approx(2 * 0.2 * 1000 / 9)
    result = breakeven_sheet(inputs)
    rows = {row["input"]: row for row in result.to_dict()["sensitivity"]}
    assert rows["value per customer"]["swing"] is None
    assert rows["value per customer"]["at_minus"] is None
    assert "Infinity" not in result.to_json()
    assert "NaN" not in result.to_json()


def test_a_sheet_gives_today_first_and_its_inputs() -> None:
    inputs = BreakevenInputs(
        fixed_costs={"team": 8000, "tools": 2000},
        variable_cost_per_customer=20,
        value_per_customer=70,
        actual_customers=260,
    )
    result = breakeven_sheet(inputs, period="month")
    assert result.period == "month"
    assert not result.never_breaks_even
    assert result.message is None
    assert result.numbers.break_even_customers == 200
    assert result.scenarios["scenario"].tolist() == ["today"]
    assert result.scenarios.iloc[0]["break_even_customers"] == 200
    assert result.numbers.margin_of_safety == pytest.approx(60 / 260)
    assert result.volumes.empty
    document = result.to_dict()
    assert document["inputs"]["fixed_costs"] == {"team": 8000, "tools": 2000}
    assert document["numbers"]["break_even_revenue"] == pytest.approx(200 * 70)


def test_break_even_without_events_needs_every_number() -> None:
    result = breakeven_without_events(
        BreakevenParams(fixed_costs=10_000, variable_cost=20, value_per_customer=70)
    )
    assert result.numbers.break_even_customers == 200
    assert result.numbers.actual_customers is None
    assert result.sources == dict.fromkeys(
        ("fixed_costs", "variable_cost", "value", "actual"), "given"
    )
    with pytest.raises(OptionsError, match="missing: --value-per-customer"):
        breakeven_without_events(BreakevenParams(fixed_costs=10_000, variable_cost=20))
