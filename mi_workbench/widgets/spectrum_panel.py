"""``SpectrumFitPanel``: fit the Cu2O exciton series by hand, then sample its posterior.

The hand fit is NumPy (:func:`mi_workbench.physics.cu2o_absorption_components`): a slider move
redraws the model curve and its components in a few milliseconds and never compiles anything.
"Sample posterior" fits :func:`mi_workbench.models.exciton_spectrum_model` with NUTS; the model
is compiled once per set of priors and re-used for a second data set of the same length via
:func:`mi_workbench.models.set_spectrum_data` (e.g. a strained film next to a reference).
"""

from __future__ import annotations

import functools
import html
from collections import OrderedDict
from collections.abc import Mapping

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import check_finite_array, check_finite_number, check_positive_int
from mi_workbench.inference import Diagnostics, diagnose, fit
from mi_workbench.models import exciton_priors, exciton_spectrum_model, set_spectrum_data
from mi_workbench.physics import N_MAX_DEFAULT, check_energy_grid, cu2o_absorption_components
from mi_workbench.plots.spectra import (
    component_traces,
    gap_rydberg_posteriors,
    posterior_spectrum_draws,
    shift_posteriors,
    spectrum_predictive_band,
    spectrum_with_model,
)
from mi_workbench.widgets._base import SamplingPanel

#: Hand-fit sliders: parameter -> (label, unit shown, factor slider value -> eV-based value,
#: min, max, step, readout format). Eg is in eV with 0.1 meV steps; energies else in meV.
SLIDER_SPECS = {
    "Eg": ("Eg", "eV", 1.0, 2.150, 2.195, 0.0001, ".4f"),
    "Ry": ("Ry", "meV", 1e-3, 70.0, 120.0, 0.1, ".1f"),
    "gamma": ("Γ (HWHM)", "meV", 1e-3, 0.1, 10.0, 0.05, ".2f"),
    "sigma_inh": ("σ inh.", "meV", 1e-3, 0.0, 10.0, 0.05, ".2f"),
    "asym": ("asymmetry A", "", 1.0, -0.5, 0.5, 0.01, ".2f"),
    "f0": ("f0 (lines)", "eV·OD", 1.0, 0.0, 0.5, 0.002, ".3f"),
    "f_c": ("f_c (continuum)", "OD", 1.0, 0.0, 0.5, 0.002, ".3f"),
    "f_b": ("f_b (background)", "OD/eV^1.5", 1.0, 0.0, 300.0, 1.0, ".0f"),
}
#: Where the hand fit starts (arguments of ``cu2o_absorption``, eV): a rough bulk-like guess.
HAND_FIT_START = {
    "Eg": 2.1725,
    "Ry": 0.095,
    "gamma": 0.002,
    "sigma_inh": 0.002,
    "asym": 0.0,
    "f0": 0.1,
    "f_c": 0.08,
    "f_b": 50.0,
}
#: Prior text boxes: (prior name, field) -> (label, unit, factor text value -> eV).
PRIOR_FIELDS = {
    ("Eg", "centre"): ("Eg centre", "eV", 1.0),
    ("Eg", "width"): ("Eg width (sd)", "meV", 1e-3),
    ("Ry", "centre"): ("Ry centre", "meV", 1e-3),
    ("Ry", "width"): ("Ry width (sd)", "meV", 1e-3),
}
#: Posterior variables checked by the diagnostics (the physical parameters).
DIAGNOSED = ("Eg", "Ry", "gamma", "sigma_inh", "asym", "f0", "f_c", "f_b", "noise_sd")
_MAX_CACHED_MODELS = 3
_N_CURVE_DRAWS = 200

_HELP = (
    "<b>Cu2O yellow exciton series</b>: lines n = 2, 3, ... at <i>E<sub>n</sub> = Eg - "
    "Ry/n²</i> with strengths <i>f0 (n²-1)/n⁵</i> (Voigt lines of Lorentzian HWHM Γ and Gaussian "
    "σ), the excitonic continuum above Eg and a background. Move the sliders to fit by hand; "
    "set the priors of Eg and Ry (Enter to apply) and press <b>Sample posterior</b>."
)


