"""Candidate spaces: composition grids and composition-weighted descriptors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mi_workbench.data import ELEMENT_PROPERTIES
from mi_workbench.design import (
    XUE_DESCRIPTORS,
    XUE_LARGE_BOUNDS,
    check_compositions,
    composition_grid,
    featurize,
)

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reference"
XUE_TABLE = REFERENCE / "xue2016_nitisma_training.csv"


def _brute_force_count(cu_max, fe_max, pd_max, ni_min):
    cu, fe, pd_ = np.meshgrid(
        np.arange(cu_max + 1), np.arange(fe_max + 1), np.arange(pd_max + 1), indexing="ij"
    )
    return int((500 - cu - fe - pd_ >= ni_min).sum())


@pytest.fixture(scope="module")
def xue_space():
    return composition_grid()


def test_xue_space_has_the_documented_size_order_and_units(xue_space):
    n = xue_space.sizes["candidate"]
    assert n == 799_901 == _brute_force_count(200, 50, 200, 300)
    assert list(xue_space.data_vars) == ["Ti", "Ni", "Cu", "Fe", "Pd"]
    assert all(xue_space[el].attrs["units"] == "at.%" for el in xue_space.data_vars)
    assert xue_space["candidate"].dtype == np.int64
    np.testing.assert_array_equal(xue_space["candidate"].values[[0, -1]], [0, n - 1])
    table = np.stack([xue_space[el].values for el in xue_space.data_vars], axis=1)
    assert table.dtype == np.float32
    np.testing.assert_allclose(table.sum(axis=1), 100.0, atol=1e-3)
    assert np.all(table[:, 0] == 50.0)
    assert table[:, 1].min() == pytest.approx(30.0) and table[:, 1].max() == pytest.approx(50.0)
    assert table[:, 2:].min() == 0.0
    np.testing.assert_allclose(table[:, 2:].max(axis=0), [20.0, 5.0, 20.0], atol=1e-5)
    tenths = np.round(table * 10).astype(int)
    assert len(np.unique(tenths, axis=0)) == n  # every row once
    np.testing.assert_allclose(table * 10, tenths, atol=2e-4)  # all on the 0.1 at.% grid
    assert xue_space.nbytes < 25e6
    # Xue et al.'s best alloy is in the space
    hit = (tenths[:, 1:] == [467, 8, 23, 2]).all(axis=1)
    assert hit.sum() == 1


def test_chunked_grid_is_lazy_and_equals_the_eager_one(xue_space):
    lazy = composition_grid(chunk_size=123_457)
    assert lazy["Pd"].chunks is not None
    assert lazy["Pd"].chunks[0][0] == 123_457
    for el in ("Ni", "Cu", "Fe", "Pd"):
        np.testing.assert_array_equal(lazy[el].values, xue_space[el].values)


def test_large_space_for_cluster_tests_exceeds_a_million_rows():
    space = composition_grid(bounds=XUE_LARGE_BOUNDS, chunk_size=200_000)
    assert space.sizes["candidate"] == 1_313_726 == _brute_force_count(250, 50, 250, 250)
    last = space.isel(candidate=slice(-3, None)).compute()
    np.testing.assert_allclose(
        sum(last[el] for el in ("Ti", "Ni", "Cu", "Fe", "Pd")).values, 100, atol=1e-3
    )


def test_small_grid_and_explicit_balance():
    space = composition_grid(
        ("Ti", "Ni", "Cu"), fixed={"Ti": 50.0}, bounds={"Cu": (0.0, 1.0)}, balance="Ni"
    )
    np.testing.assert_allclose(space["Cu"].values, np.arange(11) / 10, atol=1e-6)
    np.testing.assert_allclose(space["Ni"].values, 50 - np.arange(11) / 10, atol=1e-5)
    ternary = composition_grid(
        ("Cu", "Fe", "Ni"), bounds={"Cu": (0, 100), "Fe": (0, 100)}, step=10.0, dtype="float64"
    )
    assert ternary.sizes["candidate"] == 66  # (n+1)(n+2)/2 with n = 10
    assert ternary["Ni"].dtype == np.float64


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"elements": ("Ti", "Xx")}, r"unknown element 'Xx'"),
        ({"bounds": {"Cu": (0, 20), "Fe": (0, 5)}}, r"bounds must give \(low, high\) for \['Pd'\]"),
        ({"bounds": {"Cu": (5, 1), "Fe": (0, 5), "Pd": (0, 2)}}, r"0 <= low <= high <= 100"),
        ({"bounds": {"Cu": (0, 2.05), "Fe": (0, 5), "Pd": (0, 2)}}, r"not a multiple of step"),
        ({"step": 0.0}, r"step must be > 0"),
        ({"step": 0.3}, r"step must divide 100"),
        ({"chunk_size": 0}, r"chunk_size must be >= 1"),
        ({"fixed": {"Ti": 120.0}}, r"between 0 and 100"),
        ({"fixed": {"Ti": 50.0}, "bounds": {"Ti": (0, 1)}}, r"both fixed and bounded"),
        ({"bounds": {"Ni": (60, 70), "Cu": (0, 2), "Fe": (0, 2), "Pd": (0, 2)}}, r"leave no"),
        ({"dtype": "int8"}, r"dtype must be one of"),
    ],
)
def test_grid_rejects_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        composition_grid(**kwargs)


def test_featurize_is_the_composition_weighted_mean(xue_space):
    rows = xue_space.isel(candidate=[0, 4321, 799_900])
    features = featurize(rows)
    assert set(XUE_DESCRIPTORS) <= set(features.data_vars)
    table = ELEMENT_PROPERTIES.loc[["Ti", "Ni", "Cu", "Fe", "Pd"], list(XUE_DESCRIPTORS)]
    amounts = np.stack([rows[el].values for el in ("Ti", "Ni", "Cu", "Fe", "Pd")], axis=1)
    expected = amounts.astype(float) @ table.to_numpy() / 100
    got = np.stack([features[d].values for d in XUE_DESCRIPTORS], axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert features["clementi_atomic_radius_pm"].attrs["units"] == "pm"
    # equiatomic TiNi: plain averages of the elemental values
    assert float(features["valence_electrons"][0]) == pytest.approx(7.0)
    assert float(features["pettifor_chemical_scale"][0]) == pytest.approx((0.79 + 1.09) / 2)


def test_featurize_accepts_a_dataframe_and_keeps_its_index():
    df = pd.DataFrame({"Ti": [50.0, 50.0], "Ni": [50.0, 40.0], "Pd": [0.0, 10.0]}, index=[7, 9])
    features = featurize(df, descriptors=["metallic_radius_pm"])
    assert list(features["candidate"].values) == [7, 9]
    np.testing.assert_allclose(features["metallic_radius_pm"].values, [135.5, 136.8])


@pytest.mark.skipif(not XUE_TABLE.exists(), reason=f"reference data not found at {XUE_TABLE}")
def test_featurize_reproduces_the_six_descriptors_of_xue_et_al():
    """Known answer: the 22 published alloys' descriptors, to the printed four decimals."""
    table = pd.read_csv(XUE_TABLE)
    table.columns = [" ".join(c.split()) for c in table.columns]
    published = {
        "pettifor_chemical_scale": "Pettifor chemical scale",
        "clementi_atomic_radius_pm": "atomic radius (pm)",
        "metallic_radius_pm": "metallic radius (pm)",
        "pauling_electronegativity": "Pauling electro- negativity",
        "valence_electrons": "valence electron #",
        "pseudopotential_radius_xue_angstrom": "pseudo-potential radius (angstrom)",
    }
    assert len(table) == 22
    features = featurize(table[["Ti", "Ni", "Cu", "Fe", "Pd"]])
    for name, column in published.items():
        deviation = np.abs(features[name].values - table[column].to_numpy())
        assert deviation.max() <= 0.5e-4 + 1e-9, (name, deviation.max())


