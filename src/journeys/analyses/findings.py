"""Findings: what stands out in a journey, said in words, with the numbers behind each sentence.

Findings are read off the results of other analyses, never off the events directly:

- ``drop_off``: in the funnel through the spec's stages broken down by persona, the
  persona and step whose conversion falls furthest below that of all customers (as a
  ratio). Only a persona with at least ``min_customers`` customers at the step before is
  compared, and only a drop-off that chance would explain less than once in twenty
  (Fisher's exact test of the persona against the other customers, Bonferroni-corrected
  for every persona and step compared) is a finding: a handful of customers, or a small
  persona's bad luck, cannot make one.
- ``slow_hand_off``: among consecutive stages up to the one after the purchase, the pair
  with the longest median time between first entries (timed on at least
  ``min_customers`` customers), against the median of the other pairs' medians. Later
  stages follow the rhythm of the contract (a renewal comes after a year) and are not
  flagged. When the stages on either side are owned by different departments (the
  department owning most of a stage's touchpoints), the sentence names the hand-off.
- ``hand_off_breach`` and ``hand_off_satisfaction``, when the spec declares hand-offs:
  the persona a hand-off breaches for far more often than the others, and a lower (or
  higher) score after a breach (:mod:`journeys.analyses.handoff_findings`).
- ``support_break_even``, ``support_uplift`` and ``support_change``, when the spec has a
  ``support`` section: whether support pays for itself, what supported customers do
  against comparable ones, and the measures that moved after a dated change (where the
  95% interval excludes no change).

An analysis that cannot run on the data (too few periods for support, say) gives no
finding and says why in ``warnings``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from pydantic import Field
from scipy.stats import fisher_exact

from journeys.analyses.base import Params, Result, Row, TableOf, frame_of, number, records
from journeys.analyses.breakeven import BreakevenResult, breakeven, never_breaks_even_message
from journeys.analyses.funnel import FunnelParams, FunnelResult, funnel
from journeys.analyses.registry import Analysis, stage_funnel
from journeys.analyses.timing import TimingResult, timing
from journeys.data.mapping import UNASSIGNED
from journeys.data.reader import EventLog
from journeys.errors import JourneysError
from journeys.formatting import duration_text, significant
from journeys.spec.models import Spec

MIN_CUSTOMERS = 30
# A drop-off is a finding when chance would explain it less than once in twenty.
SIGNIFICANCE = 0.05

FindingKind = Literal[
    "drop_off",
    "slow_hand_off",
    "hand_off_breach",
    "hand_off_satisfaction",
    "support_break_even",
    "support_uplift",
    "support_change",
]


class FindingsParams(Params):
    """How much evidence a finding needs."""

    min_customers: int = Field(
        default=MIN_CUSTOMERS,
        ge=1,
        description="Fewest customers behind a finding: at the step before a drop-off, or "
        "timed for a hand-off.",
    )


class Finding(Row):
    """One sentence for the reader, and the numbers behind it."""

    kind: FindingKind
    source: str = Field(description="The analysis the finding is read from.")
    text: str = Field(description="The finding in words.")
    subject: str = Field(description="What it is about: a persona id, a pair of stages, support.")
    step: str | None = Field(description="The step or pair of stages, as ids ('a -> b').")
    value: float | None = Field(
        description="The number found: a conversion, a median in days, break-even customers, "
        "an uplift, a measure after a change."
    )
    baseline: float | None = Field(
        description="What it is compared with: all customers' conversion, the other stages' "
        "median, the supported customers today, comparable customers, the measure before."
    )
    customers: int | None = Field(
        description="Customers behind it: the persona's customers at the step before, the "
        "customers timed, or supported customers per period."
    )


class FindingsResult(Result):
    """The findings, most telling first, and why any analysis gave none."""

    main_table = "findings"
    params: FindingsParams
    findings: Annotated[pd.DataFrame, TableOf(Finding)]
    warnings: list[str] = Field(description="Analyses that could not run on the data, and why.")

    def items(self) -> list[Finding]:
        """The findings as typed models."""
        return [Finding.model_validate(row) for row in records(self.findings)]

    def of(self, source: str) -> list[Finding]:
        """The findings read from one analysis (``funnel``, ``timing``, ``breakeven``)."""
        return [item for item in self.items() if item.source == source]

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        return [("findings", self.findings[["kind", "text", "customers"]])]


def findings(events: EventLog, params: FindingsParams | None = None) -> FindingsResult:
    """Read the findings off the stage funnel by persona, the stage timing and support.

    Examples
    --------
    >>> [item.text for item in findings(mapped_events).items()]  # doctest: +SKIP
    """
    params = params or FindingsParams()
    spec = events.require_spec("findings")
    found: list[Finding | None] = []
    warnings: list[str] = []
    try:
        found.append(
            persona_drop_off(
                funnel(events, FunnelParams.model_validate(stage_funnel(spec))),
                spec,
                params.min_customers,
            )
        )
        found.append(slowest_hand_off(timing(events), spec, params.min_customers))
    except JourneysError as error:
        warnings.append(f"funnel and timing: {error.message}")
    if spec.handoffs:
        from journeys.analyses.handoff_findings import hand_off_findings
        from journeys.analyses.handoffs import handoffs

        try:
            found.extend(hand_off_findings(handoffs(events), spec, params.min_customers))
        except JourneysError as error:
            warnings.append(f"hand-offs: {error.message}")
    if spec.support is not None:
        try:
            found.extend(support_findings(breakeven(events)))
        except JourneysError as error:
            warnings.append(f"support: {error.message}")
    rows = [item.model_dump() for item in found if item is not None]
    return FindingsResult(params=params, findings=frame_of(rows, Finding), warnings=warnings)


def persona_drop_off(
    result: FunnelResult, spec: Spec, min_customers: int = MIN_CUSTOMERS
) -> Finding | None:
    """The breakdown group and step whose conversion falls furthest below the whole funnel's."""
    if result.breakdown is None:
        return None
    overall = result.steps.set_index("index")["conversion_from_previous"]
    table = result.breakdown
    previous = table.groupby("by_value")["customers"].shift(1)
    candidates = table.assign(before=previous)
    candidates = candidates[(candidates["index"] > 1) & (candidates["before"] >= min_customers)]
    candidates = candidates.assign(baseline=candidates["index"].map(overall))
    candidates = candidates[candidates["baseline"] > 0]
    if candidates.empty:
        return None
    candidates = candidates.assign(p_value=_below_the_rest(candidates, result.steps))
    candidates = candidates[candidates["p_value"] < SIGNIFICANCE]
    if candidates.empty:
        return None
    ratio = candidates["conversion_from_previous"] / candidates["baseline"]
    worst = candidates.loc[ratio.sort_values(kind="stable").index[0]]
    group = str(worst["by_value"])
    steps = list(result.steps["step"])
    before, step = steps[int(worst["index"]) - 2], str(worst["step"])
    text = (
        f"{persona_label(spec, group)}: {worst['conversion_from_previous']:.0%} of those who "
        f"reach {_stage_name(spec, before)} go on to {_stage_name(spec, step)}, against "
        f"{worst['baseline']:.0%} of all customers ({p_text(float(worst['p_value']))})."
    )
    return Finding(
        kind="drop_off",
        source="funnel",
        text=text,
        subject=group,
        step=f"{_plain(before)} -> {_plain(step)}",
        value=float(worst["conversion_from_previous"]),
        baseline=float(worst["baseline"]),
        customers=int(worst["before"]),
    )


