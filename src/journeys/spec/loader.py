"""Read a journey spec from YAML and point every problem at its file, line and column."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from journeys.errors import SpecError, SpecProblem
from journeys.spec.base import CrossReferenceError, Location, Problem
from journeys.spec.models import Spec


@dataclass(frozen=True)
class CheckedSpec:
    """A spec read from its file, its warnings, and what locates any problem in the file.

    Checks that run later (against the data) report problems by their path in the spec;
    :meth:`locate` points them at the file's line and column.
    """

    spec: Spec
    path: str
    document: Any
    warnings: list[SpecProblem]

    def locate(self, problem: Problem) -> SpecProblem:
        """``problem`` with the file, line and column of its location."""
        return _locate(self.document, problem, self.path)


def load_spec(path: str | Path) -> Spec:
    """Read and validate the journey spec in a YAML file.

    Relative paths in its ``data`` section are resolved against the spec's folder.

    Examples
    --------
    >>> spec = load_spec("examples/shop.yaml")  # doctest: +SKIP
    >>> [stage.id for stage in spec.stages]  # doctest: +SKIP
    ['awareness', 'consideration', 'purchase']
    """
    return check_spec(path)[0]


def check_spec(path: str | Path) -> tuple[Spec, list[SpecProblem]]:
    """Read a spec like :func:`load_spec`, and also return its warnings, located in the file.

    A warning (a stage no touchpoint leads to, no purchase milestone) does not stop the
    spec from loading; ``journeys validate`` prints them.
    """
    checked = read_spec(path)
    return checked.spec, checked.warnings


def read_spec(path: str | Path) -> CheckedSpec:
    """Read a spec like :func:`check_spec`, keeping what locates later problems in the file.

    Examples
    --------
    >>> checked = read_spec("journey.yaml")  # doctest: +SKIP
    >>> [str(warning) for warning in checked.warnings]  # doctest: +SKIP
    ["journey.yaml:4:10: stage 'loyalty' has no touchpoint, ... [empty-stage]"]
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            [SpecProblem("the file does not exist", str(path), code="no-file")],
            hint="check the path, or write a starter spec with `journeys init EVENTS`",
        ) from None
    except IsADirectoryError:
        raise SpecError(
            [SpecProblem("this is a folder, not a spec file", str(path), code="not-a-file")],
            hint="give the spec's YAML file, such as journey.yaml",
        ) from None
    except UnicodeDecodeError as error:
        problem = SpecProblem(
            f"the file is not UTF-8 text ({error.reason})", str(path), code="not-text"
        )
        raise SpecError([problem]) from None
    spec, document = _parse(text, str(path))
    warnings = [_locate(document, found, str(path)) for found in spec.warnings()]
    if spec.data is not None:
        spec = spec.model_copy(update={"data": _resolve_paths(spec.data, path.parent)})
    return CheckedSpec(spec, str(path), document, warnings)


def parse_spec(text: str, path: str = "<spec>") -> Spec:
    """Validate a spec given as YAML text; ``path`` names it in messages."""
    return _parse(text, path)[0]


def _parse(text: str, path: str) -> tuple[Spec, Any]:
    yaml = YAML(typ="rt")
    try:
        document = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        message = f"not valid YAML: {error.problem or error.context}"
        raise SpecError([SpecProblem(message, path, line, column, code="yaml-syntax")]) from None
    if document is None:
        raise SpecError(
            [SpecProblem("the file is empty", path, code="empty-spec")],
            hint="start from `journeys init EVENTS`, or see `journeys schema`",
        )
    if not isinstance(document, Mapping):
        problem = SpecProblem(
            "the spec must be a mapping of keys to values", path, 1, 1, code="not-a-mapping"
        )
        raise SpecError([problem])
    try:
        return Spec.model_validate(_plain(document)), document
    except ValidationError as error:
        raise SpecError(_problems(error, document, path, text)) from None


def spec_json_schema() -> str:
    """The JSON Schema of the journey spec, as text."""
    return json.dumps(Spec.model_json_schema(by_alias=True), indent=2)


def _plain(node: Any) -> Any:
    """Turn ruamel's round-trip containers into plain dicts and lists."""
    if isinstance(node, Mapping):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    return node


