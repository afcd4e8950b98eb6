"""Tests of mi_workbench.widgets, driven from Python as a user would drive the controls."""

from __future__ import annotations

import html
import statistics
import time

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import mi_workbench.widgets.posterior_panel as posterior_module
from mi_workbench.data import noisy_line, virtual_alloys
from mi_workbench.models import Prior
from mi_workbench.widgets import PosteriorPanel, PriorPanel

FEATURES = ["valence_electron_concentration", "mean_electronegativity"]
TARGET = "transformation_temperature_k"


@pytest.fixture(scope="module")
def alloys() -> xr.Dataset:
    return virtual_alloys(n_alloys=30, random_seed=0)


@pytest.fixture
def panel(alloys) -> PriorPanel:
    return PriorPanel(alloys, FEATURES, TARGET)


def _y(trace) -> np.ndarray:
    return np.array(trace.y, dtype=float)


def _snapshot(panel: PriorPanel) -> tuple:
    return (
        [_y(t) for t in panel.density_figure.data],
        _y(panel.predictive_figure.data[0]),
        panel.priors,
    )


def _assert_unchanged(panel: PriorPanel, before: tuple) -> None:
    densities, lines, priors = before
    for old, trace in zip(densities, panel.density_figure.data, strict=True):
        np.testing.assert_array_equal(_y(trace), old)
    np.testing.assert_array_equal(_y(panel.predictive_figure.data[0]), lines)
    assert panel.priors == priors


# ---------------------------------------------------------------------------- PriorPanel
def test_prior_panel_builds_controls_and_figures(panel, alloys):
    assert set(panel.family_controls) == {"intercept", "coefficients", "noise"}
    assert set(panel.family_controls["noise"].options) >= {
        ("Half-normal", "half_normal"),
        ("Exponential", "exponential"),
    }
    assert ("noise", "loc") not in panel.sliders
    assert panel.sliders[("coefficients", "scale")].continuous_update is True
    assert panel.text_boxes[("intercept", "loc")].value == "0"
    assert [t.name for t in panel.density_figure.data] == ["intercept", "coefficients", "noise"]
    assert [t.name for t in panel.predictive_figure.data] == ["prior draws", "data"]
    np.testing.assert_array_equal(panel.predictive_figure.data[1].x, alloys[FEATURES[0]].values)
    assert panel.predictive_figure.layout.xaxis.title.text == (
        "valence_electron_concentration (electrons/atom)"
    )
    assert panel.predictive_figure.layout.yaxis.title.text == "transformation_temperature_k (K)"
    assert panel.error == "" and panel.message.value == ""
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_slider_updates_priors_and_both_figures(panel):
    densities, lines, _ = _snapshot(panel)
    panel.sliders[("coefficients", "scale")].value = 2.5
    assert panel.priors["coefficients"] == Prior("normal", 0.0, 2.5)
    assert panel.text_boxes[("coefficients", "scale")].value == "2.5"
    assert not np.allclose(_y(panel.density_figure.data[1]), densities[1])
    np.testing.assert_array_equal(_y(panel.density_figure.data[0]), densities[0])
    assert not np.allclose(_y(panel.predictive_figure.data[0]), lines, equal_nan=True)
    assert panel.density_figure.layout.annotations[1].text == (
        "<b>coefficients</b><br>Normal(loc=0, scale=2.5)"
    )
    # the x axis keeps its initial range while it fits the curve, so a wider prior looks wider
    assert panel.density_figure.layout.xaxis2.range[1] >= Prior("normal", 0, 2.5).interval(0.995)[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-1", "scale must be > 0, got -1.0"),
        ("0", "scale must be > 0, got 0.0"),
        ("abc", "scale must be a number, got the text 'abc'"),
        ("nan", "scale must be a finite number, got nan"),
        ("", "scale must be a number"),
    ],
)
def test_invalid_text_shows_error_and_keeps_last_valid_state(panel, text, expected):
    panel.sliders[("noise", "scale")].value = 0.7
    before = _snapshot(panel)
    panel.text_boxes[("noise", "scale")].value = text
    assert expected in panel.error
    assert panel.error.startswith("noise prior:")
    assert expected in html.unescape(panel.message.value)
    _assert_unchanged(panel, before)
    assert panel.text_boxes[("noise", "scale")].value == "0.7"
    assert panel.sliders[("noise", "scale")].value == 0.7
    # a valid change clears the message
    panel.text_boxes[("noise", "scale")].value = "0.4"
    assert panel.error == "" and panel.message.value == ""
    assert panel.priors["noise"].scale == 0.4


