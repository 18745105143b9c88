"""Attribution over millions of paths, and ChannelAttribution's simulated removal effects
against the exact ones.

Generates journeys over 50 channels (a channel tends to lead to the next few, paths of 1 to
20 touches, each journey converting with a probability set by its channels), writes them as
a paths file in ChannelAttribution's format (one row per journey: ``path``,
``total_conversions``, ``total_conversion_value``, ``total_null``) and times
``journeys.attribution_from_paths`` end to end (reading the Parquet file in the engine,
splitting the paths, every model) at Markov orders 1 and 3. ChannelAttribution (GPL, in the
peers environment only: ``make benchmarks/.venv-peers/.installed``) runs on the same paths,
aggregated to distinct paths, in a process of its own; its removal effects are compared
with journeys' exact ones.

    python benchmarks/attribution_bench.py --paths 10000000 --orders 1 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).parent
DATA = HERE / "data"
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
RESULTS = HERE / "RESULTS.md"
HEADING = "## Attribution"

PEER_SCRIPT = """
import json, sys, time
import pandas as pd
from ChannelAttribution import markov_model
source, order = sys.argv[1], int(sys.argv[2])
simulations, seed = float(sys.argv[3]), int(sys.argv[4])
data = pd.read_parquet(source)
start = time.perf_counter()
found = markov_model(data, "path", "total_conversions", var_value="total_conversion_value",
                     var_null="total_null", order=order, out_more=True, verbose=False,
                     flg_pro=False, ncore=2, seed=seed, nsim_start=simulations)
seconds = time.perf_counter() - start
effects = found["removal_effects"]
print(json.dumps({"seconds": seconds, "removal_effects": dict(zip(effects["channel_name"],
      effects["removal_effects_conversion"])), "conversions": dict(zip(
      found["result"]["channel_name"], found["result"]["total_conversions"]))}))
