"""The one list of analyses: every face of journeys (Python, CLI, report, docs) is derived from it.

An entry is light (a name, a module, a line of help and how the report shows it) so that
``journeys --help`` lists every analysis without importing the engine. Its module holds
the rest as ``ANALYSIS``: the parameters model, the typed result, the function that runs
it, its figures and what it needs. Adding an analysis is one module, its plot and one
entry. The report's sections are the entries with a :class:`ReportSection`, in the order
of :data:`ENTRIES`, which is the order a reader takes: headline numbers, the map, what
stands out, then each analysis in depth.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from journeys.errors import OptionsError

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

    from journeys.analyses.base import Params, Result
    from journeys.data.reader import EventLog
    from journeys.spec.models import Spec


@dataclass(frozen=True)
class ReportSection:
    """How the report shows an analysis: a heading and a template fed with its result.

    Parameters
    ----------
    title
        The section's heading.
    template
        The template under ``journeys/report/templates/sections/`` that renders the result.
    params
        ``(spec) -> values`` of the parameters the report runs the analysis with; without
        it, the analysis' defaults.
    figures
        Whether the section shows the analysis' figures (the template places them).
    """

    title: str
    template: str
    params: Callable[[Spec], dict[str, Any]] | None = None
    figures: bool = True

    def params_for(self, spec: Spec) -> dict[str, Any]:
        """The parameter values the report runs the analysis with on ``spec``."""
        return self.params(spec) if self.params is not None else {}


def stage_funnel(spec: Spec) -> dict[str, Any]:
    """The funnel through the spec's stages, by persona when the spec has personas."""
    if len(spec.stages) < 2:
        raise OptionsError(
            "a funnel through the stages needs at least two stages in the spec",
            hint="add the stages of the journey to the spec's `stages:` section",
            code="needs-spec",
        )
    return {
        "steps": [f"stage:{stage.id}" for stage in spec.stages],
        "by": "persona" if spec.personas else None,
    }


def _paths_after_purchase(spec: Spec) -> dict[str, Any]:
    anchor = "purchase" if spec.milestone("purchase") is not None else None
    return {"start": anchor, "depth": 4, "top": 10, "level": "touchpoint", "collapse_repeats": True}


def _purchase_attribution(spec: Spec) -> dict[str, Any]:
    """Attribution of the purchase milestone to the touchpoints before it."""
    if spec.milestone("purchase") is None:
        raise OptionsError(
            "attribution in the report needs a milestone with id 'purchase' in the spec",
            hint="add `milestones: [{id: purchase, name: Purchase, events: [...]}]`",
            code="needs-spec",
        )
    return {"conversion": "milestone:purchase", "level": "touchpoint"}


def _trends_of_purchase(spec: Spec) -> dict[str, Any]:
    """Customers per period and, with stages and a purchase milestone, the conversion from
    entering the journey to the purchase, by persona when the spec has personas."""
    values: dict[str, Any] = {"by": "persona" if spec.personas else None}
    if spec.stages and spec.milestone("purchase") is not None:
        values["steps"] = [f"stage:{spec.stages[0].id}", "milestone:purchase"]
    return values


@dataclass(frozen=True)
class Entry:
    """An analysis as the registry lists it, before its module is imported.

    ``name`` is its Python function, ``command`` its CLI command; ``stem`` prefixes its
    parameters and result classes (``Funnel`` gives ``FunnelParams``, ``FunnelResult``);
    ``report`` is its section of the HTML report, if it has one.
    """

    name: str
    command: str
    stem: str
    summary: str
    report: ReportSection | None = None

    @property
    def module(self) -> str:
        """The module that holds the analysis."""
        return f"journeys.analyses.{self.name}"

    @property
    def exports(self) -> tuple[str, str, str]:
        """The names the ``journeys`` package exports for it."""
        return self.name, f"{self.stem}Params", f"{self.stem}Result"


