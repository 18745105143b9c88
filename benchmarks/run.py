"""Run the benchmarks and write benchmarks/RESULTS.md.

Each measurement runs in a fresh process (so its peak memory is its own): it loads the
events (not timed), runs one case several times, and prints the times and the answer.
The runner checks that hand-written SQL gives the same answer as journeys before it
reports either time.

    python benchmarks/run.py --sizes 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DATA = HERE / "data"
RUNS = 3
COMMENTARY = "## Reading these numbers"


def measure(kind: str, case: str, path: Path) -> dict[str, Any]:
    """Run one case in this process; print times (s) and the answer as JSON."""
    sys.path.insert(0, str(HERE))
    from cases import CASES, NUMBERING_SQL, PEER_CASES

    journeys_case, sql_case = CASES[case] if case in CASES else (PEER_CASES[case], None)
    times = []
    numbering = None
    if kind == "journeys":
        import journeys

        start = time.perf_counter()
        events = journeys.read_events(path)
        load = time.perf_counter() - start
        for _ in range(RUNS):
            start = time.perf_counter()
            answer = journeys_case(events)
            times.append(time.perf_counter() - start)
    else:
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        start = time.perf_counter()
        con.execute(f"create table raw_events as select * from read_parquet('{path}')")
        load = time.perf_counter() - start
        start = time.perf_counter()
        con.execute(NUMBERING_SQL)
        con.execute("drop table raw_events")
        numbering = time.perf_counter() - start
        assert sql_case is not None
        for _ in range(RUNS):
            start = time.perf_counter()
            answer = sql_case(con)
            times.append(time.perf_counter() - start)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load": load,
        "numbering": numbering,
        "times": times,
        "answer": answer,
        "peak_mib": peak_mib,
    }


def in_child(kind: str, case: str, path: Path) -> dict[str, Any]:
    """Measure in a fresh process, which reports its own peak resident memory (MiB)."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, case, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def dataset(events: int) -> Path:
    path = DATA / f"events_{events}.parquet"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        from generate import generate

        generate(events, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="journeys benchmarks")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CASE", "PATH"))
    args = parser.parse_args()
    if args.child:
        kind, case, path = args.child
        print(json.dumps(measure(kind, case, Path(path))))
        return
    sys.path.insert(0, str(HERE))
    from cases import CASES

    rows = []
    for size in args.sizes:
        path = dataset(size)
        for case in CASES:
            ours = in_child("journeys", case, path)
            theirs = in_child("sql", case, path)
            same = ours["answer"] == theirs["answer"]
            rows.append((size, case, ours, theirs, same))
            ratio = statistics.median(ours["times"]) / statistics.median(theirs["times"])
            print(
                f"{size:>11,} {case:<34} journeys {statistics.median(ours['times']):7.2f} s "
                f"SQL {statistics.median(theirs['times']):7.2f} s  x{ratio:.2f}  same={same}"
            )
    write_results(rows)


def write_results(rows: list[tuple[int, str, dict[str, Any], dict[str, Any], bool]]) -> None:
    import duckdb
    import ibis

    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python benchmarks/run.py` "
        f"on {platform.machine()}, {_cpus()} cores, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, Ibis {ibis.__version__}.",
        "",
        "Synthetic event logs from `benchmarks/generate.py` (Markov paths over 40 event names, "
        "heavy-tailed activity, about 30 events per customer). Times are the median of "
        f"{RUNS} runs of the analysis on events already loaded (loading is shown apart); peak "
        "memory is the whole measuring process's. The hand-written SQL is the fastest DuckDB "
        "SQL we could write for the same answer; an answer that differs from journeys' is "
        "marked and its time does not count. Both sides work on events numbered once when "
        "they are loaded (each customer's events in time order: position, previous and next "
        "event, time since the previous): journeys' loading includes its numbering (and its "
        "checks of the rows), the SQL's numbering is timed apart, after its plain load.",
        "",
        "| events | analysis | journeys (s) | hand-written SQL (s) | ratio | same answer | "
        "journeys load (s) | SQL load (s) | SQL numbering (s) | journeys peak (MiB) | "
        "SQL peak (MiB) |",
        "|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, case, ours, theirs, same in rows:
        mine, sql = statistics.median(ours["times"]), statistics.median(theirs["times"])
        lines.append(
            f"| {size:,} | {case} | {mine:.2f} | {sql:.2f} | {mine / sql:.2f} | "
            f"{'yes' if same else 'NO'} | {ours['load']:.2f} | {theirs['load']:.2f} | "
            f"{theirs['numbering']:.2f} | {ours['peak_mib']:.0f} | {theirs['peak_mib']:.0f} |"
        )
    results = HERE / "RESULTS.md"
    # The commentary below the table is written by hand; keep it across runs.
    previous = results.read_text(encoding="utf-8") if results.exists() else ""
    commentary = previous[previous.find(COMMENTARY) :] if COMMENTARY in previous else ""
    results.write_text("\n".join(lines) + "\n\n" + commentary, encoding="utf-8")


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
