"""What every analysis shares: strict parameters and typed results.

A result is a pydantic model. Its tables are pandas DataFrames in Python and arrays of
typed rows in JSON (:class:`TableOf` gives both, and the row model gives the JSON
Schema). JSON output is strict: a number that is not finite (a share of nobody, a
break-even that never comes) is written as ``null``, never ``NaN`` or ``Infinity``.
"""

from __future__ import annotations

import datetime
import json
import math
import types
from collections.abc import Iterator
from typing import Any, ClassVar, Union, get_args, get_origin

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class Params(BaseModel):
    """Base of every analysis' parameters: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Row(BaseModel):
    """One row of a result table; its fields are the table's columns, in order."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TableOf:
    """Annotate a DataFrame field of a result with the model of its rows.

    In Python the field holds a DataFrame whose columns are exactly the row model's
    fields (checked, and put in the model's order); in JSON it is an array of rows,
    with non-finite numbers written as null.
    """

    def __init__(self, row: type[Row]) -> None:
        self.row = row
        self.columns = columns(row)
        # Whole numbers that may be missing (a rank for "other paths") stay whole numbers
        # when the table is read back from JSON, as pandas' nullable integers.
        self.nullable_integers = [
            info.alias or name
            for name, info in row.model_fields.items()
            if _optional_integer(info.annotation)
        ]
        self.integers = [
            info.alias or name
            for name, info in row.model_fields.items()
            if info.annotation is int or _optional_integer(info.annotation)
        ]
        self.floats = [
            info.alias or name
            for name, info in row.model_fields.items()
            if info.annotation in (float, float | None)
        ]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        rows_schema = handler.generate_schema(list[self.row])  # type: ignore[name-defined]
        from_rows = core_schema.no_info_after_validator_function(self._from_rows, rows_schema)
        return core_schema.json_or_python_schema(
            json_schema=from_rows,
            python_schema=core_schema.no_info_plain_validator_function(self._check),
            serialization=core_schema.plain_serializer_function_ser_schema(
                self._records, when_used="json"
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(schema)

    def _from_rows(self, rows: list[Row]) -> pd.DataFrame:
        frame = pd.DataFrame([row.model_dump(by_alias=True) for row in rows], columns=self.columns)
        return frame.astype(dict.fromkeys(self.nullable_integers, "Int64"))

    def _records(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        """Rows for JSON, numbers typed as the row model says (a float stays a float)."""
        casts = {c: "float64" for c in self.floats if pd.api.types.is_integer_dtype(frame[c])}
        casts |= {c: "Int64" for c in self.integers if pd.api.types.is_float_dtype(frame[c])}
        return records(frame.astype(casts) if casts else frame)

    def _check(self, value: Any) -> pd.DataFrame:
        if isinstance(value, list):
            value = pd.DataFrame(value, columns=self.columns)
        if not isinstance(value, pd.DataFrame):
            raise TypeError(f"expected a table of {self.row.__name__}, got {type(value).__name__}")
        missing = [column for column in self.columns if column not in value.columns]
        extra = [column for column in value.columns if column not in self.columns]
        if missing or extra:
            raise ValueError(
                f"a table of {self.row.__name__} has columns {self.columns}; "
                f"missing {missing}, unexpected {extra}"
            )
        return value if list(value.columns) == self.columns else value[self.columns]


class Result(BaseModel):
    """A finished analysis: typed fields, tables for pandas and Arrow, strict JSON.

    ``main_table`` names the table that ``to_pandas`` returns and that CSV output writes.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, ser_json_inf_nan="null"
    )
    main_table: ClassVar[str]

    def to_pandas(self) -> pd.DataFrame:
        """The main table of the result."""
        frame: pd.DataFrame = getattr(self, self.main_table)
        return frame

    def to_arrow(self) -> pa.Table:
        """The main table as a pyarrow Table."""
        return pa.Table.from_pandas(self.to_pandas(), preserve_index=False)

    def to_json(self, indent: int | None = 2) -> str:
        """The result as strict JSON text (non-finite numbers are null)."""
        return self.model_dump_json(indent=indent)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON values."""
        value: dict[str, Any] = json.loads(self.to_json(indent=None))
        return value

    def tables(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """Every table of the result with its field name, main table first."""
        names = [self.main_table] + [
            name
            for name, info in type(self).model_fields.items()
            if name != self.main_table and _is_table(info.annotation, info.metadata)
        ]
        for name in names:
            frame = getattr(self, name)
            if isinstance(frame, pd.DataFrame):
                yield name, frame

    def views(self) -> list[tuple[str, pd.DataFrame]]:
        """The tables a person reads, with a title each (the command line prints these)."""
        fields = type(self).model_fields
        return [
            (name.replace("_", " "), frame)
            for name, frame in self.tables()
            if name in fields or name == self.main_table
        ]

    def scalars(self) -> dict[str, Any]:
        """The result's single numbers and words (not its tables or parameters)."""
        values = self.to_dict()
        tables = {name for name, _ in self.tables()}
        return {
            key: value
            for key, value in values.items()
            if key not in tables and key != "params" and not isinstance(value, dict | list)
        }

    def parts(self) -> list[tuple[str, pd.DataFrame]]:
        """Everything a person reads in the result, as titled tables.

        First its single numbers (``summary``, one row per measure), then its
        :meth:`views`, then whatever else the result holds that no view shows (inputs,
        sources, the columns a view leaves out), so that every part of the JSON is shown.
        """
        shown = self.views()
        scalars = {key: value for key, value in self.scalars().items() if value is not None}
        summary = [("summary", _measures(scalars))] if scalars else []
        seen = _Seen(shown + summary)
        return summary + shown + _details(self, seen)

    def __str__(self) -> str:
        from journeys.report.display import text_of

        parts = [type(self).__name__]
        for title, frame in self.parts():
            parts.append(f"{title}\n{text_of(frame, rows=REPR_ROWS)}")
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from journeys.report.display import html_of

        parts = [f"<strong>{type(self).__name__}</strong>"]
        for title, frame in self.parts():
            parts.append(html_of(frame, title, rows=REPR_ROWS))
        return "\n".join(parts)


#: Rows of each table that ``repr`` and a notebook show.
REPR_ROWS = 10


def _measures(values: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"measure": key, "value": value} for key, value in values.items()],
        columns=["measure", "value"],
    )


class _Seen:
    """The values the shown tables hold, to tell what else a result has to show.

    A single value is seen when some shown cell (or title) holds it; a list of values
    when some shown row or column holds them in that order.
    """

    def __init__(self, shown: list[tuple[str, pd.DataFrame]]) -> None:
        self.frames = [id(frame) for _, frame in shown]
        self.titles = " ".join(title for title, _ in shown)
        self.lines: list[tuple[Any, ...]] = []
        for _, frame in shown:
            # Keyed in Python: a missing number must stay None (NaN is not equal to itself,
            # and a DataFrame would turn None back into NaN).
            columns = [tuple(_key(value) for value in frame[name]) for name in frame.columns]
            self.lines += columns
            self.lines += list(zip(*columns, strict=True)) if columns else []
        self.values = {value for line in self.lines for value in line}
        self.values |= {_key(column) for _, frame in shown for column in frame.columns}

    def covers(self, value: Any) -> bool:
        value = plain(value)
        if isinstance(value, list):
            if all(isinstance(item, str) and item in self.titles for item in value):
                return True
            return _within(tuple(_key(item) for item in value), self.lines)
        return (
            value is None
            or _key(value) in self.values
            or (isinstance(value, str) and value in self.titles)
        )


def _within(part: tuple[Any, ...], lines: list[tuple[Any, ...]]) -> bool:
    """Whether ``part`` runs, in order, inside one of ``lines``."""
    size = len(part)
    return any(
        line[start : start + size] == part
        for line in lines
        for start in range(len(line) - size + 1)
    )


def _key(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | float):
        return float(f"{value:.9g}")
    return str(value)


def _details(model: BaseModel, seen: _Seen, prefix: str = "") -> list[tuple[str, pd.DataFrame]]:
    """The tables and nested values of ``model`` that the shown tables leave out."""
    found: list[tuple[str, pd.DataFrame]] = []
    leaves: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        title = f"{prefix}{name}".replace("_", " ")
        if (name == "params" and not prefix) or value is None:
            continue
        if isinstance(value, pd.DataFrame):
            found.extend(_unseen_columns(title, value, seen))
        elif isinstance(value, BaseModel):
            found.extend(_details(value, seen, f"{title}: "))
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            found.extend(_listed(title, value, seen))
        elif isinstance(value, dict):
            tables = {key: item for key, item in value.items() if isinstance(item, pd.DataFrame)}
            for key, table in tables.items():
                found.extend(_unseen_columns(f"{title}: {key}", table, seen))
            others = _flat({key: item for key, item in value.items() if key not in tables})
            if any(not seen.covers(item) for item in others.values()):
                found.append((title, _measures(others)))
        elif isinstance(value, list) and not prefix:
            notes = pd.DataFrame({name: [str(item) for item in value]})
            found.extend([(title, notes)] if value and not seen.covers(list(value)) else [])
        elif prefix:
            leaves[name] = value
    if any(not seen.covers(value) for value in leaves.values()):
        found.insert(0, (prefix.rstrip(": ") or "more", _measures(leaves)))
    return found


def _listed(title: str, items: list[BaseModel], seen: _Seen) -> list[tuple[str, pd.DataFrame]]:
    """A list of models: each one's details when they hold tables, else one table of them."""
    if any(
        isinstance(getattr(item, name), pd.DataFrame)
        for item in items
        for name in type(item).model_fields
    ):
        return [
            part
            for index, item in enumerate(items, start=1)
            for part in _details(item, seen, f"{title} {index}: ")
        ]
    frame = pd.DataFrame([dict(item) for item in items])
    return [(name, _spread(part)) for name, part in _unseen_columns(title, frame, seen)]


def _spread(frame: pd.DataFrame) -> pd.DataFrame:
    """A column of lists as one column per position (``customers_0``, ``customers_1``, ...)."""
    parts = []
    for column in frame.columns:
        cells = list(frame[column])
        if any(isinstance(cell, list | tuple) for cell in cells):
            spread = pd.DataFrame([list(cell) for cell in cells], index=frame.index)
            spread.columns = [f"{column}_{position}" for position in spread.columns]
            parts.append(spread)
        else:
            parts.append(frame[[column]])
    return pd.concat(parts, axis=1)


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat |= {f"{key}: {inner}": item for inner, item in _flat(value).items()}
        else:
            flat[str(key)] = value
    return flat


def _column_seen(cells: list[Any], seen: _Seen) -> bool:
    if all(_key(cell) is None for cell in cells):
        return True  # an empty column has nothing to show
    if any(isinstance(cell, list | tuple) for cell in cells):
        return all(seen.covers(list(cell)) for cell in cells)
    return seen.covers(cells)


def _unseen_columns(title: str, frame: pd.DataFrame, seen: _Seen) -> list[tuple[str, pd.DataFrame]]:
    """A table no view shows: whole, or its first column and the columns no view shows."""
    if id(frame) in seen.frames or frame.empty:
        return []
    unseen = [column for column in frame.columns if not _column_seen(list(frame[column]), seen)]
    if not unseen:
        return []
    if len(unseen) == len(frame.columns):
        return [(title, frame)]
    key = [frame.columns[0]] if frame.columns[0] not in unseen else []
    return [(f"{title} (more columns)", frame[key + unseen])]


def _is_table(annotation: Any, metadata: list[Any]) -> bool:
    """Whether a field holds a table: ``TableOf`` in its metadata, or in an optional's."""
    if any(isinstance(item, TableOf) for item in metadata):
        return True
    return any(
        isinstance(item, TableOf)
        for member in get_args(annotation)
        for item in getattr(member, "__metadata__", ())
    )


def _optional_integer(annotation: Any) -> bool:
    """Whether a field is ``int | None``."""
    parts = set(get_args(annotation))
    return get_origin(annotation) in (Union, types.UnionType) and parts == {int, type(None)}


def columns(row: type[Row]) -> list[str]:
    """The columns of a table of ``row``: its fields, by their aliases where they have one."""
    return [info.alias or name for name, info in row.model_fields.items()]


def frame_of(rows: list[dict[str, Any]], row: type[Row]) -> pd.DataFrame:
    """A table of ``row`` from plain rows (columns in the row model's order)."""
    return pd.DataFrame(rows, columns=columns(row))


def plain(value: Any) -> Any:
    """A JSON value: numpy scalars become Python numbers, non-finite numbers None, dates text."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | datetime.date):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as JSON-ready dicts."""
    return [plain(row) for row in frame.to_dict(orient="records")]


def number(value: Any) -> float | None:
    """A float, or None for a missing or non-finite value."""
    if value is None or value is pd.NA or pd.isna(value):
        return None
    result = float(value)
    return result if math.isfinite(result) else None
