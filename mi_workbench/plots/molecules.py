"""Figures of molecular inverse design: the property plane, the iQSPR population, found molecules.

The property plane shows the project's computed molecules (GFN2-xTB values of the training data)
as faint points, the target region as a rectangle, the iQSPR population coloured by step, the
molecules found at the last step with their predicted mean +- sd, and, where they were computed,
their xTB values. :func:`molecule_image_uri` and :func:`molecule_gallery_html` draw structures
with RDKit for galleries and panels (:class:`~mi_workbench.widgets.InverseDesignPanel`).

Property names are the oracle's keys: ``"homo_lumo_gap"`` (eV), ``"total_energy"`` (hartree),
``"dipole"`` (debye).
"""

from __future__ import annotations

import base64
import functools
import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import check_positive_int
from mi_workbench.data.molecules import (
    MOLECULE_PROPERTY_LABELS,
    MOLECULE_PROPERTY_UNITS,
    XTB_PROPERTY_VARIABLES,
)
from mi_workbench.plots._style import COLORS, TEMPLATE

__all__ = [
    "PLANE_TRACES",
    "check_property_region",
    "molecule_gallery_html",
    "molecule_image_uri",
    "molecule_svg",
    "plane_traces",
    "population_by_step",
    "property_label",
    "property_plane",
    "region_rectangle",
    "training_property_values",
]

#: Trace names of :func:`property_plane`, always in this order.
PLANE_TRACES = ("training data (xTB)", "iQSPR population", "found (predicted)", "found (xTB)")

_POPULATION_SCALE = "Viridis"
_FOUND_COLOR = "#d62728"
_XTB_COLOR = "#2ca02c"


def property_label(name: str, wrap: bool = False) -> str:
    """Axis label of a property, e.g. ``"HOMO-LUMO gap (eV)"``.

    Examples
    --------
    >>> property_label("dipole")
    'dipole moment (debye)'
    """
    word = MOLECULE_PROPERTY_LABELS.get(name, name)
    unit = MOLECULE_PROPERTY_UNITS.get(name)
    if not unit:
        return word
    return f"{word}<br>({unit})" if wrap else f"{word} ({unit})"


def _check_property(argument: str, name: object) -> str:
    if name not in MOLECULE_PROPERTY_UNITS:
        raise ValueError(
            f"{argument} must be one of the properties {list(MOLECULE_PROPERTY_UNITS)}, "
            f"got {name!r}"
        )
    return str(name)


def check_property_region(
    region: Mapping[str, Sequence[float]], properties: Sequence[str] | None = None
) -> dict[str, tuple[float, float]]:
    """A closed target region ``{property: (low, high)}`` checked for drawing and for the panel.

    Parameters
    ----------
    region : mapping of str -> (float, float)
        Bounds per property; both finite, ``low < high``.
    properties : sequence of str, optional
        The allowed property names (default: :data:`MOLECULE_PROPERTY_UNITS`).

    Returns
    -------
    dict of str -> (float, float)

    Raises
    ------
    ValueError, TypeError
        Unknown property names, non-finite bounds, an empty (low == high) or inverted
        (low > high) range; the message names the property and its bounds.

    Examples
    --------
    >>> check_property_region({"homo_lumo_gap": (6, 8)})
    {'homo_lumo_gap': (6.0, 8.0)}
    """
    if not isinstance(region, Mapping):
        raise TypeError(
            f"region must be a dict {{property: (low, high)}}, got {type(region).__name__}"
        )
    allowed = list(MOLECULE_PROPERTY_UNITS if properties is None else properties)
    if not region:
        raise ValueError("region must bound at least one property, got {}")
    out = {}
    for name, bounds in region.items():
        if name not in allowed:
            raise ValueError(f"unknown property {name!r} in the region; allowed are {allowed}")
        try:
            low, high = bounds
            low, high = float(low), float(high)
        except (TypeError, ValueError):
            raise TypeError(
                f"the bounds of {name} must be two numbers (low, high), got {bounds!r}"
            ) from None
        unit = MOLECULE_PROPERTY_UNITS.get(name, "")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"the bounds of {name} must be finite numbers, got ({low}, {high})")
        if low == high:
            raise ValueError(
                f"the target region of {name} is empty: low = high = {low:g} {unit}; "
                f"give a range with low < high"
            )
        if low > high:
            raise ValueError(
                f"the target region of {name} is inverted: low {low:g} > high {high:g} {unit}; "
                f"low must be below high"
            )
        out[str(name)] = (low, high)
    return out


