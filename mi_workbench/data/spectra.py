"""Synthetic spectra with a known truth: the Cu2O exciton series and K-peak spectra.

The Cu2O spectra come from :func:`mi_workbench.physics.cu2o_absorption`, the same function the
Bayesian model uses, plus Gaussian noise; the peak spectra from
:func:`mi_workbench.physics.peak_profile`. The true parameters are stored in ``attrs`` so that a
lesson can check what inference recovers.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from mi_workbench._checks import (
    check_choice,
    check_finite_number,
    check_positive,
    check_positive_int,
    check_seed,
)
from mi_workbench.physics.excitons import (
    CU2O_PARAMETER_UNITS,
    N_MAX_DEFAULT,
    check_energy_grid,
    cu2o_absorption,
)
from mi_workbench.physics.lineshapes import LINE_SHAPES, peak_profile

#: Default energy grid of the Cu2O spectra: 2.125-2.200 eV in 0.25 meV steps (301 points),
#: from below the 2P line to ~25 meV above the gap.
CU2O_ENERGY_GRID_EV = (2.125, 2.200, 301)

#: Two documented data sets of the yellow series. ``reference`` is bulk-like: the gap
#: Eg = 2.1725 eV and a Rydberg energy of 92.2 meV are in the range reported for bulk Cu2O at
#: low temperature (Kazimierczuk et al., Nature 514, 343 (2014)). ``strained_film`` mimics a
#: Cu2O thin film recrystallised between MgO plates, where the lattice mismatch strains the film,
#: shifts the gap and changes the Rydberg energy extracted from the nP lines (Iwamitsu et al.,
#: J. Phys. Soc. Jpn. 85, 094716 (2016)); its lines are broader (inhomogeneous strain). The
#: shift (-4.0 meV), the Rydberg energy (98.0 meV) and all strengths and widths are
#: illustrative values of the right scale, not numbers read from that paper.
CU2O_PRESETS: dict[str, dict[str, float]] = {
    "reference": {
        "Eg": 2.1725,
        "Ry": 0.0922,
        "f0": 0.12,
        "gamma": 0.0025,
        "sigma_inh": 0.0015,
        "asym": 0.1,
        "f_c": 0.10,
        "f_b": 60.0,
        "noise_sd": 0.01,
    },
    "strained_film": {
        "Eg": 2.1685,
        "Ry": 0.0980,
        "f0": 0.14,
        "gamma": 0.0030,
        "sigma_inh": 0.0025,
        "asym": 0.1,
        "f_c": 0.11,
        "f_b": 60.0,
        "noise_sd": 0.01,
    },
}


def _default_cu2o_grid() -> np.ndarray:
    low, high, n = CU2O_ENERGY_GRID_EV
    return np.linspace(low, high, n)


def synthetic_cu2o_spectrum(
    energy_ev=None,
    noise_sd: float | None = None,
    random_seed: int = 0,
    *,
    preset: str = "reference",
    n_max: int = N_MAX_DEFAULT,
    **params: float,
) -> xr.Dataset:
    """A noisy absorption spectrum of the Cu2O yellow exciton series with known parameters.

    Parameters
    ----------
    energy_ev : 1-D array, optional
        Strictly increasing photon energies in eV. Default: :data:`CU2O_ENERGY_GRID_EV`.
    noise_sd : float, optional
        Standard deviation of the Gaussian noise on the absorbance (> 0); default the preset's.
    random_seed : int
        Seed of the noise.
    preset : {"reference", "strained_film"}
        Starting parameters (see :data:`CU2O_PRESETS`).
    n_max : int
        Highest exciton line included (>= 2).
    **params : float
        Any of ``Eg, Ry, f0, gamma, sigma_inh, asym, f_c, f_b`` (see
        :func:`mi_workbench.physics.cu2o_absorption`) to override the preset.

    Returns
    -------
    xarray.Dataset
        ``absorbance`` (noisy) and ``absorbance_true`` (noise-free) over dim ``energy``
        (coordinate in eV); the true parameters, ``noise_sd``, ``n_max``, ``preset`` and
        ``random_seed`` in ``attrs``.

    Examples
    --------
    >>> ds = synthetic_cu2o_spectrum(preset="strained_film")
    >>> ds.attrs["Eg"], ds.sizes["energy"]
    (2.1685, 301)
    """
    check_choice("preset", preset, list(CU2O_PRESETS))
    values = dict(CU2O_PRESETS[preset])
    unknown = sorted(set(params) - set(CU2O_PARAMETER_UNITS))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown}; allowed are {list(CU2O_PARAMETER_UNITS)}"
        )
    values.update({k: check_finite_number(k, v) for k, v in params.items()})
    preset_noise = values.pop("noise_sd")  # not a parameter of cu2o_absorption
    noise = check_positive("noise_sd", preset_noise if noise_sd is None else noise_sd)
    n_max = check_positive_int("n_max", n_max, minimum=2)
    energy = (
        _default_cu2o_grid() if energy_ev is None else check_energy_grid("energy_ev", energy_ev)
    )
    clean = cu2o_absorption(energy, n_max=n_max, **values)
    rng = np.random.default_rng(check_seed("random_seed", random_seed))
    noisy = clean + rng.normal(0.0, noise, energy.size)
    ds = xr.Dataset(
        {
            "absorbance": ("energy", noisy, {"units": "OD", "long_name": "absorbance"}),
            "absorbance_true": (
                "energy",
                clean,
                {"units": "OD", "long_name": "noise-free absorbance"},
            ),
        },
        coords={"energy": ("energy", energy, {"units": "eV", "long_name": "photon energy"})},
    )
    ds.attrs.update(values)
    ds.attrs.update(
        noise_sd=noise,
        n_max=n_max,
        preset=preset,
        random_seed=random_seed,
        parameter_units=str(CU2O_PARAMETER_UNITS),
        description=(
            "Synthetic Cu2O yellow exciton absorption (mi_workbench.data.synthetic_cu2o_spectrum)"
        ),
    )
    return ds


def _peak_positions(rng, n_peaks, low, high, widths):
    """Ordered positions in [low, high], neighbours at least two HWHM sums apart."""
    gaps_min = 2.0 * (widths[:-1] + widths[1:])
    slack = (high - low) - gaps_min.sum()
    if slack <= 0:
        raise ValueError(
            f"n_peaks={n_peaks} resolvable peaks do not fit into the energy window "
            f"[{low:.4g}, {high:.4g}] eV: use fewer peaks or a wider energy_ev"
        )
    shares = rng.dirichlet(np.full(n_peaks + 1, 2.0)) * slack
    positions = low + shares[0] + np.concatenate([[0.0], np.cumsum(gaps_min + shares[1:-1])])
    return positions


def synthetic_peak_spectrum(
    n_peaks: int = 3,
    line_shape: str = "lorentzian",
    peak_height_to_noise: float = 20.0,
    random_seed: int = 0,
    *,
    energy_ev=None,
    background: float = 0.1,
) -> xr.Dataset:
    """A spectrum of ``n_peaks`` peaks of one line shape on a constant background, with noise.

    For model-selection lessons: how many peaks, which line shape? Peak heights are drawn in
    [0.5, 1]; half widths at half maximum in [1.5, 3] % of the energy window; positions are
    ordered, kept 10 % away from the window's ends, and neighbours are at least two HWHM sums
    apart (resolvable). The noise standard deviation is ``min(heights) / peak_height_to_noise``.

    Parameters
    ----------
    n_peaks : int
        Number of peaks (>= 1).
    line_shape : {"lorentzian", "gaussian", "voigt"}
        Shape of every peak. ``voigt`` peaks have a Gaussian part of standard deviation
        ``0.6 w`` and a Lorentzian part of HWHM ``0.5 w`` (``w`` the drawn width).
    peak_height_to_noise : float
        Height of the smallest peak over the noise standard deviation (> 0).
    random_seed : int
        Seed of positions, widths, heights and noise.
    energy_ev : 1-D array, optional
        Strictly increasing energies (eV). Default 400 points over 1.8-2.6 eV.
    background : float
        Constant background.

    Returns
    -------
    xarray.Dataset
        ``intensity`` (noisy) and ``intensity_true`` over dim ``energy`` (eV). ``attrs``:
        ``positions_ev``, ``widths_ev`` (HWHM for lorentzian, standard deviation for gaussian
        and the Gaussian part of voigt), ``lorentzian_hwhms_ev`` (voigt only), ``heights``,
        ``background``, ``noise_sd``, ``n_peaks``, ``line_shape``, ``random_seed``.

    Examples
    --------
    >>> ds = synthetic_peak_spectrum(3, "gaussian", random_seed=1)
    >>> len(ds.attrs["positions_ev"])
    3
    """
    n_peaks = check_positive_int("n_peaks", n_peaks, minimum=1)
    check_choice("line_shape", line_shape, LINE_SHAPES)
    ratio = check_positive("peak_height_to_noise", peak_height_to_noise)
    background = check_finite_number("background", background)
    energy = (
        np.linspace(1.8, 2.6, 400)
        if energy_ev is None
        else check_energy_grid("energy_ev", energy_ev)
    )
    span = energy[-1] - energy[0]
    rng = np.random.default_rng(check_seed("random_seed", random_seed))
    half_widths = rng.uniform(0.015, 0.03, n_peaks) * span
    heights = rng.uniform(0.5, 1.0, n_peaks)
    positions = _peak_positions(
        rng, n_peaks, energy[0] + 0.1 * span, energy[-1] - 0.1 * span, half_widths
    )
    if line_shape == "lorentzian":
        widths, gammas = half_widths, None
    elif line_shape == "gaussian":
        widths, gammas = half_widths / np.sqrt(2.0 * np.log(2.0)), None
    else:
        widths, gammas = 0.6 * half_widths, 0.5 * half_widths
    profiles = peak_profile(
        energy[:, None],
        positions,
        widths,
        line_shape,
        gamma=gammas,
    )
    clean = background + profiles @ heights
    noise_sd = float(heights.min() / ratio)
    noisy = clean + rng.normal(0.0, noise_sd, energy.size)
    ds = xr.Dataset(
        {
            "intensity": ("energy", noisy, {"units": "a.u.", "long_name": "intensity"}),
            "intensity_true": (
                "energy",
                clean,
                {"units": "a.u.", "long_name": "noise-free intensity"},
            ),
        },
        coords={"energy": ("energy", energy, {"units": "eV", "long_name": "photon energy"})},
    )
    ds.attrs.update(
        positions_ev=positions,
        widths_ev=widths,
        heights=heights,
        background=background,
        noise_sd=noise_sd,
        n_peaks=n_peaks,
        line_shape=line_shape,
        random_seed=random_seed,
        description="Synthetic K-peak spectrum (mi_workbench.data.synthetic_peak_spectrum)",
    )
    if gammas is not None:
        ds.attrs["lorentzian_hwhms_ev"] = gammas
    return ds
