"""Figures of spectra and their Bayesian fits: model curves, predictive bands, Eg/Ry posteriors.

Made for the Cu2O exciton series (:func:`mi_workbench.models.exciton_spectrum_model`), but the
spectrum and band figures take plain arrays and work for any spectrum. Energies are given in eV;
the posterior figures show meV, the natural scale of exciton energies and their shifts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import xarray as xr
from plotly.subplots import make_subplots
from scipy import stats

from mi_workbench._checks import (
    check_finite_array,
    check_finite_number,
    check_positive_int,
    check_seed,
    check_str_sequence,
)
from mi_workbench.physics.excitons import N_MAX_DEFAULT, cu2o_absorption
from mi_workbench.plots._style import COLORS, TEMPLATE, data_markers, hdi, posterior_dataset

#: Colours of the model components in :func:`spectrum_with_model`.
COMPONENT_COLORS = {
    "lines": "#2ca02c",
    "continuum": "#9467bd",
    "background": "#8c564b",
}
#: Colours of the first and second data set in the posterior figures.
DATASET_COLORS = ("#1f77b4", "#9467bd")
#: The arguments of :func:`mi_workbench.physics.cu2o_absorption` read from a posterior.
CU2O_POSTERIOR_NAMES = ("Eg", "Ry", "f0", "gamma", "sigma_inh", "asym", "f_c", "f_b")

_N_KDE_POINTS = 200


def _check_prob(hdi_prob: float) -> float:
    if isinstance(hdi_prob, bool) or not isinstance(hdi_prob, (int, float)):
        raise TypeError(f"hdi_prob must be a number in (0, 1), got {hdi_prob!r}")
    if not 0 < hdi_prob < 1:
        raise ValueError(f"hdi_prob must be in (0, 1), got {hdi_prob!r}")
    return float(hdi_prob)


def _spectrum_xy(energy_ev, absorbance) -> tuple[np.ndarray, np.ndarray]:
    energy = check_finite_array("energy_ev", energy_ev, ndim=1)
    values = check_finite_array("absorbance", absorbance, ndim=1)
    if energy.size != values.size:
        raise ValueError(
            f"energy_ev and absorbance differ in length: {energy.size} and {values.size}"
        )
    return energy, values


def _curve(name: str, values, size: int) -> np.ndarray:
    values = check_finite_array(name, values, ndim=1)
    if values.size != size:
        raise ValueError(f"{name} must have one value per energy ({size}), got {values.size}")
    return values


def component_traces(components: Mapping, size: int) -> list[tuple[str, np.ndarray, str]]:
    """``(name, values, colour)`` of each model component, in a fixed order.

    ``components`` is the dict of :func:`mi_workbench.physics.cu2o_absorption_components`
    (``"lines"`` an array (n_energy, n_lines) with quantum numbers ``"n"``, ``"continuum"``,
    ``"background"``) or any mapping of names to 1-D arrays over energy.
    """
    if not isinstance(components, Mapping):
        raise TypeError(
            f"components must be a dict of name -> array, got {type(components).__name__}"
        )
    out = []
    for name, values in components.items():
        if name == "n":
            continue
        if name == "lines" and np.ndim(values) == 2:
            lines = check_finite_array("components['lines']", values, ndim=2)
            numbers = components.get("n", np.arange(2, 2 + lines.shape[1]))
            if lines.shape[0] != size or len(numbers) != lines.shape[1]:
                raise ValueError(
                    f"components['lines'] must have shape ({size}, {len(numbers)}), "
                    f"got {lines.shape}"
                )
            for i, n in enumerate(numbers):
                out.append((f"{int(n)}P line", lines[:, i], COMPONENT_COLORS["lines"]))
            continue
        colour = COMPONENT_COLORS.get(name, "#7f7f7f")
        out.append((str(name), _curve(f"components[{name!r}]", values, size), colour))
    return out


def spectrum_with_model(
    energy_ev,
    absorbance,
    model=None,
    components: Mapping | None = None,
    *,
    model_name: str = "model",
    title: str = "Absorption spectrum",
    y_label: str = "absorbance (OD)",
) -> go.Figure:
    """The measured spectrum (points) with a model curve and, optionally, its components.

    Parameters
    ----------
    energy_ev, absorbance : array (n_energy,)
        The spectrum; energies in eV.
    model : array (n_energy,), optional
        The model absorbance over ``energy_ev`` (e.g. from
        :func:`mi_workbench.physics.cu2o_absorption`).
    components : dict, optional
        Parts of the model, e.g. :func:`mi_workbench.physics.cu2o_absorption_components`
        (one dotted trace per exciton line ``"2P line"``, ``"3P line"``, ... and one per
        ``"continuum"`` and ``"background"``), or any dict of name -> array.
    model_name, title, y_label : str
        Name of the model trace, figure title and y-axis title.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces ``"data"``, then ``model_name`` (if given), then the components in order.

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.linspace(2.13, 2.19, 50)
    >>> fig = spectrum_with_model(energy, np.zeros(50), model=np.ones(50))
    >>> [t.name for t in fig.data]
    ['data', 'model']
    """
    energy, values = _spectrum_xy(energy_ev, absorbance)
    traces = [data_markers(energy, values, size=4)]
    if model is not None:
        traces.append(
            go.Scatter(
                x=energy,
                y=_curve("model", model, energy.size),
                name=model_name,
                mode="lines",
                line={"color": COLORS["reference"], "width": 2.5},
            )
        )
    for name, curve, colour in component_traces(components or {}, energy.size):
        traces.append(
            go.Scatter(
                x=energy,
                y=curve,
                name=name,
                mode="lines",
                line={"color": colour, "width": 1.2, "dash": "dot"},
                legendgroup=colour,
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis_title="photon energy (eV)",
        yaxis_title=y_label,
        height=420,
        legend={"x": 0.01, "y": 0.99},
    )
    return fig


def posterior_spectrum_draws(
    idata: xr.DataTree | xr.Dataset,
    energy_ev,
    *,
    n_max: int = N_MAX_DEFAULT,
    n_draws: int = 200,
    random_seed: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Model curves of posterior draws of an exciton fit, evaluated with NumPy (no compile).

    Parameters
    ----------
    idata : xarray.DataTree or Dataset
        A posterior of :func:`mi_workbench.models.exciton_spectrum_model` (with the
        deterministics ``Eg, Ry, f0, gamma, sigma_inh, asym, f_c, f_b`` and ``noise_sd``).
    energy_ev : array (n_energy,)
        Energies (eV) at which to evaluate the curves.
    n_max : int
        Highest exciton line, as in the model (``model.mi_n_max``).
    n_draws : int
        Number of posterior draws used (picked at random without replacement; all when fewer).
    random_seed : int
        Seed of the pick.

    Returns
    -------
    curves : array (n_draws, n_energy)
        ``cu2o_absorption`` at each picked draw.
    noise_sd : array (n_draws,) or None
        The noise standard deviation of each picked draw (``None`` if not in the posterior).

    Examples
    --------
    >>> curves, noise = posterior_spectrum_draws(idata, ds.energy.values)  # doctest: +SKIP
    """
    posterior = posterior_dataset(idata)
    missing = [name for name in CU2O_POSTERIOR_NAMES if name not in posterior]
    if missing:
        raise ValueError(
            f"the posterior lacks {missing}: pass a fit of exciton_spectrum_model "
            f"(it has {list(posterior.data_vars)})"
        )
    energy = check_finite_array("energy_ev", energy_ev, ndim=1)
    n_draws = check_positive_int("n_draws", n_draws)
    stacked = {
        name: posterior[name].stack(_sample=("chain", "draw")).values.astype(float)
        for name in (*CU2O_POSTERIOR_NAMES, "noise_sd")
        if name in posterior
    }
    total = stacked["Eg"].size
    rng = np.random.default_rng(check_seed("random_seed", random_seed))
    picked = np.sort(rng.choice(total, size=min(n_draws, total), replace=False))
    curves = np.empty((picked.size, energy.size))
    for row, index in enumerate(picked):
        params = {name: stacked[name][index] for name in CU2O_POSTERIOR_NAMES}
        curves[row] = cu2o_absorption(energy, n_max=n_max, **params)
    noise = stacked["noise_sd"][picked] if "noise_sd" in stacked else None
    return curves, noise


