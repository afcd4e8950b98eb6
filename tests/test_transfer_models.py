"""Tests of the transfer-learning models: multi-task pooling and multi-fidelity regressors.

Known answers come from the Forrester / Kennedy-O'Hagan pair of functions,
``y_high = (6x - 2)^2 sin(12x - 4)`` and ``y_low = 0.5 y_high + 10 (x - 0.5) - 5``, for which
``y_high = 2 y_low + delta(x)`` with a linear ``delta``: the AR(1) scale factor is rho = 2.
"""

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from mi_workbench.design import (
    TRANSFER_MODELS,
    AR1MultiFidelityGP,
    DifferenceTransfer,
    NonlinearAR1MultiFidelityGP,
    ProxyTransfer,
    SingleFidelityGP,
    make_transfer_model,
)
from mi_workbench.inference import diagnose, fit
from mi_workbench.models import (
    ar1_multifidelity_gp,
    check_fidelity_data,
    hierarchical_multitask,
    hsgp_basis,
    predict_ar1_multifidelity,
    predict_multitask,
)

FIT_CPU_SECONDS_MAX = 240.0  # CPU time, all threads: a busy machine hardly changes it


def forrester_high(x):
    return (6 * x - 2) ** 2 * np.sin(12 * x - 4)


def forrester_low(x):
    return 0.5 * forrester_high(x) + 10 * (x - 0.5) - 5


def rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


@pytest.fixture(scope="module")
def forrester():
    """41 cheap points on [0, 1]; 7 expensive ones among them; 200 held-out test points."""
    x_low = np.linspace(0, 1, 41)[:, None]
    x_high = x_low[np.linspace(0, 40, 7).astype(int)]
    x_test = np.linspace(0.01, 0.99, 200)[:, None]
    return (
        x_low,
        forrester_low(x_low[:, 0]),
        x_high,
        forrester_high(x_high[:, 0]),
        x_test,
        forrester_high(x_test[:, 0]),
    )


@pytest.fixture(scope="module")
def fast_fits(forrester):
    x_low, y_low, x_high, y_high, x_test, truth = forrester
    out = {}
    for name in TRANSFER_MODELS:
        model = make_transfer_model(name).fit(x_low, y_low, x_high, y_high)
        mean, sd = model.predict(x_test)
        out[name] = (model, mean, sd, rmse(mean, truth))
    return out


# -- input checks -------------------------------------------------------------------------------


def test_fidelity_checks_name_the_problem():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="X_low and y_low must have the same number of points"):
        check_fidelity_data(X, np.ones(3), X, np.ones(4))
    with pytest.raises(ValueError, match="same descriptors.*X_low has 2.*X_high has 3"):
        check_fidelity_data(X, np.ones(4), np.zeros((4, 3)), np.ones(4))
    with pytest.raises(ValueError, match="y_high contains NaN at position 1"):
        check_fidelity_data(X, np.ones(4), X, [1.0, np.nan, 2.0, 3.0])
    with pytest.raises(ValueError, match="X_low contains an infinite value"):
        check_fidelity_data(np.full((4, 2), np.inf), np.ones(4), X, np.ones(4))
    with pytest.raises(ValueError, match="y_high needs at least 2 points"):
        check_fidelity_data(X, np.ones(4), X[:1], [1.0])
    X_low, _, X_high, _ = check_fidelity_data([0.0, 1.0, 2.0], [1, 2, 3], [0.5, 1.5], [1, 2])
    assert X_low.shape == (3, 1) and X_high.shape == (2, 1)


def test_every_model_and_builder_rejects_mismatched_fidelities():
    X, y = np.linspace(0, 1, 6)[:, None], np.arange(6.0)
    for name in TRANSFER_MODELS:
        with pytest.raises(ValueError, match="same descriptors"):
            make_transfer_model(name).fit(X, y, np.column_stack([X, X]), y)
    with pytest.raises(ValueError, match="same number of points"):
        ar1_multifidelity_gp(X, y[:5], X, y)


