"""Peer tools on the benchmark logs: pandas, retentioneering 5.x and pm4py.

Runs in its own environment (``make bench-peers`` builds ``benchmarks/.venv-peers`` from
``benchmarks/peers-constraints.txt``), never imports journeys, and prints one JSON line
per case: times, the answer in the same shape as ``cases.py`` gives, and peak memory.

    benchmarks/.venv-peers/bin/python benchmarks/peers.py CASE PATH
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

FUNNEL = ["catalog", "product_view", "add_to_cart", "checkout_start", "purchase"]
WINDOW = pd.Timedelta(days=30)
MAX_STEPS = 10
RUNS = 3
Answer = dict[str, Any]


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["user_id", "timestamp", "event"], kind="stable", ignore_index=True)


def pandas_step_matrix(frame: pd.DataFrame) -> Answer:
    frame = ordered(frame)
    position = frame.groupby("user_id").cumcount() + 1
    kept = frame.loc[position <= MAX_STEPS, "event"]
    counts = pd.DataFrame({"event": kept, "position": position[position <= MAX_STEPS]})
    table = counts.value_counts()
    return {f"{event}@{pos}": int(n) for (event, pos), n in table.items()}


def pandas_transitions(frame: pd.DataFrame) -> Answer:
    """Transition counts, customers and the median time between (as journeys reports)."""
    frame = ordered(frame)
    by_user = frame.groupby("user_id")
    following = by_user["event"].shift(-1)
    seconds = (by_user["timestamp"].shift(-1) - frame["timestamp"]).dt.total_seconds()
    pairs = pd.DataFrame(
        {"user_id": frame["user_id"], "a": frame["event"], "b": following, "s": seconds}
    )
    pairs = pairs.dropna(subset=["b"])
    table = pairs.groupby(["a", "b"]).agg(
        n=("user_id", "size"), c=("user_id", "nunique"), m=("s", "median")
    )
    return {
        f"{a}>{b}": [int(row.n), int(row.c), round(float(row.m), 3)]
        for (a, b), row in table.iterrows()
    }


def pandas_paths(frame: pd.DataFrame) -> Answer:
    frame = ordered(frame)
    frame["position"] = frame.groupby("user_id").cumcount()
    anchors = frame[frame["event"] == "add_to_cart"].groupby("user_id")["position"].min()
    start = frame["user_id"].map(anchors)
    walk = frame[(frame["position"] >= start) & (frame["position"] <= start + 3)]
    steps = walk.assign(step=walk["position"] - start[walk.index])
    wide = steps.pivot(index="user_id", columns="step", values="event")
    wide = wide.reindex(columns=range(4)).fillna("END")
    names = wide.apply(_path_name, axis=1)
    counts = names.value_counts()
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0].split(" > ")))[:20]
    return {name: int(n) for name, n in top}


def _path_name(row: pd.Series) -> str:
    kept = []
    for node in row:
        kept.append(node)
        if node == "END":
            break
    return " > ".join(kept)


def pandas_retention(frame: pd.DataFrame) -> Answer:
    month = frame["timestamp"].dt.to_period("M")
    cohort = month.groupby(frame["user_id"]).transform("min")
    period = (month - cohort).apply(lambda offset: offset.n)
    active = pd.DataFrame({"user": frame["user_id"], "cohort": cohort, "period": period})
    table = active.drop_duplicates().groupby(["cohort", "period"]).size()
    return {f"{cohort}+{period}": int(n) for (cohort, period), n in table.items()}


def pandas_funnel(frame: pd.DataFrame) -> Answer:
    """The same exact ordered funnel as journeys (a range window per step), in pandas."""
    steps = frame[frame["event"].isin(FUNNEL)]
    steps = ordered(steps).set_index("timestamp")
    carried = pd.Series(
        steps.index.where(steps["event"] == FUNNEL[0]), index=steps.index, dtype="datetime64[us]"
    )
    reached = [int(steps.loc[steps["event"] == FUNNEL[0], "user_id"].nunique())]
    for step in FUNNEL[1:]:
        work = pd.DataFrame(
            {
                "user_id": steps["user_id"].to_numpy(),
                "c": carried.astype("int64").where(carried.notna()),
            },
            index=steps.index,
        )
        previous = (
            work.groupby("user_id")["c"]
            .rolling(WINDOW, closed="left")
            .max()
            .reset_index(level=0, drop=True)
        )
        previous.index = steps.index
        hit = (steps["event"] == step).to_numpy() & previous.notna().to_numpy()
        start = pd.to_datetime(previous.where(hit), unit="us")
        inside = hit & ((steps.index - start) <= WINDOW).to_numpy()
        carried = pd.Series(start.where(inside).to_numpy(), index=steps.index)
        reached.append(int(steps.loc[inside, "user_id"].nunique()))
    return {"customers": reached}


def _eventstream(frame: pd.DataFrame) -> Any:
    from retentioneering.eventstream import Eventstream

    return Eventstream(frame[["user_id", "event", "timestamp"]])


def retentioneering_funnel(frame: pd.DataFrame) -> Answer:
    result = _eventstream(frame).funnel_data(steps=FUNNEL)
    return {"customers": [int(step["unique_paths"]) for step in result["steps"]]}


def retentioneering_step_matrix(frame: pd.DataFrame) -> Answer:
    stream = _eventstream(frame)
    paths = frame["user_id"].nunique()
    table = stream.step_matrix_data(max_steps=MAX_STEPS)
    answer = {}
    for event, row in table.iterrows():
        if str(event).startswith("path_") or str(event) in ("ENDED", "THRESHOLDED"):
            continue
        for position, share in row.items():
            count = round(float(share) * paths)
            if count:
                answer[f"{event}@{int(position)}"] = count
    return answer


def retentioneering_transitions(frame: pd.DataFrame) -> Answer:
    stream = _eventstream(frame)
    counts = stream.transition_graph_data(edge_weight="count")
    paths = stream.transition_graph_data(edge_weight="unique_paths")
    answer = {}
    for source, row in counts.iterrows():
        for target, n in row.items():
            if n and not pd.isna(n):
                answer[f"{source}>{target}"] = [int(n), int(paths.loc[source, target])]
    return answer


def pm4py_transitions(frame: pd.DataFrame) -> Answer:
    import pm4py

    log = frame.rename(columns={"user_id": "case:concept:name"})
    log["case:concept:name"] = log["case:concept:name"].astype(str)
    dfg, _, _ = pm4py.discover_dfg(
        log,
        case_id_key="case:concept:name",
        activity_key="event",
        timestamp_key="timestamp",
    )
    return {f"{a}>{b}": int(n) for (a, b), n in dfg.items()}


CASES: dict[str, Callable[[pd.DataFrame], Answer]] = {
    "pandas funnel": pandas_funnel,
    "pandas step matrix": pandas_step_matrix,
    "pandas transitions": pandas_transitions,
    "pandas paths": pandas_paths,
    "pandas retention": pandas_retention,
    "retentioneering funnel": retentioneering_funnel,
    "retentioneering step matrix": retentioneering_step_matrix,
    "retentioneering transitions": retentioneering_transitions,
    "pm4py transitions": pm4py_transitions,
}


def main() -> None:
    os.environ.setdefault("RETENTIONEERING_NO_TRACK", "1")
    case, path = sys.argv[1], Path(sys.argv[2])
    start = time.perf_counter()
    frame = pd.read_parquet(path)
    load = time.perf_counter() - start
    runs = 1 if len(sys.argv) > 3 else RUNS
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = CASES[case](frame.copy())
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load": load, "times": times, "answer": answer, "peak_mib": peak}))


if __name__ == "__main__":
    main()