def slowest_hand_off(
    result: TimingResult, spec: Spec, min_customers: int = MIN_CUSTOMERS
) -> Finding | None:
    """The pair of stages with the longest median time between them, up to onboarding."""
    table = result.pairs[result.pairs["customers"] >= min_customers]
    last = _last_controlled_stage(spec)
    if last is not None:
        stages = [f"stage:{stage.id}" for stage in spec.stages]
        allowed = set(stages[: stages.index(f"stage:{last}") + 1])
        table = table[table["from"].isin(allowed) & table["to"].isin(allowed)]
    table = table.dropna(subset=["median_days"])
    if table.empty:
        return None
    slowest = table.loc[table["median_days"].sort_values(ascending=False, kind="stable").index[0]]
    others = table.drop(index=slowest.name)["median_days"]
    typical = float(others.median()) if not others.empty else None
    source, target = _plain(str(slowest["from"])), _plain(str(slowest["to"]))
    owners = ""
    owner_of = _stage_owners(spec)
    handing, receiving = owner_of.get(source, ""), owner_of.get(target, "")
    if handing and receiving and handing != receiving:
        owners = f" (a hand-off from {handing} to {receiving})"
    comparison = (
        "" if typical is None else f"; the other stages take a median {_days_text(typical)}"
    )
    text = (
        f"{_stage_name(spec, source)} to {_stage_name(spec, target)} takes a median "
        f"{_days_text(float(slowest['median_days']))}{owners}, the slowest step of the "
        f"journey{comparison}."
    )
    return Finding(
        kind="slow_hand_off",
        source="timing",
        text=text,
        subject=f"{source} -> {target}",
        step=f"{source} -> {target}",
        value=float(slowest["median_days"]),
        baseline=typical,
        customers=int(slowest["customers"]),
    )


