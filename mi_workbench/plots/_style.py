"""The shared look of every figure, and small helpers used by several plot functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import check_str_sequence

#: Colours: data in dark grey, draws and posteriors in blue, truths in orange, chains distinct.
COLORS = {
    "data": "#222222",
    "draws": "#1f77b4",
    "band": "rgba(31, 119, 180, 0.25)",
    "mean": "#0b3d91",
    "reference": "#e6550d",
    "hdi": "#0b3d91",
    "identity": "#888888",
}
CHAIN_COLORS = ("#1f77b4", "#e6550d", "#2ca02c", "#9467bd", "#8c564b", "#17becf")

#: The template every figure uses (a white background, readable fonts, the colours above).
TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": "Arial, Helvetica, sans-serif", "size": 13},
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=list(CHAIN_COLORS),
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        xaxis={"showline": True, "linecolor": "#444", "gridcolor": "#e5e5e5", "zeroline": False},
        yaxis={"showline": True, "linecolor": "#444", "gridcolor": "#e5e5e5", "zeroline": False},
        legend={"bgcolor": "rgba(255,255,255,0.7)"},
        hovermode="closest",
    )
)


def axis_label(
    name: str, units: Mapping[str, str] | None = None, wrap_at: int | None = None
) -> str:
    """``name (unit)`` when ``units`` knows the unit of ``name``, else ``name``.

    With ``wrap_at``, a label longer than that many characters puts the unit on a second line.
    """
    unit = (units or {}).get(name)
    if not unit:
        return name
    if wrap_at is not None and len(name) + len(unit) + 3 > wrap_at:
        return f"{name}<br>({unit})"
    return f"{name} ({unit})"


def posterior_dataset(idata: xr.DataTree | xr.Dataset, name: str = "idata") -> xr.Dataset:
    """The posterior as a Dataset, from a DataTree with a ``posterior`` group or a Dataset.

    ``name`` is the argument ``idata`` came from, for the error messages.
    """
    if isinstance(idata, xr.Dataset):
        posterior = idata
    elif isinstance(idata, xr.DataTree):
        if "posterior" not in idata.children:
            raise ValueError(
                f"{name} has no posterior group: pass the result of fit() or metropolis()"
            )
        posterior = idata["posterior"].to_dataset()
    else:
        raise TypeError(
            f"{name} must be an xarray DataTree (as fit() returns) or a posterior Dataset, "
            f"got {type(idata).__name__}"
        )
    missing = [d for d in ("chain", "draw") if d not in posterior.dims]
    if missing:
        raise ValueError(
            f"the posterior of {name} must have dims 'chain' and 'draw'; missing {missing}"
        )
    return posterior


def scalar_parameters(
    idata: xr.DataTree | xr.Dataset, var_names: Sequence[str] | str | None
) -> dict[str, np.ndarray]:
    """Posterior draws split into scalar parameters, each an array (chain, draw).

    A vector variable such as ``coefficients`` with dim ``feature`` becomes
    ``coefficients[name]`` for each feature name.
    """
    posterior = posterior_dataset(idata)
    if var_names is None:
        var_names = list(posterior.data_vars)
    var_names = check_str_sequence("var_names", var_names, allow_empty=True, allow_str=True)
    if not var_names:
        raise ValueError("var_names must name at least one posterior variable, got []")
    unknown = [v for v in var_names if v not in posterior]
    if unknown:
        raise ValueError(
            f"unknown variable name(s) {unknown}; the posterior has {list(posterior.data_vars)}"
        )
    out: dict[str, np.ndarray] = {}
    for name in var_names:
        da = posterior[name]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        if not extra:
            out[name] = da.transpose("chain", "draw").values.astype(float)
            continue
        stacked = da.stack(_flat=extra).transpose("chain", "draw", "_flat")
        labels = stacked["_flat"].values
        values = stacked.values.astype(float)
        for i, label in enumerate(labels):
            text = ",".join(map(str, label)) if isinstance(label, tuple) else str(label)
            out[f"{name}[{text}]"] = values[:, :, i]
    return out


def hdi(values: np.ndarray, prob: float = 0.94, axis: int = 0) -> np.ndarray:
    """Highest-density interval of draws along ``axis``: array (..., 2) of (low, high).

    The narrowest interval holding ``prob`` of the sorted draws (unimodal posteriors).
    """
    if not 0 < prob < 1:
        raise ValueError(f"hdi_prob must be in (0, 1), got {prob!r}")
    values = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    ordered = np.sort(values, axis=-1)
    n = ordered.shape[-1]
    keep = max(1, min(n - 1, int(np.floor(prob * n))))
    widths = ordered[..., keep:] - ordered[..., : n - keep]
    start = np.argmin(widths, axis=-1)[..., None]
    low = np.take_along_axis(ordered, start, axis=-1)[..., 0]
    high = np.take_along_axis(ordered, start + keep, axis=-1)[..., 0]
    return np.stack([low, high], axis=-1)


def check_units(units: Mapping[str, str] | None) -> dict[str, str]:
    """``units`` as a dict of str, or raise."""
    if units is None:
        return {}
    if not isinstance(units, Mapping):
        raise TypeError(f"units must be a dict of name -> unit, got {type(units).__name__}")
    return {str(k): str(v) for k, v in units.items()}


def subplot_grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    """Rows and columns for ``n`` panels, at most ``max_cols`` wide."""
    cols = min(n, max_cols)
    return int(np.ceil(n / cols)), cols


def data_markers(x, y, *, name: str = "data", size: int = 7) -> go.Scatter:
    """The measured points of a figure: black markers, the same in every plot."""
    return go.Scatter(
        x=x, y=y, name=name, mode="markers", marker={"color": COLORS["data"], "size": size}
    )