def training_property_values(training: xr.Dataset | pd.DataFrame, name: str) -> np.ndarray:
    """Values of property ``name`` in the training data (NaN where the calculation failed).

    ``training`` is the data set of :func:`mi_workbench.data.load_molecules_xtb_dft` (variables
    ``xtb_homo_lumo_gap_ev``, ...) or a table with one column per property name.

    Examples
    --------
    >>> from mi_workbench.data import load_molecules_xtb_dft
    >>> gap = training_property_values(load_molecules_xtb_dft("xtb"), "homo_lumo_gap")
    >>> bool(gap.min() > 0)
    True
    """
    _check_property("name", name)
    if isinstance(training, xr.Dataset):
        for variable in (XTB_PROPERTY_VARIABLES[name], name):
            if variable in training.data_vars:
                return np.asarray(training[variable].values, dtype=float).ravel()
        raise ValueError(
            f"the training data set has no variable {XTB_PROPERTY_VARIABLES[name]!r} or {name!r}; "
            f"it has {list(training.data_vars)}"
        )
    if isinstance(training, pd.DataFrame):
        for column in (name, XTB_PROPERTY_VARIABLES[name]):
            if column in training.columns:
                return np.asarray(training[column].values, dtype=float)
        raise ValueError(
            f"the training table has no column {name!r}; it has {list(training.columns)}"
        )
    raise TypeError(
        f"training must be an xarray.Dataset (load_molecules_xtb_dft) or a pandas.DataFrame, "
        f"got {type(training).__name__}"
    )


def _training_smiles(training) -> np.ndarray | None:
    if isinstance(training, xr.Dataset) and "smiles" in training.data_vars:
        return training["smiles"].values.astype(str)
    if isinstance(training, pd.DataFrame) and "smiles" in training.columns:
        return training["smiles"].astype(str).values
    return None


def _region_shape(x_range, y_range) -> dict:
    return {
        "type": "rect",
        "name": "target region",
        "xref": "x",
        "yref": "y",
        "x0": float(x_range[0]),
        "x1": float(x_range[1]),
        "y0": float(y_range[0]),
        "y1": float(y_range[1]),
        "line": {"color": COLORS["reference"], "width": 2.5},
        "fillcolor": "rgba(230, 85, 13, 0.10)",
        "layer": "above",
    }


def _check_result(result: object, properties: Sequence[str]) -> xr.Dataset:
    if not isinstance(result, xr.Dataset):
        raise TypeError(
            f"result must be the xarray.Dataset returned by IQSPR.run, got {type(result).__name__}"
        )
    needed = ["smiles"] + [f"{p}_mean" for p in properties]
    missing = [v for v in needed if v not in result.data_vars]
    if missing or "step" not in result.dims or "particle" not in result.dims:
        raise ValueError(
            f"result must have dims ('step', 'particle') and the variables {needed} "
            f"(as IQSPR.run returns); missing {missing or ['step/particle dims']}"
        )
    return result


def _population_arrays(result: xr.Dataset, x: str, y: str):
    ds = result.transpose("step", "particle")
    steps = np.asarray(ds["step"].values)
    n_particles = ds.sizes["particle"]
    xs = np.asarray(ds[f"{x}_mean"].values, dtype=float).ravel()
    ys = np.asarray(ds[f"{y}_mean"].values, dtype=float).ravel()
    step_of = np.repeat(steps, n_particles)
    smiles = ds["smiles"].values.astype(str).ravel()
    return xs, ys, step_of, smiles


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    if name in table.columns:
        return np.asarray(table[name].values, dtype=float)
    return np.full(len(table), np.nan)


