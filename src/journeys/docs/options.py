"""The options of each command, read from the command line itself.

Commands are walked as Click sees them (``typer.main.get_command(app)``), so that an
option added anywhere shows up in the documentation without touching it. For an
analysis, its parameters' types and defaults come from the parameters model, written
as they are typed on the command line.
"""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import dataclass
from typing import Any

import typer

from journeys.analyses.registry import Analysis, Option
from journeys.cli import app
from journeys.cli.analyses import COMMON_OPTIONS, READ_PREFIX, option_name
from journeys.cli.app import MULTI_VALUE_OPTIONS
from journeys.docs.markdown import NOT_SET, cli_value, code, shown_default
from journeys.docs.schema import type_text
from journeys.docs.sources import Source

EXPORT_PREFIX = "export_"
# Analysis options write their default into their help (their own default is unset).
DEFAULT_IN_HELP = re.compile(r"\s*\[default: ([^\]]+)\]$")


@dataclass(frozen=True)
class OptionRow:
    """One option as a page lists it."""

    names: tuple[str, ...]
    field: str
    value: str
    default: str
    meaning: str

    @property
    def spelling(self) -> str:
        """Its names in code, ``--times`` / ``--no-times`` for a switch."""
        return " / ".join(code(name) for name in self.names)


def commands() -> dict[str, Any]:
    """Every command of ``journeys``, in the order ``journeys --help`` lists them."""
    group: Any = typer.main.get_command(app)
    return {name: group.get_command(None, name) for name in group.list_commands(None)}


def names(param: Any) -> tuple[str, ...]:
    """An option's spellings (``--times``, ``--no-times``) or an argument's metavar."""
    if param.param_type_name == "argument":
        return (param.metavar or param.name.upper(),)
    return (*param.opts, *getattr(param, "secondary_opts", []))


def parameter_rows(analysis: Analysis, command: Any, source: Source) -> list[OptionRow]:
    """The analysis' own parameters, in the order of its parameters model."""
    by_name = {param.name: param for param in command.params}
    schema = analysis.params.model_json_schema()
    rows = []
    for field, info in analysis.params.model_fields.items():
        custom = analysis.options.get(field, Option())
        param = by_name.get(field)
        spelling = names(param) if param is not None else (option_name(field, analysis),)
        node = schema["properties"][field]
        default = info.get_default(call_default_factory=True)
        rows.append(
            OptionRow(
                names=spelling,
                field=field,
                value=_value_text(spelling[0], node, custom, default),
                default="required" if info.is_required() else shown_default(default),
                meaning=source.meaning(field, custom.help or info.description or ""),
            )
        )
    return rows


def _value_text(option: str, node: dict[str, Any], custom: Option, default: Any) -> str:
    if isinstance(default, bool):
        return "switch"
    several = node.get("type") == "array" or any(
        branch.get("type") == "array" for branch in node.get("anyOf", [])
    )
    if several and option in MULTI_VALUE_OPTIONS:
        return "one or more values after the option"
    if several:
        return "text; repeat the option for each value"
    if custom.parse is not None:
        return "text"
    given = [branch for branch in node.get("anyOf", []) if branch.get("type") != "null"]
    return type_text(given[0] if len(given) == 1 else node)


def grouped(command: Any, analysis: Analysis) -> dict[str, list[Any]]:
    """An analysis command's parameters by kind: events, common, reading, exports, other."""
    fields = set(analysis.params.model_fields)
    groups: dict[str, list[Any]] = {
        "events": [],
        "parameters": [],
        "common": [],
        "reading": [],
        "exports": [],
        "other": [],
    }
    for param in command.params:
        if param.param_type_name == "argument":
            groups["events"].append(param)
        elif param.name in fields:
            groups["parameters"].append(param)
        elif param.name in COMMON_OPTIONS:
            groups["common"].append(param)
        elif param.name.startswith(READ_PREFIX):
            groups["reading"].append(param)
        elif param.name.startswith(EXPORT_PREFIX):
            groups["exports"].append(param)
        else:
            groups["other"].append(param)
    return groups


def click_rows(command: Any) -> list[OptionRow]:
    """Rows for a command's parameters, from Click alone (types from its annotations)."""
    hints = _hints(command.callback)
    return [
        OptionRow(
            names=names(param),
            field=param.name,
            value=_annotation_text(hints.get(param.name), param),
            default=_click_default(param),
            meaning=DEFAULT_IN_HELP.sub("", " ".join((getattr(param, "help", None) or "").split())),
        )
        for param in command.params
    ]


def _hints(callback: Any) -> dict[str, Any]:
    """Each parameter's type, from the signature Typer reads (``__signature__`` included)."""
    if callback is None:
        return {}
    hints: dict[str, Any] = {}
    for name, parameter in inspect.signature(callback).parameters.items():
        annotation = parameter.annotation
        if isinstance(annotation, str):
            annotation = typing.get_type_hints(callback).get(name)
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        hints[name] = annotation
    return hints


def _annotation_text(annotation: Any, param: Any) -> str:
    if getattr(param, "is_flag", False):
        return "switch"
    inner = _without_none(annotation)
    if typing.get_origin(inner) is typing.Literal:
        return "one of " + ", ".join(code(str(value)) for value in typing.get_args(inner))
    if typing.get_origin(inner) is list or getattr(param, "multiple", False):
        return "text; repeat the option for each value"
    words = {int: "whole number", float: "number", bool: "switch"}
    if inner in words:
        return words[inner]
    if getattr(inner, "__name__", "") in ("Path", "PosixPath"):
        return "path"
    return "text"


def _without_none(annotation: Any) -> Any:
    arguments = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, type(int | None)) and len(arguments) == 1:
        return arguments[0]
    return annotation


def _click_default(param: Any) -> str:
    if param.param_type_name == "argument":
        return "required" if param.required else NOT_SET
    written = DEFAULT_IN_HELP.search(" ".join((getattr(param, "help", None) or "").split()))
    if written:
        return code(written.group(1))
    shown = getattr(param, "show_default", None)
    if isinstance(shown, str):
        return code(shown)
    if getattr(param, "is_flag", False):
        return shown_default(bool(param.default))
    value = param.default
    return NOT_SET if value is None else code(cli_value(value))
