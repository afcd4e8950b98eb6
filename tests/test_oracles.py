"""Tests of the molecular oracles: GFN2-xTB (tblite) and DFT (PySCF) on RDKit geometries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mi_workbench.molecules import (
    ORACLES,
    dft_properties,
    embed_molecule,
    prepare_molecule,
    read_cache,
    run_oracle_batch,
    xtb_properties,
)


@pytest.fixture(scope="module")
def xtb_small():
    return {s: xtb_properties(s) for s in ("O", "C", "C=C", "C=CC=C", "C=CC=CC=C", "c1ccccc1")}


def test_xtb_small_molecules_succeed_with_plausible_values(xtb_small):
    for smiles, result in xtb_small.items():
        assert result["ok"], (smiles, result["reason"])
        assert result["reason"] == ""
        assert result["method"] == "gfn2-xtb"
        assert 2.0 < result["homo_lumo_gap"] < 20.0, smiles
        assert result["total_energy"] < 0.0
    # GFN2-xTB total energy of water near its equilibrium geometry is -5.070 hartree
    assert xtb_small["O"]["total_energy"] == pytest.approx(-5.0702, abs=2e-3)
    # water's dipole moment (experiment 1.85 D; GFN2-xTB ~2.3 D); methane's vanishes by symmetry
    assert 1.5 < xtb_small["O"]["dipole"] < 2.8
    assert xtb_small["C"]["dipole"] < 0.05


def test_xtb_gap_shrinks_with_conjugation(xtb_small):
    gap = {s: r["homo_lumo_gap"] for s, r in xtb_small.items()}
    assert gap["C"] > gap["O"] > gap["C=C"] > gap["C=CC=C"] > gap["C=CC=CC=C"]
    assert gap["C=C"] > gap["c1ccccc1"]


def test_xtb_is_deterministic_and_seed_controls_the_geometry():
    first = xtb_properties("CCOC(=O)C")
    second = xtb_properties("CCOC(=O)C")
    assert first["total_energy"] == second["total_energy"]
    assert first["homo_lumo_gap"] == second["homo_lumo_gap"]
    a = embed_molecule("CCCCO", random_seed=1)["positions_angstrom"]
    b = embed_molecule("CCCCO", random_seed=1)["positions_angstrom"]
    np.testing.assert_array_equal(a, b)


def test_dft_water_b3lyp_631gstar_matches_reference_energy():
    result = dft_properties("O", functional="b3lyp", basis="6-31g*", threads=1)
    assert result["ok"], result["reason"]
    assert result["method"] == "rks/b3lyp/6-31g*"
    # B3LYP/6-31G* water at its optimised geometry: -76.4089 hartree; the MMFF geometry is close
    assert result["total_energy"] == pytest.approx(-76.4089, abs=4e-3)
    assert 8.0 < result["homo_lumo_gap"] < 11.0
    assert result["n_basis_functions"] == 18


@pytest.mark.parametrize(
    ("smiles", "fragment"),
    [
        ("C1CC", "invalid SMILES"),
        ("this is not SMILES", "invalid SMILES"),
        ("", "invalid SMILES"),
        ("C[Si](C)(C)C", "unsupported element(s) Si"),
        ("OB(O)O", "unsupported element(s) B"),
        ("[Fe]", "unsupported element(s) Fe"),
        ("C[NH3+]", "charged molecule"),
        ("[CH3]", "open-shell molecule"),
    ],
)
def test_failures_are_recorded_not_raised(smiles, fragment):
    for oracle in (xtb_properties, dft_properties):
        result = oracle(smiles)
        assert result["ok"] is False
        assert fragment in result["reason"]
        assert math.isnan(result["homo_lumo_gap"])
        assert math.isnan(result["total_energy"])


def test_largest_fragment_is_computed():
    mol, canonical, reason = prepare_molecule("CC(=O)O.[Na+].[Cl-]")
    assert reason == "" and canonical == "CC(=O)O"
    assert xtb_properties("CC(=O)O.O")["smiles"] == "CC(=O)O"


def test_wrong_arguments_raise_with_clear_messages():
    with pytest.raises(TypeError, match="smiles must be a str"):
        xtb_properties(42)
    with pytest.raises(ValueError, match="functional must be one of"):
        dft_properties("O", functional="b3lypp")
    with pytest.raises(ValueError, match="oracle must be one of"):
        run_oracle_batch(["C"], oracle="dft2")
    with pytest.raises(ValueError, match="functional must be one of"):
        run_oracle_batch(["C"], oracle="dft", functional="nope")
    with pytest.raises(TypeError, match="not the single str"):
        run_oracle_batch("CCO")


def _exploding_oracle(smiles, **options):
    if smiles == "N":
        raise RuntimeError("the oracle crashed")
    return xtb_properties(smiles, **options)


def test_batch_goes_on_after_failures_and_crashes():
    records = run_oracle_batch(
        ["C", "xx", "N", "[Si]", "C", "O"], oracle=_exploding_oracle, progress=False
    )
    assert [r["input"] for r in records] == ["C", "xx", "N", "[Si]", "O"]
    assert [r["ok"] for r in records] == [True, False, False, False, True]
    assert "RuntimeError: the oracle crashed" in records[2]["reason"]


def test_batch_resumes_from_cache_without_recomputing(tmp_path):
    cache = tmp_path / "xtb.jsonl"
    molecules = ["C", "CC", "CCC", "CCCC", "CCO"]
    calls = []
    interrupt_after = [3]

    def oracle(smiles, **options):
        if len(calls) == interrupt_after[0]:
            raise KeyboardInterrupt
        calls.append(smiles)
        return xtb_properties(smiles, **options)

    with pytest.raises(KeyboardInterrupt):
        run_oracle_batch(molecules, oracle=oracle, cache_path=cache, progress=False)
    assert sorted(smiles for smiles, _ in read_cache(cache)) == sorted(molecules[:3])
    # a line cut short by a hard kill is ignored and recomputed
    with cache.open("a") as handle:
        handle.write('{"input": "CCCC", "ok": tr')

    calls.clear()
    interrupt_after[0] = -1
    records = run_oracle_batch(molecules, oracle=oracle, cache_path=cache, progress=False)
    assert calls == ["CCCC", "CCO"]
    assert [r["input"] for r in records] == molecules
    assert all(r["ok"] for r in records)
    calls.clear()
    again = run_oracle_batch(molecules, oracle=oracle, cache_path=cache, progress=False)
    assert calls == []
    assert again == records


def test_batch_with_worker_processes_matches_serial(tmp_path):
    molecules = ["CO", "CCN", "c1ccncc1", "[Si]"]
    serial = run_oracle_batch(molecules, oracle="xtb", progress=False)
    parallel = run_oracle_batch(
        molecules, oracle="xtb", n_workers=2, cache_path=tmp_path / "c.jsonl", progress=False
    )
    for a, b in zip(serial, parallel, strict=True):
        assert a["ok"] == b["ok"]
        if a["ok"]:
            assert a["total_energy"] == pytest.approx(b["total_energy"], abs=1e-9)
    assert len(read_cache(tmp_path / "c.jsonl")) == 4


def _record(smiles, ok=True, reason="", energy=-1.0):
    return {
        "smiles": smiles,
        "method": "fake",
        "ok": ok,
        "reason": reason,
        "homo_lumo_gap": 1.0 if ok else math.nan,
        "total_energy": energy if ok else math.nan,
    }


def test_failed_calculations_are_not_cached_and_are_retried(tmp_path):
    cache = tmp_path / "fake.jsonl"
    calls = []
    problems = {"CC": MemoryError("out of memory"), "CCO": "SCF did not converge in 100 cycles"}

    def flaky(smiles, accuracy=1.0):
        calls.append(smiles)
        problem = problems.pop(smiles, None)
        if isinstance(problem, BaseException):
            raise problem
        return _record(smiles, ok=problem is None, reason=problem or "")

    first = run_oracle_batch(["C", "CC", "CCO"], oracle=flaky, cache_path=cache, progress=False)
    assert [r["ok"] for r in first] == [True, False, False]
    assert "MemoryError: out of memory" in first[1]["reason"]
    assert [smiles for smiles, _ in read_cache(cache)] == ["C"]
    calls.clear()
    second = run_oracle_batch(["C", "CC", "CCO"], oracle=flaky, cache_path=cache, progress=False)
    assert calls == ["CC", "CCO"]  # the failures are computed again, "C" comes from the cache
    assert all(r["ok"] for r in second)
    calls.clear()
    assert run_oracle_batch(["C", "CC", "CCO"], oracle=flaky, cache_path=cache, progress=False)
    assert calls == []


def test_xtb_failure_injected_in_tblite_is_retried(tmp_path, monkeypatch):
    from tblite.interface import Calculator

    cache = tmp_path / "xtb.jsonl"

    def no_convergence(self):
        raise RuntimeError("SCF not converged in 250 cycles")

    with monkeypatch.context() as patch:
        patch.setattr(Calculator, "singlepoint", no_convergence)
        (failed,) = run_oracle_batch(["CC"], oracle="xtb", cache_path=cache, progress=False)
    assert not failed["ok"] and "SCF not converged" in failed["reason"]
    assert read_cache(cache) == {}
    (again,) = run_oracle_batch(["CC"], oracle="xtb", cache_path=cache, progress=False)
    assert again["ok"] and math.isfinite(again["total_energy"])


def test_molecules_the_oracle_cannot_compute_are_cached_as_such(tmp_path):
    cache = tmp_path / "xtb.jsonl"
    calls = []

    def counting(smiles, **options):
        calls.append(smiles)
        return xtb_properties(smiles, **options)

    for _ in range(2):
        records = run_oracle_batch(
            ["not a molecule", "[Si]"], oracle=counting, cache_path=cache, progress=False
        )
    assert calls == ["not a molecule", "[Si]"]  # computed once: these failures do not change
    assert [r["ok"] for r in records] == [False, False]


def test_oracles_with_different_settings_do_not_share_cache_entries(tmp_path):
    cache = tmp_path / "shared.jsonl"
    calls = []

    def fake_dft(smiles, functional="b3lyp", basis="6-31g*", random_seed=0, threads=None):
        calls.append((smiles, functional, basis, random_seed))
        energy = {"6-31g*": -1.0, "sto-3g": -2.0}[basis] - (functional == "pbe0")
        return _record(smiles, energy=energy - random_seed)

    def energy(**options):
        (record,) = run_oracle_batch(
            ["CCO"], oracle=fake_dft, cache_path=cache, progress=False, **options
        )
        return record["total_energy"]

    settings = [{}, {"basis": "sto-3g"}, {"functional": "pbe0"}, {"random_seed": 3}]
    expected = [-1.0, -2.0, -2.0, -4.0]
    assert [energy(**options) for options in settings] == expected
    assert len(calls) == 4
    assert len(read_cache(cache)) == 4
    # the same settings again (explicit defaults, other threads): all from the cache
    again = [energy(basis="6-31g*"), energy(basis="sto-3g", threads=2)]
    assert again == [-1.0, -2.0]
    assert len(calls) == 4
    # the same molecule written another way is the same entry
    (record,) = run_oracle_batch(["OCC"], oracle=fake_dft, cache_path=cache, progress=False)
    assert record["input"] == "OCC" and record["total_energy"] == -1.0
    assert len(calls) == 4
    # another oracle never reads this oracle's entries
    (record,) = run_oracle_batch(["CCO"], oracle="xtb", cache_path=cache, progress=False)
    assert record["method"] == "gfn2-xtb"


def test_dft_and_xtb_settings_are_part_of_the_cache_key(tmp_path, monkeypatch):
    cache = tmp_path / "c.jsonl"
    calls = []

    def counting_xtb(smiles, **options):
        calls.append(options)
        return xtb_properties(smiles, **options)

    monkeypatch.setitem(ORACLES, "xtb", counting_xtb)
    run_oracle_batch(["C"], oracle="xtb", cache_path=cache, progress=False)
    run_oracle_batch(["C"], oracle="xtb", cache_path=cache, progress=False, accuracy=0.1)
    run_oracle_batch(["C"], oracle="xtb", cache_path=cache, progress=False, accuracy=0.1)
    assert calls == [{}, {"accuracy": 0.1}]


def test_cache_lines_without_settings_are_computed_again(tmp_path):
    cache = tmp_path / "old.jsonl"
    # a line written before the cache recorded the oracle's settings
    cache.write_text('{"input": "C", "smiles": "C", "ok": true, "total_energy": 1.0}\n')
    (record,) = run_oracle_batch(["C"], oracle="xtb", cache_path=cache, progress=False)
    assert record["ok"] and record["total_energy"] < -3


@pytest.mark.parametrize("basis", ["6-31gg*", "def2-svpp", "not a basis"])
def test_a_misspelled_basis_is_named_before_any_calculation(basis):
    with pytest.raises(ValueError, match="basis") as info:
        dft_properties("O", basis=basis)
    assert repr(basis) in str(info.value)
    with pytest.raises(ValueError, match="basis"):
        run_oracle_batch(["O"], oracle="dft", basis=basis, progress=False)


@pytest.mark.parametrize("basis", ["6-31G*", "def2-SVP", "sto-3g", "cc-pvdz"])
def test_known_basis_names_are_accepted_in_any_case(basis):
    from mi_workbench.molecules.oracles import _check_dft_options

    assert _check_dft_options("B3LYP", basis) == ("b3lyp", basis.strip())


def test_oracle_options_that_the_oracle_does_not_take_are_a_type_error():
    def oracle(smiles, basis="sto-3g"):
        return _record(smiles)

    with pytest.raises(TypeError, match="functional"):
        run_oracle_batch(["C"], oracle=oracle, functional="pbe0", progress=False)
