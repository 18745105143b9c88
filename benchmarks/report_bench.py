"""The full HTML report over a large event log: wall time and peak memory.

The report runs every section (key numbers, journey map, stage funnel, paths, step matrix,
transitions, loops, retention, timing, customer value) on the synthetic log with the
journey of ``bench_journey.yaml``; reading the events is timed apart. Each size runs in its
own process.

    python benchmarks/report_bench.py --sizes 10000000
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
HEADING = "## The full report"
RUNS = 3


def measure(path: Path) -> dict[str, Any]:
    import journeys

    start = time.perf_counter()
    events = journeys.load(path, HERE / "bench_journey.yaml")
    load = time.perf_counter() - start
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(RUNS):
            start = time.perf_counter()
            report = journeys.write_report(events, Path(folder) / "report.html")
            times.append(time.perf_counter() - start)
        size = (Path(folder) / "report.html").stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load": load,
        "seconds": statistics.median(times),
        "times": times,
        "peak_mib": peak,
        "sections": len(report.sections),
        "html_mib": size / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child))))
        return
    sys.path.insert(0, str(HERE))
    from results import replace_section
    from run import dataset

    rows = []
    for size in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(dataset(size))],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(size, result, flush=True)
        rows.append((size, result))
    lines = [
        "`python benchmarks/report_bench.py`: `journeys.write_report` over the synthetic logs with "
        "the journey of `benchmarks/bench_journey.yaml` (six stages, a purchase milestone); "
        "reading and mapping the events is timed apart; median of 3 runs. Target at 10M "
        "events: under 30 s.",
        "",
        "| events | report (s) | reading (s) | peak memory (MiB) | sections | HTML (MiB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size, result in rows:
        lines.append(
            f"| {size:,} | {result['seconds']:.1f} | {result['load']:.1f} | "
            f"{result['peak_mib']:,.0f} | {result['sections']} | {result['html_mib']:.1f} |"
        )
    replace_section(HEADING, lines)


if __name__ == "__main__":
    main()
