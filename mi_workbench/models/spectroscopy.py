"""Bayesian spectroscopy: the Cu2O exciton series and K-peak models as ``pm.Model`` objects.

Both models sample on well-scaled parameters and report physical ones as deterministics:

- :func:`exciton_spectrum_model` samples energies as offsets in meV from reference values
  (``Eg = Eg_ref + 1e-3 * (dEc_mev + PIVOT * dRy_mev)``), the widths on a log scale in meV and
  the strengths relative to the spectrum's own absorbance scale, so that every free parameter is
  of order 1 and the strongly correlated pairs (Eg with Ry, area with width, Lorentzian with
  Gaussian width) are replaced by nearly independent combinations. The forward model is
  :func:`mi_workbench.physics.cu2o_absorption`, the same function that generates the
  synthetic data.
- :func:`peak_model` works on the energy window mapped to [0, 1] and the intensity mapped to its
  range; by default peak positions are the cumulative sums of Dirichlet gaps, so they are
  ordered (no label switching in posterior summaries) and a priori distributed like K sorted
  uniform positions in the window. With ``ordered_positions=False`` the positions are K i.i.d.
  uniform positions, the better choice for evidence computations (see :func:`peak_model`).

Observed data enter as ``pm.Data`` so that :func:`set_spectrum_data` can swap in another spectrum
of the same length without rebuilding the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import xarray as xr

from mi_workbench._checks import (
    _short,
    check_choice,
    check_finite_array,
    check_positive_int,
    check_pymc_model,
)
from mi_workbench.physics.excitons import N_MAX_DEFAULT, check_energy_grid, cu2o_absorption
from mi_workbench.physics.lineshapes import LINE_SHAPES, peak_profile, voigt

#: Default priors of :func:`exciton_spectrum_model`, each a pair of numbers:
#:
#: - ``Eg``, ``Ry``: (mean, sd) in eV of independent normal priors. Centred on the bulk yellow
#:   series (Eg ~ 2.1725 eV; Ry between the 92 and 98 meV found in the literature), wide enough
#:   (10 meV, 5 meV) for strained films.
#: - ``linewidth``: (median in eV, sd of the natural log) of a log-normal prior on the summed
#:   width ``gamma + sigma_inh`` (a few meV; 0.6 allows a factor ~3 either way).
#: - ``gamma_to_sigma``: (median, sd of the natural log) of a log-normal prior on the ratio of
#:   the Lorentzian HWHM to the Gaussian standard deviation: a priori neither dominates.
#: - ``asym``: (mean, sd) of a normal prior on the Toyozawa asymmetry.
#: - ``line_height``: (0, scale) of a half-normal prior on the peak height of the n = 2 line
#:   (its symmetric part) in units of the spectrum's absorbance scale ``s = max|absorbance|``.
#: - ``f_c``: (0, scale) of a half-normal prior on the continuum at the gap, ``2 pi f_c / s``.
#: - ``f_b``: (0, scale) of a half-normal prior on ``f_b Ry_ref^1.5 / s`` (the background one
#:   Rydberg above the gap, in units of s).
#: - ``noise``: (0, scale) of a half-normal prior on the noise sd in units of s.
DEFAULT_EXCITON_PRIORS: dict[str, tuple[float, float]] = {
    "Eg": (2.1725, 0.010),
    "Ry": (0.095, 0.005),
    "linewidth": (0.004, 0.6),
    "gamma_to_sigma": (1.0, 1.0),
    "asym": (0.0, 0.2),
    "line_height": (0.0, 1.0),
    "f_c": (0.0, 1.0),
    "f_b": (0.0, 2.0),
    "noise": (0.0, 0.1),
}

#: The model samples ``Ec = Eg - PIVOT * Ry`` instead of ``Eg``: the line positions
#: ``Eg - Ry / n^2`` of the strongest lines (n = 2, 3) pivot about it, so the data fix ``Ec``
#: almost independently of ``Ry`` (posterior correlation of Eg and Ry ~0.98, of Ec and Ry ~0.35).
PIVOT = 0.2

_HALF_NORMAL_PRIORS = ("line_height", "f_c", "f_b", "noise")
_POSITIVE_CENTRES = ("Ry", "linewidth", "gamma_to_sigma")


def exciton_priors(priors: Mapping[str, tuple[float, float]] | None = None) -> dict:
    """:data:`DEFAULT_EXCITON_PRIORS` updated by ``priors`` (validated).

    Examples
    --------
    >>> exciton_priors({"Eg": (2.168, 0.005)})["Eg"]
    (2.168, 0.005)
    """
    if priors is not None and not isinstance(priors, Mapping):
        raise TypeError(
            "priors must be a dict of prior name -> (centre, spread), or None, got "
            f"{_short(priors)}"
        )
    result = dict(DEFAULT_EXCITON_PRIORS)
    for name, value in (priors or {}).items():
        if name not in DEFAULT_EXCITON_PRIORS:
            raise ValueError(
                f"unknown prior name {name!r}; allowed are {list(DEFAULT_EXCITON_PRIORS)}"
            )
        try:
            centre, spread = (float(v) for v in value)
        except (TypeError, ValueError):
            raise TypeError(
                f"prior {name!r} must be a pair of numbers (centre, spread), got {value!r}"
            ) from None
        if not (math.isfinite(centre) and math.isfinite(spread)) or spread <= 0:
            raise ValueError(f"prior {name!r}: the spread must be finite and > 0, got {value!r}")
        if name in _POSITIVE_CENTRES and centre <= 0:
            raise ValueError(f"prior {name!r}: the centre must be > 0, got {centre!r}")
        if name in _HALF_NORMAL_PRIORS and centre != 0:
            raise ValueError(
                f"prior {name!r} is half-normal: give (0, scale), got centre {centre!r}"
            )
        result[name] = (centre, spread)
    return result


def _spectrum_arrays(ds: xr.Dataset, variable: str | None, default: str) -> tuple:
    """Energy grid and values of ``ds[variable]`` over dim ``energy``, validated."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    if "energy" not in ds.coords:
        raise ValueError(
            f"ds must have an 'energy' coordinate (eV); it has coordinates {list(ds.coords)}"
        )
    if variable is None:
        candidates = [v for v in ds.data_vars if ds[v].dims == ("energy",)]
        if default in ds.data_vars:
            variable = default
        elif len(candidates) == 1:
            variable = candidates[0]
        else:
            raise ValueError(
                f"say which variable holds the spectrum: variable= one of {candidates}"
            )
    if variable not in ds.data_vars:
        raise ValueError(f"ds has no variable {variable!r}; it has {list(ds.data_vars)}")
    if ds[variable].dims != ("energy",):
        raise ValueError(
            f"ds[{variable!r}] must have the single dim 'energy', got {ds[variable].dims}"
        )
    energy = check_energy_grid("ds.energy", ds["energy"].values)
    values = check_finite_array(f"ds[{variable!r}]", ds[variable].values, ndim=1)
    if energy.size < 10:
        raise ValueError(f"the spectrum has {energy.size} points; at least 10 are needed")
    return energy, values, variable