def spectrum_predictive_band(
    energy_ev,
    absorbance,
    curve_draws,
    noise_sd=None,
    *,
    hdi_prob: float = 0.94,
    random_seed: int = 0,
    title: str = "Posterior predictive check",
    y_label: str = "absorbance (OD)",
) -> go.Figure:
    """The data over the posterior predictive band (top) and the residuals (bottom).

    Parameters
    ----------
    energy_ev, absorbance : array (n_energy,)
        The measured spectrum (eV).
    curve_draws : array (n_draws, n_energy)
        Posterior draws of the model curve (e.g. from :func:`posterior_spectrum_draws`).
    noise_sd : array (n_draws,), optional
        Noise sd of each draw. When given, the predictive band adds this noise to the curves
        (where new measurements would fall); the residual panel shows it around zero.
    hdi_prob : float
        Probability of the bands.
    random_seed : int
        Seed of the simulated noise.
    title, y_label : str
        Figure title and y-axis title of the top panel.

    Returns
    -------
    plotly.graph_objects.Figure
        Row 1: ``"predictive 94% HDI"`` (only with ``noise_sd``), ``"curve 94% HDI"``,
        ``"posterior mean"``, ``"data"``; row 2: ``"noise 94% HDI"`` (only with ``noise_sd``),
        ``"residuals"`` (data minus posterior mean). Bands are closed polygons (lower edge
        forward, upper edge backward).

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.linspace(2.13, 2.19, 20)
    >>> draws = np.random.default_rng(0).normal(size=(50, 20))
    >>> fig = spectrum_predictive_band(energy, np.zeros(20), draws, np.full(50, 0.1))
    >>> [t.name for t in fig.data][-1]
    'residuals'
    """
    hdi_prob = _check_prob(hdi_prob)
    energy, values = _spectrum_xy(energy_ev, absorbance)
    curves = check_finite_array("curve_draws", curve_draws, ndim=2)
    if curves.shape[1] != energy.size:
        raise ValueError(
            f"curve_draws must have one column per energy ({energy.size}), got {curves.shape}"
        )
    percent = f"{100 * hdi_prob:g}%"
    mean = curves.mean(axis=0)
    residuals = values - mean
    x_band = np.concatenate([energy, energy[::-1]])

    def band(name, low_high, fill, row_traces):
        row_traces.append(
            go.Scatter(
                x=x_band,
                y=np.concatenate([low_high[:, 0], low_high[::-1, 1]]),
                name=name,
                mode="lines",
                fill="toself",
                fillcolor=fill,
                line={"width": 0},
                hoverinfo="skip",
            )
        )

    top: list[go.Scatter] = []
    bottom: list[go.Scatter] = []
    if noise_sd is not None:
        noise = check_finite_array("noise_sd", noise_sd, ndim=1)
        if noise.size != curves.shape[0] or np.any(noise < 0):
            raise ValueError(
                f"noise_sd must hold one non-negative value per draw ({curves.shape[0]}), "
                f"got {noise.size} values with minimum {noise.min():.3g}"
            )
        rng = np.random.default_rng(random_seed)
        simulated = rng.normal(0.0, 1.0, curves.shape) * noise[:, None]
        predictive = hdi(curves + simulated, hdi_prob)
        band(f"predictive {percent} HDI", predictive, "rgba(31,119,180,0.15)", top)
        band(f"noise {percent} HDI", hdi(simulated, hdi_prob), "rgba(31,119,180,0.2)", bottom)
    band(f"curve {percent} HDI", hdi(curves, hdi_prob), COLORS["band"], top)
    top.append(
        go.Scatter(
            x=energy,
            y=mean,
            name="posterior mean",
            mode="lines",
            line={"color": COLORS["mean"], "width": 2},
        )
    )
    top.append(data_markers(energy, values, size=4))
    bottom.append(data_markers(energy, residuals, name="residuals", size=4))
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.06
    )
    for trace in top:
        fig.add_trace(trace, row=1, col=1)
    for trace in bottom:
        fig.add_trace(trace, row=2, col=1)
    fig.update_layout(template=TEMPLATE, title=title, height=560, legend={"x": 0.01, "y": 0.99})
    fig.update_yaxes(title_text=y_label, row=1, col=1)
    fig.update_yaxes(title_text="data - mean", row=2, col=1)
    fig.update_xaxes(title_text="photon energy (eV)", row=2, col=1)
    return fig


