"""Tests of the xTB/DFT data-set builder (resume, provenance) and of the committed data set."""

from __future__ import annotations

import numpy as np
import pytest

from mi_workbench.data import MOLECULES_XTB_DFT_PATH, load_molecules_xtb_dft
from mi_workbench.molecules import oracles
from mi_workbench.molecules.dataset import (
    build_molecule_dataset,
    main,
    read_nci_smiles,
    save_molecule_dataset,
    select_molecules,
)

FIVE = ["O", "C", "CC", "CO", "C=O"]
REAL_ORACLES = dict(oracles.ORACLES)


def test_select_molecules_filters_and_deduplicates():
    table, excluded = select_molecules(
        ["CCO", "OCC", "C[Si](C)C", "[NH4+]", "xx", "CCCCCCCC", "CC(=O)O.[Na+].[Cl-]"],
        max_heavy_atoms=5,
    )
    assert list(table["smiles"]) == ["CCO", "CC(=O)O"]
    assert list(table["n_heavy_atoms"]) == [3, 4]
    assert excluded["duplicate"] == 1
    assert excluded["more than 5 heavy atoms"] == 1
    assert excluded["invalid SMILES"] == 1
    assert excluded["charged molecule"] == 1
    assert excluded["unsupported element(s) Si"] == 1


def test_nci_file_ships_with_rdkit():
    table = read_nci_smiles()
    assert len(table) > 4900  # 4,999 in RDKit 2026.9
    assert table["nci_id"].iloc[0] == "1"


def _counting(name, calls, fail_after=None):
    real = REAL_ORACLES[name]

    def oracle(smiles, **options):
        if fail_after is not None and len(calls) == fail_after:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C here
        calls.append(smiles)
        return real(smiles, **options)

    return oracle


def test_builder_resumes_without_recomputing(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    options = {"smiles": FIVE, "n_dft": 2, "progress": False}
    xtb_calls, dft_calls = [], []
    monkeypatch.setitem(oracles.ORACLES, "xtb", _counting("xtb", xtb_calls, fail_after=3))
    monkeypatch.setitem(oracles.ORACLES, "dft", _counting("dft", dft_calls))
    with pytest.raises(KeyboardInterrupt):
        build_molecule_dataset(cache, **options)
    assert len(xtb_calls) == 3 and dft_calls == []

    xtb_calls.clear()
    monkeypatch.setitem(oracles.ORACLES, "xtb", _counting("xtb", xtb_calls))
    monkeypatch.setitem(oracles.ORACLES, "dft", _counting("dft", dft_calls, fail_after=1))
    with pytest.raises(KeyboardInterrupt):
        build_molecule_dataset(cache, **options)
    assert sorted(xtb_calls) == sorted(set(FIVE) - {"O", "C", "CC"})  # only the 2 not cached
    assert dft_calls == ["O"]  # the smallest first; interrupted before the second

    xtb_calls.clear()
    dft_calls.clear()
    monkeypatch.setitem(oracles.ORACLES, "dft", _counting("dft", dft_calls))
    ds = build_molecule_dataset(cache, command="test build", **options)
    assert xtb_calls == []
    assert dft_calls == ["C"]

    xtb_calls.clear()
    dft_calls.clear()
    again = build_molecule_dataset(cache, **options)
    assert xtb_calls == [] and dft_calls == []
    np.testing.assert_array_equal(
        again["dft_total_energy_hartree"].values, ds["dft_total_energy_hartree"].values
    )

    assert ds.sizes["molecule"] == 5
    assert np.isfinite(ds["xtb_homo_lumo_gap_ev"]).all()
    dft_gap = ds["dft_homo_lumo_gap_ev"].values
    assert np.isfinite(dft_gap).sum() == 2
    assert list(ds["smiles"].values[np.isfinite(dft_gap)]) == ["O", "C"]
    assert list(ds["dft_attempted"].values) == [True, True, False, False, False]
    assert ds["dft_total_energy_hartree"].attrs["units"] == "hartree"
    assert ds.attrs["command"] == "test build"
    assert ds.attrs["n_dft_ok"] == 2 and ds.attrs["n_xtb_ok"] == 5

    path = save_molecule_dataset(ds, tmp_path / "molecules.nc")
    loaded = load_molecules_xtb_dft(path=path)
    assert list(loaded["smiles"].values) == FIVE
    np.testing.assert_allclose(
        loaded["xtb_total_energy_hartree"].values, ds["xtb_total_energy_hartree"].values
    )
    assert load_molecules_xtb_dft("dft", path=path).sizes["molecule"] == 2


def test_failures_are_kept_with_reasons(tmp_path):
    ds = build_molecule_dataset(
        tmp_path, smiles=["C", "[Si]", "not smiles"], n_dft=0, progress=False
    )
    assert ds.sizes["molecule"] == 1
    assert "invalid SMILES: 1" in ds.attrs["excluded_counts"]
    assert "unsupported element(s) Si: 1" in ds.attrs["excluded_counts"]
    with pytest.raises(ValueError, match="no molecule is left"):
        build_molecule_dataset(tmp_path, smiles=["[Si]"], progress=False)
    with pytest.raises(ValueError, match="functional must be one of"):
        build_molecule_dataset(tmp_path, smiles=["C"], functional="xx", progress=False)


def test_command_line_writes_the_file(tmp_path, monkeypatch, capsys):
    # the command line runs the same builder; here on RDKit's NCI set cut to tiny molecules
    output = tmp_path / "out.nc"
    main(
        [
            "--cache-dir",
            str(tmp_path / "cache"),
            "--output",
            str(output),
            "--max-heavy-atoms",
            "2",
            "--n-dft",
            "1",
            "--no-progress",
        ]
    )
    ds = load_molecules_xtb_dft(path=output)
    assert ds.sizes["molecule"] >= 1
    assert "--max-heavy-atoms 2" in ds.attrs["command"]
    assert "wrote" in capsys.readouterr().out


def test_committed_data_set_has_enough_molecules_and_provenance():
    assert MOLECULES_XTB_DFT_PATH.stat().st_size < 5e6
    ds = load_molecules_xtb_dft()
    xtb = load_molecules_xtb_dft("xtb")
    dft = load_molecules_xtb_dft("dft")
    assert xtb.sizes["molecule"] >= 2000
    assert dft.sizes["molecule"] >= 200
    assert ds.attrs["n_dft_ok"] == dft.sizes["molecule"]
    for key in ("xtb_method", "dft_method", "dft_basis", "geometry", "command", "created"):
        assert ds.attrs[key]
    for package in ("rdkit", "tblite", "pyscf"):
        assert ds.attrs[f"version_{package}"][0].isdigit()
    assert "python -m mi_workbench.molecules.dataset" in ds.attrs["command"]
    assert ds.attrs["build_wall_time_s"] > 0
    assert ds["xtb_homo_lumo_gap_ev"].attrs["units"] == "eV"
    assert (xtb["xtb_failure_reason"] == "").all()
    assert (ds["n_heavy_atoms"] <= 20).all()
    assert len(set(ds["smiles"].values)) == ds.sizes["molecule"]
    # the two levels of theory must agree on trends (the point of multi-fidelity learning)
    r = np.corrcoef(dft["xtb_homo_lumo_gap_ev"], dft["dft_homo_lumo_gap_ev"])[0, 1]
    assert r > 0.7
