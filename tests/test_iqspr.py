"""Tests of the forward models and of iQSPR's sequential Monte Carlo (no xTB calls)."""

import json
import math

import numpy as np
import pytest
import xarray as xr

from mi_workbench.data import load_molecules_xtb_dft
from mi_workbench.molecules.forward import (
    DESCRIPTOR_NAMES,
    PropertyModel,
    fingerprint_matrix,
    fit_forward_models,
)
from mi_workbench.molecules.iqspr import (
    IQSPR,
    TargetRegion,
    log_probability_in_region,
    systematic_resample,
    unique_molecules,
)
from mi_workbench.molecules.language import default_language_model


@pytest.fixture(scope="module")
def models():
    return fit_forward_models(("homo_lumo_gap", "total_energy"), holdout_fraction=0.2)


@pytest.fixture(scope="module")
def corner():
    """Gap above the data's 95th percentile and energy below its 25th: ~0.7 % of the data."""
    ds = load_molecules_xtb_dft("xtb")
    gap = float(np.percentile(ds["xtb_homo_lumo_gap_ev"].values, 95))
    energy = float(np.percentile(ds["xtb_total_energy_hartree"].values, 25))
    return {"homo_lumo_gap": (gap, None), "total_energy": (None, energy)}


def test_fingerprints_have_counts_and_descriptors_and_reject_invalid_smiles():
    X = fingerprint_matrix(["CCO", "c1ccccc1", "CCO"])
    assert X.shape == (3, 1024 + len(DESCRIPTOR_NAMES))
    np.testing.assert_array_equal(X[0], X[2])
    counts = dict(zip(DESCRIPTOR_NAMES, X[1, 1024:], strict=True))
    assert (counts["n_H"], counts["n_C"], counts["n_aromatic_atoms"]) == (6, 6, 6)
    assert fingerprint_matrix(["CCO"], descriptors=False, n_bits=64).shape == (1, 64)
    with pytest.raises(ValueError, match=r"smiles\[1\] = 'C1CC' is not a valid SMILES"):
        fingerprint_matrix(["CC", "C1CC"])


def test_forward_models_predict_held_out_molecules(models):
    gap, energy = models["homo_lumo_gap"], models["total_energy"]
    assert gap.holdout_metrics_["r2"] > 0.6
    assert energy.holdout_metrics_["r2"] > 0.999
    for model in models.values():  # calibrated predictive intervals
        assert 0.9 <= model.holdout_metrics_["coverage_95"] <= 0.99
    assert (gap.units, energy.units) == ("eV", "hartree")
    mean, sd = gap.predict(["CCCCCC", "c1ccc2ccccc2c1"])
    assert mean[0] > mean[1] + 2  # saturated chain: larger gap than naphthalene
    assert np.all(sd > 0)
    with pytest.raises(ValueError, match="properties must be one of"):
        fit_forward_models(("band_gap",))


def test_property_model_learns_a_simple_count():
    smiles = ["C" * k for k in range(1, 9)] + ["C" * k + "O" for k in range(1, 9)]
    y = [k for k in range(1, 9)] * 2
    model = PropertyModel("n_carbons", units="").fit(smiles, y)
    score = model.score(["CCCCCCCCCC"], [10.0])
    assert score["rmse"] < 1.0


def test_log_probability_in_region_matches_the_normal_cdf_and_stays_finite_in_tails():
    from scipy.stats import norm

    mean, sd = np.array([0.0, 1.0, -2.0]), np.array([1.0, 0.5, 2.0])
    expected = norm.cdf((1.5 - mean) / sd) - norm.cdf((-0.5 - mean) / sd)
    np.testing.assert_allclose(
        np.exp(log_probability_in_region(mean, sd, -0.5, 1.5)), expected, rtol=1e-10
    )
    np.testing.assert_allclose(
        np.exp(log_probability_in_region(mean, sd, 0.3, math.inf)), norm.sf((0.3 - mean) / sd)
    )
    far = log_probability_in_region(np.array([0.0]), np.array([1.0]), 30.0, 31.0)
    assert np.isfinite(far[0]) and far[0] == pytest.approx(norm.logsf(30.0), rel=1e-3)


def test_systematic_resampling_keeps_the_expected_counts():
    weights = np.array([0.5, 0.25, 0.125, 0.125])
    index = systematic_resample(weights, np.random.default_rng(3))
    counts = np.bincount(index, minlength=4)
    assert np.all(np.abs(counts - 4 * weights) < 1)


def test_target_region_errors_name_the_problem(models):
    with pytest.raises(ValueError, match="unknown property 'gap'; known properties: homo_lumo_gap"):
        IQSPR(models, {"gap": (1.0, 2.0)}, language_model=default_language_model())
    with pytest.raises(ValueError, match="is empty: low equals high"):
        TargetRegion({"homo_lumo_gap": (3.0, 3.0)})
    with pytest.raises(ValueError, match="is inverted"):
        TargetRegion({"homo_lumo_gap": (5.0, 3.0)})
    with pytest.raises(ValueError, match="bound is NaN"):
        TargetRegion({"homo_lumo_gap": (math.nan, 3.0)})
    with pytest.raises(ValueError, match="open on both sides"):
        TargetRegion({"homo_lumo_gap": (None, math.inf)})
    with pytest.raises(ValueError, match="target_region is empty"):
        TargetRegion({})
    with pytest.raises(TypeError, match="must be a pair"):
        TargetRegion({"homo_lumo_gap": 3.0})


