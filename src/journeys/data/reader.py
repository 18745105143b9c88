"""Read events into the canonical shape every analysis expects, checking them on the way.

The canonical event table has ``customer_id`` (string), ``timestamp`` (UTC, without
a zone), ``timestamp_us`` (the same instant as microseconds since 1970: an exact order
key for windows on every engine), ``event`` (string), the optional ``value``,
``channel``, ``satisfaction`` and ``session_id`` (string: the session, or visit, each
event belongs to), and every other column of the source under its own name (a source
column named like one of these that is not used for it is kept as ``<name>_original``).
Rows that cannot be used are an error, or, when asked, set aside and counted; exact
duplicates are counted and only removed when asked.

Each customer's events are numbered once, when the table is built (:data:`NUMBERING`):
``position`` (1 for the customer's first event), ``previous_event``, ``next_event`` and
``since_previous_us`` (microseconds since the customer's previous event). The path
analyses read these instead of each sorting every event again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import ibis
from ibis.backends import BaseBackend
from pydantic import ValidationError

from journeys.data.canonical import NUMBERING, shape, text_columns
from journeys.data.checks import (
    NUMBER_NAMES,
    NUMBER_ROLES,
    REASONS,
    count_problems,
    inside,
    not_number_examples,
    plural,
    raise_invalid,
    raise_mixed_offsets,
    raise_not_numbers,
    raise_nothing_left,
    usable,
)
from journeys.data.columns import ColumnMapping, resolve_columns
from journeys.data.engine import connect
from journeys.data.options import ReadOptions, option_for
from journeys.data.sources import Source, describe, is_csv, open_table
from journeys.errors import DataError, OptionsError

if TYPE_CHECKING:
    from journeys.spec.models import Spec

__all__ = [
    "EVENTS_PER_NUMBERING",
    "NUMBERING",
    "EventLog",
    "LoadReport",
    "NotNumbers",
    "number_events",
    "numbered_table",
    "read_customers",
    "read_events",
    "reading_options",
]
#: On DuckDB, customers are numbered in groups of about this many events: one window over
#: every event of a very large log needs more memory than DuckDB can spill to disk.
EVENTS_PER_NUMBERING = 16_000_000


@dataclass(frozen=True)
class NotNumbers:
    """Values of a number column (value, satisfaction) that are not numbers, read as empty."""

    column: str
    rows: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class LoadReport:
    """What happened while reading: rows read and used, rows set aside and why, duplicates.

    ``not_numbers`` holds, by role, the values that are not numbers and were read as empty
    (with ``skip_invalid``); their rows are used.
    """

    source: str
    columns: dict[str, str]
    rows_read: int
    rows_used: int
    set_aside: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    duplicates_removed: bool = False
    outside_dates: int = 0
    since: str | None = None
    until: str | None = None
    not_numbers: dict[str, NotNumbers] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The report as sentences for a person.

        Examples
        --------
        >>> LoadReport("e.csv", {"customer_id": "user"}, rows_read=1, rows_used=1).lines()
        ['1 row read from e.csv (customer_id <- user); 1 used']
        """
        found = ", ".join(f"{role} <- {column}" for role, column in self.columns.items())
        lines = [
            f"{plural(self.rows_read, 'row')} read from {self.source} ({found}); "
            f"{self.rows_used:,} used"
        ]
        for reason, count in self.set_aside.items():
            if count:
                lines.append(f"{plural(count, 'row')} set aside: {REASONS.get(reason, reason)}")
        lines += [_not_numbers_line(role, found) for role, found in self.not_numbers.items()]
        if self.since or self.until:
            span = f"from {self.since or 'the start'} to {self.until or 'the end'}"
            lines.append(
                f"{plural(self.outside_dates, 'row')} left out: outside the dates asked ({span})"
            )
        one = self.duplicates == 1
        if self.duplicates and self.duplicates_removed:
            lines.append(f"{plural(self.duplicates, 'exact duplicate row')} removed")
        elif self.duplicates:
            lines.append(
                f"{plural(self.duplicates, 'row')} "
                f"{'is an exact duplicate' if one else 'are exact duplicates'} of another row "
                f"and {'was' if one else 'were'} kept (use {option_for('dedupe')} to remove "
                f"{'it' if one else 'them'})"
            )
        return lines


def _not_numbers_line(role: str, found: NotNumbers) -> str:
    one = found.rows == 1
    what = NUMBER_NAMES[role]
    return (
        f"{plural(found.rows, 'row')} {'has' if one else 'have'} a {what} that is not a number "
        f"(such as '{found.examples[0]}' in column '{found.column}'); "
        f"{'its' if one else 'their'} {what} was left empty"
    )