def _as_posteriors(idata, labels, name: str = "idata") -> dict[str, xr.Dataset]:
    """``{label: posterior Dataset}`` from one result or a dict/list of results.

    ``name`` is the argument ``idata`` came from, for the error messages.
    """
    if isinstance(idata, (xr.Dataset, xr.DataTree)):
        items = [("posterior" if labels is None else str(labels[0]), idata)]
    elif isinstance(idata, Mapping):
        items = list(idata.items())
    elif isinstance(idata, (list, tuple)):
        if labels is None:
            labels = [f"data set {i + 1}" for i in range(len(idata))]
        if len(labels) != len(idata):
            raise ValueError(f"labels must name each of the {len(idata)} results, got {labels}")
        items = list(zip(labels, idata, strict=True))
    else:
        raise TypeError(
            f"{name} must be a DataTree (as fit() returns), a posterior Dataset, or a dict or "
            f"list of them, got {type(idata).__name__}"
        )
    if not items:
        raise ValueError(f"{name} is empty: give at least one posterior")
    out = {}
    for label, value in items:
        posterior = posterior_dataset(value, name)
        missing = [v for v in ("Eg", "Ry") if v not in posterior]
        if missing:
            raise ValueError(f"{name}: the posterior {label!r} has no {missing}")
        out[str(label)] = posterior
    return out


