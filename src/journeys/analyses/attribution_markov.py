"""Markov chains of order 1 to 4 on a set of paths, solved exactly, and removal effects.

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

Up to :data:`DIRECT_STATES` states each system is solved by sparse LU; larger chains (order
2 and more over tens of channels, whose LU fills in to a dense matrix) by pushing the flow
from ``start`` through the chain for every removal at once, until what is still moving could
change no conversion probability by more than :data:`FLOW_LEFT` (:meth:`MarkovChain.solve`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sparse
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

from journeys.analyses.attribution_models import Floats, Integers, PathSet

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
#: Up to this many states, each Markov system is solved by sparse LU.
DIRECT_STATES = 1000
#: Flow iteration stops when less than this share of the start's flow is still moving.
FLOW_LEFT = 1e-12
MAX_PUSHES = 100_000


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
