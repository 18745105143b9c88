"""Command-line commands derived from the registry: one per analysis, the same options for all.

Each command takes the events (or the spec's), the analysis' parameters as options
(from its parameters model), every reading option (from
:class:`journeys.ReadOptions`), and ``--format``, ``--out`` and ``--show-sql``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import typer
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from journeys.analyses.registry import Analysis, Entry, Option
from journeys.data.options import CLI_NAMES, Columns, ReadOptions
from journeys.errors import OptionsError

# Options every analysis command has besides its parameters and the reading options.
COMMON_OPTIONS = {
    "spec": "--spec",
    "output_format": "--format",
    "output_path": "--out",
    "show_sql": "--show-sql",
}
READ_PREFIX = "read_"


def option_name(field: str, analysis: Analysis) -> str:
    """How a parameter field is spelt on the command line."""
    custom = analysis.options.get(field, Option())
    return custom.name or "--" + field.replace("_", "-")


def parameter_options(analysis: Analysis) -> dict[str, str]:
    """Every parameter field and its option."""
    return {field: option_name(field, analysis) for field in analysis.params.model_fields}


def all_options(analysis: Analysis) -> list[str]:
    """Every option the analysis' command takes."""
    return [
        *parameter_options(analysis).values(),
        *CLI_NAMES.values(),
        *COMMON_OPTIONS.values(),
        *(f"--{name.replace('_', '-')}-out" for name in analysis.exports),
    ]


def build_command(entry: Entry, analysis: Analysis) -> typer.Typer:
    """A one-command Typer app for an analysis."""
    parameters = [_events_parameter(analysis), *_common_parameters()]
    parameters += [_field_parameter(name, info, analysis) for name, info in _fields(analysis)]
    parameters += reading_parameters()
    parameters += [
        _keyword(
            f"export_{name}",
            Annotated[
                Path | None, typer.Option(f"--{name.replace('_', '-')}-out", help=option.help)
            ],
            None,
        )
        for name, option in analysis.exports.items()
    ]

    def command(**values: Any) -> None:
        from journeys.cli.running import run_analysis

        run_analysis(entry, analysis, values)

    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__doc__ = _help(entry, analysis)
    app = typer.Typer(rich_markup_mode=None, add_completion=False)
    app.command(entry.command)(command)
    return app


def _fields(analysis: Analysis) -> list[tuple[str, FieldInfo]]:
    return list(analysis.params.model_fields.items())


def _help(entry: Entry, analysis: Analysis) -> str:
    text = entry.summary
    if analysis.every_row_is:
        text += (
            f"\n\nEVENTS may be a log without an event column: every row is then a "
            f"{analysis.every_row_is}."
        )
    if analysis.without_events is not None:
        text += f"\n\n{analysis.without_events_help}"
    return text


def _events_parameter(analysis: Analysis) -> inspect.Parameter:
    return inspect.Parameter(
        "events",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Argument(
                help="Events: a CSV, Parquet, JSON, DuckDB or text file, or a database URL. "
                "Default: the spec's data.events.",
                show_default=False,
                metavar="[EVENTS]",
            ),
        ],
    )


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _common_parameters() -> list[inspect.Parameter]:
    return [
        _keyword(
            "spec",
            Annotated[
                Path | None,
                typer.Option(
                    COMMON_OPTIONS["spec"],
                    help="A journey spec (YAML): names touchpoints, stages and milestones.",
                ),
            ],
            None,
        ),
        _keyword(
            "output_format",
            Annotated[
                Literal["table", "json", "csv"],
                typer.Option(COMMON_OPTIONS["output_format"], help="table, json or csv."),
            ],
            "table",
        ),
        _keyword(
            "output_path",
            Annotated[
                Path | None,
                typer.Option(COMMON_OPTIONS["output_path"], help="Write the output to this file."),
            ],
            None,
        ),
        _keyword(
            "show_sql",
            Annotated[
                bool,
                typer.Option(
                    COMMON_OPTIONS["show_sql"], help="Print the SQL of each query as it runs."
                ),
            ],
            False,
        ),
    ]


def _field_parameter(name: str, info: FieldInfo, analysis: Analysis) -> inspect.Parameter:
    custom = analysis.options.get(name, Option())
    option = option_name(name, analysis)
    help_text = custom.help or info.description or ""
    kind, several = _cli_type(info.annotation, custom)
    choices = _choices(info.annotation)
    if choices and kind is str:
        help_text = f"{help_text} One of: {', '.join(choices)}.".strip()
    default = info.get_default(call_default_factory=True)
    if kind is bool:
        declaration = f"{option}/{option.replace('--', '--no-', 1)}" if default else option
        return _keyword(
            name,
            Annotated[bool, typer.Option(declaration, help=help_text)],
            bool(default),
        )
    shown = None if default in (None, [], {}) or several else _show(default)
    if shown:
        # Written into the help: the option itself defaults to unset, so that only what
        # was given reaches the parameters model.
        help_text = f"{help_text}  [default: {shown}]".strip()
    annotation = list[str] | None if several else kind | None
    return _keyword(
        name,
        Annotated[annotation, typer.Option(option, help=help_text, show_default=False)],
        None,
    )


