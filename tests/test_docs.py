"""The documentation in docs/ is complete and current.

Fails when an analysis has no page or no hand-written prose, when an option of any
command or a key of the spec appears in no page, or when a committed page differs from
what ``python -m journeys.docs`` makes now. The options and keys are collected here
independently of the generator: from the command line as Click sees it and from the
spec's JSON Schema, walked by a plain recursion of its own.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from pydantic import TypeAdapter

from journeys.analyses.registry import ENTRIES, Option, load
from journeys.cli import app
from journeys.data.options import CLI_NAMES
from journeys.docs import generate, stale
from journeys.docs.markdown import cli_value
from journeys.params import parse_duration
from journeys.spec.models import Spec

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
FIX = "run `make docs` (python -m journeys.docs) and commit what changed in docs/"
READING = set(CLI_NAMES.values())


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    """Every page as the generator makes it now (runs every example once)."""
    return generate(ROOT)


def click_commands() -> dict[str, Any]:
    group: Any = typer.main.get_command(app)
    return {name: group.get_command(None, name) for name in group.list_commands(None)}


def option_names(command: Any) -> list[str]:
    return [
        name
        for param in command.params
        if param.param_type_name == "option"
        for name in (*param.opts, *getattr(param, "secondary_opts", []))
    ]


def test_every_analysis_has_a_page_and_prose() -> None:
    no_page = [
        f"docs/analyses/{entry.command}.md"
        for entry in ENTRIES
        if not (DOCS / "analyses" / f"{entry.command}.md").exists()
    ]
    assert not no_page, f"analyses without a page: {', '.join(no_page)}; {FIX}"
    no_prose = [
        f"docs/src/{entry.command}.md"
        for entry in ENTRIES
        if not (DOCS / "src" / f"{entry.command}.md").exists()
    ]
    assert not no_prose, (
        f"analyses without hand-written prose: write {', '.join(no_prose)} (what it answers, "
        f"its definitions, the `examples:` to run), then {FIX}"
    )


def test_every_option_of_every_command_is_documented() -> None:
    analyses = {entry.command for entry in ENTRIES}
    cli_page = (DOCS / "cli.md").read_text(encoding="utf-8")
    reading_page = (DOCS / "reading.md").read_text(encoding="utf-8")
    missing = []
    for name, command in click_commands().items():
        if f"## journeys {name}\n" not in cli_page:
            missing.append(f"the command `journeys {name}` is not in docs/cli.md")
        own = DOCS / "analyses" / f"{name}.md"
        page = own.read_text(encoding="utf-8") if name in analyses and own.exists() else ""
        for option in option_names(command):
            if option in READING:
                where, text = "docs/reading.md", reading_page
            elif name in analyses:
                where, text = f"docs/analyses/{name}.md", page
            else:
                where, text = "docs/cli.md", cli_page
            if f"`{option}`" not in text:
                missing.append(f"`journeys {name} {option}` is not in {where}")
    assert not missing, "undocumented:\n" + "\n".join(missing) + f"\n{FIX}"


def spec_keys(node: dict[str, Any], defs: dict[str, Any], prefix: str = "") -> set[str]:
    """Every key path of a JSON Schema: nested models, lists of them and maps of them."""
    keys: set[str] = set()
    for name, value in node.get("properties", {}).items():
        path = prefix + name
        keys.add(path)
        keys |= nested_keys(value, defs, path)
    return keys


def nested_keys(value: dict[str, Any], defs: dict[str, Any], path: str) -> set[str]:
    if "$ref" in value:
        return spec_keys(defs[value["$ref"].split("/")[-1]], defs, path + ".")
    keys: set[str] = set()
    for option in value.get("anyOf", []):
        keys |= nested_keys(option, defs, path)
    if isinstance(value.get("items"), dict):
        keys |= nested_keys(value["items"], defs, path + "[]")
    if isinstance(value.get("additionalProperties"), dict):
        keys |= nested_keys(value["additionalProperties"], defs, path + ".<name>")
    return keys


def test_every_spec_key_is_documented() -> None:
    schema = Spec.model_json_schema(by_alias=True)
    keys = spec_keys(schema, schema.get("$defs", {}))
    assert {"name", "stages[].id", "touchpoints[].where[].in", "data.columns.event"} <= keys
    page = (DOCS / "spec.md").read_text(encoding="utf-8")
    missing = sorted(key for key in keys if f"`{key}`" not in page)
    assert not missing, f"spec keys not in docs/spec.md: {', '.join(missing)}; {FIX}"


def test_the_committed_pages_are_current(generated: dict[Path, str]) -> None:
    problems = stale(ROOT, generated)
    assert not problems, "\n".join(problems) + f"\n{FIX}"


def table_rows(page: str, heading: str) -> list[list[str]]:
    """The cells of the rows of the table under ``heading`` (escaped pipes kept whole)."""
    section = page.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    return [
        [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)[1:-1]]
        for row in rows
    ]


def typed_value(analysis: Any, name: str, text: str) -> Any:
    """The value of a parameter typed as ``text`` on the command line (its own parser first)."""
    info = analysis.params.model_fields[name]
    custom = analysis.options.get(name, Option())
    given = custom.parse(text) if custom.parse is not None else text
    kind = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(kind).validate_python(given)


def test_defaults_are_shown_as_typed_on_the_command_line(generated: dict[Path, str]) -> None:
    """A default typed back on the command line gives the default (not its Python repr)."""
    checked = 0
    for entry in ENTRIES:
        analysis = load(entry.name)
        page = generated[Path("docs") / "analyses" / f"{entry.command}.md"]
        for option, field, _, default, _ in table_rows(page, "### Parameters"):
            name = field.strip("`")
            info = analysis.params.model_fields[name]
            value = info.get_default(call_default_factory=True)
            if info.is_required():
                assert default == "required", (entry.command, option, default)
            elif isinstance(value, bool):
                assert default == ("on" if value else "off"), (entry.command, option)
            elif value is None or value == []:
                assert default == "not set", (entry.command, option, default)
            else:
                typed = default.strip("`")
                assert default == f"`{typed}`", (entry.command, option, default)
                assert typed_value(analysis, name, typed) == value, (entry.command, option, default)
                checked += 1
    assert checked >= 10


def test_a_fixed_command_default_is_the_typed_path() -> None:
    """`journeys init --out` defaults to journey.yaml, written as a person types it."""
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    section = page.split("## journeys init\n", 1)[1].split("\n## ", 1)[0]
    (row,) = [line for line in section.splitlines() if line.startswith("| `--out` |")]
    assert row.split(" | ")[2] == "`journey.yaml`"
    assert "PosixPath" not in page
    assert "PydanticUndefined" not in "".join(p.read_text() for p in DOCS.rglob("*.md"))


def test_a_duration_default_would_be_written_as_it_is_typed() -> None:
    """No analysis has a duration default today; the writer must still give `30d`, not a repr."""
    thirty_days = dt.timedelta(days=30)
    assert cli_value(thirty_days) == "30d"
    assert parse_duration(cli_value(thirty_days)) == thirty_days
    assert cli_value(dt.timedelta(seconds=90)) == "90s"
    assert cli_value(Path("journey.yaml")) == "journey.yaml"
    assert cli_value(dt.date(2025, 10, 1)) == "2025-10-01"
