"""The one list of analyses: every face of journeys (Python, CLI, report, docs) is derived from it.

An entry is light (a name, a module and a line of help) so that ``journeys --help``
lists every analysis without importing the engine. Its module holds the rest as
``ANALYSIS``: the parameters model, the typed result, the function that runs it, its
figures and what it needs. Adding an analysis is one module, its plot and one entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

    from journeys.analyses.base import Params, Result
    from journeys.data.reader import EventLog


@dataclass(frozen=True)
class Entry:
    """An analysis as the registry lists it, before its module is imported.

    ``name`` is its Python function, ``command`` its CLI command; ``stem`` prefixes its
    parameters and result classes (``Funnel`` gives ``FunnelParams``, ``FunnelResult``).
    """

    name: str
    command: str
    stem: str
    summary: str

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
    ),
    Entry(
        "journey_map",
        "map",
        "JourneyMap",
        "Every touchpoint under its stage: volume, conversion to the next stage, score.",
    ),
    Entry(
        "funnel",
        "funnel",
        "Funnel",
        "Customers through a sequence of steps: conversion, drop-off, time between steps.",
    ),
    Entry(
        "step_matrix",
        "steps",
        "StepMatrix",
        "The step matrix: share of customers whose k-th event is each event (and ENDED).",
    ),
    Entry(
        "paths",
        "paths",
        "Paths",
        "The most common paths after or before a step.",
    ),
    Entry(
        "transitions",
        "transitions",
        "Transitions",
        "What follows what: transitions between consecutive events, with shares and times.",
    ),
    Entry(
        "loops",
        "loops",
        "Loops",
        "Customers who come back to an earlier stage of the journey, and how often.",
    ),
    Entry(
        "retention",
        "retention",
        "Retention",
        "Cohort retention by day, week or month; repeat purchase; new versus existing revenue.",
    ),
    Entry(
        "timing",
        "timing",
        "Timing",
        "Time from the first entry of one stage (or step) to the first entry of the next.",
    ),
    Entry(
        "clv",
        "clv",
        "Clv",
        "Customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma, per customer, checked "
        "on a holdout.",
    ),
    Entry(
        "breakeven",
        "breakeven",
        "Breakeven",
        "Break-even of post-purchase support: customers needed, margin of safety, "
        "scenarios, measured effects.",
    ),
)


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


def figures(result: Result) -> list[Figure]:
    """Every figure of a result, drawn by the plots its analysis names."""
    _, analysis = analysis_of(result)
    drawn = []
    for reference in analysis.figures:
        module, _, function = reference.partition(":")
        draw = getattr(importlib.import_module(module), function)
        figure = draw(result)
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
