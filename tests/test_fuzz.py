"""Fuzz every public callable of the package with one bad argument at a time.

Each entry of ``FUZZ`` gives a valid baseline call of one public callable and the kind of each
argument to mutate. Every mutation of one argument (``None``, a string where a number belongs,
NaN, infinity, an empty array, a wrong shape, a negative scale, 1e200, ...) must end either

- in a ``ValueError`` or ``TypeError`` whose message names the argument, or
- (only where marked as documented, and for 1e200) in a result without NaN or infinity.

``test_every_public_callable_is_fuzzed`` fails when a callable exported by a subpackage's
``__all__`` has no entry here and no reasoned exemption, so a new public function cannot escape.
Nothing here samples or compiles a model: callables that would are fuzzed on arguments checked
before any compilation, or are exempt with the reason.
"""

# ruff: noqa: E501  (the table of known failures has long case ids)
from __future__ import annotations

import functools
import importlib
import inspect
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import xarray as xr

SUBPACKAGES = ("data", "physics", "models", "inference", "plots", "widgets", "design", "molecules")
HUGE = 1e200

# ---------------------------------------------------------------------------------------------
# mutations by kind of argument
# ---------------------------------------------------------------------------------------------
_SENTINEL = object()


def _as_array(value):
    return np.array(value, dtype=float)


def _with(value, fill):
    array = _as_array(value).copy()
    array.flat[0] = fill
    return array


def _ndim(value):
    array = _as_array(value)
    return np.stack([array, array]) if array.ndim == 1 else array[None]


# each mutation: name -> function of the baseline value (or a constant)
MUTATIONS: dict[str, dict[str, Callable[[object], object]]] = {
    "count": {
        "none": lambda v: None,
        "text": lambda v: "many",
        "fraction": lambda v: 2.5,
        "negative": lambda v: -1,
    },
    "seed": {"text": lambda v: "seed", "fraction": lambda v: 2.5, "negative": lambda v: -1},
    "scale": {
        "none": lambda v: None,
        "text": lambda v: "wide",
        "nan": lambda v: math.nan,
        "inf": lambda v: math.inf,
        "negative": lambda v: -1.0,
        "huge": lambda v: HUGE,
    },
    "real": {
        "none": lambda v: None,
        "text": lambda v: "value",
        "nan": lambda v: math.nan,
        "inf": lambda v: math.inf,
        "huge": lambda v: HUGE,
    },
    "prob": {
        "none": lambda v: None,
        "text": lambda v: "half",
        "nan": lambda v: math.nan,
        "negative": lambda v: -0.5,
        "above_one": lambda v: 1.5,
    },
    "choice": {
        "none": lambda v: None,
        "number": lambda v: 7,
        "unknown": lambda v: "no-such-choice",
    },
    "text": {"none": lambda v: None, "number": lambda v: 7},
    "array": {
        "none": lambda v: None,
        "text": lambda v: "numbers",
        "nan": lambda v: _with(v, math.nan),
        "inf": lambda v: _with(v, math.inf),
        "empty": lambda v: np.array([]),
        "ndim": _ndim,
        "huge": lambda v: _as_array(v) * 0 + HUGE,
    },
    "table": {"none": lambda v: None, "text": lambda v: "table", "number": lambda v: 7},
    "callable": {"none": lambda v: None, "text": lambda v: "function"},
    "mapping": {"text": lambda v: "mapping", "number": lambda v: 7},
    "sequence": {"none": lambda v: None, "number": lambda v: 7},
}
# a 1e200 input may give a finite result instead of an error
MAY_SUCCEED = {"huge"}


@dataclass
class Fuzz:
    """Fuzz cases of one public callable.

    ``baseline`` returns valid keyword arguments; ``params`` maps the arguments to mutate to
    their kind in ``MUTATIONS``. ``call(target, kwargs)`` replaces the plain call (for methods).
    ``names`` gives the text that must appear in an error when it is not the argument's name;
    ``accept`` maps ``(param, mutation)`` to the reason a finite result is the documented
    outcome; ``skip`` maps ``(param, mutation)`` to why the mutation does not apply; ``xfail``
    maps ``(param, mutation)`` or ``param`` to the branch that fixes it.
    """

    baseline: Callable[[], dict]
    params: dict[str, str]
    call: Callable | None = None
    names: dict[str, str] = field(default_factory=dict)
    accept: dict[tuple[str, str], str] = field(default_factory=dict)
    skip: dict[tuple[str, str], str] = field(default_factory=dict)
    xfail: dict = field(default_factory=dict)
    extra: dict[str, tuple[str, object]] = field(default_factory=dict)
    documented_nan: str = ""
    guard: bool = False


# ---------------------------------------------------------------------------------------------
# cheap shared inputs (built once, on first use)
# ---------------------------------------------------------------------------------------------
@functools.cache
def regression_arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 2))
    y = X @ np.array([1.0, -0.5]) + 0.1 * rng.normal(size=8)
    return X, y


def regression_table() -> pd.DataFrame:
    X, y = regression_arrays()
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})


@functools.cache
def tiny_model():
    from mi_workbench.models import bayesian_linear_regression

    X, y = regression_arrays()
    return bayesian_linear_regression(X, y, feature_names=["a", "b"])


def regression_idata() -> xr.DataTree:
    rng = np.random.default_rng(1)
    posterior = xr.Dataset(
        {
            "intercept": (("chain", "draw"), rng.normal(size=(2, 20))),
            "coefficients": (("chain", "draw", "feature"), rng.normal(size=(2, 20, 2))),
            "noise_sd": (("chain", "draw"), rng.uniform(0.5, 1.0, size=(2, 20))),
        },
        coords={"chain": [0, 1], "draw": np.arange(20), "feature": ["a", "b"]},
        attrs={"sampling_time": 1.0},
    )
    return xr.DataTree.from_dict({"posterior": posterior})


@functools.cache
def _peak_spectrum():
    from mi_workbench.data import synthetic_peak_spectrum

    return synthetic_peak_spectrum(n_peaks=1, energy_ev=np.linspace(1.0, 3.0, 40))


def peak_spectrum():
    return _peak_spectrum().copy()


@functools.cache
def _cu2o_spectrum():
    from mi_workbench.data import synthetic_cu2o_spectrum

    return synthetic_cu2o_spectrum()


def cu2o_spectrum():
    return _cu2o_spectrum().copy()


@functools.cache
def _alloy_space():
    from mi_workbench.design import composition_grid

    return composition_grid(
        ("Ti", "Ni", "Cu"), bounds={"Ti": (45.0, 55.0), "Cu": (0.0, 10.0)}, balance="Ni", step=5.0
    )


def alloy_space():
    return _alloy_space().copy()


@functools.cache
def _fitted_surrogate():
    from mi_workbench.design import make_surrogate

    X, y = regression_arrays()
    return make_surrogate("gp", n_restarts=1).fit(X, y)


def mean_sd():
    return {"mean": np.array([0.0, 1.0, 2.0]), "sd": np.array([1.0, 0.5, 0.2])}


def pool_order():
    return {"pool_values": np.arange(20.0), "order": np.arange(20)[::-1].copy()}


@functools.cache
def _fidelity_arrays():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 2))
    y_high = X[:, 0] + 0.1 * rng.normal(size=30)
    return X, 0.9 * y_high + 0.2, y_high


def fidelity_arrays():
    X, y_low, y_high = _fidelity_arrays()
    return {"X": X.copy(), "y_low": y_low.copy(), "y_high": y_high.copy()}


def costs():
    from mi_workbench.design import FidelityCosts

    return FidelityCosts(low_s=1.0, high_s=100.0, n_low=30, n_high=30)


def molecule_table() -> pd.DataFrame:
    return pd.DataFrame(
        {"smiles": ["CCO", "c1ccccc1"], "homo_lumo_gap": [5.0, 4.0], "total_energy": [-1.0, -2.0]}
    )


# ---------------------------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------------------------
_INVALID_SMILES = (
    'documented: an unparsable SMILES gives a failure record (ok=False, reason "invalid SMILES"),'
    " so that a batch goes on"
)
FUZZ: dict[str, Fuzz] = {}


def add(target: str, baseline, params: Mapping[str, str] | None = None, **options) -> None:
    """Register the cases of ``target`` ("subpackage.Name" or "subpackage.Class.method")."""
    make = baseline if callable(baseline) else (lambda: {k: _copy(v) for k, v in baseline.items()})
    FUZZ[target] = Fuzz(make, dict(params or {}), **options)


def _copy(value):
    if isinstance(value, (np.ndarray, pd.DataFrame, pd.Series, xr.Dataset, list, dict)):
        return value.copy()
    return value


@functools.cache
def _data_files():
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="mi-fuzz-"))
    spectrum = folder / "spectrum.csv"
    pd.DataFrame({"energy (eV)": [1.0, 2.0, 3.0], "absorbance": [0.1, 0.3, 0.2]}).to_csv(
        spectrum, index=False
    )
    return folder, spectrum


def data_folder():
    return _data_files()[0]


def spectrum_file():
    return _data_files()[1]


