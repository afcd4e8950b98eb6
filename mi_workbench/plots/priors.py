"""Figures of prior distributions and of the prior predictive (what the priors imply for data)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mi_workbench._checks import check_choice, check_finite_array, check_positive_int
from mi_workbench.models.priors import Prior
from mi_workbench.plots._style import COLORS, TEMPLATE, data_markers, subplot_grid

_KINDS = ("prior", "posterior")


def _check_replicated(replicated: object, n_obs: int) -> np.ndarray:
    """Predictive draws as a numeric (n_draws, n_obs) array; NaN and infinity are allowed.

    A user's likelihood can be undefined for some prior draws (a shot-noise sd
    ``scale * sqrt(mean)`` with a negative mean gives NaN): those draws are a result to show,
    not bad input, so the plots leave them out and say how many (:func:`finite_draws`).
    """
    if replicated is None or isinstance(replicated, str):
        raise TypeError(f"replicated must be an array of predictive draws, got {replicated!r}")
    try:
        replicated = np.asarray(replicated, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("replicated must contain numbers only") from None
    if replicated.ndim != 2 or replicated.shape[0] == 0 or replicated.shape[1] != n_obs:
        raise ValueError(
            f"replicated must have one row per draw and one column per observation ({n_obs}), "
            f"got shape {replicated.shape}"
        )
    return replicated


def finite_draws(replicated: np.ndarray) -> tuple[np.ndarray, str]:
    """The draws (rows) without NaN or infinity, and a note on how many were left out.

    The note is ``""`` when every draw is finite.

    Examples
    --------
    >>> rows, note = finite_draws(np.array([[1.0, 2.0], [np.nan, 1.0], [0.5, 0.5]]))
    >>> rows.shape, note
    ((2, 2), '1 of 3 draws not finite (NaN or ±inf: the likelihood is undefined there), left out')
    """
    replicated = np.asarray(replicated, dtype=float)
    finite = np.isfinite(replicated).all(axis=1)
    n_bad = int(replicated.shape[0] - finite.sum())
    if n_bad == 0:
        return replicated, ""
    note = (
        f"{n_bad} of {replicated.shape[0]} draws not finite (NaN or ±inf: the likelihood is "
        "undefined there), left out"
    )
    return replicated[finite], note


def predictive_title(kind: str, replicated: np.ndarray, histogram: bool = False) -> str:
    """Title of a predictive figure, with :func:`finite_draws`' note when draws were left out."""
    if histogram:
        title = f"{kind.capitalize()} predictive distribution of all observations, and the data"
    elif kind == "prior":
        title = "Prior predictive: mean curves drawn from the priors, and where data would fall"
    else:
        title = "Posterior predictive: the fitted model's 90 % band of new data, and the data"
    note = finite_draws(replicated)[1]
    return f"{title}<br><sub>{note}</sub>" if note else title


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
    if titles is not None and not isinstance(titles, Mapping):
        raise TypeError(
            f"titles must be a dict of prior name -> subplot title or None, got "
            f"{type(titles).__name__}"
        )
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


# ---------------------------------------------------------------------------------------------
# Any model: one subplot per free variable, and the prior predictive of an observed variable.

#: Bins of the histograms of variables that are drawn rather than given by a density.
_N_BINS = 40
#: Probability of the prior predictive band.
PREDICTIVE_BAND_PROB = 0.9


def histogram_curve(values: np.ndarray, bins: int = _N_BINS) -> tuple[np.ndarray, np.ndarray]:
    """A density histogram of draws as step-line points ``(x, density)`` (one trace, fast).

    Draws outside their central 99.5 % are left out so that a heavy tail does not squash the
    plot.

    Examples
    --------
    >>> x, d = histogram_curve(np.random.default_rng(0).normal(size=1000))
    >>> x.shape == d.shape, bool(d.max() > 0.3)
    (True, True)
    """
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.array([0.0, 0.0]), np.array([0.0, 0.0])
    tail = (1.0 - DENSITY_MASS) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    if high <= low:
        return np.array([low, low]), np.array([0.0, 1.0])
    density, edges = np.histogram(values, bins=bins, range=(low, high), density=True)
    x = np.repeat(edges, 2)[1:-1]
    y = np.repeat(density, 2)
    return np.concatenate([[edges[0]], x, [edges[-1]]]), np.concatenate([[0.0], y, [0.0]])


def variable_curve(prior: Prior | None, draws: np.ndarray | None):
    """The curve of one variable's subplot: the prior's density, or a histogram of its draws."""
    if prior is not None:
        return density_curve(prior)
    if draws is None:
        raise ValueError("a variable without a Prior needs its draws")
    return histogram_curve(draws)


