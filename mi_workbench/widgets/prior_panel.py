"""``PriorPanel``: choose the priors of a Bayesian linear regression and see what they imply.

Every change redraws the prior densities and regression lines drawn from the priors over the
data. Nothing is compiled: the draws are NumPy (``prior_predictive_lines``), so a slider move
updates both figures in a few milliseconds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import check_choice, check_finite_number, check_positive_int
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
from mi_workbench.widgets._base import Panel

#: Slider ranges (min, max, step) per hyperparameter, on the standardised scale. The text boxes
#: accept any valid value; a slider's range grows to include a typed value.
SLIDER_RANGES = {"loc": (-5.0, 5.0, 0.05), "scale": (0.01, 5.0, 0.01), "nu": (1.0, 30.0, 0.5)}
_PARAM_LABELS = {"loc": "location", "scale": "scale", "nu": "ν (dof)"}
_FAMILY_LABELS = {
    "normal": "Normal",
    "student_t": "Student-t",
    "laplace": "Laplace",
    "half_normal": "Half-normal",
    "half_student_t": "Half-Student-t",
    "exponential": "Exponential",
}
_N_GRID = 20

_HELP = (
    "<b>Priors of the regression</b> <i>target = intercept + coefficients · descriptors + "
    "noise</i>. The priors act on the <b>standardised</b> scale (descriptors and target centred "
    "and divided by their standard deviation): a coefficient of 1 means that one standard "
    "deviation of a descriptor moves the target by one standard deviation; noise is in target "
    "standard deviations. Type exact values in the boxes (Enter to apply)."
)


def _format(value: float) -> str:
    return f"{value:.6g}"


class PriorPanel(Panel):
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
    family_controls : dict of str -> ipywidgets.Dropdown
        Family of each prior.
    sliders, text_boxes : dict of (prior name, hyperparameter) -> widget
        A slider and a text box (exact value, any valid number) per hyperparameter; only those
        of the current family are visible.
    feature_selector : ipywidgets.Dropdown
        Descriptor on the prior predictive's x axis.
    density_figure, predictive_figure : plotly.graph_objects.FigureWidget
        Prior densities; prior regression lines (trace ``"prior draws"``) with the ``"data"``.
    message : ipywidgets.HTML
        Error message for invalid input (the panel then keeps its last valid state).

    Examples
    --------
    >>> from mi_workbench.data import noisy_line
    >>> panel = PriorPanel(noisy_line(), ["x"], "y")
    >>> panel.set_prior("coefficients", scale=0.5)
    >>> panel.priors["coefficients"].describe()
    'Normal(loc=0, scale=0.5)'
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
        self._callbacks: list[Callable[[dict[str, Prior]], None]] = []
        self._syncing = 0
        # computing the first lines also validates the data (e.g. a constant descriptor)
        self._feature_index = names.index(plot_feature)
        lines = self._lines()
        self._base_ranges = {n: p.interval(0.995) for n, p in self._priors.items()}

        self._build_controls()
        self.feature_selector = widgets.Dropdown(
            options=names, value=plot_feature, description="x axis", layout={"width": "420px"}
        )
        self.feature_selector.observe(self._on_feature, names="value")

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
        control_boxes = [
            widgets.VBox(
                [widgets.HTML(f"<b>{name}</b>"), self.family_controls[name], *self._rows_of(name)],
                layout={"margin": "0 12px 0 0"},
            )
            for name in REGRESSION_PRIOR_NAMES
        ]
        self.widget = widgets.VBox(
            [
                widgets.HTML(_HELP),
                widgets.HBox(control_boxes),
                self.message,
                self.density_figure,
                self.feature_selector,
                self.predictive_figure,
            ]
        )

    # ------------------------------------------------------------------ public API
    @property
    def priors(self) -> dict[str, Prior]:
        """The current priors (a new dict; the :class:`Prior` values are immutable)."""
        return dict(self._priors)

    @property
    def plot_feature(self) -> str:
        """The descriptor on the prior predictive's x axis."""
        return self.data.feature_names[self._feature_index]

    def set_prior(self, name: str, **changes: object) -> None:
        """Change a prior's ``family``, ``loc``, ``scale`` or ``nu``, as the controls do.

        Raises ``ValueError``/``TypeError`` on invalid input and then leaves the panel unchanged.

        Examples
        --------
        >>> panel.set_prior("noise", family="exponential", scale=0.5)  # doctest: +SKIP
        """
        check_choice("name", name, REGRESSION_PRIOR_NAMES)
        unknown = [key for key in changes if key not in ("family", "loc", "scale", "nu")]
        if unknown:
            raise TypeError(
                f"set_prior() got unknown field(s) {unknown}; allowed: family, loc, scale, nu"
            )
        try:
            self._apply(name, changes)
        except (ValueError, TypeError) as error:
            raise type(error)(f"{name} prior: {error}") from None

    def observe_priors(self, callback: Callable[[dict[str, Prior]], None]) -> None:
        """Call ``callback(priors)`` with the new priors dict after each valid change."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        self._callbacks.append(callback)

    # ------------------------------------------------------------------ controls
    def _build_controls(self) -> None:
        self.family_controls: dict[str, widgets.Dropdown] = {}
        self.sliders: dict[tuple[str, str], widgets.FloatSlider] = {}
        self.text_boxes: dict[tuple[str, str], widgets.Text] = {}
        self._rows: dict[tuple[str, str], widgets.HBox] = {}
        style = {"description_width": "70px"}
        for name in REGRESSION_PRIOR_NAMES:
            prior = self._priors[name]
            families = POSITIVE_FAMILIES if name == "noise" else REAL_FAMILIES
            dropdown = widgets.Dropdown(
                options=[(_FAMILY_LABELS[f], f) for f in families],
                value=prior.family,
                description="family",
                style=style,
                layout={"width": "250px"},
            )
            dropdown.observe(functools.partial(self._on_family, name), names="value")
            self.family_controls[name] = dropdown
            params = ("scale", "nu") if name == "noise" else ("loc", "scale", "nu")
            for param in params:
                low, high, step = SLIDER_RANGES[param]
                value = float(getattr(prior, param))
                slider = widgets.FloatSlider(
                    value=min(max(value, low), high),
                    min=min(low, value),
                    max=max(high, value),
                    step=step,
                    description=_PARAM_LABELS[param],
                    continuous_update=True,
                    readout=False,
                    style=style,
                    layout={"width": "250px"},
                )
                text = widgets.Text(
                    value=_format(value), continuous_update=False, layout={"width": "80px"}
                )
                slider.observe(functools.partial(self._on_slider, name, param), names="value")
                text.observe(functools.partial(self._on_text, name, param), names="value")
                self.sliders[(name, param)] = slider
                self.text_boxes[(name, param)] = text
                self._rows[(name, param)] = widgets.HBox([slider, text])
            self._sync_controls(name)

    def _rows_of(self, name: str) -> list[widgets.HBox]:
        return [row for (owner, _), row in self._rows.items() if owner == name]

    def _sync_controls(self, name: str) -> None:
        """Show the stored prior ``name`` in its controls (without triggering observers)."""
        prior = self._priors[name]
        self._syncing += 1
        try:
            self.family_controls[name].value = prior.family
            for (owner, param), slider in self.sliders.items():
                if owner != name:
                    continue
                value = float(getattr(prior, param))
                if value > slider.max:
                    slider.max = value
                if value < slider.min:
                    slider.min = value
                slider.value = value
                self.text_boxes[(name, param)].value = _format(value)
                visible = param in prior.parameters
                self._rows[(name, param)].layout.display = None if visible else "none"
        finally:
            self._syncing -= 1

    def _on_slider(self, name: str, param: str, change: dict) -> None:
        if not self._syncing:
            self._try_apply(name, {param: change["new"]})

    def _on_family(self, name: str, change: dict) -> None:
        if not self._syncing:
            self._try_apply(name, {"family": change["new"]})

    def _on_text(self, name: str, param: str, change: dict) -> None:
        if self._syncing:
            return
        try:
            value = check_finite_number(param, change["new"])
        except (ValueError, TypeError) as error:
            self._reject(name, error)
            return
        self._try_apply(name, {param: value})

    def _on_feature(self, change: dict) -> None:
        if self._syncing:
            return
        try:
            index = self.data.feature_names.index(change["new"])
        except ValueError:  # the options are the features: only a programming error gets here
            self._show_error(f"unknown descriptor {change['new']!r}")
            return
        self._feature_index = index
        self._refresh_predictive(new_feature=True)

    def _try_apply(self, name: str, changes: dict) -> None:
        try:
            self._apply(name, changes)
        except (ValueError, TypeError) as error:
            self._reject(name, error)

    def _reject(self, name: str, error: Exception) -> None:
        self._show_error(f"{name} prior: {error}. The last valid value is kept.")
        self._sync_controls(name)

    def _apply(self, name: str, changes: dict) -> None:
        """Validate, store, show and announce a change; raise and change nothing if invalid."""
        candidate = dict(self._priors)
        candidate[name] = self._priors[name].replace(**changes)
        candidate = regression_priors(candidate)
        if candidate == self._priors:
            self._sync_controls(name)  # e.g. a text box re-typed with the same value
            self._clear_message()
            return
        self._priors = candidate
        self._sync_controls(name)
        self._refresh_density()
        self._refresh_predictive()
        self._clear_message()
        for callback in list(self._callbacks):
            try:
                callback(self.priors)
            except Exception as error:  # a user's callback must not break the panel
                self._show_error(f"a callback registered with observe_priors failed: {error!r}")

    # ------------------------------------------------------------------ figures
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
