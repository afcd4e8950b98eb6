"""CampaignPanel driven from Python: enter values, record, undo, bad input, live figures."""

from __future__ import annotations

import copy
import re

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import pytest

from mi_workbench.design import XUE_DESCRIPTORS, Campaign, composition_grid, featurize
from mi_workbench.plots import acquisition_slice, best_so_far, predicted_vs_measured
from mi_workbench.widgets import CampaignPanel


class BrowserFigureWidget(go.FigureWidget):
    """A FigureWidget that also keeps the layout as the browser holds it.

    ``browser_layout`` starts as the layout the browser draws first (``_widget_layout``) and
    follows every message sent to the front end the way the widget's model there applies them
    (``performRelayoutLike`` in plotly's widget bundle, the same as ``Plotly.relayout`` for
    top-level keys): a value replaces what the key held, ``None`` deletes the key. A key that no
    message names keeps its old value, as in the browser.
    """

    browser_layout: dict | None = None  # declared: a figure refuses unknown public attributes
    layout_edits: list | None = None  # the layout part of every message, in order

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.browser_layout = copy.deepcopy(self._widget_layout)
        self.layout_edits = []
        self.observe(
            self._replay, names=["_py2js_relayout", "_py2js_update", "_py2js_removeLayoutProps"]
        )

    def _replay(self, change) -> None:
        message = change["new"]
        if message is None:
            return
        if change["name"] == "_py2js_removeLayoutProps":
            for path in message["remove_props"]:
                _set_path(self.browser_layout, list(path), None)
            return
        edits = message["relayout_data" if change["name"] == "_py2js_relayout" else "layout_data"]
        self.layout_edits.append(copy.deepcopy(edits))
        for key, value in edits.items():
            path = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", key)]
            _set_path(self.browser_layout, path, copy.deepcopy(value))


def _set_path(layout: dict, path: list, value) -> None:
    *parents, last = path
    for part in parents:
        layout = layout.setdefault(part, {})
    if value is None:
        if isinstance(layout, dict):
            layout.pop(last, None)
    else:
        layout[last] = value


def notes(layout: dict) -> list[str]:
    """The texts of the annotations in a layout."""
    return [a.get("text") for a in layout.get("annotations", [])]


def hidden_axes(layout: dict) -> list[str]:
    return [axis for axis in ("xaxis", "yaxis") if layout.get(axis, {}).get("visible") is False]


@pytest.fixture
def space():
    grid = composition_grid(
        ("Ti", "Ni", "Cu", "Fe", "Pd"),
        fixed={"Ti": 50.0},
        bounds={"Cu": (0.0, 8.0), "Fe": (0.0, 3.0), "Pd": (0.0, 8.0)},
        step=0.5,
        balance="Ni",
    )
    return featurize(grid)


def hysteresis(batch) -> np.ndarray:
    """A smooth stand-in for thermal hysteresis (K), smallest near Cu 5, Fe 1, Pd 0."""
    cu, fe, pd_ = (np.asarray(batch[e].values, dtype=float) for e in ("Cu", "Fe", "Pd"))
    return 2.0 + 0.3 * (cu - 5.0) ** 2 + 2.0 * (fe - 1.0) ** 2 + 0.2 * pd_


def enter_truth(panel: CampaignPanel) -> dict:
    """Type the true values of the pending batch into the panel's boxes."""
    truth = dict(
        zip(
            panel.next_batch["candidate"].values.tolist(),
            hysteresis(panel.next_batch),
            strict=True,
        )
    )
    for name, box in panel.value_inputs.items():
        box.value = f"{truth[name]:.3f}"
    return truth


