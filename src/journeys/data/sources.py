"""Open a source of rows as an Ibis table: a file, a database URL, or data in memory."""

from __future__ import annotations

import glob
import gzip
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from journeys.data.checks import plural
from journeys.data.options import Format, option_for
from journeys.errors import DataError

SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "text",
    ".dat": "text",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "json",
    ".jsonl": "json",
    ".duckdb": "duckdb",
    ".db": "duckdb",
}
FORMAT_NAMES: dict[Format, str] = {
    "csv": "CSV",
    "parquet": "Parquet",
    "json": "JSON",
    "text": "text",
    "duckdb": "DuckDB",
}
# A path, a database URL, an Ibis table, a pyarrow table or a pandas DataFrame.
Source: TypeAlias = str | Path | pa.Table | ibis.Table | Any
# How many file names a message lists.
NAMES_SHOWN = 3


@dataclass(frozen=True)
class DataFiles:
    """The files that a folder or a glob (``events/*.csv``) stands for, all of one format.

    ``left_out`` are files whose name says no format journeys reads (or, with a format
    given, another format); files and folders whose name starts with ``.`` or ``_`` (such
    as Spark's ``_SUCCESS``) are not data and are not counted.
    """

    where: str
    kind: Format
    files: tuple[Path, ...]
    left_out: tuple[Path, ...] = ()
    folder: Path | None = None

    def describe(self) -> str:
        """``folder events: 12 Parquet files``, and the files left out."""
        text = f"{self.where}: {plural(len(self.files), FORMAT_NAMES[self.kind] + ' file')}"
        if self.left_out:
            left_out = plural(len(self.left_out), "other file")
            text += f" ({left_out} left out: {_names(self.left_out, self.folder)})"
        return text


def describe(source: Source, format: Format | None = None) -> str:
    """A short name for the source, for messages; a folder or a glob says what it holds."""
    if isinstance(source, str) and "://" in source:
        return source
    if isinstance(source, str | Path):
        path = Path(source)
        if _is_many(path):
            return data_files(path, format).describe()
        return str(source)
    return f"<{type(source).__name__}>"


def data_files(path: Path, format: Format | None = None) -> DataFiles:
    """The data files of a folder or a glob; an error unless they are of one format.

    With ``format`` given, the files of that format are read and the others left out.
    """
    folder = path if path.is_dir() else None
    where = str(path) if folder is None else f"folder {path}"
    found = _listed(path)
    kinds: dict[Format, list[Path]] = {}
    unknown: list[Path] = []
    for file in found:
        kind = _format_of(file)
        if kind is None:
            unknown.append(file)
        else:
            kinds.setdefault(kind, []).append(file)
    if format is not None:
        chosen = kinds.pop(format, [])
        others = sorted([*unknown, *(file for files in kinds.values() for file in files)])
        if not chosen:
            raise DataError(
                f"{where} holds no {FORMAT_NAMES[format]} files"
                + (f"; it holds {_names(found, folder)}" if found else ""),
                hint="name a folder or a glob with files of that format, "
                f"or give another {option_for('format')}",
                code="source",
            )
        return DataFiles(where, format, tuple(chosen), tuple(others), folder)
    if len(kinds) > 1:
        kinds = dict(sorted(kinds.items(), key=lambda item: (-len(item[1]), item[0])))
        counts = " and ".join(
            plural(len(files), FORMAT_NAMES[kind] + " file") for kind, files in kinds.items()
        )
        raise DataError(
            f"{where} holds files of more than one format: {counts}",
            hint="put the files of one format in a folder of their own, name one file, or "
            f"name the files of one format with a glob (such as {_glob_example(path, kinds)}); "
            f"{option_for('format')} reads only the files of that format",
            code="mixed-formats",
        )
    if not found and not path.is_dir():
        raise DataError(f"no file matches {path}", hint="check the pattern", code="source")
    if not kinds:
        readable = ", ".join(sorted(SUFFIXES))
        raise DataError(
            f"{where} holds no file journeys can read"
            + (f" (it holds {_names(found, folder)})" if found else ""),
            hint=f"name a folder or a glob of files whose names end in one of {readable}",
            code="source",
        )
    ((kind, files),) = kinds.items()
    return DataFiles(where, kind, tuple(files), tuple(unknown), folder)


def _is_many(path: Path) -> bool:
    """Whether the path is a folder, or a glob (``events/*.csv``) rather than a file."""
    return path.is_dir() or (not path.exists() and any(c in str(path) for c in "*?["))


def _listed(path: Path) -> list[Path]:
    """The files of a folder (and its subfolders) or of a glob, without hidden ones."""
    if path.is_dir():
        files = [file for file in path.rglob("*") if file.is_file()]
        return sorted(f for f in files if not _hidden(f.relative_to(path)))
    matches = [Path(name) for name in glob.glob(str(path), recursive=True)]
    return sorted(file for file in matches if file.is_file() and not _hidden(Path(file.name)))


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


def _names(files: list[Path] | tuple[Path, ...], folder: Path | None) -> str:
    """The first few files' names (in a folder, their paths inside it)."""
    named = [str(file.relative_to(folder)) if folder else file.name for file in files]
    shown = ", ".join(named[:NAMES_SHOWN])
    return shown + (", ..." if len(files) > NAMES_SHOWN else "")


def _glob_example(path: Path, kinds: dict[Format, list[Path]]) -> str:
    first = next(iter(kinds.values()))[0]
    suffix = "".join(first.suffixes[-2:]) if first.suffix == ".gz" else first.suffix
    folder = path if path.is_dir() else path.parent
    return str(folder / f"*{suffix}")


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
    if _is_many(path):
        return _many_files_table(con, path, data_files(path, format), delimiter, text_columns)
    if not path.exists():
        raise DataError(f"{path} does not exist", hint="check the path", code="source")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"{path} is empty", hint="give a file with events in it", code="empty")
    kind = format or _format_of(path)
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
        if found.kind == "parquet":
            # Spark reads a folder as a dataset (with its partitions) and a glob as given.
            return con.read_parquet(str(path) if con.name == "pyspark" else names)
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


def is_csv(source: Source, format: Format | None) -> bool:
    """Whether ``source`` is read as a CSV file (or a folder or glob of them)."""
    if format is not None:
        return format == "csv"
    if not isinstance(source, str | Path) or (isinstance(source, str) and "://" in source):
        return False
    path = Path(source)
    if _is_many(path):
        return data_files(path).kind == "csv"
    return _format_of(path) == "csv"


def _format_of(path: Path) -> Format | None:
    """The format a file's name says; a ``.txt`` file with commas or semicolons is CSV.

    A compressed file (``events.csv.gz``) has the format of the name before ``.gz``.
    """
    compressed = path.suffix.lower() == ".gz"
    kind = SUFFIXES.get((path.with_suffix("") if compressed else path).suffix.lower())
    if kind == "text" and path.is_file():
        first = _peek_line(path, compressed=compressed)
        if "," in first or ";" in first:
            return "csv"
    return kind


def _peek_line(path: Path, *, compressed: bool) -> str:
    if compressed:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            return handle.readline()
    with path.open(encoding="utf-8", errors="replace") as handle:
        return handle.readline()


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
