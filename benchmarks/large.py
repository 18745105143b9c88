"""100 million events on one machine: every analysis completes, DuckDB spilling to disk.

Each analysis runs once in a fresh process on a DuckDB connection limited to
``--memory-limit`` (well under the machine's memory), spilling to ``benchmarks/data/spill``;
the process's peak memory and the largest spill seen are recorded.

    python benchmarks/large.py --events 100000000 --memory-limit 6GB
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SPILL = HERE / "data" / "spill"
HEADING = "## 100 million events"


def folder_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def measure(case: str, path: Path, memory_limit: str) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from cases import CASES

    import journeys

    shutil.rmtree(SPILL, ignore_errors=True)
    SPILL.mkdir(parents=True)
    largest = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            largest[0] = max(largest[0], folder_size(SPILL))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    con = journeys.connect("duckdb", memory_limit=memory_limit, temp_directory=str(SPILL))
    start = time.perf_counter()
    events = journeys.read_events(path, connection=con)
    load = time.perf_counter() - start
    start = time.perf_counter()
    CASES[case][0](events)
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load": load,
        "seconds": seconds,
        "peak_mib": peak,
        "spill_mib": largest[0] / 2**20,
        "rows": events.report.rows_used,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        case, path, limit = args.child
        print(json.dumps(measure(case, Path(path), limit)))
        return
    sys.path.insert(0, str(HERE))
    from cases import CASES
    from results import replace_section
    from run import dataset

    path = dataset(args.events)
    rows = []
    for case in CASES:
        done = subprocess.run(
            [sys.executable, __file__, "--child", case, str(path), args.memory_limit],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
            rows.append((case, None, reason))
        else:
            rows.append((case, json.loads(done.stdout.strip().splitlines()[-1]), ""))
        print(case, rows[-1][1] or rows[-1][2], flush=True)
    shutil.rmtree(SPILL, ignore_errors=True)
    lines = [
        f"`python benchmarks/large.py --events {args.events} --memory-limit "
        f"{args.memory_limit}`: each analysis once, in its own process, on DuckDB limited to "
        f"{args.memory_limit} and spilling to disk. Reading caches the canonical event table "
        "in the engine (timed apart).",
        "",
        "| analysis | rows | reading (s) | analysis (s) | peak memory (MiB) | "
        "largest spill (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for case, result, reason in rows:
        if result is None:
            lines.append(f"| {case} | failed: {reason} | | | | |")
            continue
        lines.append(
            f"| {case} | {result['rows']:,} | {result['load']:.1f} | {result['seconds']:.1f} | "
            f"{result['peak_mib']:,.0f} | {result['spill_mib']:,.0f} |"
        )
    replace_section(HEADING, lines)


if __name__ == "__main__":
    main()