def test_enter_record_undo_and_figures(space, tmp_path):
    path = tmp_path / "panel.jsonl"
    campaign = Campaign(
        space,
        list(XUE_DESCRIPTORS),
        path=path,
        random_seed=3,
        value_units="K",
        value_name="hysteresis_k",
    )
    panel = CampaignPanel(campaign, batch_size=4, slice_variables=("Cu", "Pd"))
    assert panel.campaign is campaign
    assert panel.next_batch is None and panel.record_button.disabled
    assert isinstance(panel.best_figure, go.FigureWidget)

    # round 1: a random initial batch, typed in and recorded
    panel.suggest_button.click()
    assert panel.next_batch.sizes["candidate"] == 4
    assert len(panel.value_inputs) == 4
    truth = enter_truth(panel)
    panel.record_button.click()
    assert panel.error == ""
    assert campaign.n_observations == 4
    assert panel.next_batch is None
    assert "K" in panel.status.value
    np.testing.assert_allclose(
        sorted(panel.best_figure.data[0].y), sorted(np.round(list(truth.values()), 3))
    )

    # round 2: model-based suggestions with predictions shown in the table
    panel.suggest_button.click()
    batch = panel.next_batch
    assert np.isfinite(batch["predicted_mean"]).all()
    table_text = " ".join(getattr(c, "value", "") for c in panel.table.children)
    assert "&plusmn;" in table_text and "Cu" in table_text
    # the landscape shows the slice with the suggested batch marked
    heat, measured, suggested = panel.landscape_figure.data
    assert heat.type == "heatmap" and np.isfinite(np.asarray(heat.z, dtype=float)).any()
    assert len(suggested.x) == 4
    best_before = min(panel.best_figure.data[1].y)

    # bad input changes nothing, on screen or on disk
    saved = path.read_bytes()
    names = list(panel.value_inputs)
    for bad in ("abc", "nan", "inf"):
        panel.value_inputs[names[0]].value = bad
        assert panel.record() is False
        assert "Nothing was recorded" in panel.error or "not a number" in panel.error
        assert path.read_bytes() == saved
        assert campaign.n_observations == 4
    panel.value_inputs[names[0]].value = ""
    assert panel.record() is False and "at least one" in panel.error

    # a partial record: two of four values; the other two stay in the table
    truth = enter_truth(panel)
    panel.value_inputs[names[2]].value = ""
    panel.value_inputs[names[3]].value = ""
    panel.record_button.click()
    assert campaign.n_observations == 6
    assert list(panel.value_inputs) == names[2:]
    assert len(panel.parity_figure.data[0].x) == 2  # two model predictions measured
    np.testing.assert_allclose(panel.parity_figure.data[0].x, batch["predicted_mean"].values[:2])
    assert min(panel.best_figure.data[1].y) <= best_before
    assert path.read_bytes() != saved

    # undo takes the two values back and the candidates return to the table
    panel.undo_button.click()
    assert campaign.n_observations == 4
    assert sorted(panel.value_inputs) == sorted(names)
    assert len(panel.parity_figure.data) == 2
    assert "No model-based" in panel.parity_figure.layout.annotations[0].text
    campaign.close()

    # the undo survives reopening, and a new panel shows the pending batch
    reopened = Campaign.open(path, space)
    panel = CampaignPanel(reopened, slice_variables=("Cu", "Fe"))
    assert reopened.n_observations == 4
    assert sorted(panel.value_inputs) == sorted(names)
    panel.slice_y.value = "Pd"  # the landscape follows the chosen variables
    assert panel.landscape_figure.layout.yaxis.title.text.startswith("Pd")
    reopened.close()


