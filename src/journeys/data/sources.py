"""Open a source of rows as an Ibis table: a file, a folder or a glob of files, a database
URL, or data in memory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeAlias

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from journeys.data.files import FORMAT_NAMES, SUFFIXES, DataFiles, data_files, format_of, is_many
from journeys.data.options import Format, option_for
from journeys.errors import DataError

__all__ = ["SUFFIXES", "Source", "describe", "is_csv", "open_table", "register"]
# A path, a database URL, an Ibis table, a pyarrow table or a pandas DataFrame.
Source: TypeAlias = str | Path | pa.Table | ibis.Table | Any


def describe(source: Source, format: Format | None = None) -> str:
    """A short name for the source, for messages; a folder or a glob says what it holds."""
    if isinstance(source, str) and "://" in source:
        return source
    if isinstance(source, str | Path):
        path = Path(source)
        if is_many(path):
            return data_files(path, format).describe()
        return str(source)
    return f"<{type(source).__name__}>"


def open_table(
    con: BaseBackend,
    source: Source,
    *,
    table: str | None = None,
    format: Format | None = None,
    delimiter: str | None = None,
    text_columns: tuple[str, ...] = (),
) -> ibis.Table:
    """Read ``source`` with the connection ``con`` and return it as an Ibis table.

    ``source`` may be a path (CSV, Parquet, JSON or NDJSON, a DuckDB file with
    ``table``), a database URL that Ibis can connect to (with ``table``), an Ibis
    table, a pyarrow table or a pandas DataFrame. ``text_columns`` of a CSV file are
    read as text, not as the type the reader would guess, so that journeys can check
    them itself (timestamps: mixed offsets, day-month order).
    """
    if isinstance(source, ibis.Table):
        return source
    if isinstance(source, str) and "://" in source:
        return _database_table(source, table)
    if isinstance(source, str | Path):
        return _file_table(con, Path(source), table, format, delimiter, text_columns)
    try:
        return register(con, source)
    except Exception as error:
        raise DataError(
            f"cannot use a {type(source).__name__} as events: {error}",
            hint="pass a file path, a database URL, an Ibis table, a pyarrow table or a DataFrame",
            code="source",
        ) from None


def register(con: BaseBackend, data: Any) -> ibis.Table:
    """Make in-memory data (pyarrow, pandas) a table of the engine behind ``con``."""
    name = ibis.util.gen_name("journeys_input")
    if con.name == "pyspark":
        return con.create_view(name, ibis.memtable(data), overwrite=True)
    return con.create_table(name, data, temp=True)


def _database_table(url: str, table: str | None) -> ibis.Table:
    if table is None:
        raise DataError(
            f"{url} is a database; which table holds the events?",
            hint="name it with --table (or `table:` in the spec's data section)",
            code="source",
        )
    try:
        con = ibis.connect(url)
        return con.table(table)
    except Exception as error:
        raise DataError(
            f"cannot read table '{table}' from {url}: {error}",
            hint="check the URL, the credentials and the table name",
            code="source",
        ) from None


def _file_table(
    con: BaseBackend,
    path: Path,
    table: str | None,
    format: Format | None,
    delimiter: str | None,
    text_columns: tuple[str, ...],
) -> ibis.Table:
    if is_many(path):
        return _many_files_table(con, path, data_files(path, format), delimiter, text_columns)
    if not path.exists():
        raise DataError(f"{path} does not exist", hint="check the path", code="source")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"{path} is empty", hint="give a file with events in it", code="empty")
    kind = format or format_of(path)
    if kind is None:
        raise DataError(
            f"cannot tell the format of {path} from its name",
            hint=f"give the format (csv, parquet, json, duckdb, text) with {option_for('format')}",
            code="source",
        )
    try:
        if kind == "csv":
            return _csv_table(con, path, delimiter, text_columns)
        if kind == "text":
            return _text_table(con, path)
        if kind == "parquet":
            return con.read_parquet(str(path))
        if kind == "json":
            return con.read_json(str(path))
        return _duckdb_file_table(path, table)
    except DataError:
        raise
    except Exception as error:
        raise DataError(
            f"cannot read {path} as {kind}: {_first_line(error)}",
            hint="check that the file is complete and of the format its name says",
            code="source",
        ) from None


def _many_files_table(
    con: BaseBackend,
    path: Path,
    found: DataFiles,
    delimiter: str | None,
    text_columns: tuple[str, ...],
) -> ibis.Table:
    """The files of a folder or a glob, read as one table (they share their columns)."""
    names = [str(file) for file in found.files]
    try:
        if found.kind == "csv":
            return _csv_table(con, names, delimiter, text_columns)
        if found.kind == "text":
            return _text_table(con, names)
        if found.kind == "parquet" and con.name == "pyspark":
            return _spark_parquet(con, path, found)
        if found.kind == "parquet":
            return con.read_parquet(names)
        if found.kind == "json":
            return con.read_json(names)
    except DataError:
        raise
    except Exception as error:
        raise DataError(
            f"cannot read {found.describe()} as one table: {_first_line(error)}",
            hint="check that every file is complete, of the format its name says, and has "
            "the same columns",
            code="source",
        ) from None
    raise DataError(
        f"{found.describe()}: {FORMAT_NAMES[found.kind]} files are not read as one table",
        hint="name one of the files, with --table for the table of events",
        code="source",
    )


def _spark_parquet(con: BaseBackend, path: Path, found: DataFiles) -> ibis.Table:
    """A folder (or glob) of Parquet files read by Spark as a dataset, with the columns of
    its ``key=value`` folders as DuckDB reads them; an error unless Spark reads every file."""
    table = con.read_parquet(str(path))
    # Spark leaves out files beside partition folders; the files it reads are its session's.
    session = con._session
    read = len(session.table(table.get_name()).inputFiles())
    if read != len(found.files):
        raise DataError(
            f"{found.describe()}, of which Spark reads {read}: it reads the files of a folder "
            "of key=value folders (partitions) and leaves out the files beside them",
            hint="put every file in the partition folders, or none, or name the files with a glob",
            code="source",
        )
    return table


def is_csv(source: Source, format: Format | None) -> bool:
    """Whether ``source`` is read as a CSV file (or a folder or glob of them)."""
    if format is not None:
        return format == "csv"
    if not isinstance(source, str | Path) or (isinstance(source, str) and "://" in source):
        return False
    path = Path(source)
    if is_many(path):
        return data_files(path).kind == "csv"
    return format_of(path) == "csv"


def _csv_table(
    con: BaseBackend,
    path: Path | list[str],
    delimiter: str | None,
    text_columns: tuple[str, ...],
) -> ibis.Table:
    paths = path if isinstance(path, list) else str(path)
    if con.name == "duckdb":
        options: dict[str, Any] = {"delim": delimiter} if delimiter else {}
        if text_columns:
            options["types"] = dict.fromkeys(text_columns, "VARCHAR")
        return con.read_csv(paths, **options)
    options = {"sep": delimiter} if delimiter else {}
    if text_columns:
        # Spark's reader cannot take the type of one column; read every column as text.
        options["inferSchema"] = False
    return con.read_csv(paths, **options)


# A character that does not occur in text files: each line is read whole, then split.
_WHOLE_LINE = "\x1f"
# How a value that is a number, a date or a time starts.
_DATA_START = re.compile(r"^[+-]?\.?[0-9]")


def _text_table(con: BaseBackend, path: Path | list[str]) -> ibis.Table:
    """Columns separated by runs of spaces or tabs, split in the engine."""
    paths = path if isinstance(path, list) else str(path)
    if con.name == "duckdb":
        lines = con.read_csv(
            paths,
            columns={"line": "VARCHAR"},
            delim=_WHOLE_LINE,
            header=False,
            quote="",
            escape="",
            auto_detect=False,
        )
    else:
        raw = con.read_csv(paths, sep=_WHOLE_LINE, header=False, inferSchema=False)
        lines = raw.select(line=raw[raw.columns[0]])
    text = lines.line.strip()
    lines = lines.select(line=text).filter(text != "")
    first = lines.limit(1).to_pyarrow()["line"].to_pylist()
    if not first:
        where = paths if isinstance(paths, str) else "these files"
        raise DataError(f"{where} has no rows", hint="give a file with events in it", code="empty")
    fields = str(first[0]).split()
    # A header names columns; a row of events holds a number, a date or a time somewhere.
    header = not any(_looks_like_data(field) for field in fields)
    names = fields if header else [f"column{index}" for index in range(len(fields))]
    if header:
        lines = lines.filter(lines.line != str(first[0]))
    parts = lines.line.re_split(r"\s+")
    return lines.select(**{name: parts[index] for index, name in enumerate(names)})


def _looks_like_data(text: str) -> bool:
    """Whether a field of the first line is a value: a number, or a date or time (a digit first)."""
    if _DATA_START.match(text):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def _duckdb_file_table(path: Path, table: str | None) -> ibis.Table:
    con = ibis.duckdb.connect(str(path), read_only=True)
    tables = con.list_tables()
    if table is None:
        if len(tables) != 1:
            raise DataError(
                f"{path} holds {len(tables)} tables ({', '.join(tables) or 'none'}); "
                "which one holds the events?",
                hint="name it with --table (or `table:` in the spec's data section)",
                code="source",
            )
        table = tables[0]
    if table not in tables:
        raise DataError(
            f"{path} has no table '{table}'; it has: {', '.join(tables) or 'none'}",
            hint="name an existing table with --table",
            code="source",
        )
    return con.table(table)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