# ---- data ------------------------------------------------------------------------------------
add(
    "data.as_regression_data",
    lambda: {"data": regression_table(), "features": ["a", "b"], "target": "y"},
    {"data": "table", "features": "choice", "target": "choice"},
)
add(
    "data.check_xy",
    lambda: dict(zip(("X", "y"), regression_arrays(), strict=True)),
    {"X": "array", "y": "array"},
)
add(
    "data.composition_descriptors",
    lambda: {"compositions": pd.DataFrame({"Ti": [50.0, 40.0], "Ni": [50.0, 60.0]})},
    {"compositions": "table"},
    extra={
        "nan": ("compositions", lambda: pd.DataFrame({"Ti": [np.nan, 40.0], "Ni": [50.0, 60.0]}))
    },
)
add(
    "data.confounded_annealing",
    {"n_samples": 10},
    {"n_samples": "count", "noise_sd_hv": "scale", "random_seed": "seed"},
)
add(
    "data.interface_lattice_table",
    {"n_sites": 8},
    {"n_sites": "count", "random_seed": "seed", "field_sd": "scale"},
)
add(
    "data.load_molecules_xtb_dft",
    {},
    {"subset": "choice", "path": "text"},
    skip={("path", "none"): "None is the documented default (the packaged file)"},
    documented_nan="NaN marks the molecules whose DFT calculation failed (documented)",
)
add(
    "data.noisy_line",
    {"n_points": 5},
    {
        "n_points": "count",
        "slope": "real",
        "intercept": "real",
        "noise_sd": "scale",
        "random_seed": "seed",
    },
)
add(
    "data.random_compositions",
    lambda: {"elements": ["Ti", "Ni"], "n_alloys": 3, "rng": np.random.default_rng(0)},
    {"elements": "sequence", "n_alloys": "count", "rng": "text", "concentration": "scale"},
    accept={("rng", "number"): "documented: an integer rng is a seed"},
)
add(
    "data.read_spectrum",
    lambda: {"path": spectrum_file()},
    {"path": "text", "x": "choice", "y": "choice"},
    skip={
        ("x", "none"): "None is the documented default (the first column)",
        ("y", "none"): "None is the documented default (the other columns)",
    },
)
add(
    "data.read_table",
    lambda: {"path": spectrum_file()},
    {"path": "text", "sheet": "text"},
    skip={("sheet", "none"): "None is the documented default"},
)
add("data.silicon_raman_spectra", {})
add(
    "data.silicon_raman_spectrum",
    {},
    {"name": "choice", "window": "sequence"},
    accept={("window", "none"): "documented: None gives the whole measured range"},
)
add(
    "data.synthetic_cu2o_spectrum",
    {"energy_ev": np.linspace(2.1, 2.2, 30)},
    {
        "energy_ev": "array",
        "noise_sd": "scale",
        "random_seed": "seed",
        "preset": "choice",
        "n_max": "count",
    },
    accept={
        ("energy_ev", "none"): "documented: None gives the default energy grid",
        ("noise_sd", "none"): "documented: None gives the preset's noise",
    },
)
add(
    "data.synthetic_peak_spectrum",
    {"n_peaks": 2, "energy_ev": np.linspace(1.0, 3.0, 30)},
    {
        "n_peaks": "count",
        "line_shape": "choice",
        "peak_height_to_noise": "scale",
        "random_seed": "seed",
        "energy_ev": "array",
        "background": "real",
    },
    accept={("energy_ev", "none"): "documented: None gives the default energy grid"},
)
add(
    "data.virtual_alloys",
    {"n_alloys": 4},
    {"n_alloys": "count", "elements": "sequence", "noise_sd_k": "scale", "random_seed": "seed"},
)
add(
    "data.write_csv",
    lambda: {"table": regression_table(), "path": data_folder() / "out.csv"},
    {"table": "table", "path": "text"},
)

# ---- physics ---------------------------------------------------------------------------------
add(
    "physics.VirtualHysteresisExperiment",
    {},
    {"noise_sd_k": "scale", "random_seed": "seed"},
)
add(
    "physics.lambda2",
    {"compositions": {"Ti": [50.0, 51.0], "Ni": [50.0, 49.0]}},
    {"compositions": "table"},
    extra={"nan": ("compositions", {"Ti": [np.nan, 51.0], "Ni": [50.0, 49.0]})},
)
add(
    "physics.thermal_hysteresis_k",
    lambda: {"compositions": {"Ti": [50.0, 51.0], "Ni": [50.0, 49.0]}},
    {"compositions": "table", "noise_sd_k": "scale", "rng": "text"},
    accept={
        ("rng", "none"): "documented: None draws with a fresh generator",
        ("rng", "number"): "documented: an integer rng is a seed",
    },
    extra={"nan": ("compositions", {"Ti": [np.nan, 51.0], "Ni": [50.0, 49.0]})},
)
add(
    "physics.check_energy_grid",
    {"name": "energy_ev", "energy_ev": np.linspace(1.0, 2.0, 5)},
    {"energy_ev": "array"},
)
_CU2O = {
    "energy_ev": np.linspace(2.1, 2.2, 20),
    "Eg": 2.17,
    "Ry": 0.09,
    "f0": 1.0,
    "gamma": 0.001,
    "sigma_inh": 0.001,
    "asym": 0.0,
    "f_c": 0.5,
    "f_b": 0.1,
}
_CU2O_PARAMS = {
    "energy_ev": "array",
    "Eg": "real",
    "Ry": "scale",
    "f0": "scale",
    "gamma": "scale",
    "sigma_inh": "scale",
    "asym": "real",
    "f_c": "scale",
    "f_b": "real",
    "n_max": "count",
}
add("physics.cu2o_absorption", _CU2O, _CU2O_PARAMS)
add("physics.cu2o_absorption_components", _CU2O, _CU2O_PARAMS)
add("physics.elliott_continuum_strength", {"f0": 1.0, "Ry": 0.09}, {"f0": "scale", "Ry": "scale"})
add(
    "physics.faddeeva",
    {"x": np.linspace(-2.0, 2.0, 5), "y": 0.5},
    {"x": "array", "y": "scale", "n_terms": "count"},
    accept={("x", "ndim"): "documented: x and y of any shapes broadcast together"},
)
_LINE = {"energy": np.linspace(1.0, 3.0, 9), "center": 2.0}
_BROADCAST = "documented: energies of any shape broadcast against the centres, e.g. energy[:, None]"
_ENERGY_ANY_SHAPE = {("energy", "ndim"): _BROADCAST}
add(
    "physics.gaussian",
    {**_LINE, "sigma": 0.1},
    {"energy": "array", "center": "real", "sigma": "scale"},
    accept=dict(_ENERGY_ANY_SHAPE),
)
add(
    "physics.lorentzian",
    {**_LINE, "gamma": 0.1},
    {"energy": "array", "center": "real", "gamma": "scale"},
    accept=dict(_ENERGY_ANY_SHAPE),
)
for _name in ("voigt", "voigt_complex"):
    add(
        f"physics.{_name}",
        {**_LINE, "sigma": 0.1, "gamma": 0.1},
        {"energy": "array", "center": "real", "sigma": "scale", "gamma": "scale"},
        accept=dict(_ENERGY_ANY_SHAPE),
    )
add(
    "physics.peak_profile",
    {**_LINE, "width": 0.1},
    {"energy": "array", "center": "real", "width": "scale", "line_shape": "choice"},
    accept=dict(_ENERGY_ANY_SHAPE),
)
add(
    "physics.line_energies",
    {"Eg": 2.17, "Ry": 0.09, "n": np.arange(2, 6)},
    {"Eg": "real", "Ry": "scale", "n": "array"},
)
add("physics.line_strengths", {"n": np.arange(2, 6)}, {"n": "array", "f0": "scale"})


# ---- models ----------------------------------------------------------------------------------
def _structure():
    from mi_workbench.models import inspect_model

    return inspect_model(tiny_model())


def _fresh_model():
    from mi_workbench.models import bayesian_linear_regression

    X, y = regression_arrays()
    return bayesian_linear_regression(X, y, feature_names=["a", "b"])


add(
    "models.PriorPredictive",
    lambda: {"structure": _structure(), "n_draws": 5, "n_grid": 5},
    {
        "structure": "table",
        "n_draws": "count",
        "random_seed": "seed",
        "n_grid": "count",
        "x": "mapping",
    },
)
add(
    "models.elicit",
    {"family": "normal", "lower": 0.0, "upper": 1.0},
    {"family": "choice", "lower": "real", "upper": "real", "mass": "prob"},
)
add("models.families_for_support", {"support": (0.0, math.inf)}, {"support": "sequence"})
add(
    "models.inspect_model",
    lambda: {"model": tiny_model()},
    {"model": "table", "fixed": "sequence", "observed": "sequence"},
    skip={("observed", "none"): "None is the documented default (all observed variables)"},
)
add(
    "models.model_with_priors",
    lambda: {
        "model": tiny_model(),
        "priors": {"noise_std": {"family": "halfnormal", "sigma": 1.0}},
    },
    {"model": "table", "priors": "mapping", "fixed": "sequence"},
)
add(
    "models.priors_code",
    lambda: {"structure": _structure()},
    {"structure": "table", "priors": "mapping"},
)
add(
    "models.ConjugateLinearRegression",
    {},
    {"alpha": "scale", "beta": "scale", "max_iter": "count", "tol": "scale"},
    accept={
        ("alpha", "none"): "documented: None estimates alpha from the data",
        ("beta", "none"): "documented: None estimates beta from the data",
    },
)
add(
    "models.ConjugateLinearRegression.fit",
    lambda: dict(zip(("X", "y"), regression_arrays(), strict=True)),
    {"X": "array", "y": "array"},
    call=lambda target, kwargs: target().fit(kwargs["X"], kwargs["y"]),
)
add(
    "models.Prior",
    {"family": "normal", "mu": 0.0, "sigma": 1.0},
    {"family": "choice", "mu": "real", "sigma": "scale"},
    call=lambda target, kwargs: target(kwargs.pop("family"), **kwargs),
)


