"""Reading JSON Schemas (of results and of the spec) into what a page shows.

A type is written in words (``whole number, 1 to 200``, ``list of FunnelStepRow``), a
model's fields become rows of a table, and the spec's keys are walked recursively into
dotted paths (``touchpoints[].where[].column``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from journeys.docs.markdown import NOT_SET, code, from_docstring

Schema = dict[str, Any]
Link = Callable[[str], str]
FORMATS = {
    "date": "date (YYYY-MM-DD)",
    "date-time": "date and time (ISO 8601)",
    "duration": "duration (`45s`, `90m`, `12h`, `30d`, `2w`)",
    "path": "path",
}
SCALARS = {
    "string": "text",
    "integer": "whole number",
    "number": "number",
    "boolean": "true or false",
    "null": "null",
}


def ref_name(node: Schema) -> str | None:
    """The model a node refers to (``#/$defs/Name`` gives ``Name``), if any."""
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def plain_link(name: str) -> str:
    """A model's name, not linked."""
    return name


def type_text(node: Schema, link: Link = plain_link, *, null: bool = True) -> str:
    """A schema's type in words, with its bounds (``null=False``: without "or null")."""
    name = ref_name(node)
    if name is not None:
        return link(name)
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if null or o.get("type") != "null"]
        parts = [type_text(option, link) for option in options]
        ordered = [part for part in parts if part != "null"] + [p for p in parts if p == "null"]
        return " or ".join(dict.fromkeys(ordered))
    if "const" in node:
        return code(str(node["const"]))
    if "enum" in node:
        return "one of " + ", ".join(code(str(value)) for value in node["enum"])
    kind = node.get("type")
    if kind == "array":
        if "prefixItems" in node:
            items = ", ".join(type_text(item, link) for item in node["prefixItems"])
            return f"pair ({items})" if len(node["prefixItems"]) == 2 else f"list ({items})"
        items_node = node.get("items")
        text = f"list of {type_text(items_node, link)}" if items_node else "list"
        return text + _count(node)
    if kind == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return f"map of text to {type_text(extra, link)}"
        return "object"
    if kind == "string" and node.get("format") in FORMATS:
        return FORMATS[node["format"]]
    if isinstance(kind, str):
        return SCALARS.get(kind, kind) + _bounds(node)
    return "any value"


def _bounds(node: Schema) -> str:
    low, high = node.get("minimum"), node.get("maximum")
    if low is not None and high is not None:
        return f", {low} to {high}"
    parts = []
    if low is not None:
        parts.append(f"at least {low}")
    if "exclusiveMinimum" in node:
        parts.append(f"more than {node['exclusiveMinimum']}")
    if high is not None:
        parts.append(f"at most {high}")
    if "exclusiveMaximum" in node:
        parts.append(f"less than {node['exclusiveMaximum']}")
    return (", " + " and ".join(parts)) if parts else ""


def _count(node: Schema) -> str:
    low, high = node.get("minItems"), node.get("maxItems")
    if low is not None and low == high:
        return f", exactly {low}"
    if low:
        return f", at least {low}"
    return ""


def targets(node: Schema) -> list[tuple[str, str]]:
    """The models a node holds, each with how its keys are reached from the node's key.

    ``("Stage", "[].")`` for a list of stages, ``("DataSource", ".")`` for an optional
    model, ``("Row", ".<name>[].")`` for a map of names to lists of rows.
    """
    name = ref_name(node)
    if name is not None:
        return [(name, ".")]
    found: list[tuple[str, str]] = []
    for option in node.get("anyOf", []):
        found += targets(option)
    items = node.get("items")
    if isinstance(items, dict):
        found += [(model, "[]" + joint) for model, joint in targets(items)]
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        found += [(model, ".<name>" + joint) for model, joint in targets(extra)]
    return found


def default_text(node: Schema, required: bool) -> str:
    """A key's default as it would be written in YAML, or ``required``."""
    if required:
        return "required"
    if "default" not in node:
        return NOT_SET
    value = node["default"]
    if value is None or value in ([], {}, ""):
        return NOT_SET
    if isinstance(value, bool):
        return code("true" if value else "false")
    return code(str(value))


@dataclass(frozen=True)
class Key:
    """One key of a schema, reached by ``path`` from the top."""

    path: str
    node: Schema
    required: bool
    model: str
    field: str


def walk(schema: Schema, prefix: str = "") -> Iterator[Key]:
    """Every key of a schema and of the models under it, depth first, in field order.

    A model reached twice on one branch (a recursive schema) is not entered again.
    """
    defs = schema.get("$defs", {})
    yield from _walk(schema, schema.get("title", ""), prefix, defs, ())


def _walk(
    model: Schema, name: str, prefix: str, defs: dict[str, Schema], seen: tuple[str, ...]
) -> Iterator[Key]:
    required = set(model.get("required", []))
    for field, node in model.get("properties", {}).items():
        path = prefix + field
        yield Key(path=path, node=node, required=field in required, model=name, field=field)
        for target, joint in targets(node):
            if target in seen or target not in defs:
                continue
            yield from _walk(defs[target], target, path + joint, defs, (*seen, target))


def description(node: Schema) -> str:
    """A key's own description, on one line."""
    return from_docstring(" ".join(str(node.get("description") or "").split()))


def held_description(node: Schema, defs: dict[str, Schema]) -> str:
    """The description of the model a key holds (its first paragraph), if it has one."""
    for name, joint in targets(node):
        text = defs.get(name, {}).get("description")
        if text:
            first = from_docstring(" ".join(text.split("\n\n")[0].split()))
            if joint.startswith("[]"):
                word = first.split()[0]
                acronym = len(word) > 1 and word[1].isupper()
                lead = first[:1] if acronym else first[:1].lower()
                return f"A list; each item: {lead}{first[1:]}"
            return first
    return ""
