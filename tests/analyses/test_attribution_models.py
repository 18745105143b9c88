"""The attribution models against numbers derived by hand, plain-Python computations written
here apart from the library (dense linear algebra, enumeration of coalitions) and a
simulation of the Markov chain."""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pytest

from journeys.analyses.attribution_markov import MarkovChain, attributed
from journeys.analyses.attribution_models import PathSet, heuristics, shapley

# Four paths: (channels, conversions, value, nulls).
HAND = [
    (["a", "b"], 1, 10.0, 1),
    (["b"], 0, 0.0, 1),
    (["a", "a", "c"], 2, 30.0, 0),
    (["c", "b"], 1, 5.0, 2),
]

Path = tuple[tuple[str, ...], float, float, float]


def path_set(paths: Sequence[tuple[Sequence[str], float, float, float]]) -> PathSet:
    return PathSet.from_lists(
        [list(p[0]) for p in paths],
        [p[1] for p in paths],
        [p[2] for p in paths],
        [p[3] for p in paths],
    )


def by_channel(paths: PathSet, values: np.ndarray) -> dict[str, float]:
    return dict(zip(paths.channels, (float(v) for v in values), strict=True))


def test_markov_order_one_by_hand() -> None:
    """Walks: start->a 4, start->b 1, start->c 3; a->a, a->b, a->c 2 each; b->conversion 2,
    b->null 4; c->conversion 2, c->b 3. So x_b = 1/3, x_c = 2/5 + 3/5 x_b = 3/5,
    x_a = (x_a + x_b + x_c)/3 = 7/15 and p = 4/8 x_a + 1/8 x_b + 3/8 x_c = 1/2.
    Without a: p = 1/8 * 1/3 + 3/8 * 3/5 = 4/15; without b: x_c = 2/5, x_a = 1/5, p = 1/4;
    without c: x_a = 1/6, p = 1/8. Removal effects 7/15, 1/2, 3/4 (sum 103/60)."""
    paths = path_set(HAND)
    chain = MarkovChain.fit(paths, 1)
    probabilities = chain.probabilities.toarray()
    index = {chain.label(i): i for i in range(probabilities.shape[1])}
    expected = {
        ("(start)", "a"): 4 / 8,
        ("(start)", "b"): 1 / 8,
        ("(start)", "c"): 3 / 8,
        ("a", "a"): 1 / 3,
        ("a", "b"): 1 / 3,
        ("a", "c"): 1 / 3,
        ("b", "(conversion)"): 1 / 3,
        ("b", "(null)"): 2 / 3,
        ("c", "(conversion)"): 2 / 5,
        ("c", "b"): 3 / 5,
    }
    for (source, target), probability in expected.items():
        assert probabilities[index[source], index[target]] == pytest.approx(probability)
    assert np.count_nonzero(probabilities) == len(expected)
    assert chain.conversion_probability() == pytest.approx(1 / 2)
    effects, value_effects = chain.removal_effects()
    assert by_channel(paths, effects) == pytest.approx({"a": 7 / 15, "b": 1 / 2, "c": 3 / 4})
    markov = attributed(4.0, effects)
    assert by_channel(paths, markov) == pytest.approx(
        {"a": 4 * 28 / 103, "b": 4 * 30 / 103, "c": 4 * 45 / 103}
    )
    # Value: b's conversions bring 15 over 6 walks, c's 30 over 5: y_b = 5/2,
    # y_c = 6 + 3/5 y_b = 15/2, y_a = 5, from start 45/8 (the value over 8 walks).
    assert chain.expected_value() == pytest.approx(45 / 8)
    # Without a: 1/8 * 5/2 + 3/8 * 15/2 = 25/8, so the effect is 1 - 25/45 = 4/9.
    assert value_effects[paths.channels.index("a")] == pytest.approx(4 / 9)