def support_findings(result: BreakevenResult) -> list[Finding]:
    """Whether support pays for itself, its uplift, and what moved after each dated change."""
    found = [_verdict(result)]
    if result.uplift is not None:
        retained = result.uplift.row("retained")
        period = result.period
        found.append(
            Finding(
                kind="support_uplift",
                source="breakeven",
                text=(
                    f"Customers supported in a {period} are still active "
                    f"{result.uplift.outcome_periods} {period}s later "
                    f"{retained['uplift'] * 100:+.1f} points more often than comparable "
                    f"unsupported ones (95% interval {retained['ci_low'] * 100:+.1f} to "
                    f"{retained['ci_high'] * 100:+.1f}; observational)."
                ),
                subject="support",
                step="retained",
                value=number(retained["uplift"]),
                baseline=number(retained["comparable"]),
                customers=result.uplift.supported_customer_periods,
            )
        )
    for change in result.changes:
        table = change.table
        moved = records(table[(table["ci_low"] > 0) | (table["ci_high"] < 0)])
        if not moved:
            continue
        measures = "; ".join(
            f"{row['measure']} {significant(row['before'])} to {significant(row['after'])}"
            for row in moved
        )
        first = moved[0]
        found.append(
            Finding(
                kind="support_change",
                source="breakeven",
                text=f"After {change.name} ({change.date}): {measures} "
                "(95% intervals exclude no change).",
                subject=change.name,
                step=str(first["measure"]),
                value=number(first["after"]),
                baseline=number(first["before"]),
                customers=None,
            )
        )
    return found


def _verdict(result: BreakevenResult) -> Finding:
    numbers = result.numbers
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
            f"{result.period} to break even and serves {numbers.actual_customers:,.0f}{safety}."
        )
    else:
        text = never_breaks_even_message(numbers).capitalize() + "."
    actual = numbers.actual_customers
    return Finding(
        kind="support_break_even",
        source="breakeven",
        text=text,
        subject="support",
        step=None,
        value=numbers.break_even_customers_exact,
        baseline=actual,
        customers=round(actual) if actual is not None else None,
    )


def _below_the_rest(candidates: pd.DataFrame, steps: pd.DataFrame) -> pd.Series:
    """For each group and step: how likely a conversion this far below the rest is by chance.

    Fisher's exact test (one-sided) of the group's customers who go on against the other
    customers', with Bonferroni's correction for the number of groups and steps compared,
    so that a small persona's bad luck is not reported as a finding.
    """
    overall = steps.set_index("index")["customers"]
    tested = len(candidates)
    p_values = []
    for position, before_value, after_value in zip(
        candidates["index"], candidates["before"], candidates["customers"], strict=True
    ):
        before, after, step = int(before_value), int(after_value), int(position)
        rest_before = int(overall[step - 1]) - before
        rest_after = int(overall[step]) - after
        table = [[after, before - after], [rest_after, max(rest_before - rest_after, 0)]]
        _, p_value = fisher_exact(table, alternative="less")
        p_values.append(min(1.0, float(p_value) * tested))
    return pd.Series(p_values, index=candidates.index)


def p_text(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def _days_text(days: float) -> str:
    """Days as a person reads them: 8.9 days, 3.5 h, 46 min."""
    return f"{days:.1f} days" if days >= 2 else duration_text(days * 86400)


def _last_controlled_stage(spec: Spec) -> str | None:
    """The stage after the one where the purchase milestone first happens."""
    milestone = spec.milestone("purchase")
    if milestone is None:
        return None
    names = set(milestone.events)
    stages = {
        t.stage for t in spec.touchpoints if t.id in milestone.touchpoints or set(t.events) & names
    }
    order = [stage.id for stage in spec.stages]
    positions = [order.index(stage) for stage in stages if stage in order]
    if not positions:
        return None
    return order[min(min(positions) + 1, len(order) - 1)]


def _stage_owners(spec: Spec) -> dict[str, str]:
    """The department owning most of each stage's touchpoints."""
    owners: dict[str, dict[str, int]] = {}
    for touchpoint in spec.touchpoints:
        if touchpoint.owner:
            counts = owners.setdefault(touchpoint.stage, {})
            counts[touchpoint.owner] = counts.get(touchpoint.owner, 0) + 1
    return {stage: max(counts, key=lambda o: counts[o]) for stage, counts in owners.items()}


def persona_label(spec: Spec, group: str) -> str:
    if group == UNASSIGNED:
        return "Customers without a persona"
    names = {persona.id: persona.name for persona in spec.personas}
    return f"{names[group]} ({group})" if group in names else group


def _stage_name(spec: Spec, step: str) -> str:
    stage = _plain(step)
    names = {candidate.id: candidate.name for candidate in spec.stages}
    return names.get(stage, stage)


def _plain(step: str) -> str:
    return step.removeprefix("stage:")


ANALYSIS = Analysis(
    params=FindingsParams,
    result=FindingsResult,
    run=findings,
    needs_spec=True,
)