ENTRIES: tuple[Entry, ...] = (
    Entry(
        "kpis",
        "kpis",
        "Kpi",
        "Headline numbers: customers, events, stage reach, purchases, revenue.",
        ReportSection("Key numbers", "kpis.html.j2"),
    ),
    Entry(
        "journey_map",
        "map",
        "JourneyMap",
        "Every touchpoint under its stage: volume, conversion to the next stage, score.",
        ReportSection("Journey map", "journey_map.html.j2", figures=False),
    ),
    Entry(
        "findings",
        "findings",
        "Findings",
        "What stands out, in words: the persona that drops off, the slowest hand-off, "
        "whether support pays for itself.",
        ReportSection("Findings", "findings.html.j2"),
    ),
    Entry(
        "funnel",
        "funnel",
        "Funnel",
        "Customers through a sequence of steps: conversion, drop-off, time between steps.",
        ReportSection("Funnel through the stages", "funnel.html.j2", stage_funnel),
    ),
    Entry(
        "paths",
        "paths",
        "Paths",
        "The most common paths after or before a step.",
        ReportSection("Paths", "paths.html.j2", _paths_after_purchase),
    ),
    Entry(
        "attribution",
        "attribution",
        "Attribution",
        "Which touchpoints earn the conversion: first and last touch, linear, position based, "
        "time decay, Markov removal effects and Shapley values, side by side.",
        ReportSection(
            "Which touchpoints earn the conversion", "attribution.html.j2", _purchase_attribution
        ),
    ),
    Entry(
        "step_matrix",
        "steps",
        "StepMatrix",
        "The step matrix: share of customers whose k-th event is each event (and ENDED).",
        ReportSection(
            "Step matrix",
            "step_matrix.html.j2",
            lambda spec: {"max_steps": 10, "level": "touchpoint", "collapse_repeats": True},
        ),
    ),
    Entry(
        "transitions",
        "transitions",
        "Transitions",
        "What follows what: transitions between consecutive events, with shares and times.",
        ReportSection("What follows what", "transitions.html.j2"),
    ),
    Entry(
        "loops",
        "loops",
        "Loops",
        "Customers who come back to an earlier stage, or go round between the touchpoints of one "
        "stage, and how often.",
        ReportSection("Loops", "loops.html.j2"),
    ),
    Entry(
        "trends",
        "trends",
        "Trends",
        "Per day, week or month: events, customers and a funnel's conversion, by segment.",
        ReportSection("Over time", "trends.html.j2", _trends_of_purchase),
    ),
    Entry(
        "retention",
        "retention",
        "Retention",
        "Cohort retention by day, week or month; repeat purchase; new versus existing revenue.",
        ReportSection("Retention", "retention.html.j2", lambda spec: {"period": "month"}),
    ),
    Entry(
        "timing",
        "timing",
        "Timing",
        "Time from the first entry of one stage (or step) to the first entry of the next.",
        ReportSection("Time between stages", "timing.html.j2"),
    ),
    Entry(
        "satisfaction",
        "satisfaction",
        "Satisfaction",
        "How customers feel: satisfaction per touchpoint, stage, channel and persona, the "
        "emotion curve, retention and repeat purchase by score, and trends.",
        ReportSection("How customers feel", "satisfaction.html.j2"),
    ),
    Entry(
        "handoffs",
        "handoffs",
        "Handoffs",
        "Hand-offs between departments: declared ones against their service level (met, late, "
        "dropped, waiting), and those the events show between owners.",
        ReportSection("Hand-offs between departments", "handoffs.html.j2"),
    ),
    Entry(
        "clv",
        "clv",
        "Clv",
        "Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma, per customer, checked "
        "on a holdout.",
        ReportSection("Customer lifetime value", "clv.html.j2", lambda spec: {"time_unit": "week"}),
    ),
    Entry(
        "clv_check",
        "clv-check",
        "ClvCheck",
        "Checks the customer-value models on data they did not see: fitted on the first part "
        "of the purchases, their predictions against what customers bought after.",
        ReportSection(
            "Checking the value model", "clv_check.html.j2", lambda spec: {"time_unit": "week"}
        ),
    ),
    Entry(
        "breakeven",
        "breakeven",
        "Breakeven",
        "Break-even of post-purchase support: customers needed, margin of safety, "
        "scenarios, measured effects.",
        ReportSection("Support: break-even and impact", "breakeven.html.j2"),
    ),
)