def _fidelity_kwargs():
    X, y_low, y_high = _fidelity_arrays()
    return {"X_low": X[:20], "y_low": y_low[:20], "X_high": X[20:], "y_high": y_high[20:]}


_FIDELITY_PARAMS = {"X_low": "array", "y_low": "array", "X_high": "array", "y_high": "array"}
add(
    "models.ar1_multifidelity_gp",
    _fidelity_kwargs,
    {**_FIDELITY_PARAMS, "kernel": "choice", "boundary_factor": "scale", "n_basis": "count"},
    skip={("n_basis", "none"): "None is the documented default"},
)
add(
    "models.as_prior",
    {"name": "sigma", "value": {"family": "halfnormal", "sigma": 1.0}},
    {"name": "text", "value": "mapping"},
)
add(
    "models.bayesian_linear_regression",
    lambda: dict(zip(("X", "y"), regression_arrays(), strict=True)),
    {"X": "array", "y": "array", "target_name": "text", "priors": "mapping"},
)
add("models.check_fidelity_data", _fidelity_kwargs, _FIDELITY_PARAMS)
add("models.default_regression_priors", {})
add("models.exciton_priors", {}, {"priors": "mapping"})
add(
    "models.exciton_spectrum_model",
    lambda: {"ds": cu2o_spectrum(), "n_max": 3},
    {"ds": "table", "n_max": "count", "priors": "mapping", "variable": "choice"},
    skip={("variable", "none"): "None is the documented default (the only data variable)"},
)
add(
    "models.grid_design",
    lambda: {"X": regression_arrays()[0], "x_grid": np.linspace(-1.0, 1.0, 4)},
    {"X": "array", "x_grid": "array", "feature_index": "count"},
)
add(
    "models.hierarchical_multitask",
    lambda: {
        "X": regression_arrays()[0],
        "y": regression_arrays()[1],
        "task": ["a", "b"] * 4,
    },
    {"X": "array", "y": "array", "task": "sequence", "pooling": "choice"},
)
add(
    "models.hsgp_basis",
    {"X_centered": np.linspace(-1.0, 1.0, 5)[:, None], "L": np.array([2.0]), "m": [4]},
    {"X_centered": "array", "L": "array", "m": "sequence"},
)
add(
    "models.peak_model",
    lambda: {"ds": peak_spectrum(), "n_peaks": 1},
    {"ds": "table", "n_peaks": "count", "line_shape": "choice", "variable": "choice"},
    skip={("variable", "none"): "None is the documented default (the only data variable)"},
)
add(
    "models.posterior_predictive_lines",
    lambda: {"idata": regression_idata(), "X_new": np.zeros((3, 2))},
    {"idata": "table", "X_new": "array", "max_draws": "count", "random_seed": "seed"},
    accept={("max_draws", "none"): "documented: None uses every draw"},
)
add(
    "models.predict_ar1_multifidelity",
    lambda: {"idata": regression_idata(), "model": tiny_model(), "X_new": np.zeros((3, 2))},
    {"idata": "table", "model": "table"},
    skip={
        (
            "baseline",
            "run",
        ): "needs a fit of ar1_multifidelity_gp: see tests/test_transfer_models.py"
    },
)
add(
    "models.predict_multitask",
    lambda: {"idata": regression_idata(), "X_new": np.zeros((3, 2)), "task_new": ["a"] * 3},
    {"idata": "table"},
    skip={("baseline", "run"): "needs a fit of hierarchical_multitask: see tests/test_models.py"},
)
add(
    "models.prior_predictive_lines",
    lambda: {
        "priors": None,
        "X": regression_arrays()[0],
        "y": regression_arrays()[1],
        "x_grid": np.linspace(-1.0, 1.0, 5),
        "n_draws": 5,
    },
    {
        "priors": "mapping",
        "X": "array",
        "y": "array",
        "x_grid": "array",
        "feature_index": "count",
        "n_draws": "count",
        "random_seed": "seed",
    },
)
add("models.regression_priors", {}, {"priors": "mapping"})
add(
    "models.set_regression_data",
    lambda: {
        "model": _fresh_model(),
        "X": regression_arrays()[0][:5],
        "y": regression_arrays()[1][:5],
    },
    {"model": "table", "X": "array", "y": "array"},
)


def _fresh_peak_model():
    from mi_workbench.models import exciton_spectrum_model

    return exciton_spectrum_model(cu2o_spectrum(), n_max=3)


add(
    "models.set_spectrum_data",
    lambda: {"model": _fresh_peak_model(), "ds": cu2o_spectrum()},
    {"model": "table", "ds": "table"},
)

# ---- inference -------------------------------------------------------------------------------
_NO_COMPILE = "a valid call compiles and samples a model: only the checks before compiling run"
add(
    "inference.compiled_nutpie_model",
    lambda: {"model": tiny_model()},
    {"model": "table"},
    skip={("baseline", "run"): _NO_COMPILE},
    guard=True,
)
add(
    "inference.diagnose",
    lambda: {"idata": regression_idata()},
    {
        "idata": "table",
        "var_names": "sequence",
        "rhat_max": "scale",
        "ess_min": "scale",
        "hdi_prob": "prob",
    },
    skip={("var_names", "none"): "None is the documented default (all variables)"},
)
add(
    "inference.ess_per_second",
    lambda: {"idata": regression_idata()},
    {"idata": "table", "var_names": "sequence"},
    skip={("var_names", "none"): "None is the documented default (all variables)"},
)
add(
    "inference.evidence",
    lambda: {"model": tiny_model()},
    {
        "model": "table",
        "method": "choice",
        "draws": "count",
        "chains": "count",
        "random_seed": "seed",
        "n_temperatures": "count",
        "beta_min": "prob",
        "estimator": "choice",
        "moves": "choice",
    },
    skip={("baseline", "run"): _NO_COMPILE, ("draws", "none"): "None is the documented default"},
    guard=True,
)
add(
    "inference.fit",
    lambda: {"model": tiny_model()},
    {
        "model": "table",
        "draws": "count",
        "tune": "count",
        "chains": "count",
        "random_seed": "seed",
        "target_accept": "prob",
    },
    skip={("baseline", "run"): _NO_COMPILE},
    guard=True,
)
add("inference.in_notebook", {})
add(
    "inference.metropolis",
    lambda: {"model": tiny_model()},
    {
        "model": "table",
        "draws": "count",
        "tune": "count",
        "chains": "count",
        "random_seed": "seed",
        "initial_scale": "scale",
        "adapt": "choice",
        "jitter": "scale",
    },
    skip={("baseline", "run"): _NO_COMPILE},
    guard=True,
)
add(
    "inference.model_density",
    lambda: {"model": tiny_model()},
    {"model": "table"},
    skip={("baseline", "run"): _NO_COMPILE},
    guard=True,
)
add(
    "inference.select_model",
    lambda: {"models": {"a": tiny_model()}},
    {"models": "mapping", "method": "choice", "random_seed": "seed"},
    skip={("baseline", "run"): _NO_COMPILE},
    guard=True,
)
add(
    "inference.temperature_ladder",
    {"n_temperatures": 4, "beta_min": 1e-3},
    {"n_temperatures": "count", "beta_min": "prob"},
)


# ---- plots -----------------------------------------------------------------------------------
def prior_dict():
    from mi_workbench.models import Prior

    return {"sigma": Prior("halfnormal", sigma=1.0), "mu": Prior("normal", mu=0.0, sigma=1.0)}


def campaign_history() -> xr.Dataset:
    n = 6
    return xr.Dataset(
        {
            "value": ("observation", np.linspace(3.0, 1.0, n)),
            "iteration": ("observation", [0, 0, 0, 1, 1, 2]),
            "predicted_mean": ("observation", [np.nan] * 3 + [1.5, 1.2, 1.1]),
            "predicted_sd": ("observation", [np.nan] * 3 + [0.5, 0.4, 0.3]),
            "candidate": ("observation", [f"c{i}" for i in range(n)]),
            "Cu": ("observation", np.linspace(0.0, 5.0, n)),
            "Pd": ("observation", np.linspace(5.0, 0.0, n)),
        },
        attrs={"objective": "minimize"},
    )