def test_bad_options_give_clear_errors():
    with pytest.raises(ValueError, match="name must be one of"):
        make_transfer_model("kriging")
    with pytest.raises(ValueError, match="kernel must be one of"):
        AR1MultiFidelityGP(kernel="linear")
    with pytest.raises(ValueError, match="applies to full_bayes=True"):
        AR1MultiFidelityGP(approximation="hsgp")
    with pytest.raises(ValueError, match="regressor must be one of"):
        DifferenceTransfer(regressor="forest")
    X = np.random.default_rng(0).uniform(size=(10, 4))
    with pytest.raises(ValueError, match="at most 3 inputs"):
        ar1_multifidelity_gp(X, X[:, 0], X, X[:, 1], approximation="hsgp")
    with pytest.raises(ValueError, match="approximation must be one of"):
        ar1_multifidelity_gp(X, X[:, 0], X, X[:, 1], approximation="sparse")
    with pytest.raises(ValueError, match="y_low is constant"):
        ar1_multifidelity_gp(X, np.ones(10), X, X[:, 1])


def test_predict_checks_inputs(fast_fits):
    model = fast_fits["ar1"][0]
    with pytest.raises(ValueError, match=r"X_new must have shape \(n_new, 1\)"):
        model.predict(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="X_new contains NaN"):
        model.predict([[0.2], [np.nan]])
    with pytest.raises(RuntimeError, match="not fitted yet"):
        ProxyTransfer().predict([[0.2]])