"""


def generate(journeys: int, channels: int, seed: int) -> pa.Table:
    """Journeys as a paths table, built with numpy (no loop over journeys)."""
    generator = np.random.default_rng(seed)
    lengths = np.minimum(generator.geometric(0.3, journeys), 20)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    popularity = 1.0 / np.arange(1, channels + 1) ** 0.8
    popularity /= popularity.sum()
    touches = generator.choice(channels, size=offsets[-1], p=popularity)
    # A touch follows on from the one before it (the next one to three channels) half the time.
    position = np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)
    step = generator.integers(1, 4, size=offsets[-1])
    follows = (position > 0) & (generator.random(offsets[-1]) < 0.5)
    for _ in range(int(lengths.max())):
        previous = np.roll(touches, 1)
        touches = np.where(follows, (previous + step) % channels, touches)
    strength = generator.normal(0.0, 0.6, channels)
    score = np.add.reduceat(strength[touches], offsets[:-1]) - 2.5
    converts = generator.random(journeys) < 1.0 / (1.0 + np.exp(-score))
    names = pa.array([f"channel_{i:02d}" for i in range(channels)])
    listed = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), names.take(touches))
    value = np.where(converts, generator.lognormal(4.0, 0.5, journeys), 0.0)
    return pa.table(
        {
            "path": pc.binary_join(listed, " > "),
            "total_conversions": converts.astype(np.int64),
            "total_conversion_value": value.round(2),
            "total_null": (~converts).astype(np.int64),
        }
    )


def distinct(table: pa.Table) -> pa.Table:
    """One row per distinct path, counts added up (the input ChannelAttribution expects)."""
    return (
        table.group_by("path")
        .aggregate(
            [
                ("total_conversions", "sum"),
                ("total_conversion_value", "sum"),
                ("total_null", "sum"),
            ]
        )
        .rename_columns(["path", "total_conversions", "total_conversion_value", "total_null"])
    )


def journeys_run(source: Path, order: int) -> dict[str, Any]:
    """journeys on the paths file, in a fresh process (its time and peak memory)."""
    code = (
        "import json, sys, time\n"
        "from journeys.analyses.attribution import attribution_from_paths\n"
        "start = time.perf_counter()\n"
        f"result = attribution_from_paths({str(source)!r}, order={order})\n"
        "seconds = time.perf_counter() - start\n"
        "import resource\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "table = result.channels\n"
        "print(json.dumps({'seconds': seconds, 'peak_mib': peak,"
        " 'probability': result.conversion_probability,"
        " 'paths': result.distinct_paths, 'transitions': result.transitions_total,"
        " 'removal_effects': dict(zip(table['channel'], table['removal_effect'])),"
        " 'markov': dict(zip(table['channel'], table['markov']))}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def events_run(source: Path, order: int) -> dict[str, Any]:
    """journeys from the events of a benchmark log (every event name a channel, purchases the
    conversions), in a fresh process; reading the events is timed apart."""
    code = (
        "import json, time, resource\n"
        "import journeys\n"
        "from journeys.analyses.attribution import AttributionParams, attribution\n"
        "start = time.perf_counter()\n"
        f"events = journeys.load({str(source)!r})\n"
        "reading = time.perf_counter() - start\n"
        "start = time.perf_counter()\n"
        f"params = AttributionParams(conversion='purchase', level='event', order={order})\n"
        "result = attribution(events, params)\n"
        "seconds = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': seconds, 'reading': reading, 'peak_mib': peak,"
        " 'channels': len(result.channels), 'paths': result.distinct_paths,"
        " 'conversions': result.conversions, 'non_conversions': result.non_conversions,"
        " 'transitions': result.transitions_total}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def peer_run(
    source: Path, order: int, timeout: int, simulations: float = 1e5, seed: int = 1
) -> dict[str, Any] | str:
    if not PEERS_PYTHON.exists():
        return "peers environment not installed"
    try:
        done = subprocess.run(
            [
                str(PEERS_PYTHON),
                "-c",
                PEER_SCRIPT,
                str(source),
                str(order),
                str(simulations),
                str(seed),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"did not finish in {timeout} s"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return (done.stderr.strip().splitlines() or ["no output"])[-1]
    found: dict[str, Any] = json.loads(lines[-1])
    return found


def gaps(exact: dict[str, float], simulated: dict[str, float]) -> tuple[float, float]:
    """The largest absolute and relative difference between two sets of removal effects."""
    absolute = [abs(simulated.get(name, 0.0) - value) for name, value in exact.items()]
    relative = [
        abs(simulated.get(name, 0.0) - value) / value for name, value in exact.items() if value
    ]
    return max(absolute), max(relative)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--peer-timeout", type=int, default=1800)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument(
        "--convergence",
        type=float,
        nargs="*",
        default=[],
        help="also run ChannelAttribution with these numbers of simulations (two seeds each) "
        "on the first size, to see its removal effects approach the exact ones",
    )
    parser.add_argument(
        "--events",
        type=int,
        nargs="*",
        default=[],
        help="also time attribution from these benchmark logs (benchmarks/generate.py)",
    )
    parser.add_argument("--write", action="store_true", help="append the table to RESULTS.md")
    arguments = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    rows = []
    for count in arguments.paths:
        source = DATA / f"attribution_paths_{count}.parquet"
        grouped = DATA / f"attribution_distinct_{count}.parquet"
        if not source.exists():
            table = generate(count, arguments.channels, seed=20261123)
            pq.write_table(table, source)
            pq.write_table(distinct(table), grouped)
        for order in arguments.orders:
            ours = journeys_run(source, order)
            print(f"{count:,} paths, order {order}: journeys {ours['seconds']:.1f} s", flush=True)
            row: dict[str, Any] = {"paths": count, "order": order, "journeys": ours}
            if not arguments.no_peer:
                row["peer"] = peer_run(grouped, order, arguments.peer_timeout)
                print(f"  ChannelAttribution: {row['peer']}"[:300], flush=True)
            rows.append(row)
    lines = table_lines(rows) if rows else []
    if arguments.convergence:
        lines += convergence_lines(arguments, rows)
    for count in arguments.events:
        for order in arguments.orders:
            found = events_run(DATA / f"events_{count}.parquet", order)
            print(f"{count:,} events, order {order}: {found}", flush=True)
            found |= {"events": count, "order": order}
            lines += event_lines(
                found, first=count == arguments.events[0] and order == arguments.orders[0]
            )
    print("\n".join(lines))
    if arguments.write:
        with RESULTS.open("a") as handle:
            handle.write("\n" + "\n".join(lines) + "\n")


def convergence_lines(arguments: argparse.Namespace, rows: list[dict[str, Any]]) -> list[str]:
    """ChannelAttribution's removal effects against the exact ones as its simulations grow,
    and against its own run with another seed."""
    count = arguments.paths[0]
    lines = [
        "",
        "| paths | order | simulations | ChannelAttribution (s) | largest gap to exact "
        "| mean gap to exact | largest gap between two seeds |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for order in arguments.orders:
        exact = next(r for r in rows if r["paths"] == count and r["order"] == order)["journeys"]
        for simulations in arguments.convergence:
            source = DATA / f"attribution_distinct_{count}.parquet"
            runs = [
                peer_run(source, order, arguments.peer_timeout, simulations, seed)
                for seed in (1, 2)
            ]
            if not all(isinstance(run, dict) for run in runs):
                lines.append(f"| {count:,} | {order} | {simulations:,.0f} | {runs} | | | |")
                continue
            first, second = (run for run in runs if isinstance(run, dict))
            effects = exact["removal_effects"]
            gaps_to_exact = [abs(first["removal_effects"][k] - v) for k, v in effects.items()]
            between = max(
                abs(first["removal_effects"][k] - second["removal_effects"][k]) for k in effects
            )
            lines.append(
                f"| {count:,} | {order} | {simulations:,.0f} | {first['seconds']:.1f} "
                f"| {max(gaps_to_exact):.4f} | {sum(gaps_to_exact) / len(gaps_to_exact):.4f} "
                f"| {between:.4f} |"
            )
            print(lines[-1], flush=True)
    return lines


def event_lines(found: dict[str, Any], *, first: bool) -> list[str]:
    heading = [
        "",
        "| events | order | channels | paths (distinct) | conversions | non-conversions "
        "| reading (s) | attribution (s) | peak (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    line = (
        f"| {found['events']:,} | {found['order']} | {found['channels']} | {found['paths']:,} "
        f"| {found['conversions']:,.0f} | {found['non_conversions']:,.0f} "
        f"| {found['reading']:.1f} | {found['seconds']:.1f} | {found['peak_mib']:,.0f} |"
    )
    return [*heading, line] if first else [line]


def table_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| paths | order | distinct paths | transitions | journeys (s) | journeys peak (MiB) "
        "| ChannelAttribution (s) | largest gap in removal effect | largest relative gap |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours = row["journeys"]
        peer = row.get("peer")
        if isinstance(peer, dict):
            absolute, relative = gaps(ours["removal_effects"], peer["removal_effects"])
            peer_cells = f"{peer['seconds']:.1f} | {absolute:.4f} | {relative:.1%}"
        else:
            peer_cells = f"{peer or 'not run'} | | "
        lines.append(
            f"| {row['paths']:,} | {row['order']} | {ours['paths']:,} | {ours['transitions']:,} "
            f"| {ours['seconds']:.1f} | {ours['peak_mib']:,.0f} | {peer_cells} |"
        )
    return lines


if __name__ == "__main__":
    main()
