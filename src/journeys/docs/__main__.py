"""``python -m journeys.docs``: rewrite the pages in ``docs/`` (``--check``: only compare)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from journeys.docs.build import FIX, stale, write
from journeys.errors import JourneysError


def repository_root() -> Path:
    """The folder that holds ``docs/``: the working directory, or the checkout of journeys."""
    for folder in (Path.cwd(), *Path(__file__).resolve().parents):
        if (folder / "pyproject.toml").exists() and (folder / "docs").is_dir():
            return folder
    return Path.cwd()


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or check) the generated pages; 0 when they are up to date afterwards."""
    parser = argparse.ArgumentParser(prog="python -m journeys.docs", description=__doc__)
    parser.add_argument("--root", type=Path, default=None, help="The repository's root.")
    parser.add_argument(
        "--check", action="store_true", help="Only say which pages are out of date."
    )
    options = parser.parse_args(argv)
    root = options.root or repository_root()
    try:
        if options.check:
            problems = stale(root)
            for problem in problems:
                print(problem)
            if problems:
                print(f"run `{FIX}` to regenerate them")
            return 1 if problems else 0
        changed = write(root)
    except JourneysError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {path.as_posix()}")
    print(f"{len(changed)} pages changed" if changed else "every page is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