def test_multitask_input_checks():
    X, y = np.linspace(0, 1, 6)[:, None], np.arange(6.0)
    with pytest.raises(ValueError, match="one label per observation: got 5 labels for 6"):
        hierarchical_multitask(X, y, [0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="task contains NaN"):
        hierarchical_multitask(X, y, [0, 0, 1, np.nan, 1, 1])
    with pytest.raises(ValueError, match="partial pooling needs at least 2 tasks"):
        hierarchical_multitask(X, y, ["a"] * 6)
    with pytest.raises(ValueError, match="pooling must be one of"):
        hierarchical_multitask(X, y, [0, 0, 0, 1, 1, 1], pooling="some")
    model = hierarchical_multitask(X, y, ["b", "b", "a", "a", "c", "c"])
    assert list(model.coords["task"]) == ["a", "b", "c"]
    assert model["task_index"].get_value().tolist() == [1, 1, 0, 0, 2, 2]


def test_hsgp_basis_matches_pymc():
    import pytensor.tensor as pt
    from pymc.gp.hsgp_approx import calc_eigenvalues, calc_eigenvectors

    rng = np.random.default_rng(1)
    Xc = rng.uniform(-1, 1, (7, 2))
    L, m = np.array([1.6, 1.4]), [3, 4]
    expected = calc_eigenvectors(pt.as_tensor(Xc), pt.as_tensor(L), calc_eigenvalues(L, m), m)
    np.testing.assert_allclose(hsgp_basis(Xc, L, m), expected.eval(), rtol=1e-10, atol=1e-12)


# -- fast (type-II maximum likelihood) multi-fidelity models on the Forrester pair -------------


def test_ar1_recovers_rho_and_beats_single_fidelity(fast_fits):
    ar1, _, sd, ar1_rmse = fast_fits["ar1"]
    single_rmse = fast_fits["single_fidelity"][3]
    assert ar1.rho_ == pytest.approx(2.0, abs=0.1)
    assert single_rmse > 1.0  # 7 points cannot resolve the function alone
    assert ar1_rmse < 0.1 * single_rmse
    assert (sd > 0).all()


def test_transfer_models_beat_single_fidelity(fast_fits):
    single_rmse = fast_fits["single_fidelity"][3]
    for name in ("difference", "proxy"):
        assert fast_fits[name][3] < 0.3 * single_rmse, name


def test_fast_fits_are_quick(fast_fits):
    for name, (model, *_) in fast_fits.items():
        assert model.fit_cpu_time_ < FIT_CPU_SECONDS_MAX, name


def test_uncertainty_is_calibrated_on_held_out_points(fast_fits, forrester):
    truth = forrester[5]
    for name in ("ar1", "proxy", "difference"):
        _, mean, sd, _ = fast_fits[name]
        covered = np.abs(mean - truth) <= 3 * sd + 1e-3 * np.abs(truth).max()
        assert covered.mean() > 0.8, name


def test_difference_uses_looked_up_low_values(forrester):
    x_low, y_low, x_high, y_high, *_ = forrester
    model = DifferenceTransfer().fit(x_low, y_low, x_high, y_high)
    m_diff, sd_diff = model.difference_model_.predict(x_low[3:4])
    mean, sd = model.predict(x_low[3:4])
    assert mean[0] == pytest.approx(y_low[3] + m_diff[0])
    assert sd[0] == pytest.approx(sd_diff[0])
    assert model._low.surrogate is None  # every point asked for was a low-fidelity row


def test_proxy_propagates_low_fidelity_uncertainty():
    x_low = np.linspace(0, 1, 11)[:, None]
    y_low = forrester_low(x_low[:, 0])
    x_high = x_low[::2]
    model = ProxyTransfer().fit(x_low, y_low, x_high, forrester_high(x_high[:, 0]))
    assert model._low.surrogate is None  # every high point is a low point: nothing predicted
    _, sd_on_grid = model.predict(x_low[5:6])
    _, sd_off_grid = model.predict([[0.47]])
    assert model._low.surrogate is not None
    assert sd_off_grid[0] > 0 and sd_on_grid[0] > 0


def test_large_low_fidelity_set_uses_random_features(forrester):
    x_low = np.linspace(0, 1, 1000)[:, None]
    x_high = x_low[np.linspace(0, 999, 8).astype(int)]
    x_test = forrester[4]
    model = AR1MultiFidelityGP(max_exact_low=100).fit(
        x_low, forrester_low(x_low[:, 0]), x_high, forrester_high(x_high[:, 0])
    )
    mean, _ = model.predict(x_test)
    assert model.fit_cpu_time_ < FIT_CPU_SECONDS_MAX
    assert type(model._low.surrogate).__name__ == "RandomFeatureSurrogate"
    assert rmse(mean, forrester[5]) < 0.5


# -- full Bayes (NUTS) ---------------------------------------------------------------------------


@pytest.mark.slow
def test_bayesian_ar1_exact_recovers_rho(forrester):
    x_low = np.linspace(0, 1, 21)[:, None]
    x_high = x_low[np.linspace(0, 20, 7).astype(int)]
    x_test, truth = forrester[4], forrester[5]
    model = AR1MultiFidelityGP(full_bayes=True, draws=500, tune=500).fit(
        x_low, forrester_low(x_low[:, 0]), x_high, forrester_high(x_high[:, 0])
    )
    assert model.fit_cpu_time_ < FIT_CPU_SECONDS_MAX
    rho = model.idata_["posterior"]["rho"].values.ravel()
    low, high = np.quantile(rho, [0.03, 0.97])
    assert low < 2.0 < high and high - low < 2.0
    diagnostics = diagnose(model.idata_, ["rho", "low_lengthscale", "low_amplitude"])
    assert diagnostics.max_rhat < 1.05
    mean, sd = model.predict(x_test)
    single = SingleFidelityGP().fit(
        x_low, forrester_low(x_low[:, 0]), x_high, forrester_high(x_high[:, 0])
    )
    assert rmse(mean, truth) < 0.2 * rmse(single.predict(x_test)[0], truth)
    # the same numbers through the functional interface, and the low fidelity itself
    mean_f, _ = predict_ar1_multifidelity(model.idata_, model.model_, x_test)
    np.testing.assert_allclose(mean_f, mean)
    low_mean, _ = predict_ar1_multifidelity(model.idata_, model.model_, x_test, fidelity="low")
    assert rmse(low_mean, forrester_low(x_test[:, 0])) < 0.1


@pytest.mark.slow
def test_bayesian_ar1_hsgp_on_many_low_points(forrester, fast_fits):
    x_low = np.linspace(0, 1, 1201)[:, None]
    x_high = x_low[::200]  # the 7 points of the exact test
    x_test, truth = forrester[4], forrester[5]
    model = AR1MultiFidelityGP(full_bayes=True, approximation="hsgp", draws=400, tune=400).fit(
        x_low, forrester_low(x_low[:, 0]), x_high, forrester_high(x_high[:, 0])
    )
    assert model.fit_cpu_time_ < FIT_CPU_SECONDS_MAX
    diagnostics = diagnose(model.idata_, ["rho", "low_lengthscale", "low_amplitude"])
    assert diagnostics.n_divergences <= 8 and diagnostics.max_rhat < 1.05  # <= 1% of 800
    # 7 high-fidelity points leave rho uncertain (the prior pulls it toward 0; median ~1.4):
    # the posterior must still see a clearly positive scale factor of the right size
    low, high = np.quantile(model.idata_["posterior"]["rho"].values.ravel(), [0.03, 0.97])
    assert 0.3 < low and 1.5 < high < 3.0
    mean, sd = model.predict(x_test)
    assert rmse(mean, truth) < 0.2 * fast_fits["single_fidelity"][3]
    assert (sd > 0).all()


@pytest.fixture(scope="module")
def multitask_data():
    """8 tasks sharing slope ~2 and intercept ~1 (task spread 0.3); tasks 0-3 have 3 points."""
    rng = np.random.default_rng(7)
    n_tasks = 8
    intercepts = 1.0 + 0.3 * rng.standard_normal(n_tasks)
    slopes = 2.0 + 0.3 * rng.standard_normal(n_tasks)
    sizes = [3, 3, 3, 3, 30, 30, 30, 30]
    task = np.repeat(np.arange(n_tasks), sizes)
    x = rng.uniform(-1, 1, len(task))
    y = intercepts[task] + slopes[task] * x + 0.5 * rng.standard_normal(len(task))
    x_test = np.tile(np.linspace(-1, 1, 11), 4)
    task_test = np.repeat(np.arange(4), 11)
    truth = intercepts[task_test] + slopes[task_test] * x_test
    return x[:, None], y, task, x_test[:, None], task_test, truth, slopes


@pytest.mark.slow
def test_partial_pooling_shrinks_and_beats_no_pooling(multitask_data):
    X, y, task, X_test, task_test, truth, slopes = multitask_data
    results = {}
    for pooling in ("partial", "none"):
        model = hierarchical_multitask(X, y, task, pooling=pooling)
        idata = fit(model, draws=400, tune=400, random_seed=1)
        assert diagnose(idata, ["intercept", "coefficients"]).max_rhat < 1.05
        mean, sd = predict_multitask(idata, X_test, task_test)
        slope = idata["posterior"]["coefficients"].mean(("chain", "draw")).values[:, 0]
        results[pooling] = (idata, rmse(mean, truth), slope)
    partial, none = results["partial"], results["none"]
    # small tasks: estimates pulled toward the population slope, and closer to the truth
    population = float(partial[0]["posterior"]["population_coefficients"].mean())
    assert population == pytest.approx(2.0, abs=0.4)
    small = slice(0, 4)
    pull_partial = np.abs(partial[2][small] - population).mean()
    assert pull_partial < np.abs(none[2][small] - population).mean()
    assert partial[1] < none[1]
    # a task never seen is predicted from the population, with a wider interval
    mean_new, sd_new = predict_multitask(partial[0], [[0.0]], ["new"])
    mean_old, sd_old = predict_multitask(partial[0], [[0.0]], [5])
    assert sd_new[0] > sd_old[0]
    with pytest.raises(ValueError, match="pooling='partial'"):
        predict_multitask(none[0], [[0.0]], ["new"])


def test_ar1_with_constant_cheap_values_at_the_expensive_points_stays_finite():
    """All expensive points share one cheap value (e.g. metals with PBE gap 0): rho is not
    identifiable, and the fit must not run off to an absurd rho."""
    rng = np.random.default_rng(0)
    X_low = np.linspace(0.0, 3.0, 40)[:, None]
    y_low = X_low[:, 0] ** 2
    X_high = np.zeros((8, 1))  # every expensive point sits where the cheap value is 0
    y_high = 0.5 + rng.normal(0.0, 0.1, 8)
    model = AR1MultiFidelityGP().fit(X_low, y_low, X_high, y_high)
    assert model.rho_ == 1.0
    mean, sd = model.predict(np.array([[0.0], [1.0], [2.0]]))
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))
    assert abs(mean[0] - y_high.mean()) < 0.3


