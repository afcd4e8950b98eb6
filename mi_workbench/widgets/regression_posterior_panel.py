"""``RegressionPosteriorPanel``: sample the posterior of a Bayesian linear regression.

``PosteriorPanel(table, features, target, ...)`` returns this form. The model is built once per
set of priors and its compilation re-used, so sampling again with unchanged priors costs only the
sampling. Views: marginal posteriors, pair plot, trace plot and the posterior predictive, drawn
by the project's own figures in the data's units (ArviZ's plots show the standardised
parameters of the sampling model, not these); the convergence diagnostics are spelt out in
words next to them. For a user's own ``pm.Model`` with ArviZ's views see
:class:`~mi_workbench.widgets.ModelPosteriorPanel`.
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
from mi_workbench.plots._style import axis_label
from mi_workbench.widgets._base import parameter_units, read_uploaded_table, table_upload
from mi_workbench.widgets.posterior_panel import PosteriorPanel, placeholder_figure
from mi_workbench.widgets.regression_prior_panel import RegressionPriorPanel

#: The views the panel can show.
VIEWS = ("marginals", "pair", "trace", "predictive")
#: Posterior variables shown (in the data's own units).
VAR_NAMES = ("intercept", "coefficients", "noise_sd")
_MAX_CACHED_MODELS = 4
_N_GRID = 50


class RegressionPosteriorPanel(PosteriorPanel):
    """Sample and inspect the posterior of a Bayesian linear regression on a user's table.

    Parameters
    ----------
    data : pandas.DataFrame or xarray.Dataset
        The user's table, one row per observation.
    features : list of str
        Descriptor columns.
    target : str
        Target column.
    priors : dict or RegressionPriorPanel, optional
        Priors as a dict (see :func:`~mi_workbench.models.regression_priors`), or a
        :class:`PriorPanel` of the same table whose current priors are used at each sampling.
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
        priors: Mapping[str, Prior | dict] | RegressionPriorPanel | None = None,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 2,
        random_seed: int = 0,
        reference_values: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__()
        self.data = as_regression_data(data, features, target)
        if isinstance(priors, RegressionPriorPanel):
            self._prior_panel: RegressionPriorPanel | None = priors
            self._fixed_priors: dict[str, Prior] | None = None
            priors.observe_priors(self._on_priors_changed)
            self._linked_data = priors.data
        else:
            self._prior_panel = None
            self._fixed_priors = regression_priors(priors)
        self.draws = check_positive_int("draws", draws)
        self.tune = check_positive_int("tune", tune)
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
        self.upload = table_upload()
        self.upload.observe(self._on_upload, names="value")
        self.view_selector = widgets.ToggleButtons(options=list(VIEWS), value="marginals")
        self.view_selector.observe(self._on_view, names="value")
        self._figure = go.FigureWidget(placeholder_figure())
        self._figure_box = widgets.VBox([self._figure], layout={"width": "100%"})
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [
                        self.sample_button,
                        self.cancel_button,
                        self.progress,
                        self.activity,
                        self.upload,
                    ]
                ),
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

    def sample(self, *, background: bool = False) -> xr.DataTree | None:
        """Sample the posterior with the current priors.

        From Python this waits and returns the new ``idata``, or ``None`` if sampling failed or
        was cancelled (the message is then shown in ``.message`` and the previous result stays).
        The button runs it with ``background=True``: it returns at once and the kernel stays
        free; :meth:`wait` waits for the result, :meth:`cancel` stops it.
        """
        priors = self.priors
        if self._prior_panel is not None and self._prior_panel.data is not self._linked_data:
            self._linked_data = self._prior_panel.data  # the linked prior panel loaded a table
            self._use_data(self._linked_data)
        model = self._model_for(priors)

        def work(cancel, on_progress, on_stage):
            idata = fit(
                model,
                draws=self.draws,
                tune=self.tune,
                chains=self.chains,
                random_seed=self.random_seed,
                on_progress=on_progress,
                cancel=cancel,
                on_stage=on_stage,
            )
            return idata, diagnose(idata, list(VAR_NAMES))

        def accept(outcome) -> None:
            self.model = model
            self.idata, self.diagnostics = outcome
            self._sampled_priors = priors
            self._figures = {}
            self._show_status()
            self._show_diagnostics()
            self._show_view()

        outcome = self._launch(work, accept, background=background)
        return None if outcome is None else self.idata

    def load_table(self, table, sheet: str | int | None = None) -> None:
        """Use another table with the same columns (a DataFrame, Dataset, CSV or Excel path).

        The next sampling uses it; the current posterior stays shown until then. Raises
        ``ValueError`` naming the file, column and row of a problem, and then changes nothing.
        """
        from mi_workbench.data import read_table

        if not isinstance(table, (pd.DataFrame, xr.Dataset)):
            table = read_table(table, sheet=sheet)
        self._use_data(as_regression_data(table, self.data.feature_names, self.data.target_name))
        self._show_info(
            f"Loaded {self.data.n_obs} observations: press Sample posterior to use them."
        )

    def _use_data(self, data) -> None:
        self.data = data
        self._units = parameter_units(data)
        self._models.clear()

    def _on_upload(self, change: dict) -> None:
        if not change["new"]:
            return
        try:
            self.load_table(read_uploaded_table(change["new"]))
        except (ValueError, TypeError) as error:
            self._show_error(f"Cannot use the uploaded table: {error}")

    def summary_table(self):
        """Posterior summary (ArviZ) of the parameters in the data's units, as a DataFrame."""
        return super().summary_table(list(VAR_NAMES))

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