def landscape() -> xr.Dataset:
    cu, pd_ = np.meshgrid(np.arange(3.0), np.arange(3.0))
    return xr.Dataset(
        {
            "Cu": ("candidate", cu.ravel()),
            "Pd": ("candidate", pd_.ravel()),
            "acquisition": ("candidate", np.linspace(0.0, 1.0, 9)),
        },
        attrs={"x": "Cu", "y": "Pd"},
    )


_CU2O_NAMES = ("Eg", "Ry", "f0", "gamma", "sigma_inh", "asym", "f_c", "f_b", "noise_sd")


def cu2o_idata(shift: float = 0.0) -> xr.DataTree:
    rng = np.random.default_rng(3)
    values = (2.17 + shift, 0.09, 1.0, 1e-3, 1e-3, 0.0, 0.5, 0.1, 0.01)
    centre = dict(zip(_CU2O_NAMES, values, strict=True))
    posterior = xr.Dataset(
        {
            k: (("chain", "draw"), v * (1 + 0.01 * rng.normal(size=(2, 20))))
            for k, v in centre.items()
        },
        coords={"chain": [0, 1], "draw": np.arange(20)},
    )
    return xr.DataTree.from_dict({"posterior": posterior})


# a likelihood undefined for some prior draws gives NaN draws: shown, counted in the title
NON_FINITE_DRAWS = {
    ("replicated", m): "draws with NaN or inf are left out and counted in the title"
    for m in ("nan", "inf")
}


def _grid_lines():
    x = np.linspace(0.0, 1.0, 5)
    return {"x_grid": x, "lines": np.tile(x, (3, 1)), "x_obs": x, "y_obs": x}


add(
    "plots.model_prior_predictive",
    lambda: {"x_obs": np.arange(4.0), "y_obs": np.arange(4.0), "replicated": np.ones((3, 4))},
    {
        "x_obs": "array",
        "y_obs": "array",
        "replicated": "array",
        "max_lines": "count",
        "kind": "choice",
    },
    accept=NON_FINITE_DRAWS,
)
add(
    "plots.predictive_histogram",
    lambda: {"y_obs": np.arange(4.0), "replicated": np.ones((3, 4))},
    {"y_obs": "array", "replicated": "array", "kind": "choice"},
    accept=NON_FINITE_DRAWS,
)
add(
    "plots.variable_priors",
    lambda: {"priors": prior_dict()},
    {"priors": "mapping", "draws": "mapping", "max_cols": "count"},
)
add(
    "plots.acquisition_slice",
    lambda: {"landscape": landscape()},
    {"landscape": "table", "observed": "table", "suggested": "table", "variable": "choice"},
)
add(
    "plots.best_so_far",
    lambda: {"history": campaign_history()},
    {"history": "table", "objective": "choice"},
    skip={("objective", "none"): "None is the documented default (the history's objective)"},
)
add("plots.predicted_vs_measured", lambda: {"history": campaign_history()}, {"history": "table"})
add(
    "plots.ess_comparison",
    {"table": pd.DataFrame({"A": [1.0, 2.0]}, index=["a", "b"])},
    {"table": "table"},
)
add(
    "plots.free_energy_plot",
    {"table": pd.DataFrame({"free_energy": [1.0, 2.0], "stderr": [0.1, 0.1]}, index=["a", "b"])},
    {"table": "table", "x": "array"},
)
add(
    "plots.gap_rydberg_posteriors",
    lambda: {"idata": cu2o_idata()},
    {"idata": "table", "hdi_prob": "prob", "eg_offset_ev": "real"},
    skip={("eg_offset_ev", "none"): "None is the documented default"},
)
add(
    "plots.molecule_gallery_html",
    lambda: {"molecules": molecule_table()},
    {
        "molecules": "table",
        "properties": "sequence",
        "start": "count",
        "count": "count",
        "columns": "count",
    },
)
for _name in ("molecule_image_uri", "molecule_svg"):
    add(
        f"plots.{_name}",
        {"smiles": "CCO"},
        {"smiles": "text", "width": "count", "height": "count"},
    )
for _name in ("pair_plot", "trace_plot"):
    add(
        f"plots.{_name}",
        lambda: {"idata": regression_idata()},
        {"idata": "table", "var_names": "sequence", "units": "mapping"},
        skip={("var_names", "none"): "None is the documented default (all variables)"},
    )
add(
    "plots.posterior_marginals",
    lambda: {"idata": regression_idata()},
    {"idata": "table", "var_names": "sequence", "reference_values": "mapping", "hdi_prob": "prob"},
    skip={("var_names", "none"): "None is the documented default (all variables)"},
)
add(
    "plots.posterior_predictive_band",
    lambda: {
        "x": np.arange(4.0),
        "draws": np.ones((5, 4)),
        "x_obs": np.arange(3.0),
        "y_obs": np.ones(3),
    },
    {"x": "array", "draws": "array", "x_obs": "array", "y_obs": "array", "hdi_prob": "prob"},
)
add(
    "plots.posterior_spectrum_draws",
    lambda: {
        "idata": cu2o_idata(),
        "energy_ev": np.linspace(2.1, 2.2, 10),
        "n_max": 3,
        "n_draws": 4,
    },
    {
        "idata": "table",
        "energy_ev": "array",
        "n_max": "count",
        "n_draws": "count",
        "random_seed": "seed",
    },
)
add(
    "plots.predicted_vs_observed",
    lambda: {"y_obs": np.arange(4.0), "draws": np.ones((5, 4))},
    {"y_obs": "array", "draws": "array", "hdi_prob": "prob"},
)
add(
    "plots.prior_densities",
    lambda: {"priors": prior_dict()},
    {"priors": "mapping", "titles": "mapping"},
)
add(
    "plots.prior_predictive",
    _grid_lines,
    {"x_grid": "array", "lines": "array", "x_obs": "array", "y_obs": "array"},
)
add(
    "plots.property_plane",
    lambda: {"training": molecule_table()},
    {"training": "table", "x": "choice", "y": "choice", "region": "mapping", "height": "count"},
    accept={("training", "none"): "documented: None draws only the region and the result"},
)
add(
    "plots.population_by_step",
    lambda: {"result": xr.Dataset()},
    {"result": "table"},
    skip={("baseline", "run"): "needs an IQSPR result: the valid call is in tests/test_iqspr.py"},
)
for _name in ("region_path_plane", "region_path_rounds", "best_distance_by_round"):
    add(
        f"plots.{_name}",
        {"history": xr.Dataset(), "measurements": pd.DataFrame(), "x": "a", "y": "b", "prop": "a"},
        {"history": "table"},
        call=(
            lambda name: (
                lambda target, kwargs: target(
                    **{k: v for k, v in kwargs.items() if k in inspect.signature(target).parameters}
                )
            )
        )(_name),
        skip={
            ("baseline", "run"): "needs an ExtrapolativeDesign history: the valid call is in "
            "tests/test_spacier.py"
        },
    )
add(
    "plots.shift_draws",
    lambda: {"idata_a": cu2o_idata(), "idata_b": cu2o_idata(0.01)},
    {"idata_a": "table", "idata_b": "table", "random_seed": "seed"},
)
add(
    "plots.shift_posteriors",
    lambda: {"idata_a": cu2o_idata(), "idata_b": cu2o_idata(0.01)},
    {
        "idata_a": "table",
        "idata_b": "table",
        "truth": "mapping",
        "hdi_prob": "prob",
        "labels": "sequence",
    },
)
add(
    "plots.spectrum_predictive_band",
    lambda: {"energy_ev": np.arange(4.0), "absorbance": np.ones(4), "curve_draws": np.ones((5, 4))},
    {
        "energy_ev": "array",
        "absorbance": "array",
        "curve_draws": "array",
        "noise_sd": "scale",
        "hdi_prob": "prob",
    },
    accept={("noise_sd", "none"): "documented: None draws the band of the curve alone"},
)
add(
    "plots.spectrum_with_model",
    lambda: {"energy_ev": np.arange(4.0), "absorbance": np.ones(4), "model": np.ones(4)},
    {"energy_ev": "array", "absorbance": "array", "model": "array", "components": "mapping"},
    accept={("model", "none"): "documented: None draws the data alone"},
)


def _budget_table():
    return pd.DataFrame(
        {
            "cheap_fraction": [0.0, 0.1, 0.5],
            "n_low": [0, 10, 50],
            "n_high": [10, 9, 5],
            "rmse": [0.3, 0.2, 0.25],
            "rmse_se": [0.01, 0.01, 0.01],
            "predicted_sd": [0.2, 0.2, 0.2],
        }
    )


add(
    "plots.compute_budget_curve",
    lambda: {"table": _budget_table()},
    {"table": "table", "current_fraction": "prob"},
    skip={("current_fraction", "none"): "None is the documented default (no mark)"},
)
add(
    "plots.fidelity_scatter",
    {"y_low": np.arange(4.0), "y_high": np.arange(4.0) + 0.1},
    {"y_low": "array", "y_high": "array"},
    accept={("y_high", "nan"): "documented: NaN marks an item without an expensive value"},
)
add(
    "plots.learning_curves",
    {"curve": pd.DataFrame({"model": ["ar1"] * 2, "n_high": [5, 10], "rmse": [0.3, 0.2]})},
    {"curve": "table"},
)

