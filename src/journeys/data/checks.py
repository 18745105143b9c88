"""The checks made while reading events: rows that cannot be used, mixed time zones, values
that are not numbers, and the messages that say which rows and what to do.

Every count is one aggregate in the engine over the shaped table (the canonical columns
with ``__timestamp_text``, ``__offset`` and one ``__<role>_text`` per number column read
from text); examples are the first few rows, fetched only when there is something to say.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt

from journeys.data.columns import ColumnMapping
from journeys.data.options import ReadOptions, option_for
from journeys.errors import DataError

REASONS = {
    "null_customer_id": "no customer id",
    "null_event": "no event name",
    "null_timestamp": "no timestamp",
    "bad_timestamp": "a timestamp that cannot be read",
}
#: The roles whose columns hold numbers; read from text, they are checked (:func:`read_number`).
NUMBER_ROLES = ("value", "satisfaction")
#: What each number role is called in a sentence.
NUMBER_NAMES = {"value": "value", "satisfaction": "satisfaction score"}
#: A number as journeys reads it from text: digits, a dot for decimals, an optional exponent.
#: Both engines read exactly these (each would also take some others, and not the same ones).
PLAIN_NUMBER = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
#: How many examples a message shows.
EXAMPLES = 3


def plural(count: int, noun: str) -> str:
    """``1 row``, ``2 rows``, ``1,024 rows``: a count and its noun, in the right number."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def text_column(role: str) -> str:
    """The shaped table's column that keeps the text a number column was read from."""
    return f"__{role}_text"


def read_number(text: ibis.Value) -> tuple[ibis.Value, ibis.Value]:
    """A text column read as numbers: the number (empty unless a plain number) and the text.

    Empty text (or only spaces) is an empty value, not a mistake; the text is kept so that
    the values that are not numbers can be counted and shown.
    """
    cleaned = text.strip().nullif("")
    number = cleaned.re_search(PLAIN_NUMBER).ifelse(
        cleaned.try_cast("float64"), ibis.null("float64")
    )
    return number, cleaned


def inside(table: ibis.Table, since: Any, until: Any) -> ibis.Value:
    """Whether each event is inside the dates asked."""
    within = ibis.literal(True)
    if since is not None:
        within &= table.timestamp >= ibis.literal(since, type=dt.Timestamp())
    if until is not None:
        within &= table.timestamp <= ibis.literal(until, type=dt.Timestamp())
    return within


def usable(shaped: ibis.Table) -> ibis.Value:
    """Whether each row has a customer, an event and a timestamp."""
    return shaped.customer_id.notnull() & shaped.event.notnull() & shaped.timestamp.notnull()


def count_problems(shaped: ibis.Table, since: Any, until: Any) -> dict[str, int]:
    """Rows, rows outside the dates, unusable rows by reason, mixed offsets, and numbers
    that are not numbers (``not_number_<role>``, among the rows kept), in one pass."""
    has_text = shaped.__timestamp_text.notnull()
    kept = usable(shaped) & inside(shaped, since, until)
    not_numbers = {
        f"not_number_{role}": (kept & _not_a_number(shaped, role)).sum()
        for role in NUMBER_ROLES
        if text_column(role) in shaped.columns
    }
    counts = shaped.aggregate(
        outside_dates=(usable(shaped) & ~inside(shaped, since, until)).sum(),
        rows=shaped.count(),
        null_customer_id=shaped.customer_id.isnull().sum(),
        null_event=shaped.event.isnull().sum(),
        null_timestamp=(~has_text).sum(),
        bad_timestamp=(has_text & shaped.timestamp.isnull()).sum(),
        with_offset=(has_text & shaped.__offset).sum(),
        without_offset=(has_text & ~shaped.__offset).sum(),
        **not_numbers,
    ).to_pyarrow()
    row = {name: int(counts[name][0].as_py() or 0) for name in counts.column_names}
    with_offset, without_offset = row.pop("with_offset"), row.pop("without_offset")
    row["mixed_offsets"] = int(with_offset > 0 and without_offset > 0)
    return row


def _not_a_number(shaped: ibis.Table, role: str) -> ibis.Value:
    return shaped[text_column(role)].notnull() & shaped[role].isnull()


def not_number_examples(
    shaped: ibis.Table, role: str, since: Any, until: Any
) -> list[tuple[int, str]]:
    """The first texts of a number column that are not numbers, each with its first row."""
    numbered = _numbered(shaped)
    text = text_column(role)
    bad = numbered.filter(
        usable(numbered) & inside(numbered, since, until) & _not_a_number(numbered, role)
    )
    firsts = (
        bad.group_by(text=bad[text])
        .aggregate(row=bad.__row.min())
        .order_by("row")
        .limit(EXAMPLES)
        .to_pyarrow()
        .to_pylist()
    )
    return [(int(item["row"]), str(item["text"])) for item in firsts]


