"""Running the commands whose output the pages show.

Each example runs as a user runs it: ``journeys COMMAND ARGS`` in a fresh process from
the repository's root, its output piped (so tables are 200 characters wide and carry
no colour codes), on DuckDB with the reading options given in the example. What it
prints on standard output is what the page shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from journeys.docs.sources import DocsError

RUN = "import sys; from journeys.cli import main; sys.exit(main())"
# What would change the look of the output from one machine to the next.
UNSET = ("FORCE_COLOR", "CLICOLOR_FORCE", "COLUMNS", "LINES")
TIMEOUT_SECONDS = 600
WORKERS = 2


def environment() -> dict[str, str]:
    """The environment of an example: plain, UTF-8 output, no colour."""
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env |= {"NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8"}
    return env


def run_example(root: Path, command: str, args: Sequence[str]) -> str:
    """What ``journeys COMMAND ARGS`` prints, trailing spaces trimmed."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, command, *args],
        cwd=root,
        env=environment(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise DocsError(
            f"the example `journeys {command} {' '.join(args)}` failed "
            f"(exit {done.returncode}): {done.stderr.strip()[-2000:]}",
            hint=f"fix the command under `examples:` in docs/src/{command}.md",
        )
    return "\n".join(line.rstrip() for line in done.stdout.strip("\n").splitlines())


def run_examples(root: Path, runs: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """The output of several examples, two at a time, in the order given."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(run_example, root, command, args) for command, args in runs]
        return [future.result() for future in futures]
