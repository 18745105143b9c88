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

    def _repr_html_(self) -> str:
        return str(self.to_pandas().to_html(index=False, na_rep=""))


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
