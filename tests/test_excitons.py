"""Physics of the Cu2O exciton series and line shapes: NumPy/PyTensor agreement, accuracy,
known laws and bad inputs; and the synthetic spectra built on them."""

import numpy as np
import pytest
from scipy.special import voigt_profile, wofz

from mi_workbench.data import (
    CU2O_PRESETS,
    synthetic_cu2o_spectrum,
    synthetic_peak_spectrum,
)
from mi_workbench.physics import (
    cu2o_absorption,
    cu2o_absorption_components,
    elliott_continuum_strength,
    faddeeva,
    gaussian,
    line_energies,
    line_strengths,
    lorentzian,
    peak_profile,
    voigt,
)

REFERENCE = {k: v for k, v in CU2O_PRESETS["reference"].items() if k != "noise_sd"}
ENERGY = np.linspace(2.125, 2.200, 301)


def test_faddeeva_matches_scipy_wofz_to_1e_4_relative():
    x = np.linspace(-60.0, 60.0, 1201)[:, None]
    y = np.geomspace(1e-2, 1e2, 50)[None, :]
    re, im = faddeeva(x, y)
    exact = wofz(x + 1j * y)
    assert np.max(np.abs(re + 1j * im - exact) / np.abs(exact)) < 1e-4
    assert np.max(np.abs(re - exact.real) / exact.real) < 1e-4


def test_voigt_matches_scipy_voigt_profile_and_limits():
    energy = np.linspace(-0.05, 0.05, 801)
    for sigma, gamma in [(0.002, 0.003), (0.004, 0.0005), (0.0005, 0.004)]:
        exact = voigt_profile(energy, sigma, gamma)
        assert np.max(np.abs(voigt(energy, 0.0, sigma, gamma) - exact) / exact) < 1e-4
    # A tiny Gaussian part leaves a Lorentzian, a tiny Lorentzian part a Gaussian.
    np.testing.assert_allclose(
        voigt(energy, 0.0, 1e-7, 0.003), lorentzian(energy, 0.0, 0.003), rtol=1e-4
    )
    np.testing.assert_allclose(
        voigt(energy, 0.0, 0.003, 0.0), gaussian(energy, 0.0, 0.003), rtol=1e-6, atol=1e-6
    )


def test_line_shapes_are_normalised_and_peak_profiles_have_height_one():
    energy = np.linspace(-2.0, 2.0, 40001)
    step = energy[1] - energy[0]
    assert gaussian(energy, 0.1, 0.05).sum() * step == pytest.approx(1.0, rel=1e-6)
    assert voigt(energy, 0.1, 0.02, 0.01).sum() * step == pytest.approx(1.0, rel=2e-2)
    for shape in ("lorentzian", "gaussian", "voigt"):
        profile = peak_profile(energy, 0.1, 0.02, shape, gamma=0.01)
        assert profile.max() == pytest.approx(1.0, abs=1e-6)
        assert energy[np.argmax(profile)] == pytest.approx(0.1, abs=1e-4)


def test_line_strength_law_and_positions():
    n = np.arange(2, 9)
    np.testing.assert_allclose(line_strengths(n, 2.0), 2.0 * (n**2 - 1) / n**5)
    assert line_strengths(2) == pytest.approx(3 / 32)
    np.testing.assert_allclose(line_energies(2.17, 0.09, n), 2.17 - 0.09 / n**2)
    # With no broadening overlap, each line's area is its strength.
    params = dict(REFERENCE, f_c=0.0, f_b=0.0, asym=0.0, sigma_inh=0.0, gamma=1e-4)
    parts = cu2o_absorption_components(np.linspace(2.0, 2.3, 300001), n_max=4, **params)
    areas = parts["lines"].sum(axis=0) * (0.3 / 300000)
    np.testing.assert_allclose(areas, line_strengths([2, 3, 4], params["f0"]), rtol=2e-3)


def test_continuum_is_finite_at_the_gap_and_matches_elliott():
    params = dict(REFERENCE, f0=0.0, f_b=0.0, gamma=1e-6, sigma_inh=1e-6)
    eg = params["Eg"]
    energy = np.array([eg - 1e-3, eg - 1e-12, eg, eg + 1e-12, eg + 1e-3, eg + 0.02])
    continuum = cu2o_absorption(energy, **params)
    assert np.all(np.isfinite(continuum))
    assert continuum[0] == pytest.approx(0.0, abs=1e-12)
    assert continuum[4] == pytest.approx(2 * np.pi * params["f_c"], rel=0.02)
    # Far above the gap the Sommerfeld factor tends to 1: f_c (E - Eg)^1.5 / Ry^1.5 + ...
    beta = np.sqrt(params["Ry"] / 0.02)
    elliott = (
        params["f_c"]
        * (0.02 / params["Ry"]) ** 1.5
        * np.pi
        * beta
        * (1 + beta**2)
        * np.exp(np.pi * beta)
        / np.sinh(np.pi * beta)
    )
    assert continuum[5] == pytest.approx(elliott, rel=1e-9)
    assert elliott_continuum_strength(0.12, 0.0922) == pytest.approx(0.12 / (4 * np.pi * 0.0922))


def test_numpy_and_pytensor_evaluations_agree():
    import pytensor
    import pytensor.tensor as pt

    names = list(REFERENCE)
    symbols = [pt.dscalar(name) for name in names]
    energy = pt.dvector("energy")
    out = cu2o_absorption(energy, *symbols, n_max=7)
    function = pytensor.function([energy, *symbols], out)
    values = [REFERENCE[name] for name in names]
    np.testing.assert_allclose(
        function(ENERGY, *values), cu2o_absorption(ENERGY, **REFERENCE), rtol=1e-10, atol=1e-12
    )
    # Gradients exist and are finite everywhere, also at the gap.
    grad = pytensor.function([energy, *symbols], pt.grad(out.sum(), symbols))
    assert all(np.isfinite(g) for g in grad(np.append(ENERGY, REFERENCE["Eg"]), *values))


