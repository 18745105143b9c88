"""The pages every analysis links to: reading options, the spec, the commands, the index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from journeys.analyses.registry import Entry
from journeys.data.columns import CANDIDATES, REQUIRED
from journeys.data.options import CLI_NAMES, Columns, ReadOptions
from journeys.data.sources import SUFFIXES
from journeys.docs.analysis_page import GENERATED
from journeys.docs.markdown import code, from_docstring, shown_default, table
from journeys.docs.options import OptionRow, click_rows, grouped
from journeys.docs.schema import (
    Key,
    default_text,
    description,
    held_description,
    type_text,
    walk,
)
from journeys.docs.sources import Source
from journeys.spec.models import Spec


def _page(source: Source, title: str, *parts: str) -> str:
    header = GENERATED.format(source=source.path.as_posix())
    return "\n\n".join(p for p in (header, f"# {title}", source.body, *parts) if p) + "\n"


def reading_page(source: Source) -> str:
    """Every reading option: command line, spec key, Python, default and meaning."""
    schema = ReadOptions.model_json_schema()
    column_schema = Columns.model_json_schema()
    rows = []
    for role, info in Columns.model_fields.items():
        node = column_schema["properties"][role]
        rows.append(
            (
                code(CLI_NAMES[role]),
                code(f"data.columns.{role}"),
                code(f'columns={{"{role}": ...}}'),
                type_text(node, null=False),
                "detected" if role in CANDIDATES else "not set",
                from_docstring(info.description or ""),
            )
        )
    for name, info in ReadOptions.model_fields.items():
        if name == "columns":
            continue
        node = schema["properties"][name]
        rows.append(
            (
                code(CLI_NAMES[name]),
                code(f"data.{name}"),
                code(f"{name}=..."),
                "switch" if isinstance(info.default, bool) else type_text(node, null=False),
                shown_default(info.get_default(call_default_factory=True)),
                from_docstring(info.description or ""),
            )
        )
    options = table(("command line", "spec", "Python", "value", "default", "meaning"), rows)
    found = table(
        ("column", "option", "needed", "names tried, in order"),
        [
            (
                role.replace("_", " "),
                code(CLI_NAMES[role]),
                "yes" if role in REQUIRED else "no",
                ", ".join(code(name) for name in names),
            )
            for role, names in CANDIDATES.items()
        ],
    )
    formats = table(
        ("file name ends with", "read as"),
        [(code(suffix), code(kind)) for suffix, kind in SUFFIXES.items()],
    )
    return _page(
        source,
        "Reading events",
        "## Options",
        options,
        "## Columns found by name",
        "A column not named by an option is looked for among these names (ignoring case). "
        "A needed column that is missing, or that more than one column could be, is an error "
        "naming the option that settles it; an optional one is taken only when exactly one "
        "name matches, and a column already taken for another role is not used twice.",
        found,
        "## Formats found from the file name",
        formats,
    )


def spec_page(source: Source) -> str:
    """Every key of the journey spec, section by section."""
    schema = Spec.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    keys = list(walk(schema))
    source.check_described({key.path for key in keys})
    top = [key for key in keys if "." not in key.path and "[" not in key.path]
    parts = [
        "Print it as JSON Schema with `journeys schema`. Every mapping refuses keys it does "
        "not know, so a misspelt key is reported with its file, line and column.",
        "## Top level",
        _keys_table(top, source, defs),
    ]
    for head in top:
        nested = [key for key in keys if key.path.startswith((head.path + ".", head.path + "["))]
        if nested:
            parts += [f"## {head.path}", _keys_table([head, *nested], source, defs)]
    return _page(source, "The journey spec", *parts)


def _keys_table(keys: list[Key], source: Source, defs: dict[str, Any]) -> str:
    rows = [
        (
            code(key.path),
            type_text(key.node, _mapping, null=False),
            default_text(key.node, key.required),
            _reading_link(key)
            or source.meaning(key.path, description(key.node))
            or held_description(key.node, defs),
        )
        for key in keys
    ]
    return table(("key", "type", "default", "meaning"), rows)


def _mapping(name: str) -> str:
    return "mapping"


def _reading_link(key: Key) -> str:
    """Reading options in ``data:`` are described once, on the reading page."""
    if key.model not in ("DataSource", "Columns") or key.field not in CLI_NAMES:
        return ""
    if key.model == "DataSource" and key.field not in ReadOptions.model_fields:
        return ""
    option = CLI_NAMES[key.field]
    anchor = "options"
    return f"the reading option {code(option)}: see [reading events](reading.md#{anchor})"


def cli_page(source: Source, commands: dict[str, Any], entries: Sequence[Entry]) -> str:
    """Every command and its options."""
    from journeys.analyses.registry import load

    by_command = {entry.command: entry for entry in entries}
    parts = []
    for name, command in commands.items():
        parts.append(f"## journeys {name}")
        parts.append(from_docstring(" ".join((command.help or "").split("\n\n")[0].split())))
        rows = click_rows(command)
        entry = by_command.get(name)
        if entry is not None:
            groups = grouped(command, load(entry.name))
            reading = {p.name for p in groups["reading"]}
            rows = [row for row in rows if row.field not in reading]
            parts.append(
                f"What it measures, its result and an example: [{name}](analyses/{name}.md). "
                "It also takes every [reading option](reading.md): "
                + ", ".join(code(option) for p in groups["reading"] for option in p.opts)
                + "."
            )
        parts.append(_rows_table(rows))
    return _page(source, "Commands", *parts)


def _rows_table(rows: list[OptionRow]) -> str:
    return table(
        ("option", "value", "default", "meaning"),
        [(row.spelling, row.value, row.default, row.meaning) for row in rows],
    )


def index_page(source: Source, entries: Sequence[Entry]) -> str:
    """Links to every page."""
    analyses = table(
        ("command", "what it answers"),
        [
            (f"[journeys {entry.command}](analyses/{entry.command}.md)", entry.summary)
            for entry in entries
        ],
    )
    shared = "\n".join(
        [
            "- [Commands](cli.md): every command and its options.",
            "- [Reading events](reading.md): the reading options every analysis takes.",
            "- [The journey spec](spec.md): every key of the YAML spec.",
        ]
    )
    return _page(source, "journeys documentation", "## Analyses", analyses, "## Reference", shared)