def _density_traces(values, label, colour, hdi_prob, showlegend):
    values = np.asarray(values, dtype=float).ravel()
    low, high = hdi(values, hdi_prob)
    if np.std(values) > 0:
        pad = 0.1 * (values.max() - values.min())
        grid = np.linspace(values.min() - pad, values.max() + pad, _N_KDE_POINTS)
        density = stats.gaussian_kde(values)(grid)
    else:
        grid, density = np.array([values[0], values[0]]), np.array([0.0, 1.0])
    peak = float(density.max())
    return [
        go.Scatter(
            x=grid,
            y=density,
            name=label,
            mode="lines",
            line={"color": colour, "width": 2},
            legendgroup=label,
            showlegend=showlegend,
        ),
        go.Scatter(
            x=[low, high],
            y=[0.04 * peak, 0.04 * peak],
            name=f"{label} {100 * hdi_prob:g}% HDI",
            mode="lines",
            line={"color": colour, "width": 6},
            legendgroup=label,
            showlegend=False,
        ),
    ]


def _add_truth(fig, value, row, col, label="truth"):
    fig.add_vline(
        x=value,
        line={"color": COLORS["reference"], "dash": "dash", "width": 2},
        row=row,
        col=col,
    )
    # an invisible trace so that the truth appears in the trace list and the legend
    fig.add_trace(
        go.Scatter(
            x=[value],
            y=[0.0],
            name=label,
            mode="markers",
            marker={"color": COLORS["reference"], "symbol": "line-ns-open", "size": 14},
            showlegend=col == 1,
        ),
        row=row,
        col=col,
    )


