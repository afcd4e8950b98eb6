"""Benchmark metrics of adaptive-design campaigns on a finite pool of candidates.

The metrics follow Liang et al., "Benchmarking the performance of Bayesian optimization across
multiple experimental materials science domains", npj Comput. Mater. 7, 188 (2021) (pool-based
benchmarks: the whole data set is the candidate pool and each evaluation reveals one pool value).

Definitions (N candidates in the pool, a campaign evaluates the distinct pool positions
``order[0], order[1], ...``; ``i`` counts evaluations from 1, initial experiments included):

- **top candidates**: the ``n_top = ceil(fraction * N)`` best pool values (``fraction`` = 5% in
  the paper); candidates tied with the ``n_top``-th best value also count as top candidates.
- **Top%(i)**: the fraction of the top candidates found among the first ``i`` evaluations.
- **Random baseline**: ``i`` draws without replacement contain a hypergeometric number of top
  candidates with mean ``i n_top / N``, so the expected Top% of random search is ``i / N``.
- **Enhancement factor** ``EF(i) = Top%_strategy(i) / Top%_random(i)`` at the same ``i``.
- **Acceleration factor** ``AF(a) = i_random(a) / i_strategy(a)`` for a Top% target ``a``:
  ``i_strategy(a)`` is the first ``i`` with ``Top%(i) >= a`` and ``i_random(a) = a N`` the number
  of evaluations after which random search's expected Top% reaches ``a``.
- **Simple regret** ``r(i) = |best pool value - best value found in the first i evaluations|``.
- **Iterations to the top k**: the first ``i`` at which one of the ``k`` best pool candidates has
  been evaluated.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from mi_workbench._checks import check_finite_array, check_positive_int


def _pool_and_order(pool_values, order) -> tuple[np.ndarray, np.ndarray]:
    pool = check_finite_array("pool_values", pool_values, 1)
    order_arr = np.asarray(order)
    if order_arr.ndim != 1 or order_arr.size == 0:
        raise ValueError(f"order must be a non-empty 1-D sequence of positions, got {order!r}")
    if not np.issubdtype(order_arr.dtype, np.integer):
        raise TypeError(f"order must hold integer positions in the pool, got {order_arr.dtype}")
    if order_arr.min() < 0 or order_arr.max() >= len(pool):
        raise ValueError(f"order holds positions outside 0..{len(pool) - 1}")
    if len(np.unique(order_arr)) != len(order_arr):
        raise ValueError("order must not repeat a position: each pool candidate is evaluated once")
    return pool, order_arr.astype(np.int64)


def _check_fraction(fraction: float) -> float:
    if not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    return float(fraction)


def top_candidates(pool_values, *, fraction: float = 0.05, minimize: bool = True) -> np.ndarray:
    """Boolean mask of the top ``ceil(fraction * N)`` pool candidates (ties at the edge included).

    Examples
    --------
    >>> top_candidates([5.0, 1.0, 3.0, 2.0], fraction=0.5).tolist()
    [False, True, False, True]
    """
    pool = check_finite_array("pool_values", pool_values, 1)
    fraction = _check_fraction(fraction)
    n_top = math.ceil(fraction * len(pool) - 1e-9)
    signed = pool if minimize else -pool
    threshold = np.partition(signed, n_top - 1)[n_top - 1]
    return signed <= threshold


def top_fraction_found(
    pool_values, order, *, fraction: float = 0.05, minimize: bool = True
) -> np.ndarray:
    """Top%(i) for i = 1..len(order): fraction of the top candidates found so far.

    Parameters
    ----------
    pool_values : array-like, shape (N,)
        Objective value of every candidate of the pool.
    order : sequence of int
        Pool positions in the order the campaign evaluated them (initial experiments first).
    fraction : float
        Size of the top set as a fraction of the pool (Liang et al.: 0.05).
    minimize : bool
        Whether smaller values are better.

    Returns
    -------
    numpy.ndarray, shape (len(order),)
        ``Top%(i)`` in [0, 1] (a fraction, not a percentage).

    Examples
    --------
    >>> pool = [5.0, 1.0, 3.0, 2.0]          # top 50%: positions 1 and 3
    >>> top_fraction_found(pool, [3, 0, 1], fraction=0.5).tolist()
    [0.5, 0.5, 1.0]
    """
    pool, order = _pool_and_order(pool_values, order)
    top = top_candidates(pool, fraction=fraction, minimize=minimize)
    return np.cumsum(top[order]) / top.sum()


def random_top_fraction(n_pool: int, n_evaluations, *, n_top: int | None = None) -> np.ndarray:
    """Expected Top%(i) of random search without replacement: ``i / N``.

    The number of top candidates among ``i`` random draws is hypergeometric
    (``N`` candidates, ``n_top`` of them top, ``i`` draws) with mean ``i n_top / N``; divided by
    ``n_top`` this is ``i / N`` whatever ``n_top`` is. With ``n_top`` given the mean is computed
    from :func:`scipy.stats.hypergeom` (the same number; kept as a check and for teaching).

    Examples
    --------
    >>> random_top_fraction(100, [1, 10, 100]).tolist()
    [0.01, 0.1, 1.0]
    """
    n_pool = check_positive_int("n_pool", n_pool)
    i = check_finite_array("n_evaluations", n_evaluations)
    if i.ndim > 1:
        raise ValueError(
            f"n_evaluations must be a number or a 1-dimensional array, got shape {i.shape}"
        )
    if np.any(i < 0) or np.any(i > n_pool):
        raise ValueError(f"n_evaluations must lie in 0..{n_pool}")
    if n_top is None:
        return i / n_pool
    n_top = check_positive_int("n_top", n_top)
    return stats.hypergeom(n_pool, n_top, i.astype(int)).mean() / n_top


def enhancement_factor(
    pool_values, order, *, fraction: float = 0.05, minimize: bool = True
) -> np.ndarray:
    """EF(i) = Top%_strategy(i) / Top%_random(i) for i = 1..len(order) (Liang et al. 2021).

    ``Top%_random(i) = i / N`` is random search's expectation (see :func:`random_top_fraction`),
    so ``EF(i) = Top%(i) N / i``; EF = 1 means "as good as random on average".

    Examples
    --------
    >>> pool = np.arange(100.0)              # top 5%: positions 0..4 (minimise)
    >>> enhancement_factor(pool, [0, 1, 2, 3, 4])[-1]  # all 5 found in 5 evaluations
    np.float64(20.0)
    """
    top_pct = top_fraction_found(pool_values, order, fraction=fraction, minimize=minimize)
    n_pool = len(np.asarray(pool_values))
    i = np.arange(1, len(top_pct) + 1)
    return top_pct / random_top_fraction(n_pool, i)


def acceleration_factor(
    pool_values, order, target, *, fraction: float = 0.05, minimize: bool = True
) -> float:
    """AF(a) = i_random(a) / i_strategy(a) for a Top% target ``a`` (Liang et al. 2021).

    ``i_strategy(a)`` is the number of evaluations after which the campaign's Top% first reaches
    ``a``; ``i_random(a) = a N`` is the number after which random search's expected Top%
    (``i / N``) reaches ``a``. Returns ``nan`` when the campaign never reaches ``a``.

    Parameters
    ----------
    target : float
        Top% to reach, in (0, 1] (e.g. 0.5: half of the top candidates).

    Examples
    --------
    >>> pool = np.arange(100.0)              # 5 top candidates
    >>> acceleration_factor(pool, [0, 1, 2, 50, 60], 0.6)   # 3 of 5 found after 3 evaluations
    20.0
    """
    if not (isinstance(target, (int, float)) and 0 < target <= 1):
        raise ValueError(f"target must be a Top% fraction in (0, 1], got {target!r}")
    top_pct = top_fraction_found(pool_values, order, fraction=fraction, minimize=minimize)
    reached = np.flatnonzero(top_pct >= target - 1e-12)
    if len(reached) == 0:
        return math.nan
    i_strategy = int(reached[0]) + 1
    return float(target * len(np.asarray(pool_values)) / i_strategy)


def simple_regret(pool_values, order, *, minimize: bool = True) -> np.ndarray:
    """r(i) = |best pool value - best value among the first i evaluations|, i = 1..len(order).

    Examples
    --------
    >>> simple_regret([3.0, 1.0, 2.0], [0, 2, 1]).tolist()
    [2.0, 1.0, 0.0]
    """
    pool, order = _pool_and_order(pool_values, order)
    found = pool[order]
    if minimize:
        return np.minimum.accumulate(found) - pool.min()
    return pool.max() - np.maximum.accumulate(found)


def iterations_to_top_k(pool_values, order, k: int = 1, *, minimize: bool = True) -> int | None:
    """Evaluations until one of the ``k`` best pool candidates is found (1-based), else None.

    Candidates tied with the k-th best value count as top-k. ``k=1``: evaluations until the
    optimum is found.

    Examples
    --------
    >>> iterations_to_top_k([3.0, 1.0, 2.0, 0.5], [0, 2, 3, 1], k=1)
    3
    >>> iterations_to_top_k([3.0, 1.0, 2.0, 0.5], [0, 2], k=1) is None
    True
    """
    pool, order = _pool_and_order(pool_values, order)
    k = check_positive_int("k", k)
    if k > len(pool):
        raise ValueError(f"k must be at most the pool size {len(pool)}, got {k}")
    signed = pool if minimize else -pool
    threshold = np.partition(signed, k - 1)[k - 1]
    hits = np.flatnonzero(signed[order] <= threshold)
    return int(hits[0]) + 1 if len(hits) else None
