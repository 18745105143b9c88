"""Small Markdown writers: tables, inline code and values as a person types them."""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

from journeys.params import format_duration

NOT_SET = "not set"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub table; cells are escaped so that a ``|`` inside one does not split it."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def cell(text: str) -> str:
    """Text that fits in one table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def code(text: str) -> str:
    """Inline code, with enough backticks around it for backticks inside."""
    fence = "``" if "`" in text else "`"
    padding = " " if fence == "``" else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def command_line(args: Sequence[str]) -> str:
    """A command as it is typed in a shell."""
    return shlex.join(args)


def cli_value(value: Any) -> str:
    """A value written as it is given on the command line or in YAML.

    ``timedelta(days=30)`` is ``30d``, ``Path("journey.yaml")`` is ``journey.yaml``,
    ``True`` and ``False`` are ``on`` and ``off``; nothing (None, an empty list) is
    :data:`NOT_SET`.
    """
    if value is None or (isinstance(value, list | tuple | dict | set) and not value):
        return NOT_SET
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, list | tuple):
        return ", ".join(cli_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {cli_value(item)}" for key, item in value.items())
    return str(value)


def shown_default(value: Any) -> str:
    """A default for a table cell: the typed form in code, or :data:`NOT_SET` as words."""
    text = cli_value(value)
    return text if text in (NOT_SET, "on", "off") else code(text)


def first_sentence(text: str) -> str:
    """The first paragraph of a docstring, on one line."""
    return " ".join(text.strip().split("\n\n")[0].split())


def from_docstring(text: str) -> str:
    """Docstring text as Markdown: ``code`` and :role:`name` become `code`."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")
