"""Assemble the report: run each section, render figures and tables, embed plotly.js once."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs

from journeys import __version__
from journeys.analyses.funnel import FunnelParams, funnel
from journeys.analyses.journey_map import journey_map
from journeys.analyses.kpis import kpis
from journeys.analyses.loops import loops
from journeys.analyses.paths import PathsParams, paths
from journeys.analyses.retention import RetentionParams, retention
from journeys.analyses.step_matrix import StepMatrixParams, step_matrix
from journeys.analyses.timing import timing
from journeys.analyses.transitions import transitions
from journeys.data.reader import EventLog
from journeys.errors import OptionsError
from journeys.formatting import duration_text
from journeys.plots import plot
from journeys.report.findings import Finding, persona_drop_off, slowest_hand_off
from journeys.report.parts import Section, figure_html, table_html
from journeys.report.value_sections import clv_section, support_section

Progress = Callable[[Sequence[str]], Iterable[str]]


@dataclass
class Report:
    """Everything the template needs, and the findings (for tests and other tools)."""

    title: str
    sections: list[Section]
    findings: list[Finding]
    load_lines: list[str]


def build_report(events: EventLog, progress: Progress | None = None) -> Report:
    """Run every section's analysis on ``events`` (with a spec applied)."""
    spec = events.spec
    if spec is None:
        raise OptionsError("the report needs a journey spec", hint="journeys report SPEC")
    builders: dict[str, Callable[[EventLog, list[Finding]], Section | None]] = {
        "kpis": _kpi_section,
        "journey map": _map_section,
        "funnel": _funnel_section,
        "paths": _paths_section,
        "retention": _retention_section,
        "timing": _timing_section,
        "customer value": clv_section,
        "support": support_section,
    }
    walk: Iterable[str] = progress(list(builders)) if progress else builders
    findings: list[Finding] = []
    built = [builders[name](events, findings) for name in walk]
    sections = [section for section in built if section is not None]
    lines = events.report.lines()
    if events.unmapped_events:
        lines.append(f"{events.unmapped_events:,} events match no touchpoint of the spec")
    return Report(title=spec.name, sections=sections, findings=findings, load_lines=lines)


