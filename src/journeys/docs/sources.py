"""The hand-written part of each page: ``docs/src/<name>.md``.

A source is Markdown with an optional YAML header between ``---`` lines::

    ---
    examples:
      - args: [tests/data/simple_shop.csv, --max-steps, "6"]
        text: The first six events of each customer of the shop.
    describe:
      max_steps: How many positions to show.
    ---
    ## What it answers
    ...

``examples`` are the commands whose real output the page shows (run from the
repository's root); ``describe`` gives the meaning of a parameter, a result field
(``Model.field``) or a spec key (its path) that the code leaves without a description.
The code's own description always wins: describing here what the code already
describes is an error, so that the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from journeys.errors import JourneysError

SOURCES = Path("docs") / "src"
HEADER_KEYS = frozenset({"examples", "describe"})


class DocsError(JourneysError):
    """The documentation cannot be generated as its sources stand."""

    code = "docs"


@dataclass(frozen=True)
class Example:
    """A command to run for a page: its arguments after ``journeys COMMAND``."""

    args: tuple[str, ...]
    text: str = ""


@dataclass(frozen=True)
class Source:
    """The hand-written part of a page."""

    path: Path
    body: str = ""
    examples: tuple[Example, ...] = ()
    describe: dict[str, str] = field(default_factory=dict)
    exists: bool = False

    def meaning(self, key: str, own: str) -> str:
        """``own`` (the code's description) or the source's; both is an error."""
        given = self.describe.get(key, "")
        if own and given:
            raise DocsError(
                f"{self.path}: `describe: {key}` repeats what the code already describes ({own!r})",
                hint=f"remove `{key}` from the `describe:` header of {self.path}",
            )
        return own or given

    def check_described(self, known: set[str]) -> None:
        """Every ``describe`` key must name something that exists."""
        unknown = sorted(set(self.describe) - known)
        if unknown:
            raise DocsError(
                f"{self.path}: `describe:` names {', '.join(unknown)}, which no longer exist",
                hint=f"remove them from the `describe:` header of {self.path}",
            )


def read_source(root: Path, name: str) -> Source:
    """The source of a page (an empty one when the file does not exist)."""
    relative = SOURCES / f"{name}.md"
    path = root / relative
    if not path.exists():
        return Source(path=relative)
    text = path.read_text(encoding="utf-8")
    header: dict[str, Any] = {}
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end < 0:
            raise DocsError(f"{relative}: the header opened by '---' is never closed")
        try:
            header = YAML(typ="safe").load(text[4:end]) or {}
        except YAMLError as error:
            raise DocsError(f"{relative}: its header is not valid YAML: {error}") from None
        text = text[end + len("\n---\n") :]
    unknown = sorted(set(header) - HEADER_KEYS)
    if unknown:
        raise DocsError(
            f"{relative}: unknown header keys {', '.join(unknown)}",
            hint=f"the header takes {', '.join(sorted(HEADER_KEYS))}",
        )
    examples = tuple(
        Example(args=tuple(str(arg) for arg in item["args"]), text=str(item.get("text", "")))
        for item in header.get("examples", [])
    )
    describe = {
        str(key): " ".join(str(value).split()) for key, value in header.get("describe", {}).items()
    }
    return Source(
        path=relative, body=text.strip(), examples=examples, describe=describe, exists=True
    )
