"""Figures of prior distributions and of the prior predictive (what the priors imply for data)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mi_workbench._checks import check_finite_array
from mi_workbench.models.priors import Prior
from mi_workbench.plots._style import COLORS, TEMPLATE, data_markers

#: Probability mass of the prior that the density plots show.
DENSITY_MASS = 0.995
_N_DENSITY_POINTS = 200


def density_curve(prior: Prior, n_points: int = _N_DENSITY_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(x, pdf)`` of a prior's density over its central 99.5 % interval.

    Examples
    --------
    >>> x, p = density_curve(Prior("normal", 0.0, 1.0))
    >>> round(float(x[0]), 2), round(float(x[-1]), 2)
    (-2.81, 2.81)
    """
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be a Prior, got {type(prior).__name__}")
    low, high = prior.interval(DENSITY_MASS)
    x = np.linspace(low, high, n_points)
    density = np.asarray(prior.pdf(x), dtype=float)
    # a density that diverges at 0 (none of the current families does) must not break the plot
    density[~np.isfinite(density)] = np.nan
    return x, density


def prior_title(name: str, prior: Prior) -> str:
    """The subplot title of one prior: its name over e.g. ``Normal(loc=0, scale=1)``."""
    return f"<b>{name}</b><br>{prior.describe()}"


def prior_densities(
    priors: Mapping[str, Prior], titles: Mapping[str, str] | None = None
) -> go.Figure:
    """One subplot per prior with its density, over the central 99.5 % of its mass.

    Parameters
    ----------
    priors : dict of str -> Prior
        The priors to draw, in order; each becomes a line trace named by its key.
    titles : dict of str -> str, optional
        Subplot titles per prior name; default the name over ``Family(parameters)``.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace ``i`` is the density of the ``i``-th prior; subplot titles are the layout's
        annotations in the same order.

    Examples
    --------
    >>> from mi_workbench.models import default_regression_priors
    >>> fig = prior_densities(default_regression_priors())
    >>> [trace.name for trace in fig.data]
    ['intercept', 'coefficients', 'noise']
    """
    if not isinstance(priors, Mapping) or not priors:
        raise ValueError("priors must be a non-empty dict of name -> Prior")
    for name, prior in priors.items():
        if not isinstance(prior, Prior):
            raise TypeError(f"priors[{name!r}] must be a Prior, got {type(prior).__name__}")
    titles = dict(titles or {})
    unknown = [t for t in titles if t not in priors]
    if unknown:
        raise ValueError(f"titles names unknown prior(s) {unknown}; priors are {list(priors)}")
    names = list(priors)
    fig = make_subplots(
        rows=1,
        cols=len(names),
        subplot_titles=[titles.get(n, prior_title(n, priors[n])) for n in names],
        horizontal_spacing=0.08,
    )
    for col, name in enumerate(names, start=1):
        x, density = density_curve(priors[name])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=density,
                name=name,
                mode="lines",
                line={"color": COLORS["draws"], "width": 2.5},
                fill="tozeroy",
                fillcolor=COLORS["band"],
                hovertemplate=f"{name} = %{{x:.3g}}<br>density %{{y:.3g}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=f"{name} (standardised)", row=1, col=col)
        fig.update_yaxes(rangemode="tozero", row=1, col=col)
    fig.update_yaxes(title_text="prior density", row=1, col=1)
    fig.update_annotations(font_size=13)
    fig.update_layout(template=TEMPLATE, showlegend=False, height=320, margin_t=70)
    return fig


def join_lines(x_grid: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Many lines over one grid as single ``x``, ``y`` arrays separated by NaN (one trace)."""
    n_draws, n_points = lines.shape
    x = np.empty((n_draws, n_points + 1))
    y = np.empty((n_draws, n_points + 1))
    x[:, :n_points] = x_grid
    y[:, :n_points] = lines
    x[:, n_points] = np.nan
    y[:, n_points] = np.nan
    return x.ravel(), y.ravel()


def prior_predictive(
    x_grid: np.ndarray,
    lines: np.ndarray,
    x_obs: np.ndarray,
    y_obs: np.ndarray,
    x_label: str = "x",
    y_label: str = "y",
) -> go.Figure:
    """Regression lines drawn from the prior, over the observed data.

    Parameters
    ----------
    x_grid : array (n_points,)
        Descriptor values of the lines.
    lines : array (n_draws, n_points)
        One prior draw of the mean response per row (e.g. from
        :func:`mi_workbench.models.prior_predictive_lines`).
    x_obs, y_obs : array (n_obs,)
        The measured data.
    x_label, y_label : str
        Axis titles (put units in them, e.g. ``"VEC (e/atom)"``).

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 ``"prior draws"``: all lines as one trace separated by NaN (fast to update);
        trace 1 ``"data"``. The y axis is fixed to the data range widened by one data span on
        each side, so that priors that predict implausible values visibly leave the plot.

    Examples
    --------
    >>> import numpy as np
    >>> grid = np.linspace(0, 1, 5)
    >>> fig = prior_predictive(grid, np.ones((3, 5)), [0.2, 0.8], [1.0, 2.0])
    >>> [t.name for t in fig.data], len(fig.data[0].x)
    (['prior draws', 'data'], 18)
    """
    x_grid = check_finite_array("x_grid", x_grid, ndim=1)
    lines = check_finite_array("lines", lines, ndim=2)
    if lines.shape[1] != x_grid.size:
        raise ValueError(
            f"lines must have one column per x_grid point ({x_grid.size}), got shape {lines.shape}"
        )
    x_obs = check_finite_array("x_obs", x_obs, ndim=1)
    y_obs = check_finite_array("y_obs", y_obs, ndim=1)
    if x_obs.size != y_obs.size:
        raise ValueError(f"x_obs and y_obs differ in length: {x_obs.size} and {y_obs.size}")
    x, y = join_lines(x_grid, lines)
    fig = go.Figure(
        [
            go.Scatter(
                x=x,
                y=y,
                name="prior draws",
                mode="lines",
                line={"color": COLORS["draws"], "width": 1},
                opacity=0.5,
                hoverinfo="skip",
            ),
            data_markers(x_obs, y_obs),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=x_label,
        yaxis_title=y_label,
        yaxis_range=predictive_y_range(y_obs),
        title=f"Prior predictive: {lines.shape[0]} regression lines drawn from the priors",
        height=400,
        legend={"x": 0.01, "y": 0.99},
    )
    return fig


def predictive_y_range(y_obs: np.ndarray) -> list[float]:
    """The data range widened by one data span on each side."""
    low, high = float(np.min(y_obs)), float(np.max(y_obs))
    span = high - low if high > low else max(abs(high), 1.0)
    return [low - span, high + span]