def variable_priors(
    priors: Mapping[str, Prior | None],
    draws: Mapping[str, np.ndarray] | None = None,
    titles: Mapping[str, str] | None = None,
    max_cols: int = 4,
) -> go.Figure:
    """One subplot per variable: the density of its :class:`Prior`, or a histogram of draws.

    Parameters
    ----------
    priors : dict of str -> Prior or None
        The variables in order; ``None`` for a variable whose prior is not a fixed
        distribution (e.g. a hierarchical one): it is drawn as a histogram of ``draws[name]``.
    draws : dict of str -> array, optional
        Prior draws of the variables given as ``None``.
    titles : dict of str -> str, optional
        Subplot titles; default the name over the prior's description.
    max_cols : int
        Subplots per row.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace ``i`` belongs to the ``i``-th variable (a filled line); subplot titles are the
        layout's annotations in the same order.

    Examples
    --------
    >>> fig = variable_priors({"tau": Prior("HalfNormal", sigma=1.0), "theta": None},
    ...                       draws={"theta": np.random.default_rng(0).normal(size=(100, 3))})
    >>> [t.name for t in fig.data], fig.data[1].line.shape
    (['tau', 'theta'], 'hv')
    """
    if not isinstance(priors, Mapping) or not priors:
        raise ValueError("priors must be a non-empty dict of name -> Prior or None")
    for argument, value in (("draws", draws), ("titles", titles)):
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{argument} must be a mapping of name -> values, got {value!r}")
    max_cols = check_positive_int("max_cols", max_cols)
    draws = dict(draws or {})
    titles = dict(titles or {})
    names = list(priors)
    rows, cols = subplot_grid(len(names), max_cols)
    subplot_titles = [
        titles.get(n, prior_title(n, priors[n]) if priors[n] is not None else f"<b>{n}</b>")
        for n in names
    ]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=subplot_titles,
        horizontal_spacing=0.06,
        vertical_spacing=min(0.25, 0.6 / rows),
    )
    for i, name in enumerate(names):
        prior = priors[name]
        if prior is not None and not isinstance(prior, Prior):
            raise TypeError(f"priors[{name!r}] must be a Prior or None, got {type(prior).__name__}")
        x, y = variable_curve(prior, draws.get(name))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name=name,
                mode="lines",
                line={"color": COLORS["draws"], "width": 2, "shape": "linear" if prior else "hv"},
                fill="tozeroy",
                fillcolor=COLORS["band"],
                hovertemplate=f"{name} = %{{x:.4g}}<br>density %{{y:.3g}}<extra></extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_yaxes(rangemode="tozero", showticklabels=False)
    fig.update_annotations(font_size=12)
    fig.update_layout(
        template=TEMPLATE, showlegend=False, height=60 + 210 * rows, margin={"t": 60, "b": 30}
    )
    return fig


def predictive_band(draws: np.ndarray, prob: float = PREDICTIVE_BAND_PROB) -> np.ndarray:
    """Pointwise central band of predictive draws (n_draws, n_points): array (2, n_points).

    Draws with NaN or infinity are left out (:func:`finite_draws`); with none left the band
    is NaN (not drawn).
    """
    draws = finite_draws(draws)[0]
    if draws.shape[0] == 0:
        return np.full((2, draws.shape[1]), np.nan)
    tail = (1.0 - prob) / 2.0
    return np.quantile(draws, [tail, 1.0 - tail], axis=0)


