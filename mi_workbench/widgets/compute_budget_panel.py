"""``ComputeBudgetPanel``: split a fixed compute budget between cheap and expensive calculations.

A budget of CPU time buys ``n_low`` cheap calculations (xTB) and ``n_high`` expensive ones (DFT),
at the costs per molecule measured when the workbench's molecule data set was computed. Which
split predicts the expensive quantity best? The panel answers by measurement: for every share of
the budget on a grid, it fits the chosen transfer model on random subsets of that size of the
committed data and measures the error on the DFT gaps that were held out
(:func:`mi_workbench.design.budget.budget_curve`). One press of "Evaluate" computes the whole
curve (with a progress bar); after that, moving the fraction slider, or returning to settings
evaluated before, answers at once from the cache.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import (
    check_choice,
    check_finite_array,
    check_finite_number,
    check_positive,
    check_positive_int,
)
from mi_workbench.design.budget import (
    DEFAULT_FRACTIONS,
    MIN_HIGH,
    SECONDS_PER_HOUR,
    BudgetAllocation,
    FidelityCosts,
    allocate_budget,
    budget_curve,
    measured_costs,
    xtb_dft_fidelity_data,
)
from mi_workbench.design.multifidelity import TRANSFER_MODELS
from mi_workbench.plots.transfer import MODEL_LABELS, compute_budget_curve
from mi_workbench.widgets._base import Panel
from mi_workbench.widgets.campaign_panel import _placeholder, _replace_figure

__all__ = ["ComputeBudgetPanel"]

UNITS = ("CPU-hours", "CPU-seconds")


def _fraction_label(fraction: float) -> str:
    return f"{100 * fraction:.3g} %"


class ComputeBudgetPanel(Panel):
    """Choose a budget and its split; see what it buys and how accurate the result is.

    Parameters
    ----------
    data : xarray.Dataset, optional
        Pool of items with ``X`` (item, feature), ``y_low`` (every item) and ``y_high`` (NaN
        where not computed), e.g. :func:`~mi_workbench.design.budget.xtb_dft_fidelity_data`
        (the default: the workbench's molecules, xTB -> DFT HOMO-LUMO gaps).
    costs : FidelityCosts, optional
        Cost of one cheap and one expensive calculation; default measured from the wall times in
        ``data`` (:func:`~mi_workbench.design.budget.measured_costs`).
    total : float
        Starting budget, in ``unit``.
    unit : {"CPU-hours", "CPU-seconds"}
    cheap_fraction : float
        Starting share of the budget on cheap calculations (the nearest value of ``fractions``).
    model : {"single_fidelity", "ar1", "nargp", "difference", "proxy"}
        Transfer model (:mod:`mi_workbench.design.multifidelity`). The default, "proxy as
        descriptor", is the most accurate on the molecules and the fastest to fit; evaluating the
        AR(1) model takes a few times longer.
    n_repeats : int
        Random splits averaged per point.
    random_seed : int
    fractions : sequence of float
        The grid of fractions that "Evaluate" measures (the slider's positions).
    min_test : int
        Items with an expensive value always kept out of training (the test set).
    evaluate : bool
        Evaluate the starting settings at once (takes seconds to a minute).

    Attributes
    ----------
    allocation : BudgetAllocation
        What the current budget and fraction buy (updated on every valid change).
    table : pandas.DataFrame or None
        The evaluated curve for the current budget, model, seed and repeats (None until
        evaluated); see :func:`~mi_workbench.design.budget.budget_curve`.
    result : pandas.Series or None
        The row of ``table`` at the current fraction.
    costs : FidelityCosts
    total_s : float
        The current budget in CPU-seconds.
    last_update_s : float
        Seconds the last control change took to answer (without an evaluation).
    budget, unit, fraction, model, seed, repeats : ipywidgets controls
    evaluate_button : ipywidgets.Button
    progress : ipywidgets.FloatProgress
    status, result_html, costs_html : ipywidgets.HTML
    figure : plotly.graph_objects.FigureWidget
        RMSE against the fraction, the current choice marked.
    widget : ipywidgets.VBox

    Examples
    --------
    >>> panel = ComputeBudgetPanel(total=0.5, model="proxy")  # doctest: +SKIP
    >>> panel.evaluate()  # doctest: +SKIP
    >>> panel.fraction.value = 0.05  # doctest: +SKIP
    >>> panel.allocation.n_low, panel.allocation.n_high, panel.result["rmse"]  # doctest: +SKIP
    """

    def __init__(
        self,
        data: xr.Dataset | None = None,
        costs: FidelityCosts | None = None,
        *,
        total: float = 0.5,
        unit: str = "CPU-hours",
        cheap_fraction: float = 0.02,
        model: str = "proxy",
        n_repeats: int = 3,
        random_seed: int = 0,
        fractions: Sequence[float] = DEFAULT_FRACTIONS,
        min_test: int = 20,
        evaluate: bool = False,
    ) -> None:
        if data is None:
            data = xtb_dft_fidelity_data()
        if not isinstance(data, xr.Dataset):
            raise TypeError(f"data must be an xarray.Dataset, got {type(data).__name__}")
        missing = [v for v in ("X", "y_low", "y_high") if v not in data]
        if missing:
            raise ValueError(f"data has no variable(s) {missing}; it needs X, y_low and y_high")
        if costs is None:
            costs = measured_costs(data)
        if not isinstance(costs, FidelityCosts):
            raise TypeError(f"costs must be a FidelityCosts, got {type(costs).__name__}")
        unit = check_choice("unit", unit, UNITS)
        model = check_choice("model", model, tuple(TRANSFER_MODELS))
        total = check_positive("total", total)
        cheap_fraction = check_finite_number("cheap_fraction", cheap_fraction)
        if not 0.0 <= cheap_fraction <= 1.0:
            raise ValueError(f"cheap_fraction must be in [0, 1], got {cheap_fraction!r}")
        n_repeats = check_positive_int("n_repeats", n_repeats)
        random_seed = check_positive_int("random_seed", random_seed, minimum=0)
        fractions = sorted({float(f) for f in check_finite_array("fractions", fractions, ndim=1)})
        if not fractions or fractions[0] < 0 or fractions[-1] > 1:
            raise ValueError(f"fractions must be values in [0, 1], got {fractions}")
        super().__init__()
        self.data = data
        self.costs = costs
        self.min_test = check_positive_int("min_test", min_test)
        self._X = np.asarray(data["X"].values, dtype=float)
        self._y_low = np.asarray(data["y_low"].values, dtype=float)
        self._y_high = np.asarray(data["y_high"].values, dtype=float)
        self._n_with_high = int(np.isfinite(self._y_high).sum())
        self._fractions = fractions
        self._cache: dict[tuple, pd.DataFrame] = {}
        self._converting = False
        self.table: pd.DataFrame | None = None
        self.result: pd.Series | None = None
        self.last_update_s = 0.0

        start_fraction = fractions[int(np.argmin(np.abs(np.array(fractions) - cheap_fraction)))]
        self.budget = widgets.FloatText(value=float(total), description="budget", step=0.1)
        self.unit = widgets.ToggleButtons(options=list(UNITS), value=unit)
        self.fraction = widgets.SelectionSlider(
            options=[(_fraction_label(f), f) for f in fractions],
            value=start_fraction,
            description="on cheap",
            continuous_update=False,
            layout={"width": "460px"},
        )
        self.model = widgets.Dropdown(
            options=[(MODEL_LABELS.get(name, name), name) for name in TRANSFER_MODELS],
            value=model,
            description="model",
        )
        self.seed = widgets.IntText(value=int(random_seed), description="seed")
        self.repeats = widgets.BoundedIntText(
            value=int(n_repeats), min=1, max=20, description="repeats"
        )
        self.evaluate_button = widgets.Button(
            description="Evaluate",
            button_style="primary",
            icon="play",
            tooltip="Fit the model at every fraction of the grid on random subsets of the data",
        )
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, description="progress", layout={"width": "320px"}
        )
        self.costs_html = widgets.HTML(self._costs_text())
        self.status = widgets.HTML()
        self.result_html = widgets.HTML()
        self.figure = go.FigureWidget(_placeholder("Press Evaluate to measure the curve.", 420))

        self.evaluate_button.on_click(lambda _: self.evaluate())
        self.unit.observe(self._on_unit, names="value")
        for control in (self.budget, self.fraction, self.model, self.seed, self.repeats):
            control.observe(lambda _change: self._on_change(), names="value")

        self.widget = widgets.VBox(
            [
                widgets.HTML("<b>Compute budget: cheap or expensive calculations?</b>"),
                self.costs_html,
                widgets.HBox([self.budget, self.unit]),
                self.fraction,
                widgets.HBox([self.model, self.seed, self.repeats]),
                widgets.HBox([self.evaluate_button, self.progress]),
                self.status,
                self.result_html,
                self.message,
                self.figure,
            ]
        )
        self.allocation: BudgetAllocation = self._allocation()
        self._refresh()
        if evaluate:
            self.evaluate()

    # -- reading the controls --------------------------------------------------------------------
    def _total_s(self) -> float:
        value = check_positive("budget", self.budget.value)
        return value * SECONDS_PER_HOUR if self.unit.value == "CPU-hours" else value

    @property
    def total_s(self) -> float:
        """The budget in CPU-seconds."""
        return self.allocation.total_s

    def _settings(self) -> tuple:
        model = check_choice("model", self.model.value, tuple(TRANSFER_MODELS))
        repeats = check_positive_int("repeats", self.repeats.value)
        seed = self.seed.value
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        return (round(self._total_s(), 6), model, int(seed), repeats)

    def _allocation(self) -> BudgetAllocation:
        return allocate_budget(
            self._total_s(),
            float(self.fraction.value),
            self.costs,
            max_low=len(self._y_low),
            max_high=self._n_with_high - self.min_test,
        )

    # -- actions ---------------------------------------------------------------------------------
    def evaluate(self) -> pd.DataFrame | None:
        """Measure the curve for the current settings (the "Evaluate" button); cached.

        Returns
        -------
        pandas.DataFrame or None
            The curve (also ``panel.table``), or None if the settings are invalid or the
            evaluation failed (the message says why; the previous results stay).
        """
        if self._running:
            return None
        try:
            key = self._settings()
        except (TypeError, ValueError) as error:
            self._show_error(str(error))
            return None
        if key in self._cache:
            self._refresh()
            return self.table
        total_s, model, seed, repeats = key
        n_fits = len(self._fractions) * repeats
        self._show_info(f"Fitting {MODEL_LABELS.get(model, model)} {n_fits} times ...")
        start = time.perf_counter()
        table = self._run_busy(
            lambda: budget_curve(
                self._X,
                self._y_low,
                self._y_high,
                total_s,
                self.costs,
                fractions=self._fractions,
                model=model,
                n_repeats=repeats,
                random_seed=seed,
                min_test=self.min_test,
                progress=lambda done, total: self._set_progress(done / total),
            ),
            [self.evaluate_button],
            "Evaluation failed",
        )
        if table is None:
            return None
        seconds = time.perf_counter() - start
        table.attrs["evaluation_s"] = seconds
        self._cache[key] = table
        self._refresh()
        self._show_info(f"Evaluated {n_fits} fits in {seconds:.1f} s.")
        return self.table

    # -- observers -------------------------------------------------------------------------------
    def _on_unit(self, change) -> None:
        """Keep the budget when the unit changes: convert the number shown."""
        try:
            value = check_positive("budget", self.budget.value)
        except (TypeError, ValueError):
            self._on_change()
            return
        factor = SECONDS_PER_HOUR if change["new"] == "CPU-seconds" else 1 / SECONDS_PER_HOUR
        self._converting = True
        try:
            self.budget.value = value * factor
        finally:
            self._converting = False
        self._on_change()

    def _on_change(self) -> None:
        if self._converting:
            return
        start = time.perf_counter()
        try:
            self._settings()
            allocation = self._allocation()
        except (TypeError, ValueError) as error:
            self._show_error(f"{error}. The panel still shows the last valid settings.")
            return
        self.allocation = allocation
        self._clear_message()
        self._refresh()
        self.last_update_s = time.perf_counter() - start

    # -- display ---------------------------------------------------------------------------------
    def _costs_text(self) -> str:
        c = self.costs
        return (
            f"Measured cost per molecule (one core; mean over the data set): "
            f"<b>{c.low_name} {c.low_s:.3g} CPU-s</b> ({c.n_low:,} molecules), "
            f"<b>{c.high_name} {c.high_s:.3g} CPU-s</b> ({c.n_high:,} molecules): one "
            f"{c.high_name} calculation costs as much as {c.ratio:.0f} {c.low_name} calculations. "
            f"The error is measured on the {c.high_name} values left out of training "
            f"(at least {self.min_test})."
        )

    def _refresh(self) -> None:
        a = self.allocation
        notes = "".join(f"<br><i>Note: {html.escape(n)}.</i>" for n in a.notes)
        few = (
            f"<br><i>{a.n_high} {self.costs.high_name} calculation(s) are too few to fit a model "
            f"(at least {MIN_HIGH}).</i>"
            if a.n_high < MIN_HIGH
            else ""
        )
        self.status.value = (
            f"{a.total_s:,.0f} CPU-s ({a.total_s / SECONDS_PER_HOUR:.3g} CPU-hours), "
            f"{_fraction_label(a.cheap_fraction)} on {self.costs.low_name}: buys "
            f"<b>{a.n_low_affordable:,} {self.costs.low_name}</b> and "
            f"<b>{a.n_high_affordable:,} {self.costs.high_name}</b> calculations."
            f"{notes}{few}"
        )
        try:
            key = self._settings()
        except (TypeError, ValueError):
            key = None
        self.table = self._cache.get(key)
        if self.table is None:
            self.result = None
            self.result_html.value = (
                "Not evaluated for these settings yet: press <b>Evaluate</b> (about "
                f"{len(self._fractions) * self.repeats.value} model fits)."
            )
            _replace_figure(self.figure, _placeholder("Press Evaluate to measure the curve.", 420))
            return
        fractions = self.table["cheap_fraction"].to_numpy(float)
        row = self.table.iloc[int(np.argmin(np.abs(fractions - a.cheap_fraction)))]
        self.result = row
        if np.isfinite(row["rmse"]):
            se = "" if not np.isfinite(row["rmse_se"]) else f" &plusmn; {row['rmse_se']:.3f}"
            used = (
                f" (with no cheap data every model is the {MODEL_LABELS['single_fidelity']} GP)"
                if row["model_used"] != self.table.attrs["model"]
                else ""
            )
            self.result_html.value = (
                f"Trained on {int(row['n_low']):,} {self.costs.low_name} + "
                f"{int(row['n_high'])} {self.costs.high_name} molecules: held-out RMSE on "
                f"{self.costs.high_name} gaps <b>{row['rmse']:.3f}{se} eV</b> "
                f"({int(row['n_test'])} test molecules, {self.table.attrs['n_repeats']} "
                f"split(s)); the model's own predicted sd {row['predicted_sd']:.3f} eV, "
                f"{100 * row['coverage_95']:.0f} % of the test values within its 95 % "
                f"interval{used}."
            )
        else:
            self.result_html.value = "Too few expensive calculations at this fraction."
        model = self.table.attrs["model"]
        title = f"{MODEL_LABELS.get(model, model)}: {a.total_s / SECONDS_PER_HOUR:.3g} CPU-hours"
        _replace_figure(
            self.figure, compute_budget_curve(self.table, a.cheap_fraction, title=title)
        )
