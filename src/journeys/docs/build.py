"""Generate every page, write them, or say which committed pages are out of date."""

from __future__ import annotations

import difflib
from pathlib import Path

from journeys.analyses.registry import ENTRIES, load
from journeys.docs.analysis_page import analysis_page, examples_of
from journeys.docs.examples import run_examples
from journeys.docs.options import commands
from journeys.docs.shared_pages import cli_page, index_page, reading_page, spec_page
from journeys.docs.sources import read_source

DOCS = Path("docs")
ANALYSES = DOCS / "analyses"
FIX = "make docs"


def generate(root: Path) -> dict[Path, str]:
    """Every generated page (its path relative to ``root``) and its text."""
    every_command = commands()
    sources = {entry.command: read_source(root, entry.command) for entry in ENTRIES}
    runs = [
        (entry.command, example.args)
        for entry in ENTRIES
        for example in examples_of(sources[entry.command])
    ]
    outputs = iter(run_examples(root, runs))
    pages = {
        DOCS / "index.md": index_page(read_source(root, "index"), ENTRIES),
        DOCS / "cli.md": cli_page(read_source(root, "cli"), every_command, ENTRIES),
        DOCS / "reading.md": reading_page(read_source(root, "reading")),
        DOCS / "spec.md": spec_page(read_source(root, "spec")),
    }
    for entry in ENTRIES:
        source = sources[entry.command]
        shown = [next(outputs) for _ in examples_of(source)]
        pages[ANALYSES / f"{entry.command}.md"] = analysis_page(
            entry, load(entry.name), every_command[entry.command], source, shown
        )
    return pages


def leftovers(root: Path, pages: dict[Path, str]) -> list[Path]:
    """Analysis pages on disk that the registry no longer makes."""
    folder = root / ANALYSES
    on_disk = sorted(folder.glob("*.md")) if folder.exists() else []
    return [path.relative_to(root) for path in on_disk if path.relative_to(root) not in pages]


def stale(root: Path, pages: dict[Path, str] | None = None) -> list[str]:
    """What differs between the committed pages and what the generator makes now."""
    pages = generate(root) if pages is None else pages
    problems = []
    for relative, text in pages.items():
        path = root / relative
        if not path.exists():
            problems.append(f"{relative.as_posix()} is missing")
            continue
        committed = path.read_text(encoding="utf-8")
        if committed != text:
            problems.append(
                f"{relative.as_posix()} is out of date:\n{_first_difference(committed, text)}"
            )
    problems += [
        f"{relative.as_posix()} documents an analysis the registry no longer has"
        for relative in leftovers(root, pages)
    ]
    return problems


def _first_difference(committed: str, generated: str) -> str:
    diff = difflib.unified_diff(
        committed.splitlines(), generated.splitlines(), "committed", "generated", n=1, lineterm=""
    )
    return "\n".join(list(diff)[:12])


def write(root: Path) -> list[Path]:
    """Write every page and remove pages of analyses that are gone; returns what changed."""
    pages = generate(root)
    changed = []
    for relative, text in pages.items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(relative)
    for relative in leftovers(root, pages):
        (root / relative).unlink()
        changed.append(relative)
    return changed