def write_report(events: EventLog, path: str | Path, progress: Progress | None = None) -> Report:
    """Build the report and write it as one self-contained HTML file."""
    report = build_report(events, progress)
    environment = Environment(
        loader=PackageLoader("journeys.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    template = environment.get_template("report.html.j2")
    page = template.render(
        report=report,
        plotly_js=get_plotlyjs(),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
    Path(path).write_text(page, encoding="utf-8")
    return report


def _kpi_section(events: EventLog, findings: list[Finding]) -> Section:
    result = kpis(events)
    values = result.model_dump()
    cards = [
        ("Customers", f"{values['customers']:,}"),
        ("Events", f"{values['events']:,}"),
    ]
    if values.get("purchasers") is not None:
        cards.append(("Purchasers", f"{values['purchasers']:,}"))
    if values.get("median_days_to_purchase") is not None:
        cards.append(("Median days to purchase", f"{values['median_days_to_purchase']:.1f}"))
    if values.get("repeat_purchase_rate") is not None:
        cards.append(("Repeat-purchase rate", f"{values['repeat_purchase_rate']:.1%}"))
    if values.get("revenue_from_existing_share") is not None:
        cards.append(
            ("Revenue from existing customers", f"{values['revenue_from_existing_share']:.1%}")
        )
    cards.append(("Events without a touchpoint", f"{values['unmapped_events'] or 0:,}"))
    values["first_event"], values["last_event"] = result.first_event, result.last_event
    body = "".join(
        f'<div class="card"><div class="value">{html.escape(value)}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
        for label, value in cards
    )
    period = f"From {values['first_event'][:10]} to {values['last_event'][:10]}."
    return Section(
        id="kpis",
        title="Key numbers",
        intro=period,
        html=f'<div class="cards">{body}</div>',
        figures=[figure_html(plot(result))] if not result.stages.empty else [],
    )


def _map_section(events: EventLog, findings: list[Finding]) -> Section:
    result = journey_map(events)
    columns = []
    for stage in result.stages.to_dict(orient="records"):
        cards = []
        for touchpoint in result.touchpoints[result.touchpoints["stage"] == stage["stage"]].to_dict(
            orient="records"
        ):
            details = [f"{touchpoint['customers']:,} customers", f"{touchpoint['events']:,} events"]
            if touchpoint["conversion_to_next_stage"] is not None and not pd.isna(
                touchpoint["conversion_to_next_stage"]
            ):
                details.append(f"{touchpoint['conversion_to_next_stage']:.0%} reach the next stage")
            if touchpoint["mean_satisfaction"] is not None and not pd.isna(
                touchpoint["mean_satisfaction"]
            ):
                details.append(f"score {touchpoint['mean_satisfaction']:.2f}")
            meta = " · ".join(str(v) for v in (touchpoint["channel"], touchpoint["owner"]) if v)
            cards.append(
                f'<div class="touchpoint"><div class="name">{html.escape(touchpoint["name"])}</div>'
                f'<div class="meta">{html.escape(meta)}</div>'
                f'<div class="numbers">{html.escape(" · ".join(details))}</div></div>'
            )
        columns.append(
            f'<div class="stage"><h3>{html.escape(stage["name"])}</h3>'
            f'<div class="reach">{stage["customers"]:,} customers</div>{"".join(cards)}</div>'
        )
    return Section(
        id="map",
        title="Journey map",
        intro="Stages as columns; under each, its touchpoints with their volume, the share of "
        "their customers who go on to the next stage, and their satisfaction score.",
        html=f'<div class="journey-map">{"".join(columns)}</div>',
    )


def _funnel_section(events: EventLog, findings: list[Finding]) -> Section:
    spec = events.spec
    assert spec is not None
    steps = [f"stage:{stage.id}" for stage in spec.stages]
    by = "persona" if spec.personas else None
    result = funnel(events, FunnelParams(steps=steps, by=by, times=by is None))
    finding = persona_drop_off(result, spec)
    if finding is not None:
        findings.append(finding)
    overall = result if by is None else funnel(events, FunnelParams(steps=steps))
    formats: dict[str, str | Callable[[Any], str]] = {
        "conversion_from_previous": "{:.1%}",
        "conversion_from_first": "{:.1%}",
        "drop_off_rate": "{:.1%}",
        "median_seconds_from_previous": duration_text,
        "p90_seconds_from_previous": duration_text,
    }
    intro = "Customers entering each stage of the journey in order, by persona."
    if finding is not None:
        intro += f" <strong>{html.escape(finding.text)}</strong>"
    return Section(
        id="funnel",
        title="Funnel through the stages",
        intro=intro,
        figures=[figure_html(plot(result))],
        tables=[table_html(overall.steps, formats)],
    )


def _paths_section(events: EventLog, findings: list[Finding]) -> Section:
    spec = events.spec
    assert spec is not None
    anchor = "purchase" if spec.milestone("purchase") is not None else None
    flows = paths(
        events,
        PathsParams(start=anchor, depth=4, top=10, level="touchpoint", collapse_repeats=True),
    )
    matrix = step_matrix(
        events, StepMatrixParams(max_steps=10, level="touchpoint", collapse_repeats=True)
    )
    moves = transitions(events)
    loop = loops(events)
    anchor_text = "the purchase" if anchor else "each customer's first touchpoint"
    intro = (
        f"Where customers go after {anchor_text} (touchpoints, repeats merged); which touchpoint "
        "is each customer's k-th; what follows each event; and "
        f"{loop.looping_customers:,} of {loop.customers:,} customers "
        "who came back to an earlier stage."
    )
    return Section(
        id="paths",
        title="Paths and loops",
        intro=intro,
        figures=[
            figure_html(plot(flows)),
            figure_html(plot(matrix)),
            figure_html(plot(moves)),
            figure_html(plot(loop)),
        ],
        tables=[
            table_html(flows.paths, {"share": "{:.1%}", "rank": "{:.0f}"}),
            table_html(loop.returns),
        ],
    )


def _retention_section(events: EventLog, findings: list[Finding]) -> Section:
    result = retention(events, RetentionParams(period="month"))
    tables = []
    intro = "Share of each monthly cohort (by first event) active in each later month."
    if result.repeat_purchase_rate is not None:
        intro += f" Repeat-purchase rate: {result.repeat_purchase_rate:.1%}."
    if result.revenue is not None:
        tables.append(
            table_html(
                result.revenue,
                {
                    "new": "{:,.0f}",
                    "existing": "{:,.0f}",
                    "total": "{:,.0f}",
                    "existing_share": "{:.1%}",
                },
            )
        )
    return Section(
        id="retention",
        title="Retention",
        intro=intro,
        figures=[figure_html(plot(result))],
        tables=tables,
    )


def _timing_section(events: EventLog, findings: list[Finding]) -> Section:
    result = timing(events)
    finding = slowest_hand_off(result, events.spec)
    if finding is not None:
        findings.append(finding)
    intro = "Days from a customer's first entry of a stage to their first entry of the next."
    if finding is not None:
        intro += f" <strong>{html.escape(finding.text)}</strong>"
    formats: dict[str, str | Callable[[Any], str]] = {
        f"{q}_days": "{:.1f}" for q in ("p10", "p25", "median", "p75", "p90", "mean")
    }
    return Section(
        id="timing",
        title="Time between stages",
        intro=intro,
        figures=[figure_html(plot(result))],
        tables=[table_html(result.pairs, formats)],
    )
