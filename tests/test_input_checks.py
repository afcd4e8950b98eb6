"""Bad arguments end in a clear ValueError/TypeError that names the argument.

Covers the physics kernels, the data generators and tables, the inference entry points and the
design helpers; the shared checks live in ``mi_workbench._checks``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mi_workbench import physics
from mi_workbench._checks import check_finite_array, check_rng, check_seed
from mi_workbench.data import (
    as_regression_data,
    confounded_annealing,
    interface_lattice_table,
    noisy_line,
    random_compositions,
    synthetic_cu2o_spectrum,
    synthetic_peak_spectrum,
    virtual_alloys,
)

BAD_NUMBERS = [
    pytest.param(None, TypeError, id="none"),
    pytest.param("wide", TypeError, id="text"),
    pytest.param(math.nan, ValueError, id="nan"),
    pytest.param(math.inf, ValueError, id="inf"),
]
BAD_ARRAYS = [
    *BAD_NUMBERS,
    pytest.param(np.array([]), ValueError, id="empty"),
    pytest.param(np.array([1.0, math.nan]), ValueError, id="nan-inside"),
]
BAD_SEEDS = [
    pytest.param("seed", TypeError, id="text"),
    pytest.param(2.5, TypeError, id="fraction"),
    pytest.param(-1, ValueError, id="negative"),
]


# ---- shared checks ---------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "error"), BAD_SEEDS)
def test_check_seed_names_the_argument(value, error):
    with pytest.raises(error, match="my_seed"):
        check_seed("my_seed", value)


def test_check_seed_and_rng_accept_the_documented_forms():
    assert check_seed("s", None) is None and check_seed("s", np.int64(3)) == 3
    generator = np.random.default_rng(0)
    assert check_rng("rng", generator) is generator
    assert check_rng("rng", 5).integers(100) == np.random.default_rng(5).integers(100)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        check_rng("rng", "fresh")


@pytest.mark.parametrize("value", [None, "1, 2, 3"])
def test_check_finite_array_rejects_none_and_text(value):
    with pytest.raises(TypeError, match="values must be a number or an array"):
        check_finite_array("values", value)


# ---- physics ---------------------------------------------------------------------------------
_ENERGY = np.linspace(1.0, 3.0, 9)
LINE_SHAPES = {
    "lorentzian": (physics.lorentzian, {"energy": _ENERGY, "center": 2.0, "gamma": 0.1}),
    "gaussian": (physics.gaussian, {"energy": _ENERGY, "center": 2.0, "sigma": 0.1}),
    "voigt": (physics.voigt, {"energy": _ENERGY, "center": 2.0, "sigma": 0.1, "gamma": 0.1}),
    "voigt_complex": (
        physics.voigt_complex,
        {"energy": _ENERGY, "center": 2.0, "sigma": 0.1, "gamma": 0.1},
    ),
    "peak_profile": (physics.peak_profile, {"energy": _ENERGY, "center": 2.0, "width": 0.1}),
    "faddeeva": (physics.faddeeva, {"x": np.linspace(-2.0, 2.0, 5), "y": 0.5}),
}
LINE_CASES = [
    (shape, argument) for shape, (_, kwargs) in LINE_SHAPES.items() for argument in kwargs
]


@pytest.mark.parametrize(("shape", "argument"), LINE_CASES)
@pytest.mark.parametrize(("value", "error"), BAD_ARRAYS)
def test_line_shapes_reject_bad_numbers(shape, argument, value, error):
    function, kwargs = LINE_SHAPES[shape]
    with pytest.raises(error, match=argument):
        function(**{**kwargs, argument: value})


@pytest.mark.parametrize(
    ("shape", "argument"),
    [("lorentzian", "gamma"), ("gaussian", "sigma"), ("voigt", "sigma"), ("peak_profile", "width")],
)
def test_line_widths_must_be_positive(shape, argument):
    function, kwargs = LINE_SHAPES[shape]
    with pytest.raises(ValueError, match=f"{argument} must be > 0"):
        function(**{**kwargs, argument: -0.1})


def test_line_shapes_still_broadcast_energies_against_centres():
    profiles = physics.peak_profile(_ENERGY[:, None], np.array([1.5, 2.5]), 0.1)
    assert profiles.shape == (9, 2)


EXCITON_CASES = [
    (physics.line_strengths, {"n": np.arange(2, 6), "f0": 1.0}),
    (physics.line_energies, {"Eg": 2.17, "Ry": 0.09, "n": np.arange(2, 6)}),
    (physics.elliott_continuum_strength, {"f0": 1.0, "Ry": 0.09}),
]


@pytest.mark.parametrize(
    ("function", "kwargs", "argument"),
    [(f, kw, arg) for f, kw in EXCITON_CASES for arg in kw],
)
@pytest.mark.parametrize(("value", "error"), BAD_NUMBERS)
def test_exciton_helpers_reject_bad_numbers(function, kwargs, argument, value, error):
    with pytest.raises(error, match=argument):
        function(**{**kwargs, argument: value})


@pytest.mark.parametrize(
    ("function", "kwargs", "argument"),
    [
        (physics.line_strengths, {"n": [2, 3]}, "f0"),
        (physics.line_energies, {"Eg": 2.17, "n": [2, 3]}, "Ry"),
        (physics.elliott_continuum_strength, {"f0": 1.0}, "Ry"),
        (physics.elliott_continuum_strength, {"Ry": 0.09}, "f0"),
    ],
)
def test_exciton_scales_must_not_be_negative(function, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        function(**{**kwargs, argument: -1.0})


def test_quantum_numbers_are_whole_and_large_ones_stay_finite():
    with pytest.raises(ValueError, match="n must hold whole numbers"):
        physics.line_strengths([2.5])
    assert np.all(np.isfinite(physics.line_strengths([2.0, 1e200])))


_ALLOY = {"Ti": [50.0, 51.0], "Ni": [50.0, 49.0]}


@pytest.mark.parametrize("function", [physics.lambda2, physics.thermal_hysteresis_k])
def test_alloy_kernels_name_a_nan_composition(function):
    with pytest.raises(ValueError, match="compositions: .*non-finite amount of Ti"):
        function({"Ti": [np.nan, 51.0], "Ni": [50.0, 49.0]})


@pytest.mark.parametrize("rng", ["seed", 2.5, -1, [1, 2]])
def test_thermal_hysteresis_rejects_a_bad_rng(rng):
    with pytest.raises((TypeError, ValueError), match="rng"):
        physics.thermal_hysteresis_k(_ALLOY, rng=rng)


@pytest.mark.parametrize(("value", "error"), [*BAD_SEEDS, (None, TypeError)])
def test_virtual_hysteresis_experiment_needs_an_integer_seed(value, error):
    with pytest.raises(error, match="random_seed"):
        physics.VirtualHysteresisExperiment(random_seed=value)


# ---- data ------------------------------------------------------------------------------------
GENERATORS = [
    (virtual_alloys, {"n_alloys": 4}),
    (confounded_annealing, {"n_samples": 10}),
    (noisy_line, {"n_points": 5}),
    (synthetic_cu2o_spectrum, {}),
    (synthetic_peak_spectrum, {"n_peaks": 2}),
    (interface_lattice_table, {"n_sites": 8}),
]


@pytest.mark.parametrize(("generator", "kwargs"), GENERATORS)
@pytest.mark.parametrize(("value", "error"), BAD_SEEDS)
def test_generators_reject_bad_seeds(generator, kwargs, value, error):
    with pytest.raises(error, match="random_seed"):
        generator(**kwargs, random_seed=value)


@pytest.mark.parametrize(("value", "error"), [*BAD_NUMBERS, (-1.0, ValueError)])
def test_interface_lattice_field_sd_is_checked(value, error):
    with pytest.raises(error, match="field_sd"):
        interface_lattice_table(8, field_sd=value)


@pytest.mark.parametrize(("value", "error"), BAD_NUMBERS)
def test_peak_spectrum_background_is_checked(value, error):
    with pytest.raises(error, match="background"):
        synthetic_peak_spectrum(2, background=value)


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"elements": None}, TypeError, "elements"),
        ({"elements": 7}, TypeError, "elements"),
        ({"elements": "TiNi"}, TypeError, "elements"),
        ({"elements": ["Ti", "Xx"]}, ValueError, "elements"),
        ({"elements": []}, ValueError, "elements"),
        ({"elements": ["Ti", "Ti"]}, ValueError, "elements"),
        ({"n_alloys": None}, TypeError, "n_alloys"),
        ({"n_alloys": 2.5}, TypeError, "n_alloys"),
        ({"n_alloys": -1}, ValueError, "n_alloys"),
        ({"rng": None}, TypeError, "rng"),
        ({"rng": "seed"}, TypeError, "rng"),
        ({"concentration": None}, TypeError, "concentration"),
        ({"concentration": math.nan}, ValueError, "concentration"),
        ({"concentration": -1.0}, ValueError, "concentration"),
    ],
)
def test_random_compositions_checks_its_arguments(kwargs, error, argument):
    arguments = {"elements": ["Ti", "Ni"], "n_alloys": 3, "rng": np.random.default_rng(0)}
    with pytest.raises(error, match=argument):
        random_compositions(**{**arguments, **kwargs})


def test_random_compositions_take_a_seed_and_sum_to_100():
    table = random_compositions(["Ti", "Ni", "Cu"], 4, 3)
    assert table.equals(random_compositions(["Ti", "Ni", "Cu"], 4, np.random.default_rng(3)))
    np.testing.assert_allclose(table.sum(axis=1), 100.0, atol=0.02)


def test_as_regression_data_reads_numbered_columns():
    table = pd.DataFrame(np.arange(12.0).reshape(4, 3) ** 1.5)  # columns 0, 1, 2
    data = as_regression_data(table, features=[0, 1], target=2)
    assert data.feature_names == ("0", "1") and data.target_name == "2"
    np.testing.assert_array_equal(data.X, table[[0, 1]].to_numpy())
    assert as_regression_data(table, features=["0"], target="2").X.shape == (4, 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"features": None}, TypeError, "features"),
        ({"features": 7.5}, TypeError, "features"),
        ({"features": ["no-such-column"]}, ValueError, "features"),
        ({"target": None}, TypeError, "target"),
        ({"target": 7}, ValueError, "target"),
        ({"target": "no-such-column"}, ValueError, "target"),
    ],
)
def test_as_regression_data_names_the_bad_argument(kwargs, error, argument):
    table = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.5], "y": [2.0, 4.0, 7.0]})
    with pytest.raises(error, match=argument):
        as_regression_data(table, **{"features": ["a", "b"], "target": "y", **kwargs})


# ---- inference -------------------------------------------------------------------------------
def _idata():
    import xarray as xr

    rng = np.random.default_rng(1)
    posterior = xr.Dataset(
        {"mu": (("chain", "draw"), rng.normal(size=(2, 50)))},
        coords={"chain": [0, 1], "draw": np.arange(50)},
    )
    posterior.attrs["sampling_time"] = 1.0
    return xr.DataTree.from_dict({"posterior": posterior})


@pytest.fixture(scope="module")
def tiny_model():
    import pymc as pm

    with pm.Model() as model:
        pm.Normal("mu", 0.0, 1.0)
    return model


@pytest.mark.parametrize("idata", [None, "idata", 7, {"posterior": None}])
@pytest.mark.parametrize("function", ["diagnose", "ess_per_second"])
def test_diagnostics_need_a_datatree(function, idata):
    from mi_workbench import inference

    with pytest.raises(TypeError, match="idata must be an xarray.DataTree"):
        getattr(inference, function)(idata)


@pytest.mark.parametrize("function", ["diagnose", "ess_per_second"])
@pytest.mark.parametrize(
    ("var_names", "error"), [(7, TypeError), ([], ValueError), (["x"], ValueError)]
)
def test_diagnostics_check_var_names(function, var_names, error):
    from mi_workbench import inference

    with pytest.raises(error, match="var_names|unknown variable"):
        getattr(inference, function)(_idata(), var_names)


@pytest.mark.parametrize(
    ("argument", "value", "error"),
    [
        ("rhat_max", None, TypeError),
        ("rhat_max", "loose", TypeError),
        ("rhat_max", math.nan, ValueError),
        ("rhat_max", 0.5, ValueError),
        ("ess_min", None, TypeError),
        ("ess_min", math.inf, ValueError),
        ("ess_min", -1.0, ValueError),
        ("hdi_prob", None, TypeError),
        ("hdi_prob", math.nan, ValueError),
        ("hdi_prob", -0.5, ValueError),
        ("hdi_prob", 1.5, ValueError),
    ],
)
def test_diagnose_checks_thresholds(argument, value, error):
    from mi_workbench.inference import diagnose

    with pytest.raises(error, match=argument):
        diagnose(_idata(), **{argument: value})


def test_diagnose_accepts_one_variable_name_as_text():
    from mi_workbench.inference import diagnose

    assert list(diagnose(_idata(), "mu").table.index) == ["mu"]


@pytest.mark.parametrize("function", ["fit", "metropolis"])
@pytest.mark.parametrize("model", [None, "model", 7])
def test_samplers_need_a_pymc_model(function, model):
    from mi_workbench import inference

    with pytest.raises(TypeError, match="model must be a pymc.Model"):
        getattr(inference, function)(model)


@pytest.mark.parametrize("function", ["fit", "metropolis"])
@pytest.mark.parametrize(("value", "error"), BAD_SEEDS)
def test_samplers_reject_bad_seeds_before_any_work(tiny_model, function, value, error):
    from mi_workbench import inference

    with pytest.raises(error, match="random_seed"):
        getattr(inference, function)(tiny_model, random_seed=value)


@pytest.mark.parametrize("argument", ["on_progress", "on_stage"])
def test_fit_callbacks_must_be_functions(tiny_model, argument):
    from mi_workbench.inference import fit

    with pytest.raises(TypeError, match=argument):
        fit(tiny_model, **{argument: "print"})


@pytest.mark.parametrize(
    ("value", "error"), [*BAD_NUMBERS, (-1.0, ValueError), (0.0, ValueError), (1e200, ValueError)]
)
def test_metropolis_checks_initial_scale(tiny_model, value, error):
    from mi_workbench.inference import metropolis

    with pytest.raises(error, match="initial_scale"):
        metropolis(tiny_model, initial_scale=value, draws=10, tune=10)


# ---- design and transfer models --------------------------------------------------------------
@pytest.mark.parametrize(
    ("argument", "value", "error"),
    [
        ("low_s", None, TypeError),
        ("low_s", "wide", TypeError),
        ("low_s", math.nan, ValueError),
        ("high_s", math.inf, ValueError),
        ("high_s", -1.0, ValueError),
        ("n_low", None, TypeError),
        ("n_low", 2.5, TypeError),
        ("n_high", -1, ValueError),
        ("low_name", 7, TypeError),
    ],
)
def test_fidelity_costs_check_their_fields(argument, value, error):
    from mi_workbench.design import FidelityCosts

    arguments = {"low_s": 1.0, "high_s": 100.0, "n_low": 30, "n_high": 30}
    with pytest.raises(error, match=argument):
        FidelityCosts(**{**arguments, argument: value})
    assert FidelityCosts(**arguments).ratio == 100.0


@pytest.mark.parametrize(
    "name", ["SingleFidelityGP", "AR1MultiFidelityGP", "DifferenceTransfer", "ProxyTransfer"]
)
@pytest.mark.parametrize(("value", "error"), [*BAD_SEEDS, (None, TypeError)])
def test_transfer_models_need_an_integer_seed(name, value, error):
    from mi_workbench import design

    with pytest.raises(error, match="random_seed"):
        getattr(design, name)(random_seed=value)


@pytest.mark.parametrize(
    ("value", "error"), [("many", TypeError), (2.5, TypeError), (-1, ValueError), ([], ValueError)]
)
def test_n_basis_is_checked_even_without_hsgp(value, error):
    from mi_workbench.design import AR1MultiFidelityGP
    from mi_workbench.models import ar1_multifidelity_gp

    with pytest.raises(error, match="n_basis"):
        AR1MultiFidelityGP(n_basis=value)
    x = np.linspace(0.0, 1.0, 8)[:, None]
    with pytest.raises(error, match="n_basis"):
        ar1_multifidelity_gp(x, x[:, 0] ** 2, x[::2], x[::2, 0], n_basis=value)


@pytest.mark.parametrize(("value", "error"), [*BAD_NUMBERS, (1.0, ValueError)])
def test_boundary_factor_is_checked(value, error):
    from mi_workbench.models import ar1_multifidelity_gp

    x = np.linspace(0.0, 1.0, 8)[:, None]
    with pytest.raises(error, match="boundary_factor"):
        ar1_multifidelity_gp(x, x[:, 0] ** 2, x[::2], x[::2, 0], boundary_factor=value)


@pytest.mark.parametrize(
    ("argument", "value", "error"),
    [
        ("X_centered", None, TypeError),
        ("X_centered", "numbers", TypeError),
        ("X_centered", np.array([[math.nan]]), ValueError),
        ("X_centered", np.array([0.0]), ValueError),
        ("X_centered", np.zeros((0, 1)), ValueError),
        ("L", None, TypeError),
        ("L", np.array([math.inf]), ValueError),
        ("L", np.array([-1.0]), ValueError),
        ("L", np.array([1.0, 1.0]), ValueError),
        ("m", None, TypeError),
        ("m", 7, TypeError),
        ("m", [0], ValueError),
        ("m", [3, 3], ValueError),
    ],
)
def test_hsgp_basis_checks_its_arguments(argument, value, error):
    from mi_workbench.models import hsgp_basis

    arguments = {"X_centered": np.zeros((2, 1)), "L": np.array([1.0]), "m": [3]}
    with pytest.raises(error, match=argument):
        hsgp_basis(**{**arguments, argument: value})


@pytest.mark.parametrize("idata", [None, "idata", 7])
def test_predict_ar1_multifidelity_needs_a_datatree(idata):
    from mi_workbench.models import predict_ar1_multifidelity

    with pytest.raises(TypeError, match="idata must be an xarray.DataTree"):
        predict_ar1_multifidelity(idata, None, np.zeros((1, 1)))


_GRID = {
    "elements": ("Ti", "Ni", "Cu"),
    "fixed": {"Ti": 50.0},
    "bounds": {"Cu": (0.0, 25.0)},
    "step": 25.0,
    "balance": "Ni",
}


@pytest.mark.parametrize(
    ("argument", "value", "error"),
    [
        ("fixed", "text", TypeError),
        ("fixed", 7, TypeError),
        ("bounds", "text", TypeError),
        ("bounds", 7, TypeError),
        ("step", 1e200, ValueError),
        ("step", None, TypeError),
        ("chunk_size", 2.5, TypeError),
    ],
)
def test_composition_grid_checks_its_arguments(argument, value, error):
    from mi_workbench.design import composition_grid

    assert composition_grid(**_GRID).sizes["candidate"] == 2
    with pytest.raises(error, match=argument):
        composition_grid(**{**_GRID, argument: value})


@pytest.mark.parametrize("space", [None, "space", 7])
def test_composition_variables_needs_a_dataset(space):
    from mi_workbench.design import composition_variables

    with pytest.raises(TypeError, match="space must be an xarray.Dataset"):
        composition_variables(space)
