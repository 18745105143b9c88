"""Synthetic event logs for benchmarks: many customers, tens of event names, skewed activity.

Each customer's path is a Markov chain over 40 event names (a few busy pages, a long
tail of rare actions, a checkout sequence that some customers walk through), with a
heavy-tailed number of events per customer and gaps from seconds to weeks. Written as
Parquet in chunks, so 100 million events never sit in memory at once.

    python benchmarks/generate.py --events 10000000 --out benchmarks/data/events_10m.parquet
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NAMES = [
    "home",
    "catalog",
    "search",
    "product_view",
    "add_to_cart",
    "cart",
    "checkout_start",
    "shipping",
    "payment",
    "purchase",
    "login",
    "logout",
    "signup",
    "wishlist",
    "review_read",
    "review_write",
    "support_page",
    "support_chat",
    "faq",
    "newsletter",
    "promo_view",
    "coupon_apply",
    "account",
    "order_status",
    "return_start",
    "return_done",
    "share",
    "compare",
    "filter",
    "sort",
    "banner_click",
    "recommendation_click",
    "video_play",
    "size_guide",
    "store_locator",
    "app_open",
    "push_open",
    "email_open",
    "survey",
    "referral",
]
FUNNEL = ["catalog", "product_view", "add_to_cart", "checkout_start", "purchase"]
EVENTS_PER_CUSTOMER = 30
CHUNK_CUSTOMERS = 200_000
START_US = 1_704_067_200_000_000  # 2024-01-01 UTC


def transition_matrix(rng: np.random.Generator) -> np.ndarray:
    """Row i: probabilities of the next event after event i (Zipf-like, with a checkout path)."""
    size = len(NAMES)
    popularity = 1.0 / np.arange(1, size + 1) ** 1.1
    matrix = np.tile(popularity, (size, 1)) * rng.uniform(0.5, 1.5, (size, size))
    index = {name: i for i, name in enumerate(NAMES)}
    for here, after in itertools.pairwise(FUNNEL):
        matrix[index[here], index[after]] += matrix[index[here]].sum() * 0.6
    matrix[index["checkout_start"], index["shipping"]] += matrix[index["checkout_start"]].sum()
    matrix[index["shipping"], index["payment"]] += matrix[index["shipping"]].sum() * 2
    matrix[index["payment"], index["purchase"]] += matrix[index["payment"]].sum() * 2
    return matrix / matrix.sum(axis=1, keepdims=True)


def chunk(
    rng: np.random.Generator, first_id: int, customers: int, cumulative: np.ndarray
) -> pa.Table:
    """Events of ``customers`` customers, ids from ``first_id``."""
    lengths = np.minimum(rng.lognormal(np.log(EVENTS_PER_CUSTOMER * 0.6), 1.0, customers), 1500)
    lengths = np.maximum(lengths.astype(np.int64), 1)
    state = rng.choice(len(NAMES), size=customers, p=[0.5, 0.3, 0.2] + [0.0] * (len(NAMES) - 3))
    clock = START_US + rng.integers(0, 365 * 86_400, customers) * 1_000_000
    ids, events, times = [], [], []
    alive = np.arange(customers)
    position = 0
    while alive.size:
        ids.append(alive + first_id)
        events.append(state[alive])
        times.append(clock[alive])
        position += 1
        alive = alive[lengths[alive] > position]
        draws = rng.random(alive.size)
        state[alive] = (cumulative[state[alive]] < draws[:, None]).sum(axis=1)
        session_gap = rng.random(alive.size) < 0.1
        gaps = np.where(
            session_gap,
            rng.exponential(1.5 * 86_400, alive.size),
            rng.exponential(40, alive.size),
        )
        clock[alive] += (gaps * 1_000_000).astype(np.int64) + 1
    customer = np.concatenate(ids)
    return pa.table(
        {
            "user_id": pa.array(customer, pa.int64()),
            "event": pa.DictionaryArray.from_arrays(
                pa.array(np.concatenate(events), pa.int32()), pa.array(NAMES)
            ).cast(pa.string()),
            "timestamp": pa.array(np.concatenate(times), pa.timestamp("us")),
        }
    )


def generate(events: int, out: Path, seed: int = 11) -> int:
    """Write about ``events`` events to ``out``; returns the number written."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(transition_matrix(rng), axis=1)
    customers = max(events // EVENTS_PER_CUSTOMER, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    writer: pq.ParquetWriter | None = None
    try:
        for first in range(0, customers, CHUNK_CUSTOMERS):
            table = chunk(rng, first, min(CHUNK_CUSTOMERS, customers - first), cumulative)
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema)
            writer.write_table(table, row_group_size=1_000_000)
            written += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    written = generate(args.events, args.out, args.seed)
    print(f"{written:,} events written to {args.out}")


if __name__ == "__main__":
    main()