def gap_rydberg_posteriors(
    idata,
    truths: Mapping[str, Mapping[str, float]] | Sequence | None = None,
    *,
    labels: Sequence[str] | None = None,
    eg_offset_ev: float | None = None,
    hdi_prob: float = 0.94,
) -> go.Figure:
    """Posterior densities of the band gap Eg and the Rydberg energy Ry, in meV.

    Eg is shown as the offset ``Eg - eg_offset_ev`` in meV (the posteriors are a fraction of a
    meV wide on top of 2.17 eV), Ry in meV.

    Parameters
    ----------
    idata : DataTree, or dict label -> DataTree, or list of DataTrees
        One or several fits of :func:`mi_workbench.models.exciton_spectrum_model` (each needs
        ``Eg`` and ``Ry`` in eV); several are overlaid.
    truths : dict label -> {"Eg": eV, "Ry": eV}, or a list in the order of ``idata``, optional
        Known values (synthetic data) drawn as dashed lines; a dict with ``"Eg"``/``"Ry"`` keys
        is taken as the truth of a single posterior.
    labels : list of str, optional
        Names of the results when ``idata`` is a list.
    eg_offset_ev : float, optional
        Energy subtracted from Eg; default the first posterior's median rounded to 1 meV.
    hdi_prob : float
        Probability of the HDI bars drawn under each density.

    Returns
    -------
    plotly.graph_objects.Figure
        Two panels ``Eg - offset (meV)`` and ``Ry (meV)``; per result a density trace named by
        its label and an HDI bar; truths as dashed lines with a marker trace ``"truth"``.

    Examples
    --------
    >>> fig = gap_rydberg_posteriors({"reference": idata_ref, "film": idata_film})  # doctest: +SKIP
    """
    hdi_prob = _check_prob(hdi_prob)
    posteriors = _as_posteriors(idata, labels)
    names = list(posteriors)
    if truths is None:
        truths = {}
    elif isinstance(truths, Mapping) and {"Eg", "Ry"} & set(truths):
        truths = {names[0]: truths}
    elif isinstance(truths, (list, tuple)):
        truths = dict(zip(names, truths, strict=False))
    if not isinstance(truths, Mapping):
        raise TypeError(f"truths must be a dict or list of dicts, got {type(truths).__name__}")
    unknown = [k for k in truths if k not in posteriors]
    if unknown:
        raise ValueError(f"truths names {unknown}, which are not among the posteriors {names}")
    if eg_offset_ev is None:
        eg_offset_ev = round(float(posteriors[names[0]]["Eg"].median()), 3)
    offset = check_finite_number("eg_offset_ev", eg_offset_ev)
    eg_title = f"Eg - {offset:.4f} eV (meV)"
    fig = make_subplots(rows=1, cols=2, subplot_titles=(eg_title, "Ry (meV)"))
    for i, (label, posterior) in enumerate(posteriors.items()):
        colour = DATASET_COLORS[i % len(DATASET_COLORS)]
        eg = 1e3 * (posterior["Eg"].values - offset)
        ry = 1e3 * posterior["Ry"].values
        for col, values in ((1, eg), (2, ry)):
            for trace in _density_traces(values, label, colour, hdi_prob, col == 1):
                fig.add_trace(trace, row=1, col=col)
    for truth in truths.values():
        if "Eg" in truth:
            _add_truth(fig, 1e3 * (float(truth["Eg"]) - offset), 1, 1)
        if "Ry" in truth:
            _add_truth(fig, 1e3 * float(truth["Ry"]), 1, 2)
    fig.update_layout(
        template=TEMPLATE,
        title=f"Posteriors of the band gap and the Rydberg energy (bars: {100 * hdi_prob:g}% HDI)",
        height=360,
        showlegend=True,
    )
    fig.update_xaxes(title_text="meV")
    fig.update_yaxes(title_text="density (1/meV)", row=1, col=1)
    return fig