def raise_not_numbers(
    name: str, role: str, column: str, rows: int, examples: list[tuple[int, str]]
) -> None:
    """Stop at a number column with values that are not numbers, showing some of them."""
    shown = ", ".join(f"'{text}' (row {row})" for row, text in examples)
    have = "has" if rows == 1 else "have"
    raise DataError(
        f"{name}: {plural(rows, 'row')} {have} a {NUMBER_NAMES[role]} in column '{column}' "
        f"that is not a number, such as {shown}",
        hint="write plain numbers, with a dot for decimals and no currency sign or thousands "
        f"separator (such as 12.50), or pass {option_for('skip_invalid')} to read those "
        f"{NUMBER_NAMES[role]}s as empty (they are counted)",
        code="bad-value",
    )


def _numbered(shaped: ibis.Table) -> ibis.Table:
    return shaped.mutate(__row=ibis.row_number() + 1)


def raise_nothing_left(
    name: str, options: ReadOptions, invalid: dict[str, int], outside: int
) -> None:
    """No row is left: all set aside as unusable, or all outside the dates asked."""
    if not outside:
        summary = ", ".join(
            f"{count:,} with {REASONS[reason]}" for reason, count in invalid.items()
        )
        raise DataError(
            f"{name}: every row was set aside as unusable ({summary})",
            hint="check the columns used and how timestamps are written "
            f"({option_for('time_format')})",
            code="empty",
        )
    span = f"from {options.since or 'the start'} to {options.until or 'the end'}"
    raise DataError(
        f"{name}: no events are left {span}"
        + (
            f" ({sum(invalid.values()):,} other rows were set aside as unusable)" if invalid else ""
        ),
        hint=f"check the dates given with {option_for('since')} and {option_for('until')}",
        code="empty",
    )


def raise_mixed_offsets(shaped: ibis.Table, mapping: ColumnMapping, name: str) -> None:
    numbered = _numbered(shaped)
    examples = []
    for flag in (True, False):
        sample = (
            numbered.filter(numbered.__offset == flag)
            .order_by("__row")
            .select("__row", "__timestamp_text")
            .limit(1)
            .to_pyarrow()
            .to_pylist()
        )
        examples.extend(sample)
    shown = " and ".join(f"row {e['__row']}: '{e['__timestamp_text']}'" for e in examples)
    raise DataError(
        f"{name}: column '{mapping.timestamp}' mixes timestamps with a UTC offset and "
        f"timestamps without one ({shown}), so their order cannot be trusted",
        hint="write every timestamp with an offset (or none), and give the time zone of "
        "timestamps without one with --timezone",
        code="mixed-timezones",
    )


def raise_invalid(
    shaped: ibis.Table, mapping: ColumnMapping, name: str, invalid: dict[str, int]
) -> None:
    numbered = _numbered(shaped)
    bad = numbered.filter(~usable(numbered)).order_by("__row").limit(3)
    examples = bad.select("__row", "customer_id", "event", "__timestamp_text").to_pyarrow()
    shown = "; ".join(
        f"row {row['__row']}: {_describe_row(row, mapping)}" for row in examples.to_pylist()
    )
    summary = ", ".join(f"{count:,} with {REASONS[reason]}" for reason, count in invalid.items())
    hint = "fix those rows, or pass --skip-invalid to set them aside (they are counted)"
    if "bad_timestamp" in invalid:
        hint = (
            "write timestamps as ISO 8601 (2024-03-01 14:05:00, optionally with +02:00), "
            "say how they are written with --time-format (such as %Y%m%d or %d/%m/%Y %H:%M), "
            "or pass --skip-invalid to set those rows aside (they are counted)"
        )
    raise DataError(
        f"{name}: rows that cannot be used: {summary}. First ones: {shown}",
        hint=hint,
        code="invalid-rows",
    )


def _describe_row(row: dict[str, Any], mapping: ColumnMapping) -> str:
    problems = []
    if row["customer_id"] is None:
        problems.append(f"'{mapping.customer_id}' is empty")
    if row["event"] is None:
        problems.append(f"'{mapping.event}' is empty")
    if row["__timestamp_text"] is None:
        problems.append(f"'{mapping.timestamp}' is empty")
    elif not problems:
        problems.append(f"'{mapping.timestamp}' is '{row['__timestamp_text']}'")
    return ", ".join(problems)