def test_text_box_accepts_values_outside_the_slider_range(panel):
    panel.text_boxes[("intercept", "loc")].value = " -12.5 "
    assert panel.error == ""
    assert panel.priors["intercept"].loc == -12.5
    slider = panel.sliders[("intercept", "loc")]
    assert slider.min <= -12.5 and slider.value == -12.5
    panel.text_boxes[("noise", "scale")].value = "0.001"
    assert panel.priors["noise"].scale == 0.001
    assert panel.sliders[("noise", "scale")].value == 0.001


def test_family_dropdown_switches_hyperparameters(panel):
    densities = [_y(t) for t in panel.density_figure.data]
    panel.family_controls["intercept"].value = "student_t"
    assert panel.priors["intercept"] == Prior("student_t", 0.0, 1.0, nu=4.0)
    assert panel._rows[("intercept", "nu")].layout.display is None
    title = panel.density_figure.layout.annotations[0].text
    assert title.endswith("StudentT(loc=0, scale=1, nu=4)")
    assert not np.allclose(_y(panel.density_figure.data[0]), densities[0])
    panel.sliders[("intercept", "nu")].value = 2.0
    assert panel.priors["intercept"].nu == 2.0
    panel.family_controls["intercept"].value = "normal"
    assert panel._rows[("intercept", "nu")].layout.display == "none"
    panel.family_controls["noise"].value = "exponential"
    assert panel.priors["noise"].family == "exponential"
    assert panel.error == ""


def test_feature_selector_moves_the_prior_predictive_axis(panel, alloys):
    lines = _y(panel.predictive_figure.data[0])
    panel.feature_selector.value = FEATURES[1]
    assert panel.plot_feature == FEATURES[1]
    np.testing.assert_array_equal(panel.predictive_figure.data[1].x, alloys[FEATURES[1]].values)
    x_lines = np.array(panel.predictive_figure.data[0].x, dtype=float)
    x = alloys[FEATURES[1]].values
    assert np.nanmin(x_lines) < x.min() and np.nanmax(x_lines) > x.max()
    assert not np.allclose(_y(panel.predictive_figure.data[0]), lines, equal_nan=True)
    assert panel.predictive_figure.layout.xaxis.title.text == "mean_electronegativity (Pauling)"


def test_set_prior_and_observe_priors(panel):
    seen = []
    panel.observe_priors(seen.append)
    panel.set_prior("noise", family="exponential", scale=0.5)
    assert panel.priors["noise"] == Prior("exponential", scale=0.5)
    assert panel.family_controls["noise"].value == "exponential"
    assert panel.text_boxes[("noise", "scale")].value == "0.5"
    assert len(seen) == 1 and seen[0]["noise"] == Prior("exponential", scale=0.5)
    before = _snapshot(panel)
    with pytest.raises(ValueError, match="scale must be > 0"):
        panel.set_prior("coefficients", scale=-2)
    with pytest.raises(ValueError, match="noise prior must be a positive family"):
        panel.set_prior("noise", family="normal")
    with pytest.raises(ValueError, match="name must be one of"):
        panel.set_prior("slope", scale=1.0)
    with pytest.raises(TypeError, match="unknown field"):
        panel.set_prior("noise", sigma=1.0)
    _assert_unchanged(panel, before)
    assert len(seen) == 1
    panel.text_boxes[("coefficients", "loc")].value = "abc"  # invalid: no callback
    assert len(seen) == 1
    panel.sliders[("coefficients", "loc")].value = 1.0
    assert len(seen) == 2 and seen[1]["coefficients"].loc == 1.0


