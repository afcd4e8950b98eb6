"""SpectrumFitPanel and the spectrum figures, driven from Python as a user drives the controls."""

from __future__ import annotations

import time

import numpy as np
import pytest
import xarray as xr

import mi_workbench.widgets.spectrum_panel as panel_module
from mi_workbench.data import synthetic_cu2o_spectrum
from mi_workbench.physics import cu2o_absorption
from mi_workbench.plots import (
    gap_rydberg_posteriors,
    posterior_spectrum_draws,
    shift_draws,
    shift_posteriors,
    spectrum_predictive_band,
    spectrum_with_model,
)
from mi_workbench.widgets import SpectrumFitPanel

PARAMETERS = ("Eg", "Ry", "f0", "gamma", "sigma_inh", "asym", "f_c", "f_b")


@pytest.fixture(scope="module")
def reference() -> xr.Dataset:
    return synthetic_cu2o_spectrum()


@pytest.fixture(scope="module")
def film() -> xr.Dataset:
    return synthetic_cu2o_spectrum(preset="strained_film")


@pytest.fixture
def panel(reference, film) -> SpectrumFitPanel:
    return SpectrumFitPanel(reference, second=film, draws=100, tune=100)


def _y(trace) -> np.ndarray:
    return np.array(trace.y, dtype=float)


def _trace(figure, name):
    matches = [t for t in figure.data if t.name == name]
    assert len(matches) == 1, [t.name for t in figure.data]
    return matches[0]


def _fake_posterior(truth: dict, spread_ev: float, n_draws: int = 400, seed: int = 0):
    """A posterior Dataset (chain, draw) centred on ``truth`` (for figure tests)."""
    rng = np.random.default_rng(seed)
    data = {}
    for name in PARAMETERS:
        scale = spread_ev if name in ("Eg", "Ry") else 0.0
        data[name] = (("chain", "draw"), truth[name] + scale * rng.normal(size=(2, n_draws)))
    data["noise_sd"] = (("chain", "draw"), np.full((2, n_draws), 0.01))
    return xr.Dataset(data)


# ---------------------------------------------------------------------------- hand fit
def test_slider_moves_change_the_model_curve(panel, reference):
    names = [t.name for t in panel.figure.data]
    assert names[:2] == ["data", "hand fit"]
    assert names[2:] == [f"{n}P line" for n in range(2, 8)] + ["continuum", "background"]
    np.testing.assert_array_equal(_y(panel.figure.data[0]), reference["absorbance"].values)
    # Eg and Ry move in steps of at most 0.1 meV.
    assert panel.sliders["Eg"].step <= 1e-4 and panel.sliders["Ry"].step <= 0.1
    before = _y(_trace(panel.figure, "hand fit"))
    line_2p = _y(_trace(panel.figure, "2P line"))
    start = time.process_time()  # CPU time: a busy machine hardly changes it
    panel.sliders["Ry"].value = 92.2  # meV
    elapsed = time.process_time() - start
    after = _y(_trace(panel.figure, "hand fit"))
    assert np.max(np.abs(after - before)) > 0.01
    expected = cu2o_absorption(reference["energy"].values, **panel.hand_fit)
    np.testing.assert_allclose(after, expected, rtol=1e-10)
    assert panel.hand_fit["Ry"] == pytest.approx(0.0922)
    # the 2P line sits at Eg - Ry/4: a smaller Ry (95 -> 92.2 meV) moved it up in energy
    energy = reference["energy"].values
    moved = energy[np.argmax(_y(_trace(panel.figure, "2P line")))]
    assert moved > energy[np.argmax(line_2p)]
    assert moved == pytest.approx(panel.hand_fit["Eg"] - 0.0922 / 4, abs=5e-4)
    assert elapsed < 3.0  # NumPy only: a compile would take many CPU-s
    assert panel.error == ""


def test_hand_fit_at_the_truth_and_on_the_second_data_set(panel, film):
    panel.dataset_selector.value = panel.labels[1]
    assert panel.labels == ("reference", "strained film")
    np.testing.assert_array_equal(_y(panel.figure.data[0]), film["absorbance"].values)
    panel.set_hand_fit(**{name: film.attrs[name] for name in PARAMETERS})
    np.testing.assert_allclose(
        _y(_trace(panel.figure, "hand fit")), film["absorbance_true"].values, atol=1e-9
    )
    assert panel.sliders["Ry"].value == pytest.approx(98.0)
    with pytest.raises(ValueError, match="outside the slider range"):
        panel.set_hand_fit(Ry=0.5)
    with pytest.raises(ValueError, match="unknown parameter 'gap'"):
        panel.set_hand_fit(gap=2.17)
    assert panel.sliders["Ry"].value == pytest.approx(98.0)


