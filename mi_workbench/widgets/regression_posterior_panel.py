"""``PosteriorPanel``: sample the posterior of a Bayesian linear regression and look at it.

The model is built once per set of priors and its compilation re-used, so sampling again with
unchanged priors costs only the sampling. Views: marginal posteriors, pair plot, trace plot and the
posterior predictive; the convergence diagnostics are spelt out in words next to them.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import check_choice, check_positive_int
from mi_workbench.data.tables import as_regression_data
from mi_workbench.inference import Diagnostics, diagnose, fit
from mi_workbench.models import (
    REGRESSION_PRIOR_NAMES,
    Prior,
    bayesian_linear_regression,
    grid_design,
    posterior_predictive_lines,
    regression_priors,
)
from mi_workbench.plots import (
    pair_plot,
    posterior_marginals,
    posterior_predictive_band,
    predicted_vs_observed,
    trace_plot,
)
from mi_workbench.plots._style import TEMPLATE, axis_label
from mi_workbench.widgets._base import SamplingPanel, parameter_units
from mi_workbench.widgets.prior_panel import PriorPanel

#: The views the panel can show.
VIEWS = ("marginals", "pair", "trace", "predictive")
#: Posterior variables shown (in the data's own units).
VAR_NAMES = ("intercept", "coefficients", "noise_sd")
_MAX_CACHED_MODELS = 4
_N_GRID = 50


def _placeholder() -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text="Press <b>Sample posterior</b> to draw from the posterior.",
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 16},
    )
    fig.update_layout(
        template=TEMPLATE,
        height=300,
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


class PosteriorPanel(SamplingPanel):
    """Sample and inspect the posterior of a Bayesian linear regression on a user's table.

    Parameters
    ----------
    data : pandas.DataFrame or xarray.Dataset
        The user's table, one row per observation.
    features : list of str
        Descriptor columns.
    target : str
        Target column.
    priors : dict or PriorPanel, optional
        Priors as a dict (see :func:`~mi_workbench.models.regression_priors`), or a
        :class:`PriorPanel` whose current priors are used at each sampling.
    draws, tune, chains : int
        Passed to :func:`~mi_workbench.inference.fit`.
    random_seed : int
        Seed of the sampler.
    reference_values : dict, optional
        Known true values drawn in the marginals view (see
        :func:`~mi_workbench.plots.posterior_marginals`).

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole panel (a notebook displays the panel itself too).
    sample_button : ipywidgets.Button
        Runs :meth:`sample`; disabled while sampling.
    progress : ipywidgets.FloatProgress
        Fraction of the sampling done (0 to 1).
    view_selector : ipywidgets.ToggleButtons
        One of ``"marginals"``, ``"pair"``, ``"trace"``, ``"predictive"``.
    figure : plotly.graph_objects.FigureWidget
        The figure of the current view (a new widget each time the view or the posterior
        changes; the previous one is closed).
    diagnostics_html : ipywidgets.HTML
        Convergence diagnostics in words: green when fine, red with the warnings.
    message : ipywidgets.HTML
        Errors (a failed sampling leaves the previous result in place).
    idata, diagnostics, model
        The latest posterior (``xarray.DataTree``), its :class:`Diagnostics` and the
        ``pm.Model``; ``None`` before the first sampling.

    Examples
    --------
    >>> from mi_workbench.data import noisy_line
    >>> panel = PosteriorPanel(noisy_line(), ["x"], "y", draws=300, tune=300)
    >>> panel.sample()  # doctest: +SKIP
    >>> panel.diagnostics.ok  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        data: pd.DataFrame | xr.Dataset,
        features: Sequence[str] | str,
        target: str,
        *,
        priors: Mapping[str, Prior | dict] | PriorPanel | None = None,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 2,
        random_seed: int = 0,
        reference_values: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__()
        self.data = as_regression_data(data, features, target)
        if isinstance(priors, PriorPanel):
            self._prior_panel: PriorPanel | None = priors
            self._fixed_priors: dict[str, Prior] | None = None
            priors.observe_priors(self._on_priors_changed)
        else:
            self._prior_panel = None
            self._fixed_priors = regression_priors(priors)
        self.draws = check_positive_int("draws", draws)
        self.tune = check_positive_int("tune", tune, minimum=0)
        self.chains = check_positive_int("chains", chains)
        self.random_seed = check_positive_int("random_seed", random_seed, minimum=0)
        self.reference_values = reference_values
        self._units = parameter_units(self.data)

        self.idata: xr.DataTree | None = None
        self.diagnostics: Diagnostics | None = None
        self.model = None
        self._models: OrderedDict = OrderedDict()
        self._sampled_priors: dict[str, Prior] | None = None
        self._figures: dict[str, go.Figure] = {}

        self._build_sampling_controls()
        self.view_selector = widgets.ToggleButtons(options=list(VIEWS), value="marginals")
        self.view_selector.observe(self._on_view, names="value")
        self._figure = go.FigureWidget(_placeholder())
        self._figure_box = widgets.VBox([self._figure], layout={"width": "100%"})
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.sample_button, self.progress]),
                self.message,
                self.status,
                self.view_selector,
                self._figure_box,
                self.diagnostics_html,
            ]
        )

    # ------------------------------------------------------------------ public API
    @property
    def priors(self) -> dict[str, Prior]:
        """The priors the next sampling uses (a linked PriorPanel's current priors)."""
        if self._prior_panel is not None:
            return self._prior_panel.priors
        return dict(self._fixed_priors)

    @property
    def figure(self) -> go.FigureWidget:
        """The figure of the current view."""
        return self._figure

    def sample(self) -> xr.DataTree | None:
        """Sample the posterior with the current priors, as a click on the button does.

        Returns the new ``idata``, or ``None`` if sampling failed (the error is then shown in
        ``.message`` and the previous result stays).
        """

        def work():
            priors = self.priors
            model = self._model_for(priors)
            idata = fit(
                model,
                draws=self.draws,
                tune=self.tune,
                chains=self.chains,
                random_seed=self.random_seed,
                on_progress=self._set_progress,
            )
            return priors, model, idata, diagnose(idata, list(VAR_NAMES))

        outcome = self._run_sampling(work)
        if outcome is None:
            return None
        priors, self.model, self.idata, self.diagnostics = outcome
        self._sampled_priors = priors
        self._figures = {}
        self._show_status()
        self._show_diagnostics()
        self._show_view()
        return self.idata

    # ------------------------------------------------------------------ internals
    def _model_for(self, priors: dict[str, Prior]):
        key = tuple(priors[name] for name in REGRESSION_PRIOR_NAMES)
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        model = bayesian_linear_regression(
            self.data.X,
            self.data.y,
            feature_names=list(self.data.feature_names),
            target_name=self.data.target_name,
            priors=priors,
        )
        self._models[key] = model
        while len(self._models) > _MAX_CACHED_MODELS:
            self._models.popitem(last=False)
        return model

    def _on_priors_changed(self, priors: dict[str, Prior]) -> None:
        if self.idata is not None:
            self._show_status()

    def _show_status(self) -> None:
        if self._sampled_priors is None:
            self.status.value = ""
            return
        used = "; ".join(f"{n} ~ {p.describe()}" for n, p in self._sampled_priors.items())
        text = f"Posterior drawn with the priors {used} (standardised scale)."
        if self.priors != self._sampled_priors:
            text += " The priors have changed since: press Sample posterior to update."
        self.status.value = f'<div style="color:#444">{html.escape(text)}</div>'

    def _show_diagnostics(self) -> None:
        d = self.diagnostics
        attrs = self.idata["posterior"].attrs
        timing = (
            f" Sampling took {attrs.get('sampling_time', float('nan')):.1f} s"
            f" (compilation {attrs.get('compile_time', 0.0):.1f} s)."
        )
        if d.ok:
            head = (
                '<div style="color:#1b7f3b;font-weight:bold">'
                f"{html.escape(d.summary_text() + timing)}</div>"
            )
        else:
            items = "".join(f"<li>{html.escape(w)}</li>" for w in d.warnings)
            head = (
                '<div style="color:#b00020;font-weight:bold">Do not interpret this posterior '
                f"yet: {html.escape(timing.strip())}</div>"
                f'<ul style="color:#b00020">{items}</ul>'
            )
        table = d.table.to_html(float_format=lambda v: f"{v:.4g}", border=0)
        self.diagnostics_html.value = head + table

    def _on_view(self, change: dict) -> None:
        self._show_view()

    def _make_figure(self, view: str) -> go.Figure:
        var_names = list(VAR_NAMES)
        if view == "marginals":
            return posterior_marginals(
                self.idata, var_names, self.reference_values, units=self._units
            )
        if view == "pair":
            return pair_plot(self.idata, var_names, units=self._units)
        if view == "trace":
            return trace_plot(self.idata, var_names, units=self._units)
        target_label = axis_label(self.data.target_name, self.data.units)
        X, y = self.data.X, self.data.y
        if X.shape[1] == 1:
            x = X[:, 0]
            pad = 0.05 * (x.max() - x.min())
            grid = np.linspace(x.min() - pad, x.max() + pad, _N_GRID)
            draws = posterior_predictive_lines(self.idata, grid_design(X, grid, 0))
            return posterior_predictive_band(
                grid,
                draws,
                x,
                y,
                x_label=axis_label(self.data.feature_names[0], self.data.units),
                y_label=target_label,
            )
        draws = posterior_predictive_lines(self.idata, X)
        return predicted_vs_observed(y, draws, label=target_label)

    def _show_view(self) -> None:
        view = check_choice("view", self.view_selector.value, VIEWS)
        if self.idata is None:
            return
        try:
            if view not in self._figures:
                self._figures[view] = self._make_figure(view)
        except (ValueError, TypeError) as error:
            self._show_error(f"Cannot draw the {view} view: {error}")
            return
        previous, self._figure = self._figure, go.FigureWidget(self._figures[view])
        self._figure_box.children = (self._figure,)
        previous.close()  # a fresh widget per view is robust; the old one is not shown anymore
