"""``ModelPriorPanel``: the priors of a user's own ``pm.Model``, and what they imply for data.

``PriorPanel(model)`` returns this form. It reads the model (:func:`inspect_model`): one control
group per free variable whose prior can be edited, generated from its distribution and
parameters; variables whose priors depend on other variables (hierarchical ones) or that were
kept ``fixed`` are drawn as histograms of their prior draws. Below, the prior predictive of an
observed variable over its data: mean curves and a 90 % band over its one-dimensional input
(``pm.Data``) or the observation index, or a histogram of all predicted values.

All draws come from ONE compiled function (:class:`~mi_workbench.models.PriorPredictive`), whose
inputs are the draws of the editable variables: a control change costs a SciPy quantile
function and one call of that function, never a compile.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Iterable, Mapping

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go

from mi_workbench.models.inspection import inspect_model, model_with_priors, priors_code
from mi_workbench.models.predictive import PriorPredictive
from mi_workbench.models.priors import Prior
from mi_workbench.plots.priors import (
    density_curve,
    finite_draws,
    histogram_curve,
    model_prior_predictive,
    predictive_histogram,
    predictive_title,
    prior_predictive_arrays,
    prior_title,
    variable_priors,
)
from mi_workbench.widgets.prior_panel import PriorPanel, control_grid

#: Views of the prior predictive.
PREDICTIVE_VIEWS = ("curves", "histogram")
_MAX_CACHED_MODELS = 4

_HELP = (
    "<b>Priors of the model</b>. Move a slider or type an exact value (Enter); switch a family "
    "where the variable's range allows; or state an interval and its probability, "
    "P(from &le; x &le; to) = mass, and press <b>Fit</b> (maximum entropy, PreliZ). "
    "The figures below show the priors and what they predict for the data, before any data "
    "are used."
)


class ModelPriorPanel(PriorPanel):
    """Interactive priors of any PyMC model, with live prior densities and prior predictive.

    Parameters
    ----------
    model : pymc.Model
        The user's model, with at least one free random variable. Observations enter through
        ``observed=``; an x input of the predictive is a one-dimensional ``pm.Data``.
    priors : dict, optional
        Starting priors of some editable variables (name -> :class:`~mi_workbench.models.Prior`
        or dict); default the model's own.
    fixed : list of str
        Free variables whose priors stay as the model has them (no controls; drawn as
        histograms), e.g. one whose family the panels do not edit.
    observed : list of str, optional
        Observed variables to show; default all.
    x : dict, optional
        Per observed variable, the name of its x input or an array of x values (see
        :class:`~mi_workbench.models.PriorPredictive`).
    labels : dict of str -> str, optional
        Axis titles with units, by variable or input name, e.g.
        ``{"shift": "Raman shift (cm⁻¹)"}``.
    n_draws : int
        Joint prior draws per update.
    random_seed : int
        Seed of the draws (fixed, so curves move smoothly as a control moves).
    max_cols : int
        Density subplots per row.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole panel (a notebook displays the panel itself too).
    structure : ModelStructure
        What the panel read from the model (free and observed variables, and why a prior is not
        editable).
    controls : dict of str -> PriorControl
        One control group per editable prior (see :class:`PriorPanel`).
    density_figure : plotly.graph_objects.FigureWidget
        One subplot per free variable (trace ``i`` is the ``i``-th free variable).
    observed_selector : ipywidgets.Dropdown
        The observed variable shown in the predictive (hidden when there is only one).
    view_selector : ipywidgets.ToggleButtons
        ``"curves"`` (band and mean curves over x) or ``"histogram"``.
    predictive_figure : plotly.graph_objects.FigureWidget
        The prior predictive; in the curves view traces ``"90% predictive"``,
        ``"90% predictive (low)"``, ``"prior draws"`` and ``"data"``.
    draws : PriorDraws
        The latest joint prior draws.

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> t = np.linspace(0.0, 5.0, 40)
    >>> with pm.Model() as decay:
    ...     time = pm.Data("time", t)
    ...     rate = pm.LogNormal("rate", 0.0, 0.5)
    ...     noise = pm.HalfNormal("noise", 0.1)
    ...     y = pm.Normal("y", pm.math.exp(-rate * time), noise, observed=np.exp(-0.8 * t))
    >>> panel = PriorPanel(decay)
    >>> sorted(panel.controls)
    ['noise', 'rate']
    >>> panel.set_prior("rate", sigma=0.2).describe()
    'LogNormal(mu=0, sigma=0.2)'
    >>> print(panel.to_code())
    rate = pm.LogNormal("rate", mu=0, sigma=0.2)
    noise = pm.HalfNormal("noise", sigma=0.1)
    """

    def __init__(
        self,
        model,
        *,
        priors: Mapping[str, Prior | dict] | None = None,
        fixed: Iterable[str] = (),
        observed: Iterable[str] | None = None,
        x: Mapping[str, object] | None = None,
        labels: Mapping[str, str] | None = None,
        n_draws: int = 100,
        random_seed: int = 0,
        max_cols: int = 4,
    ) -> None:
        super().__init__()
        self._fixed = tuple(str(name) for name in fixed)
        self.structure = inspect_model(model, fixed=self._fixed, observed=observed)
        start = self.structure.priors
        if priors:
            start.update(self.structure.check_priors(priors))
        self._priors = start
        self._labels = dict(labels or {})
        self.predictive = PriorPredictive(
            self.structure, n_draws=n_draws, random_seed=random_seed, x=x
        )
        self.draws = self.predictive.draws(self._priors)
        self._models: OrderedDict = OrderedDict()
        self._base_ranges = {n: p.interval(0.995) for n, p in self._priors.items()}

        self.controls = {
            name: self._make_control(name, title=self._control_title(name))
            for name in self.structure.editable
        }
        self.notes = widgets.HTML(self._notes_html())
        self.density_figure = go.FigureWidget(self._density_figure(max_cols))
        self._density_axes = {
            name: "xaxis" + (trace.xaxis or "x")[1:]
            for name, trace in zip(self.structure.free, self.density_figure.data, strict=True)
        }
        self._update_density_ranges()

        observed_names = list(self.structure.observed)
        self.observed_selector = widgets.Dropdown(
            options=observed_names,
            value=observed_names[0] if observed_names else None,
            description="observed",
            layout={"width": "320px", "display": None if len(observed_names) > 1 else "none"},
        )
        self.view_selector = widgets.ToggleButtons(
            options=list(PREDICTIVE_VIEWS),
            value="curves",
            tooltips=[
                "90 % band of the predicted observations and mean curves over x",
                "all predicted observations pooled, beside the data",
            ],
        )
        self.observed_selector.observe(self._on_predictive_choice, names="value")
        self.view_selector.observe(self._on_predictive_choice, names="value")
        self._predictive_box = widgets.VBox([], layout={"width": "100%"})
        self._predictive_figure: go.FigureWidget | None = None
        self._show_predictive()
        self.widget = widgets.VBox(
            [
                widgets.HTML(_HELP),
                control_grid(self.controls),
                self.notes,
                self.message,
                self.density_figure,
                widgets.HBox([self.observed_selector, self.view_selector]),
                self._predictive_box,
            ]
        )
        if not observed_names:
            self.view_selector.layout.display = "none"

    # ------------------------------------------------------------------ public API
    @property
    def model(self):
        """The model the panel was made from (unchanged; see :meth:`to_model`)."""
        return self.structure.model

    @property
    def predictive_figure(self) -> go.FigureWidget | None:
        """The figure of the prior predictive (``None`` for a model without observations)."""
        return self._predictive_figure

    def to_model(self):
        """A ``pm.Model`` with the current priors: same data, names, dims and likelihood.

        The model's own object when the priors are still the model's; models are cached per
        set of priors, so sampling again with the same priors re-uses the compilation.
        """
        original = self.structure.priors
        changed = {n: p for n, p in self._priors.items() if p != original[n]}
        if not changed:
            return self.structure.model
        key = tuple(sorted(changed.items()))
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        model = model_with_priors(self.structure.model, changed, fixed=self._fixed)
        self._models[key] = model
        while len(self._models) > _MAX_CACHED_MODELS:
            self._models.popitem(last=False)
        return model

    def to_code(self) -> str:
        """The current priors as PyMC lines to paste into the model's code."""
        return priors_code(self.structure, self._priors)

    # ------------------------------------------------------------------ the form's rules
    def _current(self, name: object) -> Prior:
        self.structure.check_editable(name)  # says why a prior is not editable
        return super()._current(name)

    def _families(self, name: str) -> list[str]:
        return self.structure.free[name].families

    def _check(self, priors: dict[str, Prior]) -> dict[str, Prior]:
        return self.structure.check_priors(priors)

    def _control_title(self, name: str) -> str:
        var = self.structure.free[name]
        return (
            f"<b>{html.escape(var.label())}</b> "
            f"<span style='color:#666'>model: {html.escape(var.prior.describe())}</span>"
        )

    def _notes_html(self) -> str:
        items = [
            f"<li><b>{html.escape(var.label())}</b> ({html.escape(var.distribution)}): "
            f"{html.escape(var.reason)}; its prior draws are shown as a histogram</li>"
            for var in self.structure.free.values()
            if not var.editable
        ]
        items += [f"<li>{html.escape(note)}</li>" for note in self.structure.notes]
        if not self.structure.observed:
            items.append("<li>the model has no observed variable: no prior predictive</li>")
        return f"<ul style='color:#444;margin:2px 0'>{''.join(items)}</ul>" if items else ""

    # ------------------------------------------------------------------ figures
    def _density_figure(self, max_cols: int) -> go.Figure:
        priors = {
            name: self._priors.get(name) if var.editable else None
            for name, var in self.structure.free.items()
        }
        titles = {
            name: prior_title(var.label(), self._priors[name])
            if var.editable
            else f"<b>{html.escape(var.label())}</b><br>{html.escape(var.distribution)}, drawn"
            for name, var in self.structure.free.items()
        }
        return variable_priors(priors, self.draws.free, titles=titles, max_cols=max_cols)

    def _density_range(self, name: str) -> list[float]:
        base_low, base_high = self._base_ranges[name]
        low, high = self._priors[name].interval(0.995)
        low, high = min(base_low, low), max(base_high, high)
        pad = 0.02 * (high - low)
        return [low - pad, high + pad]

    def _update_density_ranges(self, names: Iterable[str] | None = None) -> None:
        for name in self._priors if names is None else names:
            self.density_figure.layout[self._density_axes[name]].range = self._density_range(name)

    def _redraw(self, changed: set[str]) -> None:
        self.draws = self.predictive.draws(self._priors)
        fig = self.density_figure
        with fig.batch_update():
            for i, (name, var) in enumerate(self.structure.free.items()):
                if var.editable and name in changed:
                    x, density = density_curve(self._priors[name])
                    fig.layout.annotations[i].text = prior_title(var.label(), self._priors[name])
                elif not var.editable:
                    x, density = histogram_curve(self.draws.free[name])
                else:
                    continue
                fig.data[i].x, fig.data[i].y = x, density
            self._update_density_ranges(changed)
        self._refresh_predictive()

    def _axis_label(self, name: str) -> str:
        return self._labels.get(name, name)

    def _predictive_parts(self, name: str):
        axis = self.predictive.axes[name]
        y_obs = np.asarray(self.structure.observed[name].values, dtype=float).ravel()
        replicated = np.asarray(self.draws.observed[name], dtype=float).reshape(
            self.predictive.n_draws, -1
        )
        return axis, y_obs, replicated, self.draws.mean.get(name)

    def _new_predictive_figure(self) -> go.Figure | None:
        name = self.observed_selector.value
        if name is None:
            return None
        axis, y_obs, replicated, mean = self._predictive_parts(name)
        if self.view_selector.value == "histogram":
            return predictive_histogram(y_obs, replicated, label=self._axis_label(name))
        fig = model_prior_predictive(
            axis.values,
            y_obs,
            replicated,
            x_grid=axis.grid if mean is not None else None,
            mean_draws=mean,
            x_label=self._axis_label(axis.name),
            y_label=self._axis_label(name),
        )
        if mean is None:
            fig.data[2].name = "prior draws (no mean curve for this likelihood)"
        return fig

    def _show_predictive(self) -> None:
        figure = self._new_predictive_figure()
        previous = self._predictive_figure
        if figure is None:
            self._predictive_figure = None
            self._predictive_box.children = ()
        else:
            self._predictive_figure = go.FigureWidget(figure)
            self._predictive_box.children = (self._predictive_figure,)
        if previous is not None:
            previous.close()

    def _on_predictive_choice(self, change: dict) -> None:
        self._show_predictive()

    def _refresh_predictive(self) -> None:
        fig = self._predictive_figure
        name = self.observed_selector.value
        if fig is None or name is None:
            return
        axis, y_obs, replicated, mean = self._predictive_parts(name)
        histogram = self.view_selector.value == "histogram"
        with fig.batch_update():
            fig.layout.title.text = predictive_title("prior", replicated, histogram=histogram)
            if histogram:
                fig.data[0].x, fig.data[0].y = histogram_curve(finite_draws(replicated)[0])
                return
            arrays = prior_predictive_arrays(
                axis.values, replicated, axis.grid if mean is not None else None, mean
            )
            fig.data[0].y = arrays["high"][1]
            fig.data[1].y = arrays["low"][1]
            fig.data[2].x, fig.data[2].y = arrays["lines"]