def _truth(ds: xr.Dataset) -> dict[str, float]:
    """``{"Eg", "Ry"}`` from a synthetic data set's attrs (empty for measured data)."""
    out = {}
    for name in ("Eg", "Ry"):
        value = ds.attrs.get(name)
        if isinstance(value, (int, float, np.floating)) and np.isfinite(value):
            out[name] = float(value)
    return out


def _spectrum(name: str, ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Energy grid (eV) and absorbance of ``ds``, validated."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"{name} must be an xarray.Dataset, got {type(ds).__name__}")
    if "absorbance" not in ds.data_vars or ds["absorbance"].dims != ("energy",):
        raise ValueError(
            f"{name} must hold a variable 'absorbance' over the dim 'energy' (eV); it has "
            f"{ {v: ds[v].dims for v in ds.data_vars} }"
        )
    energy = check_energy_grid(f"{name}.energy", ds["energy"].values)
    absorbance = check_finite_array(f"{name}['absorbance']", ds["absorbance"].values, ndim=1)
    return energy, absorbance


def _format(value: float) -> str:
    return f"{value:.6g}"


class SpectrumFitPanel(SamplingPanel):
    """Hand fit and Bayesian fit of Cu2O exciton absorption spectra, for one or two data sets.

    Parameters
    ----------
    ds : xarray.Dataset
        The spectrum (``absorbance`` over dim ``energy`` in eV), e.g.
        :func:`mi_workbench.data.synthetic_cu2o_spectrum`.
    second : xarray.Dataset, optional
        A second spectrum (e.g. a strained film next to the reference ``ds``); both are fitted
        and the posterior of the shifts dEg and dRy (second minus first) is shown.
    n_max : int
        Highest exciton line in the hand fit and in the model (>= 2).
    priors : dict, optional
        Priors of :func:`mi_workbench.models.exciton_spectrum_model` (see
        :data:`mi_workbench.models.DEFAULT_EXCITON_PRIORS`); the panel edits those of Eg and Ry.
    draws, tune, chains : int
        Passed to :func:`mi_workbench.inference.fit`.
    random_seed : int
        Seed of the sampler.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole panel (a notebook displays the panel itself too).
    sliders : dict of str -> ipywidgets.FloatSlider
        Hand-fit parameters ``Eg`` (eV), ``Ry``, ``gamma``, ``sigma_inh`` (meV), ``asym``,
        ``f0``, ``f_c``, ``f_b`` (see :data:`SLIDER_SPECS`).
    dataset_selector : ipywidgets.ToggleButtons
        Which data set the hand fit and the predictive figure show.
    prior_texts : dict of (str, str) -> ipywidgets.Text
        ``("Eg" | "Ry", "centre" | "width")``; units in :data:`PRIOR_FIELDS`.
    centre_button : ipywidgets.Button
        Centres the priors of Eg and Ry on the hand fit.
    sample_button, progress : ipywidgets.Button, ipywidgets.FloatProgress
        Sampling; the button is disabled while it runs.
    figure : plotly.graph_objects.FigureWidget
        The hand fit: traces ``"data"``, ``"hand fit"``, then one per line, continuum and
        background (updated in place).
    predictive_figure, posterior_figure, shift_figure : FigureWidget or None
        After sampling: predictive band with residuals; posteriors of Eg and Ry; shifts (only
        with ``second``).
    diagnostics_html : ipywidgets.HTML
        Convergence diagnostics in words.
    idata, idata_second : xarray.DataTree or None
        The posteriors of ``ds`` and ``second``.
    diagnostics, diagnostics_second : Diagnostics or None
        Their diagnostics.

    Examples
    --------
    >>> from mi_workbench.data import synthetic_cu2o_spectrum
    >>> panel = SpectrumFitPanel(synthetic_cu2o_spectrum(), draws=300, tune=300)
    >>> panel.sliders["Ry"].value = 92.2  # meV; the model curve follows at once
    >>> panel.sample()  # doctest: +SKIP
    """

    def __init__(
        self,
        ds: xr.Dataset,
        *,
        second: xr.Dataset | None = None,
        n_max: int = N_MAX_DEFAULT,
        priors: Mapping[str, tuple[float, float]] | None = None,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 2,
        random_seed: int = 0,
        labels: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.n_max = check_positive_int("n_max", n_max, minimum=2)
        self._datasets = [ds] if second is None else [ds, second]
        self._arrays = []
        for name, data in zip(("ds", "second"), self._datasets, strict=False):
            self._arrays.append(_spectrum(name, data))
        self.ds, self.second = ds, second
        if labels is None:
            labels = tuple(
                str(data.attrs.get("preset", f"data set {i + 1}")).replace("_", " ")
                for i, data in enumerate(self._datasets)
            )
            if len(set(labels)) < len(labels):
                labels = tuple(f"data set {i + 1}" for i in range(len(self._datasets)))
        if len(labels) < len(self._datasets):
            raise ValueError(f"labels must name each data set, got {labels!r}")
        self.labels = tuple(str(label) for label in labels[: len(self._datasets)])
        if priors is not None and not isinstance(priors, Mapping):
            raise TypeError(
                "priors must be a dict of name -> (centre, spread), e.g. "
                f"{{'Eg': (2.17, 0.01)}}, or None, got {type(priors).__name__}"
            )
        self._priors = exciton_priors(priors)
        self.draws = check_positive_int("draws", draws)
        self.tune = check_positive_int("tune", tune)
        self.chains = check_positive_int("chains", chains)
        self.random_seed = check_positive_int("random_seed", random_seed, minimum=0)

        self.idata: xr.DataTree | None = None
        self.idata_second: xr.DataTree | None = None
        self.diagnostics: Diagnostics | None = None
        self.diagnostics_second: Diagnostics | None = None
        self.model = None
        self._models: OrderedDict = OrderedDict()
        self._sampled_priors: dict | None = None
        self._syncing = 0
        self.predictive_figure: go.FigureWidget | None = None
        self.posterior_figure: go.FigureWidget | None = None
        self.shift_figure: go.FigureWidget | None = None

        self._build_sliders()
        self.dataset_selector = widgets.ToggleButtons(
            options=list(self.labels), value=self.labels[0], description="data set"
        )
        self.dataset_selector.observe(self._on_dataset, names="value")
        self.dataset_selector.layout.display = None if second is not None else "none"

        energy, absorbance = self._arrays[0]
        parts = self._components()
        self.figure = go.FigureWidget(
            spectrum_with_model(
                energy,
                absorbance,
                model=self._total(parts),
                components=parts,
                model_name="hand fit",
                title=f"Hand fit: {self.labels[0]}",
            )
        )

        self._build_prior_controls()
        self._build_sampling_controls()
        self._results_box = widgets.VBox([], layout={"width": "100%"})
        names = list(SLIDER_SPECS)
        columns = [names[:4], names[4:]]
        self.widget = widgets.VBox(
            [
                widgets.HTML(_HELP),
                self.dataset_selector,
                widgets.HBox(
                    [widgets.VBox([self.sliders[n] for n in column]) for column in columns]
                ),
                self.figure,
                widgets.HTML("<b>Priors of the Bayesian fit</b> (normal; Enter to apply)"),
                widgets.HBox(
                    [
                        widgets.VBox([self.prior_texts[("Eg", f)] for f in ("centre", "width")]),
                        widgets.VBox([self.prior_texts[("Ry", f)] for f in ("centre", "width")]),
                        self.centre_button,
                    ]
                ),
                widgets.HBox(
                    [self.sample_button, self.cancel_button, self.progress, self.activity]
                ),
                self.message,
                self.status,
                self._results_box,
                self.diagnostics_html,
            ]
        )

    # ------------------------------------------------------------------ public API
    @property
    def hand_fit(self) -> dict[str, float]:
        """The sliders' parameters as arguments of ``cu2o_absorption`` (energies in eV)."""
        return {name: self.sliders[name].value * SLIDER_SPECS[name][2] for name in SLIDER_SPECS}

    @property
    def priors(self) -> dict[str, tuple[float, float]]:
        """The priors the next sampling uses (all of ``exciton_spectrum_model``'s, in eV)."""
        return dict(self._priors)

    @property
    def dataset(self) -> xr.Dataset:
        """The data set shown in the hand fit and the predictive figure."""
        return self._datasets[self._selected()]

    def set_hand_fit(self, **params: float) -> None:
        """Move the sliders to ``params`` (arguments of ``cu2o_absorption``, energies in eV).

        Raises ``ValueError``/``TypeError`` for unknown names or values outside a slider's range
        and then changes nothing.

        Examples
        --------
        >>> panel.set_hand_fit(Eg=2.1725, Ry=0.0922)  # doctest: +SKIP
        """
        values = {}
        for name, value in params.items():
            if name not in SLIDER_SPECS:
                raise ValueError(f"unknown parameter {name!r}; allowed are {list(SLIDER_SPECS)}")
            label, unit, factor, low, high, _, _ = SLIDER_SPECS[name]
            shown = check_finite_number(name, value) / factor
            if not low - 1e-9 <= shown <= high + 1e-9:
                raise ValueError(
                    f"{name} = {shown:g} {unit} is outside the slider range [{low:g}, {high:g}]"
                )
            values[name] = shown
        self._syncing += 1
        try:
            for name, shown in values.items():
                self.sliders[name].value = shown
        finally:
            self._syncing -= 1
        self._update_hand_fit()

    def set_prior(self, name: str, centre: float | None = None, width: float | None = None):
        """Set the normal prior of ``"Eg"`` or ``"Ry"``: centre and width (sd), both in eV.

        Raises ``ValueError``/``TypeError`` on invalid input and then changes nothing.

        Examples
        --------
        >>> panel.set_prior("Ry", centre=0.095, width=0.003)  # doctest: +SKIP
        """
        if name not in ("Eg", "Ry"):
            raise ValueError(f"name must be 'Eg' or 'Ry', got {name!r}")
        old_centre, old_width = self._priors[name]
        candidate = (
            old_centre if centre is None else check_finite_number(f"{name} centre", centre),
            old_width if width is None else check_finite_number(f"{name} width", width),
        )
        if candidate[1] <= 0:
            raise ValueError(f"the {name} prior width must be > 0, got {candidate[1]!r} eV")
        self._priors = exciton_priors({**self._priors, name: candidate})
        self._sync_prior_texts()
        self._clear_message()
        self._show_status()

    def sample(self, *, background: bool = False) -> xr.DataTree | None:
        """Sample the posterior(s) with the current priors.

        From Python this waits and returns the new ``idata`` (of the first data set), or
        ``None`` if sampling failed or was cancelled (the message is shown in ``.message`` and
        the previous results stay). The button runs it with ``background=True``: it returns at
        once, the kernel stays free, and :meth:`wait` waits for the result.
        """
        n_sets = len(self._datasets)
        priors = self.priors

        def work(cancel, on_progress, on_stage):
            results = []
            for i, data in enumerate(self._datasets):
                model = self._model_for(priors, i)
                set_spectrum_data(model, data)
                results.append(
                    fit(
                        model,
                        draws=self.draws,
                        tune=self.tune,
                        chains=self.chains,
                        random_seed=self.random_seed,
                        on_progress=functools.partial(self._set_set_progress, i, n_sets),
                        cancel=cancel,
                        on_stage=on_stage,
                    )
                )
            return results, [diagnose(idata, list(DIAGNOSED)) for idata in results]

        def accept(outcome) -> None:
            results, diagnostics = outcome
            self.model = self._model_for(priors, 0)
            set_spectrum_data(self.model, self._datasets[0])
            self.idata, self.diagnostics = results[0], diagnostics[0]
            if n_sets > 1:
                self.idata_second, self.diagnostics_second = results[1], diagnostics[1]
            self._sampled_priors = priors
            self._show_status()
            self._show_diagnostics()
            self._show_results()

        outcome = self._launch(work, accept, background=background)
        return None if outcome is None else self.idata

    # ------------------------------------------------------------------ hand fit
    def _build_sliders(self) -> None:
        self.sliders: dict[str, widgets.FloatSlider] = {}
        style = {"description_width": "120px"}
        for name, (label, unit, factor, low, high, step, fmt) in SLIDER_SPECS.items():
            slider = widgets.FloatSlider(
                value=HAND_FIT_START[name] / factor,
                min=low,
                max=high,
                step=step,
                description=f"{label} ({unit})" if unit else label,
                readout_format=fmt,
                continuous_update=True,
                style=style,
                layout={"width": "420px"},
            )
            slider.observe(self._on_slider, names="value")
            self.sliders[name] = slider

    def _components(self) -> dict:
        energy, _ = self._arrays[self._selected()]
        return cu2o_absorption_components(energy, n_max=self.n_max, **self.hand_fit)

    @staticmethod
    def _total(parts: dict) -> np.ndarray:
        return parts["lines"].sum(axis=1) + parts["continuum"] + parts["background"]

    def _selected(self) -> int:
        selector = getattr(self, "dataset_selector", None)
        return 0 if selector is None else self.labels.index(selector.value)

    def _on_slider(self, change: dict) -> None:
        if not self._syncing:
            self._update_hand_fit()

    def _update_hand_fit(self) -> None:
        try:
            parts = self._components()
        except (ValueError, TypeError) as error:  # e.g. a zero Lorentzian width
            self._show_error(f"The hand fit cannot be drawn: {error}")
            return
        energy, absorbance = self._arrays[self._selected()]
        curves = component_traces(parts, energy.size)
        with self.figure.batch_update():
            self.figure.data[0].x, self.figure.data[0].y = energy, absorbance
            self.figure.data[1].x, self.figure.data[1].y = energy, self._total(parts)
            for trace, (_, values, _) in zip(self.figure.data[2:], curves, strict=True):
                trace.x, trace.y = energy, values
            self.figure.layout.title.text = f"Hand fit: {self.labels[self._selected()]}"
        if self.error.startswith("The hand fit"):
            self._clear_message()

    def _on_dataset(self, change: dict) -> None:
        self._update_hand_fit()
        if self.idata is not None:
            self._show_predictive()

    # ------------------------------------------------------------------ priors
    def _build_prior_controls(self) -> None:
        self.prior_texts: dict[tuple[str, str], widgets.Text] = {}
        for key, (label, unit, _) in PRIOR_FIELDS.items():
            text = widgets.Text(
                description=f"{label} ({unit})",
                continuous_update=False,
                style={"description_width": "130px"},
                layout={"width": "250px"},
            )
            text.observe(functools.partial(self._on_prior_text, key), names="value")
            self.prior_texts[key] = text
        self._sync_prior_texts()
        self.centre_button = widgets.Button(
            description="Centre priors on hand fit",
            tooltip="Set the prior centres of Eg and Ry to the sliders' values",
            layout={"width": "200px"},
        )
        self.centre_button.on_click(lambda _button: self._centre_on_hand_fit())

    def _sync_prior_texts(self) -> None:
        self._syncing += 1
        try:
            for (name, field), text in self.prior_texts.items():
                factor = PRIOR_FIELDS[(name, field)][2]
                centre, width = self._priors[name]
                text.value = _format((centre if field == "centre" else width) / factor)
        finally:
            self._syncing -= 1

    def _on_prior_text(self, key: tuple[str, str], change: dict) -> None:
        if self._syncing:
            return
        name, field = key
        label, unit, factor = PRIOR_FIELDS[key]
        try:
            value = check_finite_number(f"{label} ({unit})", change["new"]) * factor
            self.set_prior(name, **{field: value})
        except (ValueError, TypeError) as error:
            self._show_error(f"{name} prior: {error}. The last valid value is kept.")
            self._sync_prior_texts()

    def _centre_on_hand_fit(self) -> None:
        params = self.hand_fit
        try:
            self.set_prior("Eg", centre=params["Eg"])
            self.set_prior("Ry", centre=params["Ry"])
        except (ValueError, TypeError) as error:
            self._show_error(str(error))

    # ------------------------------------------------------------------ sampling
    def _model_for(self, priors: dict, index: int):
        energy, _ = self._arrays[index]
        same_shape = energy.size == self._arrays[0][0].size
        key = (tuple(sorted(priors.items())), 0 if same_shape else index)
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        model = exciton_spectrum_model(self._datasets[index], n_max=self.n_max, priors=priors)
        self._models[key] = model
        while len(self._models) > _MAX_CACHED_MODELS:
            self._models.popitem(last=False)
        return model

    def _set_set_progress(self, index: int, n_sets: int, fraction: float) -> None:
        """Progress of data set ``index`` of ``n_sets``, as a fraction of the whole run."""
        self._set_progress((index + float(min(max(fraction, 0.0), 1.0))) / n_sets)

    def _show_status(self) -> None:
        if self._sampled_priors is None:
            self.status.value = ""
            return
        eg, ry = self._sampled_priors["Eg"], self._sampled_priors["Ry"]
        text = (
            f"Posterior drawn with the priors Eg ~ Normal({eg[0]:.4f} eV, {1e3 * eg[1]:.3g} meV), "
            f"Ry ~ Normal({1e3 * ry[0]:.4g} meV, {1e3 * ry[1]:.3g} meV)."
        )
        if self.priors != self._sampled_priors:
            text += " The priors have changed since: press Sample posterior to update."
        self.status.value = f'<div style="color:#444">{html.escape(text)}</div>'

    def _show_diagnostics(self) -> None:
        blocks = []
        results = [(self.labels[0], self.idata, self.diagnostics)]
        if self.idata_second is not None:
            results.append((self.labels[1], self.idata_second, self.diagnostics_second))
        for label, idata, d in results:
            attrs = idata["posterior"].attrs
            timing = (
                f" Sampling took {attrs.get('sampling_time', float('nan')):.1f} s"
                f" (compilation {attrs.get('compile_time', 0.0):.1f} s)."
            )
            name = html.escape(label)
            if d.ok:
                head = (
                    f'<div style="color:#1b7f3b;font-weight:bold">{name}: '
                    f"{html.escape(d.summary_text() + timing)}</div>"
                )
            else:
                items = "".join(f"<li>{html.escape(w)}</li>" for w in d.warnings)
                head = (
                    f'<div style="color:#b00020;font-weight:bold">{name}: do not interpret '
                    f"this posterior yet. {html.escape(timing.strip())}</div>"
                    f'<ul style="color:#b00020">{items}</ul>'
                )
            blocks.append(head + d.table.to_html(float_format=lambda v: f"{v:.5g}", border=0))
        self.diagnostics_html.value = "".join(blocks)

    def _predictive(self) -> go.Figure:
        index = self._selected()
        idata = self.idata if index == 0 else self.idata_second
        energy, absorbance = self._arrays[index]
        curves, noise = posterior_spectrum_draws(
            idata,
            energy,
            n_max=self.n_max,
            n_draws=_N_CURVE_DRAWS,
            random_seed=self.random_seed,
        )
        return spectrum_predictive_band(
            energy,
            absorbance,
            curves,
            noise,
            random_seed=self.random_seed,
            title=f"Posterior predictive check: {self.labels[index]}",
        )

    def _show_predictive(self) -> None:
        try:
            figure = go.FigureWidget(self._predictive())
        except (ValueError, TypeError) as error:
            self._show_error(f"Cannot draw the predictive band: {error}")
            return
        previous, self.predictive_figure = self.predictive_figure, figure
        self._refresh_results_box()
        if previous is not None:
            previous.close()

    def _show_results(self) -> None:
        previous = [self.posterior_figure, self.shift_figure]
        truths = {}
        idatas = {self.labels[0]: self.idata}
        if self.idata_second is not None:
            idatas[self.labels[1]] = self.idata_second
        for label, data in zip(self.labels, self._datasets, strict=True):
            if _truth(data):
                truths[label] = _truth(data)
        self.posterior_figure = go.FigureWidget(gap_rydberg_posteriors(idatas, truths or None))
        if self.idata_second is not None:
            first, second = _truth(self._datasets[0]), _truth(self._datasets[1])
            shift_truth = {k: second[k] - first[k] for k in first if k in second} or None
            self.shift_figure = go.FigureWidget(
                shift_posteriors(
                    self.idata,
                    self.idata_second,
                    shift_truth,
                    labels=self.labels,
                    random_seed=self.random_seed,
                )
            )
        for figure in previous:
            if figure is not None:
                figure.close()
        self._show_predictive()

    def _refresh_results_box(self) -> None:
        figures = [self.predictive_figure, self.posterior_figure, self.shift_figure]
        self._results_box.children = tuple(f for f in figures if f is not None)