def test_the_browser_drops_the_placeholders_once_data_arrive(space, monkeypatch):
    """The notes and hidden axes of a placeholder do not stay drawn over the data after it."""
    monkeypatch.setattr(go, "FigureWidget", BrowserFigureWidget)
    campaign = Campaign(space, list(XUE_DESCRIPTORS), random_seed=3, value_units="K")
    panel = CampaignPanel(campaign, batch_size=4, slice_variables=("Cu", "Pd"))
    best, parity, landscape = panel.best_figure, panel.parity_figure, panel.landscape_figure
    assert notes(best.browser_layout) == ["No measurements yet."]
    assert hidden_axes(best.browser_layout) == ["xaxis", "yaxis"]
    assert "needs at least" in notes(landscape.browser_layout)[0]

    def shown_as_in_python(figure) -> bool:
        return figure.browser_layout == figure.layout.to_plotly_json()

    panel.suggest()
    enter_truth(panel)
    assert panel.record()
    assert notes(best.browser_layout) == notes(landscape.browser_layout) == []
    for figure in (best, parity, landscape):
        assert hidden_axes(figure.browser_layout) == []
        assert shown_as_in_python(figure)
    # the random first batch has no predictions: the parity figure's own note
    assert notes(parity.browser_layout) == ["No model-based suggestion has been measured yet."]
    assert best.browser_layout["title"]["text"] == "Best so far"
    # A relayout that sets the height also fixes the width at the one drawn (700 px for a widget
    # drawn before its output was laid out): autosize follows on its own, as Plots.resize does.
    for figure in (best, parity, landscape):
        *_, with_height, last = figure.layout_edits
        assert "height" in with_height and "autosize" not in with_height
        assert last == {"autosize": True}

    panel.suggest()
    enter_truth(panel)
    assert panel.record()
    assert notes(parity.browser_layout) == []
    assert len(parity.data[0].x) == 4 and shown_as_in_python(parity)

    panel.undo()  # and back: the parity figure's note is drawn again
    assert notes(parity.browser_layout) == ["No model-based suggestion has been measured yet."]
    panel.slice_y.value = "Cu"  # data -> placeholder: no stale title or axis titles
    assert notes(landscape.browser_layout) == ["Choose two different slice variables."]
    assert hidden_axes(landscape.browser_layout) == ["xaxis", "yaxis"]
    assert "title" not in landscape.browser_layout and shown_as_in_python(landscape)
    panel.slice_y.value = "Pd"
    assert notes(landscape.browser_layout) == [] and hidden_axes(landscape.browser_layout) == []


def test_the_two_small_figures_share_the_width_of_the_panel(space):
    """No figure has a fixed width; the two small ones sit in a grid of two shrinkable columns,
    and every figure re-measures its place in the browser when it is redrawn (autosize)."""
    campaign = Campaign(space, list(XUE_DESCRIPTORS), random_seed=3)
    panel = CampaignPanel(campaign, batch_size=4, slice_variables=("Cu", "Pd"))
    panel.suggest()
    enter_truth(panel)
    assert panel.record()
    history = campaign.history
    for figure in (best_so_far(history), predicted_vs_measured(history)):
        assert figure.layout.width is None
    for figure in (panel.best_figure, panel.parity_figure, panel.landscape_figure):
        assert figure.layout.width is None and figure.layout.autosize is True
    (row,) = [
        child
        for child in panel.widget.children
        if panel.parity_figure in getattr(child, "children", ())
    ]
    assert isinstance(row, widgets.GridBox)  # an HBox let the figures overflow the panel
    assert row.children == (panel.best_figure, panel.parity_figure)
    assert row.layout.grid_template_columns == "repeat(2, minmax(0, 1fr))"


def test_panel_shows_campaign_errors(space):
    campaign = Campaign(space, list(XUE_DESCRIPTORS), random_seed=0)
    panel = CampaignPanel(campaign, batch_size=2)
    assert panel.undo() is False and "no recorded batch" in panel.error
    panel.batch_size.value = 1
    panel.suggest()
    name = next(iter(panel.value_inputs))
    panel.value_inputs[name].value = "3,5"  # a decimal comma is read as a point
    assert panel.record() is True
    assert float(campaign.history["value"][0]) == 3.5
    with pytest.raises(TypeError, match="campaign must be a Campaign"):
        CampaignPanel("not a campaign")
    with pytest.raises(ValueError, match="slice_variables"):
        CampaignPanel(campaign, slice_variables=("Cu", "Xx"))


