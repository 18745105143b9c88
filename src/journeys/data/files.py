"""What a path stands for: one file of a format, or the files of a folder or a glob.

A file's format is said by its name (``events.csv``, ``events.csv.gz``); a folder or a
glob (``events/*.parquet``) stands for all its data files, which must be of one format.
"""

from __future__ import annotations

import glob
import gzip
from dataclasses import dataclass
from pathlib import Path

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
        kind = format_of(file)
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


def is_many(path: Path) -> bool:
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


def format_of(path: Path) -> Format | None:
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
