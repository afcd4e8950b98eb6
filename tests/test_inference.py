"""Known-answer tests of fit, the teaching Metropolis sampler and the diagnostics."""

import numpy as np
import pymc as pm
import pytest

from mi_workbench.data import as_regression_data, noisy_line, virtual_alloys
from mi_workbench.inference import diagnose, ess_per_second, fit, metropolis
from mi_workbench.models import bayesian_linear_regression

FEATURES = ["valence_electron_concentration", "mean_electronegativity"]


@pytest.fixture(scope="module")
def line_model():
    ds = noisy_line(n_points=25, slope=2.0, intercept=1.0, noise_sd=0.3, random_seed=2)
    return bayesian_linear_regression(ds["x"].values, ds["y"].values, feature_names=["x"])


@pytest.fixture(scope="module")
def line_fit(line_model):
    return fit(line_model, draws=1000, tune=1000, random_seed=1)


def test_fit_recovers_the_law_of_the_virtual_alloys():
    data = as_regression_data(
        virtual_alloys(n_alloys=40, random_seed=4), FEATURES, "transformation_temperature_k"
    )
    model = bayesian_linear_regression(data.X, data.y, feature_names=FEATURES)
    idata = fit(model, draws=1000, tune=1000, random_seed=0)
    checks = diagnose(idata, ["intercept", "coefficients", "noise_sd"])
    assert checks.ok, checks.warnings
    assert checks.max_rhat <= 1.01 and checks.n_divergences == 0
    post = idata["posterior"]
    for name, truth in [
        ("valence_electron_concentration", -150.0),
        ("mean_electronegativity", 400.0),
    ]:
        draws = post["coefficients"].sel(feature=name).values.ravel()
        low, high = np.quantile(draws, [0.015, 0.985])
        assert low < truth < high, (name, low, high)
    assert set(idata.children) >= {"posterior", "sample_stats", "observed_data", "constant_data"}


def test_fit_compiles_once_and_follows_set_data(line_model, line_fit):
    assert line_fit["posterior"].attrs["compile_time"] > 0
    again = fit(line_model, draws=200, tune=200, random_seed=1)
    # the cached compiled model: a look-up, not a compile (relative, so that load cannot break it)
    assert (
        again["posterior"].attrs["compile_time"] < 0.2 * line_fit["posterior"].attrs["compile_time"]
    )
    assert again["posterior"].attrs["compile_source"] == "memory"
    # new data through pm.set_data (same shapes): the cached model sees it
    x = line_model["X"].get_value()[:, 0]
    with line_model:
        pm.set_data({"y": 10.0 - 3.0 * x})
    try:
        shifted = fit(line_model, draws=300, tune=300, random_seed=2)
    finally:
        with line_model:
            pm.set_data({"y": line_fit["observed_data"]["y_obs"].values})
    assert float(shifted["posterior"]["coefficients"].mean()) < -2.0


def test_fit_reports_progress_and_is_reproducible(line_model):
    seen = []
    first = fit(line_model, draws=200, tune=200, random_seed=7, on_progress=seen.append)
    second = fit(line_model, draws=200, tune=200, random_seed=7)
    assert seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    np.testing.assert_array_equal(first["posterior"]["intercept"], second["posterior"]["intercept"])


def test_fit_rejects_bad_arguments(line_model):
    with pytest.raises(ValueError, match="draws must be >= 1"):
        fit(line_model, draws=0)
    with pytest.raises(ValueError, match="tune must be >= 1"):  # nutpie panics on 0
        fit(line_model, tune=0)
    with pytest.raises(TypeError, match="chains must be an integer"):
        fit(line_model, chains=2.5)
    with pytest.raises(ValueError, match="target_accept must be strictly between 0 and 1"):
        fit(line_model, target_accept=1.0)
    with pytest.raises(TypeError, match="low_rank_mass_matrix must be True, False or None"):
        fit(line_model, low_rank_mass_matrix="yes")


def test_higher_target_accept_takes_smaller_steps(line_model):
    def mean_step(target_accept):
        idata = fit(line_model, draws=200, tune=300, target_accept=target_accept)
        return float(idata["sample_stats"]["step_size"].mean())

    assert mean_step(0.99) < 0.7 * mean_step(0.8)


def test_metropolis_samples_the_same_posterior_as_nuts(line_model, line_fit):
    mh = metropolis(line_model, draws=4000, tune=4000, random_seed=3)
    rates = mh["sample_stats"]["acceptance_rate"].values
    assert np.all((rates > 0.15) & (rates < 0.4))
    for name in ("intercept", "coefficients", "noise_sd"):
        nuts = line_fit["posterior"][name].values.ravel()
        rw = mh["posterior"][name].values.ravel()
        assert rw.mean() == pytest.approx(nuts.mean(), abs=0.15 * nuts.std())
        assert rw.std() == pytest.approx(nuts.std(), rel=0.15)
    assert diagnose(mh, ["intercept", "coefficients", "noise_sd"]).max_rhat <= 1.01
    nuts_speed = ess_per_second(line_fit, ["coefficients"]).iloc[0]
    mh_speed = ess_per_second(mh, ["coefficients"]).iloc[0]
    assert nuts_speed > mh_speed


def test_diagnose_warns_in_words_about_a_short_metropolis_run(line_model):
    short = metropolis(line_model, draws=60, tune=0, random_seed=0, initial_scale=2.0)
    checks = diagnose(short)
    assert not checks.ok
    text = " ".join(checks.warnings)
    assert "effective draws" in text
    assert "R-hat" in text or "disagree" in text
    assert "interpreted" not in checks.summary_text()


def test_diagnose_rejects_unknown_names(line_fit):
    with pytest.raises(ValueError, match=r"unknown variable name\(s\) \['slope'\]"):
        diagnose(line_fit, ["slope"])
    checks = diagnose(line_fit)
    assert checks.ok and "interpreted" in checks.summary_text()
    assert "coefficients[x]" in checks.table.index


def test_metropolis_with_diagonal_steps_pays_for_correlations():
    with pm.Model() as correlated:
        pm.MvNormal("x", mu=np.zeros(2), cov=np.array([[1.0, 0.99], [0.99, 1.0]]))
    full = metropolis(correlated, draws=4000, tune=2000, random_seed=4)
    steps = metropolis(correlated, draws=4000, tune=2000, random_seed=4, adapt="diagonal")
    assert steps["posterior"].attrs["adapt"] == "diagonal"
    assert full["posterior"].attrs["adapt"] == "covariance"
    draws = steps["posterior"]["x"].values.reshape(-1, 2)
    assert np.corrcoef(draws.T)[0, 1] > 0.95  # still the right posterior ...
    assert np.std(draws, axis=0) == pytest.approx([1.0, 1.0], rel=0.3)
    ess_full = float(diagnose(full).table["ess_bulk"].min())
    ess_steps = float(diagnose(steps).table["ess_bulk"].min())
    assert ess_full > 3.0 * ess_steps  # ... but it mixes far more slowly along the ridge


def test_metropolis_rejects_bad_options(line_model):
    with pytest.raises(ValueError, match=r"adapt must be one of \['covariance', 'diagonal'\]"):
        metropolis(line_model, adapt="full")
    with pytest.raises(ValueError, match="jitter must be >= 0"):
        metropolis(line_model, jitter=-1.0)