def property_plane(
    training: xr.Dataset | pd.DataFrame | None = None,
    x: str = "homo_lumo_gap",
    y: str = "total_energy",
    *,
    region: Mapping[str, Sequence[float]] | None = None,
    result: xr.Dataset | None = None,
    molecules: pd.DataFrame | None = None,
    title: str | None = None,
    height: int = 520,
) -> go.Figure:
    """The property plane of inverse design: data, target region, population, molecules found.

    Parameters
    ----------
    training : xarray.Dataset or pandas.DataFrame, optional
        The training molecules with their xTB values (:func:`training_property_values`),
        drawn as faint WebGL points (thousands of points stay fluid).
    x, y : str
        Properties on the axes (``"homo_lumo_gap"``, ``"total_energy"``, ``"dipole"``).
    region : dict, optional
        ``{property: (low, high)}``; the bounds of ``x`` and ``y`` are drawn as a rectangle
        (a missing axis spans the plot).
    result : xarray.Dataset, optional
        The population of :meth:`mi_workbench.molecules.iqspr.IQSPR.run` (``smiles``,
        ``<prop>_mean`` over ``step``, ``particle``), coloured by step.
    molecules : pandas.DataFrame, optional
        Molecules found: ``smiles``, ``<prop>_mean``, ``<prop>_sd`` and, where computed,
        ``xtb_<prop>``; predicted means are drawn with +- sd error bars, xTB values as diamonds.
    title : str, optional
    height : int
        Figure height in pixels (at least 10).

    Returns
    -------
    plotly.graph_objects.Figure
        Always four traces in this order (empty when the input is missing), so that a panel
        can update them in place: ``"training data (xTB)"``, ``"iQSPR population"``,
        ``"found (predicted)"``, ``"found (xTB)"``; the region is the layout shape named
        ``"target region"``.

    Examples
    --------
    >>> from mi_workbench.data import load_molecules_xtb_dft
    >>> fig = property_plane(load_molecules_xtb_dft("xtb"), "homo_lumo_gap", "dipole",
    ...                      region={"homo_lumo_gap": (7, 9), "dipole": (3, 6)})
    >>> [trace.name for trace in fig.data][0], len(fig.layout.shapes)
    ('training data (xTB)', 1)
    """
    x = _check_property("x", x)
    y = _check_property("y", y)
    if x == y:
        raise ValueError(f"x and y must be two different properties, got {x!r} twice")
    height = check_positive_int("height", height, minimum=10)
    fig = go.Figure()
    fig.add_traces(plane_traces(training, x, y, result=result, molecules=molecules))
    fig.update_layout(
        template=TEMPLATE,
        height=height,
        title=title or "Target region and molecules found",
        xaxis_title=property_label(x),
        yaxis_title=property_label(y),
        legend={"orientation": "h", "y": -0.18},
        dragmode="select",
        uirevision="property-plane",
    )
    if region is not None:
        shape = region_rectangle(region, x, y)
        if shape is not None:
            fig.add_shape(**shape)
    return fig


def region_rectangle(region: Mapping[str, Sequence[float]], x: str, y: str) -> dict | None:
    """The layout shape (a dict for ``fig.add_shape``) of the target region on axes ``x``, ``y``.

    ``None`` when the region bounds neither axis; an axis it does not bound spans the plot.

    Examples
    --------
    >>> region = {"homo_lumo_gap": (6, 8), "dipole": (1, 2)}
    >>> region_rectangle(region, "homo_lumo_gap", "dipole")["x1"]
    8.0
    """
    region = check_property_region(region)
    if x not in region and y not in region:
        return None
    shape = _region_shape(region.get(x, (0.0, 1.0)), region.get(y, (0.0, 1.0)))
    if x not in region:
        shape["xref"] = "paper"
    if y not in region:
        shape["yref"] = "paper"
    return shape