# ---------------------------------------------------------------------------- priors
@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        (("Eg", "width"), "-3", "width must be > 0"),
        (("Ry", "width"), "0", "width must be > 0"),
        (("Ry", "centre"), "abc", "must be a number, got the text 'abc'"),
        (("Eg", "centre"), "nan", "finite"),
        (("Ry", "centre"), "-90", "centre must be > 0"),
    ],
)
def test_bad_prior_input_shows_a_message_and_changes_nothing(panel, key, text, message):
    priors = panel.priors
    shown = panel.prior_texts[key].value
    curve = _y(_trace(panel.figure, "hand fit"))
    panel.prior_texts[key].value = text
    assert message in panel.error
    assert "last valid value is kept" in panel.error
    assert panel.priors == priors
    assert panel.prior_texts[key].value == shown
    np.testing.assert_array_equal(_y(_trace(panel.figure, "hand fit")), curve)


def test_prior_boxes_set_the_model_priors(panel):
    panel.prior_texts[("Ry", "centre")].value = "93"
    panel.prior_texts[("Eg", "width")].value = "4"
    assert panel.error == ""
    assert panel.priors["Ry"] == pytest.approx((0.093, 0.005))
    assert panel.priors["Eg"] == pytest.approx((2.1725, 0.004))
    panel.sliders["Eg"].value = 2.1700
    panel.centre_button.click()
    assert panel.priors["Eg"] == pytest.approx((2.1700, 0.004))
    assert panel.prior_texts[("Eg", "centre")].value == "2.17"
    with pytest.raises(ValueError, match="'Eg' or 'Ry'"):
        panel.set_prior("gamma", width=0.001)


def test_panel_rejects_bad_data(reference):
    with pytest.raises(TypeError, match="ds must be an xarray.Dataset"):
        SpectrumFitPanel(reference["absorbance"].values)
    with pytest.raises(ValueError, match="variable 'absorbance'"):
        SpectrumFitPanel(reference.rename(absorbance="signal"))
    energy = reference["energy"].values.copy()
    energy[[3, 4]] = energy[[4, 3]]
    with pytest.raises(ValueError, match="not sorted"):
        SpectrumFitPanel(reference, second=reference.assign_coords(energy=energy))
    with pytest.raises(ValueError, match="n_max must be >= 2"):
        SpectrumFitPanel(reference, n_max=1)
    with pytest.raises(ValueError, match="spread must be finite and > 0"):
        SpectrumFitPanel(reference, priors={"Ry": (0.09, -0.01)})


# ---------------------------------------------------------------------------- figures
def test_spectrum_figures_from_arrays(reference):
    energy = reference["energy"].values
    absorbance = reference["absorbance"].values
    fig = spectrum_with_model(energy, absorbance, model=absorbance, components={"bg": absorbance})
    assert [t.name for t in fig.data] == ["data", "model", "bg"]
    with pytest.raises(ValueError, match="one value per energy"):
        spectrum_with_model(energy, absorbance, model=absorbance[:-1])
    rng = np.random.default_rng(0)
    draws = reference["absorbance_true"].values + 0.001 * rng.normal(size=(300, energy.size))
    fig = spectrum_predictive_band(energy, absorbance, draws, np.full(300, 0.01))
    names = [t.name for t in fig.data]
    assert names == [
        "predictive 94% HDI",
        "curve 94% HDI",
        "posterior mean",
        "data",
        "noise 94% HDI",
        "residuals",
    ]
    residuals = _y(_trace(fig, "residuals"))
    np.testing.assert_allclose(residuals, absorbance - draws.mean(axis=0))
    assert fig.data[-1].yaxis == "y2"
    # the predictive band (with noise) is wider than the band of the curve
    predictive, curve = _y(fig.data[0]), _y(fig.data[1])
    n = energy.size
    assert np.all(predictive[:n] <= curve[:n]) and np.all(predictive[n:] >= curve[n:])
    with pytest.raises(ValueError, match="one non-negative value per draw"):
        spectrum_predictive_band(energy, absorbance, draws, np.full(10, 0.01))
    with pytest.raises(ValueError, match="hdi_prob must be in"):
        spectrum_predictive_band(energy, absorbance, draws, hdi_prob=1.5)


