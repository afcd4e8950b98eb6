"""Generators of the lessons' data sets. Every generator takes a ``random_seed`` and documents the
truth it used in ``attrs``, so that a lesson can check what inference recovers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from mi_workbench._checks import (
    check_finite_number,
    check_positive,
    check_positive_int,
    check_seed,
)
from mi_workbench.data.elements import (
    DESCRIPTOR_UNITS,
    composition_descriptors,
    random_compositions,
)

#: True linear law of the virtual transformation temperature (K) used by ``virtual_alloys``.
VIRTUAL_ALLOY_LAW = {
    "intercept": 330.0,
    "valence_electron_concentration": -150.0,  # K per electron/atom, relative to 7.0
    "mean_electronegativity": 400.0,  # K per Pauling unit, relative to 1.8
}


def virtual_alloys(
    n_alloys: int = 30,
    elements: Sequence[str] = ("Ti", "Ni", "Cu", "Fe", "Pd"),
    noise_sd_k: float = 8.0,
    random_seed: int = 0,
) -> xr.Dataset:
    """A virtual data set of alloys: compositions, descriptors and a transformation temperature.

    The target ``transformation_temperature_k`` follows a known linear law in two of the four
    composition-weighted descriptors (``VIRTUAL_ALLOY_LAW``), plus Gaussian measurement noise.
    The trend with valence-electron concentration mirrors the strong dependence of martensitic
    transformation temperatures on electron concentration in NiTi-based alloys; the numbers are
    invented for teaching.

    Parameters
    ----------
    n_alloys : int
        Number of alloys (>= 2).
    elements : sequence of str
        Element symbols (see :data:`mi_workbench.data.ELEMENT_PROPERTIES`).
    noise_sd_k : float
        Standard deviation of the measurement noise in K (> 0).
    random_seed : int
        Seed of the generator.

    Returns
    -------
    xarray.Dataset
        Over dim ``alloy``: the element fractions in at.%, the four descriptors and the target,
        with units in ``attrs["units"]`` and the law in ``attrs``.

    Examples
    --------
    >>> ds = virtual_alloys(n_alloys=5, random_seed=1)
    >>> ds.sizes["alloy"]
    5
    """
    n_alloys = check_positive_int("n_alloys", n_alloys, minimum=2)
    noise_sd_k = check_positive("noise_sd_k", noise_sd_k)
    rng = np.random.default_rng(check_seed("random_seed", random_seed))
    compositions = random_compositions(elements, n_alloys, rng)
    descriptors = composition_descriptors(compositions)
    law = VIRTUAL_ALLOY_LAW
    clean = (
        law["intercept"]
        + law["valence_electron_concentration"]
        * (descriptors["valence_electron_concentration"] - 7.0)
        + law["mean_electronegativity"] * (descriptors["mean_electronegativity"] - 1.8)
    ).to_numpy()
    target = clean + rng.normal(0.0, noise_sd_k, n_alloys)
    ds = xr.Dataset(coords={"alloy": np.arange(n_alloys)})
    for element in compositions.columns:
        ds[f"{element}_at_percent"] = ("alloy", compositions[element].to_numpy())
        ds[f"{element}_at_percent"].attrs["units"] = "at.%"
    for name in descriptors.columns:
        ds[name] = ("alloy", descriptors[name].to_numpy())
        ds[name].attrs["units"] = DESCRIPTOR_UNITS[name]
    ds["transformation_temperature_k"] = ("alloy", target)
    ds["transformation_temperature_k"].attrs["units"] = "K"
    ds.attrs.update(
        description="Virtual alloys with a known linear law (mi_workbench.data.virtual_alloys)",
        true_law=str(law),
        noise_sd_k=noise_sd_k,
        random_seed=random_seed,
    )
    return ds


def confounded_annealing(
    n_samples: int = 60,
    intervene_on_oxide: bool = False,
    noise_sd_hv: float = 6.0,
    random_seed: int = 0,
) -> xr.Dataset:
    """Annealed steel coupons: a worked example of correlation without causation.

    In this virtual process the furnace temperature (the confounder) causes both a thicker
    surface oxide and a softer coupon (recovery and grain growth). The oxide itself has **no**
    effect on the bulk hardness. A regression of hardness on oxide thickness alone therefore finds
    a strong, useless "law". With ``intervene_on_oxide=True`` the oxide thickness is set by hand
    (e.g. polished or coated) independently of the furnace, as in a designed experiment, and the
    correlation disappears.

    Returns
    -------
    xarray.Dataset
        Over dim ``sample``: ``furnace_temperature_k``, ``oxide_thickness_nm``, ``hardness_hv``.
    """
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    noise_sd_hv = check_positive("noise_sd_hv", noise_sd_hv)
    rng = np.random.default_rng(check_seed("random_seed", random_seed))
    temperature = rng.uniform(820.0, 1020.0, n_samples)
    if intervene_on_oxide:
        oxide = rng.uniform(20.0, 220.0, n_samples)
    else:
        oxide = 20.0 + 1.0 * (temperature - 820.0) + rng.normal(0.0, 12.0, n_samples)
    hardness = 260.0 - 0.45 * (temperature - 820.0) + rng.normal(0.0, noise_sd_hv, n_samples)
    ds = xr.Dataset(
        {
            "furnace_temperature_k": ("sample", temperature, {"units": "K"}),
            "oxide_thickness_nm": ("sample", oxide, {"units": "nm"}),
            "hardness_hv": ("sample", hardness, {"units": "HV"}),
        },
        coords={"sample": np.arange(n_samples)},
    )
    ds.attrs.update(
        description=(
            "Virtual annealing: temperature causes oxide and softening; oxide causes nothing"
        ),
        true_hardness_slope_per_k=-0.45,
        true_oxide_effect=0.0,
        intervene_on_oxide=int(intervene_on_oxide),
        random_seed=random_seed,
    )
    return ds


def noisy_line(
    n_points: int = 20,
    slope: float = 2.0,
    intercept: float = 1.0,
    noise_sd: float = 0.5,
    random_seed: int = 0,
) -> xr.Dataset:
    """The smallest regression problem: y = intercept + slope * x + noise, x in [0, 1].

    Used by lesson 02 to compare samplers on a posterior whose exact answer is known.
    """
    n_points = check_positive_int("n_points", n_points, minimum=2)
    slope = check_finite_number("slope", slope)
    intercept = check_finite_number("intercept", intercept)
    noise_sd = check_positive("noise_sd", noise_sd)
    rng = np.random.default_rng(check_seed("random_seed", random_seed))
    x = np.sort(rng.uniform(0.0, 1.0, n_points))
    y = intercept + slope * x + rng.normal(0.0, noise_sd, n_points)
    ds = xr.Dataset({"x": ("obs", x), "y": ("obs", y)}, coords={"obs": np.arange(n_points)})
    ds.attrs.update(true_slope=slope, true_intercept=intercept, true_noise_sd=noise_sd)
    return ds