def exciton_spectrum_model(
    ds: xr.Dataset,
    n_max: int = N_MAX_DEFAULT,
    priors: Mapping[str, tuple[float, float]] | None = None,
    *,
    variable: str | None = None,
):
    """A Bayesian model of a Cu2O yellow-series absorption spectrum.

    The likelihood is ``absorbance ~ Normal(cu2o_absorption(energy, ...), noise_sd)`` with the
    forward model of :func:`mi_workbench.physics.cu2o_absorption`.

    The sampler works on parameters that the data determine nearly independently, each of order
    1: ``dEc_mev`` and ``dRy_mev`` (meV offsets of ``Ec = Eg - PIVOT * Ry`` and ``Ry``; the prior
    of ``dEc_mev`` given ``dRy_mev`` is chosen so that Eg and Ry have exactly the independent
    normal priors of ``priors``), ``log_linewidth_mev`` (log of ``gamma + sigma_inh`` in meV),
    ``log_gamma_to_sigma``, ``asym``, ``line_height_rel`` (peak height of the n = 2 line rather
    than its area, which is correlated with the width), ``f_c_rel``, ``f_b_rel`` and
    ``noise_rel``. On the default data this lowers the condition number of the posterior
    correlation matrix from ~400 to ~30.

    Parameters
    ----------
    ds : xarray.Dataset
        The spectrum over dim ``energy`` (eV, strictly increasing), e.g. from
        :func:`mi_workbench.data.synthetic_cu2o_spectrum`.
    n_max : int
        Highest exciton line in the model (>= 2). 6-8 keeps the fit fast; lines above merge
        into the continuum at a few meV of broadening.
    priors : dict, optional
        Overrides of :data:`DEFAULT_EXCITON_PRIORS` (same pairs and units).
    variable : str, optional
        Name of the absorbance variable; default ``"absorbance"`` (or the only variable over
        ``energy``).

    Returns
    -------
    pymc.Model
        The free variables above; deterministics ``Eg``, ``Ry``, ``gamma``, ``sigma_inh`` (eV),
        ``asym``, ``f0``, ``f_c``, ``f_b`` (the arguments of
        :func:`mi_workbench.physics.cu2o_absorption`) and ``noise_sd``; observed
        ``absorbance_obs``. Data containers: ``energy_ev``, ``absorbance``,
        ``absorbance_scale``. The attribute ``mi_low_rank_mass_matrix = True`` makes
        :func:`mi_workbench.inference.fit` adapt a low-rank mass matrix (the remaining
        correlations of the line parameters; twice fewer leapfrog steps per draw).

    Examples
    --------
    >>> from mi_workbench.data import synthetic_cu2o_spectrum
    >>> model = exciton_spectrum_model(synthetic_cu2o_spectrum())
    >>> {"Eg", "Ry"} <= set(model.named_vars)
    True
    """
    import pymc as pm

    n_max = check_positive_int("n_max", n_max, minimum=2)
    energy, absorbance, variable = _spectrum_arrays(ds, variable, "absorbance")
    p = exciton_priors(priors)
    scale = float(np.max(np.abs(absorbance)))
    if scale == 0:
        raise ValueError(f"ds[{variable!r}] is zero everywhere; there is no spectrum to fit")
    Eg_ref, Eg_sd = p["Eg"]
    Ry_ref, Ry_sd = p["Ry"]
    with pm.Model(coords={"energy": energy}) as model:
        energy_data = pm.Data("energy_ev", energy, dims="energy")
        observed = pm.Data("absorbance", absorbance, dims="energy")
        s = pm.Data("absorbance_scale", scale)

        dRy_mev = pm.Normal("dRy_mev", 0.0, 1e3 * Ry_sd)
        # Eg = Ec + PIVOT * Ry; this conditional prior makes Eg ~ Normal(Eg_ref, Eg_sd) and
        # independent of Ry.
        dEc_mev = pm.Normal("dEc_mev", -PIVOT * dRy_mev, 1e3 * Eg_sd)
        log_width = pm.Normal(
            "log_linewidth_mev", math.log(1e3 * p["linewidth"][0]), p["linewidth"][1]
        )
        log_ratio = pm.Normal(
            "log_gamma_to_sigma", math.log(p["gamma_to_sigma"][0]), p["gamma_to_sigma"][1]
        )
        asym = pm.Normal("asym", *p["asym"])
        height_rel = pm.HalfNormal("line_height_rel", p["line_height"][1])
        f_c_rel = pm.HalfNormal("f_c_rel", p["f_c"][1])
        f_b_rel = pm.HalfNormal("f_b_rel", p["f_b"][1])
        noise_rel = pm.HalfNormal("noise_rel", p["noise"][1])

        Ry = pm.Deterministic("Ry", Ry_ref + 1e-3 * dRy_mev)
        Eg = pm.Deterministic("Eg", Eg_ref + 1e-3 * (dEc_mev + PIVOT * dRy_mev))
        linewidth = 1e-3 * pm.math.exp(log_width)
        # gamma + sigma_inh = linewidth and gamma / sigma_inh = exp(log_gamma_to_sigma)
        gamma = pm.Deterministic("gamma", linewidth * pm.math.sigmoid(log_ratio))
        sigma_inh = pm.Deterministic("sigma_inh", linewidth * pm.math.sigmoid(-log_ratio))
        peak_per_area = voigt(0.0, 0.0, sigma_inh, gamma)  # 1/eV
        strength_2 = 3.0 / 32.0  # (n^2 - 1) / n^5 at n = 2
        f0 = pm.Deterministic("f0", height_rel * s / (strength_2 * peak_per_area))
        f_c = pm.Deterministic("f_c", s / (2.0 * math.pi) * f_c_rel)
        f_b = pm.Deterministic("f_b", s / Ry_ref**1.5 * f_b_rel)
        noise_sd = pm.Deterministic("noise_sd", s * noise_rel)

        mean = cu2o_absorption(
            energy_data, Eg, Ry, f0, gamma, sigma_inh, asym, f_c, f_b, n_max=n_max
        )
        pm.Normal("absorbance_obs", mu=mean, sigma=noise_sd, observed=observed, dims="energy")
    model.mi_spectrum_variable = variable
    model.mi_n_max = n_max
    # Read by mi_workbench.inference.fit: NUTS with nutpie's low-rank mass matrix. Measured on
    # both presets (2 chains x 1000 + 1000 warm-up, 2 seeds each, load ~10): ~5 instead of
    # 10-13 leapfrog steps per draw, bulk ESS of Eg and Ry 2600-2900 instead of 560-1030,
    # 4-10x the ESS per second, no divergences (bench/README.md, spectroscopy section).
    model.mi_low_rank_mass_matrix = True
    return model


