"""UCT tree search: lattice site assignments (MDTS) and SMILES tokens (ChemTS)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mi_workbench.data import interface_lattice_table
from mi_workbench.molecules.tree_search import (
    LatticeTreeSearch,
    SmilesTreeSearch,
    _Node,
    _uct_scores,
    gap_target_reward,
    penalized_logp,
    random_lattice_search,
    sample_rollouts,
    uct_search,
)

MDTS_TABLE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "reference"
    / "mdts_sige_interface_db16.csv"
)


@pytest.fixture(scope="module")
def toy_table():
    table = interface_lattice_table(12)
    return dict(zip(table["structure"], table["value"], strict=True)), table


def test_lattice_search_finds_the_unique_best_of_a_known_table():
    table = interface_lattice_table(16)
    values = dict(zip(table["structure"], table["value"], strict=True))
    best = table.loc[table["value"].idxmax(), "structure"]
    assert (table["value"] == table["value"].max()).sum() == 1
    found = 0
    for seed in range(10):
        result = LatticeTreeSearch(
            16, values.__getitem__, n_of_each={"0": 8, "1": 8}, random_seed=seed
        ).run(500, progress=False)
        found += best in set(result["structure"].values.tolist())
        assert result["best_so_far"].values[-1] <= table["value"].max()
    # 500 of 12,870 structures: random search finds a given one with probability 0.039, so
    # 4 or more hits in 10 seeds would happen by chance with probability < 1e-4
    assert found >= 4


def test_no_structure_is_evaluated_twice_and_composition_holds(toy_table):
    values, table = toy_table
    calls = []

    def objective(structure):
        calls.append(structure)
        return values[structure]

    result = LatticeTreeSearch(12, objective, n_of_each={"0": 6, "1": 6}, random_seed=3).run(
        len(table), progress=False
    )
    structures = result["structure"].values.tolist()
    assert calls == structures
    assert len(set(structures)) == len(structures) == len(table)  # the whole space, once each
    assert all(s.count("0") == 6 and len(s) == 12 for s in structures)
    assert np.isclose(result["best_so_far"].values[-1], table["value"].max())
    assert np.all(np.diff(result["best_so_far"].values) >= 0)


def test_minimisation_array_input_site_order_and_unconstrained_species():
    def ones(sites):
        assert isinstance(sites, np.ndarray)
        return float(sites.sum())

    result = uct_search(
        ones,
        8,
        60,
        species=[0, 1, 2],
        maximize=False,
        objective_input="array",
        site_order=list(range(8))[::-1],
        random_seed=0,
    )
    assert result["best_so_far"].values[-1] == result["value"].min()
    assert np.all(np.diff(result["best_so_far"].values) <= 0)
    assert len(set(result["structure"].values.tolist())) == 60
    assert set("".join(result["structure"].values.tolist())) <= {"0", "1", "2"}


def test_mean_backup_and_several_rollouts_per_expansion_run(toy_table):
    values, _ = toy_table
    result = LatticeTreeSearch(
        12,
        values.__getitem__,
        n_of_each={"0": 6, "1": 6},
        backup="mean",
        n_rollouts=3,
        random_seed=0,
    ).run(50, progress=False)
    assert result.sizes["evaluation"] == 50
    assert result.attrs["backup"] == "mean"


def test_random_lattice_search_draws_distinct_structures(toy_table):
    values, _ = toy_table
    result = random_lattice_search(
        values.__getitem__, 12, 100, n_of_each={"0": 6, "1": 6}, random_seed=0
    )
    assert len(set(result["structure"].values.tolist())) == 100


def _node_with(values, label=None):
    node = _Node(label, 0)
    for value in values:
        node.update(value)
    return node


def test_uct_score_node_range_scales_the_exploration_bonus():
    children = [_node_with([1.0, 3.0], "a"), _node_with([2.0], "b")]  # q_mean 2.0 and 2.0
    low, high, c = 0.0, 10.0, 0.5  # global range of all values seen: 10
    for parent_values, parent_range in [([1.0, 3.0, 2.0], 2.0), ([0.0, 5.0, 1.0, 3.0, 2.0], 5.0)]:
        parent = _node_with(parent_values)
        root_n = math.sqrt(2.0 * math.log(parent.visits))
        q = np.array([(2.0 - low) / 10.0, (2.0 - low) / 10.0])
        bonus = root_n / np.sqrt([2.0, 1.0])
        global_scores = _uct_scores(parent, children, "mean", c, low, high, "global")
        np.testing.assert_allclose(global_scores, q + c * bonus)
        node_scores = _uct_scores(parent, children, "mean", c, low, high, "node")
        np.testing.assert_allclose(node_scores, q + c * (parent_range / 10.0) * bonus)
        # MDTS's own score, mean + c * (max - min below the parent) * sqrt(2 ln N / n), in raw
        # units, is the same up to the affine map (score - low) / span: the same ranking
        mdts = 2.0 + c * parent_range * bonus
        np.testing.assert_allclose(node_scores, (mdts - low) / 10.0)
    # nothing but one value below the parent: no bonus, pure exploitation
    flat = _node_with([2.0, 2.0, 2.0])
    np.testing.assert_allclose(
        _uct_scores(flat, children, "mean", c, low, high, "node"), [0.2, 0.2]
    )


def test_mdts_preset_sets_mean_backup_node_range_and_mdts_constant(toy_table):
    values, table = toy_table
    search = LatticeTreeSearch(12, values.__getitem__, n_of_each={"0": 6, "1": 6}, preset="mdts")
    assert (search.backup, search.exploration_range) == ("mean", "node")
    assert search.exploration == pytest.approx(math.sqrt(2.0) / 4.0)
    tuned = LatticeTreeSearch(12, len, preset="mdts", exploration=1.0, backup="max")
    assert (tuned.exploration, tuned.backup, tuned.exploration_range) == (1.0, "max", "node")
    plain = LatticeTreeSearch(12, len)
    assert (plain.exploration, plain.backup, plain.exploration_range) == (0.5, "max", "global")


def test_mdts_preset_runs_and_its_range_reaches_the_selection(toy_table):
    values, table = toy_table
    options = {"n_of_each": {"0": 6, "1": 6}, "random_seed": 4}
    mdts = LatticeTreeSearch(12, values.__getitem__, preset="mdts", **options).run(
        len(table), progress=False
    )
    structures = mdts["structure"].values.tolist()
    assert len(set(structures)) == len(table)  # the whole space once: nothing evaluated twice
    assert np.isclose(mdts["best_so_far"].values[-1], table["value"].max())
    assert mdts.attrs["preset"] == "mdts" and mdts.attrs["exploration_range"] == "node"
    same_but_global = LatticeTreeSearch(
        12, values.__getitem__, preset="mdts", exploration_range="global", **options
    ).run(200, progress=False)
    assert structures[:200] != same_but_global["structure"].values.tolist()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"preset": "uct"}, ValueError, "preset must be one of \\['mdts'\\]"),
        ({"exploration_range": "local"}, ValueError, "exploration_range must be one of"),
        ({"preset": "mdts", "exploration": -0.1}, ValueError, "exploration must be >= 0"),
        ({"n_of_each": {"0": 3, "1": 4}}, ValueError, "add up to 7"),
        ({"n_of_each": {"0": 4, "1": 4}, "species": ["0", "1"]}, ValueError, "not both"),
        ({"species": ["0"]}, ValueError, "at least two"),
        ({"species": ["ab", "c"]}, ValueError, "single characters"),
        ({"backup": "median"}, ValueError, "backup must be one of"),
        ({"exploration": -1.0}, ValueError, "exploration must be >= 0"),
        ({"site_order": [0, 0, 1, 2, 3, 4, 5, 6]}, ValueError, "permutation"),
        ({"random_seed": "x"}, TypeError, "random_seed"),
    ],
)
def test_lattice_search_rejects_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        LatticeTreeSearch(8, len, **kwargs)


def test_lattice_search_rejects_bad_budget_and_objective():
    with pytest.raises(TypeError, match="objective must be a callable"):
        LatticeTreeSearch(8, 3.0)
    search = LatticeTreeSearch(4, lambda s: 1.0, n_of_each={"0": 2, "1": 2})
    with pytest.raises(ValueError, match="at most the number of distinct structures 6"):
        search.run(7, progress=False)
    with pytest.raises(ValueError, match="objective value must be a finite number"):
        LatticeTreeSearch(4, lambda s: math.nan).run(2, progress=False)


@pytest.mark.skipif(not MDTS_TABLE.exists(), reason=f"reference data not found at {MDTS_TABLE}")
def test_mdts_sige_best_found_within_500_evaluations_for_most_seeds():
    table = pd.read_csv(MDTS_TABLE, dtype={"structure": str})
    values = dict(zip(table["structure"], table["thermal_conductance"], strict=True))
    best = table["thermal_conductance"].max()
    hits = 0
    for seed in range(10):
        result = LatticeTreeSearch(
            16, values.__getitem__, n_of_each={"0": 8, "1": 8}, random_seed=seed
        ).run(500, progress=False)
        hits += result["best_so_far"].values[-1] >= best - 1e-5
    assert hits >= 5  # random search: 27% (8 equivalent best structures within 2e-6)


# -- SMILES tree search ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def language_model():
    language = pytest.importorskip("mi_workbench.molecules.language")
    return language.default_language_model()


def test_smiles_search_returns_valid_molecules_and_beats_plain_rollouts(language_model):
    from mi_workbench.molecules.language import canonical_smiles

    tree, plain = [], []
    for seed in range(2):
        result = SmilesTreeSearch(
            language_model, penalized_logp, invalid_reward=-10.0, random_seed=seed
        ).run(250, progress=False)
        baseline = sample_rollouts(
            language_model, penalized_logp, 250, invalid_reward=-10.0, random_seed=seed
        )
        valid = result["smiles"].values[result["valid"].values]
        assert result.attrs["validity"] > 0.8
        assert all(canonical_smiles(s) == s for s in valid[:50])
        tree.append(result["reward"].values[-100:].mean())
        plain.append(baseline["reward"].values[-100:].mean())
    assert np.mean(tree) > np.mean(plain) + 1.0


def test_smiles_search_counts_invalid_rollouts_and_caches_rewards(language_model):
    calls = []

    def reward(smiles):
        calls.append(smiles)
        return None if "N" in smiles else 1.0  # "could not evaluate" for nitrogen compounds

    result = SmilesTreeSearch(language_model, reward, invalid_reward=-1.0, random_seed=0).run(
        80, progress=False
    )
    assert len(calls) == len(set(calls)) == result.attrs["n_reward_calls"]
    nitrogen = np.array(["N" in s for s in result["smiles"].values])
    assert np.all(result["reward"].values[nitrogen] == -1.0)
    assert np.all(result["reward"].values[~result["valid"].values] == -1.0)


def test_smiles_search_rejects_bad_input(language_model):
    with pytest.raises(TypeError, match="language_model must be a fitted NGramLanguageModel"):
        SmilesTreeSearch(object(), len)
    with pytest.raises(TypeError, match="reward must be a callable"):
        SmilesTreeSearch(language_model, 1.0)
    with pytest.raises(ValueError, match="widening must lie in"):
        SmilesTreeSearch(language_model, len, widening=0.0)
    with pytest.raises(ValueError, match="n_rollouts must be >= 1"):
        SmilesTreeSearch(language_model, len).run(0)


def test_rewards():
    assert penalized_logp("not a smiles") is None
    assert penalized_logp("CCCCCCCC") > penalized_logp("OCC(O)C(O)CO")
    reward = gap_target_reward(5.0, width_ev=1.0, oracle=lambda s: {"ok": True, "homo_lumo_gap": 6})
    assert reward("CC") == pytest.approx(math.exp(-1.0))
    failed = gap_target_reward(5.0, oracle=lambda s: {"ok": False, "reason": "no"})
    assert failed("CC") is None
    with pytest.raises(ValueError, match="width_ev must be > 0"):
        gap_target_reward(5.0, width_ev=0.0)


# -- penalised logP: unnormalised and ChemTS's standardised reward ------------------------------

# The first three molecules of ZINC 250k with their Crippen logP and negated SA score as stored
# in ChemTS's baseline files (mcts_logp_improved_version/logP_values.txt, SA_scores.txt); their
# largest rings have at most 6 atoms (cycle score 0 in cycle_scores.txt).
CHEMTS_ZINC_HEAD = [
    ("CC(C)(C)c1ccc2occ(CC(=O)Nc3ccccc3F)c2c1", 5.050600000000003753, -2.084094572072681117),
    ("C[C@@H]1CC(Nc2cncc(-c3nncn3C)c2)C[C@@H](C)C1", 3.113700000000001467, -3.432003819274779488),
    (
        "N#Cc1ccc(-c2ccc(O[C@@H](C(=O)N3CCCC3)c3ccccc3)cc2)cc1",
        4.967780000000003859,
        -2.470632607825200111,
    ),
]
# np.mean / np.std of those files (10,000 molecules each)
CHEMTS_STATS = {
    "logp": (2.4713477640000012, 1.4449891243959943),
    "sa": (-3.050930517295006, 0.8381024508503763),
    "cycle": (-0.0504, 0.2902754553867757),
}


def _chemts_j(logp, minus_sa, minus_ring):
    terms = zip((logp, minus_sa, minus_ring), CHEMTS_STATS.values(), strict=True)
    return sum((value - mean) / sd for value, (mean, sd) in terms)


@pytest.mark.parametrize(("smiles", "logp", "minus_sa"), CHEMTS_ZINC_HEAD)
def test_penalized_logp_reproduces_chemts_terms_on_zinc_molecules(smiles, logp, minus_sa):
    assert penalized_logp(smiles) == pytest.approx(logp + minus_sa, abs=1e-9)
    j = _chemts_j(logp, minus_sa, 0.0)
    assert penalized_logp(smiles, normalized=True, squash=False) == pytest.approx(j, abs=1e-9)
    squashed = 0.8 * j / (1.0 + abs(0.8 * j))
    assert penalized_logp(smiles, normalized=True) == pytest.approx(squashed, abs=1e-9)


def test_penalized_logp_ring_penalty_and_squashing_by_hand():
    from rdkit import Chem
    from rdkit.Chem import Crippen

    from mi_workbench.molecules.tree_search import _sa_score

    for smiles, ring_penalty in [("C1CCCCCCCCCCC1", 6), ("C1CCCCCCC1", 2), ("c1ccccc1O", 0)]:
        mol = Chem.MolFromSmiles(smiles)
        logp, sa = Crippen.MolLogP(mol), _sa_score(mol)
        assert penalized_logp(smiles) == pytest.approx(logp - sa - ring_penalty, abs=1e-12)
        j = _chemts_j(logp, -sa, -ring_penalty)
        assert penalized_logp(smiles, normalized=True, squash=False) == pytest.approx(j)
        squashed = penalized_logp(smiles, normalized=True)
        assert -1.0 < squashed < 1.0
        assert np.sign(squashed) == np.sign(j)
    # the squash is monotone: order is kept
    smiles = ["C1CCCCCCCCCCC1", "OCC(O)C(O)CO", "CCCCCCCC", "c1ccc2ccccc2c1"]
    raw = [penalized_logp(s, normalized=True, squash=False) for s in smiles]
    squashed = [penalized_logp(s, normalized=True) for s in smiles]
    assert np.argsort(raw).tolist() == np.argsort(squashed).tolist()
    assert penalized_logp("not a smiles", normalized=True) is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"normalized": "yes"}, TypeError, "normalized must be True or False"),
        ({"normalized": 1}, TypeError, "normalized must be True or False"),
        ({"normalized": True, "squash": 0.8}, TypeError, "squash must be True or False"),
        ({"squash": True}, ValueError, "squash=True needs normalized=True"),
    ],
)
def test_penalized_logp_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        penalized_logp("CCO", **kwargs)


def test_penalized_logp_rejects_a_non_string():
    with pytest.raises(TypeError, match="smiles must be a SMILES string"):
        penalized_logp(3)