def plane_traces(
    training=None,
    x: str = "homo_lumo_gap",
    y: str = "total_energy",
    *,
    result: xr.Dataset | None = None,
    molecules: pd.DataFrame | None = None,
) -> list[go.Scattergl | go.Scatter]:
    """The four traces of :func:`property_plane` (for updating a figure in place)."""
    traces: list = []
    if training is not None:
        tx = training_property_values(training, x)
        ty = training_property_values(training, y)
        smiles = _training_smiles(training)
    else:
        tx = ty = np.array([])
        smiles = None
    traces.append(
        go.Scattergl(
            x=tx,
            y=ty,
            mode="markers",
            name=PLANE_TRACES[0],
            marker={"color": COLORS["data"], "size": 4, "opacity": 0.18},
            text=smiles,
            hovertemplate="%{text}<br>%{x:.3g}, %{y:.4g}<extra>training</extra>",
        )
    )
    if result is not None:
        _check_result(result, (x, y))
        px, py, steps, psmiles = _population_arrays(result, x, y)
        step_max = float(steps.max()) if steps.size else 1.0
    else:
        px = py = steps = np.array([])
        psmiles = None
        step_max = 1.0
    traces.append(
        go.Scattergl(
            x=px,
            y=py,
            mode="markers",
            name=PLANE_TRACES[1],
            text=psmiles,
            customdata=steps,
            marker={
                "color": steps,
                "colorscale": _POPULATION_SCALE,
                "cmin": 0.0,
                "cmax": max(step_max, 1.0),
                "size": 6,
                "opacity": 0.55,
                "colorbar": {"title": {"text": "step"}, "len": 0.6, "thickness": 12},
                "showscale": bool(len(px)),
            },
            hovertemplate="%{text}<br>step %{customdata}<br>predicted %{x:.3g}, %{y:.4g}"
            "<extra>population</extra>",
        )
    )
    if molecules is not None and len(molecules):
        if "smiles" not in molecules.columns:
            raise ValueError("molecules must have a 'smiles' column")
        mx, my = _column(molecules, f"{x}_mean"), _column(molecules, f"{y}_mean")
        sx, sy = _column(molecules, f"{x}_sd"), _column(molecules, f"{y}_sd")
        cx, cy = _column(molecules, f"xtb_{x}"), _column(molecules, f"xtb_{y}")
        msmiles = molecules["smiles"].astype(str).values
    else:
        mx = my = sx = sy = cx = cy = np.array([])
        msmiles = None
    traces.append(
        go.Scatter(
            x=mx,
            y=my,
            mode="markers",
            name=PLANE_TRACES[2],
            text=msmiles,
            marker={"color": _FOUND_COLOR, "size": 8, "line": {"color": "white", "width": 1}},
            error_x={"type": "data", "array": sx, "visible": True, "thickness": 1, "width": 0},
            error_y={"type": "data", "array": sy, "visible": True, "thickness": 1, "width": 0},
            hovertemplate="%{text}<br>predicted %{x:.3g}, %{y:.4g}<extra>found</extra>",
        )
    )
    computed = np.isfinite(cx) & np.isfinite(cy)
    traces.append(
        go.Scatter(
            x=cx[computed],
            y=cy[computed],
            mode="markers",
            name=PLANE_TRACES[3],
            text=None if msmiles is None else msmiles[computed],
            marker={
                "color": _XTB_COLOR,
                "symbol": "diamond",
                "size": 11,
                "line": {"color": "black", "width": 1},
            },
            hovertemplate="%{text}<br>xTB %{x:.3g}, %{y:.4g}<extra>xTB</extra>",
        )
    )
    return traces


def population_by_step(
    result: xr.Dataset,
    x: str = "homo_lumo_gap",
    y: str = "total_energy",
    *,
    training: xr.Dataset | pd.DataFrame | None = None,
    region: Mapping[str, Sequence[float]] | None = None,
    height: int = 520,
) -> go.Figure:
    """The iQSPR population step by step, with a slider (one trace per step).

    Parameters
    ----------
    result : xarray.Dataset
        The population of :meth:`mi_workbench.molecules.iqspr.IQSPR.run`.
    x, y : str
        Properties on the axes.
    training : xarray.Dataset or pandas.DataFrame, optional
        Training data drawn faintly behind the population.
    region : dict, optional
        Target region drawn as a rectangle.
    height : int

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 is the training data (possibly empty), then one trace ``"step k"`` per step
        (predicted means); the slider shows one step at a time, starting at the last.

    Examples
    --------
    >>> fig = population_by_step(result, "homo_lumo_gap", "total_energy")  # doctest: +SKIP
    """
    x = _check_property("x", x)
    y = _check_property("y", y)
    result = _check_result(result, (x, y))
    px, py, step_of, smiles = _population_arrays(result, x, y)
    steps = np.asarray(result["step"].values)
    fig = go.Figure()
    fig.add_trace(plane_traces(training, x, y)[0])
    colors = _step_colors(len(steps))
    for i, step in enumerate(steps):
        keep = step_of == step
        fig.add_trace(
            go.Scattergl(
                x=px[keep],
                y=py[keep],
                mode="markers",
                name=f"step {step}",
                text=smiles[keep],
                visible=bool(i == len(steps) - 1),
                marker={"color": colors[i], "size": 7, "opacity": 0.75},
                hovertemplate="%{text}<br>predicted %{x:.3g}, %{y:.4g}<extra></extra>",
            )
        )
    slider_steps = []
    for i, step in enumerate(steps):
        visible = [True] + [j == i for j in range(len(steps))]
        slider_steps.append(
            {"method": "restyle", "label": str(step), "args": [{"visible": visible}]}
        )
    fig.update_layout(
        template=TEMPLATE,
        height=height,
        title="iQSPR population, step by step (predicted means)",
        xaxis_title=property_label(x),
        yaxis_title=property_label(y),
        sliders=[
            {
                "active": len(steps) - 1,
                "currentvalue": {"prefix": "step "},
                "pad": {"t": 50},
                "steps": slider_steps,
            }
        ],
    )
    all_x, all_y = px, py
    if training is not None:
        all_x = np.concatenate([px, training_property_values(training, x)])
        all_y = np.concatenate([py, training_property_values(training, y)])
    for axis, values in (("xaxis", all_x), ("yaxis", all_y)):
        finite = values[np.isfinite(values)]
        if finite.size:
            pad = 0.05 * (finite.max() - finite.min() or 1.0)
            fig.layout[axis].range = [finite.min() - pad, finite.max() + pad]
    if region is not None:
        shape = region_rectangle(region, x, y)
        if shape is not None:
            fig.add_shape(**shape)
    return fig