#: Default priors of :func:`peak_model`, on the normalised scales (energy window -> [0, 1],
#: intensity -> (I - min I) / (max I - min I)): log-normal widths (median, log-sd) as fractions
#: of the window, half-normal heights and noise (0, scale), a normal background (mean, sd).
DEFAULT_PEAK_PRIORS: dict[str, tuple[float, float]] = {
    "width": (0.03, 0.75),
    "gamma": (0.03, 0.75),
    "height": (0.0, 1.0),
    "background": (0.0, 0.5),
    "noise": (0.0, 0.2),
}


def peak_model(
    ds: xr.Dataset,
    n_peaks: int,
    line_shape: str = "lorentzian",
    *,
    ordered_positions: bool = True,
    variable: str | None = None,
):
    """A sum of ``n_peaks`` peaks of one line shape on a constant background.

    ``intensity = background + sum_k height_k * profile((E - position_k) / width_k) + noise``,
    each profile of height 1 (:func:`mi_workbench.physics.peak_profile`).

    Parameters
    ----------
    ds : xarray.Dataset
        The spectrum over dim ``energy`` (eV, strictly increasing), e.g. from
        :func:`mi_workbench.data.synthetic_peak_spectrum`.
    n_peaks : int
        Number of peaks K (>= 1).
    line_shape : {"lorentzian", "gaussian", "voigt"}
        ``width`` is the HWHM of a Lorentzian, the standard deviation of a Gaussian and of the
        Gaussian part of a Voigt peak; a Voigt peak also has ``gamma``, its Lorentzian HWHM.
    ordered_positions : bool
        True (default): positions from Dirichlet gaps, sorted, so every peak keeps its label in
        a posterior fit (NUTS). False: K i.i.d. uniform positions over the window (free
        variable ``position_rel``), for :func:`mi_workbench.inference.evidence`. Both give the
        same evidence: the likelihood does not change when the peaks (position, width, height)
        are relabelled and the other priors are i.i.d. over peaks, so the K! orderings of the
        unordered prior contribute equally, and the ordered prior is that prior restricted to
        one ordering with density K! times higher. The unordered form lets one-parameter moves
        of the exchange Monte Carlo shift one peak; with Dirichlet gaps one move shifts every
        later peak and the sampler misses the main mode (on a 5-peak spectrum with K = 5,
        two runs gave log Z = 416 and 355 ordered, 772 and 773 unordered).
    variable : str, optional
        Name of the spectrum variable; default ``"intensity"`` (or the only one over
        ``energy``).

    Returns
    -------
    pymc.Model
        Free variables ``position_gaps`` (Dirichlet, K + 1 gaps; ``position_rel`` when
        ``ordered_positions=False``), ``log_width`` (and
        ``log_gamma`` for voigt), ``height_rel``, ``background_rel``, ``noise_rel`` on the
        normalised scales; deterministics ``position``, ``width`` (and ``gamma``) in eV,
        ``height``, ``background`` and ``noise_sd`` in the data's units (dim ``peak``);
        observed ``intensity_obs``. Priors: :data:`DEFAULT_PEAK_PRIORS`; the positions are a
        priori K sorted uniform draws over the energy window (unsorted if
        ``ordered_positions=False``).

    Examples
    --------
    >>> from mi_workbench.data import synthetic_peak_spectrum
    >>> model = peak_model(synthetic_peak_spectrum(2), n_peaks=2, line_shape="gaussian")
    >>> model["position"].type.shape
    (2,)
    """
    import pymc as pm

    n_peaks = check_positive_int("n_peaks", n_peaks, minimum=1)
    check_choice("line_shape", line_shape, LINE_SHAPES)
    energy, values, variable = _spectrum_arrays(ds, variable, "intensity")
    low, span = float(energy[0]), float(energy[-1] - energy[0])
    base, value_range = float(values.min()), float(values.max() - values.min())
    if value_range == 0:
        raise ValueError(f"ds[{variable!r}] is constant; there are no peaks to fit")
    p = DEFAULT_PEAK_PRIORS
    if not isinstance(ordered_positions, (bool, np.bool_)):
        raise TypeError(f"ordered_positions must be True or False, got {ordered_positions!r}")
    coords = {"energy": energy, "peak": np.arange(n_peaks)}
    if ordered_positions:
        coords["gap"] = np.arange(n_peaks + 1)
    with pm.Model(coords=coords) as model:
        energy_data = pm.Data("energy_ev", energy, dims="energy")
        observed = pm.Data(variable, values, dims="energy")
        x = (energy_data - low) / span

        if ordered_positions:
            gaps = pm.Dirichlet("position_gaps", a=np.ones(n_peaks + 1), dims="gap")
            position_x = pm.math.cumsum(gaps)[:n_peaks]
        else:
            position_x = pm.Uniform("position_rel", 0.0, 1.0, dims="peak")
        log_width = pm.Normal("log_width", math.log(p["width"][0]), p["width"][1], dims="peak")
        width_x = pm.math.exp(log_width)
        height_rel = pm.HalfNormal("height_rel", p["height"][1], dims="peak")
        background_rel = pm.Normal("background_rel", *p["background"])
        noise_rel = pm.HalfNormal("noise_rel", p["noise"][1])
        gamma_x = None
        if line_shape == "voigt":
            log_gamma = pm.Normal("log_gamma", math.log(p["gamma"][0]), p["gamma"][1], dims="peak")
            gamma_x = pm.math.exp(log_gamma)
            pm.Deterministic("gamma", span * gamma_x, dims="peak")

        profiles = peak_profile(x[:, None], position_x, width_x, line_shape, gamma=gamma_x)
        mean_rel = background_rel + pm.math.sum(profiles * height_rel, axis=1)

        pm.Deterministic("position", low + span * position_x, dims="peak")
        pm.Deterministic("width", span * width_x, dims="peak")
        pm.Deterministic("height", value_range * height_rel, dims="peak")
        pm.Deterministic("background", base + value_range * background_rel)
        pm.Deterministic("noise_sd", value_range * noise_rel)
        pm.Normal(
            f"{variable}_obs",
            mu=base + value_range * mean_rel,
            sigma=value_range * noise_rel,
            observed=observed,
            dims="energy",
        )
    model.mi_spectrum_variable = variable
    model.mi_line_shape = line_shape
    return model