@dataclass(frozen=True)
class EventLog:
    """Events in canonical form, ready for every analysis, and how they were read.

    With a journey spec applied (:func:`journeys.apply_spec`), each event also has its
    ``touchpoint``, ``stage``, ``owner`` and ``touchpoint_channel`` (null when unmapped)
    and each customer a ``persona``; ``spec`` is then the spec.

    The :data:`NUMBERING` columns number each customer's events in ``table``: a table
    that keeps some of a customer's events and not others must be numbered again
    (:func:`number_events`) before it is given to the path analyses.
    """

    table: ibis.Table
    report: LoadReport
    spec: Spec | None = None
    unmapped_events: int = 0

    @cached_property
    def event_names(self) -> frozenset[str]:
        """Every event name in the log (asked of the engine once per log)."""
        names = self.table.select("event").distinct().to_pyarrow().column("event").to_pylist()
        return frozenset(str(name) for name in names)

    @property
    def has_value(self) -> bool:
        """Whether the events carry a value (revenue) column."""
        return "value" in self.table.columns

    def require_spec(self, what: str) -> Spec:
        """The spec; an error saying that ``what`` needs one when there is none."""
        if self.spec is None:
            raise OptionsError(
                f"{what} needs a journey spec",
                hint="pass --spec SPEC (or a spec whose data section names these events)",
                code="needs-spec",
            )
        return self.spec

    @property
    def has_satisfaction(self) -> bool:
        """Whether the events carry a satisfaction score column."""
        return "satisfaction" in self.table.columns


