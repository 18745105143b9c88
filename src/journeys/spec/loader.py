"""Read a journey spec from YAML and point every problem at its file, line and column."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from journeys.errors import SpecError, SpecProblem
from journeys.spec.models import CrossReferenceError, Location, Spec


def load_spec(path: str | Path) -> Spec:
    """Read and validate the journey spec in a YAML file.

    Relative paths in its ``data`` section are resolved against the spec's folder.

    Examples
    --------
    >>> spec = load_spec("examples/shop.yaml")  # doctest: +SKIP
    >>> [stage.id for stage in spec.stages]  # doctest: +SKIP
    ['awareness', 'consideration', 'purchase']
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            [SpecProblem("the file does not exist", str(path))],
            hint="check the path, or write a starter spec with `journeys init EVENTS`",
        ) from None
    except UnicodeDecodeError as error:
        problem = SpecProblem(f"the file is not UTF-8 text ({error.reason})", str(path))
        raise SpecError([problem]) from None
    spec = parse_spec(text, str(path))
    if spec.data is not None:
        spec = spec.model_copy(update={"data": _resolve_paths(spec.data, path.parent)})
    return spec


def parse_spec(text: str, path: str = "<spec>") -> Spec:
    """Validate a spec given as YAML text; ``path`` names it in messages."""
    yaml = YAML(typ="rt")
    try:
        document = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        message = f"not valid YAML: {error.problem or error.context}"
        raise SpecError([SpecProblem(message, path, line, column)]) from None
    if document is None:
        raise SpecError(
            [SpecProblem("the file is empty", path)],
            hint="start from `journeys init EVENTS`, or see `journeys schema`",
        )
    if not isinstance(document, Mapping):
        raise SpecError([SpecProblem("the spec must be a mapping of keys to values", path, 1, 1)])
    try:
        return Spec.model_validate(_plain(document))
    except ValidationError as error:
        raise SpecError(_problems(error, document, path)) from None


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


def _problems(error: ValidationError, document: Any, path: str) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    for detail in error.errors(include_url=False):
        cause = (detail.get("ctx") or {}).get("error")
        location = tuple(detail["loc"])
        if isinstance(cause, CrossReferenceError):
            for sub_location, message in cause.problems:
                problems.append(_problem(document, location + sub_location, message, path))
            continue
        message = detail["msg"].removeprefix("Value error, ")
        unknown = detail["type"] == "extra_forbidden"
        if unknown:
            message = f"unknown key '{location[-1]}'"
        elif detail["type"] == "missing":
            message = f"'{location[-1]}' is required"
        problems.append(_problem(document, location, message, path, at_key=unknown))
    return problems


def _problem(
    document: Any, location: Location, message: str, path: str, *, at_key: bool = False
) -> SpecProblem:
    line, column = _position(document, location, at_key=at_key)
    field = ".".join(str(part) for part in location)
    return SpecProblem(message, path, line, column, field)


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