def test_design_figures_from_a_history(space):
    campaign = Campaign(space, list(XUE_DESCRIPTORS), random_seed=1, objective="minimize")
    campaign.run(hysteresis, n_iterations=3, batch_size=3, progress=False)
    history = campaign.history
    fig = best_so_far(history)
    values = history["value"].values
    expected = [values[history["iteration"].values <= k].min() for k in range(3)]
    np.testing.assert_allclose(fig.data[1].y, expected)
    fig = predicted_vs_measured(history)
    model_rows = np.isfinite(history["predicted_mean"].values)
    np.testing.assert_allclose(fig.data[0].y, values[model_rows])
    np.testing.assert_allclose(
        fig.data[0].error_x.array, history["predicted_sd"].values[model_rows]
    )
    landscape = campaign.acquisition_landscape("Cu", "Pd")
    # the slice holds Fe at the reference candidate's value; Cu and Pd vary
    fe = space["Fe"].sel(candidate=landscape["candidate"].values).values
    reference = float(space["Fe"].sel(candidate=int(landscape.attrs["reference"])))
    np.testing.assert_allclose(fe, reference)
    assert f"Fe = {reference:g}" in landscape.attrs["held"]
    assert len(np.unique(landscape["Cu"])) > 3 and len(np.unique(landscape["Pd"])) > 3
    fig = acquisition_slice(landscape, history, campaign.last_suggestion)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.nanmax(z) == pytest.approx(float(landscape["acquisition"].max()))
    with pytest.raises(ValueError, match="variable must be one of"):
        acquisition_slice(landscape, variable="nope")
    with pytest.raises(TypeError, match="history must be an xarray.Dataset"):
        best_so_far({"value": [1.0]})


def test_acquisition_slice_sends_no_nan_to_the_browser():
    """NaN is not valid JSON: empty cells of the slice must travel as null (None)."""
    import json

    import xarray as xr

    landscape = xr.Dataset(
        {
            "Cu": ("candidate", [0.0, 1.0, 0.0]),
            "Pd": ("candidate", [0.0, 0.0, 1.0]),
            "acquisition": ("candidate", [0.1, 0.2, 0.3]),
        },
        attrs={"x": "Cu", "y": "Pd"},
    )
    fig = acquisition_slice(landscape)
    z = fig.data[0].z
    assert z[1][1] is None  # the (Cu=1, Pd=1) corner has no candidate
    json.dumps(fig.to_plotly_json()["data"][0]["z"], allow_nan=False)


def test_failed_runs_are_recorded_listed_and_marked(space, tmp_path):
    path = tmp_path / "failures.jsonl"
    campaign = Campaign(space, list(XUE_DESCRIPTORS), path=path, random_seed=5)
    panel = CampaignPanel(campaign, batch_size=4, slice_variables=("Cu", "Pd"))
    panel.suggest()
    assert panel.value_inputs[next(iter(panel.value_inputs))].placeholder.startswith("value, or")
    enter_truth(panel)
    names = list(panel.value_inputs)
    panel.value_inputs[names[1]].value = "Failed: sample cracked, twice"
    assert panel.record() is True
    assert "3 value(s) and 1 failed run(s)" in panel.message.value
    assert campaign.n_observations == 3 and campaign.n_failures == 1
    assert campaign.history["failure_reason"].values.tolist()[-1] == "sample cracked, twice"
    assert "1 failed run(s)" in panel.status.value
    assert (
        "sample cracked, twice" in panel.failures.value and f">{names[1]}<" in panel.failures.value
    )
    assert panel.next_batch is None
    # the figures show measurements only; the landscape marks the failure with a cross
    assert len(panel.best_figure.data[0].y) == 3
    panel.suggest()
    heat, measured, suggested, failed = panel.landscape_figure.data
    assert failed.name == "failed" and failed.marker.symbol == "x"
    assert len(measured.x) == 3 and len(failed.x) == 1
    batch = campaign.history.isel(observation=campaign.history["failed"].values)
    assert failed.x[0] == float(batch["Cu"].values[0])
    assert names[1] not in panel.value_inputs
    for box in panel.value_inputs.values():
        box.value = "failed"
    assert panel.record() is True
    assert campaign.n_failures == 5
    assert "failed (no reason given)" in panel.failures.value
    # undo takes the last failures back
    panel.undo()
    assert campaign.n_failures == 1 and len(panel.value_inputs) == 4
    campaign.close()
