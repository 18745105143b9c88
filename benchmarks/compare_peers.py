"""journeys against pandas, retentioneering 5.x and pm4py on the benchmark logs.

The peers run in their own environment (``benchmarks/.venv-peers``, see ``make
bench-peers``); each measurement is a fresh process. A peer's time counts only when its
answer equals journeys' for the same definition; otherwise the row says so.

    python benchmarks/compare_peers.py --sizes 10000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
HEADING = "## Against pandas, retentioneering and pm4py"
#: peer case -> the journeys case with the same definition
PAIRS = {
    "pandas funnel": "funnel (5 steps, 30-day window)",
    "pandas step matrix": "step matrix (10 steps)",
    "pandas transitions": "transitions",
    "pandas paths": "paths from an anchor (depth 3)",
    "pandas retention": "monthly cohort retention",
    "retentioneering funnel": "funnel (5 steps, no window)",
    "retentioneering step matrix": "step matrix (10 steps)",
    "retentioneering transitions": "transitions",
    "pm4py transitions": "directly-follows counts",
}
SYNTHETIC = ("path_start", "path_end")


def peer(case: str, path: Path, timeout: int) -> dict[str, Any] | str:
    try:
        done = subprocess.run(
            [str(PEERS_PYTHON), str(HERE / "peers.py"), case, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"did not finish in {timeout} s"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"failed: {last[:160]}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """Leave out retentioneering's synthetic path_start / path_end events."""
    return {
        key: value for key, value in answer.items() if not any(mark in key for mark in SYNTHETIC)
    }


def same_answer(peer_answer: dict[str, Any], ours: dict[str, Any]) -> bool:
    """Whether a peer's answer equals journeys'; a peer that measures fewer numbers per key
    (retentioneering's transition graph has counts but no times) is compared on those."""
    theirs, mine = comparable(peer_answer), comparable(ours)
    if theirs.keys() != mine.keys():
        return False
    for key, value in theirs.items():
        expected = mine[key]
        if isinstance(value, list) and isinstance(expected, list):
            expected = expected[: len(value)]
        if value != expected:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--timeout", type=int, default=1800)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from results import replace_section
    from run import dataset, in_child

    versions = subprocess.run(
        [
            str(PEERS_PYTHON),
            "-c",
            "import pandas, pm4py, importlib.metadata as m; "
            'print(f"pandas {pandas.__version__}, retentioneering '
            "{m.version('retentioneering')}, pm4py {pm4py.__version__}\")",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[0]
    lines = [
        f"Peers: {versions}.",
        "",
        "`python benchmarks/compare_peers.py` (peers in `benchmarks/.venv-peers`, pinned by "
        "`benchmarks/peers-constraints.txt`). Median of 3 runs on data already in memory "
        "(pandas DataFrame for the peers, a loaded journeys event log); each in its own process. "
        "A peer's time counts only when its answer equals journeys' for the same definition.",
        "",
        "| events | peer | analysis | peer (s) | journeys (s) | journeys faster by | same answer | "
        "peer peak (MiB) |",
        "|---:|---|---|---:|---:|---:|---|---:|",
    ]
    for size in args.sizes:
        path = dataset(size)
        ours: dict[str, dict[str, Any]] = {}
        for case, analysis in PAIRS.items():
            if analysis not in ours:
                ours[analysis] = in_child("journeys", analysis, path)
            mine = ours[analysis]
            theirs = peer(case, path, args.timeout)
            name, _, what = case.partition(" ")
            if isinstance(theirs, str):
                lines.append(f"| {size:,} | {name} | {what} | {theirs} | | | | |")
                print(size, case, theirs, flush=True)
                continue
            same = same_answer(theirs["answer"], mine["answer"])
            peer_time = statistics.median(theirs["times"])
            our_time = statistics.median(mine["times"])
            faster = f"{peer_time / our_time:.1f}x" if same else "(answers differ)"
            lines.append(
                f"| {size:,} | {name} | {what} | {peer_time:.2f} | {our_time:.2f} | {faster} | "
                f"{'yes' if same else 'NO'} | {theirs['peak_mib']:,.0f} |"
            )
            print(size, case, peer_time, our_time, same, flush=True)
    replace_section(HEADING, lines)


if __name__ == "__main__":
    main()
