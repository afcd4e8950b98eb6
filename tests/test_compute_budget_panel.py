"""ComputeBudgetPanel and the budget helpers, driven from Python as a user would drive them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import xarray as xr
from test_campaign_panel import BrowserFigureWidget, hidden_axes, notes  # the browser replay

from mi_workbench.design.budget import (
    FidelityCosts,
    allocate_budget,
    budget_curve,
    evaluate_allocation,
    fidelity_split,
    learning_curve,
    measured_costs,
)
from mi_workbench.plots.transfer import compute_budget_curve, fidelity_scatter, learning_curves
from mi_workbench.widgets import ComputeBudgetPanel

COSTS = FidelityCosts(low_s=0.1, high_s=10.0, n_low=400, n_high=80)
FRACTIONS = (0.0, 0.01, 0.05, 0.3)


@pytest.fixture(scope="module")
def pool() -> xr.Dataset:
    """400 items on a line; the expensive value is 2 x cheap + a smooth offset; 80 have it."""
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 1, 400))
    y_low = np.sin(8 * x) + 0.5 * x
    y_high = 2.0 * y_low + 0.3 * np.cos(3 * x) + rng.normal(0, 0.02, 400)
    y_high[rng.permutation(400)[80:]] = np.nan
    return xr.Dataset(
        {
            "X": (("item", "feature"), x[:, None]),
            "y_low": ("item", y_low),
            "y_high": ("item", y_high),
        }
    )


def test_allocation_arithmetic_and_caps():
    a = allocate_budget(1000.0, 0.3, COSTS)
    assert (a.n_low, a.n_high) == (3000, 70)
    capped = allocate_budget(1000.0, 0.3, COSTS, max_low=400, max_high=50)
    assert (capped.n_low, capped.n_high) == (400, 50)
    assert (capped.n_low_affordable, capped.n_high_affordable) == (3000, 70)
    assert len(capped.notes) == 2
    assert allocate_budget(1000.0, 0.0, COSTS).n_low == 0
    with pytest.raises(ValueError, match="cheap_fraction"):
        allocate_budget(1000.0, 1.5, COSTS)
    with pytest.raises(ValueError, match="total_s"):
        allocate_budget(-5.0, 0.5, COSTS)


def test_measured_costs_of_the_committed_data_set():
    costs = measured_costs()
    assert costs.n_low >= 2000 and costs.n_high >= 200
    assert 0 < costs.low_s < 1.0 < costs.high_s  # xTB well under a second, DFT seconds
    assert costs.ratio > 20


def test_split_is_nested_and_the_test_set_disjoint(pool):
    y_high = pool["y_high"].values
    split = fidelity_split(y_high, 10, 30, np.random.default_rng(1))
    assert np.isfinite(y_high[split.train_high]).all() and np.isfinite(y_high[split.test]).all()
    assert not set(split.train_high) & set(split.test)
    assert len(split.train_high) + len(split.test) == np.isfinite(y_high).sum()
    assert set(split.train_high) <= set(split.low)  # cheap data first on the training items
    assert len(split.low) == 30
    with pytest.raises(ValueError, match="n_high"):
        fidelity_split(y_high, 80, 30, np.random.default_rng(1))


def test_cheap_data_make_the_expensive_prediction_better(pool):
    args = (pool["X"].values, pool["y_low"].values, pool["y_high"].values)
    without = evaluate_allocation(*args, 0, 8, model="ar1", n_repeats=2)
    with_cheap = evaluate_allocation(*args, 400, 8, model="ar1", n_repeats=2)
    assert without["model_used"] == "single_fidelity"
    assert with_cheap["model_used"] == "ar1"
    assert with_cheap["rmse"] < 0.5 * without["rmse"]
    assert with_cheap["n_test"] == 72
    with pytest.raises(ValueError, match="model"):
        evaluate_allocation(*args, 10, 8, model="kriging")


def test_budget_and_learning_curves_and_their_figures(pool):
    args = (pool["X"].values, pool["y_low"].values, pool["y_high"].values)
    table = budget_curve(*args, 500.0, COSTS, fractions=FRACTIONS, model="proxy", n_repeats=1)
    assert table["n_high"].tolist() == [50, 49, 47, 35]
    assert table["rmse"].notna().all()
    fig = compute_budget_curve(table, 0.05)
    assert list(fig.data[0].x) == [0.01, 0.05, 0.3]
    assert fig.data[3].y[0] == pytest.approx(table["rmse"].iloc[2])
    assert fig.data[2].y[0] == pytest.approx(table["rmse"].iloc[0])  # all on expensive

    curve = learning_curve(*args, [5, 20], models=["single_fidelity", "ar1"], n_splits=2)
    assert len(curve) == 8
    fig = learning_curves(curve)
    assert [t.name for t in fig.data] == ["single fidelity (DFT only)", "AR1 (Kennedy-O'Hagan)"]
    means = curve.groupby(["model", "n_high"])["rmse"].mean()
    assert fig.data[1].y[1] == pytest.approx(means["ar1", 20])
    assert means["ar1", 5] < means["single_fidelity", 5]

    scatter = fidelity_scatter(pool["y_low"].values, pool["y_high"].values)
    assert len(scatter.data[0].x) == 80
    with pytest.raises(TypeError, match="DataFrame"):
        compute_budget_curve({"rmse": [1.0]})


def test_panel_allocation_evaluation_and_fast_slider(pool, monkeypatch):
    panel = ComputeBudgetPanel(
        pool,
        COSTS,
        total=500,
        unit="CPU-seconds",
        cheap_fraction=0.05,
        fractions=FRACTIONS,
        model="ar1",
        n_repeats=1,
    )
    assert (panel.allocation.n_low, panel.allocation.n_high) == (250, 47)
    assert "250 xTB" in panel.status.value and "47 DFT" in panel.status.value
    assert "10 CPU-s" in panel.costs_html.value
    assert panel.table is None and "Evaluate" in panel.result_html.value

    table = panel.evaluate()
    assert isinstance(table, pd.DataFrame) and panel.table is table
    assert panel.progress.value == 1.0
    assert panel.result["n_low"] == 250
    assert f"{panel.result['rmse']:.3f}" in panel.result_html.value
    assert panel.figure.data[3].x[0] == 0.05

    def no_fitting(*args, **kwargs):
        raise AssertionError("moving the slider fitted models again")

    monkeypatch.setattr("mi_workbench.widgets.compute_budget_panel.budget_curve", no_fitting)
    panel.fraction.value = 0.3  # from the cache: no fitting
    assert panel.last_update_s > 0.0  # measured (bench/ and the browser say how fast)
    assert panel.allocation.n_low == 400 and panel.allocation.notes  # capped at the pool
    assert panel.result["cheap_fraction"] == 0.3
    assert panel.figure.data[3].x[0] == 0.3
    assert panel.figure.data[3].y[0] == pytest.approx(table["rmse"].iloc[3])

    panel.fraction.value = 0.0
    assert "single fidelity" in panel.result_html.value

    panel.unit.value = "CPU-hours"  # the same budget, shown in hours
    assert panel.budget.value == pytest.approx(500 / 3600)
    assert panel.table is table

    panel.model.value = "proxy"  # other settings: not evaluated yet
    assert panel.table is None and panel.result is None
    panel.model.value = "ar1"  # back: from the cache at once
    assert panel.table is table


def test_panel_figure_in_the_browser_follows_the_evaluation(pool, monkeypatch):
    """After Evaluate the browser no longer draws the placeholder's note or hides the axes."""
    monkeypatch.setattr(go, "FigureWidget", BrowserFigureWidget)
    panel = ComputeBudgetPanel(
        pool, COSTS, total=500, unit="CPU-seconds", fractions=FRACTIONS, n_repeats=1
    )
    shown = panel.figure
    assert notes(shown.browser_layout) == ["Press Evaluate to measure the curve."]
    assert hidden_axes(shown.browser_layout) == ["xaxis", "yaxis"]
    panel.evaluate()
    assert notes(shown.browser_layout) == [] and hidden_axes(shown.browser_layout) == []
    assert shown.browser_layout == shown.layout.to_plotly_json()
    assert shown.layout.width is None and shown.layout.autosize is True
    panel.model.value = "ar1"  # not evaluated: the placeholder again, without the curve's title
    assert notes(shown.browser_layout) == ["Press Evaluate to measure the curve."]
    assert hidden_axes(shown.browser_layout) == ["xaxis", "yaxis"]
    assert "title" not in shown.browser_layout
    assert shown.browser_layout == shown.layout.to_plotly_json()


def test_panel_bad_values_show_an_error_and_keep_the_state(pool):
    panel = ComputeBudgetPanel(pool, COSTS, total=500, unit="CPU-seconds", fractions=FRACTIONS)
    before = panel.allocation
    panel.budget.value = -3
    assert "budget must be > 0" in panel.error
    assert panel.allocation is before
    assert panel.evaluate() is None and panel.table is None
    panel.budget.value = 500
    assert panel.error == ""
    panel.budget.value = 20  # 2 expensive calculations: allocation shown, too few to fit
    assert "too few" in panel.status.value
    with pytest.raises(ValueError, match="model"):
        ComputeBudgetPanel(pool, COSTS, model="kriging")
    with pytest.raises(ValueError, match="y_high"):
        ComputeBudgetPanel(pool.drop_vars("y_high"), COSTS)


def test_panel_on_the_committed_molecules():
    panel = ComputeBudgetPanel(
        total=0.1, fractions=(0.0, 0.05), model="single_fidelity", n_repeats=1
    )
    assert panel.costs.n_high >= 200
    panel.evaluate()
    assert panel.table["n_low"].tolist()[0] == 0
    assert 0.1 < panel.result["rmse"] < 3.0  # eV