# ---- widgets ---------------------------------------------------------------------------------
_PANEL_ONLY_CHECKS = "a valid panel samples or fits at construction: only its argument checks run"


def _campaign():
    from mi_workbench.design import Campaign, featurize

    return Campaign(featurize(alloy_space()), ["Ti", "Ni"], random_seed=0)


add(
    "widgets.CampaignPanel",
    lambda: {"campaign": _campaign()},
    {"campaign": "table", "batch_size": "count", "slice_variables": "sequence"},
    skip={("slice_variables", "none"): "None is the documented default"},
)
add(
    "widgets.InverseDesignPanel",
    {},
    {
        "n_steps": "count",
        "n_particles": "count",
        "random_seed": "seed",
        "x": "choice",
        "y": "choice",
        "n_verify": "count",
        "region": "mapping",
    },
    skip={("baseline", "run"): _PANEL_ONLY_CHECKS},
)
_SAMPLING = {"draws": "count", "tune": "count", "chains": "count", "random_seed": "seed"}
add(
    "widgets.ModelPosteriorPanel",
    lambda: {"model": tiny_model()},
    {"model": "table", **_SAMPLING, "target_accept": "prob"},
)
add(
    "widgets.ModelPriorPanel",
    lambda: {"model": tiny_model(), "n_draws": 5},
    {
        "model": "table",
        "priors": "mapping",
        "n_draws": "count",
        "random_seed": "seed",
        "max_cols": "count",
    },
)
add("widgets.PosteriorPanel", lambda: {"model": tiny_model()}, {"model": "table"})
add("widgets.PriorPanel", lambda: {"model": tiny_model()}, {"model": "table"})
_TABLE_ARGS = {"data": "table", "features": "choice", "target": "choice"}


def _table_kwargs():
    return {"data": regression_table(), "features": ["a", "b"], "target": "y"}


add(
    "widgets.RegressionPosteriorPanel",
    _table_kwargs,
    {**_TABLE_ARGS, **_SAMPLING, "priors": "mapping"},
)
add(
    "widgets.RegressionPriorPanel",
    lambda: {**_table_kwargs(), "n_draws": 5},
    {
        **_TABLE_ARGS,
        "n_draws": "count",
        "random_seed": "seed",
        "priors": "mapping",
        "plot_feature": "choice",
    },
    skip={("plot_feature", "none"): "None is the documented default (the first feature)"},
)
add(
    "widgets.SpectrumFitPanel",
    lambda: {"ds": cu2o_spectrum(), "n_max": 3},
    {"ds": "table", "second": "table", "n_max": "count", **_SAMPLING, "priors": "mapping"},
    skip={("second", "none"): "None is the documented default (one spectrum)"},
)
add(
    "widgets.ComputeBudgetPanel",
    {},
    {
        "data": "table",
        "costs": "table",
        "total": "scale",
        "cheap_fraction": "prob",
        "model": "choice",
        "n_repeats": "count",
        "random_seed": "seed",
        "fractions": "array",
    },
    skip={
        ("baseline", "run"): _PANEL_ONLY_CHECKS,
        ("data", "none"): "None is the documented default (the packaged data)",
        ("costs", "none"): "None is the documented default (the measured costs)",
    },
)

# ---- design ----------------------------------------------------------------------------------
_GP_OPTIONS = {"kernel": "choice", "max_exact_low": "count", "random_seed": "seed"}
add(
    "design.AR1MultiFidelityGP",
    {},
    {**_GP_OPTIONS, "draws": "count", "tune": "count", "chains": "count", "n_basis": "count"},
    skip={("n_basis", "none"): "None is the documented default"},
)
add(
    "design.repair_journal",
    {"path": "no-such-journal.jsonl"},
    {"path": "text"},
    skip={
        ("baseline", "run"): "needs a damaged journal: the valid call is in tests/test_journal.py"
    },
)
add(
    "design.Campaign",
    lambda: {"candidates": alloy_space(), "features": ["Ti", "Ni"]},
    {
        "candidates": "table",
        "features": "choice",
        "objective": "choice",
        "surrogate": "choice",
        "acquisition": "choice",
        "random_seed": "seed",
        "journal_path": "text",
    },
    accept={("random_seed", "none"): "documented: None draws a fresh seed and journals it"},
)
add(
    "design.DifferenceTransfer",
    {},
    {
        "regressor": "choice",
        "kernel": "choice",
        "draws": "count",
        "tune": "count",
        "max_exact_low": "count",
        "random_seed": "seed",
    },
)
add(
    "design.GaussianProcessSurrogate",
    {},
    {
        "kernel": "choice",
        "noise_sd": "scale",
        "n_restarts": "count",
        "n_hyper_draws": "count",
        "draws": "count",
        "tune": "count",
        "chains": "count",
        "n_path_features": "count",
        "random_seed": "seed",
    },
    skip={("noise_sd", "none"): "None is the documented default (noise estimated)"},
)
add(
    "design.GaussianProcessSurrogate.fit",
    lambda: dict(zip(("X", "y"), regression_arrays(), strict=True)),
    {"X": "array", "y": "array"},
    call=lambda target, kwargs: target(n_restarts=1).fit(kwargs["X"], kwargs["y"]),
)
add(
    "design.GaussianProcessSurrogate.predict",
    {"X": np.zeros((3, 2))},
    {"X": "array"},
    call=lambda target, kwargs: _fitted_surrogate().predict(kwargs["X"]),
)
add("design.MultiFidelityModel", {}, _GP_OPTIONS)
add(
    "design.NonlinearAR1MultiFidelityGP",
    {},
    {**_GP_OPTIONS, "n_mc": "count", "n_restarts": "count"},
)
add("design.ProxyTransfer", {}, {**_GP_OPTIONS, "n_mc": "count"})
add(
    "design.RandomFeatureSurrogate",
    {},
    {
        "n_features": "count",
        "kernel": "choice",
        "noise_sd": "scale",
        "max_hyper_points": "count",
        "random_seed": "seed",
    },
    skip={("noise_sd", "none"): "None is the documented default (noise estimated)"},
)
add(
    "design.SVREnsembleSurrogate",
    {},
    {
        "n_estimators": "count",
        "C": "scale",
        "gamma": "scale",
        "epsilon": "scale",
        "random_seed": "seed",
    },
    skip={
        ("C", "none"): "None is the documented default",
        ("gamma", "none"): "None is the default",
    },
)
add("design.SingleFidelityGP", {}, _GP_OPTIONS)
add(
    "design.Strategy",
    {},
    {
        "surrogate": "choice",
        "acquisition": "choice",
        "surrogate_options": "mapping",
        "acquisition_params": "mapping",
        "retune_every": "count",
    },
)
add(
    "design.acceleration_factor",
    lambda: {**pool_order(), "target": 0.5},
    {"pool_values": "array", "order": "array", "target": "real", "fraction": "prob"},
)
add("design.acquisition_name", {"acquisition": "ei"}, {"acquisition": "choice"})
add("design.check_compositions", lambda: {"space": alloy_space()}, {"space": "table"})
add(
    "design.composition_grid",
    {"elements": ("Ti", "Ni"), "bounds": {"Ti": (40.0, 60.0)}, "balance": "Ni", "step": 10.0},
    {
        "elements": "sequence",
        "fixed": "mapping",
        "bounds": "mapping",
        "step": "scale",
        "balance": "choice",
        "chunk_size": "count",
        "dtype": "choice",
    },
    skip={("balance", "none"): "None is the documented default", ("chunk_size", "none"): "default"},
)
add("design.composition_variables", lambda: {"space": alloy_space()}, {"space": "table"})
_MEAN_SD = {"mean": "array", "sd": "array"}
add("design.confidence_bound", mean_sd, {**_MEAN_SD, "kappa": "scale"})
add(
    "design.enhancement_factor",
    pool_order,
    {"pool_values": "array", "order": "array", "fraction": "prob"},
)
for _name in ("expected_improvement", "probability_of_improvement"):
    add(
        f"design.{_name}",
        lambda: {**mean_sd(), "best": 0.5},
        {**_MEAN_SD, "best": "real", "xi": "real"},
    )
for _name in ("exploit", "explore"):
    add(f"design.{_name}", mean_sd, _MEAN_SD)
add(
    "design.featurize",
    lambda: {"space": alloy_space()},
    {"space": "table", "descriptors": "sequence", "dtype": "choice"},
)
add(
    "design.iterations_to_top_k",
    pool_order,
    {"pool_values": "array", "order": "array", "k": "count"},
)
add(
    "design.knowledge_gradient",
    lambda: {"surrogate": _fitted_surrogate(), "X_candidates": np.zeros((3, 2))},
    {
        "surrogate": "table",
        "X_candidates": "array",
        "noise_sd": "scale",
        "max_exact": "count",
        "chunk_size": "count",
    },
    skip={("noise_sd", "none"): "None is the documented default (the surrogate's noise)"},
)
add("design.make_surrogate", {"surrogate": "gp"}, {"surrogate": "choice"})
add("design.make_transfer_model", {"name": "ar1"}, {"name": "choice"})
add(
    "design.probability_in_interval",
    lambda: {**mean_sd(), "low": 0.0, "high": 1.0},
    {**_MEAN_SD, "low": "real", "high": "real"},
    accept={("high", "inf"): "documented: one end of the interval may be infinite (open)"},
)
add(
    "design.random_top_fraction",
    {"n_pool": 20, "n_evaluations": np.arange(1, 5)},
    {"n_pool": "count", "n_evaluations": "array", "n_top": "count"},
    skip={("n_top", "none"): "None is the documented default"},
)