def test_posterior_figures_and_shifts(reference, film):
    truth_ref = {k: reference.attrs[k] for k in PARAMETERS}
    truth_film = {k: film.attrs[k] for k in PARAMETERS}
    post_ref = _fake_posterior(truth_ref, 1e-4, seed=1)
    post_film = _fake_posterior(truth_film, 1e-4, seed=2)
    curves, noise = posterior_spectrum_draws(post_ref, reference["energy"].values, n_draws=5)
    assert curves.shape == (5, reference.sizes["energy"]) and noise.shape == (5,)
    assert np.max(np.abs(curves - reference["absorbance_true"].values)) < 0.05
    with pytest.raises(ValueError, match="lacks"):
        posterior_spectrum_draws(post_ref[["Eg", "Ry"]], reference["energy"].values)

    fig = gap_rydberg_posteriors(
        {"reference": post_ref, "film": post_film},
        {"reference": truth_ref, "film": truth_film},
        eg_offset_ev=2.170,
    )
    densities = [t for t in fig.data if t.name in ("reference", "film")]
    assert len(densities) == 4  # Eg and Ry per data set
    peak_eg = np.asarray(densities[0].x)[np.argmax(_y(densities[0]))]
    assert peak_eg == pytest.approx(1e3 * (truth_ref["Eg"] - 2.170), abs=0.05)
    assert len([t for t in fig.data if t.name == "truth"]) == 4

    shifts = shift_draws(post_ref, post_film)
    assert shifts["Eg"].mean() == pytest.approx(-4.0, abs=0.02)
    assert shifts["Ry"].mean() == pytest.approx(5.8, abs=0.02)
    fig = shift_posteriors(post_ref, post_film, {"Eg": -0.004, "Ry": 0.0058})
    assert [t.name for t in fig.data if t.type == "histogram"] == ["dEg", "dRy"]
    assert "dEg = -4.00 meV" in fig.layout.annotations[0].text
    with pytest.raises(ValueError, match="no \\['Ry'\\]"):
        gap_rydberg_posteriors(post_ref[["Eg"]])


# ---------------------------------------------------------------------------- sampling
@pytest.mark.slow
def test_sampling_sets_results_reenables_the_button_and_keeps_them_on_failure(
    reference, film, monkeypatch
):
    short = np.linspace(2.125, 2.200, 151)  # a shorter grid keeps this test quick
    ref = synthetic_cu2o_spectrum(energy_ev=short)
    strained = synthetic_cu2o_spectrum(energy_ev=short, preset="strained_film")
    panel = SpectrumFitPanel(ref, second=strained, draws=150, tune=150)
    seen = []
    panel.progress.observe(lambda change: seen.append(change["new"]), names="value")
    idata = panel.sample()
    assert idata is panel.idata and panel.idata_second is not None
    assert panel.error == "", panel.error
    assert not panel.sample_button.disabled and panel.progress.value == 1.0
    assert len(seen) > 2 and max(seen) == 1.0
    assert len(panel._models) == 1  # the second data set re-used the compiled model
    first_compile = panel.idata["posterior"].attrs["compile_time"]
    assert panel.idata_second["posterior"].attrs["compile_time"] < 0.2 * first_compile
    for result, truth in ((panel.idata, ref.attrs), (panel.idata_second, strained.attrs)):
        eg = result["posterior"]["Eg"].values
        assert abs(eg.mean() - truth["Eg"]) < 1e-3  # within 1 meV even for a short run
    assert panel.diagnostics is not None and panel.diagnostics_second is not None
    assert "reference" in panel.diagnostics_html.value
    names = [t.name for t in panel.predictive_figure.data]
    assert "residuals" in names and "data" in names
    assert [t.name for t in panel.shift_figure.data if t.type == "histogram"] == ["dEg", "dRy"]
    # The model's data is the first data set again after sampling.
    np.testing.assert_array_equal(panel.model["absorbance"].get_value(), ref["absorbance"].values)

    def broken_fit(*args, **kwargs):
        raise RuntimeError("the sampler crashed")

    monkeypatch.setattr(panel_module, "fit", broken_fit)
    figure = panel.posterior_figure
    assert panel.sample() is None
    assert "Sampling failed: the sampler crashed" in panel.error
    assert panel.idata is idata and panel.posterior_figure is figure
    assert not panel.sample_button.disabled