def test_run_argument_errors(models, corner):
    design = IQSPR(models, corner, language_model=default_language_model())
    with pytest.raises(ValueError, match="n_particles must be >= 2"):
        design.run(2, 1, random_seed=0, progress=False)
    with pytest.raises(ValueError, match=r"initial_smiles\[1\] .*not a valid SMILES"):
        design.run(2, 4, random_seed=0, initial_smiles=["CCO", "C1CC"], progress=False)
    with pytest.raises(ValueError, match="beta_schedule must have n_steps = 3 values"):
        design.run(3, 4, random_seed=0, beta_schedule=[0.5, 1.0], progress=False)


def test_smc_moves_the_population_into_a_region_far_from_the_data(models, corner):
    bulk = ["CC(=O)Nc1ccc(O)cc1", "c1ccc2ccccc2c1", "O=C(O)c1ccccc1", "CCN(CC)c1ccccc1"]
    design = IQSPR(models, corner, language_model=default_language_model())
    result = design.run(25, 60, random_seed=7, initial_smiles=bulk, progress=False)
    assert isinstance(result, xr.Dataset)
    assert dict(result.sizes) == {"step": 26, "particle": 60}
    for name in ("smiles", "weight", "log_likelihood", "homo_lumo_gap_mean", "total_energy_sd"):
        assert result[name].dims == ("step", "particle")
    assert result["beta"].values[-1] == 1.0 and np.all(np.diff(result["beta"].values) >= 0)
    assert result["resampled"].values.any()
    np.testing.assert_allclose(result["weight"].sum("particle"), 1.0)
    probability = np.exp(result["log_likelihood"].values)
    assert probability[0].max() < 0.01  # the start lies far outside the region
    assert np.mean(probability[-5:] > 0.5) > 0.15  # many particles inside it at the end
    weighted = (result["weight"] * np.exp(result["log_likelihood"])).sum("particle").values
    assert weighted[-5:].mean() > 0.3  # and the weighted population mostly
    assert json.loads(result.attrs["target_region"])["homo_lumo_gap"][1] is None
    assert json.loads(result.attrs["units"]) == {"homo_lumo_gap": "eV", "total_energy": "hartree"}
    assert result.attrs["random_seed"] == 7 and result.attrs["n_particles"] == 60

    table = unique_molecules(result, known_smiles=models["homo_lumo_gap"].training_smiles_)
    assert table["count"].sum() == 60
    assert table["smiles"].is_unique
    assert np.all(np.diff(table["probability_in_region"].values) <= 0)
    assert table["novel"].mean() > 0.8
    several = unique_molecules(result, step=[-2, -1])
    assert several["count"].sum() == 120
    with pytest.raises(ValueError, match="step must be in"):
        unique_molecules(result, step=40)


def test_runs_are_reproducible_with_a_seed(models, corner):
    design = IQSPR(models, corner, language_model=default_language_model())
    first = design.run(4, 12, random_seed=3, progress=False)
    second = IQSPR(models, corner, language_model=default_language_model()).run(
        4, 12, random_seed=3, progress=False
    )
    np.testing.assert_array_equal(first["smiles"].values, second["smiles"].values)
    np.testing.assert_allclose(first["weight"].values, second["weight"].values)
    other = design.run(4, 12, random_seed=4, progress=False)
    assert not np.array_equal(first["smiles"].values, other["smiles"].values)


def test_run_reports_its_progress_after_every_step(models, corner):
    design = IQSPR(models, corner, language_model=default_language_model())
    seen: list[float] = []
    design.run(4, 8, random_seed=0, progress=False, on_progress=seen.append)
    assert seen == [0.25, 0.5, 0.75, 1.0]
    with pytest.raises(TypeError, match="on_progress must be callable"):
        design.run(2, 4, random_seed=0, progress=False, on_progress="bar")


@pytest.mark.parametrize("y", [[1.0, 1.2, 0.9], [2.0, 2.0, 2.0]])
def test_property_model_of_one_molecule_written_three_ways_is_finite(y):
    # the same molecule three times: every row of the feature matrix is equal
    model = PropertyModel("gap", units="eV").fit(["CCO", "OCC", "C(O)C"], y)
    mean, sd = model.predict(["CCO", "c1ccccc1"])
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(sd)) and np.all(sd > 0)
    assert mean[0] == pytest.approx(np.mean(y))


def test_property_model_checks_given_features():
    with pytest.raises(ValueError, match="features contains NaN"):
        PropertyModel("gap").fit(["C", "CC"], [1.0, 2.0], features=[[0.0], [np.nan]])
    with pytest.raises(ValueError, match="features must be 2-dimensional"):
        PropertyModel("gap").fit(["C", "CC"], [1.0, 2.0], features=[0.0, 1.0])
