"""Figures of an extrapolative design loop: the moving target region and what was measured.

The functions take the two results of :class:`~mi_workbench.molecules.spacier.ExtrapolativeDesign`
(``design.history()``, an ``xarray.Dataset`` over ``round``, and ``design.measurements()``, a
``pandas.DataFrame`` with one row per molecule) and return a ``go.Figure``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from mi_workbench.plots._style import COLORS, TEMPLATE, axis_label

__all__ = ["best_distance_by_round", "region_path_plane", "region_path_rounds"]

_FINAL_COLOR = "#d62728"
_ROUND_SCALE = "Viridis"


def _check_history(history: object) -> xr.Dataset:
    if not isinstance(history, xr.Dataset):
        raise TypeError(
            f"history must be an xarray.Dataset (design.history()), got {type(history).__name__}"
        )
    needed = ("temporary_low", "temporary_high", "final_low", "final_high", "best_distance")
    missing = [v for v in needed if v not in history]
    if missing:
        raise ValueError(
            f"history must come from ExtrapolativeDesign.history(); it lacks {missing}"
        )
    return history


def _check_property(history: xr.Dataset, name: object, argument: str) -> str:
    names = [str(p) for p in history["property"].values]
    if name not in names:
        raise ValueError(f"{argument} must be one of the design's properties {names}, got {name!r}")
    return str(name)


def _check_measurements(measurements: object, columns) -> pd.DataFrame:
    if not isinstance(measurements, pd.DataFrame):
        raise TypeError(
            f"measurements must be a pandas.DataFrame (design.measurements()), got "
            f"{type(measurements).__name__}"
        )
    missing = [c for c in ("round", "ok", *columns) if c not in measurements]
    if missing:
        raise ValueError(f"measurements lacks the columns {missing}")
    return measurements


def _units(history: xr.Dataset) -> dict[str, str]:
    try:
        return dict(json.loads(history.attrs.get("units", "{}")))
    except (TypeError, ValueError):
        return {}


def _finite_box(low: float, high: float, lo_data: float, hi_data: float) -> tuple[float, float]:
    """Replace open sides of an interval by a point a little beyond the data, for drawing."""
    span = max(hi_data - lo_data, 1e-9)
    return (
        low if math.isfinite(low) else min(lo_data, high) - 0.15 * span,
        high if math.isfinite(high) else max(hi_data, low) + 0.15 * span,
    )


def _round_color(r: int, n: int) -> str:
    from plotly.colors import sample_colorscale

    return sample_colorscale(_ROUND_SCALE, [r / max(n - 1, 1)])[0]


def region_path_plane(
    history: xr.Dataset,
    measurements: pd.DataFrame,
    x: str,
    y: str,
    *,
    background: pd.DataFrame | None = None,
) -> go.Figure:
    """The property plane: temporary regions per round, the final region and measured molecules.

    Parameters
    ----------
    history : xarray.Dataset
        ``design.history()``.
    measurements : pandas.DataFrame
        ``design.measurements()``.
    x, y : str
        Two of the design's properties (horizontal and vertical axis).
    background : pandas.DataFrame, optional
        Columns ``x`` and ``y`` of a reference data set, drawn as light grey dots.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces, in order: the background (if given), the initial data (round 0), one marker
        trace per design round (``name`` ``"round r"``), one outline per temporary region
        (``name`` ``"region r"``), and the final region (``name`` ``"final region"``).
        Open sides of a region are drawn a little beyond the data.

    Examples
    --------
    >>> fig = region_path_plane(design.history(), design.measurements(),  # doctest: +SKIP
    ...                         "homo_lumo_gap", "dipole")
    """
    history = _check_history(history)
    x = _check_property(history, x, "x")
    y = _check_property(history, y, "y")
    table = _check_measurements(measurements, (x, y))
    units = _units(history)
    ok = table[table["ok"].astype(bool)]
    xs, ys = ok[x].to_numpy(float), ok[y].to_numpy(float)
    if background is not None:
        _check_measurements(background.assign(round=0, ok=True), (x, y))
        xs = np.concatenate([xs, background[x].to_numpy(float)])
        ys = np.concatenate([ys, background[y].to_numpy(float)])
    x_range = (np.nanmin(xs), np.nanmax(xs)) if xs.size else (0.0, 1.0)
    y_range = (np.nanmin(ys), np.nanmax(ys)) if ys.size else (0.0, 1.0)
    n_rounds = int(history.sizes["round"])
    fig = go.Figure()
    if background is not None:
        fig.add_trace(
            go.Scattergl(
                x=background[x],
                y=background[y],
                mode="markers",
                name="data set",
                marker={"color": "#cccccc", "size": 4},
                hoverinfo="skip",
            )
        )
    for r in range(n_rounds):
        part = ok[ok["round"] == r]
        label = "initial data" if r == 0 else f"round {r}"
        marker = (
            {"color": COLORS["data"], "size": 6, "symbol": "circle-open"}
            if r == 0
            else {"color": _round_color(r, n_rounds), "size": 10, "line": {"width": 1}}
        )
        fig.add_trace(
            go.Scatter(
                x=part[x],
                y=part[y],
                mode="markers",
                name=label,
                marker=marker,
                text=part["smiles"] if "smiles" in part else None,
                hovertemplate="%{text}<br>%{x:.3g}, %{y:.3g}<extra>" + label + "</extra>",
            )
        )
    for r in range(1, n_rounds):
        low = history["temporary_low"].sel(round=r)
        high = history["temporary_high"].sel(round=r)
        x0, x1 = _finite_box(float(low.sel(property=x)), float(high.sel(property=x)), *x_range)
        y0, y1 = _finite_box(float(low.sel(property=y)), float(high.sel(property=y)), *y_range)
        fig.add_trace(
            go.Scatter(
                x=[x0, x1, x1, x0, x0],
                y=[y0, y0, y1, y1, y0],
                mode="lines",
                name=f"region {r}",
                line={"color": _round_color(r, n_rounds), "dash": "dash", "width": 1.5},
                hoverinfo="name",
            )
        )
    fx0, fx1 = _finite_box(
        float(history["final_low"].sel(property=x)),
        float(history["final_high"].sel(property=x)),
        *x_range,
    )
    fy0, fy1 = _finite_box(
        float(history["final_low"].sel(property=y)),
        float(history["final_high"].sel(property=y)),
        *y_range,
    )
    fig.add_trace(
        go.Scatter(
            x=[fx0, fx1, fx1, fx0, fx0],
            y=[fy0, fy0, fy1, fy1, fy0],
            mode="lines",
            name="final region",
            line={"color": _FINAL_COLOR, "width": 3},
            fill="toself",
            fillcolor="rgba(214, 39, 40, 0.08)",
            hoverinfo="name",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title="Temporary target regions and measured molecules, by round",
        xaxis_title=axis_label(x, units),
        yaxis_title=axis_label(y, units),
    )
    return fig


def region_path_rounds(history: xr.Dataset, measurements: pd.DataFrame, prop: str) -> go.Figure:
    """One property against the round: temporary interval, final interval and measured values.

    Parameters
    ----------
    history : xarray.Dataset
        ``design.history()``.
    measurements : pandas.DataFrame
        ``design.measurements()``.
    prop : str
        One of the design's properties.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: successful measurements (x = round; round 0 is the initial data); trace 1:
        the temporary intervals (error bars around their centres; open sides drawn to the
        edge of the data); trace 2: the final interval (a shaded band, ``name`` ``"final
        region"``).

    Examples
    --------
    >>> fig = region_path_rounds(design.history(), design.measurements(),  # doctest: +SKIP
    ...                          "homo_lumo_gap")
    """
    history = _check_history(history)
    prop = _check_property(history, prop, "prop")
    table = _check_measurements(measurements, (prop,))
    ok = table[table["ok"].astype(bool)]
    values = ok[prop].to_numpy(float)
    data_range = (np.nanmin(values), np.nanmax(values)) if values.size else (0.0, 1.0)
    final = (
        float(history["final_low"].sel(property=prop)),
        float(history["final_high"].sel(property=prop)),
    )
    data_range = (
        min(data_range[0], final[0] if math.isfinite(final[0]) else data_range[0]),
        max(data_range[1], final[1] if math.isfinite(final[1]) else data_range[1]),
    )
    rounds = history["round"].values[1:]
    lows, highs = [], []
    for r in rounds:
        lo, hi = _finite_box(
            float(history["temporary_low"].sel(round=r, property=prop)),
            float(history["temporary_high"].sel(round=r, property=prop)),
            *data_range,
        )
        lows.append(lo)
        highs.append(hi)
    lows, highs = np.array(lows), np.array(highs)
    centre = (lows + highs) / 2
    f0, f1 = _finite_box(*final, *data_range)
    n_rounds = int(history.sizes["round"])
    units = _units(history)
    fig = go.Figure(
        [
            go.Scatter(
                x=ok["round"],
                y=ok[prop],
                mode="markers",
                name="measured",
                marker={"color": COLORS["data"], "size": 7, "opacity": 0.7},
                text=ok["smiles"] if "smiles" in ok else None,
            ),
            go.Scatter(
                x=rounds,
                y=centre,
                mode="markers",
                name="temporary region",
                marker={"color": COLORS["draws"], "size": 2},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": highs - centre,
                    "arrayminus": centre - lows,
                    "thickness": 6,
                    "width": 0,
                    "color": COLORS["band"],
                },
            ),
            go.Scatter(
                x=[-0.5, n_rounds - 0.5, n_rounds - 0.5, -0.5, -0.5],
                y=[f0, f0, f1, f1, f0],
                mode="lines",
                name="final region",
                line={"color": _FINAL_COLOR, "width": 1},
                fill="toself",
                fillcolor="rgba(214, 39, 40, 0.10)",
            ),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        title=f"{prop}: temporary target interval and measurements by round",
        xaxis_title="round",
        yaxis_title=axis_label(prop, units),
        xaxis={"dtick": 1},
    )
    return fig


def best_distance_by_round(history: xr.Dataset) -> go.Figure:
    """Best-so-far standardised distance to the final region, against oracle calls.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: best distance after each round (x = cumulative oracle calls, text = round);
        0 means a molecule inside the final region has been measured.

    Examples
    --------
    >>> fig = best_distance_by_round(design.history())  # doctest: +SKIP
    """
    history = _check_history(history)
    calls = history["n_oracle_calls"].values if "n_oracle_calls" in history else None
    x = calls if calls is not None else history["round"].values
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=history["best_distance"].values,
            mode="lines+markers",
            name="best distance",
            line={"shape": "hv", "color": COLORS["mean"]},
            text=[f"round {r}" for r in history["round"].values],
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title="Distance of the best measured molecule to the final region",
        xaxis_title="oracle calls" if calls is not None else "round",
        yaxis_title="standardised distance (0 = inside)",
    )
    return fig
