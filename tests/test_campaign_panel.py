"""CampaignPanel driven from Python: enter values, record, undo, bad input, live figures."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from mi_workbench.design import XUE_DESCRIPTORS, Campaign, composition_grid, featurize
from mi_workbench.plots import acquisition_slice, best_so_far, predicted_vs_measured
from mi_workbench.widgets import CampaignPanel


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
