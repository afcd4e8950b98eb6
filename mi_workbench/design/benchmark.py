"""Pool-based benchmarks of adaptive-design strategies (Liang et al. 2021).

A pool benchmark takes a finite set of candidates whose objective values are all known (a
measured data set, or a virtual experiment evaluated once on every candidate), hides the
values, and lets each strategy evaluate candidates one at a time from the same random initial
points. Each evaluation reveals one pool value; nothing is evaluated twice. Repeating this with
different initial points (``n_repeats`` seeds) and scoring the evaluation orders with the
metrics of :mod:`mi_workbench.design.metrics` gives Top%(i), the enhancement factor EF and the
acceleration factor AF of Liang et al., "Benchmarking the performance of Bayesian optimization
across multiple experimental materials science domains", npj Comput. Mater. 7, 188 (2021).

Rules that keep a comparison honest, and that :func:`run_benchmark` enforces:

- every strategy gets the same budget (number of evaluations, initial points included);
- in repeat ``r`` every strategy starts from the same initial points;
- the random baseline is computed analytically (expected Top% of random search is ``i / N``),
  and random search is also run, as a check of the variance between repeats;
- all randomness comes from ``random_seed``, so a benchmark reruns exactly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import check_choice, check_finite_array, check_positive_int
from mi_workbench.design.acquisition import (
    _check_acquisition_params,
    acquisition_name,
    select_batch,
)
from mi_workbench.design.metrics import random_top_fraction, top_candidates
from mi_workbench.design.surrogates import SURROGATES, make_surrogate

#: Name of the built-in random-search strategy.
RANDOM = "random"


@dataclass(frozen=True)
class Strategy:
    """A surrogate and an acquisition function, evaluated one candidate at a time.

    Parameters
    ----------
    surrogate : str
        ``"gp"``, ``"svr_ensemble"`` or ``"random_features"`` (see
        :func:`~mi_workbench.design.make_surrogate`).
    acquisition : str
        A name or alias of :data:`~mi_workbench.design.ACQUISITIONS` (``"ei"``, ``"lcb"``, ...).
    surrogate_options : mapping
        Keyword arguments of the surrogate class (for example ``{"n_restarts": 1}``).
    acquisition_params : mapping
        Extra parameters of the acquisition (for example ``{"kappa": 2.0}``).
    retune_every : int
        Re-optimise the surrogate's hyperparameters every this many evaluations (1: at every
        step); in between the surrogate is only conditioned on the new observation with its
        hyperparameters kept, which is much cheaper (PHYSBO's ``interval`` does the same).

    Examples
    --------
    >>> Strategy("gp", "ei", surrogate_options={"n_restarts": 1}).acquisition
    'expected_improvement'
    """

    surrogate: str = "gp"
    acquisition: str = "expected_improvement"
    surrogate_options: Mapping[str, Any] = field(default_factory=dict)
    acquisition_params: Mapping[str, Any] = field(default_factory=dict)
    retune_every: int = 1

    def __post_init__(self) -> None:
        check_positive_int("retune_every", self.retune_every)
        check_choice("surrogate", self.surrogate, list(SURROGATES))
        object.__setattr__(self, "acquisition", acquisition_name(self.acquisition))
        options = self.surrogate_options
        if not isinstance(options, Mapping):
            raise TypeError(
                "surrogate_options must be a dict of keyword arguments of the surrogate class "
                f"(e.g. {{'n_restarts': 1}}), got {options!r}"
            )
        try:
            make_surrogate(self.surrogate, **options)
        except (TypeError, ValueError) as error:
            raise type(error)(f"surrogate_options {dict(options)}: {error}") from None
        object.__setattr__(self, "surrogate_options", dict(options))
        params = _check_acquisition_params(self.acquisition, self.acquisition_params)
        object.__setattr__(self, "acquisition_params", params)

    def run(self, X, measure, initial, budget, *, minimize, rng) -> np.ndarray:
        """Evaluation order of one campaign: ``initial`` then ``budget - len(initial)`` choices.

        ``measure(positions) -> values`` reveals pool values; ``rng`` seeds the surrogate and the
        acquisition. Returns pool positions (initial points first).
        """
        order = [int(i) for i in initial]
        values = list(np.asarray(measure(np.asarray(order)), dtype=float))
        options = dict(self.surrogate_options)
        surrogate = None
        while len(order) < budget:
            step = len(order) - len(initial)
            retune = step % self.retune_every == 0
            if retune:
                options["random_seed"] = int(rng.integers(2**31))
                surrogate = make_surrogate(self.surrogate, **options)
            else:  # keep the hyperparameters, add the last observation
                surrogate = surrogate.condition_on(X[order[-1:]], values[-1:])
            index, _ = select_batch(
                surrogate,
                X,
                X[order],
                np.asarray(values),
                self.acquisition,
                1,
                minimize=minimize,
                exclude=np.asarray(order),
                rng=rng,
                acquisition_params=self.acquisition_params,
                refit=retune,
            )
            order.append(int(index[0]))
            values.append(float(measure(index)[0]))
        return np.asarray(order, dtype=np.int64)


def _random_run(X, measure, initial, budget, *, minimize, rng) -> np.ndarray:
    rest = np.setdiff1d(np.arange(len(X)), initial)
    chosen = rng.choice(rest, budget - len(initial), replace=False)
    return np.r_[np.asarray(initial, dtype=np.int64), chosen]


def _as_runner(name: str, spec: object) -> Callable:
    if isinstance(spec, str) and spec == RANDOM:
        return _random_run
    if isinstance(spec, Strategy):
        return spec.run
    if isinstance(spec, Mapping):
        return Strategy(**spec).run
    if callable(spec):
        return spec
    raise TypeError(
        f"strategy {name!r} must be 'random', a Strategy, a mapping of Strategy arguments or a "
        f"callable(X, measure, initial, budget, *, minimize, rng) -> order, got {spec!r}"
    )


def _pool_features(space, features) -> np.ndarray:
    if isinstance(space, xr.Dataset):
        if features is None:
            raise ValueError("features must name the variables of space that strategies learn from")
        missing = [name for name in features if name not in space.data_vars]
        if missing:
            raise ValueError(
                f"features {missing} are not variables of space; it has {list(space.data_vars)}"
            )
        X = np.column_stack([np.asarray(space[name].values, dtype=float) for name in features])
    else:
        if features is not None:
            raise ValueError("features can only be given when space is an xarray.Dataset")
        X = np.asarray(space, dtype=float)
    return check_finite_array("space", X, 2)


def run_benchmark(
    strategies: Mapping[str, object],
    space,
    oracle,
    *,
    features: Sequence[str] | None = None,
    objective: str = "minimize",
    n_repeats: int = 10,
    budget: int = 50,
    n_initial: int = 5,
    fraction: float = 0.05,
    random_seed: int = 0,
    progress: bool = False,
) -> xr.Dataset:
    """Run every strategy ``n_repeats`` times on a pool of candidates at the same budget.

    Parameters
    ----------
    strategies : mapping of str to strategy
        Each value is ``"random"``, a :class:`Strategy`, a mapping of :class:`Strategy`
        arguments, or a callable ``f(X, measure, initial, budget, *, minimize, rng) -> order``
        (for example a wrapper around another optimisation package) that returns ``budget``
        distinct pool positions starting with ``initial``.
    space : xarray.Dataset or array-like, shape (N, d)
        The pool. With a Dataset, ``features`` names the variables the strategies learn from.
    oracle : array-like of shape (N,) or callable
        The pool's objective values, or a function of ``space`` that returns them (called once:
        a virtual experiment "measured" on every candidate; its noise is then part of the pool).
    features : sequence of str, optional
        Variables of ``space`` used as inputs (required when ``space`` is a Dataset).
    objective : {"minimize", "maximize"}
    n_repeats : int
        Campaigns per strategy; repeat ``r`` starts all strategies from the same initial points.
    budget : int
        Evaluations per campaign, initial points included (at most N).
    n_initial : int
        Random initial points.
    fraction : float
        Size of the top set for Top% (Liang et al.: 0.05).
    random_seed : int
        Seed of the initial points and of every strategy's randomness.
    progress : bool
        Print one line per finished campaign.

    Returns
    -------
    xarray.Dataset
        Over ``strategy``, ``repeat`` and ``evaluation`` (1..budget): ``order`` (pool
        positions), ``value`` (pool values in that order), ``top_fraction`` (Top%(i) as a
        fraction) and ``best_so_far``; ``seconds`` over (strategy, repeat) is the wall time of
        each campaign. ``attrs`` hold ``n_pool``, ``n_top``, ``fraction``,
        ``objective``, ``n_initial`` and ``random_seed``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 60)[:, None]
    >>> result = run_benchmark({"random": "random", "gp_ei": Strategy("gp", "ei")}, x,
    ...                        (x[:, 0] - 0.3) ** 2, n_repeats=2, budget=8, n_initial=3)
    >>> result["top_fraction"].sizes
    Frozen({'strategy': 2, 'repeat': 2, 'evaluation': 8})
    """
    if not isinstance(strategies, Mapping) or not strategies:
        raise ValueError(
            f"strategies must be a non-empty mapping of name to strategy, got {strategies!r}"
        )
    runners = {str(name): _as_runner(str(name), spec) for name, spec in strategies.items()}
    objective = check_choice("objective", objective, ["minimize", "maximize"])
    minimize = objective == "minimize"
    X = _pool_features(space, features)
    n_pool = len(X)
    if callable(oracle):
        values = check_finite_array("oracle values (returned by oracle)", oracle(space), 1)
    elif oracle is None or isinstance(oracle, str):
        raise TypeError(
            "oracle must be the pool's objective values (an array) or a function of space "
            f"that returns them, got {oracle!r}"
        )
    else:
        values = check_finite_array("oracle", oracle, 1)
    if len(values) != n_pool:
        raise ValueError(f"oracle gave {len(values)} values for a pool of {n_pool} candidates")
    n_repeats = check_positive_int("n_repeats", n_repeats)
    random_seed = check_positive_int("random_seed", random_seed, minimum=0)
    n_initial = check_positive_int("n_initial", n_initial)
    budget = check_positive_int("budget", budget)
    if not n_initial <= budget <= n_pool:
        raise ValueError(
            f"budget must lie between n_initial={n_initial} and the pool size {n_pool}, "
            f"got {budget}"
        )
    top = top_candidates(values, fraction=fraction, minimize=minimize)

    def measure(positions):
        return values[np.asarray(positions, dtype=np.int64)]

    shape = (len(runners), n_repeats, budget)
    order = np.zeros(shape, dtype=np.int64)
    seconds = np.zeros(shape[:2])
    for r in range(n_repeats):
        initial = np.random.default_rng([random_seed, r]).choice(n_pool, n_initial, replace=False)
        for s, (name, run) in enumerate(runners.items()):
            rng = np.random.default_rng([random_seed, r, s + 1])
            start = time.perf_counter()
            chosen = np.asarray(run(X, measure, initial, budget, minimize=minimize, rng=rng))
            seconds[s, r] = time.perf_counter() - start
            if (
                chosen.shape != (budget,)
                or len(np.unique(chosen)) != budget
                or not np.array_equal(chosen[:n_initial], initial)
            ):
                raise ValueError(
                    f"strategy {name!r} must return {budget} distinct positions starting with the "
                    f"initial points {initial.tolist()}, got {chosen.tolist()}"
                )
            order[s, r] = chosen
            if progress:
                print(f"repeat {r + 1}/{n_repeats} {name}: {seconds[s, r]:.1f} s", flush=True)
    found = values[order]
    best = np.minimum.accumulate(found, -1) if minimize else np.maximum.accumulate(found, -1)
    dims = ("strategy", "repeat", "evaluation")
    return xr.Dataset(
        {
            "order": (dims, order),
            "value": (dims, found),
            "top_fraction": (dims, np.cumsum(top[order], -1) / top.sum()),
            "best_so_far": (dims, best),
            "seconds": (dims[:2], seconds, {"units": "s"}),
        },
        coords={
            "strategy": list(runners),
            "repeat": np.arange(n_repeats),
            "evaluation": np.arange(1, budget + 1),
        },
        attrs={
            "n_pool": n_pool,
            "n_top": int(top.sum()),
            "fraction": float(fraction),
            "objective": objective,
            "n_initial": n_initial,
            "random_seed": random_seed,
        },
    )


def _check_result(result: object) -> xr.Dataset:
    if not isinstance(result, xr.Dataset) or "top_fraction" not in result:
        raise TypeError("result must be the xarray.Dataset returned by run_benchmark")
    return result


def top_fraction_bands(result: xr.Dataset, quantiles: tuple[float, float] = (0.1, 0.9)):
    """Mean Top%(i) of each strategy with a band between two quantiles over the repeats.

    Returns a tidy :class:`pandas.DataFrame` (columns ``strategy``, ``evaluation``, ``mean``,
    ``low``, ``high``, all Top% as fractions) with the analytic random baseline ``i / N`` added
    as the strategy ``"random (expected)"`` (its band is zero wide), ready for plotting.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 40)[:, None]
    >>> result = run_benchmark({"random": "random"}, x, x[:, 0], n_repeats=3, budget=6,
    ...                        n_initial=2)
    >>> sorted(top_fraction_bands(result).strategy.unique())
    ['random', 'random (expected)']
    """
    result = _check_result(result)
    low, high = quantiles
    if not 0 <= low < high <= 1:
        raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1, got {quantiles!r}")
    top = result["top_fraction"]
    frames = []
    for name in result.strategy.values:
        curves = top.sel(strategy=name)
        frames.append(
            pd.DataFrame(
                {
                    "strategy": str(name),
                    "evaluation": result.evaluation.values,
                    "mean": curves.mean("repeat").values,
                    "low": curves.quantile(low, "repeat").values,
                    "high": curves.quantile(high, "repeat").values,
                }
            )
        )
    expected = random_top_fraction(result.attrs["n_pool"], result.evaluation.values)
    frames.append(
        pd.DataFrame(
            {
                "strategy": "random (expected)",
                "evaluation": result.evaluation.values,
                "mean": expected,
                "low": expected,
                "high": expected,
            }
        )
    )
    return pd.concat(frames, ignore_index=True)


def summarize_benchmark(
    result: xr.Dataset,
    budgets: Sequence[int] | None = None,
    af_target: float = 0.5,
) -> pd.DataFrame:
    """Top%, EF and AF of every strategy (Liang et al. 2021), one row per strategy.

    As in the paper the metrics are computed from the MEAN Top% curve over the repeats:
    ``EF(i) = mean Top%(i) / (i / N)`` and ``AF(a) = a N / i(a)`` with ``i(a)`` the first
    evaluation where the mean Top% reaches ``a`` (NaN if it never does within the budget).
    Columns: ``top%@i`` (mean Top% in percent, with its sd over repeats as ``sd@i``) and
    ``EF@i`` for each budget ``i``, ``AF@a`` and the mean seconds per campaign.

    Parameters
    ----------
    result : xarray.Dataset
        From :func:`run_benchmark`.
    budgets : sequence of int, optional
        Numbers of evaluations to report; default: a quarter, half and all of the budget.
    af_target : float
        Top% target of the acceleration factor, in (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 40)[:, None]
    >>> result = run_benchmark({"random": "random"}, x, x[:, 0], n_repeats=3, budget=8,
    ...                        n_initial=2)
    >>> list(summarize_benchmark(result, budgets=[8]).columns)
    ['strategy', 'top%@8', 'sd@8', 'EF@8', 'AF@0.5', 'seconds']
    """
    result = _check_result(result)
    n_eval = result.sizes["evaluation"]
    if budgets is None:
        budgets = sorted({max(1, n_eval // 4), max(1, n_eval // 2), n_eval})
    budgets = [check_positive_int("budgets", b) for b in budgets]
    if max(budgets) > n_eval:
        raise ValueError(f"budgets must be at most the benchmark's budget {n_eval}, got {budgets}")
    if not (isinstance(af_target, (int, float)) and 0 < af_target <= 1):
        raise ValueError(f"af_target must be a Top% fraction in (0, 1], got {af_target!r}")
    n_pool = result.attrs["n_pool"]
    rows = []
    for name in result.strategy.values:
        curves = result["top_fraction"].sel(strategy=name).values
        mean = curves.mean(0)
        row: dict[str, Any] = {"strategy": str(name)}
        for b in budgets:
            row[f"top%@{b}"] = 100 * mean[b - 1]
            row[f"sd@{b}"] = 100 * curves[:, b - 1].std(ddof=1) if len(curves) > 1 else math.nan
            row[f"EF@{b}"] = mean[b - 1] / (b / n_pool)
        reached = np.flatnonzero(mean >= af_target - 1e-12)
        row[f"AF@{af_target:g}"] = (
            af_target * n_pool / (reached[0] + 1) if len(reached) else math.nan
        )
        row["seconds"] = float(result["seconds"].sel(strategy=name).mean())
        rows.append(row)
    return pd.DataFrame(rows)