def test_heuristics_by_hand() -> None:
    paths = path_set(HAND)
    found = {k: by_channel(paths, v) for k, v in heuristics(paths, paths.conversions).items()}
    assert found["first_touch"] == pytest.approx({"a": 3, "b": 0, "c": 1})
    assert found["last_touch"] == pytest.approx({"a": 0, "b": 2, "c": 2})
    # a b: 1/2 each; a a c (2 conversions): 2/3 to a, 1/3 to c... twice; c b: 1/2 each.
    assert found["linear"] == pytest.approx({"a": 0.5 + 4 / 3, "b": 1.0, "c": 2 / 3 + 0.5})
    # Two touches: 50/50; a a c: 0.4 + 0.2 to a, 0.4 to c, twice.
    assert found["position_based"] == pytest.approx({"a": 0.5 + 1.2, "b": 1.0, "c": 0.8 + 0.5})


def plain_heuristics(
    paths: list[Path], first: float, last: float, use_value: bool
) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for channels, conversions, value, _ in paths:
        weight = value if use_value else conversions
        n = len(channels)
        found["first_touch"][channels[0]] += weight
        found["last_touch"][channels[-1]] += weight
        for i, channel in enumerate(channels):
            found["linear"][channel] += weight / n
            if n == 1:
                share = 1.0
            elif n == 2:
                share = (first if i == 0 else last) / (first + last)
            elif i == 0:
                share = first
            elif i == n - 1:
                share = last
            else:
                share = (1 - first - last) / (n - 2)
            found["position_based"][channel] += weight * share
    return found


def random_paths(seed: int, count: int, channels: str, longest: int = 6) -> list[Path]:
    generator = random.Random(seed)
    found = []
    for _ in range(count):
        length = generator.randint(1, longest)
        path = tuple(generator.choice(channels) for _ in range(length))
        conversions = generator.choice([0, 0, 1, 2])
        nulls = generator.choice([0, 1, 3]) if conversions else generator.randint(1, 4)
        found.append(
            (path, float(conversions), float(conversions * generator.randint(5, 50)), float(nulls))
        )
    return found


@pytest.mark.parametrize(("first", "last"), [(0.4, 0.4), (0.3, 0.5), (0.0, 1.0)])
def test_heuristics_match_a_plain_computation(first: float, last: float) -> None:
    plain = random_paths(7, 300, "abcdefg")
    paths = path_set(plain)
    for use_value, weights in ((False, paths.conversions), (True, paths.value)):
        expected = plain_heuristics(plain, first, last, use_value)
        for model, found in heuristics(paths, weights, first, last).items():
            assert by_channel(paths, found) == pytest.approx(
                {c: expected[model].get(c, 0.0) for c in paths.channels}
            )
            assert found.sum() == pytest.approx(weights.sum())


def plain_chain(paths: list[Path], order: int) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """States (start first) and the dense matrix of counts with conversion and null last."""
    counts: dict[tuple[object, object], float] = defaultdict(float)
    for channels, conversions, _, nulls in paths:
        walks = conversions + nulls
        state: object = "start"
        for i in range(len(channels)):
            following = tuple(channels[max(0, i + 1 - order) : i + 1])
            counts[(state, following)] += walks
            state = following
        counts[(state, "conversion")] += conversions
        counts[(state, "null")] += nulls
    states = ["start", *sorted({s for pair in counts for s in pair if isinstance(s, tuple)})]
    columns = [*states, "conversion", "null"]
    matrix = np.zeros((len(states), len(columns)))
    for (source, target), count in counts.items():
        matrix[states.index(source), columns.index(target)] += count
    return states, matrix  # type: ignore[return-value]


