"""100 million events on one machine: every analysis completes, DuckDB spilling to disk.

The events are read once (reading numbers each customer's events and caches the table in
the engine), then each analysis runs once, on a DuckDB connection limited to
``--memory-limit`` (well under the machine's memory) and spilling to
``benchmarks/data/spill``; the largest spill seen during each analysis and the process's
peak memory are recorded. An analysis that fails is reported with its error and the
others still run.

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


class SpillWatch:
    """The largest size of the spill folder since the last :meth:`reset`."""

    def __init__(self) -> None:
        self.largest = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.5):
            self.largest = max(self.largest, folder_size(SPILL))

    def reset(self) -> int:
        largest, self.largest = self.largest, 0
        return largest

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def measure(path: Path, memory_limit: str) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from cases import CASES

    import journeys

    shutil.rmtree(SPILL, ignore_errors=True)
    SPILL.mkdir(parents=True)
    watch = SpillWatch()
    con = journeys.connect("duckdb", memory_limit=memory_limit, temp_directory=str(SPILL))
    start = time.perf_counter()
    events = journeys.read_events(path, connection=con)
    load = time.perf_counter() - start
    results: dict[str, Any] = {
        "load": load,
        "load_spill_mib": watch.reset() / 2**20,
        "rows": events.report.rows_used,
        "cases": {},
    }
    for case, (run, _) in CASES.items():
        start = time.perf_counter()
        try:
            run(events)
        except Exception as error:  # the report says which analysis failed and why
            message = str(error).strip().splitlines()[0][:200]
            results["cases"][case] = {"error": f"{type(error).__name__}: {message}"}
        else:
            results["cases"][case] = {"seconds": time.perf_counter() - start}
        results["cases"][case]["spill_mib"] = watch.reset() / 2**20
        print(case, results["cases"][case], file=sys.stderr, flush=True)
    watch.stop()
    results["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        path, limit = args.child
        print(json.dumps(measure(Path(path), limit)))
        return
    sys.path.insert(0, str(HERE))
    from results import replace_section
    from run import dataset

    path = dataset(args.events)
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path), args.memory_limit],
        capture_output=True,
        text=True,
    )
    shutil.rmtree(SPILL, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"reading failed: {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    lines = [
        f"`python benchmarks/large.py --events {args.events} --memory-limit "
        f"{args.memory_limit}`: the events read once ({result['rows']:,} rows in "
        f"{result['load']:.1f} s, numbering each customer's events and caching the table in "
        f"the engine; {result['load_spill_mib']:,.0f} MiB spilled at most), then each analysis "
        f"once, in the same process, on DuckDB limited to {args.memory_limit} and spilling to "
        f"disk. The process's peak memory: {result['peak_mib']:,.0f} MiB.",
        "",
        "| analysis | analysis (s) | largest spill (MiB) |",
        "|---|---:|---:|",
    ]
    for case, outcome in result["cases"].items():
        seconds = outcome.get("seconds")
        shown = f"{seconds:.1f}" if seconds is not None else f"failed: {outcome['error']}"
        lines.append(f"| {case} | {shown} | {outcome['spill_mib']:,.0f} |")
    replace_section(HEADING, lines)


if __name__ == "__main__":
    main()