def report_sections() -> list[tuple[Entry, ReportSection]]:
    """The report's sections, in reading order."""
    return [(candidate, candidate.report) for candidate in ENTRIES if candidate.report is not None]


@dataclass(frozen=True)
class Option:
    """How a parameter appears on the command line when it differs from its field.

    ``name`` replaces the option named after the field; ``parse`` turns each given text into the
    field's value (``--exclude refund:2-3``); ``several`` lets one option take several
    values (``--steps a b c``).
    """

    name: str | None = None
    parse: Callable[[str], Any] | None = None
    several: bool = False
    help: str | None = None


@dataclass(frozen=True)
class Analysis:
    """Everything about one analysis that the faces of journeys derive from.

    Parameters
    ----------
    params, result
        The parameters model and the typed result.
    run
        ``run(events, params) -> result``.
    needs_spec
        Whether the analysis only makes sense with a journey spec applied.
    spec_section
        The section of the spec whose settings this analysis owns, if any.
    figures
        ``(result) -> Figure`` functions, as ``"module:function"`` (imported on use).
    options
        Command-line spellings that differ from the parameter fields.
    every_row_is
        The event of every row when the source has no event column (a transaction log).
    without_events
        ``(params) -> result`` when the analysis can also run on given numbers alone.
    exports
        Methods of the result that give a table to write as CSV (``--customers-out``),
        with their help.
    without_events_help
        What the command's help says it runs on without events.
    """

    params: type[Params]
    result: type[Result]
    run: Callable[..., Result]
    needs_spec: bool = False
    spec_section: str | None = None
    figures: tuple[str, ...] = ()
    options: dict[str, Option] = field(default_factory=dict)
    every_row_is: str | None = None
    without_events: Callable[..., Result] | None = None
    exports: dict[str, Option] = field(default_factory=dict)
    without_events_help: str = (
        "Without EVENTS and --spec, it runs on the numbers given as options alone."
    )


def entry(name: str) -> Entry:
    """The entry of an analysis, by its name or its command."""
    for candidate in ENTRIES:
        if name in (candidate.name, candidate.command):
            return candidate
    known = ", ".join(candidate.name for candidate in ENTRIES)
    raise KeyError(f"no analysis '{name}'; the analyses are: {known}")


@cache
def load(name: str) -> Analysis:
    """Import an analysis' module and return its :class:`Analysis`."""
    analysis: Analysis = importlib.import_module(entry(name).module).ANALYSIS
    return analysis


def analysis_of(result: Result) -> tuple[Entry, Analysis]:
    """The registry entry that produced ``result``."""
    for candidate in ENTRIES:
        analysis = load(candidate.name)
        if isinstance(result, analysis.result):
            return candidate, analysis
    raise TypeError(f"{type(result).__name__} is not the result of a registered analysis")


def figures(result: Result, **options: Any) -> list[Figure]:
    """Every figure of a result, drawn by the plots its analysis names.

    ``options`` (such as ``labels``, the spec's names) go to each plot that takes them.
    """
    _, analysis = analysis_of(result)
    drawn = []
    for reference in analysis.figures:
        module, _, function = reference.partition(":")
        draw = getattr(importlib.import_module(module), function)
        accepted = inspect.signature(draw).parameters
        figure = draw(result, **{k: v for k, v in options.items() if k in accepted})
        if isinstance(figure, list):
            drawn.extend(figure)
        elif figure is not None:
            drawn.append(figure)
    return drawn


def run(name: str, events: EventLog, params: Params | None = None, **values: Any) -> Result:
    """Run an analysis by name: ``run("funnel", events, steps=["a", "b"])``."""
    analysis = load(name)
    chosen = params if params is not None else analysis.params.model_validate(values)
    return analysis.run(events, chosen)