def set_spectrum_data(model, ds: xr.Dataset) -> None:
    """Swap the spectrum of a model built by :func:`exciton_spectrum_model` (no rebuild).

    The new spectrum must have as many points as the old one; the absorbance scale is updated.
    (For :func:`peak_model`, whose normalisation is fixed at build time, build a new model.)

    Examples
    --------
    >>> from mi_workbench.data import synthetic_cu2o_spectrum
    >>> model = exciton_spectrum_model(synthetic_cu2o_spectrum())
    >>> set_spectrum_data(model, synthetic_cu2o_spectrum(preset="strained_film"))
    """
    import pymc as pm

    model = check_pymc_model("model", model)
    if "absorbance_scale" not in model.named_vars:
        raise ValueError("set_spectrum_data works on models built by exciton_spectrum_model")
    energy, values, _ = _spectrum_arrays(
        ds, getattr(model, "mi_spectrum_variable", None), "absorbance"
    )
    old = model["energy_ev"].get_value().size
    if energy.size != old:
        raise ValueError(
            f"the new spectrum has {energy.size} points but the model was built for {old}; "
            "build a new model with exciton_spectrum_model"
        )
    scale = float(np.max(np.abs(values)))
    if scale == 0:
        raise ValueError("the new spectrum is zero everywhere; there is no spectrum to fit")
    with model:
        pm.set_data(
            {"energy_ev": energy, "absorbance": values, "absorbance_scale": scale},
            coords={"energy": energy},
        )
