"""Known-answer tests of the closed-form conjugate Bayesian linear regression."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from mi_workbench.models import ConjugateLinearRegression


def _data(n=60, p=4, noise=0.5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    w = np.array([1.0, 2.0, 0.0, -1.0, 0.5, 0.3][:p])
    return X, X @ w + rng.normal(scale=noise, size=n), w


def _brute_force_evidence(X, y, alpha, beta):
    """log N(y | 0, X X^T / alpha + I / beta): the marginal likelihood by definition."""
    cov = X @ X.T / alpha + np.eye(len(y)) / beta
    return multivariate_normal(np.zeros(len(y)), cov).logpdf(y)


@pytest.mark.parametrize(("n", "p"), [(60, 4), (15, 40)])  # more rows than columns, and fewer
def test_log_evidence_matches_the_gaussian_marginal_likelihood_at_fixed_precisions(n, p):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(n, p)), rng.normal(size=n)
    model = ConjugateLinearRegression(fit_intercept=False, alpha=0.7, beta=3.0, optimize=False)
    model.fit(X, y)
    assert (model.alpha_, model.beta_) == (0.7, 3.0)
    assert model.log_evidence_ == pytest.approx(_brute_force_evidence(X, y, 0.7, 3.0), abs=1e-8)


def test_optimised_precisions_maximise_the_evidence_on_a_grid():
    X, y, _ = _data()
    model = ConjugateLinearRegression(fit_intercept=False, tol=1e-10).fit(X, y)
    best = _brute_force_evidence(X, y, model.alpha_, model.beta_)
    assert model.log_evidence_ == pytest.approx(best, abs=1e-8)
    for factor_a in (0.5, 0.9, 1.1, 2.0):
        for factor_b in (0.5, 0.9, 1.0, 1.1, 2.0):
            other = _brute_force_evidence(X, y, model.alpha_ * factor_a, model.beta_ * factor_b)
            assert other < best
    assert model.beta_ == pytest.approx(1 / 0.5**2, rel=0.35)  # noise sd 0.5


def test_posterior_mean_and_predictive_sd_match_the_explicit_formulas():
    X, y, w = _data(n=200, p=3, noise=0.1)
    y = y + 3.0
    model = ConjugateLinearRegression().fit(X, y)
    np.testing.assert_allclose(model.coef_, w[:3], atol=0.03)
    assert model.intercept_ == pytest.approx(3.0, abs=0.03)
    Xc = X - X.mean(axis=0)
    S = np.linalg.inv(model.alpha_ * np.eye(3) + model.beta_ * Xc.T @ Xc)
    np.testing.assert_allclose(model.coef_, model.beta_ * S @ Xc.T @ (y - y.mean()), rtol=1e-8)
    new = np.random.default_rng(5).normal(size=(7, 3)) * 3
    centred = new - X.mean(axis=0)
    expected = np.einsum("ij,jk,ik->i", centred, S, centred) + 1 / (model.beta_ * 200)
    mean, sd = model.predict(new)
    np.testing.assert_allclose(mean, new @ model.coef_ + model.intercept_)
    np.testing.assert_allclose(sd, np.sqrt(expected + 1 / model.beta_), rtol=1e-8)
    _, sd_function = model.predict(new, include_noise=False)
    np.testing.assert_allclose(sd_function, np.sqrt(expected), rtol=1e-8)


def test_shared_decomposition_gives_the_same_fit_as_a_fresh_one():
    X, y, _ = _data(n=40, p=6)
    model = ConjugateLinearRegression()
    parts = model.decompose(X)
    shared = ConjugateLinearRegression().fit(X, y, decomposition=parts)
    fresh = ConjugateLinearRegression().fit(X, y)
    np.testing.assert_allclose(shared.coef_, fresh.coef_)
    assert shared.log_evidence_ == pytest.approx(fresh.log_evidence_)
    with pytest.raises(ValueError, match="decomposition was computed for X of shape"):
        ConjugateLinearRegression().fit(X[:10], y[:10], decomposition=parts)


def test_bad_inputs_raise_clear_errors():
    X, y, _ = _data()
    with pytest.raises(ValueError, match="same number of rows"):
        ConjugateLinearRegression().fit(X, y[:-1])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN at position"):
        ConjugateLinearRegression().fit(bad, y)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        ConjugateLinearRegression(alpha=-1.0)
    with pytest.raises(RuntimeError, match="not fitted"):
        ConjugateLinearRegression().predict(X)
    model = ConjugateLinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="X must have 4 columns"):
        model.predict(X[:, :2])


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("constant_y", [False, True])
def test_equal_rows_give_a_finite_prior_dominated_fit(fit_intercept, constant_y):
    # all rows of X equal: the data say nothing about the weights along any direction
    X = np.tile([[1.0, 2.0, 0.5]], (6, 1))
    y = np.full(6, 3.0) if constant_y else np.array([2.9, 3.1, 3.0, 2.8, 3.2, 3.0])
    model = ConjugateLinearRegression(fit_intercept=fit_intercept).fit(X, y)
    values = [model.alpha_, model.beta_, model.log_evidence_, model.intercept_, *model.coef_]
    assert np.all(np.isfinite(values))
    mean, sd = model.predict(np.vstack([X[:1], X[:1] + 1.0]))
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(sd)) and np.all(sd > 0)
    if fit_intercept:
        np.testing.assert_allclose(model.coef_, 0.0, atol=1e-12)  # the prior's mean
        assert model.intercept_ == pytest.approx(y.mean())
        assert model.alpha_ == 1.0  # nothing to learn about the prior precision
        assert model.effective_parameters_ == 0.0
        assert sd[1] > sd[0]  # a row unlike the training rows is more uncertain


def test_zero_variance_target_with_varying_rows_is_finite():
    X = np.random.default_rng(0).normal(size=(10, 2))
    model = ConjugateLinearRegression().fit(X, np.full(10, -4.0))
    values = [model.alpha_, model.beta_, model.log_evidence_, model.intercept_, *model.coef_]
    assert np.all(np.isfinite(values))
    np.testing.assert_allclose(model.predict(X)[0], -4.0, atol=1e-6)