# -- nonlinear autoregressive GP (NARGP, Perdikaris et al. 2017) ---------------------------------


def perdikaris_low(x):
    return np.sin(8 * np.pi * x)


def perdikaris_high(x):
    """The paper's first benchmark: a nonlinear, x-dependent map of the low fidelity."""
    return (x - np.sqrt(2)) * perdikaris_low(x) ** 2


@pytest.fixture(scope="module")
def perdikaris():
    """51 cheap points, 14 expensive ones among them, 200 held-out points off the cheap grid."""
    x_low = np.linspace(0, 1, 51)[:, None]
    x_high = x_low[np.linspace(0, 50, 14).round().astype(int)]
    x_test = np.linspace(0.005, 0.995, 200)[:, None]
    return (
        x_low,
        perdikaris_low(x_low[:, 0]),
        x_high,
        perdikaris_high(x_high[:, 0]),
        x_test,
        perdikaris_high(x_test[:, 0]),
    )


def test_nargp_learns_a_nonlinear_relation_that_ar1_cannot(perdikaris):
    x_low, y_low, x_high, y_high, x_test, truth = perdikaris
    scores = {}
    for name, model in (
        ("nargp", NonlinearAR1MultiFidelityGP()),
        ("paper", NonlinearAR1MultiFidelityGP(linear_term=False)),
        ("ar1", AR1MultiFidelityGP()),
    ):
        model.fit(x_low, y_low, x_high, y_high)
        mean, sd = model.predict(x_test)
        scores[name] = rmse(mean, truth)
        assert model.fit_cpu_time_ < FIT_CPU_SECONDS_MAX, name
        if name != "ar1":
            assert (np.abs(mean - truth) <= 3 * sd).mean() > 0.8, name
    assert scores["ar1"] > 0.2  # y_high is not rho * y_low + smooth delta
    assert scores["nargp"] < 0.25 * scores["ar1"]
    assert scores["paper"] < 0.25 * scores["ar1"]