def _step_colors(n: int) -> list[str]:
    from plotly.colors import sample_colorscale

    if n == 1:
        return sample_colorscale(_POPULATION_SCALE, [1.0])
    return sample_colorscale(_POPULATION_SCALE, list(np.linspace(0.0, 1.0, n)))


@functools.lru_cache(maxsize=512)
def molecule_svg(smiles: str, width: int = 200, height: int = 150) -> str:
    """An SVG drawing of a molecule (RDKit ``rdMolDraw2D``), as text.

    Raises ``ValueError`` when RDKit cannot read the SMILES.

    Examples
    --------
    >>> molecule_svg("c1ccccc1O").startswith("<?xml")
    True
    """
    if not isinstance(smiles, str):
        raise TypeError(f"smiles must be a str, got {type(smiles).__name__}")
    width = check_positive_int("width", width)
    height = check_positive_int("height", height)
    from rdkit import Chem, RDLogger
    from rdkit.Chem.Draw import rdMolDraw2D

    RDLogger.DisableLog("rdApp.*")
    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        raise ValueError(f"smiles {smiles!r} is not a valid SMILES: RDKit cannot read it")
    drawer = rdMolDraw2D.MolDraw2DSVG(int(width), int(height))
    drawer.drawOptions().clearBackground = False
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, molecule)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def molecule_image_uri(smiles: str, width: int = 200, height: int = 150) -> str:
    """A ``data:image/svg+xml;base64,...`` URI of the molecule, for ``<img src=...>``.

    Examples
    --------
    >>> molecule_image_uri("CCO").startswith("data:image/svg+xml;base64,")
    True
    """
    svg = molecule_svg(smiles, width, height)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _number(value: float, digits: int = 3) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}g}"


