"""Findings the report states in words: where a persona drops off, which hand-off is slow."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from journeys.analyses.funnel import FunnelResult
from journeys.analyses.timing import TimingResult
from journeys.spec.models import Spec

MIN_CUSTOMERS = 30


@dataclass(frozen=True)
class Finding:
    """One sentence for the reader, and the numbers behind it."""

    kind: str
    text: str
    subject: str
    step: str
    value: float
    baseline: float


def persona_drop_off(result: FunnelResult, spec: Spec | None) -> Finding | None:
    """The breakdown group and step whose conversion falls furthest below the whole funnel's."""
    if result.breakdown is None:
        return None
    overall = result.steps.set_index("index")["conversion_from_previous"]
    table = result.breakdown
    previous = table.groupby("by_value")["customers"].shift(1)
    candidates = table[(table["index"] > 1) & (previous >= MIN_CUSTOMERS)].copy()
    if candidates.empty:
        return None
    candidates["baseline"] = candidates["index"].map(overall)
    candidates = candidates[candidates["baseline"] > 0]
    if candidates.empty:
        return None
    candidates["ratio"] = candidates["conversion_from_previous"] / candidates["baseline"]
    worst = candidates.sort_values("ratio", kind="stable").iloc[0]
    names = {p.id: p.name for p in spec.personas} if spec is not None else {}
    group = str(worst["by_value"])
    label = f"{names[group]} ({group})" if group in names else group
    step = str(worst["step"])
    before = table[
        (table["by_value"] == worst["by_value"]) & (table["index"] == worst["index"] - 1)
    ]["step"].iloc[0]
    text = (
        f"{label}: {worst['conversion_from_previous']:.0%} of those who reach {_plain(before)} "
        f"go on to {_plain(step)}, against {worst['baseline']:.0%} of all customers."
    )
    return Finding(
        kind="drop_off",
        text=text,
        subject=group,
        step=f"{_plain(before)} -> {_plain(step)}",
        value=float(worst["conversion_from_previous"]),
        baseline=float(worst["baseline"]),
    )


def slowest_hand_off(result: TimingResult, spec: Spec | None) -> Finding | None:
    """The pair of stages with the longest median time between them, up to onboarding.

    Only the stages up to the one after the purchase (onboarding, in most journeys) are
    compared: those steps are hand-offs that the business runs, while later stages follow
    the rhythm of the contract (a renewal comes after a year) and are not flagged.
    """
    table = result.pairs[result.pairs["customers"] >= MIN_CUSTOMERS]
    last = _last_controlled_stage(spec)
    if last is not None:
        stages = [f"stage:{stage.id}" for stage in spec.stages] if spec is not None else []
        allowed = set(stages[: stages.index(f"stage:{last}") + 1])
        table = table[table["from"].isin(allowed) & table["to"].isin(allowed)]
    if table.empty or table["median_days"].isna().all():
        return None
    slowest = table.sort_values("median_days", ascending=False, kind="stable").iloc[0]
    others = table.drop(index=slowest.name)["median_days"]
    typical = float(others.median()) if not others.empty else float("nan")
    source, target = _plain(str(slowest["from"])), _plain(str(slowest["to"]))
    owners = ""
    if spec is not None:
        owner_of = _stage_owners(spec)
        handing, receiving = owner_of.get(source, ""), owner_of.get(target, "")
        if handing and receiving and handing != receiving:
            owners = f" (a hand-off from {handing} to {receiving})"
    comparison = "" if pd.isna(typical) else f"; the other stages take a median {typical:.1f} days"
    text = (
        f"{source} to {target} takes a median {slowest['median_days']:.1f} days{owners}, "
        f"the slowest step of the journey{comparison}."
    )
    return Finding(
        kind="slow_hand_off",
        text=text,
        subject=f"{source} -> {target}",
        step=f"{source} -> {target}",
        value=float(slowest["median_days"]),
        baseline=typical,
    )


def _last_controlled_stage(spec: Spec | None) -> str | None:
    """The stage after the one where the purchase milestone first happens."""
    if spec is None or spec.milestone("purchase") is None:
        return None
    milestone = spec.milestone("purchase")
    assert milestone is not None
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


def _plain(step: str) -> str:
    return step.removeprefix("stage:")
