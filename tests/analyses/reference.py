"""Plain-Python computations of what the analyses measure, written apart from them.

They loop over rows on purpose: slow and obvious, to check the engine's answers on
small data and on the simple_shop clickstream.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

Row = dict[str, Any]


def by_customer(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Each customer's events in time order (ties by event name)."""
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row["customer_id"]].append(row)
    for events in grouped.values():
        events.sort(key=lambda row: (row["timestamp"], row["event"]))
    return grouped


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (as DuckDB's quantile_cont)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def matches(event: str, step: str) -> bool:
    return event in step.split("|")


def reached_steps(
    events: Sequence[Row],
    steps: Sequence[str],
    *,
    window: timedelta | None = None,
    intervals: Sequence[timedelta | None] | None = None,
    optional: Sequence[bool] | None = None,
    strict: bool = False,
    exclusions: Sequence[tuple[str, int, int]] = (),
) -> set[int]:
    """The 0-based steps that some valid sequence of this customer's events reaches.

    Searches every sequence (depth first), so only for small inputs.
    """
    count = len(steps)
    intervals = intervals or [None] * count
    optional = optional or [False] * count
    reached: set[int] = set()

    def excluded(chain: list[tuple[int, int]]) -> bool:
        """An exclusion event after the chain's step ``first``, up to a later step <= ``last``."""
        positions = dict(chain)
        for name, first, last in exclusions:
            if first - 1 not in positions:
                continue
            start = events[positions[first - 1]]["timestamp"]
            for step, position in chain:
                if not first - 1 < step <= last - 1:
                    continue
                end = events[position]["timestamp"]
                if any(e["event"] == name and start < e["timestamp"] <= end for e in events):
                    return True
        return False

    def extend(chain: list[tuple[int, int]], anchor: datetime) -> None:
        step, position = chain[-1]
        here = events[position]
        candidates = [step + 1]
        nxt = step + 1
        while nxt < count - 1 and optional[nxt]:
            nxt += 1
            candidates.append(nxt)
        for target in candidates:
            if target >= count:
                continue
            later = [position + 1] if strict else range(position + 1, len(events))
            for other_position in later:
                if other_position >= len(events):
                    continue
                other = events[other_position]
                if not matches(other["event"], steps[target]):
                    continue
                if other["timestamp"] <= here["timestamp"]:
                    continue
                if window is not None and other["timestamp"] - anchor > window:
                    continue
                limit = intervals[target]
                if limit is not None and other["timestamp"] - here["timestamp"] > limit:
                    continue
                longer = [*chain, (target, other_position)]
                if excluded(longer):
                    continue
                reached.add(target)
                extend(longer, anchor)

    for position, event in enumerate(events):
        if matches(event["event"], steps[0]):
            reached.add(0)
            extend([(0, position)], event["timestamp"])
    return reached


def funnel_counts(rows: Iterable[Row], steps: Sequence[str], **options: Any) -> list[int]:
    """Customers reaching each step, by exhaustive search."""
    counts = [0] * len(steps)
    for events in by_customer(rows).values():
        for step in reached_steps(events, steps, **options):
            counts[step] += 1
    return counts


def greedy_funnel(
    rows: Iterable[Row], steps: Sequence[str], window: timedelta | None = None
) -> list[int]:
    """Customers reaching each step of an ordered funnel with a conversion window.

    From each entry event, take the earliest next step each time; keep the best entry.
    """
    counts = [0] * len(steps)
    for events in by_customer(rows).values():
        best = 0
        for start in events:
            if not matches(start["event"], steps[0]):
                continue
            done, current = 1, start["timestamp"]
            for step in steps[1:]:
                nxt = next(
                    (
                        e["timestamp"]
                        for e in events
                        if matches(e["event"], step)
                        and e["timestamp"] > current
                        and (window is None or e["timestamp"] - start["timestamp"] <= window)
                    ),
                    None,
                )
                if nxt is None:
                    break
                done, current = done + 1, nxt
            best = max(best, done)
        for step in range(best):
            counts[step] += 1
    return counts


def interval_funnel(rows: Iterable[Row], steps: Sequence[str], interval: timedelta) -> list[int]:
    """Customers reaching each step of an ordered funnel whose every step must follow the
    previous one within ``interval`` (and strictly after it), without a window.

    An event completes step k when an event that completes step k-1 precedes it by at
    most ``interval``; a customer reaches step k when some event completes it.
    """
    counts = [0] * len(steps)
    for events in by_customer(rows).values():
        done = [e["timestamp"] for e in events if matches(e["event"], steps[0])]
        for k, step in enumerate(steps):
            if k:
                done = [
                    e["timestamp"]
                    for e in events
                    if matches(e["event"], step)
                    and any(timedelta(0) < e["timestamp"] - t <= interval for t in done)
                ]
            if not done:
                break
            counts[k] += 1
    return counts


def funnel_step_times(rows: Iterable[Row], steps: Sequence[str]) -> list[list[float]]:
    """Seconds from the previous step, per step, for an ordered funnel without a window.

    For each customer: the earliest event that completes step k, measured from the
    latest event before it that completes step k-1.
    """
    times: list[list[float]] = [[] for _ in steps]
    for events in by_customer(rows).values():
        valid = [e["timestamp"] for e in events if matches(e["event"], steps[0])]
        for k in range(1, len(steps)):
            if not valid:
                break
            earliest_previous = min(valid)
            current = [
                e["timestamp"]
                for e in events
                if matches(e["event"], steps[k]) and e["timestamp"] > earliest_previous
            ]
            if not current:
                break
            first = min(current)
            latest_before = max(t for t in valid if t < first)
            times[k].append((first - latest_before).total_seconds())
            valid = current
    return times


def transitions(rows: Iterable[Row]) -> dict[tuple[str, str], tuple[int, set[str], list[float]]]:
    """(from, to) -> (transitions, customers, seconds between)."""
    found: dict[tuple[str, str], tuple[int, set[str], list[float]]] = {}
    for customer, events in by_customer(rows).items():
        for here, after in itertools.pairwise(events):
            key = (here["event"], after["event"])
            count, customers, seconds = found.get(key, (0, set(), []))
            customers.add(customer)
            seconds.append((after["timestamp"] - here["timestamp"]).total_seconds())
            found[key] = (count + 1, customers, seconds)
    return found


def step_matrix(rows: Iterable[Row], max_steps: int) -> dict[str, list[float]]:
    """Share of customers whose k-th event is each event, plus ENDED."""
    customers = by_customer(rows)
    total = len(customers)
    shares: dict[str, list[float]] = defaultdict(lambda: [0.0] * max_steps)
    for events in customers.values():
        for k in range(max_steps):
            name = events[k]["event"] if k < len(events) else "ENDED"
            shares[name][k] += 1 / total
    return dict(shares)


def monthly_retention(rows: Iterable[Row]) -> dict[str, list[float]]:
    """Classic monthly retention by month of first event, up to the data's last month."""
    customers = by_customer(rows)

    def month(when: datetime) -> int:
        return when.year * 12 + when.month - 1

    last = max(month(e["timestamp"]) for events in customers.values() for e in events)
    cohorts: dict[int, list[set[int]]] = {}
    for events in customers.values():
        start = month(events[0]["timestamp"])
        cohorts.setdefault(start, [])
        cohorts[start].append({month(e["timestamp"]) - start for e in events})
    result = {}
    for start, members in sorted(cohorts.items()):
        label = f"{start // 12}-{start % 12 + 1:02}"
        result[label] = [
            sum(1 for active in members if k in active) / len(members)
            for k in range(last - start + 1)
        ]
    return result


def calendar_period(when: datetime, period: str) -> tuple[int, str]:
    """The number (consecutive periods differ by one) and label of a day, week, month or
    quarter; weeks start on Monday and are labelled by their Monday."""
    day = when.date()
    if period == "day":
        return day.toordinal(), day.isoformat()
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return (monday.toordinal() - 1) // 7, monday.isoformat()
    if period == "month":
        return day.year * 12 + day.month - 1, f"{day.year}-{day.month:02}"
    quarter = (day.month - 1) // 3
    return day.year * 4 + quarter, f"{day.year}-Q{quarter + 1}"


def cohort_retention(rows: Iterable[Row], period: str) -> dict[str, dict[str, Any]]:
    """Per cohort (the period of each customer's first event): its size, and for each
    period since, up to the data's last period, the share active in it (``retention``)
    and the share active in it or later (``unbounded_retention``)."""
    customers = by_customer(rows)
    last = max(calendar_period(e["timestamp"], period)[0] for es in customers.values() for e in es)
    cohorts: dict[int, tuple[str, list[set[int]]]] = {}
    for events in customers.values():
        start, label = calendar_period(events[0]["timestamp"], period)
        active = {calendar_period(e["timestamp"], period)[0] - start for e in events}
        cohorts.setdefault(start, (label, []))[1].append(active)
    result = {}
    for start, (label, members) in sorted(cohorts.items()):
        size = len(members)
        span = range(last - start + 1)
        result[label] = {
            "size": size,
            "retention": [sum(1 for a in members if k in a) / size for k in span],
            "unbounded_retention": [sum(1 for a in members if max(a) >= k) / size for k in span],
        }
    return result
