"""Metrics of generated molecule sets and structural alerts, against hand counts and against
RDKit's own Tanimoto similarity computed pair by pair."""

import itertools

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from mi_workbench.molecules.dataset import read_nci_smiles
from mi_workbench.molecules.metrics import (
    generation_metrics,
    internal_diversity,
    scaffold_counts,
    structural_alerts,
)


def _rdkit_pair_similarity(smiles, radius=2, n_bits=2048):
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    fps = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]
    pairs = [DataStructs.TanimotoSimilarity(a, b) for a, b in itertools.combinations(fps, 2)]
    return float(np.mean(pairs))


def test_counts_follow_the_moses_definitions():
    generated = ["CCO", "OCC", "C(O)C", "c1ccccc1", "c1ccncc1", "C1CC", "not a molecule"]
    metrics = generation_metrics(generated, training=["CCO", "CCCC"])
    assert metrics["n_generated"] == 7
    assert metrics["n_valid"] == 5  # three spellings of ethanol, benzene, pyridine
    assert metrics["validity"] == pytest.approx(5 / 7)
    assert metrics["n_unique"] == 3
    assert metrics["uniqueness"] == pytest.approx(3 / 5)
    assert metrics["novelty"] == pytest.approx(2 / 3)  # ethanol is in the corpus
    assert metrics["n_scaffolds"] == 3  # benzene, pyridine and the empty scaffold of ethanol
    assert "novelty" not in generation_metrics(generated)


def test_internal_diversity_is_one_minus_rdkit_tanimoto_over_distinct_pairs():
    molecules = ["CCO", "CCCO", "c1ccccc1O", "c1ccccc1N", "CC(=O)Nc1ccc(O)cc1"]
    expected = 1.0 - _rdkit_pair_similarity(molecules)
    assert internal_diversity(molecules) == pytest.approx(expected, rel=1e-12)
    # duplicates and invalid SMILES do not change it
    assert internal_diversity(molecules + ["OCC", "C1CC"]) == pytest.approx(expected, rel=1e-12)
    assert generation_metrics(molecules)["internal_diversity"] == pytest.approx(expected)


def test_internal_diversity_in_blocks_equals_the_whole_matrix():
    # more molecules than one block of the similarity matrix
    smiles = read_nci_smiles()["smiles"].head(700).tolist()
    unique = list(dict.fromkeys(filter(None, (Chem.MolFromSmiles(s) and s for s in smiles))))
    canonical = list(dict.fromkeys(Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in unique))
    assert len(canonical) > 512
    expected = 1.0 - _rdkit_pair_similarity(canonical, n_bits=1024)
    assert internal_diversity(smiles, n_bits=1024) == pytest.approx(expected, rel=1e-9)


def test_sets_without_pairs_or_valid_molecules_give_documented_zeros():
    assert internal_diversity(["CCO", "OCC"]) == 0.0
    metrics = generation_metrics(["C1CC", "(("])
    assert metrics["validity"] == 0.0
    assert metrics["uniqueness"] == 0.0
    assert metrics["internal_diversity"] == 0.0
    assert metrics["n_scaffolds"] == 0


def test_scaffolds_group_molecules_by_their_ring_systems():
    counts = scaffold_counts(["c1ccccc1O", "Nc1ccccc1", "c1ccccc1N", "CCO", "C1CCCCC1CC"])
    assert counts.to_dict() == {"c1ccccc1": 2, "": 1, "C1CCCCC1": 1}


def test_structural_alerts_flag_a_pains_rhodanine_and_not_ethanol():
    table = structural_alerts(["S=C1SC(=Cc2ccccc2)C(=O)N1", "CCO", "C1CC"])
    assert list(table.columns) == [
        "smiles",
        "valid",
        "PAINS",
        "PAINS_alerts",
        "Brenk",
        "Brenk_alerts",
    ]
    assert table["valid"].tolist() == [True, True, False]
    assert table["PAINS"].tolist() == [True, False, False]
    assert "rhod" in table.loc[0, "PAINS_alerts"]
    assert table.loc[0, "Brenk"]
    assert table.loc[1, "Brenk_alerts"] == ""


def test_a_table_with_a_smiles_column_is_accepted():
    frame = pd.DataFrame({"smiles": ["CCO", "c1ccccc1"], "count": [3, 1]})
    assert generation_metrics(frame)["n_unique"] == 2


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: generation_metrics("CCO"), TypeError, "generated must be a list"),
        (lambda: generation_metrics([]), ValueError, "generated is empty"),
        (lambda: generation_metrics(["CCO", None]), TypeError, r"generated\[1\]"),
        (lambda: generation_metrics(["CCO"], training=[1.5]), TypeError, r"training\[0\]"),
        (lambda: generation_metrics(["CCO"], n_bits=0), ValueError, "n_bits"),
        (lambda: internal_diversity(["CCO"], radius=-1), ValueError, "radius"),
        (lambda: internal_diversity(None), TypeError, "smiles"),
        (lambda: structural_alerts(["CCO"], catalogs=["pains!"]), ValueError, "catalogs"),
        (lambda: structural_alerts(["CCO"], catalogs=[]), ValueError, "catalogs"),
        (lambda: scaffold_counts(pd.DataFrame({"x": ["CCO"]})), ValueError, "'smiles' column"),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
