"""Tests of user-table validation, elemental descriptors and the lesson data generators."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mi_workbench.data import (
    ELEMENT_PROPERTIES,
    as_regression_data,
    check_xy,
    composition_descriptors,
    confounded_annealing,
    noisy_line,
    synthetic_cu2o_spectrum,
    virtual_alloys,
)
from mi_workbench.data.spectra import CU2O_PRESETS


def test_as_regression_data_from_dataframe_and_dataset_agree():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.5], "t": [2.0, 4.0, 7.0]})
    from_df = as_regression_data(df, ["a", "b"], "t")
    ds = xr.Dataset({k: ("row", v.to_numpy()) for k, v in df.items()})
    ds["t"].attrs["units"] = "K"
    from_ds = as_regression_data(ds, ["a", "b"], "t")
    np.testing.assert_array_equal(from_df.X, from_ds.X)
    np.testing.assert_array_equal(from_df.y, from_ds.y)
    assert from_ds.units == {"t": "K"}
    assert from_ds.to_dataset()["t"].attrs["units"] == "K"


def test_unknown_column_names_are_named_in_the_error():
    df = pd.DataFrame({"a": [1.0, 2.0], "t": [1.0, 2.0]})
    with pytest.raises(
        ValueError, match=r"unknown column name\(s\) \['zz'\].*columns \['a', 't'\]"
    ):
        as_regression_data(df, ["zz"], "t")


def test_nan_in_data_reports_column_and_position():
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0], "t": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match=r"column 'a' contains NaN at position 1"):
        as_regression_data(df, ["a"], "t")


def test_text_in_data_is_a_type_error():
    df = pd.DataFrame({"a": ["x", "y"], "t": [1.0, 2.0]})
    with pytest.raises(TypeError, match="column 'a' must contain numbers"):
        as_regression_data(df, ["a"], "t")


def test_check_xy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="X with 3 rows and y with 2 values"):
        check_xy(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="infinite"):
        check_xy(np.zeros((2, 1)), [1.0, np.inf])


def test_composition_descriptors_of_equiatomic_tini():
    d = composition_descriptors(pd.DataFrame({"Ti": [50.0], "Ni": [50.0]})).iloc[0]
    ti, ni = ELEMENT_PROPERTIES.loc["Ti"], ELEMENT_PROPERTIES.loc["Ni"]
    assert d["valence_electron_concentration"] == pytest.approx(7.0)
    assert d["mean_electronegativity"] == pytest.approx(
        (ti["pauling_electronegativity"] + ni["pauling_electronegativity"]) / 2
    )
    r = (ti["metallic_radius_pm"] + ni["metallic_radius_pm"]) / 2
    expected = 100 * np.sqrt(
        0.5 * (1 - ti["metallic_radius_pm"] / r) ** 2
        + 0.5 * (1 - ni["metallic_radius_pm"] / r) ** 2
    )
    assert d["radius_mismatch_percent"] == pytest.approx(expected)


def test_composition_descriptors_reject_unknown_elements_and_negative_amounts():
    with pytest.raises(ValueError, match=r"unknown element\(s\) \['Xx'\]"):
        composition_descriptors(pd.DataFrame({"Ti": [50.0], "Xx": [50.0]}))
    with pytest.raises(ValueError, match="non-negative"):
        composition_descriptors(pd.DataFrame({"Ti": [150.0], "Ni": [-50.0]}))


def test_virtual_alloys_follow_their_documented_law():
    ds = virtual_alloys(n_alloys=200, noise_sd_k=1e-6, random_seed=3)
    residual = (
        ds["transformation_temperature_k"]
        - 330.0
        + 150.0 * (ds["valence_electron_concentration"] - 7.0)
        - 400.0 * (ds["mean_electronegativity"] - 1.8)
    )
    assert float(abs(residual).max()) < 1e-4
    at_percent = sum(ds[f"{e}_at_percent"] for e in ("Ti", "Ni", "Cu", "Fe", "Pd"))
    np.testing.assert_allclose(at_percent, 100.0, atol=0.05)
    assert ds["transformation_temperature_k"].attrs["units"] == "K"


def test_generators_are_reproducible_and_validate_arguments():
    xr.testing.assert_identical(virtual_alloys(random_seed=5), virtual_alloys(random_seed=5))
    with pytest.raises(ValueError, match="noise_sd_k must be > 0"):
        virtual_alloys(noise_sd_k=-1.0)
    with pytest.raises(ValueError, match="n_points must be >= 2"):
        noisy_line(n_points=1)


def test_confounding_disappears_under_intervention():
    observed = confounded_annealing(n_samples=400, random_seed=1)
    intervened = confounded_annealing(n_samples=400, intervene_on_oxide=True, random_seed=1)

    def corr(ds):
        return np.corrcoef(ds["oxide_thickness_nm"], ds["hardness_hv"])[0, 1]

    assert corr(observed) < -0.8
    assert abs(corr(intervened)) < 0.15


@pytest.mark.parametrize("preset", sorted(CU2O_PRESETS))
def test_synthetic_cu2o_spectrum_takes_an_explicit_noise_level(preset):
    quiet = synthetic_cu2o_spectrum(noise_sd=0.001, preset=preset)
    loud = synthetic_cu2o_spectrum(noise_sd=0.03, preset=preset)
    assert loud.attrs["noise_sd"] == 0.03
    assert "noise_sd" not in CU2O_PRESETS[preset] or CU2O_PRESETS[preset]["noise_sd"] != 0.03
    np.testing.assert_array_equal(quiet["absorbance_true"], loud["absorbance_true"])
    residual = loud["absorbance"] - loud["absorbance_true"]
    assert 0.02 < float(residual.std()) < 0.04
    default = synthetic_cu2o_spectrum(preset=preset)
    assert default.attrs["noise_sd"] == CU2O_PRESETS[preset]["noise_sd"]


@pytest.mark.parametrize(
    ("noise_sd", "error"),
    [
        (-0.01, ValueError),
        (0.0, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        ("loud", TypeError),
        ([0.01], TypeError),
    ],
)
def test_synthetic_cu2o_spectrum_rejects_bad_noise_levels(noise_sd, error):
    with pytest.raises(error, match="noise_sd"):
        synthetic_cu2o_spectrum(noise_sd=noise_sd)
