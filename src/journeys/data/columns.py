"""Find which columns of a table hold the customer, the time, the event and the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from journeys.data.options import ROLES, Columns, option_for
from journeys.errors import DataError

CANDIDATES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id",
        "user_id",
        "client_id",
        "customer",
        "user",
        "userid",
        "person_id",
    ),
    "timestamp": ("timestamp", "ts", "event_time", "event_timestamp", "date", "datetime", "time"),
    "event": ("event", "event_name", "action", "event_type", "activity"),
    "value": ("value", "revenue", "amount"),
    "channel": ("channel",),
    "satisfaction": ("satisfaction", "csat", "nps"),
    "session": ("session_id", "session", "sessionid", "user_session", "visit_id"),
}
REQUIRED = ("customer_id", "timestamp", "event")


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column holds each role; optional roles may be None."""

    customer_id: str
    timestamp: str
    event: str | None
    value: str | None = None
    channel: str | None = None
    satisfaction: str | None = None
    session: str | None = None

    def as_dict(self) -> dict[str, str]:
        """Roles that are present, mapped to their source columns."""
        return {role: getattr(self, role) for role in ROLES if getattr(self, role) is not None}


def resolve_columns(
    available: Sequence[str], given: Columns, source: str, *, event_required: bool = True
) -> ColumnMapping:
    """Match the roles to columns: given names are checked, the others detected.

    A required role (customer id, timestamp, event) that is missing or ambiguous is an
    error naming the option that settles it; an optional role is only taken when
    exactly one candidate column is present. With ``event_required=False`` (a log in
    which every row is the same kind of event, such as a transaction log) a missing
    event column is allowed.
    """
    required = REQUIRED if event_required else ("customer_id", "timestamp")
    by_lower = {name.lower(): name for name in available}
    listing = ", ".join(available)
    found: dict[str, str | None] = {}
    for role, candidates in CANDIDATES.items():
        chosen = getattr(given, role)
        if chosen is not None:
            if chosen not in available:
                raise DataError(
                    f"{source}: the {role.replace('_', ' ')} column '{chosen}' does not exist; "
                    f"the columns are: {listing}",
                    hint=f"name an existing column with {option_for(role)}",
                    code="missing-column",
                )
            found[role] = chosen
            continue
        present = [by_lower[name] for name in candidates if name in by_lower]
        present = [name for name in present if name not in found.values()]
        if len(present) == 1:
            found[role] = present[0]
        elif role in required and not present:
            raise DataError(
                f"{source}: no column for the {role.replace('_', ' ')} was found "
                f"(looked for {', '.join(candidates)}); the columns are: {listing}",
                hint=f"say which column it is with {option_for(role)}",
                code="missing-column",
            )
        elif role in required:
            raise DataError(
                f"{source}: more than one column could be the {role.replace('_', ' ')}: "
                f"{', '.join(present)}",
                hint=f"say which one with {option_for(role)}",
                code="ambiguous-column",
            )
        else:
            found[role] = None
    return ColumnMapping(
        customer_id=str(found["customer_id"]),
        timestamp=str(found["timestamp"]),
        event=found["event"],
        value=found["value"],
        channel=found["channel"],
        satisfaction=found["satisfaction"],
        session=found["session"],
    )