def _oracle(batch):
    return np.asarray(batch["Ti"].values, dtype=float)


add(
    "design.run_benchmark",
    lambda: {
        "strategies": {"random": "random"},
        "space": alloy_space(),
        "oracle": _oracle,
        "features": ["Ti", "Ni"],
        "n_repeats": 1,
        "budget": 3,
        "n_initial": 2,
    },
    {
        "strategies": "mapping",
        "space": "table",
        "oracle": "callable",
        "objective": "choice",
        "n_repeats": "count",
        "budget": "count",
        "n_initial": "count",
        "fraction": "prob",
        "random_seed": "seed",
    },
    skip={
        ("baseline", "run"): "runs a benchmark: the valid call is in tests/test_design_benchmark.py"
    },
)
add(
    "design.score_candidates",
    lambda: {"surrogate": _fitted_surrogate(), "X_candidates": np.zeros((3, 2)), "best": 0.5},
    {
        "surrogate": "table",
        "X_candidates": "array",
        "acquisition": "choice",
        "best": "real",
        "acquisition_params": "mapping",
        "chunk_size": "count",
    },
)
add(
    "design.select_batch",
    lambda: {
        "surrogate": "gp",
        "X_candidates": np.linspace(-1, 1, 12).reshape(6, 2),
        "X_observed": regression_arrays()[0],
        "y_observed": regression_arrays()[1],
        "batch_size": 2,
    },
    {
        "surrogate": "choice",
        "X_candidates": "array",
        "X_observed": "array",
        "y_observed": "array",
        "acquisition": "choice",
        "batch_size": "count",
        "chunk_size": "count",
    },
)
add("design.simple_regret", pool_order, {"pool_values": "array", "order": "array"})
add(
    "design.summarize_benchmark",
    {"result": xr.Dataset()},
    {"result": "table"},
    skip={
        ("baseline", "run"): "needs a benchmark result: the valid call is in "
        "tests/test_design_benchmark.py"
    },
)
add(
    "design.thompson_sampling",
    lambda: {
        "surrogate": _fitted_surrogate(),
        "X_candidates": np.zeros((3, 2)),
        "rng": np.random.default_rng(0),
    },
    {"surrogate": "table", "X_candidates": "array", "chunk_size": "count"},
)
add(
    "design.top_candidates",
    {"pool_values": np.arange(20.0)},
    {"pool_values": "array", "fraction": "prob"},
)
add(
    "design.top_fraction_bands",
    {"result": xr.Dataset()},
    {"result": "table"},
    skip={
        ("baseline", "run"): "needs a benchmark result: the valid call is in "
        "tests/test_design_benchmark.py"
    },
)
add(
    "design.top_fraction_found",
    pool_order,
    {"pool_values": "array", "order": "array", "fraction": "prob"},
)
add(
    "design.FidelityCosts",
    {"low_s": 1.0, "high_s": 100.0, "n_low": 10, "n_high": 10},
    {"low_s": "scale", "high_s": "scale", "n_low": "count", "n_high": "count"},
)
add(
    "design.allocate_budget",
    lambda: {"total_s": 1000.0, "cheap_fraction": 0.1, "costs": costs()},
    {
        "total_s": "scale",
        "cheap_fraction": "prob",
        "costs": "table",
        "max_low": "count",
        "max_high": "count",
    },
    skip={("max_low", "none"): "None is the documented default", ("max_high", "none"): "default"},
)
_FIT_LOOP = "fits models in a loop: only the argument checks run"
add(
    "design.budget_curve",
    lambda: {**fidelity_arrays(), "total_s": 1000.0, "costs": costs()},
    {
        "X": "array",
        "y_low": "array",
        "y_high": "array",
        "total_s": "scale",
        "costs": "table",
        "fractions": "array",
        "model": "choice",
        "n_repeats": "count",
        "random_seed": "seed",
        "min_test": "count",
    },
    skip={("baseline", "run"): _FIT_LOOP},
    guard=True,
    accept={("y_high", "nan"): "documented: NaN in y_high marks items without an expensive value"},
)
add(
    "design.evaluate_allocation",
    lambda: {**fidelity_arrays(), "n_low": 10, "n_high": 5},
    {
        "X": "array",
        "y_low": "array",
        "y_high": "array",
        "n_low": "count",
        "n_high": "count",
        "model": "choice",
        "n_repeats": "count",
        "random_seed": "seed",
    },
    skip={("baseline", "run"): _FIT_LOOP},
    guard=True,
    accept={("y_high", "nan"): "documented: NaN in y_high marks items without an expensive value"},
)
add(
    "design.fidelity_split",
    lambda: {"y_high": np.arange(30.0), "n_high": 5, "n_low": 10, "rng": np.random.default_rng(0)},
    {"y_high": "array", "n_high": "count", "n_low": "count", "rng": "text", "n_test_max": "count"},
    skip={
        ("n_low", "none"): "None is the documented default (all the rest)",
        ("n_test_max", "none"): "None is the documented default",
    },
    accept={("y_high", "nan"): "documented: NaN in y_high marks items without an expensive value"},
)
add(
    "design.learning_curve",
    lambda: {**fidelity_arrays(), "n_high_values": [5, 10]},
    {
        "X": "array",
        "y_low": "array",
        "y_high": "array",
        "n_high_values": "array",
        "models": "sequence",
        "n_low": "count",
        "n_splits": "count",
        "random_seed": "seed",
    },
    skip={("baseline", "run"): _FIT_LOOP, ("n_low", "none"): "None is the documented default"},
    guard=True,
    accept={("y_high", "nan"): "documented: NaN in y_high marks items without an expensive value"},
)
add(
    "design.measured_costs",
    {},
    documented_nan="NaN marks the molecules whose DFT calculation failed (documented)",
    skip={("data", "none"): "None is the documented default (the packaged data)"},
)
add("design.molecule_descriptors", {"smiles": ["CCO", "CCN"]}, {"smiles": "sequence"})
add(
    "design.xtb_dft_fidelity_data",
    {},
    {"path": "text"},
    skip={("path", "none"): "None is the documented default (the packaged file)"},
    documented_nan="NaN marks the molecules whose DFT calculation failed (documented)",
)


# ---- molecules -------------------------------------------------------------------------------
def descriptor_oracle(smiles: str) -> dict:
    from rdkit import Chem
    from rdkit.Chem import Crippen

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return {"ok": False, "reason": "invalid SMILES"}
    return {
        "ok": True,
        "reason": "",
        "heavy_atoms": float(mol.GetNumHeavyAtoms()),
        "logp": float(Crippen.MolLogP(mol)),
    }


_SMALL_SMILES = ["C", "CC", "CO", "CCO", "CCN", "CC(C)O", "OCCO", "CCCC", "NCCO", "CC=O"]


@functools.cache
def small_language_model():
    from mi_workbench.molecules import NGramLanguageModel

    return NGramLanguageModel(order=3).fit(_SMALL_SMILES)


def _lattice_objective(sites) -> float:
    return float(np.sum(np.asarray(sites, dtype=float) * np.arange(len(sites))))


def _new_journal_path():
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="fuzz-design-")) / "design.jsonl"


add(
    "molecules.ExtrapolativeDesign",
    lambda: {
        "final_region": {"heavy_atoms": (13.0, 16.0)},
        "initial_smiles": _SMALL_SMILES,
        "oracle": descriptor_oracle,
        "units": {"heavy_atoms": "", "logp": ""},
        "journal_path": _new_journal_path(),
        "batch_size": 2,
        "n_particles": 8,
        "n_steps": 2,
        "progress": False,
    },
    {
        "final_region": "mapping",
        "initial_smiles": "sequence",
        "oracle": "callable",
        "batch_size": "count",
        "n_particles": "count",
        "n_steps": "count",
        "random_seed": "seed",
        "journal_path": "text",
        "rule": "choice",
        "target_weight": "scale",
    },
    accept={("random_seed", "none"): "documented: None draws a fresh seed and journals it"},
)
add(
    "molecules.NGramLanguageModel",
    {},
    {"order": "count", "smoothing": "choice", "max_heavy_atoms": "count", "augment": "count"},
)
add(
    "molecules.NGramLanguageModel.fit",
    {"smiles_list": _SMALL_SMILES},
    {"smiles_list": "sequence"},
    call=lambda target, kwargs: target(order=3).fit(**kwargs),
)
add(
    "molecules.canonical_smiles",
    {"smiles": "CCO"},
    {"smiles": "text"},
    extra={"invalid": ("smiles", "C1CC")},
    accept={("smiles", "invalid"): "documented: None for a SMILES RDKit cannot read"},
)
add(
    "molecules.check_smiles",
    {"smiles": "CCO"},
    {"smiles": "text"},
    extra={"invalid": ("smiles", "C1CC")},
)
add("molecules.default_language_model", {})
add(
    "molecules.dft_properties",
    {"smiles": "CCO"},
    {"smiles": "text"},
    extra={"invalid": ("smiles", "C1CC")},
    accept={("smiles", "invalid"): _INVALID_SMILES},
    documented_nan="NaN marks a failed calculation, with ok=False and the reason",
    skip={("baseline", "run"): "runs a DFT calculation (minutes): only the argument checks run"},
)
add(
    "molecules.embed_molecule",
    {"smiles": "CCO"},
    {
        "smiles": "text",
        "random_seed": "seed",
        "elements": "sequence",
        "max_mmff_iterations": "count",
    },
    extra={"invalid": ("smiles", "C1CC")},
    accept={("smiles", "invalid"): _INVALID_SMILES},
)


