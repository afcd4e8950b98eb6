"""Tests of mi_workbench.widgets, driven from Python as a user would drive the controls."""

from __future__ import annotations

import datetime
import html

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import mi_workbench.widgets.regression_posterior_panel as posterior_module
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
    assert type(panel).__name__ == "RegressionPriorPanel" and isinstance(panel, PriorPanel)
    assert set(panel.controls) == {"intercept", "coefficients", "noise"}
    assert set(panel.controls["noise"].family.options) >= {"HalfNormal", "Exponential"}
    assert "Normal" not in panel.controls["noise"].family.options
    assert set(panel.controls["noise"].sliders) == {"sigma"}
    assert panel.controls["coefficients"].sliders["sigma"].continuous_update is True
    assert panel.controls["intercept"].text_boxes["mu"].value == "0"
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
    panel.controls["coefficients"].sliders["sigma"].value = 2.5
    assert panel.priors["coefficients"] == Prior("Normal", mu=0.0, sigma=2.5)
    assert panel.controls["coefficients"].text_boxes["sigma"].value == "2.5"
    assert not np.allclose(_y(panel.density_figure.data[1]), densities[1])
    np.testing.assert_array_equal(_y(panel.density_figure.data[0]), densities[0])
    assert not np.allclose(_y(panel.predictive_figure.data[0]), lines, equal_nan=True)
    assert panel.density_figure.layout.annotations[1].text == (
        "<b>coefficients</b><br>Normal(mu=0, sigma=2.5)"
    )
    # the x axis keeps its initial range while it fits the curve, so a wider prior looks wider
    assert panel.density_figure.layout.xaxis2.range[1] >= Prior("Normal", 0, 2.5).interval(0.995)[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-1", "sigma must be > 0, got -1.0"),
        ("0", "sigma must be > 0, got 0.0"),
        ("abc", "sigma must be a number, got the text 'abc'"),
        ("nan", "sigma must be a finite number, got nan"),
        ("", "sigma must be a number"),
    ],
)
def test_invalid_text_shows_error_and_keeps_last_valid_state(panel, text, expected):
    controls = panel.controls["noise"]
    controls.text_boxes["sigma"].value = "0.7"
    before = _snapshot(panel)
    controls.text_boxes["sigma"].value = text
    assert expected in panel.error
    assert panel.error.startswith("prior of 'noise':")
    assert expected in html.unescape(panel.message.value)
    _assert_unchanged(panel, before)
    assert controls.text_boxes["sigma"].value == "0.7"
    assert controls.sliders["sigma"].value == pytest.approx(0.7)
    # a valid change clears the message
    controls.text_boxes["sigma"].value = "0.4"
    assert panel.error == "" and panel.message.value == ""
    assert panel.priors["noise"].sigma == 0.4


def test_text_box_accepts_values_outside_the_slider_range(panel):
    panel.controls["intercept"].text_boxes["mu"].value = " -12.5 "
    assert panel.error == ""
    assert panel.priors["intercept"].mu == -12.5
    slider = panel.controls["intercept"].sliders["mu"]
    assert slider.min <= -12.5 and slider.value == -12.5
    panel.controls["noise"].text_boxes["sigma"].value = "0.001"
    assert panel.priors["noise"].sigma == 0.001
    assert panel.controls["noise"].sliders["sigma"].value == pytest.approx(0.001)


def test_family_dropdown_switches_hyperparameters(panel):
    densities = [_y(t) for t in panel.density_figure.data]
    panel.controls["intercept"].family.value = "StudentT"
    prior = panel.priors["intercept"]
    assert prior.family == "StudentT" and prior.nu == 4.0
    # the new family keeps about the same central 90 % interval
    assert prior.interval(0.9) == pytest.approx(Prior("Normal", 0, 1).interval(0.9), rel=0.02)
    assert set(panel.controls["intercept"].sliders) == {"nu", "mu", "sigma"}
    title = panel.density_figure.layout.annotations[0].text
    assert title.startswith("<b>intercept</b><br>StudentT(nu=4")
    assert not np.allclose(_y(panel.density_figure.data[0]), densities[0])
    panel.controls["intercept"].sliders["nu"].value = 2.0
    assert panel.priors["intercept"].nu == pytest.approx(2.0)
    panel.controls["intercept"].family.value = "Normal"
    assert set(panel.controls["intercept"].sliders) == {"mu", "sigma"}
    panel.controls["noise"].family.value = "Exponential"
    assert panel.priors["noise"].family == "Exponential"
    assert panel.error == ""