def test_prior_panel_validates_its_inputs(alloys):
    with pytest.raises(ValueError, match="unknown column name.*'vec'"):
        PriorPanel(alloys, ["vec"], TARGET)
    with pytest.raises(TypeError, match="DataFrame or an xarray Dataset"):
        PriorPanel(np.zeros((3, 2)), ["a"], "b")
    with pytest.raises(ValueError, match="plot_feature must be one of"):
        PriorPanel(alloys, FEATURES, TARGET, plot_feature="x")
    with pytest.raises(ValueError, match="positive family"):
        PriorPanel(alloys, FEATURES, TARGET, priors={"noise": Prior("normal")})
    with pytest.raises(ValueError, match="constant"):
        PriorPanel(pd.DataFrame({"a": [1.0, 1.0, 1.0], "b": [1.0, 2.0, 3.0]}), ["a"], "b")


def test_prior_panel_on_a_users_dataframe_with_given_priors():
    table = pd.DataFrame({"hardness_hv": [200.0, 220.0, 250.0], "carbon_wt": [0.1, 0.2, 0.4]})
    panel = PriorPanel(
        table, ["carbon_wt"], "hardness_hv", priors={"coefficients": {"family": "laplace"}}
    )
    assert panel.priors["coefficients"].family == "laplace"
    assert panel.family_controls["coefficients"].value == "laplace"
    assert panel.predictive_figure.layout.xaxis.title.text == "carbon_wt"


def test_slider_update_latency(panel):
    """Both figures update server side well within 100 ms per slider move."""
    slider = panel.sliders[("coefficients", "scale")]
    times = []
    for value in np.linspace(0.3, 3.0, 20):
        start = time.perf_counter()
        slider.value = float(value)
        times.append(time.perf_counter() - start)
    median_ms = 1000 * statistics.median(times)
    p95_ms = 1000 * float(np.percentile(times, 95))
    print(f"slider update: median {median_ms:.1f} ms, p95 {p95_ms:.1f} ms over 20 moves")
    assert median_ms < 100


# ---------------------------------------------------------------------------- PosteriorPanel
def _fake_idata(feature_names, n_chains=2, n_draws=200, seed=0) -> xr.DataTree:
    rng = np.random.default_rng(seed)
    k = len(feature_names)
    posterior = xr.Dataset(
        {
            "intercept": (("chain", "draw"), rng.normal(330.0, 2.0, (n_chains, n_draws))),
            "coefficients": (
                ("chain", "draw", "feature"),
                rng.normal(10.0, 1.0, (n_chains, n_draws, k)),
            ),
            "noise_sd": (("chain", "draw"), np.abs(rng.normal(8.0, 1.0, (n_chains, n_draws)))),
        },
        coords={"chain": np.arange(n_chains), "draw": np.arange(n_draws), "feature": feature_names},
    )
    posterior.attrs.update(sampling_time=0.1, compile_time=0.0)
    return xr.DataTree.from_dict({"posterior": posterior})