def _acquisition_kwargs():
    return {
        "mean": {"gap": np.array([1.0, 2.0])},
        "sd": {"gap": np.array([0.1, 0.2])},
        "temporary": {"gap": (1.0, 2.0)},
        "final": {"gap": (2.0, 3.0)},
        "scales": {"gap": 1.0},
    }


add(
    "molecules.extrapolative_acquisition",
    _acquisition_kwargs,
    {
        "mean": "mapping",
        "sd": "mapping",
        "temporary": "mapping",
        "final": "mapping",
        "scales": "mapping",
        "uncertainty_weight": "scale",
        "final_weight": "scale",
        "target_weight": "scale",
        "rule": "choice",
    },
    extra={
        "nan_mean": ("mean", {"gap": np.array([np.nan, 2.0])}),
        "negative_sd": ("sd", {"gap": np.array([-0.1, 0.2])}),
        "zero_scale": ("scales", {"gap": 0.0}),
    },
)
add("molecules.join_tokens", {"tokens": ["C", "C", "O"]}, {"tokens": "sequence"})
add(
    "molecules.limit_threads",
    {"threads": 1},
    {"threads": "count"},
    skip={("baseline", "run"): "changes the process's thread limits for every later test"},
)
add(
    "molecules.load_smiles_corpus",
    {"max_heavy_atoms": 5},
    {"max_heavy_atoms": "count", "elements": "sequence"},
    skip={("max_heavy_atoms", "none"): "None is the documented default"},
)
add(
    "molecules.prepare_molecule",
    {"smiles": "CCO"},
    {"smiles": "text", "elements": "sequence"},
    extra={"invalid": ("smiles", "C1CC")},
    accept={("smiles", "invalid"): _INVALID_SMILES},
)
add(
    "molecules.read_cache",
    lambda: {"path": data_folder() / "cache.jsonl"},
    {"path": "text"},
    accept={},
)
add(
    "molecules.run_oracle_batch",
    {"smiles": ["CCO", "CC"], "oracle": descriptor_oracle, "progress": False},
    {
        "smiles": "sequence",
        "oracle": "callable",
        "n_workers": "count",
        "threads_per_worker": "count",
    },
)
add(
    "molecules.temporary_region",
    {"final_region": {"gap": (2.0, 3.0)}, "anchor": {"gap": 1.0}},
    {"final_region": "mapping", "anchor": "mapping", "step_fraction": "prob"},
)
add("molecules.tokenize_smiles", {"smiles": "CCO"}, {"smiles": "text"})
add(
    "molecules.xtb_properties",
    {"smiles": "CCO"},
    {"smiles": "text", "accuracy": "scale", "max_iterations": "count"},
    extra={"invalid": ("smiles", "C1CC")},
    accept={("smiles", "invalid"): _INVALID_SMILES},
    documented_nan="NaN marks a failed calculation, with ok=False and the reason",
    skip={("baseline", "run"): "runs xTB: only the argument checks run"},
)
add(
    "molecules.LatticeTreeSearch",
    {"n_sites": 4, "objective": _lattice_objective},
    {
        "n_sites": "count",
        "objective": "callable",
        "exploration": "scale",
        "backup": "choice",
        "n_rollouts": "count",
        "preset": "choice",
        "exploration_range": "choice",
    },
    skip={
        ("exploration", "none"): "None is the documented default (0.5, or the preset's)",
        ("backup", "none"): "None is the documented default ('max', or the preset's)",
        ("preset", "none"): "None is the documented default (no preset)",
        ("exploration_range", "none"): "None is the documented default",
    },
)
add(
    "molecules.SmilesTreeSearch",
    lambda: {"language_model": small_language_model(), "reward": lambda s: 1.0},
    {
        "language_model": "table",
        "reward": "callable",
        "exploration": "scale",
        "backup": "choice",
        "n_expand": "count",
        "max_tokens": "count",
        "invalid_reward": "real",
        "widening": "scale",
    },
)
add(
    "molecules.gap_target_reward",
    {"target_ev": 5.0},
    {"target_ev": "real", "width_ev": "scale"},
)
add(
    "molecules.penalized_logp",
    {"smiles": "CCO"},
    {"smiles": "text"},
    extra={"invalid": ("smiles", "C1CC")},
    accept={("smiles", "invalid"): "documented: None for a SMILES RDKit cannot read"},
)
add(
    "molecules.random_lattice_search",
    {"objective": _lattice_objective, "n_sites": 4, "n_evaluations": 3, "random_seed": 0},
    {"objective": "callable", "n_sites": "count", "n_evaluations": "count", "random_seed": "seed"},
    accept={("random_seed", "none"): "documented: None draws fresh randomness"},
)
add(
    "molecules.sample_rollouts",
    lambda: {
        "language_model": small_language_model(),
        "reward": lambda s: 1.0,
        "n_rollouts": 2,
        "random_seed": 0,
    },
    {
        "language_model": "table",
        "reward": "callable",
        "n_rollouts": "count",
        "max_tokens": "count",
        "invalid_reward": "real",
        "random_seed": "seed",
        "journal_path": "text",
    },
    accept={("random_seed", "none"): "documented: None draws a fresh seed and journals it"},
)
add(
    "molecules.uct_search",
    {"objective": _lattice_objective, "n_sites": 4, "n_evaluations": 3},
    {"objective": "callable", "n_sites": "count", "n_evaluations": "count"},
)


class _ConstantModel:
    """A stand-in forward model: the same prediction for every molecule."""

    def predict(self, smiles):
        return np.full(len(smiles), 2.5), np.full(len(smiles), 0.1)


class _StayingLanguageModel:
    """A stand-in language model that proposes the molecule it is given."""

    def propose(self, smiles, rng):
        return smiles


add(
    "molecules.IQSPR",
    lambda: {
        "forward_models": {"homo_lumo_gap": _ConstantModel()},
        "target_region": {"homo_lumo_gap": (2.0, 3.0)},
        "language_model": _StayingLanguageModel(),
    },
    {"forward_models": "mapping", "target_region": "mapping", "language_model": "callable"},
    skip={("language_model", "none"): "the default language model trains on the NCI corpus"},
)
add(
    "molecules.PropertyModel",
    {"name": "homo_lumo_gap"},
    {"name": "text", "radius": "count", "n_bits": "count"},
)
add(
    "molecules.TargetRegion",
    {"bounds": {"homo_lumo_gap": (2.0, 3.0)}},
    {"bounds": "mapping", "known": "sequence"},
    names={"bounds": "target_region"},
    skip={("known", "none"): "None is the documented default"},
    extra={
        "inverted": ("bounds", {"homo_lumo_gap": (3.0, 2.0)}),
        "nan": ("bounds", {"homo_lumo_gap": (np.nan, 2.0)}),
    },
)
add(
    "molecules.fingerprint_matrix",
    {"smiles": ["CCO", "CCN"]},
    {"smiles": "sequence", "radius": "count", "n_bits": "count"},
    extra={"invalid": ("smiles", ["CCO", "C1CC"])},
)
add(
    "molecules.fit_forward_models",
    {},
    {
        "properties": "sequence",
        "holdout_fraction": "prob",
        "random_seed": "seed",
        "radius": "count",
        "n_bits": "count",
    },
    skip={
        ("baseline", "run"): "fits on the packaged data set: the valid call is in "
        "tests/test_iqspr.py"
    },
)
add(
    "molecules.generation_metrics",
    {"generated": ["CCO", "CCN", "c1ccccc1"], "training": ["CCO"]},
    {"generated": "sequence", "training": "sequence", "radius": "count", "n_bits": "count"},
    skip={("training", "none"): "None is the documented default (no novelty)"},
)
add(
    "molecules.internal_diversity",
    {"smiles": ["CCO", "CCN", "c1ccccc1"]},
    {"smiles": "sequence", "radius": "count", "n_bits": "count"},
)
add(
    "molecules.scaffold_counts",
    {"smiles": ["CCO", "c1ccccc1CC", "c1ccccc1N"]},
    {"smiles": "sequence"},
)
add(
    "molecules.structural_alerts",
    {"smiles": ["CCO", "O=C1C=CC(=O)C=C1"]},
    {"smiles": "sequence", "catalogs": "sequence"},
    extra={"unknown": ("catalogs", ["no-such-catalog"])},
)
add(
    "molecules.log_probability_in_region",
    lambda: {**mean_sd(), "low": 0.0, "high": 1.0},
    {**_MEAN_SD, "low": "real", "high": "real"},
    accept={("high", "inf"): "documented: high=inf is an interval open above"},
    documented_nan="-inf is log(0): documented where the interval is far from the mean",
)
add(
    "molecules.unique_molecules",
    {"result": xr.Dataset()},
    {"result": "table"},
    skip={("baseline", "run"): "needs an IQSPR result: the valid call is in tests/test_iqspr.py"},
)
add(
    "molecules.verify_molecules",
    {"molecules": ["CCO"], "target_region": {"homo_lumo_gap": (2.0, 3.0)}, "progress": False},
    {"molecules": "sequence", "target_region": "mapping"},
    skip={("baseline", "run"): "runs xTB: only the argument checks run"},
)