def read_events(
    source: Source,
    options: ReadOptions | None = None,
    *,
    connection: BaseBackend | None = None,
    every_row_is: str | None = None,
    **values: Any,
) -> EventLog:
    """Read, check and put into canonical form the events in ``source``.

    Parameters
    ----------
    source
        A file (CSV, Parquet, JSON/NDJSON, DuckDB, whitespace-separated text), a database
        URL with ``table``, an Ibis table, a pyarrow table or a pandas DataFrame.
    options
        How to read them (:class:`journeys.ReadOptions`); its fields may also be given as
        keywords (``time_format="%Y%m%d"``, ``skip_invalid=True``, ``since="2024-01-01"``).
        Unset columns are detected where unambiguous; all times become UTC; rows that
        cannot be used stop the reading or, with ``skip_invalid``, are set aside and
        counted; exact duplicates are counted and removed with ``dedupe``; events outside
        ``since``/``until`` are left out and counted.
    connection
        An open Ibis connection to use instead of connecting to ``options.engine``.
    every_row_is
        The event name of every row when the source has no event column (a transaction
        log in which every row is a purchase, say).

    Examples
    --------
    >>> events = read_events("tests/data/simple_shop.csv")  # doctest: +SKIP
    >>> events.report.rows_used  # doctest: +SKIP
    35381
    """
    options = reading_options(options, values)
    con = connection if connection is not None else connect(options.engine)
    name = describe(source, options.format)
    raw = open_table(
        con, source, table=options.table, format=options.format, delimiter=options.delimiter
    )
    mapping = resolve_columns(
        list(raw.columns), options.columns, name, event_required=every_row_is is None
    )
    if is_csv(source, options.format):
        raw = open_table(
            con,
            source,
            format=options.format,
            delimiter=options.delimiter,
            text_columns=text_columns(mapping),
        )
    shaped = shape(
        raw,
        mapping,
        options.timezone,
        name,
        raw.get_backend().name,
        options.time_format,
        every_row_is,
    )
    since, until = options.bounds()
    counts = count_problems(shaped, since, until)
    rows_read = counts.pop("rows")
    outside = counts.pop("outside_dates")
    if rows_read == 0:
        raise DataError(f"{name} has no rows", hint="give a file with events in it", code="empty")
    if counts.pop("mixed_offsets"):
        raise_mixed_offsets(shaped, mapping, name)
    not_numbers = {role: counts.pop(f"not_number_{role}", 0) for role in NUMBER_ROLES}
    invalid = {reason: count for reason, count in counts.items() if count}
    if invalid and not options.skip_invalid:
        raise_invalid(shaped, mapping, name, invalid)
    read_as_empty = _values_not_numbers(shaped, mapping, name, options, not_numbers)
    kept = shaped.filter(usable(shaped)) if invalid else shaped
    if since is not None or until is not None:
        kept = kept.filter(inside(kept, since, until))
    kept = kept.drop(*(column for column in kept.columns if column.startswith("__")))
    distinct_rows = kept.distinct()
    rows_kept = rows_read - sum(invalid.values()) - outside
    if rows_kept == 0:
        raise_nothing_left(name, options, invalid, outside)
    duplicates = rows_kept - int(distinct_rows.count().execute())
    if options.dedupe and duplicates:
        kept = distinct_rows
    report = LoadReport(
        source=name,
        columns=mapping.as_dict(),
        rows_read=rows_read,
        rows_used=rows_kept - (duplicates if options.dedupe else 0),
        set_aside=invalid,
        duplicates=duplicates,
        duplicates_removed=options.dedupe and duplicates > 0,
        outside_dates=outside,
        since=None if options.since is None else str(options.since),
        until=None if options.until is None else str(options.until),
        not_numbers=read_as_empty,
    )
    groups = 1
    if raw.get_backend().name == "duckdb":
        groups = max(1, -(-report.rows_used // EVENTS_PER_NUMBERING))
    if groups == 1:
        return EventLog(table=number_events(kept).cache(), report=report)
    # Each group's window reads the source: read and check it once, not once per group.
    source = kept.cache()
    numbered = number_events(source, groups=groups).cache()
    source.release()
    return EventLog(table=numbered, report=report)


def _values_not_numbers(
    shaped: ibis.Table,
    mapping: ColumnMapping,
    name: str,
    options: ReadOptions,
    counts: dict[str, int],
) -> dict[str, NotNumbers]:
    """Stop at values that are not numbers or, with ``skip_invalid``, say which were left empty."""
    since, until = options.bounds()
    found = {}
    for role, rows in counts.items():
        if not rows:
            continue
        column = str(getattr(mapping, role))
        examples = not_number_examples(shaped, role, since, until)
        if not options.skip_invalid:
            raise_not_numbers(name, role, column, rows, examples)
        found[role] = NotNumbers(column, rows, tuple(text for _, text in examples))
    return found


def number_events(table: ibis.Table, *, groups: int = 1) -> ibis.Table:
    """Add the :data:`NUMBERING` columns: each customer's events numbered in time order.

    Events at the same time are ordered by their name, as every path analysis orders
    them; two events with the same name at the same time are interchangeable there.
    With ``groups`` above 1, customers are split into that many groups (by a hash of
    their id) and each group is numbered by its own window, so that no window holds
    every event at once; the numbering is the same.

    Examples
    --------
    >>> import pyarrow as pa
    >>> rows = {"customer_id": ["a", "a", "a"], "timestamp_us": [5, 1, 5],
    ...         "event": ["pay", "home", "cart"]}
    >>> numbered = number_events(ibis.memtable(pa.table(rows))).order_by("position")
    >>> numbered.to_pyarrow().column("event").to_pylist()
    ['home', 'cart', 'pay']
    """
    if groups > 1:
        group = table.customer_id.hash() % groups
        parts = [table.filter(group == k) for k in range(groups - 1)]
        parts.append(table.filter(~group.isin(list(range(groups - 1)))))
        return ibis.union(*(number_events(part) for part in parts))
    order = ibis.window(group_by="customer_id", order_by=["timestamp_us", "event"])
    return table.mutate(
        position=ibis.row_number().over(order) + 1,
        previous_event=table.event.lag().over(order),
        next_event=table.event.lead().over(order),
        since_previous_us=table.timestamp_us - table.timestamp_us.lag().over(order),
    )


def numbered_table(events: EventLog) -> ibis.Table:
    """The events with their :data:`NUMBERING` columns (numbered now if a caller built the
    log without :func:`read_events`)."""
    table = events.table
    return table if all(name in table.columns for name in NUMBERING) else number_events(table)


def reading_options(options: ReadOptions | None, values: dict[str, Any]) -> ReadOptions:
    """Reading options from a model and/or keywords; mistakes become clear errors."""
    try:
        given = ReadOptions.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in error.errors(include_url=False)
        )
        raise OptionsError(f"invalid reading options: {problems}", code="options") from None
    return given if options is None else given.over(options)


def read_customers(
    source: Source,
    *,
    customer_id: str = "customer_id",
    table: str | None = None,
    connection: BaseBackend,
) -> ibis.Table:
    """Read a table of customer-level columns, keyed by ``customer_id`` (as text)."""
    raw = open_table(connection, source, table=table)
    if customer_id not in raw.columns:
        raise DataError(
            f"{describe(source)}: the customer id column '{customer_id}' does not exist; "
            f"the columns are: {', '.join(raw.columns)}",
            hint="set `customer_id:` under `data.customers` in the spec",
            code="missing-column",
        )
    others = [name for name in raw.columns if name != customer_id]
    return raw.select(raw[customer_id].cast("string").name("customer_id"), *others)