def test_nargp_contains_the_linear_ar1_relation(fast_fits):
    single_rmse = fast_fits["single_fidelity"][3]
    _, mean, sd, nargp_rmse = fast_fits["nargp"]
    assert nargp_rmse < 0.1 * single_rmse
    assert (sd > 0).all()


def test_nargp_propagates_low_fidelity_uncertainty(perdikaris):
    x_low, y_low, x_high, y_high, *_ = perdikaris
    model = NonlinearAR1MultiFidelityGP().fit(x_low, y_low, x_high, y_high)
    assert model._low.surrogate is None  # the expensive inputs are cheap rows: looked up
    on_grid, sd_on = model.predict(x_low[[7]])  # 7 is not an expensive point
    assert model._low.surrogate is None
    off_grid, sd_off = model.predict([[0.5 * (x_low[7, 0] + x_low[8, 0])]])
    assert model._low.surrogate is not None
    assert sd_off[0] > sd_on[0] > 0
    # the analytic log marginal likelihood gradient matches finite differences
    theta = model.theta_ + 0.1
    value, gradient = model._neg_log_marginal(theta)
    step = 1e-6 * np.eye(len(theta))
    numeric = [
        (model._neg_log_marginal(theta + e)[0] - model._neg_log_marginal(theta - e)[0]) / 2e-6
        for e in step
    ]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-6)