def test_statement_boxes_elicit_the_prior(panel):
    controls = panel.controls["coefficients"]
    controls.lower.value, controls.upper.value, controls.mass.value = "-0.5", "1.5", "0.8"
    controls.fit_button.click()
    assert panel.error == ""
    prior = panel.priors["coefficients"]
    assert prior.family == "Normal"
    assert prior.mass_between(-0.5, 1.5) == pytest.approx(0.8, abs=0.01)
    assert controls.text_boxes["mu"].value == f"{prior.mu:.6g}"
    controls.lower.value = "abc"
    controls.fit_button.click()
    assert "lower must be a number" in panel.error and panel.priors["coefficients"] == prior


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
    panel.set_prior("noise", family="exponential", lam=2.0)
    assert panel.priors["noise"] == Prior("Exponential", lam=2.0)
    assert panel.controls["noise"].family.value == "Exponential"
    assert panel.controls["noise"].text_boxes["lam"].value == "2"
    assert len(seen) == 1 and seen[0]["noise"] == Prior("Exponential", lam=2.0)
    before = _snapshot(panel)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        panel.set_prior("coefficients", sigma=-2)
    with pytest.raises(ValueError, match="family 'Normal' is not allowed here"):
        panel.set_prior("noise", family="normal")
    with pytest.raises(ValueError, match="no editable prior 'slope'"):
        panel.set_prior("slope", sigma=1.0)
    with pytest.raises(TypeError, match="Exponential has no parameter"):
        panel.set_prior("noise", sigma=1.0)
    _assert_unchanged(panel, before)
    assert len(seen) == 1
    panel.controls["coefficients"].text_boxes["mu"].value = "abc"  # invalid: no callback
    assert len(seen) == 1
    panel.controls["coefficients"].sliders["mu"].value = 1.0
    assert len(seen) == 2 and seen[1]["coefficients"].mu == 1.0


def test_prior_panel_validates_its_inputs(alloys):
    with pytest.raises(ValueError, match="unknown column name.*'vec'"):
        PriorPanel(alloys, ["vec"], TARGET)
    with pytest.raises(TypeError, match="DataFrame or an xarray Dataset"):
        PriorPanel(np.zeros((3, 2)), ["a"], "b")
    with pytest.raises(ValueError, match="plot_feature must be one of"):
        PriorPanel(alloys, FEATURES, TARGET, plot_feature="x")
    with pytest.raises(ValueError, match="noise prior must be a family on the positive"):
        PriorPanel(alloys, FEATURES, TARGET, priors={"noise": Prior("Normal")})
    with pytest.raises(ValueError, match="constant"):
        PriorPanel(pd.DataFrame({"a": [1.0, 1.0, 1.0], "b": [1.0, 2.0, 3.0]}), ["a"], "b")


def test_prior_panel_on_a_users_dataframe_with_given_priors():
    table = pd.DataFrame({"hardness_hv": [200.0, 220.0, 250.0], "carbon_wt": [0.1, 0.2, 0.4]})
    panel = PriorPanel(
        table, ["carbon_wt"], "hardness_hv", priors={"coefficients": {"family": "laplace"}}
    )
    assert panel.priors["coefficients"].family == "Laplace"
    assert panel.controls["coefficients"].family.value == "Laplace"
    assert panel.predictive_figure.layout.xaxis.title.text == "carbon_wt"