def test_chunked_featurize_is_lazy_and_matches_in_memory(xue_space):
    lazy = featurize(composition_grid(chunk_size=200_000))
    assert lazy["pettifor_chemical_scale"].chunks is not None
    eager = featurize(xue_space.isel(candidate=slice(0, 200_000)))
    np.testing.assert_allclose(
        lazy["pauling_electronegativity"][:200_000].values,
        eager["pauling_electronegativity"].values,
        rtol=1e-12,
    )
    assert float(lazy["valence_electrons"].min()) == pytest.approx(6.9)


def test_featurize_and_check_reject_bad_compositions():
    bad_sum = pd.DataFrame({"Ti": [50.0, 50.0], "Ni": [50.0, 45.0]}, index=["ok", "short"])
    with pytest.raises(ValueError, match=r"candidate 'short' sums to 95 at.%, not 100"):
        featurize(bad_sum)
    with pytest.raises(ValueError, match=r"candidate 'short' sums to 95"):
        check_compositions(bad_sum)
    with pytest.raises(ValueError, match=r"non-finite amount of Ni"):
        featurize(pd.DataFrame({"Ti": [50.0], "Ni": [np.nan]}))
    with pytest.raises(ValueError, match=r"negative amount of Ni"):
        featurize(pd.DataFrame({"Ti": [150.0], "Ni": [-50.0]}))
    with pytest.raises(ValueError, match=r"unknown element 'Xx'"):
        featurize(pd.DataFrame({"Ti": [50.0], "Xx": [50.0]}))
    with pytest.raises(ValueError, match=r"unknown descriptor\(s\) \['colour'\]"):
        featurize(pd.DataFrame({"Ti": [50.0], "Ni": [50.0]}), descriptors=["colour"])
    with pytest.raises(ValueError, match=r"no elemental value for \['Al: pettifor"):
        featurize(pd.DataFrame({"Ti": [50.0], "Al": [50.0]}))
    with pytest.raises(TypeError, match="xarray.Dataset"):
        featurize(np.zeros((2, 2)))
    # a lazy space is checked chunk by chunk when computed, naming the row
    space = composition_grid(
        ("Ti", "Ni", "Cu"), fixed={"Ti": 50.0}, bounds={"Cu": (0, 1)}, chunk_size=4
    )
    space["Ni"] = space["Ni"].where(space["candidate"] != 6, 10.0)
    lazy = featurize(space)
    with pytest.raises(ValueError, match=r"candidate 6 sums to"):
        lazy["valence_electrons"].compute()
    with pytest.raises(ValueError, match=r"candidate 6 sums to"):
        check_compositions(space)


def test_dataset_without_candidate_dimension_is_rejected():
    with pytest.raises(ValueError, match="dimension 'candidate'"):
        featurize(xr.Dataset({"Ti": ("alloy", [50.0]), "Ni": ("alloy", [50.0])}))
