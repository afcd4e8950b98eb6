"""``InverseDesignPanel``: draw a target region, run iQSPR, check the molecules found with xTB.

The panel shows the property plane of the project's computed molecules (GFN2-xTB values of
3,364 small organics). Draw a box or a lasso on it (or type the bounds) to set the target region;
"Run design" runs :class:`mi_workbench.molecules.iqspr.IQSPR` (SMILES language model as prior,
forward models as likelihood, sequential Monte Carlo) and plots the population coloured by
step; "Verify with xTB" computes the best molecules found with the real oracle
(:func:`mi_workbench.molecules.oracles.xtb_properties`), so predicted and computed values can be
compared, point by point and in a gallery of structures.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import check_positive_int
from mi_workbench.data.molecules import MOLECULE_PROPERTY_LABELS, MOLECULE_PROPERTY_UNITS
from mi_workbench.plots.molecules import (
    check_property_region,
    molecule_gallery_html,
    plane_traces,
    property_label,
    property_plane,
    region_rectangle,
    training_property_values,
)
from mi_workbench.widgets._base import Panel

__all__ = ["InverseDesignPanel", "found_molecules"]

#: Where the default target region of each property lies, as quantiles of the training data:
#: a high HOMO-LUMO gap at moderate size, away from the bulk of the data.
DEFAULT_REGION_QUANTILES = {
    "homo_lumo_gap": (0.90, 0.99),
    "total_energy": (0.40, 0.75),
    "dipole": (0.60, 0.90),
}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_XTB_COLUMNS = tuple(f"xtb_{name}" for name in MOLECULE_PROPERTY_UNITS)
_ALERT_CATALOGS = ("PAINS", "Brenk")  # structural alerts marked on the gallery's cards
_HELP = (
    "<b>Inverse design with iQSPR</b>. Choose two properties, then draw the target region on "
    "the plot (box or lasso select) or type its bounds. <b>Run design</b> samples molecules "
    "whose predicted properties fall in the region (an n-gram SMILES model as prior, Bayesian "
    "forward models as likelihood, sequential Monte Carlo); <b>Verify with xTB</b> computes the "
    "best ones with GFN2-xTB."
)


def _rounded(bounds: list[float]) -> list[float]:
    """A drawn range rounded to about four significant digits of its width (7.012, not 7.01245)."""
    width = abs(bounds[1] - bounds[0])
    if not (math.isfinite(width) and width > 0):
        return bounds
    digits = max(0, 3 - math.floor(math.log10(width)))
    return [round(v, digits) for v in bounds]


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where a tqdm bar can be a widget)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def found_molecules(
    result: xr.Dataset, training_smiles: Sequence[str] = (), step: int = -1
) -> pd.DataFrame:
    """The distinct molecules of a population step, best first, with empty xTB columns.

    :func:`mi_workbench.molecules.iqspr.unique_molecules` (``smiles``, ``count``, ``weight``,
    ``<prop>_mean``, ``<prop>_sd``, ``probability_in_region``, ``novel``) plus the columns
    that "Verify with xTB" fills: ``xtb_<prop>`` (NaN), ``xtb_ok``, ``xtb_in_region``
    (nullable booleans, missing until computed) and ``xtb_reason``, and ``alerts``: the
    PAINS and Brenk structural alerts each molecule matches
    (:func:`mi_workbench.molecules.metrics.structural_alerts`), empty when none.

    Examples
    --------
    >>> table = found_molecules(panel.result, training_smiles=["CCO"])  # doctest: +SKIP
    >>> table[["smiles", "probability_in_region", "xtb_homo_lumo_gap"]].head()  # doctest: +SKIP
    """
    from mi_workbench.molecules.iqspr import unique_molecules
    from mi_workbench.molecules.metrics import structural_alerts

    table = unique_molecules(result, step, known_smiles=set(map(str, training_smiles)))
    alerts = structural_alerts(table["smiles"].tolist(), catalogs=_ALERT_CATALOGS)
    table["alerts"] = [
        "; ".join(f"{name}: {row[f'{name}_alerts']}" for name in _ALERT_CATALOGS if row[name])
        for _, row in alerts.iterrows()
    ]
    for column in _XTB_COLUMNS:
        table[column] = np.nan
    table["xtb_ok"] = pd.array([pd.NA] * len(table), dtype="boolean")
    table["xtb_reason"] = ""
    table["xtb_in_region"] = pd.array([pd.NA] * len(table), dtype="boolean")
    return table


class InverseDesignPanel(Panel):
    """Draw a target region on the property plane, run iQSPR, browse and verify the molecules.

    Parameters
    ----------
    forward_models : dict of str -> PropertyModel, optional
        Forward models per property (``"homo_lumo_gap"``, ``"total_energy"``, ``"dipole"``),
        each with ``predict(smiles) -> (mean, sd)``. Default: fitted on first use with
        :func:`mi_workbench.molecules.forward.fit_forward_models` (only the two properties on
        the axes).
    language_model : NGramLanguageModel, optional
        The SMILES prior; default the project's cached
        :func:`~mi_workbench.molecules.language.default_language_model`.
    dataset : xarray.Dataset, optional
        Training molecules drawn on the plane and used to mark molecules as new; default
        :func:`mi_workbench.data.load_molecules_xtb_dft` ``("xtb")``.
    x, y : str
        The properties on the axes at the start.
    region : dict, optional
        Target region ``{x: (low, high), y: (low, high)}`` at the start; default a window of
        high gap away from the bulk of the data (:data:`DEFAULT_REGION_QUANTILES`).
    n_steps, n_particles, random_seed : int
        Start values of the iQSPR controls.
    n_verify : int
        How many molecules "Verify with xTB" computes per click (the best not yet computed).
    page_size : int
        Molecules per gallery page.
    xtb_cache_path : str or path-like, optional
        JSON-lines cache of xTB results (:func:`~mi_workbench.molecules.oracles.run_oracle_batch`):
        a molecule computed once is not computed again.

    Attributes
    ----------
    region : dict
        The current target region ``{property: (low, high)}`` (always valid).
    result : xarray.Dataset or None
        The last iQSPR population (dims ``step``, ``particle``).
    molecules : pandas.DataFrame or None
        The distinct molecules of the last step, best first (see :func:`found_molecules`), with
        ``xtb_<prop>`` values where they were computed.
    forward_models : dict
        The forward models used (filled in as they are fitted).
    figure : plotly.graph_objects.FigureWidget
        The property plane; traces ``"training data (xTB)"``, ``"iQSPR population"``,
        ``"found (predicted)"``, ``"found (xTB)"``; the region is the shape ``"target region"``.
    gallery : ipywidgets.HTML
        Structures of the molecules found, a page at a time.
    x_property, y_property : ipywidgets.Dropdown
    x_low, x_high, y_low, y_high : ipywidgets.FloatText
        Region bounds (also set by a box or lasso selection on the figure).
    n_steps, n_particles, seed, n_verify, page_size : ipywidgets widgets
    run_button, verify_button, previous_button, next_button : ipywidgets.Button
    progress : ipywidgets.FloatProgress
    log : ipywidgets.Output
        iQSPR's step-by-step progress bar while it runs (in a notebook).
    status, message : ipywidgets.HTML
        What happened, and errors in words.
    widget : ipywidgets.VBox
        The whole panel (CSS class ``mi-inverse-design-panel``).

    Examples
    --------
    In a notebook cell (the panel displays itself)::

        from mi_workbench.widgets import InverseDesignPanel
        panel = InverseDesignPanel(n_steps=15, n_particles=60, random_seed=1)
        panel                               # draw a box on the plot, press "Run design"

    and from Python, in the next cells:

    >>> panel = InverseDesignPanel()  # doctest: +SKIP
    >>> panel.set_region(homo_lumo_gap=(7.0, 9.0), total_energy=(-40.0, -25.0))  # doctest: +SKIP
    >>> panel.run()  # doctest: +SKIP
    >>> panel.verify(n=4)  # doctest: +SKIP
    >>> panel.molecules.head()  # doctest: +SKIP
    """

    def __init__(
        self,
        forward_models: Mapping[str, object] | None = None,
        language_model: object | None = None,
        dataset: xr.Dataset | None = None,
        *,
        x: str = "homo_lumo_gap",
        y: str = "total_energy",
        region: Mapping[str, Sequence[float]] | None = None,
        n_steps: int = 20,
        n_particles: int = 100,
        random_seed: int = 0,
        n_verify: int = 6,
        page_size: int = 8,
        xtb_cache_path=None,
    ) -> None:
        super().__init__()
        if forward_models is None:
            self.forward_models: dict[str, object] = {}
            self._properties = list(MOLECULE_PROPERTY_UNITS)
        else:
            if not isinstance(forward_models, Mapping) or not forward_models:
                raise TypeError(
                    "forward_models must be a dict {property: model} "
                    "(e.g. fit_forward_models()), got "
                    f"{forward_models!r}"
                )
            for name, model in forward_models.items():
                if name not in MOLECULE_PROPERTY_UNITS:
                    raise ValueError(
                        f"unknown property {name!r} in forward_models; allowed are "
                        f"{list(MOLECULE_PROPERTY_UNITS)}"
                    )
                if not callable(getattr(model, "predict", None)):
                    raise TypeError(
                        f"forward_models[{name!r}] must have a predict(smiles) method, "
                        f"got {type(model).__name__}"
                    )
            self.forward_models = dict(forward_models)
            self._properties = [n for n in MOLECULE_PROPERTY_UNITS if n in self.forward_models]
        if len(self._properties) < 2:
            raise ValueError(
                f"the panel needs forward models of two properties to draw a plane, got "
                f"{self._properties}"
            )
        for argument, value in (("x", x), ("y", y)):
            if value not in self._properties:
                raise ValueError(f"{argument} must be one of {self._properties}, got {value!r}")
        if x == y:
            raise ValueError(f"x and y must be two different properties, got {x!r} twice")
        self.language_model = language_model
        self._dataset_given = dataset is not None
        if dataset is None:
            from mi_workbench.data import load_molecules_xtb_dft

            dataset = load_molecules_xtb_dft("xtb")
        if not isinstance(dataset, xr.Dataset):
            raise TypeError(
                f"dataset must be an xarray.Dataset (load_molecules_xtb_dft), got "
                f"{type(dataset).__name__}"
            )
        self.dataset = dataset
        self._training_values = {
            name: training_property_values(dataset, name) for name in self._properties
        }
        self._training_smiles = (
            set(dataset["smiles"].values.astype(str)) if "smiles" in dataset else set()
        )
        self.xtb_cache_path = xtb_cache_path
        self.result: xr.Dataset | None = None
        self.molecules: pd.DataFrame | None = None
        self._result_region: dict[str, tuple[float, float]] | None = None
        self._syncing = 0
        self._gallery_start = 0
        self._bounds_memory: dict[str, tuple[float, float]] = {}

        start = {x: self._default_bounds(x), y: self._default_bounds(y)}
        if region is not None:
            given = check_property_region(region, self._properties)
            if set(given) != {x, y}:
                raise ValueError(
                    f"region must bound exactly the two properties on the axes {[x, y]}, got "
                    f"{list(given)}"
                )
            start = given
        self._region = {x: start[x], y: start[y]}
        self._bounds_memory.update(self._region)

        options = [(MOLECULE_PROPERTY_LABELS[n], n) for n in self._properties]
        self.x_property = widgets.Dropdown(options=options, value=x, description="x axis")
        self.y_property = widgets.Dropdown(options=options, value=y, description="y axis")
        self.x_property.observe(lambda change: self._on_property("x", change), names="value")
        self.y_property.observe(lambda change: self._on_property("y", change), names="value")
        box_layout = {"width": "190px"}
        style = {"description_width": "70px"}
        self.x_low = widgets.FloatText(description="x low", layout=box_layout, style=style)
        self.x_high = widgets.FloatText(description="x high", layout=box_layout, style=style)
        self.y_low = widgets.FloatText(description="y low", layout=box_layout, style=style)
        self.y_high = widgets.FloatText(description="y high", layout=box_layout, style=style)
        for box in (self.x_low, self.x_high, self.y_low, self.y_high):
            box.observe(lambda _change: self._on_bounds(), names="value")
        self._units_html = widgets.HTML()

        int_style = {"description_width": "80px"}
        self.n_steps = widgets.BoundedIntText(
            value=check_positive_int("n_steps", n_steps),
            min=1,
            max=1000,
            description="steps",
            layout={"width": "170px"},
            style=int_style,
        )
        self.n_particles = widgets.BoundedIntText(
            value=check_positive_int("n_particles", n_particles, minimum=2),
            min=2,
            max=10000,
            description="particles",
            layout={"width": "170px"},
            style=int_style,
        )
        self.seed = widgets.BoundedIntText(
            value=check_positive_int("random_seed", random_seed, minimum=0),
            min=0,
            max=2**31 - 1,
            description="seed",
            layout={"width": "170px"},
            style=int_style,
        )
        self.run_button = widgets.Button(
            description="Run design",
            button_style="primary",
            icon="play",
            tooltip="Run iQSPR toward the target region (the first run fits the forward models)",
        )
        self.run_button.on_click(lambda _button: self.run())
        self.n_verify = widgets.BoundedIntText(
            value=check_positive_int("n_verify", n_verify),
            min=1,
            max=200,
            description="top N",
            layout={"width": "150px"},
            style={"description_width": "50px"},
        )
        self.verify_button = widgets.Button(
            description="Verify with xTB",
            icon="flask",
            tooltip="Compute the best molecules not yet computed with GFN2-xTB",
        )
        self.verify_button.on_click(lambda _button: self.verify())
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, description="progress", layout={"width": "320px"}
        )
        self.status = widgets.HTML()
        self.log = widgets.Output()

        self.page_size = widgets.Dropdown(
            options=[4, 8, 12, 24, 48],
            value=page_size if page_size in (4, 8, 12, 24, 48) else 8,
            description="per page",
            layout={"width": "160px"},
            style={"description_width": "60px"},
        )
        self.page_size.observe(lambda _change: self._show_page(0), names="value")
        self.previous_button = widgets.Button(description="Previous", icon="arrow-left")
        self.next_button = widgets.Button(description="Next", icon="arrow-right")
        self.previous_button.on_click(lambda _b: self._turn_page(-1))
        self.next_button.on_click(lambda _b: self._turn_page(+1))
        self.page_label = widgets.HTML()
        self.gallery = widgets.HTML()

        self.figure = go.FigureWidget(
            property_plane(self.dataset, x, y, region=self._region, height=540)
        )
        self._connect_selection()
        self._sync_boxes()
        self._refresh_gallery()
        self._show_status()

        self.widget = widgets.VBox(
            [
                widgets.HTML(_HELP),
                widgets.HBox([self.x_property, self.y_property]),
                widgets.HBox([self.x_low, self.x_high, self.y_low, self.y_high]),
                self._units_html,
                self.figure,
                widgets.HBox([self.n_steps, self.n_particles, self.seed, self.run_button]),
                widgets.HBox([self.n_verify, self.verify_button, self.progress]),
                self.log,
                self.message,
                self.status,
                widgets.HBox(
                    [self.page_size, self.previous_button, self.next_button, self.page_label]
                ),
                self.gallery,
            ]
        )
        self.widget.add_class("mi-inverse-design-panel")

    # ------------------------------------------------------------------ public API
    @property
    def region(self) -> dict[str, tuple[float, float]]:
        """The current target region ``{x property: (low, high), y property: (low, high)}``."""
        return dict(self._region)

    @property
    def properties(self) -> tuple[str, str]:
        """The properties on the x and y axes."""
        return self.x_property.value, self.y_property.value

    def set_region(self, **bounds: Sequence[float]) -> dict[str, tuple[float, float]]:
        """Set the target region by property name, e.g. ``set_region(homo_lumo_gap=(7, 9))``.

        Properties not named keep their bounds. Unknown or off-axis properties, empty or
        inverted ranges raise ``ValueError`` (also shown in the panel) and change nothing.

        Examples
        --------
        >>> panel.set_region(homo_lumo_gap=(7.0, 9.0))  # doctest: +SKIP
        """
        try:
            checked = check_property_region(bounds, self._properties)
            off_axis = [n for n in checked if n not in self._region]
            if off_axis:
                raise ValueError(
                    f"the region can bound only the properties on the axes {list(self._region)}; "
                    f"{off_axis} is not on an axis (choose it in the x/y dropdowns first)"
                )
        except (ValueError, TypeError) as error:
            self._show_error(str(error))
            raise
        self._apply_region({**self._region, **checked}, source="set_region")
        return self.region

    def set_properties(self, x: str, y: str) -> None:
        """Put properties ``x`` and ``y`` on the axes (bad names raise and change nothing)."""
        try:
            for argument, value in (("x", x), ("y", y)):
                if value not in self._properties:
                    raise ValueError(f"{argument} must be one of {self._properties}, got {value!r}")
            if x == y:
                raise ValueError(f"x and y must be two different properties, got {x!r} twice")
        except ValueError as error:
            self._show_error(str(error))
            raise
        self._syncing += 1
        try:
            self.x_property.value = x
            self.y_property.value = y
        finally:
            self._syncing -= 1
        self._axes_changed()

    def select(self, x_range: Sequence[float], y_range: Sequence[float]) -> bool:
        """Set the region from a selection on the plot (what a box selection does).

        Returns True if the region changed; an empty selection shows an error.
        """
        x, y = self.properties
        x_range = _rounded(sorted(float(v) for v in x_range))
        y_range = _rounded(sorted(float(v) for v in y_range))
        try:
            checked = check_property_region({x: x_range, y: y_range}, self._properties)
        except (ValueError, TypeError) as error:
            self._show_error(f"That selection cannot be a target region: {error}")
            return False
        self._apply_region(checked, source="selection")
        return True

    def run(self) -> xr.Dataset | None:
        """Run iQSPR toward the region (the "Run design" button).

        Returns the population (also ``panel.result``), or ``None`` if the input was invalid or
        the run failed; the message says why and the previous results stay.
        """
        if self._running:
            return None
        try:
            region = self._region_from_boxes()
            n_steps = check_positive_int("steps", self.n_steps.value)
            n_particles = check_positive_int("particles", self.n_particles.value, minimum=2)
            seed = check_positive_int("seed", self.seed.value, minimum=0)
        except (ValueError, TypeError) as error:
            self._show_error(f"{error}. Nothing was run.")
            return None
        x, y = self.properties

        def work():
            self._set_progress(0.02)
            models = self._models_for((x, y))
            from mi_workbench.molecules.iqspr import IQSPR

            self._show_info(f"Running iQSPR: {n_steps} step(s) x {n_particles} particle(s) ...")
            design = IQSPR({x: models[x], y: models[y]}, region, language_model=self.language_model)
            self._set_progress(0.1)
            # in a notebook, iQSPR's step-by-step bar (tqdm) shows inside the panel
            self.log.clear_output()
            with self.log:
                result = design.run(
                    n_steps,
                    n_particles,
                    random_seed=seed,
                    progress=_in_kernel(),
                    on_progress=lambda fraction: self._set_progress(0.1 + 0.85 * fraction),
                )
            return result, found_molecules(result, self._training_smiles)

        outcome = self._run_busy(work, self._action_buttons, "Design failed")
        if outcome is None:
            return None
        self.result, self.molecules = outcome
        self._result_region = region
        self._gallery_start = 0
        self._redraw()
        self._refresh_gallery()
        self._show_status()
        self._clear_message()
        return self.result

    def verify(self, n: int | None = None) -> pd.DataFrame | None:
        """Compute the ``n`` best molecules not yet computed with GFN2-xTB ("Verify with xTB").

        Returns the updated ``panel.molecules`` (columns ``xtb_<prop>``, ``xtb_ok``,
        ``xtb_reason``, ``xtb_in_region``), or ``None`` with a message if there is nothing to do.
        """
        if self._running:
            return None
        try:
            n = check_positive_int("top N", self.n_verify.value if n is None else n)
        except (ValueError, TypeError) as error:
            self._show_error(str(error))
            return None
        if self.molecules is None or not len(self.molecules):
            self._show_error("Run the design first: there are no molecules to verify yet.")
            return None
        pending = self.molecules.index[self.molecules["xtb_ok"].isna()].tolist()[:n]
        if not pending:
            self._show_info("Every molecule found has been computed with xTB already.")
            return self.molecules
        smiles = [self.molecules.at[i, "smiles"] for i in pending]

        def work():
            from mi_workbench.molecules.oracles import run_oracle_batch

            records = []
            # xtb_properties runs each calculation with one OpenMP thread (its default).
            for k, text in enumerate(smiles):
                self._show_info(f"xTB {k + 1}/{len(smiles)}: {text}")
                records.extend(
                    run_oracle_batch([text], "xtb", cache_path=self.xtb_cache_path, progress=False)
                )
                self._set_progress((k + 1) / len(smiles))
            return records

        records = self._run_busy(work, self._action_buttons, "xTB failed")
        if records is None:
            return None
        table = self.molecules.copy()
        region = self._result_region or self._region
        for index, record in zip(pending, records, strict=True):
            ok = bool(record.get("ok", False))
            table.at[index, "xtb_ok"] = ok
            table.at[index, "xtb_reason"] = str(record.get("reason", ""))
            inside = ok
            for name in MOLECULE_PROPERTY_UNITS:
                value = float(record.get(name, math.nan))
                table.at[index, f"xtb_{name}"] = value
                if name in region:
                    low, high = region[name]
                    inside = inside and bool(low <= value <= high)
            table.at[index, "xtb_in_region"] = inside if ok else pd.NA
        self.molecules = table
        self._redraw()
        self._refresh_gallery()
        self._show_status()
        failed = sum(not bool(r.get("ok", False)) for r in records)
        note = f" ({failed} failed; the reason is in the gallery)" if failed else ""
        self._show_info(f"Computed {len(records)} molecule(s) with xTB{note}.")
        return self.molecules

    # ------------------------------------------------------------------ running
    @property
    def _action_buttons(self) -> tuple[widgets.Button, widgets.Button]:
        return (self.run_button, self.verify_button)

    def _models_for(self, names: Sequence[str]) -> dict[str, object]:
        missing = [n for n in names if n not in self.forward_models]
        if missing:
            from mi_workbench.molecules.forward import fit_forward_models

            self._show_info(
                f"Fitting forward models of {', '.join(missing)} on the xTB data (once) ..."
            )
            options = {"dataset": self.dataset} if self._dataset_given else {}
            self.forward_models.update(fit_forward_models(tuple(missing), **options))
        return {n: self.forward_models[n] for n in names}

    # ------------------------------------------------------------------ region
    def _default_bounds(self, name: str) -> tuple[float, float]:
        if name in self._bounds_memory:
            return self._bounds_memory[name]
        values = self._training_values[name]
        values = values[np.isfinite(values)]
        low_q, high_q = DEFAULT_REGION_QUANTILES[name]
        low, high = (float(v) for v in np.quantile(values, [low_q, high_q]))
        return round(low, 2), round(high, 2)

    def _region_from_boxes(self) -> dict[str, tuple[float, float]]:
        x, y = self.properties
        return check_property_region(
            {x: (self.x_low.value, self.x_high.value), y: (self.y_low.value, self.y_high.value)},
            self._properties,
        )

    def _on_bounds(self) -> None:
        if self._syncing:
            return
        try:
            region = self._region_from_boxes()
        except (ValueError, TypeError) as error:
            self._show_error(f"{error}. The target region stays as it was.")
            return
        self._apply_region(region, source="boxes")

    def _apply_region(self, region: dict[str, tuple[float, float]], source: str) -> None:
        self._region = {name: region[name] for name in self.properties}
        self._bounds_memory.update(self._region)
        self._sync_boxes()
        with self.figure.batch_update():
            self.figure.layout.shapes = [region_rectangle(self._region, *self.properties)]
            # the orange rectangle replaces plotly's dimming of unselected points ...
            for trace in self.figure.data:
                trace.selectedpoints = None
        if self.figure.layout.to_plotly_json().get("selections"):
            # ... and its dashed outline (a relayout: ``layout.selections`` may be stale)
            self.figure.plotly_relayout({"selections": []})
        self._clear_message()
        self._show_status()

    def _sync_boxes(self) -> None:
        x, y = self.properties
        self._syncing += 1
        try:
            self.x_low.value, self.x_high.value = self._region[x]
            self.y_low.value, self.y_high.value = self._region[y]
        finally:
            self._syncing -= 1
        self._units_html.value = (
            f'<span style="color:#555">x: {html.escape(property_label(x))}; '
            f"y: {html.escape(property_label(y))}</span>"
        )

    def _on_property(self, axis: str, change) -> None:
        if self._syncing:
            return
        other = self.y_property if axis == "x" else self.x_property
        if change["new"] == other.value:  # the same property on both axes: swap them
            self._syncing += 1
            try:
                other.value = change["old"]
            finally:
                self._syncing -= 1
        self._axes_changed()

    def _axes_changed(self) -> None:
        x, y = self.properties
        self._region = {x: self._default_bounds(x), y: self._default_bounds(y)}
        self._bounds_memory.update(self._region)
        self._sync_boxes()
        self._redraw()
        self._clear_message()
        self._show_status()

    def _on_selection(self, _trace, _points, selector) -> None:
        if selector is None:
            return
        if getattr(selector, "type", "") == "box":
            x_range, y_range = selector.xrange, selector.yrange
        else:
            xs, ys = list(selector.xs or []), list(selector.ys or [])
            if not xs or not ys:
                return
            x_range, y_range = (min(xs), max(xs)), (min(ys), max(ys))
        if x_range is None or y_range is None:
            return
        self.select(x_range, y_range)

    def _on_layout_selections(self, layout, _selections) -> None:
        """The same selection, as plotly.js stores it in ``layout.selections``.

        plotly.js reports a finished selection twice: as a points event (``on_selection``) and
        as a layout change. The points event shares one channel with hover events and can be
        lost when the mouse moves over points while it is on its way; the layout change cannot.
        (The layout's JSON is read because plotly.py does not refresh ``layout.selections``
        after a change made in the browser.)
        """
        selections = layout.to_plotly_json().get("selections") or []
        if not selections:
            return
        last = selections[-1]
        if last.get("type") == "path" or "x0" not in last:
            numbers = [float(v) for v in _NUMBER.findall(str(last.get("path", "")))]
            xs, ys = numbers[0::2], numbers[1::2]
            if not xs or not ys:
                return
            x_range, y_range = (min(xs), max(xs)), (min(ys), max(ys))
        else:
            corners = [last.get(k) for k in ("x0", "x1", "y0", "y1")]
            if any(c is None for c in corners):
                return
            x_range, y_range = corners[:2], corners[2:]
        self.select(x_range, y_range)

    def _connect_selection(self) -> None:
        # on the last trace: plotly.py dispatches a selection to the traces in order and marks
        # each one's selected points first, so the last callback can clear that dimming
        self.figure.data[-1].on_selection(self._on_selection)
        self.figure.layout.on_change(self._on_layout_selections, "selections")

    # ------------------------------------------------------------------ display
    def _redraw(self) -> None:
        x, y = self.properties
        result = self.result
        if result is not None and not all(f"{n}_mean" in result for n in (x, y)):
            result = None
        traces = plane_traces(self.dataset, x, y, result=result, molecules=self.molecules)
        with self.figure.batch_update():
            for target, new in zip(self.figure.data, traces, strict=True):
                update = new.to_plotly_json()
                update.pop("type", None)
                for key in ("text", "customdata"):
                    update.setdefault(key, None)
                target.update(update, overwrite=True)
            for trace in self.figure.data:
                trace.selectedpoints = None
            self.figure.layout.xaxis.title.text = property_label(x)
            self.figure.layout.yaxis.title.text = property_label(y)
            self.figure.layout.shapes = [region_rectangle(self._region, x, y)]
            self.figure.layout.uirevision = f"{x}-{y}"
        self._connect_selection()

    def _gallery_properties(self) -> list[str]:
        if self._result_region:
            names = list(self._result_region)
        else:
            names = list(self.properties)
        return names + [n for n in self.properties if n not in names]

    def _refresh_gallery(self) -> None:
        table = self.molecules
        total = 0 if table is None else len(table)
        size = self.page_size.value
        start = min(self._gallery_start, max(total - 1, 0) // size * size)
        self._gallery_start = start
        if table is None:
            self.gallery.value = (
                '<div class="mi-molecule-gallery"><i>The molecules found appear here after '
                "a run.</i></div>"
            )
        else:
            self.gallery.value = molecule_gallery_html(
                table,
                self._gallery_properties(),
                start=start,
                count=size,
                region=self._result_region,
            )
        shown = f"{start + 1}-{min(start + size, total)}" if total else "0"
        self.page_label.value = (
            f"molecules {shown} of {total} (best first: probability in the target region)"
        )
        self.previous_button.disabled = start == 0
        self.next_button.disabled = start + size >= total

    def _turn_page(self, direction: int) -> None:
        self._show_page(self._gallery_start + direction * self.page_size.value)

    def _show_page(self, start: int) -> None:
        self._gallery_start = max(int(start), 0)
        self._refresh_gallery()

    def _set_summary(self) -> str:
        """Generation metrics of the last population (every particle) and its alerts."""
        from mi_workbench.molecules.metrics import generation_metrics

        population = [str(s) for s in self.result["smiles"].isel(step=-1).values.ravel()]
        metrics = generation_metrics(population, training=self._training_smiles)
        flagged = int((self.molecules["alerts"] != "").sum()) if "alerts" in self.molecules else 0
        return (
            f"The population: {metrics['validity']:.0%} valid, {metrics['uniqueness']:.0%} "
            f"unique, {metrics['novelty']:.0%} new, internal diversity "
            f"{metrics['internal_diversity']:.2f}, {int(metrics['n_scaffolds'])} scaffold(s); "
            f"{flagged} molecule(s) with a PAINS or Brenk alert."
        )

    def _show_status(self) -> None:
        parts = []
        x, y = self.properties
        (xl, xh), (yl, yh) = self._region[x], self._region[y]
        parts.append(
            f"Target: {MOLECULE_PROPERTY_LABELS[x]} {xl:.4g} to {xh:.4g} "
            f"{MOLECULE_PROPERTY_UNITS[x]}, "
            f"{MOLECULE_PROPERTY_LABELS[y]} {yl:.4g} to {yh:.4g} {MOLECULE_PROPERTY_UNITS[y]}."
        )
        inside = (
            (self._training_values[x] >= xl)
            & (self._training_values[x] <= xh)
            & (self._training_values[y] >= yl)
            & (self._training_values[y] <= yh)
        )
        parts.append(f"{int(inside.sum())} training molecule(s) lie inside.")
        if self.result is not None and self.molecules is not None:
            table = self.molecules
            n_steps = self.result.sizes.get("step", 0)
            likely = int((table["probability_in_region"] > 0.5).sum())
            novel = int(table["novel"].sum())
            parts.append(
                f"Last run: {n_steps} step(s), {len(table)} distinct molecule(s) in the last "
                f"population, {likely} predicted in the region with P > 0.5, {novel} new."
            )
            parts.append(self._set_summary())
            if self._result_region is not None and self._result_region != self._region:
                parts.append("(The region has changed since that run.)")
            computed = table["xtb_ok"].fillna(False).astype(bool)
            if computed.any():
                hits = int(table.loc[computed, "xtb_in_region"].fillna(False).astype(bool).sum())
                parts.append(
                    f"xTB: {hits} of {int(computed.sum())} computed molecule(s) fall in the "
                    f"target region."
                )
        self.status.value = html.escape(" ".join(parts))