def shift_draws(idata_a, idata_b, *, random_seed: int = 0) -> dict[str, np.ndarray]:
    """Draws of the shifts ``dEg = Eg_b - Eg_a`` and ``dRy = Ry_b - Ry_a`` in meV.

    The two posteriors come from independent data sets, so the draws of each are shuffled and
    paired (as many pairs as the shorter sample has draws).

    Examples
    --------
    >>> shifts = shift_draws(idata_ref, idata_film)  # doctest: +SKIP
    >>> shifts["Eg"].mean()  # doctest: +SKIP
    -4.0
    """
    a = _as_posteriors(idata_a, None, "idata_a")
    b = _as_posteriors(idata_b, None, "idata_b")
    a, b = next(iter(a.values())), next(iter(b.values()))
    rng = np.random.default_rng(check_seed("random_seed", random_seed))
    out = {}
    for name in ("Eg", "Ry"):
        first = rng.permutation(a[name].values.ravel())
        second = rng.permutation(b[name].values.ravel())
        n = min(first.size, second.size)
        out[name] = 1e3 * (second[:n] - first[:n])
    return out


def shift_posteriors(
    idata_a,
    idata_b,
    truth: Mapping[str, float] | None = None,
    *,
    labels: Sequence[str] = ("reference", "strained film"),
    hdi_prob: float = 0.94,
    random_seed: int = 0,
) -> go.Figure:
    """Histograms of the posterior shifts dEg and dRy (meV) between two data sets.

    Parameters
    ----------
    idata_a, idata_b : xarray.DataTree
        Fits of :func:`mi_workbench.models.exciton_spectrum_model` to data set a (the
        reference) and b; the shift is b minus a.
    truth : dict, optional
        ``{"Eg": shift in eV, "Ry": shift in eV}`` (synthetic data), drawn as dashed lines.
    labels : pair of str
        Names of a and b, used in the titles.
    hdi_prob : float
        Probability of the HDI given in the panel titles and drawn as a bar.
    random_seed : int
        Seed of the pairing of draws (:func:`shift_draws`).

    Returns
    -------
    plotly.graph_objects.Figure
        Two panels with histogram traces ``"dEg"`` and ``"dRy"``, HDI bars and, with
        ``truth``, dashed lines and marker traces ``"truth"``.

    Examples
    --------
    >>> truth = {"Eg": -0.004, "Ry": 0.0058}
    >>> fig = shift_posteriors(idata_ref, idata_film, truth)  # doctest: +SKIP
    """
    hdi_prob = _check_prob(hdi_prob)
    labels = check_str_sequence("labels", labels)
    if len(labels) != 2:
        raise ValueError(f"labels must be a pair of names (a, b), got {labels!r}")
    shifts = shift_draws(idata_a, idata_b, random_seed=random_seed)
    percent = f"{100 * hdi_prob:g}%"
    titles = []
    for name in ("Eg", "Ry"):
        low, high = hdi(shifts[name], hdi_prob)
        titles.append(
            f"d{name} = {shifts[name].mean():+.2f} meV ({percent} HDI {low:+.2f} to {high:+.2f})"
        )
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles)
    for col, name in enumerate(("Eg", "Ry"), start=1):
        values = shifts[name]
        fig.add_trace(
            go.Histogram(
                x=values,
                name=f"d{name}",
                nbinsx=50,
                histnorm="probability density",
                marker={"color": DATASET_COLORS[0]},
                opacity=0.75,
            ),
            row=1,
            col=col,
        )
        low, high = hdi(values, hdi_prob)
        fig.add_trace(
            go.Scatter(
                x=[low, high],
                y=[0.0, 0.0],
                name=f"d{name} {percent} HDI",
                mode="lines",
                line={"color": COLORS["hdi"], "width": 8},
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    if truth is not None:
        if not isinstance(truth, Mapping):
            raise TypeError(f"truth must be a dict with 'Eg' and 'Ry' shifts in eV, got {truth!r}")
        for col, name in enumerate(("Eg", "Ry"), start=1):
            if name in truth:
                _add_truth(fig, 1e3 * float(truth[name]), 1, col)
    fig.update_layout(
        template=TEMPLATE,
        title=f"Shifts {labels[1]} minus {labels[0]}",
        height=360,
        bargap=0.02,
    )
    fig.update_xaxes(title_text="dEg (meV)", row=1, col=1)
    fig.update_xaxes(title_text="dRy (meV)", row=1, col=2)
    fig.update_yaxes(title_text="density (1/meV)", row=1, col=1)
    return fig
