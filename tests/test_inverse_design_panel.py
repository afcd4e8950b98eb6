"""InverseDesignPanel driven from Python: region by boxes and by selection, run, verify, gallery."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from mi_workbench.data import load_molecules_xtb_dft
from mi_workbench.molecules.metrics import generation_metrics, structural_alerts
from mi_workbench.plots.molecules import PLANE_TRACES
from mi_workbench.widgets import InverseDesignPanel

PROPERTIES = ("homo_lumo_gap", "total_energy")


@pytest.fixture(scope="module")
def dataset():
    return load_molecules_xtb_dft("xtb")


@pytest.fixture(scope="module")
def forward_models(dataset):
    from mi_workbench.molecules.forward import fit_forward_models

    # a subset keeps the test fast; the panel only needs models with predict(smiles)
    return fit_forward_models(PROPERTIES, dataset=dataset.isel(molecule=slice(0, 600)))


def select(panel: InverseDesignPanel, selector: dict) -> None:
    """Send the message the browser sends when the user finishes a box or lasso selection."""
    panel.figure._handler_js2py_pointsCallback(
        {
            "new": {
                "event_type": "plotly_selected",
                "points": {"xs": [], "ys": [], "point_indexes": [], "trace_indexes": []},
                "selector": selector,
            }
        }
    )


def test_region_from_boxes_and_from_a_drawn_selection(forward_models, dataset):
    panel = InverseDesignPanel(forward_models, dataset=dataset)
    assert "mi-inverse-design-panel" in panel.widget._dom_classes
    assert isinstance(panel.figure, go.FigureWidget)
    assert tuple(t.name for t in panel.figure.data) == PLANE_TRACES
    assert len(panel.figure.data[0].x) == dataset.sizes["molecule"]
    assert panel.properties == PROPERTIES
    assert set(panel.region) == set(PROPERTIES)

    # typed bounds
    panel.x_low.value, panel.x_high.value = 6.5, 9.0
    assert panel.region["homo_lumo_gap"] == (6.5, 9.0)
    assert panel.error == ""
    shape = panel.figure.layout.shapes[0]
    assert (shape.x0, shape.x1) == (6.5, 9.0)

    # a box drawn on the plot sets the bounds
    select(panel, {"type": "box", "selector_state": {"xrange": [7.0, 8.5], "yrange": [-30, -20]}})
    assert panel.region == {"homo_lumo_gap": (7.0, 8.5), "total_energy": (-30.0, -20.0)}
    assert (panel.x_low.value, panel.x_high.value) == (7.0, 8.5)
    assert (panel.y_low.value, panel.y_high.value) == (-30.0, -20.0)
    shape = panel.figure.layout.shapes[0]
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (7.0, 8.5, -30.0, -20.0)
    assert "training molecule(s) lie inside" in panel.status.value

    # a drawn range is rounded to about four significant digits of its width, and the
    # selection's dimming of unselected points is cleared on every trace
    panel.figure._handler_js2py_pointsCallback(
        {
            "new": {
                "event_type": "plotly_selected",
                "points": {"xs": [7.5], "ys": [-25.0], "point_indexes": [3], "trace_indexes": [0]},
                "selector": {
                    "type": "box",
                    "selector_state": {"xrange": [7.012455, 8.51239], "yrange": [-30.1234, -20]},
                },
            }
        }
    )
    assert panel.region == {"homo_lumo_gap": (7.012, 8.512), "total_energy": (-30.12, -20.0)}
    assert all(trace.selectedpoints is None for trace in panel.figure.data)

    # the same selection as plotly.js also reports it: a layout change (``layout.selections``)
    panel.figure._js2py_relayout = {
        "relayout_data": {
            "selections": [{"type": "rect", "x0": 8.0, "x1": 6.5, "y0": -20, "y1": -35}]
        },
        "source_view_id": "test",
    }
    assert panel.region == {"homo_lumo_gap": (6.5, 8.0), "total_energy": (-35.0, -20.0)}
    assert panel.figure.layout.to_plotly_json().get("selections", []) == []
    panel.figure._js2py_relayout = {
        "relayout_data": {"selections": [{"type": "path", "path": "M5,-50L6,-45L5.5,-40Z"}]},
        "source_view_id": "test",
    }
    assert panel.region == {"homo_lumo_gap": (5.0, 6.0), "total_energy": (-50.0, -40.0)}

    # a lasso sets the bounding box of its outline
    select(
        panel,
        {"type": "lasso", "selector_state": {"xs": [5.0, 6.0, 5.5], "ys": [-50, -45, -40]}},
    )
    assert panel.region == {"homo_lumo_gap": (5.0, 6.0), "total_energy": (-50.0, -40.0)}

    # a degenerate selection (a click-drag of zero height) is refused
    select(panel, {"type": "box", "selector_state": {"xrange": [7.0, 8.0], "yrange": [-30, -30]}})
    assert "empty" in panel.error
    assert panel.region == {"homo_lumo_gap": (5.0, 6.0), "total_energy": (-50.0, -40.0)}

    # programmatic bounds; other axes keep theirs
    panel.set_region(homo_lumo_gap=(7.0, 9.0))
    assert panel.region == {"homo_lumo_gap": (7.0, 9.0), "total_energy": (-50.0, -40.0)}
    assert panel.x_low.value == 7.0


def test_bad_bounds_and_properties_show_an_error_and_change_nothing(forward_models, dataset):
    panel = InverseDesignPanel(
        forward_models,
        dataset=dataset,
        region={"homo_lumo_gap": (7.0, 9.0), "total_energy": (-40.0, -20.0)},
    )
    before = panel.region
    panel.x_low.value = 10.0  # above x high: inverted
    assert "inverted" in panel.error and "homo_lumo_gap" in panel.error
    assert panel.region == before
    assert panel.figure.layout.shapes[0].x0 == 7.0
    panel.x_low.value = 9.0  # equal to x high: empty
    assert "empty" in panel.error
    assert panel.region == before
    assert panel.run() is None  # the boxes still disagree: nothing runs
    assert panel.result is None and "Nothing was run" in panel.error
    panel.x_low.value = 7.5
    assert panel.error == "" and panel.region["homo_lumo_gap"] == (7.5, 9.0)

    before = panel.region
    with pytest.raises(ValueError, match="unknown property 'band_gap'"):
        panel.set_region(band_gap=(1.0, 2.0))
    assert "band_gap" in panel.error and panel.region == before
    with pytest.raises(ValueError, match="inverted"):
        panel.set_region(total_energy=(-10.0, -30.0))
    assert panel.region == before
    with pytest.raises(ValueError, match="must be one of"):
        panel.set_properties("homo_lumo_gap", "dipole")  # no forward model of the dipole
    assert panel.properties == PROPERTIES and panel.region == before

    # choosing the y property on x swaps the axes
    panel.x_property.value = "total_energy"
    assert panel.properties == ("total_energy", "homo_lumo_gap")
    assert panel.region == before
    assert panel.figure.layout.xaxis.title.text == "total energy (hartree)"
    np.testing.assert_allclose(panel.figure.data[0].x, dataset["xtb_total_energy_hartree"].values)
    assert panel.figure.layout.shapes[0].x0 == before["total_energy"][0]

    with pytest.raises(ValueError, match="unknown property"):
        InverseDesignPanel({"band_gap": forward_models["homo_lumo_gap"]}, dataset=dataset)
    with pytest.raises(ValueError, match="inverted"):
        InverseDesignPanel(
            forward_models,
            dataset=dataset,
            region={"homo_lumo_gap": (9.0, 7.0), "total_energy": (-40.0, -20.0)},
        )


def test_run_verify_and_browse(forward_models, dataset):
    panel = InverseDesignPanel(
        forward_models, dataset=dataset, n_steps=3, n_particles=12, random_seed=5, page_size=4
    )
    select(panel, {"type": "box", "selector_state": {"xrange": [6.0, 9.0], "yrange": [-45, -20]}})
    region = panel.region
    panel.run_button.click()
    assert panel.error == "", panel.error
    result = panel.result
    assert result is not None
    assert result.sizes["step"] >= 1 and result.sizes["particle"] == 12
    assert panel.progress.value == 1.0 and panel.progress.bar_style == "success"

    # the population and the molecules found are on the plot
    population, predicted, computed = panel.figure.data[1:]
    n_points = result.sizes["step"] * result.sizes["particle"]
    assert len(population.x) == n_points
    assert set(np.asarray(population.marker.color)) == set(result["step"].values.tolist())
    molecules = panel.molecules
    assert len(molecules) == len(set(result["smiles"].isel(step=-1).values.tolist()))
    assert molecules["count"].sum() == 12
    assert {"homo_lumo_gap_mean", "homo_lumo_gap_sd", "probability_in_region"} <= set(
        molecules.columns
    )
    assert np.all(np.diff(molecules["probability_in_region"].values) <= 1e-12)
    np.testing.assert_allclose(predicted.x, molecules["homo_lumo_gap_mean"].values)
    np.testing.assert_allclose(predicted.error_x.array, molecules["homo_lumo_gap_sd"].values)
    assert len(computed.x) == 0
    assert "distinct molecule(s)" in panel.status.value
    # the set as a whole: generation metrics of the population, and structural alerts per row
    expected_metrics = generation_metrics(
        result["smiles"].isel(step=-1).values.tolist(), training=dataset["smiles"].values.tolist()
    )
    assert f"internal diversity {expected_metrics['internal_diversity']:.2f}" in panel.status.value
    assert f"{expected_metrics['validity']:.0%} valid" in panel.status.value
    alerts = structural_alerts(molecules["smiles"].tolist())
    assert (molecules["alerts"] != "").tolist() == (alerts["PAINS"] | alerts["Brenk"]).tolist()

    # the gallery: a page of cards with RDKit drawings and predicted values
    gallery = panel.gallery.value
    assert gallery.count('class="mi-molecule-card"') == min(4, len(molecules))
    assert "data:image/svg+xml;base64," in gallery and "&plusmn;" in gallery
    assert molecules["smiles"].iloc[0] in gallery

    # xTB on the two best molecules
    panel.n_verify.value = 2
    panel.verify_button.click()
    assert panel.error == "", panel.error
    done = panel.molecules.iloc[:2]
    assert done["xtb_ok"].all()
    assert np.isfinite(done["xtb_homo_lumo_gap"]).all() and np.isfinite(done["xtb_dipole"]).all()
    assert panel.molecules["xtb_ok"].isna().sum() == len(panel.molecules) - 2
    low, high = region["homo_lumo_gap"]
    y_low, y_high = region["total_energy"]
    expected = [
        bool(low <= g <= high and y_low <= e <= y_high)
        for g, e in zip(done["xtb_homo_lumo_gap"], done["xtb_total_energy"], strict=True)
    ]
    assert done["xtb_in_region"].tolist() == expected
    computed = panel.figure.data[3]
    np.testing.assert_allclose(computed.x, done["xtb_homo_lumo_gap"].values)
    np.testing.assert_allclose(computed.y, done["xtb_total_energy"].values)
    assert panel.gallery.value.count("xTB ") >= 2
    assert "of 2 computed molecule(s)" in panel.status.value

    # pages
    assert panel.previous_button.disabled
    if len(molecules) > 4:
        panel.next_button.click()
        assert "molecules 5-" in panel.page_label.value
        assert "<b>#5</b>" in panel.gallery.value and "<b>#1</b>" not in panel.gallery.value
        panel.previous_button.click()
        assert "<b>#1</b>" in panel.gallery.value
    else:
        assert panel.next_button.disabled

    # bad bounds after a run: the message, and the results stay as they were
    panel.y_low.value = 0.0
    assert "inverted" in panel.error
    panel.run_button.click()
    assert panel.result is result and panel.region == region
    assert len(panel.figure.data[3].x) == len(computed.x)


def test_a_failing_run_is_reported_and_changes_nothing(forward_models, dataset):
    class Broken:
        def predict(self, smiles):
            raise RuntimeError("the forward model is broken")

    models = {"homo_lumo_gap": Broken(), "total_energy": forward_models["total_energy"]}
    panel = InverseDesignPanel(models, dataset=dataset, n_steps=2, n_particles=4)
    assert panel.run() is None
    assert panel.error.startswith("Design failed") and "broken" in panel.error
    assert panel.result is None and panel.molecules is None
    assert panel.progress.bar_style == "danger"
    assert not panel.run_button.disabled
    assert panel.verify() is None and "Run the design first" in panel.error
