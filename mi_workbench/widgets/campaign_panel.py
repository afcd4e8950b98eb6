"""``CampaignPanel``: run an adaptive-design campaign by hand, with measured values typed in.

The panel shows the suggested batch as a table (composition, predicted mean +- sd, acquisition
value) with one text box per candidate for the measured value. "Record" saves the values that
were entered (to disk before the panel says so, when the campaign has a path); a box holding
``failed`` or ``failed: reason`` records a failed run instead (:meth:`Campaign.observe_failure`).
"Undo last" takes the last recorded batch back (also saved, so it survives reopening); "Suggest
next batch" asks the campaign for new candidates. Three live figures follow every change: the
best value so far, predicted against measured values, and a 2-D slice of the acquisition
landscape, where failed runs are marked with crosses; the failed runs are also listed with
their reasons below the table.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import check_positive_int, check_str_sequence
from mi_workbench.design.campaign import Campaign
from mi_workbench.plots._style import TEMPLATE
from mi_workbench.plots.design import acquisition_slice, best_so_far, predicted_vs_measured
from mi_workbench.widgets._base import Panel

__all__ = ["CampaignPanel"]

_CELL = {"padding": "2px 8px"}


def _placeholder(text: str, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14}
    )
    fig.update_layout(
        template=TEMPLATE, height=height, xaxis={"visible": False}, yaxis={"visible": False}
    )
    return fig


def _replace_figure(widget: go.FigureWidget, figure: go.Figure) -> None:
    """Show ``figure`` in ``widget`` in place: its traces and its whole layout.

    Assigning ``widget.layout`` reaches the browser as a ``Plotly.relayout`` of the new layout's
    top-level keys. A key that the new layout has (``xaxis``, say) is replaced whole there, but
    a key that it lacks stays as the browser had it: the note of a placeholder (its
    ``annotations``) stayed drawn over the data that replaced it. Such keys are first set to
    None, which ``Plotly.relayout`` (and the widget's model in the browser) deletes, so that the
    browser shows exactly ``figure``. Used by the other panels too.

    A figure without a fixed ``width`` takes the width of its place in the panel: a relayout
    that sets ``height`` also fixes the width at the one drawn (for a widget drawn before its
    output was laid out, plotly's default of 700 px), so ``autosize=True`` follows in a message
    of its own, as ``Plotly.Plots.resize`` does, and the browser measures the place again.
    """
    layout = figure.layout.to_plotly_json()
    layout.pop("autosize", None)
    stale = {
        key: None
        for key in widget.layout.to_plotly_json()
        if key not in layout and key != "autosize"
    }
    with widget.batch_update():
        widget.data = ()
        widget.add_traces(list(figure.data))
        if stale:
            widget.plotly_relayout(stale)
        widget.layout = layout
        # a batched edit: sent after the layout, on its own
        widget.layout.autosize = "width" not in layout


def _failure_reason(text: str) -> str | None:
    """The reason typed as ``failed`` or ``failed: reason`` in a value box, else None."""
    head, _, reason = text.partition(":")
    if head.strip().lower() not in ("fail", "failed", "failure"):
        return None
    return reason.strip() or "failed (no reason given)"


def _format_number(value: float, digits: int = 4) -> str:
    return "-" if not np.isfinite(value) else f"{value:.{digits}g}"


class CampaignPanel(Panel):
    """Suggest, enter measured values, record and undo, with live figures.

    Parameters
    ----------
    campaign : Campaign
        The campaign to run (give it a ``path`` so that every recorded value is saved).
    batch_size : int
        Candidates per suggested batch (the panel's "batch size" box starts at this value).
    slice_variables : (str, str), optional
        The two variables of the acquisition-landscape slice. Default: the first two varying
        composition variables other than the balance element, else the first two features.

    Attributes
    ----------
    campaign : Campaign
        The campaign (also for the next cell: ``panel.campaign.history``).
    next_batch : xarray.Dataset or None
        The suggested candidates still waiting for a measurement.
    message : ipywidgets.HTML
        Errors and confirmations in words.
    value_inputs : dict
        Candidate name -> ``ipywidgets.Text`` for its measured value, or ``failed: reason``
        for a failed run.
    failures : ipywidgets.HTML
        The failed runs recorded so far, with their reasons.
    batch_size : ipywidgets.BoundedIntText
    suggest_button, record_button, undo_button : ipywidgets.Button
    slice_x, slice_y : ipywidgets.Dropdown
        The two variables of the landscape slice.
    best_figure, parity_figure, landscape_figure : plotly.graph_objects.FigureWidget
        Best so far vs iteration; predicted vs measured; the acquisition landscape.
    widget : ipywidgets.VBox
        The whole panel (a notebook displays the panel itself too).

    Examples
    --------
    >>> from mi_workbench.design import Campaign, composition_grid, featurize, XUE_DESCRIPTORS
    >>> space = featurize(composition_grid())  # doctest: +SKIP
    >>> campaign = Campaign(space, list(XUE_DESCRIPTORS), path="my_alloys.jsonl")  # doctest: +SKIP
    >>> panel = CampaignPanel(campaign, batch_size=4)  # doctest: +SKIP
    >>> panel  # doctest: +SKIP
    """

    def __init__(
        self,
        campaign: Campaign,
        batch_size: int = 4,
        slice_variables: tuple[str, str] | None = None,
    ) -> None:
        if not isinstance(campaign, Campaign):
            raise TypeError(f"campaign must be a Campaign, got {type(campaign).__name__}")
        batch_size = check_positive_int("batch_size", batch_size)
        super().__init__()
        self.campaign = campaign
        self.next_batch: xr.Dataset | None = None
        self.value_inputs: dict[object, widgets.Text] = {}

        self.batch_size = widgets.BoundedIntText(
            value=batch_size,
            min=1,
            max=min(1000, campaign.candidates.sizes["candidate"]),
            description="batch size",
            layout={"width": "170px"},
        )
        self.suggest_button = widgets.Button(
            description="Suggest next batch", button_style="primary", icon="lightbulb-o"
        )
        self.record_button = widgets.Button(
            description="Record", button_style="success", icon="save"
        )
        self.undo_button = widgets.Button(description="Undo last", icon="undo")
        self.suggest_button.on_click(lambda _: self.suggest())
        self.record_button.on_click(lambda _: self.record())
        self.undo_button.on_click(lambda _: self.undo())

        choices = self._slice_choices()
        x_default, y_default = self._default_slice(choices, slice_variables)
        self.slice_x = widgets.Dropdown(options=choices, value=x_default, description="slice x")
        self.slice_y = widgets.Dropdown(options=choices, value=y_default, description="slice y")
        self.slice_x.observe(lambda _: self._update_landscape(), names="value")
        self.slice_y.observe(lambda _: self._update_landscape(), names="value")

        self.table = widgets.GridBox(layout={"grid_gap": "2px 4px"})
        self.status = widgets.HTML()
        self.failures = widgets.HTML()
        self.best_figure = go.FigureWidget(_placeholder("No measurements yet."))
        self.parity_figure = go.FigureWidget(_placeholder("No measurements yet."))
        self.landscape_figure = go.FigureWidget(
            _placeholder("The landscape appears once the model has enough data.", 380)
        )
        where = (
            f"Saved to <code>{html.escape(str(campaign.path))}</code>: every recorded value is "
            f"on disk before the panel confirms it."
            if campaign.path
            else "This campaign is kept in memory only (give it a path to save it)."
        )
        self.widget = widgets.VBox(
            [
                widgets.HTML(f"<b>Adaptive-design campaign</b>. {where}"),
                self.status,
                widgets.HBox([self.batch_size, self.suggest_button]),
                self.table,
                widgets.HBox([self.record_button, self.undo_button]),
                self.message,
                self.failures,
                widgets.GridBox(
                    [self.best_figure, self.parity_figure],
                    layout={"grid_template_columns": "repeat(2, minmax(0, 1fr))", "width": "100%"},
                ),
                widgets.HBox([self.slice_x, self.slice_y]),
                self.landscape_figure,
            ]
        )
        self._refresh_batch()
        self._refresh_figures()

    # -- actions ---------------------------------------------------------------------------------
    def suggest(self) -> xr.Dataset | None:
        """Ask the campaign for the next batch (the "Suggest next batch" button)."""
        try:
            n = check_positive_int("batch size", self.batch_size.value)
            if self.next_batch is not None and self.next_batch.sizes["candidate"]:
                pending = self.next_batch.sizes["candidate"]
                note = f" ({pending} earlier suggestion(s) without a value were set aside)"
            else:
                note = ""
            self.campaign.suggest(n)
        except (ValueError, TypeError) as error:
            self._show_error(str(error))
            return None
        self._refresh_batch()
        self._update_landscape()
        self._show_info(f"Suggested {n} candidate(s){note}. Enter the measured values below.")
        return self.next_batch

    def record(self) -> bool:
        """Record the values entered in the table (the "Record" button).

        Empty boxes are skipped (those candidates stay in the table); a box holding ``failed``
        or ``failed: reason`` records a failed run (see :meth:`Campaign.observe_failure`); any
        other box that is not a finite number stops the recording with a message, and nothing
        is saved.

        Returns
        -------
        bool
            True if values were recorded.
        """
        names, values, failed, reasons = [], [], [], []
        for name, box in self.value_inputs.items():
            reason = _failure_reason(box.value)
            if reason is not None:
                failed.append(name)
                reasons.append(reason)
                continue
            text = box.value.strip().replace(",", ".")
            if not text:
                continue
            try:
                number = float(text)
            except ValueError:
                self._show_error(
                    f"The value for candidate {name} is {box.value!r}, which is not a number; "
                    f"nothing was recorded."
                )
                return False
            if not math.isfinite(number):
                self._show_error(
                    f"The value for candidate {name} is {box.value!r}; enter a finite number. "
                    f"Nothing was recorded."
                )
                return False
            names.append(name)
            values.append(number)
        if not names and not failed:
            self._show_error("Enter at least one measured value before pressing Record.")
            return False
        try:
            if names:
                self.campaign.observe(names, values)
        except (ValueError, TypeError) as error:
            self._show_error(f"{error}. Nothing was recorded.")
            return False
        try:
            if failed:
                self.campaign.observe_failure(failed, reasons)
        except (ValueError, TypeError) as error:
            self._refresh_batch()
            self._refresh_figures()
            self._show_error(
                f"{error}. The {len(names)} value(s) were recorded, the failed run(s) were not."
            )
            return False
        self._refresh_batch()
        self._refresh_figures()
        saved = " and saved" if self.campaign.path else ""
        parts = [f"{len(names)} value(s)"] if names else []
        parts += [f"{len(failed)} failed run(s)"] if failed else []
        self._show_info(f"Recorded{saved} {' and '.join(parts)}.")
        return True

    def undo(self) -> bool:
        """Take back the last recorded batch (the "Undo last" button); saved as an undo record."""
        try:
            removed = self.campaign.undo()
        except (ValueError, TypeError) as error:
            self._show_error(str(error))
            return False
        self._refresh_batch()
        self._refresh_figures()
        names = ", ".join(str(c) for c in removed["candidate"].values)
        self._show_info(f"Removed the last recorded batch ({names}).")
        return True

    # -- display ---------------------------------------------------------------------------------
    def _slice_choices(self) -> list[str]:
        space = self.campaign.candidates
        elements = self.campaign.elements
        if elements:
            balance = space.attrs.get("balance_element")
            sample = space[elements].isel(
                candidate=np.unique(np.linspace(0, space.sizes["candidate"] - 1, 257).astype(int))
            )
            varying = [e for e in elements if e != balance and float(np.ptp(sample[e].values)) > 0]
            return varying or elements
        return self.campaign.features

    def _default_slice(self, choices, requested):
        if requested is not None:
            requested = check_str_sequence("slice_variables", requested)
            if len(requested) != 2:
                raise ValueError(
                    f"slice_variables must be a pair of names (x, y) from {choices}, "
                    f"got {len(requested)} name(s)"
                )
            x, y = requested
            for name, value in (("slice_variables[0]", x), ("slice_variables[1]", y)):
                if value not in choices:
                    raise ValueError(f"{name} must be one of {choices}, got {value!r}")
            return x, y
        if len(choices) >= 2:
            return choices[0], choices[-1]
        return choices[0], choices[0]

    def _refresh_batch(self) -> None:
        """Rebuild the table from the campaign's pending suggestion."""
        campaign = self.campaign
        suggestion = campaign.last_suggestion
        pending = campaign.pending
        if suggestion is None or not pending:
            self.next_batch = None
        else:
            keep = [i for i, c in enumerate(suggestion["candidate"].values) if c in set(pending)]
            self.next_batch = suggestion.isel(candidate=keep)
        old = {name: box.value for name, box in self.value_inputs.items()}
        self.value_inputs = {}
        units = campaign.config["value_units"]
        unit_text = f" ({units})" if units else ""
        header = [
            "candidate",
            "composition",
            f"predicted{unit_text}",
            "acquisition",
            f"measured{unit_text}",
        ]
        cells = [widgets.HTML(f"<b>{html.escape(h)}</b>", layout=_CELL) for h in header]
        if self.next_batch is not None:
            batch = self.next_batch
            elements = campaign.elements
            for i, name in enumerate(batch["candidate"].values.tolist()):
                if elements:
                    composition = " ".join(f"{e}{float(batch[e].values[i]):.4g}" for e in elements)
                else:
                    composition = ", ".join(
                        f"{f} = {float(batch[f].values[i]):.4g}" for f in campaign.features[:4]
                    )
                mean = float(batch["predicted_mean"].values[i])
                sd = float(batch["predicted_sd"].values[i])
                predicted = (
                    "random (initial design)"
                    if not np.isfinite(mean)
                    else f"{_format_number(mean)} &plusmn; {_format_number(sd, 2)}"
                )
                box = widgets.Text(
                    value=old.get(name, ""),
                    placeholder="value, or failed: why",
                    layout={"width": "140px"},
                )
                self.value_inputs[name] = box
                cells += [
                    widgets.HTML(html.escape(str(name)), layout=_CELL),
                    widgets.HTML(html.escape(composition), layout=_CELL),
                    widgets.HTML(predicted, layout=_CELL),
                    widgets.HTML(
                        _format_number(float(batch["acquisition"].values[i])), layout=_CELL
                    ),
                    box,
                ]
        self.table.children = cells
        self.table.layout.grid_template_columns = "auto auto auto auto auto"
        self.record_button.disabled = not self.value_inputs
        self.undo_button.disabled = campaign.n_batches == 0
        best = campaign.best
        best_text = (
            "none yet"
            if best is None
            else f"{float(best['value']):.4g}{(' ' + units) if units else ''} "
            f"(candidate {best['candidate'].item()})"
        )
        waiting = 0 if self.next_batch is None else self.next_batch.sizes["candidate"]
        failures = f", {campaign.n_failures} failed run(s)" if campaign.n_failures else ""
        self.status.value = (
            f"{campaign.n_observations} measurement(s){failures} in {campaign.n_batches} "
            f"batch(es); best: {html.escape(best_text)}; {waiting} suggestion(s) waiting for a "
            f"value."
        )
        self._refresh_failures()

    def _refresh_failures(self) -> None:
        """List the failed runs (candidate, composition, reason) below the table."""
        history = self.campaign.history
        failed = history.isel(observation=history["failed"].values)
        if not failed.sizes["observation"]:
            self.failures.value = ""
            return
        elements = self.campaign.elements
        rows = []
        for k in range(failed.sizes["observation"]):
            row = failed.isel(observation=k)
            composition = " ".join(f"{e}{float(row[e]):.4g}" for e in elements)
            rows.append(
                "<tr>"
                + "".join(
                    f"<td style='padding:2px 8px'>{html.escape(str(v))}</td>"
                    for v in (row["candidate"].item(), composition, row["failure_reason"].item())
                )
                + "</tr>"
            )
        head = "".join(
            f"<th style='padding:2px 8px'>{h}</th>" for h in ("candidate", "composition", "reason")
        )
        self.failures.value = (
            f"<b>Failed runs</b> ({len(rows)}; never suggested again, not used by the model)"
            f"<table><tr>{head}</tr>{''.join(rows)}</table>"
        )

    def _refresh_figures(self) -> None:
        history = self.campaign.measurements
        if history.sizes["observation"]:
            _replace_figure(self.best_figure, best_so_far(history))
            _replace_figure(self.parity_figure, predicted_vs_measured(history))
        else:
            _replace_figure(self.best_figure, _placeholder("No measurements yet."))
            _replace_figure(self.parity_figure, _placeholder("No measurements yet."))
        self._update_landscape()

    def _update_landscape(self) -> None:
        x, y = self.slice_x.value, self.slice_y.value
        if x == y:
            _replace_figure(
                self.landscape_figure, _placeholder("Choose two different slice variables.", 380)
            )
            return
        try:
            landscape = self.campaign.acquisition_landscape(x, y)
        except ValueError as error:
            _replace_figure(self.landscape_figure, _placeholder(html.escape(str(error)), 380))
            return
        history = self.campaign.history
        failed = history["failed"].values
        figure = acquisition_slice(landscape, history.isel(observation=~failed), self.next_batch)
        if failed.any():
            runs = history.isel(observation=failed)
            figure.add_trace(
                go.Scatter(
                    x=np.asarray(runs[x].values, dtype=float),
                    y=np.asarray(runs[y].values, dtype=float),
                    mode="markers",
                    marker={"symbol": "x", "size": 10, "color": "crimson"},
                    name="failed",
                    text=[str(r) for r in runs["failure_reason"].values],
                    hovertemplate="failed: %{text}<extra></extra>",
                )
            )
        _replace_figure(self.landscape_figure, figure)
