"""Tests of the pool-based benchmark loop (mi_workbench.design.benchmark)."""

import math

import numpy as np
import pytest
import xarray as xr

from mi_workbench.design.benchmark import (
    Strategy,
    run_benchmark,
    summarize_benchmark,
    top_fraction_bands,
)
from mi_workbench.design.metrics import top_fraction_found
from mi_workbench.design.surrogates import GaussianProcessSurrogate

X = np.linspace(0.0, 1.0, 80)[:, None]
VALUES = (X[:, 0] - 0.62) ** 2  # minimum at x = 0.62; top 5% = the 4 nearest grid points


def _greedy_oracle_strategy(X, measure, initial, budget, *, minimize, rng):
    """Knows the answer: evaluates the pool from best to worst after the initial points."""
    pool = measure(np.arange(len(X)))
    best_first = np.argsort(pool if minimize else -pool)
    rest = [i for i in best_first if i not in set(initial.tolist())]
    return np.r_[initial, rest[: budget - len(initial)]]


def test_every_strategy_starts_from_the_same_initial_points_and_never_repeats():
    result = run_benchmark(
        {"random": "random", "gp_ei": Strategy("gp", "ei", surrogate_options={"n_restarts": 0})},
        X,
        VALUES,
        n_repeats=3,
        budget=10,
        n_initial=3,
        random_seed=4,
    )
    order = result["order"].values
    np.testing.assert_array_equal(order[0, :, :3], order[1, :, :3])
    assert not np.array_equal(order[0, 0, :3], order[0, 1, :3])  # repeats differ
    for row in order.reshape(-1, 10):
        assert len(set(row.tolist())) == 10
    np.testing.assert_allclose(result["value"].values, VALUES[order])
    expected = top_fraction_found(VALUES, order[1, 2].tolist())
    np.testing.assert_allclose(result["top_fraction"].values[1, 2], expected)
    assert result.attrs["n_top"] == 4 and result.attrs["n_pool"] == 80


def test_the_benchmark_reruns_exactly_from_its_seed():
    kwargs = dict(n_repeats=2, budget=9, n_initial=2, random_seed=11)
    strategies = {"rf_ts": Strategy("random_features", "thompson", {"n_features": 50})}
    first = run_benchmark(strategies, X, VALUES, **kwargs)
    second = run_benchmark(strategies, X, VALUES, **kwargs)
    np.testing.assert_array_equal(first["order"].values, second["order"].values)


def test_gp_expected_improvement_beats_random_on_a_smooth_pool():
    result = run_benchmark(
        {"random": "random", "gp_ei": {"surrogate": "gp", "acquisition": "ei"}},
        X,
        VALUES,
        n_repeats=4,
        budget=12,
        n_initial=3,
    )
    summary = summarize_benchmark(result, budgets=[12]).set_index("strategy")
    assert summary.loc["gp_ei", "top%@12"] >= 75.0  # finds at least 3 of the 4 best on average
    assert summary.loc["gp_ei", "EF@12"] > 3 * summary.loc["random", "EF@12"]


def test_summary_matches_the_definitions_of_liang_2021():
    result = run_benchmark(
        {"oracle": _greedy_oracle_strategy, "random": "random"},
        X,
        VALUES,
        n_repeats=2,
        budget=10,
        n_initial=2,
    )
    summary = summarize_benchmark(result, budgets=[5, 10], af_target=1.0).set_index("strategy")
    mean = result["top_fraction"].sel(strategy="oracle").mean("repeat").values
    assert summary.loc["oracle", "EF@10"] == pytest.approx(mean[9] / (10 / 80))
    assert summary.loc["oracle", "top%@5"] == pytest.approx(100 * mean[4])
    first = int(np.flatnonzero(mean >= 1.0)[0]) + 1
    assert summary.loc["oracle", "AF@1"] == pytest.approx(80 / first)
    # random search rarely finds all 4 top candidates in 10 of 80 draws
    assert math.isnan(summary.loc["random", "AF@1"]) or summary.loc["random", "AF@1"] > 0


