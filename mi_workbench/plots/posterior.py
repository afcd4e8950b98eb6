"""Figures of posterior samples: traces, marginals, pairs, predictive bands, sampler comparison.

Vector variables (for example ``coefficients`` with dim ``feature``) are split into scalar
parameters labelled ``coefficients[name]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr
from plotly.subplots import make_subplots
from scipy import stats

from mi_workbench._checks import check_finite_array
from mi_workbench.plots._style import (
    CHAIN_COLORS,
    COLORS,
    TEMPLATE,
    axis_label,
    check_units,
    data_markers,
    hdi,
    scalar_parameters,
    subplot_grid,
)

_MAX_PAIR_POINTS = 600
_N_KDE_POINTS = 200


def _check_prob(hdi_prob: float) -> float:
    if isinstance(hdi_prob, bool) or not isinstance(hdi_prob, (int, float)):
        raise TypeError(f"hdi_prob must be a number in (0, 1), got {hdi_prob!r}")
    if not 0 < hdi_prob < 1:
        raise ValueError(f"hdi_prob must be in (0, 1), got {hdi_prob!r}")
    return float(hdi_prob)


def _kde(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=float).ravel()
    low, high = float(values.min()), float(values.max())
    if high <= low or np.std(values) == 0:  # a constant parameter: a spike
        return np.array([low, low]), np.array([0.0, 1.0])
    pad = 0.05 * (high - low)
    grid = np.linspace(low - pad, high + pad, _N_KDE_POINTS)
    return grid, stats.gaussian_kde(values)(grid)


def _reference_values(
    reference_values: Mapping[str, object] | None, labels: Sequence[str]
) -> dict[str, float]:
    """Map ``{"a": 1, "coefficients": {"x": 2}}`` or ``{"coefficients[x]": 2}`` to labels."""
    if reference_values is None:
        return {}
    if not isinstance(reference_values, Mapping):
        raise TypeError(
            f"reference_values must be a dict of parameter -> value, "
            f"got {type(reference_values).__name__}"
        )
    out: dict[str, float] = {}
    for key, value in reference_values.items():
        if key in labels and np.ndim(value) == 0:
            out[key] = float(value)
            continue
        members = [label for label in labels if label.startswith(f"{key}[")]
        if not members:
            raise ValueError(
                f"reference_values names {key!r}, which is not among the plotted parameters "
                f"{list(labels)}"
            )
        if isinstance(value, Mapping):
            for sub, number in value.items():
                label = f"{key}[{sub}]"
                if label not in labels:
                    raise ValueError(f"reference_values: no parameter {label!r} in {list(labels)}")
                out[label] = float(number)
        else:
            numbers = np.ravel(np.asarray(value, dtype=float))
            if numbers.size != len(members):
                raise ValueError(
                    f"reference_values[{key!r}] has {numbers.size} value(s) but {key!r} has "
                    f"{len(members)} element(s)"
                )
            out.update({label: float(v) for label, v in zip(members, numbers, strict=True)})
    return out


def trace_plot(
    idata: xr.DataTree | xr.Dataset,
    var_names: Sequence[str] | str | None = None,
    *,
    units: Mapping[str, str] | None = None,
) -> go.Figure:
    """Per parameter: the density of each chain (left) and the draws in order (right).

    Well-mixed chains overlap on the left and look like stationary noise on the right. Each
    row is titled with the parameter's label (with units where given).

    Parameters
    ----------
    idata : xarray.DataTree or xarray.Dataset
        A sampling result (``fit``/``metropolis``) or its posterior Dataset.
    var_names : list of str, optional
        Posterior variables; default all.
    units : dict, optional
        Units per parameter label (e.g. ``{"intercept": "K"}``) for the row titles.

    Returns
    -------
    plotly.graph_objects.Figure
        Two traces per parameter and chain, named ``chain 0``, ``chain 1``, ...

    Examples
    --------
    >>> fig = trace_plot(idata, ["intercept", "coefficients"])  # doctest: +SKIP
    """
    units = check_units(units)
    params = scalar_parameters(idata, var_names)
    n = len(params)
    titles = []
    for label in params:
        titles += [axis_label(label, units), ""]
    fig = make_subplots(
        rows=n,
        cols=2,
        column_widths=[0.35, 0.65],
        horizontal_spacing=0.08,
        vertical_spacing=min(0.12, 0.4 / max(n - 1, 1)),
        subplot_titles=titles,
    )
    for row, values in enumerate(params.values(), start=1):
        for chain in range(values.shape[0]):
            color = CHAIN_COLORS[chain % len(CHAIN_COLORS)]
            grid, density = _kde(values[chain])
            common = {
                "name": f"chain {chain}",
                "legendgroup": f"chain {chain}",
                "line": {"color": color, "width": 1.5},
            }
            fig.add_trace(
                go.Scatter(x=grid, y=density, mode="lines", showlegend=row == 1, **common),
                row=row,
                col=1,
            )
            fig.add_trace(
                go.Scatter(
                    x=np.arange(values.shape[1]),
                    y=values[chain],
                    mode="lines",
                    showlegend=False,
                    opacity=0.7,
                    **common,
                ),
                row=row,
                col=2,
            )
        fig.update_yaxes(showticklabels=False, rangemode="tozero", row=row, col=1)
    fig.update_xaxes(title_text="draw (after warm-up)", row=n, col=2)
    # row titles start at the left edge so that long labels stay readable
    fig.update_annotations(font_size=12, x=0.0, xanchor="left")
    fig.update_layout(
        template=TEMPLATE,
        height=max(320, 230 * n),
        title="Trace plot: density of each chain (left), draws in order (right)",
    )
    return fig


def posterior_marginals(
    idata: xr.DataTree | xr.Dataset,
    var_names: Sequence[str] | str | None = None,
    reference_values: Mapping[str, object] | None = None,
    *,
    hdi_prob: float = 0.94,
    units: Mapping[str, str] | None = None,
) -> go.Figure:
    """The marginal posterior density of each scalar parameter with its highest-density interval.

    Parameters
    ----------
    idata : xarray.DataTree or xarray.Dataset
        A sampling result or its posterior Dataset.
    var_names : list of str, optional
        Posterior variables; default all.
    reference_values : dict, optional
        True (or literature) values drawn as vertical lines: ``{"intercept": 1.0}``, and for
        vector variables either ``{"coefficients[x]": 2.0}``, ``{"coefficients": {"x": 2.0}}``
        or ``{"coefficients": [2.0, ...]}``.
    hdi_prob : float
        Probability of the highest-density interval (default 0.94).
    units : dict, optional
        Units per parameter label for the axis titles.

    Returns
    -------
    plotly.graph_objects.Figure
        Per parameter, in order: the density (trace named by the parameter label), the HDI
        (``"94% HDI"``, a thick segment at zero density) and, if given, the reference value
        (``"true value"``, a vertical line).

    Examples
    --------
    >>> truth = {"coefficients": [2.0]}
    >>> fig = posterior_marginals(idata, ["coefficients"], truth)  # doctest: +SKIP
    """
    hdi_prob = _check_prob(hdi_prob)
    units = check_units(units)
    params = scalar_parameters(idata, var_names)
    references = _reference_values(reference_values, list(params))
    rows, cols = subplot_grid(len(params), max_cols=2)
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.1, vertical_spacing=0.2)
    hdi_name = f"{100 * hdi_prob:g}% HDI"
    for i, (label, values) in enumerate(params.items()):
        row, col = divmod(i, cols)
        row, col = row + 1, col + 1
        flat = values.ravel()
        grid, density = _kde(flat)
        low, high = hdi(flat, hdi_prob)
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=density,
                name=label,
                mode="lines",
                line={"color": COLORS["draws"], "width": 2},
                fill="tozeroy",
                fillcolor=COLORS["band"],
                showlegend=False,
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=[low, high],
                y=[0.0, 0.0],
                name=hdi_name,
                legendgroup="hdi",
                mode="lines+markers",
                line={"color": COLORS["hdi"], "width": 6},
                marker={"size": 8, "symbol": "line-ns-open"},
                showlegend=i == 0,
                hovertemplate=f"{hdi_name}: [{low:.4g}, {high:.4g}]<extra></extra>",
            ),
            row=row,
            col=col,
        )
        if label in references:
            value = references[label]
            fig.add_trace(
                go.Scatter(
                    x=[value, value],
                    y=[0.0, float(np.nanmax(density)) * 1.05],
                    name="true value",
                    legendgroup="reference",
                    mode="lines",
                    line={"color": COLORS["reference"], "width": 2, "dash": "dash"},
                    showlegend=not any(t.name == "true value" for t in fig.data),
                ),
                row=row,
                col=col,
            )
        fig.update_xaxes(title_text=axis_label(label, units, wrap_at=40), row=row, col=col)
        fig.update_yaxes(rangemode="tozero", showticklabels=False, row=row, col=col)
    for row in range(1, rows + 1):
        fig.update_yaxes(title_text="posterior density", row=row, col=1)
    fig.update_layout(
        template=TEMPLATE,
        height=280 * rows + 60,
        title=f"Marginal posteriors with {hdi_name}",
    )
    return fig


def pair_plot(
    idata: xr.DataTree | xr.Dataset,
    var_names: Sequence[str] | str | None = None,
    *,
    units: Mapping[str, str] | None = None,
    max_points: int = _MAX_PAIR_POINTS,
    random_seed: int = 0,
) -> go.Figure:
    """Scatter matrix of posterior draws: histograms on the diagonal, pairs below it.

    Tilted clouds show correlated parameters (for example an intercept and a slope when the
    descriptor is not centred).

    Parameters
    ----------
    idata : xarray.DataTree or xarray.Dataset
        A sampling result or its posterior Dataset.
    var_names : list of str, optional
        Posterior variables; default all.
    units : dict, optional
        Units per parameter label for the axis titles.
    max_points : int
        Draws shown in each scatter (a random subset of all chains, for a light figure).
    random_seed : int
        Seed of the subset.

    Returns
    -------
    plotly.graph_objects.Figure
        For ``k`` parameters: ``k`` histograms (named by the label) and ``k (k - 1) / 2``
        scatters (named ``"a vs b"``).

    Examples
    --------
    >>> fig = pair_plot(idata, ["intercept", "coefficients"])  # doctest: +SKIP
    """
    units = check_units(units)
    params = {k: v.ravel() for k, v in scalar_parameters(idata, var_names).items()}
    labels = list(params)
    k = len(labels)
    n_total = next(iter(params.values())).size
    rng = np.random.default_rng(random_seed)
    subset = np.sort(rng.choice(n_total, size=min(int(max_points), n_total), replace=False))
    spacing = 0.04 if k > 1 else 0.0
    fig = make_subplots(rows=k, cols=k, horizontal_spacing=spacing, vertical_spacing=spacing)
    for i, label_y in enumerate(labels):
        for j, label_x in enumerate(labels):
            if j > i:
                continue
            if i == j:
                trace = go.Histogram(
                    x=params[label_x],
                    name=label_x,
                    nbinsx=40,
                    marker={"color": COLORS["draws"]},
                    showlegend=False,
                )
            else:
                trace = go.Scatter(
                    x=params[label_x][subset],
                    y=params[label_y][subset],
                    name=f"{label_y} vs {label_x}",
                    mode="markers",
                    marker={"color": COLORS["draws"], "size": 3, "opacity": 0.4},
                    showlegend=False,
                )
            fig.add_trace(trace, row=i + 1, col=j + 1)
            if i == k - 1:
                title = axis_label(label_x, units, wrap_at=25)
                fig.update_xaxes(title_text=title, title_font_size=11, row=i + 1, col=j + 1)
            if j == 0 and i > 0:
                title = axis_label(label_y, units, wrap_at=25)
                fig.update_yaxes(title_text=title, title_font_size=11, row=i + 1, col=j + 1)
    size = max(400, 220 * k)
    fig.update_layout(template=TEMPLATE, height=size, width=size + 80, title="Pair plot")
    return fig


def posterior_predictive_band(
    x: np.ndarray,
    draws: np.ndarray,
    x_obs: np.ndarray,
    y_obs: np.ndarray,
    hdi_prob: float = 0.94,
    x_label: str = "x",
    y_label: str = "y",
) -> go.Figure:
    """The posterior mean response with its pointwise HDI band, over the data.

    Parameters
    ----------
    x : array (n_points,)
        Descriptor values of the prediction grid.
    draws : array (n_draws, n_points)
        Posterior draws of the response at ``x`` (e.g. from
        :func:`mi_workbench.models.posterior_predictive_lines`).
    x_obs, y_obs : array (n_obs,)
        The measured data.
    hdi_prob : float
        Probability of the band.
    x_label, y_label : str
        Axis titles, with units.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces ``"94% HDI"`` (a closed band: lower edge forward, upper edge backward),
        ``"posterior mean"`` and ``"data"``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 3)
    >>> draws = np.random.default_rng(0).normal(size=(100, 3))
    >>> [t.name for t in posterior_predictive_band(x, draws, [0.5], [0.1]).data]
    ['94% HDI', 'posterior mean', 'data']
    """
    hdi_prob = _check_prob(hdi_prob)
    x = check_finite_array("x", x, ndim=1)
    draws = check_finite_array("draws", draws, ndim=2)
    if draws.shape[1] != x.size:
        raise ValueError(f"draws must have one column per x value ({x.size}), got {draws.shape}")
    x_obs = check_finite_array("x_obs", x_obs, ndim=1)
    y_obs = check_finite_array("y_obs", y_obs, ndim=1)
    if x_obs.size != y_obs.size:
        raise ValueError(f"x_obs and y_obs differ in length: {x_obs.size} and {y_obs.size}")
    order = np.argsort(x)
    x, draws = x[order], draws[:, order]
    band = hdi(draws, hdi_prob, axis=0)
    name = f"{100 * hdi_prob:g}% HDI"
    fig = go.Figure(
        [
            go.Scatter(
                x=np.concatenate([x, x[::-1]]),
                y=np.concatenate([band[:, 0], band[::-1, 1]]),
                name=name,
                mode="lines",
                fill="toself",
                fillcolor=COLORS["band"],
                line={"width": 0},
                hoverinfo="skip",
            ),
            go.Scatter(
                x=x,
                y=draws.mean(axis=0),
                name="posterior mean",
                mode="lines",
                line={"color": COLORS["mean"], "width": 2.5},
            ),
            data_markers(x_obs, y_obs),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=x_label,
        yaxis_title=y_label,
        title=f"Posterior mean response with its {name}",
        height=420,
        legend={"x": 0.01, "y": 0.99},
    )
    return fig


def predicted_vs_observed(
    y_obs: np.ndarray,
    draws: np.ndarray,
    *,
    hdi_prob: float = 0.94,
    label: str = "y",
) -> go.Figure:
    """Posterior mean prediction (with its HDI) against the observed value, per observation.

    Points on the dashed line ``predicted = observed`` are predicted exactly; use this view when
    a model has several descriptors and no single x axis.

    Parameters
    ----------
    y_obs : array (n_obs,)
        Observed target values.
    draws : array (n_draws, n_obs)
        Posterior draws of the prediction for each observation.
    hdi_prob : float
        Probability of the error bars.
    label : str
        Name of the target with units, for the axis titles.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces ``"predicted = observed"`` and ``"posterior mean"`` (markers with asymmetric
        error bars spanning the HDI).

    Examples
    --------
    >>> import numpy as np
    >>> draws = np.random.default_rng(0).normal([1.0, 2.0], 0.1, size=(200, 2))
    >>> [t.name for t in predicted_vs_observed([1.0, 2.1], draws).data]
    ['predicted = observed', 'posterior mean']
    """
    hdi_prob = _check_prob(hdi_prob)
    y_obs = check_finite_array("y_obs", y_obs, ndim=1)
    draws = check_finite_array("draws", draws, ndim=2)
    if draws.shape[1] != y_obs.size:
        raise ValueError(
            f"draws must have one column per observation ({y_obs.size}), got shape {draws.shape}"
        )
    mean = draws.mean(axis=0)
    band = hdi(draws, hdi_prob, axis=0)
    low = float(min(y_obs.min(), band[:, 0].min()))
    high = float(max(y_obs.max(), band[:, 1].max()))
    pad = 0.05 * (high - low if high > low else 1.0)
    fig = go.Figure(
        [
            go.Scatter(
                x=[low - pad, high + pad],
                y=[low - pad, high + pad],
                name="predicted = observed",
                mode="lines",
                line={"color": COLORS["identity"], "dash": "dash"},
            ),
            go.Scatter(
                x=y_obs,
                y=mean,
                name="posterior mean",
                mode="markers",
                marker={"color": COLORS["draws"], "size": 7},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": band[:, 1] - mean,
                    "arrayminus": mean - band[:, 0],
                    "color": COLORS["band"].replace("0.25", "0.6"),
                },
            ),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=f"observed {label}",
        yaxis_title=f"predicted {label}",
        title=f"Predicted vs observed (error bars: {100 * hdi_prob:g}% HDI)",
        height=450,
        width=520,
        legend={"x": 0.01, "y": 0.99},
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def ess_comparison(
    table: pd.DataFrame | Mapping[str, pd.Series | Mapping[str, float]],
    *,
    log_y: bool = True,
    y_label: str = "bulk ESS per second of sampling (1/s)",
) -> go.Figure:
    """Grouped bar chart of effective samples per second, one bar group per parameter.

    Parameters
    ----------
    table : pandas.DataFrame or dict
        Rows are parameters and columns are samplers (e.g. ``"Metropolis"``, ``"NUTS"``), or a
        dict of sampler name -> ESS per second per parameter (such as
        :func:`mi_workbench.inference.ess_per_second` returns).
    log_y : bool
        Logarithmic y axis (the default: samplers often differ by orders of magnitude).
    y_label : str
        Title of the y axis.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per sampler, named by the sampler, with the parameters on the x axis.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"Metropolis": [50.0, 40.0], "NUTS": [900.0, 1100.0]},
    ...                      index=["intercept", "slope"])
    >>> [t.name for t in ess_comparison(table).data]
    ['Metropolis', 'NUTS']
    """
    if isinstance(table, Mapping):
        table = pd.DataFrame({str(k): pd.Series(v) for k, v in table.items()})
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"table must be a pandas DataFrame (parameters x samplers) or a dict of sampler -> "
            f"Series, got {type(table).__name__}"
        )
    if table.empty:
        raise ValueError("table is empty: it needs parameters as rows and samplers as columns")
    values = check_finite_array("table", table.to_numpy(dtype=float, na_value=np.nan), ndim=2)
    if (values <= 0).any():
        raise ValueError("table must hold positive ESS-per-second values")
    labels = [str(i) for i in table.index]
    fig = go.Figure()
    for j, sampler in enumerate(table.columns):
        fig.add_trace(
            go.Bar(
                x=labels,
                y=values[:, j],
                name=str(sampler),
                text=[f"{v:.3g}" for v in values[:, j]],
                textposition="outside",
                marker={"color": CHAIN_COLORS[j % len(CHAIN_COLORS)]},
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        xaxis_title="parameter",
        yaxis_title=y_label,
        yaxis_type="log" if log_y else "linear",
        title="Sampling efficiency: effective draws per second",
        height=420,
    )
    return fig
