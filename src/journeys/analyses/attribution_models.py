"""Attribution models on a set of paths: the heuristics and Shapley values, defined exactly.

The input is the small aggregate the engine makes: each path is a sequence of channels
``c_1 > ... > c_n`` (n >= 1) with the conversions, the conversion value and the
non-conversions ("nulls") that followed it. Every model splits each path's conversions
(and, separately, its value) among the touches of the path; a channel's attribution is
the sum of its shares over all paths, so each model's attributions add up to the total.

Heuristics (the share of a path's conversions each touch gets; a channel touched twice
gets two shares):

- first touch: all to ``c_1``; last touch: all to ``c_n``;
- linear: ``1/n`` to each touch;
- position based with weights ``(f, l)`` (default 0.4, 0.4): one touch gets 1; two touches
  get ``f/(f+l)`` and ``l/(f+l)``; from three touches, ``f`` to the first, ``l`` to the last
  and ``(1-f-l)/(n-2)`` to each touch between.

The Markov chains are defined in :mod:`journeys.analyses.attribution_markov`.

Shapley values over channels, with the characteristic function ``v(S)``:

- ``conversions``: the conversions of the paths whose set of channels lies within ``S``.
  This game is the sum over paths of the unanimity game of the path's channel set, so the
  Shapley value of a channel is exactly ``sum over paths containing it of conversions /
  (number of distinct channels in the path)``, whatever the number of channels (Zhao, Mahboobi
  and Bagheri (2018), "Shapley value methods for attribution modeling in online advertising").
- ``rate``: the conversion rate of those paths (conversions over conversions + nulls; 0 with
  no path). Exact by enumeration of every coalition up to 15 channels; beyond, the mean of
  the marginal contributions over random orders of the channels (permutation sampling, with
  the given seed), with its standard error. The values, which add up to the overall rate,
  are scaled to the total conversions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Integers = NDArray[np.int64]

#: Up to this many channels, Shapley values of the ``rate`` game are exact.
EXACT_SHAPLEY_CHANNELS = 15


@dataclass(frozen=True)
class PathSet:
    """Paths as flat arrays: channel ids of every touch, and where each path starts.

    ``touches[offsets[i]:offsets[i + 1]]`` are the channel ids of path ``i`` (indices into
    ``channels``); every path has at least one touch.
    """

    channels: tuple[str, ...]
    touches: Integers
    offsets: Integers
    conversions: Floats
    value: Floats
    nulls: Floats

    @classmethod
    def from_lists(
        cls,
        paths: Sequence[Sequence[str]],
        conversions: Sequence[float],
        value: Sequence[float] | None = None,
        nulls: Sequence[float] | None = None,
    ) -> PathSet:
        """Paths given as lists of channel names.

        Examples
        --------
        >>> paths = PathSet.from_lists([["a", "b"], ["b"]], [1, 0], nulls=[0, 1])
        >>> paths.channels
        ('a', 'b')
        """
        array = pa.array([list(path) for path in paths], type=pa.list_(pa.string()))
        return cls.from_arrow(array, conversions, value, nulls)

    @classmethod
    def from_arrow(
        cls,
        paths: pa.Array | pa.ChunkedArray,
        conversions: Sequence[float] | Floats,
        value: Sequence[float] | Floats | None = None,
        nulls: Sequence[float] | Floats | None = None,
    ) -> PathSet:
        """Paths from an Arrow list-of-strings array (as the engine returns them)."""
        if isinstance(paths, pa.ChunkedArray):
            paths = paths.combine_chunks() if paths.num_chunks else pa.array([], paths.type)
        flat = paths.flatten()
        encoded = pc.dictionary_encode(flat)
        names = [str(name) for name in encoded.dictionary.to_pylist()]
        order = np.argsort(np.array(names, dtype=object), kind="stable")
        rank = np.empty(len(names), dtype=np.int64)
        rank[order] = np.arange(len(names))
        indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        offsets = paths.offsets.to_numpy().astype(np.int64)
        offsets = offsets - offsets[0]
        count = len(paths)
        return cls(
            channels=tuple(names[i] for i in order),
            touches=rank[indices] if len(indices) else indices,
            offsets=offsets,
            conversions=_floats(conversions, count),
            value=_floats(value, count),
            nulls=_floats(nulls, count),
        )

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @cached_property
    def lengths(self) -> Integers:
        """The number of touches of each path."""
        lengths: Integers = np.diff(self.offsets)
        return lengths

    @cached_property
    def path_of_touch(self) -> Integers:
        """The path each touch belongs to."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths)

    @cached_property
    def position(self) -> Integers:
        """Each touch's place in its path (0 for the first)."""
        return np.arange(len(self.touches), dtype=np.int64) - self.offsets[self.path_of_touch]

    def per_channel(self, shares: Floats, weights: Floats) -> Floats:
        """Sum over touches of ``share x weight of the touch's path``, per channel."""
        totals = np.bincount(
            self.touches, weights=shares * weights[self.path_of_touch], minlength=len(self.channels)
        )
        return totals.astype(np.float64)


def _floats(values: Sequence[float] | Floats | None, count: int) -> Floats:
    if values is None:
        return np.zeros(count, dtype=np.float64)
    array = np.asarray(values, dtype=np.float64)
    return np.nan_to_num(array, nan=0.0)


# --- heuristics ---------------------------------------------------------------------------


