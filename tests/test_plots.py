"""Tests of mi_workbench.plots: the traces of each figure, not pixels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import xarray as xr

from mi_workbench.models import Prior, default_regression_priors
from mi_workbench.plots import (
    TEMPLATE,
    ess_comparison,
    model_prior_predictive,
    pair_plot,
    posterior_marginals,
    posterior_predictive_band,
    predicted_vs_observed,
    predictive_histogram,
    prior_densities,
    prior_predictive,
    trace_plot,
)
from mi_workbench.plots._style import hdi

VAR_NAMES = ["intercept", "coefficients", "noise_sd"]


@pytest.fixture(scope="module")
def idata() -> xr.DataTree:
    """A fake posterior with known marginals: intercept N(1, 0.1), coefficients N([2, -1], 0.2)."""
    rng = np.random.default_rng(0)
    posterior = xr.Dataset(
        {
            "intercept": (("chain", "draw"), rng.normal(1.0, 0.1, (2, 2000))),
            "coefficients": (
                ("chain", "draw", "feature"),
                rng.normal([2.0, -1.0], 0.2, (2, 2000, 2)),
            ),
            "noise_sd": (("chain", "draw"), np.abs(rng.normal(0.5, 0.05, (2, 2000)))),
        },
        coords={"chain": [0, 1], "draw": np.arange(2000), "feature": ["vec", "chi"]},
    )
    return xr.DataTree.from_dict({"posterior": posterior})


def test_hdi_of_uniform_draws_has_the_requested_width():
    draws = np.linspace(0.0, 1.0, 10001)
    low, high = hdi(draws, 0.94)
    assert high - low == pytest.approx(0.94, abs=1e-3)
    band = hdi(np.stack([draws, 2 * draws], axis=1), 0.5, axis=0)
    assert band.shape == (2, 2)
    assert band[1, 1] - band[1, 0] == pytest.approx(1.0, abs=1e-3)


def test_prior_densities_one_subplot_per_prior_over_the_995_interval():
    priors = {"a": Prior("Normal", 1.0, 2.0), "b": Prior("Exponential", lam=1 / 3.0)}
    fig = prior_densities(priors)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["a", "b"]
    assert fig.data[0].xaxis == "x" and fig.data[1].xaxis == "x2"
    for trace, prior in zip(fig.data, priors.values(), strict=True):
        low, high = prior.interval(0.995)
        assert trace.x[0] == pytest.approx(low) and trace.x[-1] == pytest.approx(high)
        np.testing.assert_allclose(trace.y, prior.pdf(np.asarray(trace.x)))
    assert [a.text for a in fig.layout.annotations] == [
        "<b>a</b><br>Normal(mu=1, sigma=2)",
        "<b>b</b><br>Exponential(lam=0.3333)",
    ]
    assert fig.layout.template == TEMPLATE


def test_prior_densities_titles_and_errors():
    fig = prior_densities(default_regression_priors(), titles={"noise": "residual sd"})
    assert fig.layout.annotations[2].text == "residual sd"
    with pytest.raises(ValueError, match="unknown prior"):
        prior_densities(default_regression_priors(), titles={"slope": "x"})
    with pytest.raises(TypeError, match="priors\\['a'\\] must be a Prior"):
        prior_densities({"a": {"family": "normal"}})
    with pytest.raises(ValueError, match="non-empty"):
        prior_densities({})


def test_prior_predictive_draws_are_one_trace_separated_by_nan():
    grid = np.linspace(0.0, 1.0, 4)
    lines = np.arange(12.0).reshape(3, 4)
    fig = prior_predictive(grid, lines, [0.5, 0.6], [1.0, 2.0], "x (nm)", "y (K)")
    assert [t.name for t in fig.data] == ["prior draws", "data"]
    y = np.asarray(fig.data[0].y, dtype=float)
    assert y.size == 15 and np.isnan(y[4::5]).all()
    np.testing.assert_array_equal(y[~np.isnan(y)], lines.ravel())
    np.testing.assert_array_equal(fig.data[1].y, [1.0, 2.0])
    assert fig.layout.xaxis.title.text == "x (nm)" and fig.layout.yaxis.title.text == "y (K)"
    with pytest.raises(ValueError, match="one column per x_grid point"):
        prior_predictive(grid, lines[:, :3], [0.5], [1.0])
    with pytest.raises(ValueError, match="differ in length"):
        prior_predictive(grid, lines, [0.5, 0.6], [1.0])


def test_posterior_marginals_split_vectors_mark_hdi_and_truth(idata):
    fig = posterior_marginals(
        idata,
        VAR_NAMES,
        reference_values={"intercept": 1.0, "coefficients": {"chi": -1.0}},
        units={"intercept": "K"},
    )
    names = [t.name for t in fig.data]
    assert names == [
        "intercept",
        "94% HDI",
        "true value",
        "coefficients[vec]",
        "94% HDI",
        "coefficients[chi]",
        "94% HDI",
        "true value",
        "noise_sd",
        "94% HDI",
    ]
    # HDI of N(2, 0.2) at 94 %: 2 -/+ 1.88 * 0.2
    low, high = fig.data[4].x
    assert low == pytest.approx(2.0 - 0.376, abs=0.03) and high == pytest.approx(2.376, abs=0.03)
    assert list(fig.data[7].x) == [-1.0, -1.0]
    # the density peaks near the mean
    density = fig.data[3]
    assert density.x[int(np.argmax(density.y))] == pytest.approx(2.0, abs=0.05)
    assert fig.layout.xaxis.title.text == "intercept (K)"


def test_posterior_marginals_reference_as_list_and_errors(idata):
    fig = posterior_marginals(idata, "coefficients", {"coefficients": [2.0, -1.0]})
    assert [list(t.x) for t in fig.data if t.name == "true value"] == [[2.0, 2.0], [-1.0, -1.0]]
    with pytest.raises(ValueError, match="2 element"):
        posterior_marginals(idata, "coefficients", {"coefficients": [2.0]})
    with pytest.raises(ValueError, match="'slope'"):
        posterior_marginals(idata, VAR_NAMES, {"slope": 2.0})
    with pytest.raises(ValueError, match="unknown variable name.*'beta'"):
        posterior_marginals(idata, ["beta"])
    with pytest.raises(ValueError, match="hdi_prob"):
        posterior_marginals(idata, VAR_NAMES, hdi_prob=1.5)


def test_trace_plot_shows_each_chain(idata):
    fig = trace_plot(idata, ["intercept", "coefficients"])
    assert len(fig.data) == 3 * 2 * 2  # parameters x chains x (density, draws)
    draws_chain1 = fig.data[3]
    assert draws_chain1.name == "chain 1"
    np.testing.assert_array_equal(
        draws_chain1.y, idata["posterior"]["intercept"].sel(chain=1).values
    )
    assert sum(t.showlegend is not False for t in fig.data) == 2


def test_pair_plot_is_a_lower_triangle_with_histograms(idata):
    fig = pair_plot(idata, VAR_NAMES, max_points=300)
    assert len(fig.data) == 4 * 5 // 2
    histograms = [t for t in fig.data if isinstance(t, go.Histogram)]
    assert [t.name for t in histograms] == [
        "intercept",
        "coefficients[vec]",
        "coefficients[chi]",
        "noise_sd",
    ]
    assert len(histograms[0].x) == 4000
    scatter = fig.data[1]
    assert scatter.name == "coefficients[vec] vs intercept" and len(scatter.x) == 300


def test_plots_accept_a_posterior_dataset_and_reject_other_input(idata):
    fig = trace_plot(idata["posterior"].to_dataset(), "noise_sd")
    assert len(fig.data) == 4
    with pytest.raises(TypeError, match="DataTree"):
        trace_plot({"posterior": 1}, "noise_sd")
    with pytest.raises(ValueError, match="no posterior group"):
        trace_plot(xr.DataTree(), "noise_sd")


def test_posterior_predictive_band_contains_the_mean():
    rng = np.random.default_rng(1)
    x = np.linspace(0.0, 1.0, 11)
    draws = 1.0 + 2.0 * x + rng.normal(0.0, 0.1, (4000, 11))
    fig = posterior_predictive_band(x, draws, [0.5], [2.0], x_label="x (nm)", y_label="y (K)")
    assert [t.name for t in fig.data] == ["94% HDI", "posterior mean", "data"]
    band = np.asarray(fig.data[0].y)
    lower, upper = band[:11], band[11:][::-1]
    mean = np.asarray(fig.data[1].y)
    assert (lower < mean).all() and (mean < upper).all()
    np.testing.assert_allclose(upper - lower, 2 * 1.88 * 0.1, rtol=0.1)
    np.testing.assert_allclose(mean, 1.0 + 2.0 * x, atol=0.01)
    with pytest.raises(ValueError, match="one column per x value"):
        posterior_predictive_band(x, draws[:, :3], [0.5], [2.0])


def test_predictive_plots_leave_out_non_finite_draws_and_say_how_many():
    # a user's likelihood can be undefined for some prior draws (e.g. a shot-noise sd
    # sqrt(mean) with a negative mean): those draws are left out, and the title says so
    rng = np.random.default_rng(3)
    x = np.linspace(0.0, 1.0, 6)
    draws = rng.normal(0.0, 1.0, (200, 6))
    draws[:50, 2] = np.nan
    draws[50:60, 4] = np.inf
    fig = model_prior_predictive(x, np.zeros(6), draws)
    high, low = np.asarray(fig.data[0].y, dtype=float), np.asarray(fig.data[1].y, dtype=float)
    assert np.isfinite(high).all() and np.isfinite(low).all()
    np.testing.assert_allclose(high, np.quantile(draws[60:], 0.95, axis=0))
    assert "60 of 200 draws" in fig.layout.title.text
    histogram = predictive_histogram(np.zeros(6), draws)
    assert "60 of 200 draws" in histogram.layout.title.text
    assert "not finite" not in model_prior_predictive(x, np.zeros(6), draws[60:]).layout.title.text
    draws[:, 0] = np.nan
    empty = model_prior_predictive(x, np.zeros(6), draws)
    assert "200 of 200 draws" in empty.layout.title.text
    assert np.isnan(np.asarray(empty.data[0].y, dtype=float)).all()
    with pytest.raises(ValueError, match="one column per observation"):
        model_prior_predictive(x, np.zeros(6), draws[:, :3])
    with pytest.raises(TypeError, match="replicated"):
        predictive_histogram(np.zeros(6), "draws")


def test_predicted_vs_observed_error_bars_span_the_hdi():
    rng = np.random.default_rng(2)
    y_obs = np.array([1.0, 2.0, 3.0])
    draws = rng.normal(y_obs, 0.1, (4000, 3))
    fig = predicted_vs_observed(y_obs, draws, label="T (K)")
    assert [t.name for t in fig.data] == ["predicted = observed", "posterior mean"]
    points = fig.data[1]
    np.testing.assert_array_equal(points.x, y_obs)
    np.testing.assert_allclose(points.y, y_obs, atol=0.01)
    np.testing.assert_allclose(points.error_y.array, 0.188, rtol=0.1)
    np.testing.assert_allclose(points.error_y.arrayminus, 0.188, rtol=0.1)
    assert fig.layout.xaxis.title.text == "observed T (K)"
    with pytest.raises(ValueError, match="one column per observation"):
        predicted_vs_observed(y_obs, draws[:, :2])


def test_ess_comparison_one_bar_trace_per_sampler():
    table = pd.DataFrame(
        {"Metropolis": [50.0, 40.0], "NUTS": [900.0, 1100.0]}, index=["intercept", "slope"]
    )
    fig = ess_comparison(table)
    assert [t.name for t in fig.data] == ["Metropolis", "NUTS"]
    assert list(fig.data[1].x) == ["intercept", "slope"]
    np.testing.assert_array_equal(fig.data[1].y, [900.0, 1100.0])
    assert fig.layout.yaxis.type == "log"
    from_dict = ess_comparison({"A": pd.Series({"a": 1.0}), "B": {"a": 2.0}}, log_y=False)
    assert [list(t.y) for t in from_dict.data] == [[1.0], [2.0]]
    assert from_dict.layout.yaxis.type == "linear"
    with pytest.raises(ValueError, match="positive"):
        ess_comparison(pd.DataFrame({"A": [0.0]}))
    with pytest.raises(TypeError, match="DataFrame"):
        ess_comparison([1.0, 2.0])
