"""Sections of benchmarks/RESULTS.md that a script owns and rewrites."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


def replace_section(heading: str, lines: list[str]) -> None:
    """Write ``lines`` as the section under ``heading`` (a level-2 heading), keeping the rest."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if heading in text:
        start = text.index(heading)
        following = text.find("\n## ", start + len(heading))
        rest = text[following + 1 :] if following >= 0 else ""
        text = text[:start].rstrip() + "\n\n" + rest
    body = "\n".join([heading, "", *lines]).rstrip() + "\n"
    RESULTS.write_text(text.rstrip() + "\n\n" + body, encoding="utf-8")