def test_numpy_and_pytensor_peak_profiles_agree():
    import pytensor.tensor as pt

    x = np.linspace(1.8, 2.6, 50)
    for shape in ("lorentzian", "gaussian", "voigt"):
        expected = peak_profile(x, 2.2, 0.03, shape, gamma=0.02)
        width, gamma = pt.as_tensor_variable(0.03), pt.as_tensor_variable(0.02)
        tensor = peak_profile(x, 2.2, width, shape, gamma=gamma)
        np.testing.assert_allclose(tensor.eval(), expected, rtol=1e-10)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"energy_ev": [2.1, 2.2, 2.15]}, "not sorted"),
        ({"energy_ev": [2.1, 2.15, 2.15]}, "duplicate"),
        ({"energy_ev": [2.1, np.nan, 2.2]}, "NaN"),
        ({"n_max": 1}, "n_max must be >= 2"),
        ({"gamma": -0.001}, "gamma must be > 0"),
        ({"sigma_inh": -0.001}, "sigma_inh must be >= 0"),
        ({"Ry": 0.0}, "Ry must be > 0"),
        ({"f0": float("nan")}, "f0 must be a finite number"),
    ],
)
def test_cu2o_absorption_rejects_bad_input(change, message):
    arguments = dict(REFERENCE, energy_ev=ENERGY[:5])
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        cu2o_absorption(**arguments)


def test_line_shape_functions_reject_bad_widths():
    with pytest.raises(ValueError, match="sigma must be > 0"):
        voigt(0.0, 0.0, -1.0, 0.1)
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        voigt(0.0, 0.0, 1.0, -0.1)
    with pytest.raises(ValueError, match="line_shape must be one of"):
        peak_profile(0.0, 0.0, 1.0, "triangle")
    with pytest.raises(ValueError, match="gamma .* required"):
        peak_profile(0.0, 0.0, 1.0, "voigt")


def test_synthetic_cu2o_spectrum_presets_and_truth():
    reference = synthetic_cu2o_spectrum()
    strained = synthetic_cu2o_spectrum(preset="strained_film")
    assert reference.sizes["energy"] == 301
    assert reference["energy"].attrs["units"] == "eV"
    assert reference.attrs["Eg"] == 2.1725 and reference.attrs["Ry"] == 0.0922
    assert strained.attrs["Eg"] < reference.attrs["Eg"]
    assert strained.attrs["Ry"] > reference.attrs["Ry"]
    residual = reference["absorbance"] - reference["absorbance_true"]
    assert float(residual.std()) == pytest.approx(reference.attrs["noise_sd"], rel=0.15)
    np.testing.assert_allclose(
        reference["absorbance_true"], cu2o_absorption(ENERGY, **REFERENCE, n_max=7)
    )
    # Same seed, same data; another seed, other noise; overrides reach the truth.
    assert synthetic_cu2o_spectrum().equals(reference)
    assert not synthetic_cu2o_spectrum(random_seed=1).equals(reference)
    assert synthetic_cu2o_spectrum(Eg=2.17).attrs["Eg"] == 2.17


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"energy_ev": [2.2, 2.1]}, ValueError, "not sorted"),
        ({"energy_ev": [2.1, 2.1, 2.2]}, ValueError, "duplicate"),
        ({"energy_ev": [2.1, np.inf]}, ValueError, "infinite"),
        ({"n_max": 1}, ValueError, "n_max must be >= 2"),
        ({"gamma": -0.002}, ValueError, "gamma must be > 0"),
        ({"noise_sd": 0.0}, ValueError, "noise_sd must be > 0"),
        ({"preset": "film"}, ValueError, "preset must be one of"),
        ({"Egap": 2.1}, ValueError, "unknown parameter"),
    ],
)
def test_synthetic_cu2o_spectrum_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        synthetic_cu2o_spectrum(**kwargs)


@pytest.mark.parametrize("shape", ["lorentzian", "gaussian", "voigt"])
def test_synthetic_peak_spectrum(shape):
    ds = synthetic_peak_spectrum(4, shape, peak_height_to_noise=25, random_seed=3)
    positions = ds.attrs["positions_ev"]
    assert len(positions) == 4 and np.all(np.diff(positions) > 0)
    assert ds.attrs["noise_sd"] == pytest.approx(ds.attrs["heights"].min() / 25)
    # The noise-free maximum near each position is about its height over the background.
    for position, height in zip(positions, ds.attrs["heights"], strict=True):
        at = float(ds["intensity_true"].sel(energy=position, method="nearest"))
        assert at - ds.attrs["background"] >= 0.95 * height
    assert ("lorentzian_hwhms_ev" in ds.attrs) == (shape == "voigt")


def test_synthetic_peak_spectrum_rejects_bad_input():
    with pytest.raises(ValueError, match="n_peaks must be >= 1"):
        synthetic_peak_spectrum(0)
    with pytest.raises(ValueError, match="line_shape must be one of"):
        synthetic_peak_spectrum(2, "sinc")
    with pytest.raises(ValueError, match="do not fit"):
        synthetic_peak_spectrum(40)
    with pytest.raises(ValueError, match="peak_height_to_noise must be > 0"):
        synthetic_peak_spectrum(2, peak_height_to_noise=-1)
