"""The extrapolative design loop: regions, acquisition, reaching a region beyond the data, resume.

The loop tests use a cheap deterministic stand-in for the experiment (RDKit's heavy-atom count
and Crippen logP) so that several rounds run in seconds; one short round uses the real GFN2-xTB
oracle to show the wiring.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mi_workbench.molecules.spacier import (
    ExtrapolativeDesign,
    check_target_region,
    extrapolative_acquisition,
    region_distance,
    temporary_region,
)
from mi_workbench.plots.extrapolation import (
    best_distance_by_round,
    region_path_plane,
    region_path_rounds,
)

UNITS = {"heavy_atoms": "", "logp": ""}
# small molecules (at most 6 heavy atoms): the loop has to leave this range
INITIAL = [
    "C", "CC", "CO", "CCO", "CCN", "CC(C)O", "OCCO", "CCCC", "NCCO", "CC(N)=O", "C1CC1",
    "CCOC", "CC=O", "OC(=O)CO", "c1ccoc1", "CCCCO", "NC(=O)N", "CC(C)N",
]  # fmt: skip
FINAL = {"heavy_atoms": (13, 16), "logp": (3.0, None)}


def descriptor_oracle(smiles: str) -> dict:
    """Deterministic stand-in for an experiment: heavy-atom count and Crippen logP."""
    from rdkit import Chem
    from rdkit.Chem import Crippen

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return {"ok": False, "reason": "invalid SMILES"}
    return {
        "ok": True,
        "reason": "",
        "heavy_atoms": float(mol.GetNumHeavyAtoms()),
        "logp": float(Crippen.MolLogP(mol)),
    }


def _design(path, **options):
    settings = {
        "initial_smiles": INITIAL,
        "oracle": descriptor_oracle,
        "units": UNITS,
        "journal_path": path,
        "batch_size": 4,
        "n_particles": 24,
        "n_steps": 4,
        "random_seed": 3,
        "progress": False,
    }
    settings.update(options)
    return ExtrapolativeDesign(FINAL, **settings)


# ---------------------------------------------------------------------------------------------
# regions and acquisition
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("region", "error", "match"),
    [
        ({"gap": (1.0, 2.0)}, ValueError, "unknown property 'gap'"),
        ({}, ValueError, "is empty"),
        ({"homo_lumo_gap": (5.0, 2.0)}, ValueError, "inverted"),
        ({"homo_lumo_gap": (3.0, 3.0)}, ValueError, "empty: low == high"),
        ({"homo_lumo_gap": (None, None)}, ValueError, "open on both sides"),
        ({"homo_lumo_gap": (-math.inf, math.inf)}, ValueError, "open on both sides"),
        ({"homo_lumo_gap": (math.nan, 3.0)}, ValueError, "NaN"),
        ({"homo_lumo_gap": (1.0, 2.0, 3.0)}, ValueError, "pair"),
        ({"homo_lumo_gap": "high"}, TypeError, "pair"),
        ([("homo_lumo_gap", (1, 2))], TypeError, "mapping"),
    ],
)
def test_bad_regions_raise_clear_errors(region, error, match):
    with pytest.raises(error, match=match):
        check_target_region(region)


def test_loop_rejects_bad_regions_and_arguments(tmp_path):
    path = tmp_path / "design.jsonl"
    with pytest.raises(ValueError, match="inverted"):
        ExtrapolativeDesign(
            {"heavy_atoms": (20, 10)},
            initial_smiles=INITIAL,
            oracle=descriptor_oracle,
            units=UNITS,
            journal_path=path,
        )
    with pytest.raises(ValueError, match="unknown property 'dipole_moment'"):
        ExtrapolativeDesign({"dipole_moment": (5, None)}, initial_smiles=INITIAL, journal_path=path)
    with pytest.raises(ValueError, match=r"initial_smiles\[1\] = 'C1CC' is not a valid SMILES"):
        _design(path, initial_smiles=["CC", "C1CC"])
    with pytest.raises(ValueError, match="step_fraction must be in"):
        _design(path, step_fraction=1.5)
    with pytest.raises(ValueError, match="has 2 rows but initial_smiles has 18"):
        _design(path, initial_properties={"heavy_atoms": [1, 2], "logp": [0, 1]})
    assert not path.exists()  # nothing is written for a configuration that was refused


def test_temporary_region_steps_towards_the_final_region():
    final = check_target_region({"homo_lumo_gap": (10.0, 12.0), "dipole": (None, 1.0)})
    step = temporary_region(final, {"homo_lumo_gap": 6.0, "dipole": 3.0}, 0.5)
    assert step == {"homo_lumo_gap": (8.0, 9.0), "dipole": (-math.inf, 2.0)}
    # a property already inside keeps the final interval; f = 1 jumps to the final region
    inside = temporary_region(final, {"homo_lumo_gap": 11.0, "dipole": 3.0}, 0.5)
    assert inside["homo_lumo_gap"] == (10.0, 12.0)
    assert temporary_region(final, {"homo_lumo_gap": 6.0, "dipole": 3.0}, 1.0) == final
    distance = region_distance(
        {"homo_lumo_gap": [6.0, 11.0], "dipole": [3.0, 0.0]}, final, {"homo_lumo_gap": 2.0,
                                                                      "dipole": 1.0}
    )  # fmt: skip
    np.testing.assert_allclose(distance, [math.hypot(2.0, 2.0), 0.0])


def test_acquisition_balances_region_uncertainty_and_final_distance():
    scales = {"dipole": 1.0}
    temp, final = {"dipole": (4.0, 6.0)}, {"dipole": (8.0, None)}
    mean = {"dipole": np.array([5.0, 5.0, 7.0, 2.0])}
    sd = {"dipole": np.array([0.5, 2.0, 0.5, 0.5])}
    terms = extrapolative_acquisition(
        mean, sd, temp, final, scales, uncertainty_weight=0.0, final_weight=0.0
    )
    np.testing.assert_allclose(terms["probability_in_temporary"][0], 0.9545, atol=1e-4)
    np.testing.assert_allclose(terms["distance_to_final"], [3.0, 3.0, 1.0, 6.0])
    # uncertainty makes the second (same mean, wider) candidate win
    terms = extrapolative_acquisition(mean, sd, temp, final, scales, uncertainty_weight=1.0,
                                      final_weight=0.0)  # fmt: skip
    assert np.argmax(terms["score"]) == 1
    # the final-distance term prefers the candidate that goes further
    terms = extrapolative_acquisition(mean, sd, temp, final, scales, uncertainty_weight=0.0,
                                      final_weight=1.0)  # fmt: skip
    assert np.argmax(terms["score"]) == 2


def _lecture_by_brute_force(f, sigma, low, high, lam):
    """max over Y* of -||Y* - f||^2 - sigma - lam * inf_{Y in U} ||Y* - Y||^2, numerically."""
    from scipy.optimize import minimize

    def loss(y_star):
        gap = np.maximum(np.maximum(low - y_star, y_star - high), 0.0)
        return np.sum((y_star - f) ** 2) + lam * np.sum(gap**2)

    starts = [f, np.clip(f, low, high), 0.5 * (f + np.clip(f, low, high))]
    best = min(minimize(loss, x0, method="Nelder-Mead", options={"xatol": 1e-10,
               "fatol": 1e-12, "maxiter": 4000}).fun for x0 in starts)  # fmt: skip
    return -best - sigma


def test_lecture_rule_is_the_lecture_formula_maximised_over_the_target():
    rng = np.random.default_rng(5)
    scales = {"gap": 2.0, "dipole": 0.5}
    temporary = {"gap": (4.0, 6.0), "dipole": (1.0, None)}
    final = {"gap": (8.0, 9.0), "dipole": (2.0, None)}
    mean = {"gap": rng.uniform(0.0, 10.0, 12), "dipole": rng.uniform(-1.0, 3.0, 12)}
    sd = {"gap": rng.uniform(0.1, 2.0, 12), "dipole": rng.uniform(0.05, 0.5, 12)}
    # standardised coordinates: the lecture's norm is in units of the property scales
    f = np.column_stack([mean["gap"] / 2.0, mean["dipole"] / 0.5])
    low, high = np.array([2.0, 2.0]), np.array([3.0, np.inf])
    sigma = np.sqrt((sd["gap"] / 2.0) ** 2 + (sd["dipole"] / 0.5) ** 2)
    for lam in (0.5, 1.0, 4.0):
        terms = extrapolative_acquisition(
            mean, sd, temporary, final, scales, rule="lecture", target_weight=lam
        )
        expected = [_lecture_by_brute_force(f[i], sigma[i], low, high, lam) for i in range(12)]
        np.testing.assert_allclose(terms["score"], expected, atol=1e-6)
        np.testing.assert_allclose(terms["uncertainty"], sigma)
    inside = terms["distance_to_temporary"] == 0.0
    assert inside.any() and (~inside).any()
    np.testing.assert_allclose(terms["score"][inside], -sigma[inside])


def test_the_two_rules_treat_uncertainty_in_opposite_ways():
    scales = {"dipole": 1.0}
    temp, final = {"dipole": (4.0, 6.0)}, {"dipole": (8.0, None)}
    mean = {"dipole": np.array([5.0, 5.0])}
    sd = {"dipole": np.array([0.5, 2.0])}
    lecture = extrapolative_acquisition(mean, sd, temp, final, scales, rule="lecture")
    assert np.argmax(lecture["score"]) == 0  # the lecture penalises uncertainty
    probability = extrapolative_acquisition(mean, sd, temp, final, scales, uncertainty_weight=1.0)
    assert np.argmax(probability["score"]) == 1  # the default rule rewards it
    with pytest.raises(ValueError, match="rule must be one of"):
        extrapolative_acquisition(mean, sd, temp, final, scales, rule="spacier")
    with pytest.raises(ValueError, match="target_weight must be >= 0"):
        extrapolative_acquisition(mean, sd, temp, final, scales, target_weight=-1.0)


# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------
def test_the_rule_is_journalled_and_old_journals_reopen_with_theirs(tmp_path):
    from mi_workbench.design._journal import decode_line, encode_record

    path = tmp_path / "lecture.jsonl"
    design = _design(path, rule="lecture", target_weight=2.0, random_seed=None)
    design.run(1)
    rounds = design._rounds
    assert rounds and len(rounds[-1]["batch"]) == 4
    design.close()
    reopened = ExtrapolativeDesign.open(path, oracle=descriptor_oracle, progress=False)
    assert reopened.settings["rule"] == "lecture" and reopened.settings["target_weight"] == 2.0
    reopened.close()
    # a journal written before the rule could be chosen: its header has neither key
    old = tmp_path / "old.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    header = decode_line(lines[0])
    assert isinstance(header["random_seed"], int)  # None: a fresh seed, journalled
    for key in ("rule", "target_weight"):
        del header["settings"][key]
    old.write_bytes(encode_record(header) + b"".join(lines[1:]))
    reopened = ExtrapolativeDesign.open(old, oracle=descriptor_oracle, progress=False)
    assert reopened.settings["rule"] == "probability"
    reopened.close()
    with pytest.raises(ValueError, match="rule must be one of"):
        _design(tmp_path / "bad.jsonl", rule="spacier")


def test_loop_reaches_a_region_beyond_the_initial_data(tmp_path):
    path = tmp_path / "design.jsonl"
    design = _design(path)
    history = design.run(4)
    table = design.measurements()
    initial = table[table["round"] == 0]
    assert initial["heavy_atoms"].max() <= 6 < FINAL["heavy_atoms"][0]
    best = history["best_distance"].values
    assert best[0] > 2.0  # the final region is far outside the initial data
    assert best[-1] == 0.0, best  # ... and reached within four rounds
    assert np.all(np.diff(best) <= 0)
    assert int(history["n_in_final_region"][-1]) >= 1
    # every round measured a full batch of new molecules; none twice
    assert list(history["n_oracle_calls"].values) == [18, 22, 26, 30, 34]
    assert table["smiles"].is_unique
    # the temporary region of round 1 lies between the data and the final region
    low1 = float(history["temporary_low"].sel(round=1, property="heavy_atoms"))
    assert initial["heavy_atoms"].max() < low1 < FINAL["heavy_atoms"][0]
    # the journal holds the header, 4 plans and 34 measurements
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 4 + 34
    assert json.loads(lines[0])["record"]["format"] == "mi-workbench-extrapolative-design"
    # figures
    fig = region_path_plane(history, table, "heavy_atoms", "logp")
    names = [trace.name for trace in fig.data]
    assert names[0] == "initial data" and "round 4" in names and names[-1] == "final region"
    assert len(region_path_rounds(history, table, "heavy_atoms").data[0].y) == len(table)
    np.testing.assert_array_equal(best_distance_by_round(history).data[0].y, best)
    with pytest.raises(ValueError, match="must be one of the design's properties"):
        region_path_rounds(history, table, "dipole")
    design.close()


def test_resume_after_a_crash_measures_nothing_twice(tmp_path):
    reference = _design(tmp_path / "reference.jsonl", initial_properties=None)
    reference.run(2)
    expected = reference.measurements()
    reference.close()

    calls = []

    def crashing_oracle(smiles):
        calls.append(smiles)
        if len(calls) == len(INITIAL) + 6:  # the 2nd molecule of round 2: the "power cut"
            raise KeyboardInterrupt
        return descriptor_oracle(smiles)

    path = tmp_path / "crash.jsonl"
    design = _design(path, initial_properties=None, oracle=crashing_oracle)
    with pytest.raises(KeyboardInterrupt):
        design.run(2)
    design.close()  # what the end of the process would do
    with open(path, "ab") as handle:  # and a torn last line, as a crash while writing leaves
        handle.write(b'{"crc32":"0000')
    with pytest.warns(RuntimeWarning, match="last line was incomplete"):
        resumed = ExtrapolativeDesign.open(path, oracle=descriptor_oracle, progress=False)
    assert resumed.rounds_completed == 1
    resumed.run(1)  # finishes the interrupted round 2
    table = resumed.measurements()
    assert table["smiles"].is_unique
    assert len(table) == len(INITIAL) + 8
    # same molecules, same values as the run that was never interrupted
    assert list(table["smiles"]) == list(expected["smiles"])
    np.testing.assert_allclose(table["logp"], expected["logp"])
    # a file that exists is never overwritten
    with pytest.raises(FileExistsError, match=r"ExtrapolativeDesign.open"):
        _design(path)
    resumed.close()
    with pytest.raises(ValueError, match="custom oracle"):
        ExtrapolativeDesign.open(path)


def test_oracle_failures_are_recorded_and_the_loop_goes_on(tmp_path):
    def picky_oracle(smiles):
        if "N" in smiles or "n" in smiles:
            raise RuntimeError("nitrogen is not allowed in this lab")
        if "O" in smiles:
            return {"ok": False, "reason": "SCF did not converge"}
        return descriptor_oracle(smiles)

    initial = {"heavy_atoms": [], "logp": []}
    for smiles in INITIAL:
        record = descriptor_oracle(smiles)
        initial["heavy_atoms"].append(record["heavy_atoms"])
        initial["logp"].append(record["logp"])
    design = _design(tmp_path / "fail.jsonl", oracle=picky_oracle, initial_properties=initial)
    history = design.run(2)
    rounds = design.measurements().query("round > 0")
    failed = rounds[~rounds["ok"]]
    assert len(rounds) == 8 and len(failed) >= 1
    assert all(
        reason.startswith(("RuntimeError: nitrogen", "SCF did not")) for reason in failed["reason"]
    )
    assert np.isnan(failed["logp"]).all()
    assert (history["reason"].values[history["ok"].values] == "").all()
    assert int(history["n_oracle_calls"][-1]) == 8  # given initial values are no oracle calls
    design.close()


def test_one_round_with_the_real_xtb_oracle(tmp_path):
    pytest.importorskip("tblite")
    from mi_workbench.data import load_molecules_xtb_dft

    ds = load_molecules_xtb_dft("xtb")
    small = ds.isel(molecule=np.flatnonzero(ds["n_heavy_atoms"].values <= 8)[:40])
    gaps = small["xtb_homo_lumo_gap_ev"].values
    design = ExtrapolativeDesign(
        {"homo_lumo_gap": (float(gaps.max()) + 1.0, None)},
        initial_smiles=list(small["smiles"].values),
        initial_properties={"homo_lumo_gap": gaps},
        journal_path=tmp_path / "xtb.jsonl",
        batch_size=3,
        n_particles=16,
        n_steps=3,
        random_seed=0,
        progress=False,
    )
    history = design.run(1)
    assert int(history["n_oracle_calls"][-1]) == 3
    measured = design.measurements().query("round == 1")
    assert len(measured) == 3
    for _, row in measured.iterrows():
        assert (row["ok"] and math.isfinite(row["homo_lumo_gap"])) or row["reason"]
    assert history.attrs["oracle"] == "xtb"
    design.close()
