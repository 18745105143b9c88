"""Business definitions every analysis shares: purchases, calendar periods, stage entry.

- **Purchase.** The step given as ``purchase_event``; otherwise the spec's ``purchase``
  milestone; otherwise, in a log read without an event column (a transaction log),
  every row. Retention, the KPIs, customer value and the support measurements all use
  this one rule.
- **Calendar periods.** Days, weeks (Monday to Sunday), months and quarters, in UTC,
  numbered so that consecutive periods differ by one: period arithmetic is integer
  arithmetic in the engine.
- **Active in a period.** A customer with at least one event (or one return event) in it.
- **Customer-period table.** One row per customer and period in which they are active,
  with what they did in it (contacts, purchases, revenue) summed over its events:
  support's measurements are made on it, and retention's active periods are its rows.
- **Cohort.** A customer's cohort is the first period in which they are active (or, given
  a cohort event, in which they first did it).
- **Stage entry.** A customer's first event in a stage (or any step).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import ibis

from journeys.analyses.matching import Matcher, milestone_predicate
from journeys.data.reader import EventLog
from journeys.errors import OptionsError

Period = Literal["day", "week", "month", "quarter"]
#: The column of the events that holds a role, where it is not named after the role.
ROLE_COLUMNS = {"session": "session_id"}
DAY_US = 86_400_000_000
EPOCH = dt.date(1970, 1, 1)
# 1970-01-01 was a Thursday: shifting by three days makes weeks start on Monday.
WEEK_SHIFT = 3


def purchase_predicate(events: EventLog, purchase_event: str | None = None) -> ibis.Value | None:
    """Which events are purchases (see the module's definition), or None when unknown."""
    if purchase_event is not None:
        return Matcher(events).predicate(purchase_event)
    if events.spec is not None and events.spec.milestone("purchase") is not None:
        return milestone_predicate(events.table, events.spec, "purchase")
    if "event" not in events.report.columns:
        return ibis.literal(True)
    return None


def purchases(events: EventLog, purchase_event: str | None = None) -> ibis.Value:
    """Which events are purchases; an error that says how to tell when it is not known."""
    predicate = purchase_predicate(events, purchase_event)
    if predicate is None:
        raise OptionsError(
            "which events are purchases is not known",
            hint="pass --purchase-event NAME, or a spec with a `purchase` milestone; a log "
            "without an event column is read as one purchase per row",
            code="no-purchase-definition",
        )
    return predicate


def period_number(table: ibis.Table, period: Period) -> ibis.Value:
    """Each event's calendar period as a whole number (consecutive periods differ by one)."""
    day = (table.timestamp_us // DAY_US).cast("int64")
    if period == "day":
        return day
    if period == "week":
        return ((day + WEEK_SHIFT) // 7).cast("int64")
    year = table.timestamp.year().cast("int64")
    month = table.timestamp.month().cast("int64") - 1
    if period == "month":
        return year * 12 + month
    return year * 4 + month // 3


def period_start(number: int, period: Period) -> dt.date:
    """The first day of a period number."""
    if period == "day":
        return EPOCH + dt.timedelta(days=number)
    if period == "week":
        return EPOCH + dt.timedelta(days=7 * number - WEEK_SHIFT)
    if period == "month":
        return dt.date(number // 12, number % 12 + 1, 1)
    return dt.date(number // 4, 3 * (number % 4) + 1, 1)


def period_end(number: int, period: Period) -> dt.date:
    """The last day of a period number."""
    return period_start(number + 1, period) - dt.timedelta(days=1)


def period_of(day: dt.date, period: Period) -> int:
    """The number of the period a day falls in."""
    if period == "day":
        return (day - EPOCH).days
    if period == "week":
        return ((day - EPOCH).days + WEEK_SHIFT) // 7
    if period == "month":
        return day.year * 12 + day.month - 1
    return day.year * 4 + (day.month - 1) // 3


def period_label(number: int, period: Period) -> str:
    """A period as people write it: 2024-03 for a month, 2024-Q1, or its first day."""
    start = period_start(number, period)
    if period == "month":
        return start.strftime("%Y-%m")
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return start.isoformat()


def customer_periods(events: EventLog, period: Period, **sums: ibis.Value) -> ibis.Table:
    """The customer-period table: ``customer_id``, ``period`` (numbered), and each of ``sums``.

    ``sums`` are values over the events (``contacts=is_contact.cast("int64")``), summed
    over each customer's events of the period.
    """
    table = events.table
    marked = table.select("customer_id", period=period_number(table, period), **sums)
    if not sums:
        return marked.distinct()
    return marked.group_by(["customer_id", "period"]).aggregate(
        **{name: marked[name].sum() for name in sums}
    )


def first_entries(events: EventLog, steps: list[str]) -> ibis.Table:
    """Per customer, the first time (``timestamp_us``) of each step, as ``first0``, ``first1``..."""
    marked = events.table.select(
        "customer_id",
        "timestamp_us",
        **{f"s{i}": p for i, p in enumerate(Matcher(events).predicates(steps))},
    )
    return marked.group_by("customer_id").aggregate(
        **{f"first{i}": marked.timestamp_us.min(where=marked[f"s{i}"]) for i in range(len(steps))}
    )


@dataclass(frozen=True)
class Breakdown:
    """How events are grouped by a column (``--by``): the group of each event, as text.

    ``column`` is the column of the events it reads; ``chronological`` says that its groups
    are periods, shown in time order rather than by size.
    """

    column: str
    value: ibis.Value
    chronological: bool = False
    period: Period | None = None


def breakdown(events: EventLog, by: str, period: Period | None = None) -> Breakdown:
    """The groups of ``by``: a column of the events (by its name in the file or the
    name journeys gives it) or ``persona``.

    A timestamp or date column groups by calendar period (``period``, or, when not given,
    days for a span up to 31 days, weeks up to 26 weeks, months beyond) labelled by the
    period (2024-03-04, 2024-03), not one group per instant. Empty values are ``(none)``.
    The customer column is not a breakdown: every customer would be a group of one.
    """
    table = events.table
    column = _column_named(events, by)
    if column == "customer_id":
        raise OptionsError(
            f"cannot break down by '{by}': it is the customer column, so every customer "
            "would be a group of one",
            hint="name a column that customers share (a channel, a country, a plan) or persona",
            code="unknown-column",
        )
    value = table[column]
    if value.type().is_timestamp() or value.type().is_date():
        chosen = period or _period_for_span(events, column)
        return Breakdown(
            column,
            period_text(value.cast("timestamp"), chosen).fill_null("(none)"),
            chronological=True,
            period=chosen,
        )
    return Breakdown(column, value.cast("string").fill_null("(none)"))


def period_text(instant: ibis.Value, period: Period) -> ibis.Value:
    """The calendar period of a timestamp, as people write it: the first day of its day or
    week (weeks start on Monday) as 2024-03-04, its month as 2024-03, its quarter as 2024-Q1."""
    if period == "month":
        return instant.truncate("M").strftime("%Y-%m")
    if period == "quarter":
        month = instant.month()
        quarter = ((month - 1) // 3 + 1).cast("string")
        return instant.year().cast("string") + "-Q" + quarter
    return instant.truncate("W" if period == "week" else "D").strftime("%Y-%m-%d")


def _column_named(events: EventLog, by: str) -> str:
    """The column of the events that ``by`` names (its own name, or the file's name for it)."""
    table = events.table
    if by in table.columns:
        return by
    roles = {source: role for role, source in events.report.columns.items()}
    if by in roles and ROLE_COLUMNS.get(roles[by], roles[by]) in table.columns:
        return ROLE_COLUMNS.get(roles[by], roles[by])
    if by == "persona":
        raise OptionsError(
            "a breakdown by persona needs a journey spec with personas",
            hint="pass --spec SPEC whose `personas:` section describes them",
            code="unknown-column",
        )
    listing = ", ".join(visible_columns(events))
    raise OptionsError(
        f"cannot break down by '{by}': the events have no such column; they have: {listing}",
        hint="name one of those columns with --by",
        code="unknown-column",
    )


def visible_columns(events: EventLog) -> list[str]:
    """The columns of the events a user may name: the file's names for the columns journeys
    renamed, then the others (without the ones journeys adds for itself)."""
    internal = {
        "timestamp_us",
        "touchpoint_channel",
        "position",
        "previous_event",
        "next_event",
        "since_previous_us",
        "unit_customer",
        "unit_session",
    }
    source_of = {ROLE_COLUMNS.get(role, role): name for role, name in events.report.columns.items()}
    return [source_of.get(c, c) for c in events.table.columns if c not in internal]


def _period_for_span(events: EventLog, column: str) -> Period:
    value = events.table[column].cast("timestamp")
    bounds = events.table.aggregate(first=value.min(), last=value.max()).to_pyarrow().to_pylist()[0]
    if bounds["first"] is None:
        return "day"
    days = (bounds["last"] - bounds["first"]).days
    if days <= 31:
        return "day"
    return "week" if days <= 26 * 7 else "month"