def touch_shares(paths: PathSet, first: float = 0.4, last: float = 0.4) -> dict[str, Floats]:
    """Each touch's share of its path's conversions under each heuristic."""
    lengths = paths.lengths[paths.path_of_touch]
    position = paths.position
    is_first = position == 0
    is_last = position == lengths - 1
    pair = first + last
    two_first = first / pair if pair > 0 else 0.5
    position_based = np.select(
        [lengths == 1, lengths == 2, is_first, is_last],
        [
            np.ones_like(lengths, dtype=np.float64),
            np.where(is_first, two_first, 1.0 - two_first),
            np.full(len(lengths), first),
            np.full(len(lengths), last),
        ],
        default=(1.0 - first - last) / np.maximum(lengths - 2, 1),
    )
    return {
        "first_touch": is_first.astype(np.float64),
        "last_touch": is_last.astype(np.float64),
        "linear": 1.0 / lengths,
        "position_based": position_based,
    }


def heuristics(
    paths: PathSet, weights: Floats, first: float = 0.4, last: float = 0.4
) -> dict[str, Floats]:
    """Per channel, the ``weights`` (conversions or value) each heuristic attributes to it."""
    return {
        model: paths.per_channel(shares, weights)
        for model, shares in touch_shares(paths, first, last).items()
    }


# --- Shapley values -----------------------------------------------------------------------


@dataclass(frozen=True)
class ShapleyValues:
    """Shapley values per channel (as attributed conversions) and how they were found."""

    conversions: Floats
    value: Floats
    standard_error: Floats | None
    method: str
    permutations: int | None


def _distinct_channels(paths: PathSet) -> tuple[Integers, Integers]:
    """The (path, channel) pairs with each channel of a path once, sorted by path."""
    channels = len(paths.channels)
    pairs = np.sort(paths.path_of_touch * channels + paths.touches)
    # Sorted and compared rather than np.unique, whose hashing is slower on millions of pairs.
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    return pairs // channels, pairs % channels


def shapley(
    paths: PathSet,
    game: str = "conversions",
    *,
    permutations: int = 1000,
    seed: int = 0,
    exact_up_to: int = EXACT_SHAPLEY_CHANNELS,
) -> ShapleyValues:
    """Shapley values of the ``conversions`` or ``rate`` game (see the module's definitions)."""
    path_of, channel_of = _distinct_channels(paths)
    if game == "conversions":
        distinct = np.bincount(path_of, minlength=len(paths)).astype(np.float64)
        share = np.divide(1.0, distinct, out=np.zeros_like(distinct), where=distinct > 0)
        count = len(paths.channels)
        conversions = np.bincount(
            channel_of, weights=(paths.conversions * share)[path_of], minlength=count
        )
        value = np.bincount(channel_of, weights=(paths.value * share)[path_of], minlength=count)
        return ShapleyValues(
            conversions.astype(np.float64), value.astype(np.float64), None, "exact", None
        )
    if len(paths.channels) <= exact_up_to:
        rates, errors, method, drawn = _rate_exact(paths, path_of, channel_of), None, "exact", None
    else:
        rates, errors = _rate_sampled(paths, path_of, channel_of, permutations, seed)
        method, drawn = "sampled", permutations
    total_conversions = float(paths.conversions.sum())
    overall = total_conversions / float((paths.conversions + paths.nulls).sum() or 1.0)
    scale = total_conversions / overall if overall > 0 else 0.0
    value_scale = float(paths.value.sum()) / overall if overall > 0 else 0.0
    return ShapleyValues(
        rates * scale,
        rates * value_scale,
        None if errors is None else errors * scale,
        method,
        drawn,
    )


def _rate_exact(paths: PathSet, path_of: Integers, channel_of: Integers) -> Floats:
    count = len(paths.channels)
    masks = np.bincount(path_of, weights=(1 << channel_of).astype(np.float64), minlength=len(paths))
    masks = masks.astype(np.int64)
    size = 1 << count
    converted = np.bincount(masks, weights=paths.conversions, minlength=size)
    walks = np.bincount(masks, weights=paths.conversions + paths.nulls, minlength=size)
    for bit in range(count):
        for table in (converted, walks):
            view = table.reshape(-1, 2, 1 << bit)
            view[:, 1, :] += view[:, 0, :]
    rate = np.divide(converted, walks, out=np.zeros(size), where=walks > 0)
    members = np.array([bin(mask).count("1") for mask in range(size)])
    weights = np.array(
        [
            math.factorial(s) * math.factorial(count - s - 1) / math.factorial(count)
            for s in range(count)
        ]
    )
    values = np.zeros(count)
    everything = np.arange(size)
    for channel in range(count):
        without = everything[(everything >> channel) & 1 == 0]
        values[channel] = float(
            (weights[members[without]] * (rate[without | (1 << channel)] - rate[without])).sum()
        )
    return values


def _rate_sampled(
    paths: PathSet, path_of: Integers, channel_of: Integers, permutations: int, seed: int
) -> tuple[Floats, Floats]:
    count = len(paths.channels)
    generator = np.random.default_rng(seed)
    starts = np.flatnonzero(np.r_[True, path_of[1:] != path_of[:-1]])
    owners = path_of[starts]
    converted = paths.conversions[owners]
    walks = (paths.conversions + paths.nulls)[owners]
    total = np.zeros(count)
    squares = np.zeros(count)
    for _ in range(permutations):
        order = generator.permutation(count)
        rank = np.empty(count, dtype=np.int64)
        rank[order] = np.arange(count)
        joins = np.maximum.reduceat(rank[channel_of], starts)
        gained = np.cumsum(np.bincount(joins, weights=converted, minlength=count))
        seen = np.cumsum(np.bincount(joins, weights=walks, minlength=count))
        rate = np.divide(gained, seen, out=np.zeros(count), where=seen > 0)
        marginal = np.diff(rate, prepend=0.0)
        contribution = np.empty(count)
        contribution[order] = marginal
        total += contribution
        squares += contribution**2
    mean = total / permutations
    spread = np.maximum(squares / permutations - mean**2, 0.0)
    errors = np.sqrt(spread / max(permutations - 1, 1))
    return mean, errors