def prior_predictive_arrays(
    x_obs: np.ndarray,
    replicated: np.ndarray,
    x_grid: np.ndarray | None = None,
    mean_draws: np.ndarray | None = None,
    max_lines: int = 50,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The x and y arrays of :func:`model_prior_predictive`'s traces, without building a figure.

    Panels update their figure in place with these: ``"high"`` and ``"low"`` are the band's
    edges over the sorted ``x_obs``, ``"lines"`` the mean curves as one NaN-separated line.

    Examples
    --------
    >>> arrays = prior_predictive_arrays(np.arange(4.0), np.ones((10, 4)))
    >>> sorted(arrays), arrays["high"][1].tolist()
    (['high', 'lines', 'low'], [1.0, 1.0, 1.0, 1.0])
    """
    x_obs = np.asarray(x_obs, dtype=float).ravel()
    replicated = np.asarray(replicated, dtype=float).reshape(-1, x_obs.size)
    order = np.argsort(x_obs, kind="stable")
    low, high = predictive_band(replicated[:, order])
    lines: tuple = (np.array([]), np.array([]))
    if mean_draws is not None:
        if x_grid is None:
            raise ValueError("mean_draws need their x_grid")
        lines = join_lines(np.asarray(x_grid, dtype=float), np.asarray(mean_draws)[:max_lines])
    return {"high": (x_obs[order], high), "low": (x_obs[order], low), "lines": lines}


def model_prior_predictive(
    x_obs: np.ndarray,
    y_obs: np.ndarray,
    replicated: np.ndarray,
    *,
    x_grid: np.ndarray | None = None,
    mean_draws: np.ndarray | None = None,
    x_label: str = "x",
    y_label: str = "y",
    max_lines: int = 50,
    kind: str = "prior",
) -> go.Figure:
    """The prior (or posterior) predictive of an observed variable over its data.

    Parameters
    ----------
    x_obs, y_obs : array (n_obs,)
        The data: x positions (an input, or the observation index) and observations.
    replicated : array (n_draws, n_obs)
        Prior predictive draws of the observations (noise included). Draws holding NaN or
        infinity (the likelihood undefined for them) are left out, and the title says how many.
    x_grid, mean_draws : array (n_points,) and (n_draws, n_points), optional
        The noise-free mean drawn from the prior (curves), over ``x_grid`` (sorted).
    x_label, y_label : str
        Axis titles (with units).
    max_lines : int
        At most this many mean curves are drawn.
    kind : str
        ``"prior"`` or ``"posterior"``: which predictive the draws are (titles only).

    Returns
    -------
    plotly.graph_objects.Figure
        Traces ``"90% predictive"`` (upper edge, then lower edge filled to it, over the data's
        sorted x), ``"prior draws"`` (the mean curves as one NaN-separated trace, empty without
        ``mean_draws``) and ``"data"``. The y axis spans the data range widened by one span on
        each side, so that priors that predict implausible values visibly leave the plot.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> fig = model_prior_predictive(np.arange(5.0), np.zeros(5), rng.normal(size=(30, 5)))
    >>> [t.name for t in fig.data]
    ['90% predictive', '90% predictive (low)', 'prior draws', 'data']
    """
    x_obs = check_finite_array("x_obs", x_obs, ndim=1)
    y_obs = check_finite_array("y_obs", y_obs, ndim=1)
    if x_obs.size != y_obs.size:
        raise ValueError(f"x_obs and y_obs differ in length: {x_obs.size} and {y_obs.size}")
    kind = check_choice("kind", kind, _KINDS)
    max_lines = check_positive_int("max_lines", max_lines)
    replicated = _check_replicated(replicated, y_obs.size)
    arrays = prior_predictive_arrays(x_obs, replicated, x_grid, mean_draws, max_lines)
    name = f"{100 * PREDICTIVE_BAND_PROB:g}% predictive"
    band_line = {"width": 0.5, "color": COLORS["draws"]}
    fig = go.Figure(
        [
            go.Scatter(
                x=arrays["high"][0],
                y=arrays["high"][1],
                name=name,
                mode="lines",
                line=band_line,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=arrays["low"][0],
                y=arrays["low"][1],
                name=f"{name} (low)",
                mode="lines",
                line=band_line,
                fill="tonexty",
                fillcolor="rgba(31, 119, 180, 0.15)",
                hoverinfo="skip",
                showlegend=False,
            ),
            go.Scatter(
                x=arrays["lines"][0],
                y=arrays["lines"][1],
                name=f"{kind} draws",
                mode="lines",
                line={"color": COLORS["draws"], "width": 1},
                opacity=0.45,
                hoverinfo="skip",
            ),
            data_markers(x_obs, y_obs, size=5),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=x_label,
        yaxis_title=y_label,
        yaxis_range=predictive_y_range(y_obs),
        title=predictive_title(kind, replicated),
        height=420,
        legend={"x": 0.01, "y": 0.99},
    )
    return fig


def predictive_histogram(
    y_obs: np.ndarray, replicated: np.ndarray, *, label: str = "y", kind: str = "prior"
) -> go.Figure:
    """Density of all predictive draws pooled, beside the histogram of the observations.

    Returns a figure with traces ``"<kind> predictive"`` and ``"data"`` (both step lines).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> [t.name for t in predictive_histogram(rng.normal(size=50), rng.normal(size=(20, 50))).data]
    ['prior predictive', 'data']
    """
    y_obs = check_finite_array("y_obs", y_obs, ndim=1)
    kind = check_choice("kind", kind, _KINDS)
    replicated = _check_replicated(replicated, y_obs.size)
    x_rep, d_rep = histogram_curve(finite_draws(replicated)[0])
    x_obs, d_obs = histogram_curve(y_obs, bins=max(5, min(_N_BINS, y_obs.size // 5)))
    fig = go.Figure(
        [
            go.Scatter(
                x=x_rep,
                y=d_rep,
                name=f"{kind} predictive",
                mode="lines",
                line={"color": COLORS["draws"], "width": 2, "shape": "hv"},
                fill="tozeroy",
                fillcolor=COLORS["band"],
            ),
            go.Scatter(
                x=x_obs,
                y=d_obs,
                name="data",
                mode="lines",
                line={"color": COLORS["data"], "width": 2, "shape": "hv"},
            ),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=label,
        yaxis_title="density",
        xaxis_range=predictive_y_range(y_obs),
        title=predictive_title(kind, replicated, histogram=True),
        height=380,
        legend={"x": 0.01, "y": 0.99},
    )
    return fig
