"""Findings read off the hand-offs between departments (see :mod:`journeys.analyses.findings`).

- ``hand_off_breach``: for a declared hand-off, the persona whose breach rate is furthest
  above the other customers', among personas with at least ``min_customers`` customers
  whose outcome is known (all but those still waiting). It is a finding only when
  chance would explain it less than once in twenty: Fisher's exact test (one-sided) of
  the persona's breached and met customers against the others', Bonferroni-corrected
  for every hand-off and persona compared.
- ``hand_off_satisfaction``: a declared hand-off whose breached customers score
  differently from those met, when the 95% interval of the difference excludes zero
  and each side has at least ``min_customers`` scored customers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from scipy.stats import fisher_exact

from journeys.analyses.findings import SIGNIFICANCE, Finding, p_text, persona_label
from journeys.analyses.handoffs import HandoffsResult
from journeys.formatting import duration_text, significant
from journeys.spec.models import Spec


def hand_off_findings(result: HandoffsResult, spec: Spec, min_customers: int) -> list[Finding]:
    """The breach and satisfaction findings of every declared hand-off."""
    found = _breaches(result, spec, min_customers)
    if result.satisfaction is not None:
        found += _satisfaction(result, min_customers)
    return found


def _level(row: dict[Any, Any]) -> str:
    """The service level as the spec promises it: 7 business days, 60 min."""
    seconds = float(row["within_seconds"])
    if row["business_days"]:
        days = seconds / 86400
        return f"{significant(days)} business {'day' if days == 1 else 'days'}"
    return duration_text(seconds)


def _breaches(result: HandoffsResult, spec: Spec, min_customers: int) -> list[Finding]:
    totals = {str(row["name"]): row for row in result.declared.to_dict(orient="records")}
    rows = [
        row
        for row in result.by_persona.to_dict(orient="records")
        if row["customers"] - row["waiting"] >= min_customers
    ]
    worst: dict[str, Finding] = {}
    for row in rows:
        total = totals[str(row["name"])]
        decided = int(row["customers"] - row["waiting"])
        breached = int(row["breached"])
        rest_decided = int(total["customers"] - total["waiting"]) - decided
        rest_breached = int(total["breached"]) - breached
        if rest_decided <= 0:
            continue
        counts = [[breached, decided - breached], [rest_breached, rest_decided - rest_breached]]
        _, p_value = fisher_exact(counts, alternative="greater")
        p_value = min(1.0, float(p_value) * len(rows))
        rate, rest_rate = breached / decided, rest_breached / rest_decided
        name = str(row["name"])
        if p_value >= SIGNIFICANCE:
            continue
        known = worst.get(name)
        if known is not None and (known.value or 0) - (known.baseline or 0) >= rate - rest_rate:
            continue
        worst[name] = Finding(
            kind="hand_off_breach",
            source="handoffs",
            text=(
                f"{name}: {rate:.0%} of {persona_label(spec, str(row['persona']))} customers "
                f"wait longer than {_level(total)}, against {rest_rate:.0%} of the others "
                f"({p_text(p_value)})."
            ),
            subject=str(row["persona"]),
            step=name,
            value=rate,
            baseline=rest_rate,
            customers=decided,
        )
    return list(worst.values())


def _satisfaction(result: HandoffsResult, min_customers: int) -> list[Finding]:
    assert result.satisfaction is not None
    found = []
    for row in result.satisfaction.to_dict(orient="records"):
        low, high = row["difference_low"], row["difference_high"]
        if low is None or high is None or pd.isna(low) or pd.isna(high) or low <= 0 <= high:
            continue
        if min(row["met_customers"], row["breached_customers"]) < min_customers:
            continue
        difference = float(row["difference"])
        direction = "lower" if difference < 0 else "higher"
        found.append(
            Finding(
                kind="hand_off_satisfaction",
                source="handoffs",
                text=(
                    f"Customers whose {row['name']} was late or never came score "
                    f"{significant(abs(difference))} {direction} afterwards "
                    f"({significant(row['breached_mean'])} against "
                    f"{significant(row['met_mean'])}; 95% interval of the difference "
                    f"{significant(low, sign=True)} to {significant(high, sign=True)})."
                ),
                subject="satisfaction",
                step=str(row["name"]),
                value=float(row["breached_mean"]),
                baseline=float(row["met_mean"]),
                customers=int(row["breached_customers"]),
            )
        )
    return found