def molecule_gallery_html(
    molecules: pd.DataFrame,
    properties: Sequence[str] = ("homo_lumo_gap", "total_energy"),
    *,
    start: int = 0,
    count: int = 12,
    region: Mapping[str, Sequence[float]] | None = None,
    image_size: tuple[int, int] = (180, 135),
    columns: int = 4,
) -> str:
    """A grid of molecule cards: structure, SMILES, predicted mean +- sd and xTB values.

    Parameters
    ----------
    molecules : pandas.DataFrame
        ``smiles`` and, per property, ``<prop>_mean``, ``<prop>_sd`` and (when computed)
        ``xtb_<prop>``; optional ``count``, ``probability_in_region``, ``novel``,
        ``xtb_ok``, ``xtb_reason``, ``xtb_in_region``, and ``alerts`` (structural alerts, shown
        in amber when not empty).
    properties : sequence of str
        Properties listed on each card.
    start, count : int
        The rows shown (a page of the table, in its order).
    region : dict, optional
        Target region; xTB values inside it are marked in green, outside in red.
    image_size : (int, int)
        Structure image size in pixels.
    columns : int
        Cards per row.

    Returns
    -------
    str
        HTML (a CSS grid of ``<div class="mi-molecule-card">``), safe to show in
        ``ipywidgets.HTML`` or ``IPython.display.HTML``; every text is escaped.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"smiles": ["CCO"], "homo_lumo_gap_mean": [7.1],
    ...                       "homo_lumo_gap_sd": [0.4]})
    >>> "CCO" in molecule_gallery_html(table, ["homo_lumo_gap"])
    True
    """
    if not isinstance(molecules, pd.DataFrame) or "smiles" not in molecules.columns:
        raise TypeError("molecules must be a pandas.DataFrame with a 'smiles' column")
    if isinstance(properties, str) or not isinstance(properties, Sequence):
        raise TypeError(f"properties must be a sequence of property names, got {properties!r}")
    start = check_positive_int("start", start, minimum=0)
    count = check_positive_int("count", count, minimum=0)
    columns = check_positive_int("columns", columns)
    for name in properties:
        _check_property("properties", name)
    bounds = check_property_region(region) if region else {}
    page = molecules.iloc[max(int(start), 0) : max(int(start), 0) + max(int(count), 0)]
    if not len(page):
        return '<div class="mi-molecule-gallery"><i>No molecules to show yet.</i></div>'
    width, height = (int(v) for v in image_size)
    cards = []
    for rank, (_, row) in enumerate(page.iterrows(), start=max(int(start), 0) + 1):
        smiles = str(row["smiles"])
        try:
            image = (
                f'<img src="{molecule_image_uri(smiles, width, height)}" width="{width}" '
                f'height="{height}" alt="{html.escape(smiles)}"/>'
            )
        except ValueError:
            image = f'<div style="height:{height}px">(no drawing)</div>'
        lines = []
        for name in properties:
            mean = float(row.get(f"{name}_mean", np.nan))
            sd = float(row.get(f"{name}_sd", np.nan))
            unit = MOLECULE_PROPERTY_UNITS[name]
            label = html.escape(MOLECULE_PROPERTY_LABELS[name])
            text = f"{label}: {_number(mean)} &plusmn; {_number(sd, 2)}"
            computed = float(row.get(f"xtb_{name}", np.nan))
            if np.isfinite(computed):
                style = ""
                if name in bounds:
                    low, high = bounds[name]
                    inside = low <= computed <= high
                    style = f' style="color:{"#1a7f37" if inside else "#b00020"}"'
                text += f"; <b{style}>xTB {_number(computed, 4)}</b>"
            lines.append(f"{text} {html.escape(unit)}")
        extras = []
        if "probability_in_region" in row and np.isfinite(row["probability_in_region"]):
            extras.append(f"P(in region) = {float(row['probability_in_region']):.2f}")
        if "count" in row and np.isfinite(row["count"]):
            extras.append(f"{int(row['count'])} particle(s)")
        if "novel" in row and bool(row["novel"]):
            extras.append("new (not in the training data)")
        verdict = row.get("xtb_in_region", None)
        if verdict is not None and not pd.isna(verdict):
            extras.append(
                "xTB: inside the target region" if bool(verdict) else "xTB: outside the region"
            )
        reason = row.get("xtb_reason", "")
        if isinstance(reason, str) and reason and not bool(row.get("xtb_ok", True)):
            extras.append(f"xTB failed: {reason}")
        alerts = row.get("alerts", "")
        alert_line = (
            f'<div style="color:#9a6700">alert: {html.escape(alerts)}</div>'
            if isinstance(alerts, str) and alerts
            else ""
        )
        cards.append(
            '<div class="mi-molecule-card" style="border:1px solid #ddd;border-radius:6px;'
            'padding:6px;background:white;font-size:12px;line-height:1.35">'
            f"<div><b>#{rank}</b></div>{image}"
            f'<div style="font-family:monospace;word-break:break-all">{html.escape(smiles)}</div>'
            + "".join(f"<div>{line}</div>" for line in lines)
            + "".join(f'<div style="color:#555">{html.escape(e)}</div>' for e in extras)
            + alert_line
            + "</div>"
        )
    return (
        f'<div class="mi-molecule-gallery" style="display:grid;'
        f'grid-template-columns:repeat({int(columns)}, minmax({width + 14}px, 1fr));gap:8px">'
        + "".join(cards)
        + "</div>"
    )
