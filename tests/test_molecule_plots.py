"""Figures of molecular inverse design: property plane, population by step, structure images."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import xarray as xr

from mi_workbench.data import load_molecules_xtb_dft
from mi_workbench.plots import (
    molecule_gallery_html,
    molecule_image_uri,
    molecule_svg,
    population_by_step,
    property_plane,
)
from mi_workbench.plots.molecules import (
    PLANE_TRACES,
    check_property_region,
    region_rectangle,
    training_property_values,
)


@pytest.fixture(scope="module")
def training():
    return load_molecules_xtb_dft("xtb")


def population(n_steps=3, n_particles=4) -> xr.Dataset:
    """A small population in the layout of IQSPR.run: smiles and predictions per step."""
    smiles = np.array(["CCO", "CC(=O)O", "c1ccccc1", "CCN"] * n_particles)[:n_particles]
    grid = np.tile(smiles, (n_steps, 1))
    step = np.arange(n_steps)[:, None] * np.ones(n_particles)
    return xr.Dataset(
        {
            "smiles": (("step", "particle"), grid.astype(object)),
            "weight": (("step", "particle"), np.full(grid.shape, 1.0 / n_particles)),
            "homo_lumo_gap_mean": (("step", "particle"), 5.0 + step),
            "homo_lumo_gap_sd": (("step", "particle"), np.full(grid.shape, 0.3)),
            "total_energy_mean": (("step", "particle"), -20.0 - step),
            "total_energy_sd": (("step", "particle"), np.full(grid.shape, 1.0)),
        },
        coords={"step": np.arange(n_steps)},
    )


def test_property_plane_traces_region_and_population(training):
    found = pd.DataFrame(
        {
            "smiles": ["CCO", "CCN"],
            "homo_lumo_gap_mean": [7.0, 6.5],
            "homo_lumo_gap_sd": [0.4, 0.2],
            "total_energy_mean": [-22.0, -21.0],
            "total_energy_sd": [1.5, 0.5],
            "xtb_homo_lumo_gap": [7.4, np.nan],
            "xtb_total_energy": [-21.7, np.nan],
        }
    )
    region = {"homo_lumo_gap": (6.0, 8.0), "total_energy": (-25.0, -15.0)}
    fig = property_plane(training, region=region, result=population(), molecules=found)
    assert isinstance(fig, go.Figure)
    assert tuple(t.name for t in fig.data) == PLANE_TRACES
    # the training data: every molecule, WebGL, faint
    data = fig.data[0]
    assert isinstance(data, go.Scattergl) and len(data.x) == training.sizes["molecule"]
    np.testing.assert_allclose(data.x, training["xtb_homo_lumo_gap_ev"].values)
    np.testing.assert_allclose(data.y, training["xtb_total_energy_hartree"].values)
    assert data.marker.opacity < 0.5
    # the population coloured by step
    pop = fig.data[1]
    assert len(pop.x) == 12
    np.testing.assert_allclose(sorted(set(pop.marker.color)), [0, 1, 2])
    np.testing.assert_allclose(pop.x[pop.marker.color == 2], 7.0)
    # found molecules with error bars; xTB values only where computed
    np.testing.assert_allclose(fig.data[2].x, [7.0, 6.5])
    np.testing.assert_allclose(fig.data[2].error_x.array, [0.4, 0.2])
    np.testing.assert_allclose(fig.data[2].error_y.array, [1.5, 0.5])
    np.testing.assert_allclose(fig.data[3].x, [7.4])
    assert list(fig.data[3].text) == ["CCO"]
    shape = fig.layout.shapes[0]
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (6.0, 8.0, -25.0, -15.0)
    assert shape.name == "target region"
    assert fig.layout.xaxis.title.text == "HOMO-LUMO gap (eV)"
    assert fig.layout.yaxis.title.text == "total energy (hartree)"
    assert fig.layout.dragmode == "select"


def test_property_plane_without_results_and_on_other_axes(training):
    fig = property_plane(training, "homo_lumo_gap", "dipole")
    assert [len(t.x) for t in fig.data] == [training.sizes["molecule"], 0, 0, 0]
    assert fig.layout.yaxis.title.text == "dipole moment (debye)"
    assert not fig.layout.shapes
    # a region bounding only x spans the whole plot in y
    shape = region_rectangle({"homo_lumo_gap": (6, 8)}, "homo_lumo_gap", "dipole")
    assert shape["yref"] == "paper" and shape["xref"] == "x"
    # a pandas table with property columns works too
    table = pd.DataFrame({"homo_lumo_gap": [1.0, 2.0], "dipole": [0.5, 1.5]})
    np.testing.assert_allclose(training_property_values(table, "dipole"), [0.5, 1.5])


@pytest.mark.parametrize(
    ("region", "words"),
    [
        ({"homo_lumo_gap": (8.0, 6.0)}, "inverted"),
        ({"homo_lumo_gap": (6.0, 6.0)}, "empty"),
        ({"band_gap": (1.0, 2.0)}, "unknown property 'band_gap'"),
        ({"dipole": (np.nan, 2.0)}, "finite"),
    ],
)
def test_bad_regions_are_named(region, words):
    with pytest.raises(ValueError, match=words):
        check_property_region(region)


def test_bad_plane_arguments(training):
    with pytest.raises(ValueError, match="x must be one of"):
        property_plane(training, "gap", "dipole")
    with pytest.raises(ValueError, match="two different"):
        property_plane(training, "dipole", "dipole")
    with pytest.raises(ValueError, match="missing"):
        property_plane(training, result=population().drop_vars("total_energy_mean"))


def test_population_by_step_slider_shows_one_step_at_a_time(training):
    result = population(n_steps=4)
    region = {"homo_lumo_gap": (6.0, 8.0), "total_energy": (-25.0, -15.0)}
    fig = population_by_step(result, training=training, region=region)
    assert [t.name for t in fig.data][1:] == ["step 0", "step 1", "step 2", "step 3"]
    assert [t.visible for t in fig.data[1:]] == [False, False, False, True]
    slider = fig.layout.sliders[0]
    assert slider.active == 3 and len(slider.steps) == 4
    assert slider.steps[1].args[0]["visible"] == [True, False, True, False, False]
    np.testing.assert_allclose(fig.data[2].x, 6.0)
    assert len(fig.layout.shapes) == 1


def test_molecule_images_are_rdkit_svg_data_uris():
    svg = molecule_svg("c1ccccc1O", 120, 90)
    assert "<svg" in svg and "width='120px'" in svg
    uri = molecule_image_uri("CCO")
    assert uri.startswith("data:image/svg+xml;base64,")
    assert b"<svg" in base64.b64decode(uri.split(",", 1)[1])
    with pytest.raises(ValueError, match="not a valid SMILES"):
        molecule_svg("C1CC")


def test_gallery_cards_show_predictions_xtb_values_and_escape_text():
    table = pd.DataFrame(
        {
            "smiles": ["CCO", "c1ccccc1", "not<a>molecule"],
            "homo_lumo_gap_mean": [7.0, 5.0, 1.0],
            "homo_lumo_gap_sd": [0.4, 0.3, 0.1],
            "xtb_homo_lumo_gap": [7.5, 4.1, np.nan],
            "probability_in_region": [0.9, 0.1, 0.0],
            "novel": [True, False, False],
            "xtb_in_region": pd.array([True, False, pd.NA], dtype="boolean"),
        }
    )
    page = molecule_gallery_html(
        table, ["homo_lumo_gap"], region={"homo_lumo_gap": (6.0, 8.0)}, count=3
    )
    assert page.count('class="mi-molecule-card"') == 3
    assert page.count("data:image/svg+xml;base64,") == 2
    assert "7 &plusmn; 0.4" in page and "xTB 7.5" in page
    assert "color:#1a7f37" in page and "color:#b00020" in page  # inside / outside the region
    assert "not&lt;a&gt;molecule" in page and "<a>" not in page
    assert "new (not in the training data)" in page
    assert page.count("xTB: inside the target region") == 1
    assert page.count("xTB: outside the region") == 1
    second = molecule_gallery_html(table, ["homo_lumo_gap"], start=1, count=1)
    assert second.count('class="mi-molecule-card"') == 1 and "#2" in second
    assert "No molecules" in molecule_gallery_html(table.iloc[:0], ["homo_lumo_gap"])


def test_gallery_cards_show_structural_alerts_escaped():
    table = pd.DataFrame(
        {
            "smiles": ["CCO", "S=C1SC(=Cc2ccccc2)C(=O)N1"],
            "homo_lumo_gap_mean": [7.0, 3.0],
            "homo_lumo_gap_sd": [0.4, 0.3],
            "alerts": ["", "PAINS: ene_rhod_A(235); Brenk: <Michael_acceptor_1>"],
        }
    )
    page = molecule_gallery_html(table, ["homo_lumo_gap"], count=2)
    assert page.count("alert: ") == 1
    assert "alert: PAINS: ene_rhod_A(235); Brenk: &lt;Michael_acceptor_1&gt;" in page