def _problems(error: ValidationError, document: Any, path: str, text: str) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    for detail in error.errors(include_url=False):
        cause = (detail.get("ctx") or {}).get("error")
        location = tuple(detail["loc"])
        if isinstance(cause, CrossReferenceError):
            for found in cause.problems:
                problems.append(
                    _locate(document, found._replace(location=location + found.location), path)
                )
            continue
        message = detail["msg"].removeprefix("Value error, ")
        unknown = detail["type"] == "extra_forbidden"
        code = "invalid-value"
        if unknown:
            message, code = f"unknown key '{location[-1]}'", "unknown-key"
        elif detail["type"] == "missing":
            message, code = f"'{location[-1]}' is required", "missing-key"
        elif detail["type"] == "string_type":
            line, column = _position(document, location)
            message, code = _not_text(detail["input"], _written(text, line, column)), "not-text"
        problems.append(_problem(document, location, message, path, at_key=unknown, code=code))
    return problems


def _not_text(value: Any, written: str) -> str:
    """Why a value YAML read as a number, a truth value, a date or nothing is not a name."""
    if value is None:
        return "a value is needed here (YAML reads an empty value or 'null' as nothing)"
    if isinstance(value, bool):
        kind = "a truth value"
    elif isinstance(value, int | float):
        kind = "a number"
    elif isinstance(value, dt.date):
        kind = "a date"
    else:
        return "text is needed here"
    return f"text is needed here, but YAML reads {written} as {kind}: quote it ('{written}')"


def _written(text: str, line: int | None, column: int | None) -> str:
    """The value as written at a 1-based line and column of the YAML text."""
    if line is None or column is None:
        return ""
    lines = text.splitlines()
    if line > len(lines):
        return ""
    rest = lines[line - 1][column - 1 :]
    end = min((rest.find(stop) for stop in ",]}#" if stop in rest), default=len(rest))
    return rest[:end].strip()


def _locate(document: Any, problem: Problem, path: str) -> SpecProblem:
    """A check's problem located in the file; a related place is named by its line."""
    message = problem.message
    if problem.related is not None:
        what, where = problem.related
        line, _ = _position(document, where)
        if line is not None:
            message += f" ({what} is at line {line})"
    return _problem(document, problem.location, message, path, code=problem.code)


def _problem(
    document: Any,
    location: Location,
    message: str,
    path: str,
    *,
    at_key: bool = False,
    code: str = "invalid-value",
) -> SpecProblem:
    line, column = _position(document, location, at_key=at_key)
    field = ".".join(str(part) for part in location)
    return SpecProblem(message, path, line, column, field, code)


def _position(
    node: Any, location: Sequence[str | int], *, at_key: bool = False
) -> tuple[int | None, int | None]:
    """The 1-based line and column of the deepest part of ``location`` present in the YAML.

    A scalar is located at its value, unless ``at_key`` asks for its key (an unknown key).
    """
    line: int | None = node.lc.line if hasattr(node, "lc") else None
    column: int | None = node.lc.col if hasattr(node, "lc") else None
    for part in location:
        if isinstance(node, CommentedMap) and part in node:
            use_value = _is_leaf(node[part]) and not at_key
            line, column = node.lc.value(part) if use_value else node.lc.key(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, column = node.lc.item(part)
            node = node[part]
        else:
            break
    if line is None or column is None:
        return None, None
    return line + 1, column + 1


def _is_leaf(node: Any) -> bool:
    return not isinstance(node, CommentedMap | CommentedSeq)


def _resolve_paths(data: Any, folder: Path) -> Any:
    """Make file paths in the data section relative to the spec's folder."""
    update: dict[str, Any] = {}
    if _is_file_path(data.events):
        update["events"] = str((folder / data.events).resolve())
    if data.customers is not None and _is_file_path(data.customers.source):
        customers = data.customers.model_copy(
            update={"source": str((folder / data.customers.source).resolve())}
        )
        update["customers"] = customers
    return data.model_copy(update=update)


def _is_file_path(source: str) -> bool:
    return "://" not in source and not Path(source).is_absolute()
