"""A starter spec written from the data, for `journeys init`."""

from __future__ import annotations

import re
from pathlib import Path

from journeys.analyses import runner
from journeys.data.mapping import DERIVED
from journeys.data.reader import EventLog

# An event named like a purchase is proposed as the purchase milestone.
PURCHASE = re.compile(
    r"(^|[_\-\s.])(purchase[sd]?|order(ed)?(_?(completed|placed|paid))?|payment_?(done|succeeded|"
    r"completed)|checkout_?(completed|done)|transaction|subscribed?|paid)($|[_\-\s.])",
    re.IGNORECASE,
)
# Columns with more distinct values than this are not offered as personas.
PERSONA_VALUES = 12

STAGES = (
    ("awareness", "Awareness"),
    ("consideration", "Consideration"),
    ("purchase", "Purchase"),
    ("onboarding", "Onboarding"),
    ("retention", "Retention and service"),
    ("loyalty", "Loyalty"),
    ("advocacy", "Advocacy"),
)


def starter_spec(events: EventLog, source: str, *, limit: int = 200) -> str:
    """YAML text: the data section as found, the usual stages, one touchpoint per event name.

    Each touchpoint is placed in the first stage with a comment asking the user to
    choose its stage; the most frequent ``limit`` event names are listed. An event whose
    name says it is a purchase (``purchase``, ``order_completed``, ``payment_done``) is
    proposed as the ``purchase`` milestone, and columns with few values are listed as
    candidates for personas.
    """
    table = events.table
    counts = (
        table.group_by("event")
        .aggregate(events=table.count())
        .order_by([table.count().desc(), "event"])
        .limit(limit)
        .to_pyarrow()
        .to_pylist()
    )
    columns = "\n".join(f"    {role}: {column}" for role, column in events.report.columns.items())
    lines = [
        "# A starter journey spec written by `journeys init` from the data.",
        "# Put each touchpoint in its stage, give it a channel and an owner, and remove",
        "# what is not a touchpoint. `journeys validate` checks the result.",
        f"name: {_quoted(Path(source).name)}",
        "data:",
        f"  events: {_quoted(source)}",
        "  columns:",
        columns,
        "stages:",
        *(f"  - {{id: {stage_id}, name: {name}}}" for stage_id, name in STAGES),
        "touchpoints:",
    ]
    used: set[str] = set()
    names = [str(row["event"]) for row in counts]
    purchase = next((name for name in names if PURCHASE.search(name)), None)
    for row, name in zip(counts, names, strict=True):
        identifier = _identifier(name, used)
        stage = "awareness  # {:,} events: choose the stage".format(row["events"])
        if name == purchase:
            stage = "purchase  # {:,} events; its name says purchase: check".format(row["events"])
        lines += [
            f"  - id: {identifier}",
            f"    name: {_quoted(name)}",
            f"    stage: {stage}",
            f"    events: [{_quoted(name)}]",
        ]
    lines += ["personas: []", *_persona_candidates(events)]
    if purchase is None:
        lines += [
            "# Name the event that is a purchase: retention, revenue and customer value count it.",
            "milestones: []",
        ]
    else:
        lines += [
            "milestones:",
            f"  - {{id: purchase, name: Purchase, events: [{_quoted(purchase)}]}}",
        ]
    return "\n".join([*lines, ""])


def _persona_candidates(events: EventLog) -> list[str]:
    """Comment lines naming columns with few values, which could define personas."""
    table = events.table
    roles = set(events.report.columns)
    candidates = [
        column
        for column, kind in table.schema().items()
        if column not in roles and column not in DERIVED and kind.is_string()
    ]
    lines: list[str] = []
    run = runner.current()
    for column in candidates:
        per_customer = table.group_by("customer_id").aggregate(values=table[column].nunique())
        values = run.frame(
            table.select(value=table[column]).distinct().order_by("value").limit(PERSONA_VALUES + 1)
        )["value"].tolist()
        if not 1 < len(values) <= PERSONA_VALUES:
            continue
        varying = int(run.scalar((per_customer["values"] > 1).sum()))
        shown = ", ".join(str(value) for value in values if value is not None)
        note = (
            "the same for every event of a customer"
            if varying == 0
            else f"changes for {varying:,} customer{'' if varying == 1 else 's'}: a persona reads "
            "their first event's value"
        )
        lines.append(f"#   {column}: {shown} ({note})")
    if not lines:
        return []
    return [
        "# Columns with few values, which could define personas, for example",
        "#   - {id: mobile, name: Mobile users, where: [{column: platform, equals: mobile}]}",
        *lines,
    ]


def _identifier(name: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_\-]+", "_", name).strip("_") or "event"
    if not re.match(r"[A-Za-z_]", base):
        base = f"e_{base}"
    identifier, suffix = base, 2
    while identifier in used:
        identifier, suffix = f"{base}_{suffix}", suffix + 1
    used.add(identifier)
    return identifier


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