def test_maximisation_uses_the_largest_values_as_the_top():
    result = run_benchmark(
        {"oracle": _greedy_oracle_strategy},
        X,
        -VALUES,
        objective="maximize",
        n_repeats=1,
        budget=8,
        n_initial=2,
    )
    assert result["top_fraction"].values[0, 0, -1] == 1.0
    assert result["best_so_far"].values[0, 0, -1] == pytest.approx(-VALUES.min())


def test_bands_include_the_analytic_random_baseline():
    result = run_benchmark({"random": "random"}, X, VALUES, n_repeats=5, budget=20, n_initial=2)
    bands = top_fraction_bands(result)
    expected = bands[bands.strategy == "random (expected)"]
    np.testing.assert_allclose(expected["mean"], np.arange(1, 21) / 80)
    run = bands[bands.strategy == "random"]
    assert (run["low"] <= run["mean"]).all() and (run["mean"] <= run["high"]).all()


def test_a_dataset_space_uses_the_named_features_and_a_callable_oracle():
    space = xr.Dataset({"x": ("candidate", X[:, 0]), "noise": ("candidate", np.zeros(80))})
    result = run_benchmark(
        {"random": "random"},
        space,
        lambda ds: (ds["x"].values - 0.62) ** 2,
        features=["x"],
        n_repeats=1,
        budget=5,
        n_initial=2,
    )
    np.testing.assert_allclose(result["value"].values[0, 0], VALUES[result["order"].values[0, 0]])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budget": 100}, "budget must lie between"),
        ({"n_initial": 0}, "n_initial"),
        ({"objective": "best"}, "objective"),
        ({"strategies": {}}, "non-empty mapping"),
        ({"strategies": {"bad": 3}}, "strategy 'bad'"),
        ({"oracle": np.ones(79)}, "79 values"),
        ({"oracle": np.r_[np.nan, np.ones(79)]}, "finite"),
        ({"strategies": {"x": Strategy("gp", "ei")}, "features": ["x"]}, "features"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(kwargs, message):
    args = {"strategies": {"random": "random"}, "space": X, "oracle": VALUES}
    args.update({k: kwargs.pop(k) for k in list(kwargs) if k in args})
    with pytest.raises((ValueError, TypeError), match=message):
        run_benchmark(
            args["strategies"],
            args["space"],
            args["oracle"],
            n_repeats=1,
            **{"budget": 5, "n_initial": 2, **kwargs},
        )


def test_a_strategy_that_breaks_the_rules_is_caught():
    def cheat(X, measure, initial, budget, *, minimize, rng):
        return np.r_[initial, np.repeat(initial[-1], budget - len(initial))]

    with pytest.raises(ValueError, match="distinct positions"):
        run_benchmark({"cheat": cheat}, X, VALUES, n_repeats=1, budget=5, n_initial=2)


def test_retuning_less_often_optimises_the_hyperparameters_less_often(monkeypatch):
    calls = []
    original = GaussianProcessSurrogate._optimise

    def counting(self, Z, y):
        calls.append(len(y))
        return original(self, Z, y)

    monkeypatch.setattr(GaussianProcessSurrogate, "_optimise", counting)
    measure = lambda p: VALUES[p]  # noqa: E731
    strategy = Strategy("gp", "ei", {"n_restarts": 0}, retune_every=3)
    rng = np.random.default_rng(0)
    order = strategy.run(X, measure, np.array([0, 40, 79]), 10, minimize=True, rng=rng)
    assert len(set(order.tolist())) == 10 and order[:3].tolist() == [0, 40, 79]
    assert calls == [3, 6, 9]  # 7 choices, hyperparameters tuned before choices 1, 4 and 7
    with pytest.raises(ValueError, match="retune_every"):
        Strategy("gp", "ei", retune_every=0)


def test_unknown_surrogate_or_acquisition_is_rejected():
    with pytest.raises(ValueError, match="surrogate"):
        Strategy("forest", "ei")
    with pytest.raises(ValueError, match="acquisition"):
        Strategy("gp", "magic")
