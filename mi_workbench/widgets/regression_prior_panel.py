"""``RegressionPriorPanel``: the priors of a Bayesian linear regression on a table.

Every change redraws the prior densities and regression lines drawn from the priors over the
data. Nothing is compiled: the draws are NumPy (``prior_predictive_lines``), so a slider move
updates both figures in a few milliseconds. ``PriorPanel(table, features, target)`` returns this
form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import check_choice, check_positive_int
from mi_workbench.data.tables import as_regression_data
from mi_workbench.models import (
    POSITIVE_FAMILIES,
    REAL_FAMILIES,
    REGRESSION_PRIOR_NAMES,
    Prior,
    prior_predictive_lines,
    regression_priors,
)
from mi_workbench.plots import prior_densities, prior_predictive
from mi_workbench.plots._style import axis_label
from mi_workbench.plots.priors import density_curve, join_lines, prior_title
from mi_workbench.widgets._base import read_uploaded_table, table_upload
from mi_workbench.widgets.prior_panel import PriorPanel, control_grid

_N_GRID = 20

_HELP = (
    "<b>Priors of the regression</b> <i>target = intercept + coefficients · descriptors + "
    "noise</i>. The priors act on the <b>standardised</b> scale (descriptors and target centred "
    "and divided by their standard deviation): a coefficient of 1 means that one standard "
    "deviation of a descriptor moves the target by one standard deviation; noise is in target "
    "standard deviations. Type exact values in the boxes (Enter to apply), or state an interval "
    "and its probability and press <b>Fit</b>."
)


class RegressionPriorPanel(PriorPanel):
    """Interactive priors of :func:`mi_workbench.models.bayesian_linear_regression`.

    Parameters
    ----------
    data : pandas.DataFrame or xarray.Dataset
        The user's table, one row per observation.
    features : list of str
        Descriptor columns.
    target : str
        Target column.
    priors : dict, optional
        Starting priors (any of ``intercept``, ``coefficients``, ``noise``, as
        :class:`~mi_workbench.models.Prior` or dict); default
        :func:`~mi_workbench.models.default_regression_priors`.
    plot_feature : str, optional
        Descriptor on the x axis of the prior predictive (others held at their mean); default
        the first of ``features``.
    n_draws : int
        Number of regression lines drawn from the priors.
    random_seed : int
        Seed of the draws (fixed, so lines move smoothly as a slider moves).

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole panel (a notebook displays the panel itself too).
    controls : dict of str -> PriorControl
        The controls of ``intercept``, ``coefficients`` and ``noise`` (see :class:`PriorPanel`).
    feature_selector : ipywidgets.Dropdown
        Descriptor on the prior predictive's x axis.
    upload : ipywidgets.FileUpload
        "Load table": a CSV or Excel file with the same columns replaces the data
        (:meth:`load_table`).
    density_figure, predictive_figure : plotly.graph_objects.FigureWidget
        Prior densities; prior regression lines (trace ``"prior draws"``) with the ``"data"``.
    message : ipywidgets.HTML
        Error message for invalid input (the panel then keeps its last valid state).

    Examples
    --------
    >>> from mi_workbench.data import noisy_line
    >>> panel = PriorPanel(noisy_line(), ["x"], "y")
    >>> panel.set_prior("coefficients", sigma=0.5).describe()
    'Normal(mu=0, sigma=0.5)'
    """

    def __init__(
        self,
        data: pd.DataFrame | xr.Dataset,
        features: Sequence[str] | str,
        target: str,
        *,
        priors: Mapping[str, Prior | dict] | None = None,
        plot_feature: str | None = None,
        n_draws: int = 40,
        random_seed: int = 0,
    ) -> None:
        super().__init__()
        self.data = as_regression_data(data, features, target)
        self._priors = regression_priors(priors)
        self.n_draws = check_positive_int("n_draws", n_draws)
        self.random_seed = check_positive_int("random_seed", random_seed, minimum=0)
        names = list(self.data.feature_names)
        if plot_feature is None:
            plot_feature = names[0]
        check_choice("plot_feature", plot_feature, names)
        # computing the first lines also validates the data (e.g. a constant descriptor)
        self._feature_index = names.index(plot_feature)
        lines = self._lines()
        self._base_ranges = {n: p.interval(0.995) for n, p in self._priors.items()}

        self.controls = {name: self._make_control(name) for name in REGRESSION_PRIOR_NAMES}
        self.feature_selector = widgets.Dropdown(
            options=names, value=plot_feature, description="x axis", layout={"width": "420px"}
        )
        self.feature_selector.observe(self._on_feature, names="value")
        self.upload = table_upload()
        self.upload.observe(self._on_upload, names="value")

        self.density_figure = go.FigureWidget(prior_densities(self._priors))
        self._update_density_ranges()
        x_obs = self.data.X[:, self._feature_index]
        self.predictive_figure = go.FigureWidget(
            prior_predictive(
                self._x_grid(),
                lines,
                x_obs,
                self.data.y,
                x_label=self._x_label(),
                y_label=axis_label(self.data.target_name, self.data.units),
            )
        )
        self.widget = widgets.VBox(
            [
                widgets.HTML(_HELP),
                control_grid(self.controls),
                self.message,
                self.density_figure,
                widgets.HBox([self.feature_selector, self.upload]),
                self.predictive_figure,
            ]
        )

    @property
    def plot_feature(self) -> str:
        """The descriptor on the prior predictive's x axis."""
        return self.data.feature_names[self._feature_index]

    def load_table(self, table, sheet: str | int | None = None) -> None:
        """Replace the data by another table with the same descriptor and target columns.

        ``table`` is a DataFrame, an xarray Dataset or the path of a CSV or Excel file
        (:func:`mi_workbench.data.read_table`; units in headers such as ``T (K)``). Raises
        ``ValueError`` naming the file, column and row of a problem; the data stay as they were.
        """
        from mi_workbench.data import read_table

        if not isinstance(table, (pd.DataFrame, xr.Dataset)):
            table = read_table(table, sheet=sheet)
        data = as_regression_data(table, self.data.feature_names, self.data.target_name)
        previous = self.data
        self.data = data
        try:
            lines = self._lines()  # validates the new data (e.g. a constant descriptor)
        except (ValueError, TypeError):
            self.data = previous
            raise
        fig = self.predictive_figure
        x, y = join_lines(self._x_grid(), lines)
        with fig.batch_update():
            fig.data[0].x, fig.data[0].y = x, y
            fig.data[1].x = data.X[:, self._feature_index]
            fig.data[1].y = data.y
            fig.layout.xaxis.title.text = self._x_label()
            fig.layout.yaxis.title.text = axis_label(data.target_name, data.units)
        self._show_info(f"Loaded {data.n_obs} observations.")

    def _on_upload(self, change: dict) -> None:
        if not change["new"]:
            return
        try:
            self.load_table(read_uploaded_table(change["new"]))
        except (ValueError, TypeError) as error:
            self._show_error(f"Cannot use the uploaded table: {error}")

    # ------------------------------------------------------------------ the form's rules
    def _families(self, name: str) -> list[str]:
        return list(POSITIVE_FAMILIES if name == "noise" else REAL_FAMILIES)

    def _check(self, priors: dict[str, Prior]) -> dict[str, Prior]:
        return regression_priors(priors)

    def _on_feature(self, change: dict) -> None:
        try:
            index = self.data.feature_names.index(change["new"])
        except ValueError:  # the options are the features: only a programming error gets here
            self._show_error(f"unknown descriptor {change['new']!r}")
            return
        self._feature_index = index
        self._refresh_predictive(new_feature=True)

    # ------------------------------------------------------------------ figures
    def _redraw(self, changed: set[str]) -> None:
        self._refresh_density()
        self._refresh_predictive()

    def _x_grid(self) -> np.ndarray:
        x = self.data.X[:, self._feature_index]
        low, high = float(x.min()), float(x.max())
        pad = 0.05 * (high - low)
        return np.linspace(low - pad, high + pad, _N_GRID)

    def _x_label(self) -> str:
        return axis_label(self.plot_feature, self.data.units)

    def _lines(self) -> np.ndarray:
        return prior_predictive_lines(
            self._priors,
            self.data.X,
            self.data.y,
            self._x_grid(),
            feature_index=self._feature_index,
            n_draws=self.n_draws,
            random_seed=self.random_seed,
        )

    def _density_range(self, name: str) -> list[float]:
        """The x range of a density subplot: the initial prior's range, grown to fit the curve.

        A fixed range (rather than autoscaling) lets a user see a prior widen or narrow.
        """
        base_low, base_high = self._base_ranges[name]
        low, high = self._priors[name].interval(0.995)
        low, high = min(base_low, low), max(base_high, high)
        pad = 0.02 * (high - low)
        return [low - pad, high + pad]

    def _update_density_ranges(self) -> None:
        for i, name in enumerate(REGRESSION_PRIOR_NAMES):
            axis = "xaxis" if i == 0 else f"xaxis{i + 1}"
            self.density_figure.layout[axis].range = self._density_range(name)

    def _refresh_density(self) -> None:
        curves = [density_curve(self._priors[name]) for name in REGRESSION_PRIOR_NAMES]
        fig = self.density_figure
        with fig.batch_update():
            for i, name in enumerate(REGRESSION_PRIOR_NAMES):
                x, density = curves[i]
                fig.data[i].x = x
                fig.data[i].y = density
                fig.layout.annotations[i].text = prior_title(name, self._priors[name])
            self._update_density_ranges()

    def _refresh_predictive(self, new_feature: bool = False) -> None:
        x, y = join_lines(self._x_grid(), self._lines())
        fig = self.predictive_figure
        with fig.batch_update():
            fig.data[0].y = y
            if new_feature:
                fig.data[0].x = x
                fig.data[1].x = self.data.X[:, self._feature_index]
                fig.layout.xaxis.title.text = self._x_label()
