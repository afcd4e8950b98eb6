"""Tests of prior specifications and the Bayesian linear regression builder (no sampling)."""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from mi_workbench.models import (
    FAMILIES,
    Prior,
    as_prior,
    bayesian_linear_regression,
    grid_design,
    prior_predictive_lines,
    regression_priors,
)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_prior_density_integrates_to_one_and_matches_its_samples(family):
    prior = Prior(family)
    low, high = prior.interval(0.999)
    mass, _ = integrate.quad(prior.pdf, max(low - 10, prior.support[0]), high + 10, limit=200)
    assert mass == pytest.approx(1.0, abs=2e-3)
    draws = prior.sample(np.random.default_rng(0), 20000)
    inside = np.mean((draws >= low) & (draws <= high))
    assert inside == pytest.approx(0.999, abs=0.003)


@pytest.mark.parametrize("family", FAMILIES)
def test_prior_logp_in_pymc_matches_numpy(family):
    import pymc as pm

    prior = Prior(family)
    value = 0.7  # inside every family's default support
    logp = float(pm.logp(prior.to_pymc_dist(), value).eval())
    assert logp == pytest.approx(float(prior.logpdf(value)), rel=1e-6)


def test_prior_validation_names_the_problem():
    with pytest.raises(ValueError, match="Normal: sigma must be > 0, got -1.0"):
        Prior("normal", sigma=-1.0)
    with pytest.raises(TypeError, match="sigma must be a number, got the text 'abc'"):
        Prior("normal", sigma="abc")
    with pytest.raises(ValueError, match="unknown family .gamma_ray."):
        Prior("gamma_ray")
    with pytest.raises(TypeError, match=r"HalfNormal has no parameter\(s\) \['mu'\]"):
        Prior("half_normal", mu=1.0)
    with pytest.raises(ValueError, match="lower must be < upper"):
        Prior("Uniform", lower=2.0, upper=1.0)
    with pytest.raises(ValueError, match="prior 'noise': HalfNormal: sigma must be > 0"):
        as_prior("noise", {"family": "half_normal", "sigma": 0})


def test_regression_priors_check_names_and_support():
    with pytest.raises(ValueError, match="unknown prior name 'slope'"):
        regression_priors({"slope": Prior("normal")})
    with pytest.raises(ValueError, match="noise prior must be a family on the positive"):
        regression_priors({"noise": Prior("normal")})
    with pytest.raises(ValueError, match="coefficients prior must be a family on the whole real"):
        regression_priors({"coefficients": Prior("exponential")})


def test_regression_model_structure_and_dataframe_names():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(15, 2)), columns=["vec", "en"])
    model = bayesian_linear_regression(df, rng.normal(size=15), target_name="T")
    assert list(model.coords["feature"]) == ["vec", "en"]
    assert {"intercept_std", "coefficients_std", "noise_std"} <= {v.name for v in model.free_RVs}
    assert {"intercept", "coefficients", "noise_sd"} <= {v.name for v in model.deterministics}
    assert {v.name for v in model.data_vars} >= {"X", "y"}


def test_regression_rejects_bad_input():
    X, y = np.zeros((4, 2)), np.arange(4.0)
    with pytest.raises(ValueError, match="X with 4 rows and y with 3 values"):
        bayesian_linear_regression(X, y[:3])
    with pytest.raises(ValueError, match="constant"):
        bayesian_linear_regression(X, y)
    with pytest.raises(ValueError, match="contains NaN"):
        bayesian_linear_regression(np.array([[1.0], [np.nan], [2.0]]), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="feature_names has 1 name"):
        bayesian_linear_regression(np.eye(3)[:, :2], y[:3], feature_names=["a"])


def test_prior_predictive_lines_follow_the_standardised_prior():
    rng = np.random.default_rng(1)
    X = rng.normal(5.0, 2.0, size=(50, 1))
    y = 100.0 + 10.0 * rng.normal(size=50)
    grid = np.linspace(0.0, 10.0, 11)
    tight = prior_predictive_lines(
        {"intercept": Prior("Normal", 0, 1e-6), "coefficients": Prior("Normal", 0, 1e-6)},
        X,
        y,
        grid,
        n_draws=20,
    )
    np.testing.assert_allclose(tight, y.mean(), atol=1e-3)  # no slope, centred on the mean
    wide = prior_predictive_lines(None, X, y, grid, n_draws=4000)
    slopes = (wide[:, -1] - wide[:, 0]) / 10.0
    # a standard-normal standardised slope is y.std() / x.std() in data units
    assert slopes.std() == pytest.approx(y.std() / X.std(), rel=0.05)


def test_grid_design_holds_other_descriptors_at_their_mean():
    X = np.array([[0.0, 10.0], [2.0, 20.0]])
    design = grid_design(X, [5.0, 6.0], feature_index=0)
    np.testing.assert_array_equal(design, [[5.0, 15.0], [6.0, 15.0]])
    with pytest.raises(ValueError, match="feature_index must be in"):
        grid_design(X, [1.0], feature_index=2)
