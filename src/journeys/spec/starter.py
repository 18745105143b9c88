"""A starter spec written from the data, for `journeys init`."""

from __future__ import annotations

import re

from journeys.data.reader import EventLog

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
    choose its stage; the most frequent ``limit`` event names are listed.
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
        f"name: {_quoted(source)}",
        "data:",
        f"  events: {_quoted(source)}",
        "  columns:",
        columns,
        "stages:",
        *(f"  - {{id: {stage_id}, name: {name}}}" for stage_id, name in STAGES),
        "touchpoints:",
    ]
    used: set[str] = set()
    for row in counts:
        name = str(row["event"])
        identifier = _identifier(name, used)
        lines += [
            f"  - id: {identifier}",
            f"    name: {_quoted(name)}",
            f"    stage: awareness  # {row['events']:,} events: choose the stage",
            f"    events: [{_quoted(name)}]",
        ]
    lines += ["personas: []", "milestones: []", ""]
    return "\n".join(lines)


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