def test_posterior_panel_samples_and_switches_views():
    """One real NUTS run on a small data set (compiles once)."""
    data = noisy_line(n_points=20, random_seed=0)
    prior_panel = PriorPanel(data, ["x"], "y")
    panel = PosteriorPanel(
        data, ["x"], "y", priors=prior_panel, draws=300, tune=300, chains=4, random_seed=1
    )
    assert panel.idata is None and panel.figure.layout.annotations[0].text.startswith("Press")
    moves = []
    panel.progress.observe(lambda change: moves.append(change["new"]), names="value")
    panel.sample_button.click()
    assert panel.error == "", panel.error
    assert panel.idata["posterior"].sizes["draw"] == 300
    assert panel.diagnostics.ok, panel.diagnostics.summary_text()
    assert "#1b7f3b" in panel.diagnostics_html.value
    assert panel.sample_button.disabled is False
    assert panel.progress.value == 1.0 and moves[-1] == 1.0
    assert moves == sorted(moves) and all(0.0 <= m <= 1.0 for m in moves)
    slope = float(panel.idata["posterior"]["coefficients"].mean())
    assert slope == pytest.approx(data.attrs["true_slope"], abs=0.6)

    seen = {}
    for view in ("marginals", "pair", "trace", "predictive"):
        panel.view_selector.value = view
        seen[view] = [trace.name for trace in panel.figure.data]
        assert panel.widget.children[4].children[0] is panel.figure
    assert seen["marginals"][:2] == ["intercept", "94% HDI"]
    assert "coefficients[x] vs intercept" in seen["pair"]
    assert seen["trace"][:2] == ["chain 0", "chain 0"]
    assert seen["predictive"] == ["94% HDI", "posterior mean", "data"]

    # re-sampling with unchanged priors re-uses the model; changed priors build a new one
    first_model, first_idata = panel.model, panel.idata
    calls = []

    def fake_fit(model, **kwargs):
        calls.append(model)
        return first_idata

    original_fit = posterior_module.fit
    posterior_module.fit = fake_fit
    try:
        panel.sample()
        assert calls[-1] is first_model
        prior_panel.set_prior("coefficients", scale=0.5)
        assert "changed since" in panel.status.value
        panel.sample()
        assert calls[-1] is not first_model and panel.model is calls[-1]
        assert panel.priors["coefficients"].scale == 0.5
        assert "changed since" not in panel.status.value
    finally:
        posterior_module.fit = original_fit


def test_posterior_panel_keeps_previous_result_when_sampling_fails(alloys, monkeypatch):
    panel = PosteriorPanel(alloys, FEATURES, TARGET, priors={"noise": Prior("exponential")})
    good = _fake_idata(FEATURES)
    monkeypatch.setattr(posterior_module, "fit", lambda model, **kwargs: good)
    assert panel.sample() is good
    assert panel.idata is good
    assert set(panel.model.coords["feature"]) == set(FEATURES)
    panel.view_selector.value = "predictive"
    assert [t.name for t in panel.figure.data] == ["predicted = observed", "posterior mean"]
    np.testing.assert_array_equal(panel.figure.data[1].x, alloys[TARGET].values)
    # the fake posterior is short: the diagnostics warn in red
    assert not panel.diagnostics.ok and "#b00020" in panel.diagnostics_html.value

    def failing_fit(model, **kwargs):
        kwargs["on_progress"](0.5)
        raise RuntimeError("the sampler stopped: out of memory")

    monkeypatch.setattr(posterior_module, "fit", failing_fit)
    panel.sample_button.click()
    assert "Sampling failed: the sampler stopped: out of memory" in panel.error
    assert panel.idata is good
    assert panel.sample_button.disabled is False
    assert panel.progress.bar_style == "danger"
    assert [t.name for t in panel.figure.data] == ["predicted = observed", "posterior mean"]


def test_posterior_panel_validates_its_inputs(alloys):
    with pytest.raises(ValueError, match="unknown column name.*'hardness'"):
        PosteriorPanel(alloys, FEATURES, "hardness")
    with pytest.raises(ValueError, match="unknown prior name"):
        PosteriorPanel(alloys, FEATURES, TARGET, priors={"slope": Prior("normal")})
    with pytest.raises(ValueError, match="draws must be >= 1"):
        PosteriorPanel(alloys, FEATURES, TARGET, draws=0)
    table = alloys[[*FEATURES, TARGET]].to_dataframe()
    panel = PosteriorPanel(table, FEATURES, TARGET)
    assert panel.priors["noise"].family == "half_normal"
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()


def test_every_panel_carries_its_css_classes_when_displayed(panel):
    assert panel.css_classes == ("mi-panel", "mi-prior-panel")
    panel._repr_mimebundle_()
    panel._repr_mimebundle_()
    assert panel.widget._dom_classes.count("mi-prior-panel") == 1
    assert "mi-panel" in panel.widget._dom_classes