def dense_probability(states: list[object], counts: np.ndarray, removed: str | None) -> float:
    kept = [i for i, s in enumerate(states) if s == "start" or removed not in s]  # type: ignore[operator]
    totals = counts.sum(axis=1)
    probabilities = counts / np.where(totals > 0, totals, 1)[:, None]
    size = len(states)
    q = probabilities[np.ix_(kept, kept)]
    r = probabilities[kept, size]
    return float(np.linalg.solve(np.eye(len(kept)) - q, r)[0])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_markov_matches_a_dense_solve(order: int) -> None:
    plain = random_paths(11 + order, 400, "abcde", longest=7)
    paths = path_set(plain)
    chain = MarkovChain.fit(paths, order)
    states, counts = plain_chain(plain, order)
    assert chain.counts.shape == counts.shape
    probability = dense_probability(states, counts, None)
    assert chain.conversion_probability() == pytest.approx(probability, rel=1e-10)
    # The counted flow is conserved: p is the conversions over all walks.
    total = sum(p[1] for p in plain) / sum(p[1] + p[3] for p in plain)
    assert probability == pytest.approx(total, rel=1e-10)
    expected = {
        channel: 1 - dense_probability(states, counts, channel) / probability
        for channel in paths.channels
    }
    # Sparse LU, and the flow pushed through the chain as large chains are solved.
    for direct_up_to in (10**6, 0):
        solution = chain.solve(direct_up_to)
        assert solution.probability == pytest.approx(probability, rel=1e-10)
        assert solution.error_bound <= 1e-12
        effects, value_effects = solution.removal_effects()
        assert by_channel(paths, effects) == pytest.approx(expected, rel=1e-9, abs=1e-11)
        assert by_channel(paths, value_effects) == pytest.approx(
            by_channel(paths, chain.solve(10**6).removal_effects()[1]), rel=1e-9, abs=1e-11
        )
    assert chain.solve(0).method == "flow iteration"
    assert chain.solve(10**6).method == "sparse LU"


def test_order_two_by_hand() -> None:
    """With order 2, 'a a c' walks start -> (a) -> (a, a) -> (a, c) -> conversion, so only
    that path goes through c after a: removing a leaves b's and c's own paths."""
    paths = path_set(HAND)
    chain = MarkovChain.fit(paths, 2)
    labels = sorted(chain.label(i) for i in range(1, chain.counts.shape[0]))
    assert labels == ["a", "a > a", "a > b", "a > c", "b", "c", "c > b"]
    effects, _ = chain.removal_effects()
    # After their first touch the paths never share a state, so each removal keeps whole
    # paths: without a, only 'b' (0 of 1) and 'c b' (1 of 3) remain: p = 1/8; 1 - (1/8)/(1/2) = 3/4.
    # Without b: only 'a a c' (2 of 2): p = 2/8, effect 1/2. Without c: 'a b' and 'b': 1/8.
    assert by_channel(paths, effects) == pytest.approx({"a": 3 / 4, "b": 1 / 2, "c": 3 / 4})


def simulate(chain: MarkovChain, walks: int, removed: int | None, seed: int) -> float:
    """Random walks through the chain's transition probabilities (plain Python)."""
    generator = random.Random(seed)
    probabilities = chain.probabilities.tolil()
    size = chain.counts.shape[0]
    moves = [(list(probabilities.rows[i]), list(probabilities.data[i])) for i in range(size)]
    converted = 0
    for _ in range(walks):
        state = 0
        while state < size:
            targets, weights = moves[state]
            state = generator.choices(targets, weights)[0]
            if 0 < state < size and removed is not None and removed in chain.states[state - 1]:
                break
        converted += state == size
    return converted / walks


def test_markov_agrees_with_a_simulation_of_the_chain() -> None:
    paths = path_set(random_paths(3, 200, "abcd"))
    chain = MarkovChain.fit(paths, 2)
    walks = 20_000
    probability = chain.conversion_probability()
    simulated = simulate(chain, walks, None, seed=1)
    error = math.sqrt(probability * (1 - probability) / walks)
    assert abs(simulated - probability) < 4 * error
    without = chain.conversion_probability(removed=0)
    simulated_without = simulate(chain, walks, 0, seed=2)
    error = math.sqrt(without * (1 - without) / walks)
    assert abs(simulated_without - without) < 4 * error
    assert without < probability


