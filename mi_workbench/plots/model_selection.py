"""Model selection figures: the Bayesian free energy of candidate models, with BIC beside it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mi_workbench._checks import check_finite_array
from mi_workbench.plots._style import COLORS, TEMPLATE

_REQUIRED_COLUMNS = ("free_energy", "stderr")


def free_energy_plot(
    table: pd.DataFrame,
    x: Sequence[float] | None = None,
    *,
    x_label: str = "model",
    show_bic: bool = True,
    title: str = "Bayesian free energy of the candidate models",
) -> go.Figure:
    """Free energy ``F = -log Z`` of each model with its standard error, and ``BIC / 2``.

    Lower is better for both: the model of minimal free energy has the largest evidence.
    ``BIC / 2 = (k ln n) / 2 - ln L_max`` is the large-sample approximation of ``F``.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`mi_workbench.inference.select_model` (index: model names; columns
        ``free_energy``, ``stderr`` and, for ``show_bic``, ``bic``). Any row order.
    x : sequence of float, optional
        A number for each row in the table's order (e.g. the number of peaks K); the models are
        drawn in increasing x. Default: the rows in table order, labelled by name.
    x_label : str
        Title of the x axis.
    show_bic : bool
        Also draw ``BIC / 2`` when the table has a ``bic`` column.
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: the free energy with error bars (``error_y`` = stderr, NaN drawn as 0); trace 1
        (when drawn): ``BIC / 2``. The best model (minimal F) is marked in the hover text.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame(
    ...     {"free_energy": [-40.0, -52.0, -50.0], "stderr": [0.1, 0.2, 0.4],
    ...      "bic": [-70.0, -95.0, -88.0]}, index=["K=1", "K=2", "K=3"])
    >>> fig = free_energy_plot(table, x=[1, 2, 3], x_label="number of peaks K")
    >>> fig.data[0].y.tolist()
    [-40.0, -52.0, -50.0]
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas.DataFrame, got {type(table).__name__}")
    missing = [c for c in _REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"table lacks the column(s) {missing}; pass the table of select_model(...)"
        )
    if table.empty:
        raise ValueError("table is empty: there are no models to plot")
    names = [str(name) for name in table.index]
    if x is None:
        positions = np.arange(len(table), dtype=float)
    else:
        positions = check_finite_array("x", x, ndim=1)
        if positions.shape != (len(table),):
            raise ValueError(
                f"x must hold one finite number per table row ({len(table)}), "
                f"got {positions.size} number(s)"
            )
    order = np.argsort(positions, kind="stable")
    positions = positions[order]
    names = [names[i] for i in order]
    free = table["free_energy"].to_numpy(float)[order]
    errors = np.nan_to_num(table["stderr"].to_numpy(float)[order], nan=0.0)
    best = int(np.argmin(free))
    hover = [
        f"{name}<br>F = {f:.2f} +- {e:.2f} nats" + (" (best)" if i == best else "")
        for i, (name, f, e) in enumerate(zip(names, free, errors, strict=True))
    ]
    x_values = positions if x is not None else names
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x_values,
            y=free,
            error_y={"type": "data", "array": errors, "visible": True},
            mode="lines+markers",
            name="free energy F = -log Z",
            marker={"color": COLORS["draws"], "size": 9},
            line={"color": COLORS["draws"]},
            hovertext=hover,
            hoverinfo="text",
        )
    )
    if show_bic and "bic" in table.columns:
        fig.add_trace(
            go.Scatter(
                x=x_values,
                y=table["bic"].to_numpy(float)[order] / 2.0,
                mode="lines+markers",
                name="BIC / 2",
                marker={"color": COLORS["reference"], "symbol": "diamond", "size": 8},
                line={"color": COLORS["reference"], "dash": "dash"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[x_values[best]],
            y=[free[best]],
            mode="markers",
            name="minimum F",
            marker={"color": COLORS["mean"], "size": 16, "symbol": "circle-open"},
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis_title=x_label,
        yaxis_title="nats (lower is better)",
        height=380,
    )
    if x is not None:
        fig.update_xaxes(tickmode="array", tickvals=list(positions))
    return fig
