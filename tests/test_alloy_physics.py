"""The virtual shape-memory-alloy hysteresis experiment (mi_workbench.physics.alloys)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mi_workbench.design import composition_grid
from mi_workbench.physics import (
    VirtualHysteresisExperiment,
    lambda2,
    thermal_hysteresis_k,
)

XUE_TABLE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "reference"
    / "xue2016_nitisma_training.csv"
)
BEST_XUE = {"Ti": [50.0], "Ni": [46.7], "Cu": [0.8], "Fe": [2.3], "Pd": [0.2]}


@pytest.fixture(scope="module")
def landscape():
    space = composition_grid()
    start = time.process_time()  # CPU time (all threads): a busy machine hardly changes it
    values = thermal_hysteresis_k(space, noise_sd_k=0.0)
    seconds = time.process_time() - start
    return space, values, seconds


def test_full_space_is_fast_and_has_a_realistic_scale(landscape):
    space, values, seconds = landscape
    assert seconds < 10.0  # vectorised: about 0.1 CPU-s for 800,000 alloys
    assert isinstance(values, xr.DataArray) and values.attrs["units"] == "K"
    assert values.sizes["candidate"] == space.sizes["candidate"]
    h = values.values
    assert 1.5 < h.min() < 2.5
    assert 25.0 < h.max() < 35.0
    assert 5.0 < np.median(h) < 12.0
    # equiatomic TiNi near the measured 29.9 K; Xue's best alloy close to the optimum
    tini = float(thermal_hysteresis_k({"Ti": [50.0], "Ni": [50.0]}, noise_sd_k=0)[0])
    assert 25.0 < tini < 32.0
    assert float(thermal_hysteresis_k(BEST_XUE, noise_sd_k=0)[0]) < h.min() + 0.5


def test_the_optimum_is_inside_the_space_and_a_second_basin_exists(landscape):
    space, values, _ = landscape
    h = values.values
    tenths = {el: np.round(space[el].values * 10).astype(int) for el in ("Cu", "Fe", "Pd")}
    best = int(h.argmin())
    # not a corner: no element at its bound pair, and Fe strictly inside (0, 5)
    assert 0 < tenths["Fe"][best] < 50
    assert 0 < tenths["Cu"][best] < 200
    grid = np.full((201, 51, 201), np.inf)
    grid[tenths["Cu"], tenths["Fe"], tenths["Pd"]] = h

    def descend(point):
        point = np.array(point)
        while True:
            moves = [point + d for d in np.vstack([np.eye(3, dtype=int), -np.eye(3, dtype=int)])]
            moves = [m for m in moves if (m >= 0).all() and (m < grid.shape).all()]
            best_move = min(moves, key=lambda m: grid[tuple(m)])
            if grid[tuple(best_move)] >= grid[tuple(point)]:
                return point, grid[tuple(point)]
            point = best_move

    global_point, global_value = descend((8, 23, 2))
    assert global_value == pytest.approx(h.min())
    valley_point, valley_value = descend((60, 0, 80))  # Cu 6, Pd 8: B19 alloys, lambda2 ~ 1
    assert valley_value > h.min() + 0.5  # a separate local minimum the search can get stuck in
    assert valley_value < 4.0
    assert abs(valley_point - global_point).sum() > 50
    lam = lambda2(
        {"Ti": [50.0], "Ni": [50.0 - 0.1 * valley_point.sum()]}
        | {el: [0.1 * v] for el, v in zip(("Cu", "Fe", "Pd"), valley_point, strict=True)}
    )
    assert abs(1 - lam[0]) < 0.003


def test_lambda2_follows_the_documented_trends():
    base = {"Ti": [50.0] * 3, "Ni": [50.0, 39.0, 45.0], "Cu": [0.0, 0.0, 5.0]}
    lam = lambda2(base | {"Pd": [0.0, 11.0, 0.0]})
    assert lam[0] == pytest.approx(0.9702, abs=5e-4)  # B19' TiNi
    assert lam[1] == pytest.approx(1.0, abs=0.001)  # Ti50Ni39Pd11 (Cui et al. 2006)
    assert lam[0] < lam[2] < lam[1]  # Cu raises lambda2


@pytest.mark.skipif(not XUE_TABLE.exists(), reason=f"reference data not found at {XUE_TABLE}")
def test_model_ranks_the_22_measured_alloys_like_the_measurements():
    table = pd.read_csv(XUE_TABLE)
    model = thermal_hysteresis_k(table[["Ti", "Ni", "Cu", "Fe", "Pd"]], noise_sd_k=0)
    assert isinstance(model, pd.Series)
    assert np.corrcoef(model, table["delta(T)"])[0, 1] > 0.7
    assert model.rank().corr(table["delta(T)"].rank()) > 0.6


def test_noise_is_seeded_and_has_the_requested_size():
    rows = pd.DataFrame({el: v * 2000 for el, v in BEST_XUE.items()})
    clean = thermal_hysteresis_k(rows, noise_sd_k=0).to_numpy()
    a = thermal_hysteresis_k(rows, noise_sd_k=0.5, rng=3).to_numpy()
    b = thermal_hysteresis_k(rows, noise_sd_k=0.5, rng=np.random.default_rng(3)).to_numpy()
    np.testing.assert_array_equal(a, b)
    assert np.std(a - clean) == pytest.approx(0.5, rel=0.1)
    assert a.min() >= 0.1


def test_oracle_replays_and_gives_replicates():
    rows = composition_grid().isel(candidate=[0, 1000, 500_000])
    first = VirtualHysteresisExperiment(noise_sd_k=0.5, random_seed=7)
    again = VirtualHysteresisExperiment(noise_sd_k=0.5, random_seed=7)
    m1, m2 = first(rows), first(rows)
    assert isinstance(m1, np.ndarray) and m1.shape == (3,)
    assert not np.allclose(m1, m2)  # replicates differ by noise
    np.testing.assert_array_equal(again(rows), m1)  # same seed, same call order: same data
    assert first.n_calls == 2 and first.n_measurements == 6
    np.testing.assert_allclose(
        first.true_value(rows), thermal_hysteresis_k(rows, noise_sd_k=0).values
    )
    assert abs(m1 - first.true_value(rows)).max() < 3.0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"Ti": [50.0], "Ni": [45.0]}, r"candidate 0 sums to 95"),
        ({"Ti": [50.0], "Ni": [np.nan]}, r"non-finite amount of Ni"),
        ({"Ti": [50.0], "Ni": [40.0], "Co": [10.0]}, r"element\(s\) \['Co'\]"),
        ({"Ti": [60.0], "Ni": [40.0]}, r"defined for 45-55 at.% Ti"),
        ({"Ni": [100.0]}, r"no 'Ti' amounts"),
        ({"Ti": [50.0, 50.0], "Ni": [50.0]}, r"1-D arrays of one length"),
        ({"Ti": ["fifty"], "Ni": [50.0]}, r"numbers only"),
    ],
)
def test_bad_compositions_raise_clear_errors(rows, message):
    with pytest.raises((ValueError, TypeError), match=message):
        thermal_hysteresis_k(rows)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="noise_sd_k must be >= 0"):
        thermal_hysteresis_k({"Ti": [50.0], "Ni": [50.0]}, noise_sd_k=-1)
    with pytest.raises(TypeError, match="must be an xarray.Dataset"):
        thermal_hysteresis_k([50.0, 50.0])
    with pytest.raises(TypeError, match="random_seed must be an integer"):
        VirtualHysteresisExperiment(random_seed=1.5)
    frame = pd.DataFrame({"Ti": [50.0], "Ni": [30.0]}, index=["alloy-A"])
    with pytest.raises(ValueError, match="candidate 'alloy-A' sums to 80"):
        VirtualHysteresisExperiment()(frame)