def characteristic(paths: list[Path], game: str) -> dict[frozenset[str], float]:
    channels = sorted({c for p in paths for c in p[0]})
    worth = {}
    for size in range(len(channels) + 1):
        for members in itertools.combinations(channels, size):
            coalition = frozenset(members)
            inside = [p for p in paths if set(p[0]) <= coalition]
            conversions = sum(p[1] for p in inside)
            walks = sum(p[1] + p[3] for p in inside)
            if game == "conversions":
                worth[coalition] = conversions
            else:
                worth[coalition] = conversions / walks if walks else 0.0
    return worth


def enumerated_shapley(paths: list[Path], game: str) -> dict[str, float]:
    """Shapley values by the formula, over every coalition, with exact fractions of weights."""
    worth = characteristic(paths, game)
    channels = sorted({c for p in paths for c in p[0]})
    n = len(channels)
    found = {}
    for channel in channels:
        others = [c for c in channels if c != channel]
        total = 0.0
        for size in range(n):
            weight = Fraction(
                math.factorial(size) * math.factorial(n - size - 1), math.factorial(n)
            )
            for members in itertools.combinations(others, size):
                coalition = frozenset(members)
                total += float(weight) * (worth[coalition | {channel}] - worth[coalition])
        found[channel] = total
    return found


def test_shapley_by_hand() -> None:
    # Channel sets {a, b} (1), {b} (0), {a, c} (2), {b, c} (1): each shared equally.
    paths = path_set(HAND)
    values = shapley(paths)
    assert by_channel(paths, values.conversions) == pytest.approx({"a": 1.5, "b": 1.0, "c": 1.5})
    assert by_channel(paths, values.value) == pytest.approx({"a": 20.0, "b": 7.5, "c": 17.5})
    assert values.method == "exact"
    assert values.standard_error is None


@pytest.mark.parametrize("game", ["conversions", "rate"])
def test_shapley_matches_an_enumeration_of_every_coalition(game: str) -> None:
    plain = random_paths(5, 150, "abcdefgh", longest=4)
    paths = path_set(plain)
    values = shapley(paths, game)
    expected = enumerated_shapley(plain, game)
    if game == "rate":
        conversions = sum(p[1] for p in plain)
        rate = conversions / sum(p[1] + p[3] for p in plain)
        expected = {c: v / rate * conversions for c, v in expected.items()}
    assert values.method == "exact"
    assert by_channel(paths, values.conversions) == pytest.approx(expected, rel=1e-9)
    assert values.conversions.sum() == pytest.approx(paths.conversions.sum())


def test_sampled_shapley_agrees_with_the_exact_values_within_its_error() -> None:
    plain = random_paths(9, 150, "abcdef", longest=4)
    paths = path_set(plain)
    exact = shapley(paths, "rate")
    sampled = shapley(paths, "rate", permutations=3000, seed=4, exact_up_to=0)
    assert sampled.method == "sampled"
    assert sampled.permutations == 3000
    assert sampled.standard_error is not None
    assert np.all(sampled.standard_error > 0)
    deviation = np.abs(sampled.conversions - exact.conversions) / sampled.standard_error
    assert deviation.max() < 4.5
    # Every order's marginal contributions add up to the whole: so do their means.
    assert sampled.conversions.sum() == pytest.approx(paths.conversions.sum())


def test_shapley_beyond_fifteen_channels_is_sampled() -> None:
    plain = random_paths(2, 300, "abcdefghijklmnopq", longest=3)
    values = shapley(path_set(plain), "rate", permutations=50, seed=1)
    assert values.method == "sampled"
    assert values.standard_error is not None
    # The conversions game stays exact, by its closed form, with any number of channels.
    assert shapley(path_set(plain)).method == "exact"
