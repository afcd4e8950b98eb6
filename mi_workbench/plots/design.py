"""Figures of an adaptive-design campaign: progress, prediction quality, acquisition landscape.

Each function takes plain data (a campaign's ``history`` Dataset, or the Dataset returned by
:meth:`~mi_workbench.design.Campaign.acquisition_landscape`) and returns a ``go.Figure``;
:class:`~mi_workbench.widgets.CampaignPanel` shows them as live ``FigureWidget``\\ s.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from mi_workbench.plots._style import COLORS, TEMPLATE

__all__ = ["acquisition_slice", "best_so_far", "predicted_vs_measured"]

_SUGGESTED_COLOR = "#d62728"


def _check_history(history: object) -> xr.Dataset:
    if not isinstance(history, xr.Dataset):
        raise TypeError(
            f"history must be an xarray.Dataset (campaign.history), got {type(history).__name__}"
        )
    missing = [v for v in ("value", "iteration") if v not in history]
    if missing or "observation" not in history.dims:
        raise ValueError(
            f"history must have the dim 'observation' and the variables 'value' and "
            f"'iteration' (as campaign.history has); missing {missing or ['observation']}"
        )
    return history


def _value_label(history: xr.Dataset) -> str:
    name = history.attrs.get("value_name") or history["value"].attrs.get("long_name") or "value"
    units = history.attrs.get("value_units") or history["value"].attrs.get("units")
    return f"{name} ({units})" if units else str(name)


def _minimize(history: xr.Dataset, objective: str | None) -> bool:
    objective = objective or history.attrs.get("objective", "minimize")
    if objective not in ("minimize", "maximize"):
        raise ValueError(f"objective must be 'minimize' or 'maximize', got {objective!r}")
    return objective == "minimize"


def best_so_far(history: xr.Dataset, objective: str | None = None) -> go.Figure:
    """Every measurement by iteration, and the best value found up to each iteration.

    Parameters
    ----------
    history : xarray.Dataset
        A campaign's :attr:`~mi_workbench.design.Campaign.history`.
    objective : {"minimize", "maximize"}, optional
        Default: the history's ``objective`` attribute.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: the measurements (x = iteration); trace 1: the best so far (a step line).

    Examples
    --------
    >>> fig = best_so_far(campaign.history)  # doctest: +SKIP
    >>> fig.data[1].y  # best value after each iteration  # doctest: +SKIP
    """
    history = _check_history(history)
    minimize = _minimize(history, objective)
    values = np.asarray(history["value"].values, dtype=float)
    iteration = np.asarray(history["iteration"].values, dtype=int)
    steps = np.unique(iteration)
    best = []
    for step in steps:
        upto = values[iteration <= step]
        best.append(upto.min() if minimize else upto.max())
    candidates = history["candidate"].values if "candidate" in history.coords else None
    fig = go.Figure(
        [
            go.Scatter(
                x=iteration,
                y=values,
                mode="markers",
                name="measured",
                marker={"color": COLORS["data"], "size": 7, "opacity": 0.6},
                text=None if candidates is None else [f"candidate {c}" for c in candidates],
            ),
            go.Scatter(
                x=steps,
                y=np.asarray(best),
                mode="lines+markers",
                line={"shape": "hv", "color": COLORS["reference"], "width": 3},
                name="best so far",
            ),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        title="Best so far",
        xaxis_title="iteration (0 = first recorded batch)",
        yaxis_title=_value_label(history),
        height=320,
    )
    fig.update_xaxes(dtick=1)
    return fig


def predicted_vs_measured(history: xr.Dataset) -> go.Figure:
    """Measured values against what the surrogate predicted when each candidate was suggested.

    Points are drawn with error bars of +- 1 predicted sd; measurements that were not suggested
    by the model (an initial random batch, values typed in for other alloys) are left out.

    Parameters
    ----------
    history : xarray.Dataset
        A campaign's :attr:`~mi_workbench.design.Campaign.history`.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: the points (x = predicted mean, y = measured, ``error_x`` = sd); trace 1: the
        line y = x.

    Examples
    --------
    >>> fig = predicted_vs_measured(campaign.history)  # doctest: +SKIP
    """
    history = _check_history(history)
    measured = np.asarray(history["value"].values, dtype=float)
    if "predicted_mean" in history:
        mean = np.asarray(history["predicted_mean"].values, dtype=float)
        sd = np.asarray(history["predicted_sd"].values, dtype=float)
    else:
        mean = sd = np.full(len(measured), np.nan)
    keep = np.isfinite(mean) & np.isfinite(sd)
    mean, sd, measured = mean[keep], sd[keep], measured[keep]
    iteration = np.asarray(history["iteration"].values)[keep]
    if len(mean):
        low = float(min((mean - sd).min(), measured.min()))
        high = float(max((mean + sd).max(), measured.max()))
        pad = 0.05 * (high - low or 1.0)
        line = [low - pad, high + pad]
    else:
        line = []
    label = _value_label(history)
    fig = go.Figure(
        [
            go.Scatter(
                x=mean,
                y=measured,
                mode="markers",
                name="suggested, then measured",
                error_x={"type": "data", "array": sd, "visible": True, "color": COLORS["band"]},
                marker={"color": COLORS["draws"], "size": 8},
                text=[f"iteration {i}" for i in iteration],
            ),
            go.Scatter(
                x=line,
                y=line,
                mode="lines",
                name="y = x",
                line={"color": COLORS["identity"], "dash": "dash"},
            ),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        title="Predicted (+- 1 sd) vs measured",
        xaxis_title=f"predicted {label}",
        yaxis_title=f"measured {label}",
        height=320,
    )
    if not len(mean):
        fig.add_annotation(
            text="No model-based suggestion has been measured yet.",
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
            showarrow=False,
        )
    return fig


def acquisition_slice(
    landscape: xr.Dataset,
    observed: xr.Dataset | None = None,
    suggested: xr.Dataset | None = None,
    variable: str = "acquisition",
) -> go.Figure:
    """A heat map of the acquisition (or predicted mean/sd) over two composition variables.

    Parameters
    ----------
    landscape : xarray.Dataset
        From :meth:`~mi_workbench.design.Campaign.acquisition_landscape`: over ``candidate``, with
        the two slice variables named in ``attrs["x"]`` and ``attrs["y"]`` and the scores.
    observed, suggested : xarray.Dataset, optional
        Measured rows (the history) and a suggested batch, drawn as markers where they have the
        two slice variables.
    variable : str
        ``"acquisition"``, ``"predicted_mean"`` or ``"predicted_sd"``.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: the heat map (``z`` has one row per ``y`` value, NaN where no candidate lies);
        trace 1: measured points; trace 2: the suggested batch.

    Examples
    --------
    >>> fig = acquisition_slice(campaign.acquisition_landscape("Cu", "Pd"))  # doctest: +SKIP
    """
    if not isinstance(landscape, xr.Dataset):
        raise TypeError(
            f"landscape must be an xarray.Dataset from campaign.acquisition_landscape(), got "
            f"{type(landscape).__name__}"
        )
    for name, data in (("observed", observed), ("suggested", suggested)):
        if data is not None and not isinstance(data, xr.Dataset):
            raise TypeError(
                f"{name} must be an xarray.Dataset (campaign.history or a suggested batch) or "
                f"None, got {type(data).__name__}"
            )
    x_name, y_name = landscape.attrs.get("x"), landscape.attrs.get("y")
    if x_name is None or y_name is None or x_name not in landscape or y_name not in landscape:
        raise ValueError("landscape must name its slice variables in attrs['x'] and attrs['y']")
    if variable not in landscape:
        choices = [str(v) for v in landscape.data_vars if v not in (x_name, y_name)]
        raise ValueError(f"variable must be one of {choices}, got {variable!r}")
    x = np.asarray(landscape[x_name].values, dtype=float)
    y = np.asarray(landscape[y_name].values, dtype=float)
    z = np.asarray(landscape[variable].values, dtype=float)
    xs = np.unique(np.round(x, 6))
    ys = np.unique(np.round(y, 6))
    grid = np.full((len(ys), len(xs)), np.nan)
    grid[np.searchsorted(ys, np.round(y, 6)), np.searchsorted(xs, np.round(x, 6))] = z
    units = landscape[x_name].attrs.get("units", "")
    x_label = f"{x_name} ({units})" if units else x_name
    units = landscape[y_name].attrs.get("units", "")
    y_label = f"{y_name} ({units})" if units else y_name

    def points(data: xr.Dataset | None) -> tuple[np.ndarray, np.ndarray]:
        if data is None or x_name not in data or y_name not in data:
            return np.zeros(0), np.zeros(0)
        return (
            np.atleast_1d(np.asarray(data[x_name].values, dtype=float)),
            np.atleast_1d(np.asarray(data[y_name].values, dtype=float)),
        )

    ox, oy = points(observed)
    sx, sy = points(suggested)
    fig = go.Figure(
        [
            go.Heatmap(
                x=xs,
                y=ys,
                # empty cells as None: gaps for plotly, and valid JSON for the widget messages
                z=np.where(np.isnan(grid), None, grid).tolist(),
                colorscale="Viridis",
                colorbar={"title": variable.replace("_", " ")},
                hoverongaps=False,
                name=variable,
            ),
            go.Scatter(
                x=ox,
                y=oy,
                mode="markers",
                name="measured",
                marker={"color": "white", "size": 8, "line": {"color": "black", "width": 1}},
            ),
            go.Scatter(
                x=sx,
                y=sy,
                mode="markers",
                name="suggested",
                marker={"color": _SUGGESTED_COLOR, "size": 11, "symbol": "x"},
            ),
        ]
    )
    held = landscape.attrs.get("held", "")
    fig.update_layout(
        template=TEMPLATE,
        title=f"{variable.replace('_', ' ')} on the slice {held}".strip(),
        xaxis_title=x_label,
        yaxis_title=y_label,
        height=380,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
