"""Figures of transfer learning and multi-fidelity models: learning curves and compute budgets.

Each function takes plain tables (the ``pandas.DataFrame``\\ s returned by
:func:`mi_workbench.design.budget.learning_curve` and
:func:`~mi_workbench.design.budget.budget_curve`) or arrays and returns a ``go.Figure``;
:class:`~mi_workbench.widgets.ComputeBudgetPanel` shows the budget curve as a live
``FigureWidget``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mi_workbench._checks import check_finite_array, check_finite_number
from mi_workbench.plots._style import CHAIN_COLORS, COLORS, TEMPLATE, data_markers

__all__ = ["compute_budget_curve", "fidelity_scatter", "learning_curves"]

#: Readable names of the multi-fidelity regressors.
MODEL_LABELS = {
    "single_fidelity": "single fidelity (DFT only)",
    "ar1": "AR1 (Kennedy-O'Hagan)",
    "nargp": "nonlinear AR1 (NARGP)",
    "difference": "difference",
    "proxy": "proxy as descriptor",
}
_CURRENT_COLOR = "#d62728"


def _check_table(table: object, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table]
    if missing:
        raise ValueError(f"{name} has no column(s) {missing}; it needs {list(columns)}")
    if not len(table):
        raise ValueError(f"{name} is empty")
    return table


def learning_curves(
    curve: pd.DataFrame, *, units: str = "eV", title: str | None = None, log_x: bool = True
) -> go.Figure:
    """Held-out RMSE against the number of expensive training points, one line per model.

    Parameters
    ----------
    curve : pandas.DataFrame
        Columns ``model``, ``n_high``, ``rmse`` (one row per split), as returned by
        :func:`mi_workbench.design.budget.learning_curve`.
    units : str
        Unit of the RMSE.
    title : str, optional
    log_x : bool
        Logarithmic x axis.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per model, in order of first appearance: x = n_high, y = mean RMSE over
        splits, error bars = standard error (``error_y.array``).

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"model": ["ar1"] * 4, "n_high": [10, 10, 20, 20],
    ...                       "rmse": [1.0, 1.2, 0.8, 0.9]})
    >>> learning_curves(curve).data[0].y.round(2).tolist()
    [1.1, 0.85]
    """
    curve = _check_table(curve, "curve", ("model", "n_high", "rmse"))
    fig = go.Figure()
    for i, (model, part) in enumerate(curve.groupby("model", sort=False)):
        stats = part.groupby("n_high")["rmse"].agg(["mean", "std", "count"]).sort_index()
        se = (stats["std"] / np.sqrt(stats["count"])).fillna(0.0)
        fig.add_trace(
            go.Scatter(
                x=stats.index.to_numpy(),
                y=stats["mean"].to_numpy(),
                error_y={"type": "data", "array": se.to_numpy(), "visible": True},
                mode="lines+markers",
                name=MODEL_LABELS.get(str(model), str(model)),
                line={"color": CHAIN_COLORS[i % len(CHAIN_COLORS)]},
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title=title or "Error on held-out expensive values",
        xaxis_title="expensive training points (n_high)",
        yaxis_title=f"RMSE ({units})",
        xaxis_type="log" if log_x else "linear",
        height=400,
    )
    return fig


def compute_budget_curve(
    table: pd.DataFrame,
    current_fraction: float | None = None,
    *,
    units: str = "eV",
    title: str | None = None,
) -> go.Figure:
    """Held-out RMSE against the share of a compute budget spent on cheap calculations.

    The fractions above 0 are drawn on a logarithmic axis; the fraction 0 (everything spent on
    expensive calculations) is a horizontal dashed line. The models' own predicted sd is drawn
    beside the measured error: where it is far below the RMSE, the model is over-confident.

    Parameters
    ----------
    table : pandas.DataFrame
        As returned by :func:`mi_workbench.design.budget.budget_curve` (columns
        ``cheap_fraction``, ``n_low``, ``n_high``, ``rmse``, ``rmse_se``, ``predicted_sd``).
    current_fraction : float, optional
        The fraction to mark, in [0, 1] (the nearest row of ``table`` is marked).
    units : str
        Unit of the RMSE.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: RMSE for fractions > 0 (error bars: standard error); trace 1: predicted sd;
        trace 2: RMSE at fraction 0 (a horizontal line, empty if that row is missing); trace 3:
        the current choice (one marker, or on the line at the left edge for fraction 0).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"cheap_fraction": [0.0, 0.01, 0.1], "n_low": [0, 100, 1000],
    ...     "n_high": [50, 49, 45], "rmse": [1.0, 0.6, 0.5], "rmse_se": [0.1, 0.1, 0.1],
    ...     "predicted_sd": [0.5, 0.4, 0.3]})
    >>> list(compute_budget_curve(table, 0.01).data[3].y)
    [0.6]
    """
    if current_fraction is not None:
        current_fraction = check_finite_number("current_fraction", current_fraction)
        if not 0.0 <= current_fraction <= 1.0:
            raise ValueError(
                f"current_fraction must be a share of the budget in [0, 1] or None, "
                f"got {current_fraction!r}"
            )
    columns = ("cheap_fraction", "n_low", "n_high", "rmse", "rmse_se", "predicted_sd")
    table = _check_table(table, "table", columns).sort_values("cheap_fraction")
    fractions = table["cheap_fraction"].to_numpy(float)
    positive = table[fractions > 0]
    zero = table[fractions == 0]
    hover = (
        "spent on cheap: %{x:.3g}<br>RMSE %{y:.3f} " + units + "<br>%{customdata[0]} cheap, "
        "%{customdata[1]} expensive<extra></extra>"
    )
    custom = positive[["n_low", "n_high"]].to_numpy()
    traces = [
        go.Scatter(
            x=positive["cheap_fraction"],
            y=positive["rmse"],
            error_y={"type": "data", "array": positive["rmse_se"].fillna(0.0), "visible": True},
            customdata=custom,
            hovertemplate=hover,
            mode="lines+markers",
            name="held-out RMSE",
            line={"color": COLORS["mean"]},
        ),
        go.Scatter(
            x=positive["cheap_fraction"],
            y=positive["predicted_sd"],
            customdata=custom,
            hovertemplate=hover.replace("RMSE", "predicted sd"),
            mode="lines+markers",
            name="model's predicted sd",
            line={"color": COLORS["draws"], "dash": "dot"},
            marker={"symbol": "circle-open"},
        ),
    ]
    x_left = float(positive["cheap_fraction"].min()) if len(positive) else 1e-3
    x_right = float(positive["cheap_fraction"].max()) if len(positive) else 1.0
    if len(zero):
        row = zero.iloc[0]
        traces.append(
            go.Scatter(
                x=[x_left, x_right],
                y=[float(row["rmse"])] * 2,
                mode="lines",
                name=f"all on expensive ({int(row['n_high'])} calculations)",
                line={"color": COLORS["reference"], "dash": "dash"},
                hoverinfo="name+y",
            )
        )
    else:
        traces.append(go.Scatter(x=[], y=[], mode="lines", name="all on expensive"))
    marker_x, marker_y, marker_text = [], [], []
    if current_fraction is not None:
        row = table.iloc[int(np.argmin(np.abs(fractions - float(current_fraction))))]
        at_zero = float(row["cheap_fraction"]) == 0.0
        marker_x = [x_left if at_zero else float(row["cheap_fraction"])]
        marker_y = [float(row["rmse"])]
        marker_text = [f"{int(row['n_low'])} cheap, {int(row['n_high'])} expensive"]
    traces.append(
        go.Scatter(
            x=marker_x,
            y=marker_y,
            text=marker_text,
            mode="markers",
            name="current choice",
            marker={"color": _CURRENT_COLOR, "size": 15, "symbol": "star"},
            hovertemplate="%{text}<br>RMSE %{y:.3f} " + units + "<extra>current choice</extra>",
        )
    )
    fig = go.Figure(traces)
    fig.update_layout(
        template=TEMPLATE,
        title=title or "Accuracy on the expensive quantity for one compute budget",
        xaxis_title="share of the budget spent on cheap calculations",
        yaxis_title=f"error on held-out expensive values ({units})",
        xaxis_type="log",
        xaxis_tickformat=".1%",
        height=420,
        legend={"x": 0.01, "y": 0.99},
    )
    return fig


def fidelity_scatter(
    y_low,
    y_high,
    *,
    low_name: str = "low fidelity",
    high_name: str = "high fidelity",
    units: str = "eV",
    title: str | None = None,
) -> go.Figure:
    """Expensive against cheap values of the items that have both, with the identity line.

    Parameters
    ----------
    y_low, y_high : array (n,)
        Cheap and expensive values (items without an expensive value, NaN, are left out).
    low_name, high_name : str
        Axis labels.
    units : str
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: the items; trace 1: the identity line; trace 2: the least-squares line.

    Examples
    --------
    >>> fig = fidelity_scatter([1.0, 2.0, 3.0], [2.1, 3.9, 6.0])
    >>> len(fig.data[0].x)
    3
    """
    y_low = check_finite_array("y_low", y_low, ndim=1)
    if y_high is None or isinstance(y_high, str):
        kind = "None" if y_high is None else f"the text {y_high!r}"
        raise TypeError(f"y_high must be an array of numbers (NaN where missing), got {kind}")
    try:
        y_high = np.asarray(y_high, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("y_high must contain numbers only (NaN where missing)") from None
    if np.isinf(y_high).any():
        raise ValueError(
            f"y_high contains an infinite value at position {int(np.argmax(np.isinf(y_high)))}; "
            "mark a missing expensive value with NaN"
        )
    if y_high.shape != y_low.shape:
        raise ValueError(
            f"y_low and y_high must have the same shape, got {y_low.shape} and {y_high.shape}"
        )
    both = np.isfinite(y_high)
    if both.sum() < 2:
        raise ValueError("y_high needs at least 2 finite values")
    x, y = y_low[both], y_high[both]
    lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
    # the least-squares line from centred values (exact for a constant y, no polyfit warnings)
    dx, dy = x - x.mean(), y - y.mean()
    with np.errstate(over="ignore", invalid="ignore"):
        sxx, sxy, syy = float(dx @ dx), float(dx @ dy), float(dy @ dy)
        slope = sxy / sxx if sxx > 0 else 0.0
        intercept = float(y.mean()) - slope * float(x.mean())
        ends = [slope * lo + intercept, slope * hi + intercept]
    if not np.all(np.isfinite([slope, intercept, *ends])):
        raise ValueError(
            "y_low and y_high are too large to fit a line through them (largest magnitude "
            f"{max(abs(lo), abs(hi)):.3g}); check their units"
        )
    r_text = f"{sxy / np.sqrt(sxx * syy):.2f}" if sxx > 0 and syy > 0 else "undefined"
    fig = go.Figure(
        [
            data_markers(x, y, name=f"{both.sum()} items", size=6),
            go.Scatter(
                x=[lo, hi],
                y=[lo, hi],
                mode="lines",
                name="identity",
                line={"color": COLORS["identity"], "dash": "dot"},
            ),
            go.Scatter(
                x=[lo, hi],
                y=ends,
                mode="lines",
                name=f"least squares: {slope:.2f} x + {intercept:.2f} (r = {r_text})",
                line={"color": COLORS["reference"]},
            ),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        title=title or f"{high_name} against {low_name}",
        xaxis_title=f"{low_name} ({units})",
        yaxis_title=f"{high_name} ({units})",
        height=420,
    )
    return fig
