"""Attribution models on a set of paths: heuristics, Markov chains solved exactly, Shapley values.

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

Markov chain of order ``k`` (1 to 4): a state is the last ``k`` channels of a path (fewer
at its start). Each path walks ``start -> (c_1) -> (c_1, c_2) -> ... -> (c_{n-k+1}, ..., c_n)``
and then to ``conversion`` (as often as it converted) or ``null`` (as often as it did not).
Transition probabilities are the walks' counts out of each state, each path counted
``conversions + nulls`` times. The conversion probability ``p`` is the probability of
absorption in ``conversion`` from ``start``, solved exactly: with ``Q`` the transitions
between transient states and ``R`` those into ``conversion``, ``(I - Q) x = R`` and
``p = x[start]``. (By conservation of the counted flow, ``p`` equals total conversions
over ``conversions + nulls``.) The removal effect of a channel is
``1 - p_without / p``, where ``p_without`` is the conversion probability when every state
that contains the channel leads to ``null``. The Markov attribution of a channel is the
total conversions times its removal effect over the sum of all removal effects. For value,
``R`` is replaced by the value each state's conversions bring per walk out of it (the
expected value from ``start`` is then total value over walks), and the value removal
effects split the total value in the same way. Anderl, Becker, von Wangenheim and Schumann
(2016), "Mapping the customer journey: lessons learned from graph-based online attribution
modeling", International Journal of Research in Marketing 33(3).

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
import scipy.sparse as sparse
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

Floats = NDArray[np.float64]
Integers = NDArray[np.int64]

#: Up to this many channels, Shapley values of the ``rate`` game are exact.
EXACT_SHAPLEY_CHANNELS = 15
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
#: Up to this many states, each Markov system is solved by sparse LU.
DIRECT_STATES = 1000
#: Flow iteration stops when less than this share of the start's flow is still moving.
FLOW_LEFT = 1e-12
MAX_PUSHES = 100_000


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


# --- Markov chains ------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkovChain:
    """The chain of order ``order`` estimated from a path set.

    ``states`` are the transient states after ``start``, one row each: its channel ids,
    earliest first, ``-1`` where a state near a path's start has fewer than ``order``. Row and
    column ``0`` of ``counts`` is ``start``, ``i`` is ``states[i - 1]``, and the last two
    columns are ``conversion`` and ``null``. ``value_in`` is, per row, the value of the
    conversions reached from it.
    """

    order: int
    channels: tuple[str, ...]
    states: Integers
    counts: sparse.csr_matrix
    value_in: Floats

    @classmethod
    def fit(cls, paths: PathSet, order: int) -> MarkovChain:
        """Count the transitions of every path (weighted by its conversions and nulls)."""
        if not 1 <= order <= 4:
            raise ValueError(f"a Markov chain here has order 1 to 4, not {order}")
        base = len(paths.channels) + 1
        if base**order >= 2**62:
            raise ValueError(f"too many channels ({base - 1}) for a chain of order {order}")
        keep = (paths.conversions + paths.nulls) > 0
        codes = _state_codes(paths, order, base)
        unique, state_of_touch = np.unique(codes, return_inverse=True)
        state_of_touch = state_of_touch.astype(np.int64) + 1
        size = len(unique) + 1
        walks = (paths.conversions + paths.nulls)[paths.path_of_touch]
        starts = paths.offsets[:-1]
        ends = paths.offsets[1:] - 1
        inner = np.ones(len(paths.touches), dtype=bool)
        inner[ends] = False
        following = np.flatnonzero(inner)
        rows = np.concatenate(
            [
                np.zeros(len(starts), np.int64),
                state_of_touch[following],
                state_of_touch[ends],
                state_of_touch[ends],
            ]
        )
        columns = np.concatenate(
            [
                state_of_touch[starts],
                state_of_touch[following + 1],
                np.full(len(ends), size),
                np.full(len(ends), size + 1),
            ]
        )
        weights = np.concatenate(
            [
                paths.conversions + paths.nulls,
                walks[following],
                paths.conversions,
                paths.nulls,
            ]
        )
        used = np.concatenate([keep, keep[paths.path_of_touch[following]], keep, keep])
        used &= weights > 0
        counts = sparse.coo_matrix(
            (weights[used], (rows[used], columns[used])), shape=(size, size + 2)
        ).tocsr()
        value_in = np.bincount(state_of_touch[ends], weights=paths.value, minlength=size)
        digits = _decode(unique, order, base)
        return cls(order, paths.channels, digits, counts, value_in.astype(np.float64))

    @cached_property
    def out_counts(self) -> Floats:
        """Walks out of each transient state."""
        return np.asarray(self.counts.sum(axis=1)).ravel()

    @cached_property
    def probabilities(self) -> sparse.csr_matrix:
        """Transition probabilities: each row of ``counts`` over its total."""
        totals = self.out_counts
        scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
        return sparse.csr_matrix(sparse.diags(scale) @ self.counts)

    @cached_property
    def _system(self) -> tuple[sparse.csc_matrix, Floats, Floats]:
        size = self.counts.shape[0]
        probabilities = self.probabilities
        transient = probabilities[:, :size]
        matrix = sparse.csc_matrix(sparse.identity(size, format="csc") - transient)
        to_conversion = probabilities[:, size].toarray().ravel()
        totals = self.out_counts
        value_rate = np.divide(self.value_in, totals, out=np.zeros_like(totals), where=totals > 0)
        return matrix, to_conversion, value_rate

    def conversion_probability(self, removed: int | None = None) -> float:
        """Probability of reaching ``conversion`` from ``start`` (with ``removed`` sent to null)."""
        return self._absorbed(removed)[0]

    def expected_value(self, removed: int | None = None) -> float:
        """Value reached from ``start`` per walk (with ``removed`` sent to null)."""
        return self._absorbed(removed)[1]

    def _absorbed(self, removed: int | None) -> tuple[float, float]:
        matrix, to_conversion, value_rate = self._system
        if removed is not None:
            kept = np.concatenate([[0], 1 + np.flatnonzero(~self._contains(removed))])
            matrix = matrix[kept][:, kept]
            to_conversion, value_rate = to_conversion[kept], value_rate[kept]
        if matrix.shape[0] == 1:
            return float(to_conversion[0]), float(value_rate[0])
        solved = splu(sparse.csc_matrix(matrix)).solve(np.column_stack([to_conversion, value_rate]))
        return float(solved[0, 0]), float(solved[0, 1])

    def _contains(self, channel: int) -> NDArray[np.bool_]:
        contains: NDArray[np.bool_] = (self.states == channel).any(axis=1)
        return contains

    def solve(self, direct_up_to: int = DIRECT_STATES) -> MarkovSolution:
        """The conversion probability and expected value, with and without each channel.

        Up to ``direct_up_to`` states, each system is solved by sparse LU. Beyond, the
        flow from ``start`` is pushed through the chain for every removal at once until
        less than :data:`FLOW_LEFT` of it is still moving (LU of a chain of order 2 or more
        over tens of channels fills in to a dense matrix): what is left could add at
        most that much to any conversion probability, which is the bound reported.
        """
        count = len(self.channels)
        if self.counts.shape[0] <= direct_up_to:
            solved = [self._absorbed(None), *(self._absorbed(c) for c in range(count))]
            found = np.array(solved, dtype=np.float64)
            return MarkovSolution(
                float(found[0, 0]), float(found[0, 1]), found[1:, 0], found[1:, 1], "sparse LU", 0.0
            )
        probabilities, values, left = self._flows()
        return MarkovSolution(
            float(probabilities[0]),
            float(values[0]),
            probabilities[1:],
            values[1:],
            "flow iteration",
            left,
        )

    def _flows(self) -> tuple[Floats, Floats, float]:
        """Absorption from ``start`` by pushing its flow, for the chain and each removal."""
        size = self.counts.shape[0]
        _, to_conversion, value_rate = self._system
        transient = sparse.csr_matrix(self.probabilities[:, :size])
        staying = transient.diagonal()
        # A state's self-loop is walked through at once: an arrival makes 1 / (1 - q) visits.
        visits_per_arrival = 1.0 / (1.0 - staying)
        moves = sparse.csr_matrix((transient - sparse.diags(staying)).T)
        emits = np.ones((size, len(self.channels) + 1))
        rows, places = np.nonzero(self.states >= 0)
        emits[1 + rows, 1 + self.states[rows, places]] = 0.0
        moving = np.zeros_like(emits)
        moving[0, :] = 1.0
        visits = np.zeros_like(emits)
        left = 1.0
        for _ in range(MAX_PUSHES):
            arrived = moving * visits_per_arrival[:, None]
            visits += arrived
            moving = moves @ (arrived * emits)
            left = float(moving.sum(axis=0).max())
            if left <= FLOW_LEFT:
                break
        kept = visits * emits
        probabilities: Floats = to_conversion @ kept
        values: Floats = value_rate @ kept
        return probabilities, values, left

    def removal_effects(self, direct_up_to: int = DIRECT_STATES) -> tuple[Floats, Floats]:
        """Per channel, the removal effect on conversions and on value."""
        return self.solve(direct_up_to).removal_effects()

    def label(self, row: int) -> str:
        """The name of a row or column of ``counts``."""
        size = self.counts.shape[0]
        if row == 0:
            return START
        if row == size:
            return CONVERSION
        if row == size + 1:
            return NULL
        state = self.states[row - 1]
        return " > ".join(self.channels[channel] for channel in state[state >= 0])


@dataclass(frozen=True)
class MarkovSolution:
    """Conversion probability and expected value from ``start``, and without each channel."""

    probability: float
    value: float
    probability_without: Floats
    value_without: Floats
    method: str
    error_bound: float

    def removal_effects(self) -> tuple[Floats, Floats]:
        """``1 - without / with`` for conversions and for value (0 when there is none)."""
        conversions: Floats = (
            1.0 - self.probability_without / self.probability
            if self.probability > 0
            else np.zeros_like(self.probability_without)
        )
        value: Floats = (
            1.0 - self.value_without / self.value
            if self.value > 0
            else np.zeros_like(self.value_without)
        )
        return conversions, value


def _state_codes(paths: PathSet, order: int, base: int) -> Integers:
    """Each touch's state: its channel and up to ``order - 1`` before it, as one number."""
    digits = paths.touches + 1
    codes = digits.copy()
    for back in range(1, order):
        earlier = np.zeros_like(digits)
        reach = paths.position >= back
        earlier[back:] = digits[:-back] if back < len(digits) else earlier[back:]
        codes += np.where(reach, earlier, 0) * base**back
    return codes


def _decode(codes: Integers, order: int, base: int) -> Integers:
    """States from their numbers: channel ids, earliest first, -1 where there are fewer."""
    columns = [(codes // base**back) % base - 1 for back in range(order - 1, -1, -1)]
    states: Integers = np.column_stack(columns).astype(np.int64)
    return states


def attributed(total: float, effects: Floats) -> Floats:
    """``total`` split in proportion to ``effects`` (zeros when they add up to nothing)."""
    weight = float(effects.sum())
    if weight <= 0:
        return np.zeros_like(effects)
    result: Floats = total * effects / weight
    return result


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