def test_nargp_input_errors():
    X, y = np.linspace(0, 1, 6)[:, None], np.arange(6.0)
    model = NonlinearAR1MultiFidelityGP()
    with pytest.raises(ValueError, match="same descriptors.*X_low has 1.*X_high has 2"):
        model.fit(X, y, np.column_stack([X, X]), y)
    with pytest.raises(ValueError, match="X_high and y_high must have the same number of points"):
        model.fit(X, y, X, y[:4])
    with pytest.raises(ValueError, match="y_low contains NaN"):
        model.fit(X, np.r_[y[:5], np.nan], X, y)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        model.predict(X)
    model.fit(X, y, X[::2], 2 * y[::2])
    with pytest.raises(ValueError, match=r"X_new must have shape \(n_new, 1\)"):
        model.predict(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="full_bayes=True is not available"):
        NonlinearAR1MultiFidelityGP(full_bayes=True)
    with pytest.raises(ValueError, match="n_mc"):
        NonlinearAR1MultiFidelityGP(n_mc=1)
    with pytest.raises(ValueError, match="kernel must be one of"):
        make_transfer_model("nargp", kernel="linear")


def test_unseen_task_prediction_matches_the_hierarchical_prior_far_from_zero():
    """A new task is a draw from the population: its random intercept belongs at the data's
    centre (where the model standardises), not at x = 0. With a descriptor centred at 70 the
    predictive sd of a new task must match a direct simulation of the model's own hierarchy,
    at the data's centre and well away from it."""
    rng = np.random.default_rng(3)
    n_tasks, per_task = 5, 12
    task = np.repeat(np.arange(n_tasks), per_task)
    x = 70.0 + 5.0 * rng.standard_normal(task.size)
    y = 1.0 + rng.normal(0.5, 0.2, n_tasks)[task] * (x - 70.0) + 0.3 * rng.standard_normal(x.size)
    model = hierarchical_multitask(x[:, None], y, task, pooling="partial")
    with model:
        prior = pm.sample_prior_predictive(draws=4000, random_seed=4)
    # the prior's draws stand in for a posterior: the prediction must follow the same hierarchy
    posterior = prior["prior"].to_dataset()
    idata = xr.DataTree.from_dict(
        {"posterior": posterior, "constant_data": prior["constant_data"].to_dataset()}
    )
    x_center = float(prior["constant_data"]["x_center"].values[0])
    x_scale = float(prior["constant_data"]["x_scale"].values[0])
    y_center = float(prior["constant_data"]["y_center"].values)
    y_scale = float(prior["constant_data"]["y_scale"].values)
    draws = posterior.stack(sample=("chain", "draw"))
    sim = np.random.default_rng(5)
    n = draws.sizes["sample"]
    for x_new in (70.0, 85.0, 0.0):
        intercept = draws["population_intercept_std"].values + draws[
            "task_intercept_sd_std"
        ].values * sim.standard_normal(n)
        slope = draws["population_coefficients_std"].values[0] + draws[
            "task_coefficient_sd_std"
        ].values[0] * sim.standard_normal(n)
        direct = y_center + y_scale * (intercept + slope * (x_new - x_center) / x_scale)
        _, sd = predict_multitask(idata, [[x_new]], ["new"], max_draws=None)
        assert sd[0] == pytest.approx(direct.std(), rel=0.10), x_new
