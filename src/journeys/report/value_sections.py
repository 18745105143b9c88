"""Report sections about money: customer lifetime value and the break-even of support."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pandas as pd

from journeys.analyses.breakeven import breakeven, never_breaks_even_message
from journeys.analyses.clv import ClvParams, clv
from journeys.data.reader import EventLog
from journeys.errors import JourneysError
from journeys.plots.breakeven import (
    change_figure,
    cost_volume_profit_figure,
    scenarios_figure,
    tornado_figure,
    uplift_figure,
)
from journeys.plots.clv import holdout_figure, value_figure
from journeys.report.findings import Finding
from journeys.report.parts import Section, figure_html, table_html

HOLDOUT_SHARE = 0.25
MONEY = "{:,.0f}".format
Formats = dict[str, str | Callable[[Any], str]]


def clv_section(events: EventLog, findings: list[Finding]) -> Section | None:
    """BG/NBD and Gamma-Gamma on every customer, checked on the last quarter of the data."""
    spec = events.spec
    if spec is None or spec.milestone("purchase") is None:
        return None
    try:
        result = clv(events, ClvParams(time_unit="week"))
        first = min(result.customers["first_purchase"])
        last = result.calibration_end
        cut = first + (last - first) * (1 - HOLDOUT_SHARE)
        check = clv(events, ClvParams(time_unit="week", calibration_end=cut))
    except JourneysError as error:
        return Section(
            id="clv",
            title="Customer lifetime value",
            intro=f"Not computed: {html.escape(error.message)}",
        )
    top = result.deciles.iloc[0] if not result.deciles.empty else None
    intro = (
        f"BG/NBD purchase model fitted on {result.customers_fitted:,} customers "
        f"({result.repeat_customers:,} bought more than once); they are expected to make "
        f"{result.total_expected_purchases:,.0f} purchases over the next year."
    )
    if result.total_clv is None:
        intro += " The purchases carry no value, so spend and lifetime value are not estimated."
    else:
        intro += (
            " With the Gamma-Gamma spend model, their expected value over the next year is "
            f"{MONEY(result.total_clv)}."
        )
    if top is not None and pd.notna(top["share_of_clv"]):
        intro += f" The most valuable tenth of customers holds {top['share_of_clv']:.0%} of it."
    for warning in result.warnings:
        intro += f" Note: {html.escape(warning)}."
    holdout = check.holdout
    if holdout is not None:
        total = holdout.iloc[-1]
        intro += (
            f" Checked by fitting up to {check.calibration_end} only: "
            f"{total['bgnbd_predicted']:,.0f} purchases predicted for the "
            f"{check.holdout_length:.0f} weeks after, {total['actual_purchases']:,.0f} "
            "made."
        )
    parameters = [
        {"model": name, **fitted.params, "log_likelihood": fitted.log_likelihood}
        for name, fitted in (("BG/NBD", result.bgnbd), ("Gamma-Gamma", result.gamma_gamma))
        if fitted is not None
    ]
    value = value_figure(result)
    figures = [figure_html(value)] if value is not None else []
    tables = [table_html(pd.DataFrame(parameters))]
    check_figure = holdout_figure(check)
    if holdout is not None and check_figure is not None:
        figures.insert(0, figure_html(check_figure))
        tables.append(
            table_html(
                holdout,
                {
                    "actual_purchases": "{:.2f}",
                    "bgnbd_predicted": "{:.2f}",
                    "pareto_nbd_predicted": "{:.2f}",
                },
            )
        )
    customers = result.customers.head(10)[
        ["customer_id", "frequency", "recency", "T", "p_alive", "expected_purchases", "clv"]
    ]
    tables.append(
        table_html(
            customers,
            {
                "p_alive": "{:.0%}",
                "clv": MONEY,
                "recency": "{:.1f}",
                "T": "{:.1f}",
                "expected_purchases": "{:.1f}",
            },
        )
    )
    return Section(
        id="clv", title="Customer lifetime value", intro=intro, figures=figures, tables=tables
    )


def support_section(events: EventLog, findings: list[Finding]) -> Section | None:
    """Break-even of support, what support is associated with, scenarios and changes."""
    spec = events.spec
    if spec is None or spec.support is None:
        return None
    try:
        result = breakeven(events)
    except JourneysError as error:
        return Section(
            id="support",
            title="Support: break-even and impact",
            intro=f"Not computed: {html.escape(error.message)}",
        )
    numbers = result.numbers
    period = result.period
    if numbers.breaks_even and numbers.actual_customers is not None:
        # A margin of safety needs customers to measure it against; profit does not.
        pays = (numbers.profit_at_actual or 0.0) >= 0
        verdict = "pays for itself" if pays else "does not pay for itself"
        safety = (
            f" (margin of safety {numbers.margin_of_safety:.0%})"
            if numbers.margin_of_safety is not None
            else ""
        )
        text = (
            f"Support {verdict}: it needs {numbers.break_even_customers:,} supported customers a "
            f"{period} to break even and serves {numbers.actual_customers:,.0f}{safety}."
        )
    else:
        text = never_breaks_even_message(numbers).capitalize() + "."
    findings.append(
        Finding(
            kind="support_break_even",
            text=text,
            subject="support",
            step="",
            value=_or_nan(numbers.break_even_customers_exact),
            baseline=_or_nan(numbers.actual_customers),
        )
    )
    intro = html.escape(text) + (
        f" Value of a supported customer per {period}: {numbers.value_per_customer:,.2f} "
        f"({html.escape(result.sources['value'])}); variable cost "
        f"{numbers.variable_cost_per_customer:,.2f}; "
        f"fixed costs {MONEY(numbers.fixed_costs)} a {period}."
    )
    figures = [figure_html(cost_volume_profit_figure(result)), figure_html(tornado_figure(result))]
    tables = [table_html(result.to_pandas(), {"value": "{:,.4g}".format})]
    scenarios = scenarios_figure(result)
    if scenarios is not None:
        figures.append(figure_html(scenarios))
        tables.append(
            table_html(
                result.scenarios[
                    [
                        "scenario",
                        "fixed_costs",
                        "variable_cost_per_customer",
                        "value_per_customer",
                        "break_even_customers",
                        "margin_of_safety",
                        "profit_at_actual",
                    ]
                ],
                _money_formats(),
            )
        )
    if not result.channels.empty:
        tables.append(table_html(result.channels, _money_formats()))
    if result.uplift is not None:
        uplift = result.uplift
        retained = uplift.row("retained")
        finding_text = (
            f"Customers supported in a {period} are still active {uplift.outcome_periods} "
            f"{period}s later {retained['uplift'] * 100:+.1f} points more often than comparable "
            f"unsupported ones (95% interval {retained['ci_low'] * 100:+.1f} to "
            f"{retained['ci_high'] * 100:+.1f}; observational)."
        )
        findings.append(
            Finding(
                kind="support_uplift",
                text=finding_text,
                subject="support",
                step="retained",
                value=float(retained["uplift"]),
                baseline=float(retained["comparable"]),
            )
        )
        intro += (
            " "
            + html.escape(finding_text)
            + (
                " Comparable means the same persona and the same number of purchases so far; "
                "customers choose to contact support, so this is an association, not a proof."
            )
        )
        figures.append(figure_html(uplift_figure(uplift)))
        tables.append(
            table_html(
                uplift.table,
                {
                    "supported": "{:,.3g}".format,
                    "comparable": "{:,.3g}".format,
                    "uplift": "{:+,.3g}".format,
                    "ci_low": "{:+,.3g}".format,
                    "ci_high": "{:+,.3g}".format,
                    "p_value": "{:.2g}".format,
                },
            )
        )
    for change in result.changes:
        figures.append(figure_html(change_figure(change)))
        tables.append(
            table_html(
                change.table,
                {
                    "before": "{:,.3g}".format,
                    "after": "{:,.3g}".format,
                    "difference": "{:+,.3g}".format,
                    "ci_low": "{:+,.3g}".format,
                    "ci_high": "{:+,.3g}".format,
                    "p_value": "{:.2g}".format,
                },
            )
        )
        significant = change.table[(change.table["ci_low"] > 0) | (change.table["ci_high"] < 0)]
        if not significant.empty:
            moved = "; ".join(
                f"{row.measure} {row.before:,.3g} to {row.after:,.3g}"
                for row in significant.itertuples()
            )
            findings.append(
                Finding(
                    kind="support_change",
                    text=f"After {change.name} ({change.date}): {moved} "
                    "(95% intervals exclude no change).",
                    subject=change.name,
                    step="",
                    value=float(significant.iloc[0]["after"]),
                    baseline=float(significant.iloc[0]["before"]),
                )
            )
    return Section(
        id="support",
        title="Support: break-even and impact",
        intro=intro,
        figures=figures,
        tables=tables,
    )


def _or_nan(value: float | None) -> float:
    """A number for a finding: NaN where there is none (zero stays zero)."""
    return float("nan") if value is None else float(value)


def _money_formats() -> Formats:
    money: Formats = dict.fromkeys(("fixed_costs", "break_even_revenue", "profit_at_actual"), MONEY)
    money |= {
        "variable_cost_per_customer": "{:,.2f}",
        "value_per_customer": "{:,.2f}",
        "contribution_margin": "{:,.2f}",
        "margin_of_safety": "{:.0%}",
        "contribution_margin_ratio": "{:.0%}",
        "break_even_customers": "{:,.0f}",
        "break_even_customers_exact": "{:,.1f}",
        "actual_customers": "{:,.0f}",
        "margin_of_safety_customers": "{:,.0f}",
        "contacts_per_customer": "{:.2f}",
    }
    return money