def _show(default: Any) -> str:
    if isinstance(default, dt.timedelta):
        from journeys.params import format_duration

        return format_duration(default)
    return str(default)


def _cli_type(annotation: Any, custom: Option) -> tuple[type, bool]:
    """The type an option's text is given as, and whether it takes several values."""
    inner = _without_none(annotation)
    if get_origin(inner) in (list, tuple, set):
        return str, True
    if custom.parse is not None:
        return str, False
    if inner is bool:
        return bool, False
    if inner in (int, float):
        return inner, False
    return str, False


def _without_none(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(options) == 1:
            return _without_none(options[0])
        return options[0]
    if origin is Annotated:
        return _without_none(get_args(annotation)[0])
    return annotation


def _choices(annotation: Any) -> list[str]:
    inner = _without_none(annotation)
    if get_origin(inner) is Literal:
        return [str(value) for value in get_args(inner)]
    return []


def reading_parameters() -> list[inspect.Parameter]:
    """Every reading option, as keyword parameters of a command."""
    parameters = []
    for role, info in Columns.model_fields.items():
        parameters.append(
            _keyword(
                READ_PREFIX + role,
                Annotated[str | None, typer.Option(CLI_NAMES[role], help=info.description)],
                None,
            )
        )
    for name, info in ReadOptions.model_fields.items():
        if name == "columns":
            continue
        kind, _ = _cli_type(info.annotation, Option())
        choices = _choices(info.annotation)
        help_text = info.description or ""
        if kind is bool:
            parameters.append(
                _keyword(
                    READ_PREFIX + name,
                    Annotated[bool, typer.Option(CLI_NAMES[name], help=help_text)],
                    False,
                )
            )
            continue
        if choices:
            help_text = f"{help_text} One of: {', '.join(choices)}."
        parameters.append(
            _keyword(
                READ_PREFIX + name,
                Annotated[str | None, typer.Option(CLI_NAMES[name], help=help_text)],
                None,
            )
        )
    return parameters


def params_from(analysis: Analysis, values: dict[str, Any]) -> BaseModel:
    """The analysis' parameters from the options given; mistakes name the option."""
    given: dict[str, Any] = {}
    for name, info in _fields(analysis):
        value = values.get(name)
        if value is None or (isinstance(value, list) and not value):
            continue
        kind, _ = _cli_type(info.annotation, analysis.options.get(name, Option()))
        if kind is bool and value == bool(info.get_default(call_default_factory=True)):
            continue
        parse = analysis.options.get(name, Option()).parse
        if parse is not None:
            value = [parse(item) for item in value] if isinstance(value, list) else parse(value)
        given[name] = value
    try:
        return analysis.params.model_validate(given)
    except ValidationError as error:
        raise OptionsError(_problems(error, analysis), code="options") from None


def reading_from(values: dict[str, Any]) -> ReadOptions:
    """The reading options given on the command line (only those given)."""
    columns = {
        role: values[READ_PREFIX + role]
        for role in Columns.model_fields
        if values.get(READ_PREFIX + role) is not None
    }
    given: dict[str, Any] = {"columns": columns} if columns else {}
    for name, info in ReadOptions.model_fields.items():
        if name == "columns":
            continue
        value = values.get(READ_PREFIX + name)
        if value is None or (value is False and info.default is False):
            continue
        given[name] = value
    try:
        return ReadOptions.model_validate(given)
    except ValidationError as error:
        problems: dict[str, str] = {}
        for detail in error.errors(include_url=False):
            option = _reading_option(detail["loc"])
            if option in problems:
                continue  # a date or a time: one message is enough
            message = detail["msg"].removeprefix("Value error, ")
            if detail["type"].startswith(("date", "datetime")):
                message += "; write a day as YYYY-MM-DD or a time as YYYY-MM-DD HH:MM"
            problems[option] = f"{option}: {message}"
        raise OptionsError(
            f"invalid options: {'; '.join(problems.values())}", code="options"
        ) from None


def _reading_option(location: tuple[Any, ...]) -> str:
    names = [str(part) for part in location if isinstance(part, str)]
    for name in reversed(names):
        if name in CLI_NAMES:
            return CLI_NAMES[name]
    return "options"


def _problems(error: ValidationError, analysis: Analysis) -> str:
    options = parameter_options(analysis)
    problems = []
    for detail in error.errors(include_url=False):
        location = [str(part) for part in detail["loc"]]
        field = location[0] if location and location[0] in options else None
        where = options[field] if field else "options"
        if field and len(location) > 1:
            where += " (" + ".".join(location[1:]) + ")"
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"].startswith(("date", "datetime")):
            message += "; write a date as YYYY-MM-DD"
        problems.append(f"{where}: {message}")
    return "invalid options: " + "; ".join(problems)
