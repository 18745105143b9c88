"""Customer-value models on a million customers: fit time and peak memory.

Customers are simulated from the BG/NBD model with the CDNOW parameters (first purchases
spread over 12 weeks, 39 weeks of observation, times to the day). Each model is fitted in
a fresh process, so each peak memory is its own; the end-to-end case reads the purchases
from Parquet and runs ``journeys.clv`` (summary in the engine, all three fits, per-customer
values). The section "Customer value" of RESULTS.md is rewritten.

    python benchmarks/clv_fit.py --customers 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
DATA = HERE / "data"
HEADING = "## Customer value: fitting a million customers"
PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def simulate(customers: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Frequency, recency and T (weeks, to the day) and purchase days of simulated customers."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(PARAMS["r"], 1 / PARAMS["alpha"], customers)
    dropout = rng.beta(PARAMS["a"], PARAMS["b"], customers)
    first_day = rng.integers(0, 84, customers)
    age_days = 273 - first_day
    time = np.zeros(customers)
    alive = np.ones(customers, dtype=bool)
    days: list[np.ndarray] = [first_day.astype(float)]
    owners: list[np.ndarray] = [np.arange(customers)]
    frequency = np.zeros(customers)
    last = np.zeros(customers)
    for _ in range(200):
        time = time + rng.exponential(1 / np.maximum(rate, 1e-300)) * 7
        bought = alive & (time <= age_days)
        if not bought.any():
            break
        frequency += bought
        last = np.where(bought, np.floor(time), last)
        days.append(first_day[bought] + np.floor(time[bought]))
        owners.append(np.flatnonzero(bought))
        alive = bought & (rng.random(customers) >= dropout)
    return {
        "frequency": frequency,
        "recency": last / 7,
        "T": age_days / 7.0,
        "owner": np.concatenate(owners),
        "day": np.concatenate(days),
    }


def purchases_file(customers: int) -> Path:
    """The simulated purchases as a Parquet transaction log (customer, date, amount)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = DATA / f"purchases_{customers}.parquet"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    data = simulate(customers)
    rng = np.random.default_rng(2)
    start = np.datetime64("1997-01-01")
    table = pa.table(
        {
            "customer_id": data["owner"].astype(str),
            "date": start + data["day"].astype("timedelta64[D]"),
            "amount": np.round(rng.gamma(6.25, 35.0 / 6.25, len(data["owner"])), 2),
        }
    )
    pq.write_table(table, path)
    return path


def measure(case: str, customers: int) -> dict[str, Any]:
    """Run one case in this process and report its time and answer."""
    from journeys.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel

    if case == "clv end to end":
        import journeys

        path = purchases_file(customers)
        events = journeys.read_events(path, every_row_is="purchase")
        start = time.perf_counter()
        result = journeys.clv(
            events, journeys.ClvParams(calibration_end="1997-09-30", time_unit="week")
        )
        seconds = time.perf_counter() - start
        answer = {k: round(v, 3) for k, v in result.bgnbd.params.items()}
    else:
        data = simulate(customers)
        x, t_x, age = data["frequency"], data["recency"], data["T"]
        start = time.perf_counter()
        if case == "Gamma-Gamma":
            rng = np.random.default_rng(3)
            repeaters = x > 0
            values = rng.gamma(
                6.25 * x[repeaters],
                1 / (x[repeaters] * rng.gamma(3.74, 1 / 15.44, repeaters.sum())),
            )
            model: Any = GammaGammaModel().fit(x[repeaters], values)
        else:
            model = (BetaGeoModel if case == "BG/NBD" else ParetoNBDModel)().fit(x, t_x, age)
        seconds = time.perf_counter() - start
        answer = {k: round(v, 3) for k, v in model.params.items()}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib": peak, "answer": answer}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("CASE", "CUSTOMERS"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]))))
        return
    rows = []
    for case in ("BG/NBD", "Pareto/NBD", "Gamma-Gamma", "clv end to end"):
        done = subprocess.run(
            [sys.executable, __file__, "--child", case, str(args.customers)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append((case, result))
        print(case, result, flush=True)
    lines = [
        HEADING,
        "",
        f"{args.customers:,} customers simulated from BG/NBD with the CDNOW parameters "
        f"({', '.join(f'{k} = {v}' for k, v in PARAMS.items())}); `python benchmarks/clv_fit.py`.",
        "Fit = maximum likelihood (L-BFGS-B, Newton polish) plus standard errors; each case in "
        "its own "
        "process. The end-to-end case reads the purchases from Parquet, summarises them in DuckDB "
        "and fits all three models, then values every customer.",
        "",
        "| case | seconds | peak memory (MiB) | estimates |",
        "|---|---:|---:|---|",
    ]
    for case, result in rows:
        estimates = ", ".join(f"{k} {v}" for k, v in result["answer"].items())
        lines.append(
            f"| {case} | {result['seconds']:.2f} | {result['peak_mib']:,.0f} | {estimates} |"
        )
    fits = [result["seconds"] for case, result in rows if case != "clv end to end"]
    lines += [
        "",
        f"Target: fit a million customers in under 10 s. Slowest single model "
        f"{max(fits):.1f} s, all three models {sum(fits):.1f} s: "
        + ("met." if max(fits) < 10 else "missed."),
    ]
    sys.path.insert(0, str(HERE))
    from results import replace_section

    replace_section(HEADING, lines[2:])


if __name__ == "__main__":
    main()
