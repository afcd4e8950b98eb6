"""A virtual shape-memory-alloy experiment: thermal hysteresis of Ti-Ni-Cu-Fe-Pd alloys.

This is a teaching model for the adaptive-design lessons, physically motivated but not fitted
to measurements. It maps a composition Ti(50+t) Ni Cu_x Fe_y Pd_z (at.%) to the thermal
hysteresis delta(T) in K of its martensitic transformation, the quantity Xue et al.
(Nat. Commun. 7, 11241 (2016)) minimised.

Physics behind it
-----------------
The geometrically nonlinear theory of martensite says a transformation is most reversible when
austenite and martensite share an undistorted plane, i.e. when the middle eigenvalue lambda2 of
the transformation stretch tensor equals 1. Cui et al. (Nat. Mater. 5, 286 (2006)) and
Zarnetta et al. (Adv. Funct. Mater. 20, 1917 (2010)) found the hysteresis of Ti-Ni-Cu(-Pd) films
falling steeply, roughly linearly in |1 - lambda2|, to a few K as lambda2 -> 1. The model:

1. lambda2 of the B2 -> B19/B19' martensite, a smooth function of composition: 0.9702 for
   equiatomic TiNi (B19'), raised by Cu (+0.0019 per at.%) and Pd (+0.00271 per at.%, reaching
   1 near Ti50Ni39Pd11 as Cui et al. report), slightly by Fe (+0.001 per at.%), with a
   Cu-Pd interaction (-0.00004 per at.%^2)::

       lambda2_M = 0.9702 + 0.0019 x + 0.001 y + 0.00271 z - 0.00004 x z

2. Fe (about 1-4 at.%) makes TiNi transform first to the rhombohedral R phase, whose lattice
   distortion is tiny (lambda2_R close to 1) and whose hysteresis is a few K; Cu and Pd suppress
   it in favour of B19. The R-phase weight and stretch are::

       w_R = sigmoid((y - 1.0) / 0.2) * sigmoid((5 - x - 1.5 z) / 0.8)
       lambda2_R = 1 - 0.0012 - 0.0006 (y - 2.3)^2 - 0.0005 (x - 0.8)^2 - 0.004 (z - 0.2)^2
                   - 0.002 t^2
       lambda2 = w_R lambda2_R + (1 - w_R) lambda2_M

3. The hysteresis grows with |1 - lambda2| (a V smoothed over delta = 0.002, slope
   1000 K per unit of lambda2) on top of a floor that rises with heavy alloying (solute
   pinning and precipitates: 0.02 K per at.%^2 of Cu and of Pd), with Fe beyond ~3.5 at.%
   (0.4 K * ramp((y - 3.5) / 0.5), with the smooth ramp(v) = (v + sqrt(v^2 + 1)) / 2) and off
   stoichiometry (2 K per (at.% Ti - 50)^2)::

       delta(T) = 1.2 + 0.02 (x^2 + z^2) + 0.4 ramp((y - 3.5) / 0.5) + 2 t^2
                  + 1000 (sqrt(0.002^2 + (1 - lambda2)^2) - 0.002)

On the Xue space (:data:`mi_workbench.design.XUE_BOUNDS`, 799,901 alloys) the noise-free
landscape spans 1.7-31.7 K (median 8.5 K): 28.9 K for equiatomic TiNi (Xue et al. measured
29.9 K), a global minimum of 1.69 K in the R-phase pocket at Ti50 Ni46.8 Cu0.6 Fe2.4 Pd0.2
(close to the best alloy Xue et al. found, Ti50.0Ni46.7Cu0.8Fe2.3Pd0.2 at 1.84 K), and a second,
separate valley of B19 alloys with lambda2 = 1 whose best point, 2.72 K at Ti50 Ni35.3 Cu4.7
Fe3.0 Pd7.0, is about 1 K worse. The coefficients were set by hand from the trends above, not
fitted; on the 22 alloys Xue et al. measured first, the model's values correlate with the
measurements (Pearson 0.81, Spearman 0.69). Measurements add Gaussian noise (default sd 0.5 K)
and are floored at 0.1 K. Inputs outside :data:`HYSTERESIS_DOMAIN` raise instead of being
extrapolated.

The formulas in ``_lambda2_core`` and ``_hysteresis_core`` use only arithmetic, ``exp`` and
``sqrt`` of :func:`mi_workbench.physics.lineshapes.array_namespace`, so they evaluate NumPy
arrays and PyTensor tensors alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import (
    _short,
    check_composition_rows,
    check_finite_number,
    check_rng,
    check_seed,
)
from mi_workbench.physics.lineshapes import array_namespace

#: Elements the virtual hysteresis model knows (missing ones count as 0 at.%).
HYSTERESIS_ELEMENTS = ("Ti", "Ni", "Cu", "Fe", "Pd")

#: Composition range (at.%) where the model is defined; outside it the functions raise.
HYSTERESIS_DOMAIN = {
    "Ti": (45.0, 55.0),
    "Ni": (0.0, 55.0),
    "Cu": (0.0, 30.0),
    "Fe": (0.0, 10.0),
    "Pd": (0.0, 30.0),
}

_ELEMENT_SYMBOL = re.compile(r"^[A-Z][a-z]?$")
_SUM_TOLERANCE = 1e-3  # at.% per element

# lambda2 of the B19/B19' martensite
_LAMBDA2_TINI = 0.9702
_LAMBDA2_PER_CU, _LAMBDA2_PER_FE, _LAMBDA2_PER_PD = 0.0019, 0.0010, 0.00271
_LAMBDA2_CU_PD = -0.00004
# hysteresis
_SLOPE_K = 1000.0
_SMOOTHING = 0.002


def _sigmoid(value, ops):
    return 1.0 / (1.0 + ops.exp(-value))


def _smooth_ramp(value, ops):
    """0.5 (v + sqrt(v^2 + 1)): a smooth max(v, 0) (-> 0 for v << 0, -> v for v >> 0)."""
    return 0.5 * (value + ops.sqrt(value * value + 1.0))


def _lambda2_core(ti_excess, cu, fe, pd_, ops):
    lambda2_martensite = (
        _LAMBDA2_TINI
        + _LAMBDA2_PER_CU * cu
        + _LAMBDA2_PER_FE * fe
        + _LAMBDA2_PER_PD * pd_
        + _LAMBDA2_CU_PD * cu * pd_
    )
    weight_r = _sigmoid((fe - 1.0) / 0.2, ops) * _sigmoid((5.0 - cu - 1.5 * pd_) / 0.8, ops)
    lambda2_r = (
        1.0
        - 0.0012
        - 0.0006 * (fe - 2.3) ** 2
        - 0.0005 * (cu - 0.8) ** 2
        - 0.004 * (pd_ - 0.2) ** 2
        - 0.002 * ti_excess**2
    )
    return weight_r * lambda2_r + (1.0 - weight_r) * lambda2_martensite


def _hysteresis_core(ti_excess, cu, fe, pd_, ops):
    lambda2_value = _lambda2_core(ti_excess, cu, fe, pd_, ops)
    misfit = 1.0 - lambda2_value
    floor = (
        1.2
        + 0.02 * (cu * cu + pd_ * pd_)
        + 0.4 * _smooth_ramp((fe - 3.5) / 0.5, ops)
        + 2.0 * ti_excess * ti_excess
    )
    return floor + _SLOPE_K * (ops.sqrt(_SMOOTHING**2 + misfit * misfit) - _SMOOTHING)


def _amounts(compositions: object, name: str = "compositions"):
    """Validated amounts (at.%) of Ti, Ni, Cu, Fe, Pd and a function that wraps results."""
    if isinstance(compositions, xr.Dataset):
        if "candidate" in compositions.dims:
            dim = "candidate"
        elif len(compositions.dims) == 1:
            dim = next(iter(compositions.dims))
        else:
            raise ValueError(
                f"{name} must be a Dataset over one dimension ('candidate'), got dims "
                f"{list(compositions.dims)}"
            )
        columns = {
            str(k): v
            for k, v in compositions.data_vars.items()
            if v.attrs.get("units") == "at.%" or _ELEMENT_SYMBOL.match(str(k))
        }
        arrays = {k: np.asarray(v.values, dtype=float) for k, v in columns.items()}
        labels = (
            compositions[dim].values
            if dim in compositions.coords
            else np.arange(compositions.sizes[dim])
        )
        coords = {dim: compositions[dim]} if dim in compositions.coords else {}

        def wrap(values, variable, units):
            return xr.DataArray(
                values, dims=dim, coords=coords, name=variable, attrs={"units": units}
            )

    elif isinstance(compositions, pd.DataFrame):
        columns = [c for c in compositions.columns if isinstance(c, str)]
        arrays = {
            c: compositions[c].to_numpy(dtype=float) for c in columns if _ELEMENT_SYMBOL.match(c)
        }
        labels = compositions.index.to_numpy()

        def wrap(values, variable, units):
            return pd.Series(values, index=compositions.index, name=variable)

    elif isinstance(compositions, Mapping):
        arrays = {}
        for key, value in compositions.items():
            try:
                arrays[str(key)] = np.atleast_1d(np.asarray(value, dtype=float))
            except (TypeError, ValueError):
                raise TypeError(
                    f"{name}[{key!r}] must contain numbers only, got {_short(value)}"
                ) from None
        lengths = {len(v) for v in arrays.values()}
        if len(lengths) > 1 or any(v.ndim != 1 for v in arrays.values()):
            raise ValueError(
                f"{name} must map element symbols to 1-D arrays of one length, got shapes "
                f"{ {k: v.shape for k, v in arrays.items()} }"
            )
        labels = np.arange(lengths.pop() if lengths else 0)

        def wrap(values, variable, units):
            return values

    else:
        raise TypeError(
            f"{name} must be an xarray.Dataset, a pandas.DataFrame or a mapping of element "
            f"symbol to amounts (at.%), got {type(compositions).__name__}"
        )
    unknown = [k for k in arrays if k not in HYSTERESIS_ELEMENTS]
    if unknown:
        raise ValueError(
            f"{name} contains element(s) {unknown} that the virtual hysteresis model does not "
            f"know; it models {list(HYSTERESIS_ELEMENTS)} (missing ones count as 0 at.%)"
        )
    for required in ("Ti", "Ni"):
        if required not in arrays:
            raise ValueError(
                f"{name} has no {required!r} amounts; give at least Ti and Ni (at.%), got "
                f"{sorted(arrays)}"
            )
    elements = list(arrays)
    table = np.stack([arrays[el] for el in elements], axis=1)
    if table.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    check_composition_rows(table, labels, elements, tolerance=_SUM_TOLERANCE, name=name)
    for el in elements:
        low, high = HYSTERESIS_DOMAIN[el]
        outside = (arrays[el] < low - 1e-6) | (arrays[el] > high + 1e-6)
        if outside.any():
            row = int(np.argmax(outside))
            raise ValueError(
                f"composition of candidate {labels[row]} has {arrays[el][row]:g} at.% {el}; "
                f"the virtual hysteresis model is defined for {low:g}-{high:g} at.% {el} "
                f"(domain {HYSTERESIS_DOMAIN})"
            )
    zeros = np.zeros(table.shape[0])
    get = {el: arrays.get(el, zeros) for el in HYSTERESIS_ELEMENTS}
    return (get["Ti"] - 50.0, get["Cu"], get["Fe"], get["Pd"]), wrap


def lambda2(compositions):
    """Middle eigenvalue lambda2 of the transformation stretch tensor in the virtual alloy.

    Parameters
    ----------
    compositions : xarray.Dataset, pandas.DataFrame or mapping
        Amounts in at.% of Ti and Ni and optionally Cu, Fe, Pd (missing ones are 0): Dataset
        variables over ``candidate`` (other variables are ignored unless their name looks like
        an element symbol), DataFrame columns, or a mapping of symbol to 1-D arrays. Every row
        must sum to 100 at.% and lie in :data:`HYSTERESIS_DOMAIN`.

    Returns
    -------
    xarray.DataArray, pandas.Series or numpy.ndarray
        lambda2 (dimensionless) per composition, labelled like the input.

    Examples
    --------
    >>> round(float(lambda2({"Ti": [50.0], "Ni": [50.0]})[0]), 3)
    0.97
    """
    (ti_excess, cu, fe, pd_), wrap = _amounts(compositions)
    values = _lambda2_core(ti_excess, cu, fe, pd_, array_namespace(cu))
    return wrap(values, "lambda2", "1")


def thermal_hysteresis_k(compositions, noise_sd_k: float = 0.5, rng=None):
    """Thermal hysteresis delta(T) in K of the virtual Ti-Ni-Cu-Fe-Pd alloy (module docstring).

    Parameters
    ----------
    compositions : xarray.Dataset, pandas.DataFrame or mapping
        As in :func:`lambda2`.
    noise_sd_k : float
        Standard deviation of the Gaussian measurement noise in K (0 for the noise-free
        landscape). Measured values are floored at 0.1 K.
    rng : numpy.random.Generator or int, optional
        Source of the noise (required to be explicit for reproducible campaigns; ``None`` uses
        a fresh unseeded generator). Not used when ``noise_sd_k == 0``.

    Returns
    -------
    xarray.DataArray, pandas.Series or numpy.ndarray
        delta(T) in K per composition, labelled like the input.

    Examples
    --------
    >>> round(float(thermal_hysteresis_k({"Ti": [50.0], "Ni": [50.0]}, noise_sd_k=0)[0]), 1)
    28.9
    """
    noise_sd_k = check_finite_number("noise_sd_k", noise_sd_k)
    if noise_sd_k < 0:
        raise ValueError(f"noise_sd_k must be >= 0 K, got {noise_sd_k!r}")
    generator = check_rng("rng", rng)
    (ti_excess, cu, fe, pd_), wrap = _amounts(compositions)
    values = _hysteresis_core(ti_excess, cu, fe, pd_, array_namespace(cu))
    if noise_sd_k > 0:
        values = np.maximum(values + generator.normal(0.0, noise_sd_k, size=values.shape), 0.1)
    return wrap(values, "thermal_hysteresis_k", "K")


class VirtualHysteresisExperiment:
    """A seeded oracle that "measures" the thermal hysteresis of alloys for design campaigns.

    Each call draws fresh measurement noise from a generator seeded by ``(random_seed,
    call number)``, so a campaign replayed from the start gets the same measurements, and the
    same alloy measured twice gives two replicates that differ by the noise.

    Parameters
    ----------
    noise_sd_k : float
        Measurement noise in K (default 0.5).
    random_seed : int
        Seed of the noise.

    Attributes
    ----------
    n_calls, n_measurements : int
        Calls made and alloys measured so far.

    Examples
    --------
    >>> oracle = VirtualHysteresisExperiment(noise_sd_k=0.5, random_seed=1)
    >>> values = oracle({"Ti": [50.0, 50.0], "Ni": [46.7, 50.0], "Cu": [0.8, 0.0],
    ...                  "Fe": [2.3, 0.0], "Pd": [0.2, 0.0]})
    >>> values.shape
    (2,)
    """

    objective = "minimize"
    units = "K"

    def __init__(self, noise_sd_k: float = 0.5, random_seed: int = 0):
        noise_sd_k = check_finite_number("noise_sd_k", noise_sd_k)
        if noise_sd_k < 0:
            raise ValueError(f"noise_sd_k must be >= 0 K, got {noise_sd_k!r}")
        if random_seed is None:
            raise TypeError("random_seed must be an integer >= 0, got None")
        self.noise_sd_k = noise_sd_k
        self.random_seed = check_seed("random_seed", random_seed)
        self.n_calls = 0
        self.n_measurements = 0

    def __repr__(self) -> str:
        return (
            f"VirtualHysteresisExperiment(noise_sd_k={self.noise_sd_k}, "
            f"random_seed={self.random_seed})"
        )

    def __call__(self, rows) -> np.ndarray:
        """Measured delta(T) in K of ``rows`` (Dataset, DataFrame or mapping), as a NumPy array."""
        rng = np.random.default_rng([self.random_seed, self.n_calls])
        values = thermal_hysteresis_k(rows, noise_sd_k=self.noise_sd_k, rng=rng)
        values = np.asarray(values, dtype=float)
        self.n_calls += 1
        self.n_measurements += len(values)
        return values

    def true_value(self, rows) -> np.ndarray:
        """The noise-free delta(T) in K of ``rows`` (for scoring campaigns, not for measuring)."""
        return np.asarray(thermal_hysteresis_k(rows, noise_sd_k=0.0), dtype=float)
