"""Tests of swapping the data of a regression model (re-using its compilation)."""

import numpy as np
import pandas as pd
import pytest

from mi_workbench.data import confounded_annealing
from mi_workbench.models import bayesian_linear_regression, set_regression_data


def _table(intervene: bool) -> pd.DataFrame:
    return confounded_annealing(intervene_on_oxide=intervene, random_seed=0).to_dataframe()


def test_swapped_model_matches_a_fresh_build_on_the_new_data():
    old, new = _table(False), _table(True)
    model = bayesian_linear_regression(old[["oxide_thickness_nm"]], old["hardness_hv"])
    fresh = bayesian_linear_regression(new[["oxide_thickness_nm"]], new["hardness_hv"])
    set_regression_data(model, new[["oxide_thickness_nm"]], new["hardness_hv"])
    for name in ("X", "y", "x_center", "x_scale", "y_center", "y_scale"):
        np.testing.assert_allclose(model[name].get_value(), fresh[name].get_value())
    point = fresh.initial_point()
    assert model.compile_logp()(point) == pytest.approx(fresh.compile_logp()(point))


@pytest.mark.slow
def test_fit_reuses_the_compiled_model_and_finds_the_new_answer():
    from mi_workbench.inference import fit
    from mi_workbench.inference.sampling import _COMPILED

    old, new = _table(False), _table(True)
    model = bayesian_linear_regression(old[["oxide_thickness_nm"]], old["hardness_hv"])
    first = fit(model, draws=300, tune=300, random_seed=1)
    set_regression_data(model, new[["oxide_thickness_nm"]], new["hardness_hv"])
    second = fit(model, draws=300, tune=300, random_seed=1)
    assert len(_COMPILED[model]) == 1
    assert second["posterior"].attrs["compile_time"] < first["posterior"].attrs["compile_time"]
    slope_old = float(first["posterior"]["coefficients"].mean())
    slope_new = float(second["posterior"]["coefficients"].mean())
    assert slope_old < -0.3  # the confounded correlation
    assert abs(slope_new) < 0.2  # the intervention shows no effect
    assert second["observed_data"]["y_obs"].values == pytest.approx(new["hardness_hv"].values)


def test_a_different_number_of_observations_is_allowed():
    rng = np.random.default_rng(0)
    model = bayesian_linear_regression(rng.normal(size=(10, 2)), rng.normal(size=10))
    set_regression_data(model, rng.normal(size=(15, 2)), rng.normal(size=15))
    assert model["X"].get_value().shape == (15, 2)
    assert len(model.coords["obs"]) == 15


def test_unstandardised_models_stay_unstandardised():
    rng = np.random.default_rng(0)
    model = bayesian_linear_regression(
        rng.normal(size=(10, 1)), rng.normal(size=10), standardize=False
    )
    set_regression_data(model, rng.normal(5.0, 2.0, size=(10, 1)), rng.normal(3.0, 1.0, size=10))
    assert model["x_center"].get_value() == pytest.approx([0.0])
    assert float(model["y_scale"].get_value()) == 1.0


def test_other_descriptors_are_refused_and_nothing_changes():
    table = _table(False)
    model = bayesian_linear_regression(table[["oxide_thickness_nm"]], table["hardness_hv"])
    before = model["X"].get_value().copy()
    with pytest.raises(ValueError, match="differ from the model's"):
        set_regression_data(model, table[["furnace_temperature_k"]], table["hardness_hv"])
    with pytest.raises(ValueError, match="descriptor"):
        two = table[["oxide_thickness_nm", "furnace_temperature_k"]]
        set_regression_data(model, two, table["hardness_hv"])
    with pytest.raises(ValueError, match="same number of observations"):
        set_regression_data(model, table[["oxide_thickness_nm"]], table["hardness_hv"][:10])
    np.testing.assert_array_equal(model["X"].get_value(), before)


def test_a_model_of_another_kind_is_refused():
    import pymc as pm

    with pm.Model() as model:
        pm.Normal("a")
    with pytest.raises(ValueError, match="bayesian_linear_regression"):
        set_regression_data(model, np.ones((3, 1)), np.arange(3.0))