def test_priors_table_and_export(panel, tmp_path):
    panel.set_prior("coefficients", sigma=0.5)
    table = panel.priors_table()
    assert list(table["name"]) == ["intercept", "coefficients", "noise"]
    assert table.loc[1, "prior"] == "Normal(mu=0, sigma=0.5)"
    path = panel.export_priors(tmp_path / "priors.csv")
    again = pd.read_csv(path)
    assert list(again["prior"]) == list(table["prior"])


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
    panel.sample_button.click()  # samples in a background thread
    panel.wait()
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
        prior_panel.set_prior("coefficients", sigma=0.5)
        assert "changed since" in panel.status.value
        panel.sample()
        assert calls[-1] is not first_model and panel.model is calls[-1]
        assert panel.priors["coefficients"].sigma == 0.5
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
    panel.wait()
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
    with pytest.raises(ValueError, match="tune must be >= 1"):  # nutpie cannot start at 0
        PosteriorPanel(alloys, FEATURES, TARGET, tune=0)
    table = alloys[[*FEATURES, TARGET]].to_dataframe()
    panel = PosteriorPanel(table, FEATURES, TARGET)
    assert panel.priors["noise"].family == "HalfNormal"
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()


def test_every_panel_carries_its_css_classes_when_displayed(panel):
    assert panel.css_classes == ("mi-panel", "mi-regression-prior-panel", "mi-prior-panel")
    panel._repr_mimebundle_()
    panel._repr_mimebundle_()
    assert panel.widget._dom_classes.count("mi-prior-panel") == 1
    assert "mi-panel" in panel.widget._dom_classes


# ---------------------------------------------------------------------------- files in
def _workbook(path, rows) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "measurements"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path.read_bytes()


def _upload(panel, name: str, content: bytes) -> None:
    """What the browser sends when a user picks a file in the "Load table" control."""
    panel.upload.value = (
        {
            "name": name,
            "type": "application/octet-stream",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
        },
    )


def test_upload_of_a_table_replaces_the_data_and_a_bad_sheet_names_the_column(tmp_path):
    table = pd.DataFrame({"carbon_wt": [0.1, 0.2, 0.4, 0.5], "hardness_hv": [200.0, 220, 250, 262]})
    panel = PriorPanel(table, ["carbon_wt"], "hardness_hv")
    good = _workbook(
        tmp_path / "good.xlsx",
        [["carbon_wt (wt%)", "hardness_hv (HV)"], [0.1, 205.0], [0.3, 231.0], [0.6, 270.0]],
    )
    _upload(panel, "good.xlsx", good)
    assert panel.error == "", panel.error
    assert panel.data.n_obs == 3 and panel.data.units == {"carbon_wt": "wt%", "hardness_hv": "HV"}
    np.testing.assert_array_equal(panel.predictive_figure.data[1].y, [205.0, 231.0, 270.0])
    assert panel.predictive_figure.layout.xaxis.title.text == "carbon_wt (wt%)"

    bad_rows = [["carbon_wt", "hardness_hv"], [0.1, 205.0], [0.3, "n/a"], [0.6, 270.0]]
    bad = _workbook(tmp_path / "bad.xlsx", bad_rows)
    before = panel.data
    _upload(panel, "bad.xlsx", bad)
    assert "hardness_hv" in panel.error and "n/a" in panel.error and "bad.xlsx" in panel.error
    assert panel.data is before
    with pytest.raises(ValueError, match="hardness_hv.*n/a"):
        panel.load_table(tmp_path / "bad.xlsx")
    assert panel.data is before


def test_posterior_panel_follows_a_table_loaded_into_its_prior_panel(tmp_path, monkeypatch):
    table = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0.1, 1.1, 1.9, 3.2]})
    prior_panel = PriorPanel(table, ["x"], "y")
    panel = PosteriorPanel(table, ["x"], "y", priors=prior_panel)
    seen = []
    monkeypatch.setattr(posterior_module, "fit", lambda model, **kw: seen.append(model) or 1 / 0)
    prior_panel.load_table(pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.0, 2.0, 4.1]}))
    panel.sample()
    assert panel.data.n_obs == 3
    assert seen[-1]["y"].get_value().size == 3
