"""Tests of the Liang et al. (2021) benchmark metrics on hand-computed examples."""

import math

import numpy as np
import pytest

from mi_workbench.design.metrics import (
    acceleration_factor,
    enhancement_factor,
    iterations_to_top_k,
    random_top_fraction,
    simple_regret,
    top_candidates,
    top_fraction_found,
)

POOL = np.arange(100.0)  # minimise: the top 5% are positions 0..4


def test_a_strategy_that_finds_the_top_immediately():
    order = [4, 3, 2, 1, 0, 50, 60]
    top = top_fraction_found(POOL, order)
    np.testing.assert_allclose(top, [0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0])
    ef = enhancement_factor(POOL, order)
    np.testing.assert_allclose(ef[:5], 20.0)  # Top% = i/5 vs random's i/100
    np.testing.assert_allclose(ef[5:], [100 / 6, 100 / 7])
    assert acceleration_factor(POOL, order, 1.0) == pytest.approx(20.0)  # 100 vs 5 evaluations
    assert acceleration_factor(POOL, order, 0.4) == pytest.approx(20.0)  # 40 vs 2
    np.testing.assert_allclose(simple_regret(POOL, order), [4, 3, 2, 1, 0, 0, 0])
    assert iterations_to_top_k(POOL, order, 1) == 5
    assert iterations_to_top_k(POOL, order, 2) == 4


def test_a_strategy_that_misses_the_target_gets_nan_acceleration():
    assert math.isnan(acceleration_factor(POOL, [50, 60, 0], 0.5))
    assert iterations_to_top_k(POOL, [50, 60], 3) is None


def test_random_search_matches_the_hypergeometric_expectation():
    rng = np.random.default_rng(0)
    curves = np.array([top_fraction_found(POOL, rng.permutation(100)[:40]) for _ in range(4000)])
    i = np.arange(1, 41)
    np.testing.assert_allclose(curves.mean(0), random_top_fraction(100, i), atol=0.01)
    np.testing.assert_allclose(random_top_fraction(100, i, n_top=5), i / 100)
    efs = np.array([enhancement_factor(POOL, rng.permutation(100)[:40]) for _ in range(4000)])
    assert efs[:, 19:].mean() == pytest.approx(1.0, abs=0.05)


def test_maximisation_and_ties():
    pool = np.array([1.0, 7.0, 3.0, 7.0, 2.0])
    # fraction 0.2 -> ceil(1) top candidate, but positions 1 and 3 tie for the best value
    assert top_candidates(pool, fraction=0.2, minimize=False).tolist() == [
        False,
        True,
        False,
        True,
        False,
    ]
    np.testing.assert_allclose(
        top_fraction_found(pool, [0, 3, 1], fraction=0.2, minimize=False), [0, 0.5, 1]
    )
    np.testing.assert_allclose(simple_regret(pool, [0, 2, 3], minimize=False), [6, 4, 0])
    assert iterations_to_top_k(pool, [0, 2, 3], 1, minimize=False) == 3


def test_liang_top_count_uses_ceil_of_five_percent():
    pool = np.arange(139.0)  # the perovskite set size: ceil(6.95) = 7 top candidates
    assert top_candidates(pool).sum() == 7


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="must not repeat a position"):
        top_fraction_found(POOL, [1, 2, 1])
    with pytest.raises(ValueError, match=r"outside 0\.\.99"):
        top_fraction_found(POOL, [1, 100])
    with pytest.raises(TypeError, match="integer positions"):
        simple_regret(POOL, [0.5, 1.0])
    with pytest.raises(ValueError, match=r"fraction must be a number in \(0, 1\]"):
        top_fraction_found(POOL, [1], fraction=0.0)
    with pytest.raises(ValueError, match="pool_values contains NaN"):
        top_fraction_found([1.0, np.nan], [0])
    with pytest.raises(ValueError, match="target must be a Top% fraction"):
        acceleration_factor(POOL, [0], 1.5)
    with pytest.raises(ValueError, match="k must be at most the pool size"):
        iterations_to_top_k([1.0, 2.0], [0], 3)
