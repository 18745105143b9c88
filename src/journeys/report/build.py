"""Assemble the report: each section runs its analysis and hands the result to its template.

The sections, their order and the parameters they run with come from the registry
(:func:`journeys.analyses.registry.report_sections`). For each one, the analysis runs
through the registry, its figures are drawn by the plots the registry names, and the
typed result goes to the section's template under ``templates/sections/``. Every
analysis runs inside one :class:`~journeys.analyses.runner.Runner`, so a query that
two sections share (the stage funnel of the findings and of the funnel section) runs
once. The templates escape every text; plotly.js is embedded once in the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from journeys import __version__
from journeys.analyses.base import Result
from journeys.analyses.findings import Finding, FindingsResult
from journeys.analyses.registry import Entry, ReportSection, figures, load, report_sections
from journeys.analyses.runner import Runner
from journeys.data.reader import EventLog
from journeys.errors import JourneysError, OptionsError
from journeys.plots.labels import Labels
from journeys.report.display import Display, counted
from journeys.spec.models import Spec

Progress = Callable[[Sequence[str]], Iterable[str]]


@dataclass(frozen=True)
class Section:
    """One analysis in the report: its result and figures, or why it could not run."""

    id: str
    title: str
    template: str
    result: Result | None = None
    figures: list[Markup] = field(default_factory=list)
    error: JourneysError | None = None


@dataclass(frozen=True)
class Report:
    """Everything the page template needs, and the findings (for tests and other tools)."""

    spec: Spec
    sections: list[Section]
    findings: list[Finding]
    load_lines: list[str]

    @property
    def title(self) -> str:
        """The journey's name."""
        return self.spec.name


def build_report(events: EventLog, progress: Progress | None = None) -> Report:
    """Run every section's analysis on ``events`` (with a spec applied).

    Examples
    --------
    >>> report = build_report(load(spec="demo/journey.yaml"))  # doctest: +SKIP
    >>> [section.title for section in report.sections]  # doctest: +SKIP
    """
    spec = events.spec
    if spec is None:
        raise OptionsError("the report needs a journey spec", hint="journeys report SPEC")
    chosen = {section.title: (entry, section) for entry, section in report_sections()}
    walk: Iterable[str] = progress(list(chosen)) if progress else chosen
    with Runner():
        sections = [_section(*chosen[title], events, spec) for title in walk]
    found = [
        item
        for section in sections
        if isinstance(section.result, FindingsResult)
        for item in section.result.items()
    ]
    # The report travels: it names the data's file, not where it sat on this machine.
    shown = replace(events.report, source=without_folders(events.report.source))
    lines = shown.lines()
    if events.unmapped_events:
        unmapped = counted(events.unmapped_events, "event")
        verb = "matches" if events.unmapped_events == 1 else "match"
        lines.append(f"{unmapped} {verb} no touchpoint of the spec")
    return Report(spec=spec, sections=sections, findings=found, load_lines=lines)


ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~])/(?:[^\s:/]+/)+([^\s:/]+)")


def without_folders(text: str) -> str:
    """``text`` with each absolute path replaced by its last part (a file's or folder's name).

    Examples
    --------
    >>> without_folders("folder /home/ana/shop/events: 12 Parquet files")
    'folder events: 12 Parquet files'
    >>> without_folders("postgresql://reports@db/shop")
    'postgresql://reports@db/shop'
    """
    return ABSOLUTE_PATH.sub(r"\1", text)


def write_report(events: EventLog, path: str | Path, progress: Progress | None = None) -> Report:
    """Build the report and write it as one self-contained HTML file."""
    report = build_report(events, progress)
    Path(path).write_text(render(report), encoding="utf-8")
    return report


def render(report: Report) -> str:
    """The report as one HTML page: every text escaped, plotly.js embedded once."""
    environment = Environment(
        loader=PackageLoader("journeys.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    display = Display.of(report.spec)
    environment.filters.update(display.filters())
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report,
        plotly_js=Markup(get_plotlyjs()),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )


def _section(entry: Entry, section: ReportSection, events: EventLog, spec: Spec) -> Section:
    shell: dict[str, Any] = {
        "id": entry.name,
        "title": section.title,
        "template": f"sections/{section.template}",
    }
    analysis = load(entry.name)
    try:
        params = analysis.params.model_validate(section.params_for(spec))
        result = analysis.run(events, params)
    except JourneysError as error:
        return Section(**shell, error=error)
    drawn = figures(result, labels=Labels.of(spec)) if section.figures else []
    return Section(**shell, result=result, figures=[_figure_html(figure) for figure in drawn])


def _figure_html(figure: Any) -> Markup:
    """A figure as plotly's own fragment, using the page's single copy of plotly.js.

    Plotly writes the figure's data as JSON with ``<``, ``>`` and ``/`` escaped, so no
    label can close the script that holds it.
    """
    return Markup(
        figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            config={"responsive": True, "displaylogo": False},
        )
    )