# ---------------------------------------------------------------------------------------------
# exemptions: public callables with no fuzz cases, and why
# ---------------------------------------------------------------------------------------------
_RECORD = "a plain record (dataclass) returned by {}: its fields are not user input"
_ERROR = "an exception class: nothing to fuzz"
EXEMPT: dict[str, str] = {
    "data.RegressionData": _RECORD.format("as_regression_data, which checks the table"),
    "physics.array_namespace": "dispatch helper: any objects in, a numpy or pytensor namespace out",
    "physics.is_tensor": "predicate: any object in, a bool out",
    "models.FreeVariable": _RECORD.format("inspect_model"),
    "models.ModelStructure": _RECORD.format("inspect_model"),
    "models.ObservedVariable": _RECORD.format("inspect_model"),
    "models.PriorDraws": _RECORD.format("PriorPredictive"),
    "models.AR1Spec": _RECORD.format("ar1_multifidelity_gp, which checks its arguments"),
    "models.Standardization": _RECORD.format("bayesian_linear_regression"),
    "inference.Diagnostics": _RECORD.format("diagnose"),
    "inference.EvidenceResult": _RECORD.format("evidence"),
    "inference.ModelDensity": _RECORD.format("model_density"),
    "inference.SamplingCancelled": _ERROR,
    "design.CampaignError": _ERROR,
    "design.JournalError": _ERROR,
    "design.JournalRepair": _RECORD.format("repair_journal"),
    "design.Surrogate": "abstract base class: fuzzed through GaussianProcessSurrogate.fit/predict",
    "design.BudgetAllocation": _RECORD.format("allocate_budget"),
    "design.FidelitySplit": _RECORD.format("fidelity_split"),
}


# cases that fail today: case id -> what is wrong (empty: every case passes). A new failing case
# may be listed here while it is being fixed; the xfail is strict, so a fixed case fails until
# its line goes.
KNOWN_FAILURES: dict[str, str] = {}


def public_callables() -> list[str]:
    names = []
    for sub in SUBPACKAGES:
        module = importlib.import_module(f"mi_workbench.{sub}")
        names += [f"{sub}.{n}" for n in module.__all__ if callable(getattr(module, n))]
    return names


def test_every_public_callable_is_fuzzed_or_exempt():
    callables = public_callables()
    missing = [n for n in callables if n not in FUZZ and n not in EXEMPT]
    assert not missing, f"public callables without fuzz cases or exemption: {missing}"
    both = [n for n in callables if n in FUZZ and n in EXEMPT]
    assert not both, f"fuzzed and exempt at once: {both}"
    stale = [n for n in list(FUZZ) + list(EXEMPT) if n.count(".") == 1 and n not in callables]
    assert not stale, f"entries for names that are no longer public callables: {stale}"


# ---------------------------------------------------------------------------------------------
# running a case
# ---------------------------------------------------------------------------------------------
def resolve(target: str):
    sub, name, *method = target.split(".")
    obj = getattr(importlib.import_module(f"mi_workbench.{sub}"), name)
    return obj


def non_finite(value, path: str = "result", depth: int = 0) -> str | None:
    """Where ``value`` holds NaN or infinity (figures: infinity only, NaN marks gaps)."""
    if depth > 4:
        return None
    if isinstance(value, go.Figure):
        for i, trace in enumerate(value.data):
            for key in ("x", "y", "z"):
                data = getattr(trace, key, None)
                if data is None:
                    continue
                try:
                    array = np.asarray(data, dtype=float)
                except (TypeError, ValueError):
                    continue
                if np.isinf(array).any():
                    return f"{path}.data[{i}].{key} holds infinity"
        return None
    if isinstance(value, (xr.Dataset, xr.DataArray)):
        items = value.data_vars.items() if isinstance(value, xr.Dataset) else [("", value)]
        for name, array in items:
            if array.dtype.kind == "f" and not np.isfinite(array.values).all():
                return f"{path}[{name!r}] holds NaN or infinity"
        return None
    if isinstance(value, pd.DataFrame):
        numbers = value.select_dtypes("number")
        if not np.isfinite(numbers.to_numpy(dtype=float)).all():
            return f"{path} (a DataFrame) holds NaN or infinity"
        return None
    if isinstance(value, (np.ndarray, pd.Series, float, np.floating)):
        array = np.asarray(value)
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            return f"{path} holds NaN or infinity"
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = non_finite(item, f"{path}[{key!r}]", depth + 1)
            if found:
                return found
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value[:50]):
            found = non_finite(item, f"{path}[{i}]", depth + 1)
            if found:
                return found
    return None


def run(target: str, kwargs: dict):
    entry = FUZZ[target]
    obj = resolve(target)
    return entry.call(obj, kwargs) if entry.call else obj(**kwargs)


def _none_defaults(target: str) -> set[str]:
    """Arguments of ``target`` whose signature default is None (None is then documented)."""
    if target.count(".") != 1:
        return set()
    try:
        parameters = inspect.signature(resolve(target)).parameters
    except (TypeError, ValueError):
        return set()
    return {name for name, p in parameters.items() if p.default is None}


def _cases():
    for target, entry in FUZZ.items():
        marks = []
        if ("baseline", "run") not in entry.skip:
            yield _param(target, entry, "baseline", "run")
        defaults = _none_defaults(target)
        for param, kind in entry.params.items():
            for mutation in MUTATIONS[kind]:
                if mutation == "none" and param in defaults and (param, "none") not in entry.accept:
                    entry.skip.setdefault((param, "none"), "None is the documented default")
                yield _param(target, entry, param, mutation)
        for mutation, (param, _value) in entry.extra.items():
            yield _param(target, entry, param, mutation)
        del marks


def _param(target, entry, param, mutation):
    case_id = f"{target}-{param}-{mutation}"
    reason = entry.xfail.get((param, mutation)) or entry.xfail.get(param)
    if case_id in KNOWN_FAILURES:
        reason = f"not fixed yet: {KNOWN_FAILURES[case_id]}"
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    if (param, mutation) in entry.skip:
        marks = [pytest.mark.skip(reason=entry.skip[(param, mutation)])]
    return pytest.param(target, param, mutation, id=case_id, marks=marks)


class ReachedCompile(Exception):
    """Raised instead of compiling or sampling a model in a guarded fuzz case."""


def _reached(*args, **kwargs):
    raise ReachedCompile("the call got past its argument checks to compiling or fitting")


# what a guarded case would compile, sample or fit once its arguments were accepted
GUARDED = (
    ("mi_workbench.inference._compile_cache", "compile_pymc_model"),
    ("mi_workbench.inference.evidence", "_smc_evidence"),
    ("mi_workbench.inference.evidence", "_exchange_evidence"),
    ("mi_workbench.inference.evidence", "_max_log_likelihood"),
    ("mi_workbench.inference.metropolis", "model_density"),
    ("mi_workbench.design.budget", "_fit_and_score"),
)


@pytest.mark.parametrize(("target", "param", "mutation"), list(_cases()))
def test_fuzz(target, param, mutation, monkeypatch):
    entry = FUZZ[target]
    kwargs = entry.baseline()
    if entry.guard:
        for module, name in GUARDED:
            monkeypatch.setattr(importlib.import_module(module), name, _reached)
    if param == "baseline":
        result = run(target, kwargs)
        problem = None if entry.documented_nan else non_finite(result)
        assert problem is None, f"the valid baseline call gives {problem}"
        return
    if mutation in entry.extra:
        value = entry.extra[mutation][1]
        kwargs[param] = _copy(value() if callable(value) else value)
    else:
        kwargs[param] = MUTATIONS[entry.params[param]][mutation](kwargs.get(param))
    name = entry.names.get(param, param)
    try:
        result = run(target, kwargs)
    except ReachedCompile:
        if (param, mutation) in entry.accept or mutation in MAY_SUCCEED:
            return  # accepted, as it may be; the result is not computed here
        pytest.fail(f"{param}={_short(kwargs[param])} is silently accepted (reached compiling)")
    except (ValueError, TypeError) as error:
        message = str(error)
        assert re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", message), (
            f"{type(error).__name__} does not name the argument {name!r}: {message}"
        )
        return
    if (param, mutation) in entry.accept or mutation in MAY_SUCCEED:
        problem = None if entry.documented_nan else non_finite(result)
        assert problem is None, f"{param}={_short(kwargs[param])} gives {problem}"
        return
    pytest.fail(f"{param}={_short(kwargs[param])} is silently accepted (no error raised)")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."
