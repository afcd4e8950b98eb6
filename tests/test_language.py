"""Tests of the SMILES tokenizer, the n-gram chemical language model and iQSPR's proposal move."""

import numpy as np
import pytest

pytest.importorskip("rdkit")

from mi_workbench.molecules.language import (  # noqa: E402
    NGramLanguageModel,
    canonical_smiles,
    check_smiles,
    default_language_model,
    join_tokens,
    load_smiles_corpus,
    tokenize_smiles,
)
from mi_workbench.molecules.oracles import SUPPORTED_ELEMENTS  # noqa: E402


@pytest.fixture(scope="module")
def corpus():
    return load_smiles_corpus()


@pytest.fixture(scope="module")
def model():
    return default_language_model()


@pytest.mark.parametrize(
    ("smiles", "tokens"),
    [
        ("Clc1ccccc1Br", ["Cl", "c", "1", "c", "c", "c", "c", "c", "1", "Br"]),
        ("[nH]1cccc1", ["[nH]", "1", "c", "c", "c", "c", "1"]),
        ("C%10CC%10", ["C", "%10", "C", "C", "%10"]),
        ("[N+](=O)[O-]", ["[N+]", "(", "=", "O", ")", "[O-]"]),
        ("C[C@@H](N)C(=O)O", ["C", "[C@@H]", "(", "N", ")", "C", "(", "=", "O", ")", "O"]),
        ("F/C=C\\F", ["F", "/", "C", "=", "C", "\\", "F"]),
        ("C#N.O", ["C", "#", "N", ".", "O"]),
    ],
)
def test_tokenizer_examples(smiles, tokens):
    assert tokenize_smiles(smiles) == tokens
    assert join_tokens(tokens) == smiles


def test_round_trip_on_the_whole_corpus(corpus):
    assert len(corpus) > 3000
    for smiles in corpus:
        assert join_tokens(tokenize_smiles(smiles)) == smiles


def test_corpus_is_clean(corpus):
    from rdkit import Chem

    assert len(set(corpus)) == len(corpus)
    for smiles in corpus[::50]:
        mol = Chem.MolFromSmiles(smiles)
        assert Chem.MolToSmiles(mol) == smiles
        assert "." not in smiles
        assert Chem.GetFormalCharge(mol) == 0
        assert {atom.GetSymbol() for atom in mol.GetAtoms()} <= set(SUPPORTED_ELEMENTS)
    small = load_smiles_corpus(max_heavy_atoms=10)
    assert 0 < len(small) < len(corpus)
    assert all(Chem.MolFromSmiles(s).GetNumHeavyAtoms() <= 10 for s in small)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("CC?C", "'?' at position 2"),
        ("C[NH", "'[' at position 1"),
        ("CC%1C", "'%' at position 2"),
        ("c1ccccc1 ", "' ' at position 8"),
    ],
)
def test_unreadable_characters_are_named(text, fragment):
    with pytest.raises(ValueError, match="unexpected character") as error:
        tokenize_smiles(text)
    assert fragment in str(error.value)


def test_bad_input_types():
    with pytest.raises(TypeError, match="smiles must be a str"):
        tokenize_smiles(42)
    with pytest.raises(TypeError, match="not one string"):
        join_tokens("CCO")
    with pytest.raises(TypeError, match="not one string"):
        NGramLanguageModel(order=3).fit("CCO")
    with pytest.raises(ValueError, match="order must be >= 1"):
        NGramLanguageModel(order=0)
    with pytest.raises(ValueError, match="smoothing must be one of"):
        NGramLanguageModel(smoothing="laplace")


def test_canonical_and_check_smiles():
    assert canonical_smiles("OCC") == "CCO"
    assert canonical_smiles("c1cccc1") is None
    assert canonical_smiles("") is None
    assert check_smiles("C(O)C") == "CCO"
    with pytest.raises(ValueError, match="is not a valid SMILES"):
        check_smiles("C1CC")
    with pytest.raises(ValueError, match="is not a valid SMILES"):
        check_smiles("c1cccc1")
    with pytest.raises(ValueError, match="molecule 'C=' is not a valid SMILES"):
        check_smiles("C=", argument="molecule")
    with pytest.raises(TypeError, match="smiles must be a str"):
        check_smiles(None)


def test_fit_invalid_smiles_raises_or_skips():
    with pytest.raises(ValueError, match=r"smiles_list\[1\] = 'C1CC' is not a valid SMILES"):
        NGramLanguageModel(order=3).fit(["CCO", "C1CC", "CCN"])
    model = NGramLanguageModel(order=3).fit(["CCO", "C1CC", "CCN"], skip_invalid=True)
    assert model.n_skipped_ == 1
    with pytest.raises(TypeError, match=r"smiles_list\[0\] must be a str"):
        NGramLanguageModel(order=3).fit([None])
    with pytest.raises(RuntimeError, match="not fitted"):
        NGramLanguageModel().sample(1)


def test_log_probability_prefers_real_molecules(model, corpus):
    rng = np.random.default_rng(0)
    for smiles in corpus[:20]:
        tokens = tokenize_smiles(smiles)
        scrambled = join_tokens(rng.permutation(tokens))
        if scrambled == smiles:
            continue
        assert model.log_probability(smiles) > model.log_probability(scrambled)
    assert model.log_probability("CCO") < 0
    with pytest.raises(ValueError, match="unexpected character"):
        model.log_probability("CC!")


def test_probabilities_are_normalised(model):
    for context in [(0,) * (model.order - 1), tuple(range(model.order - 1))]:
        probability = model._distribution(context)
        assert probability.sum() == pytest.approx(1.0)
        assert (probability >= 0).all()


def test_sample_gives_valid_varied_reproducible_molecules(model, corpus):
    molecules = model.sample(200, random_seed=3)
    assert len(molecules) == 200
    assert all(canonical_smiles(m) == m for m in molecules)
    assert len(set(molecules)) > 150
    assert len(set(molecules) - set(corpus)) > 50  # the model writes new molecules too
    assert model.sample(20, random_seed=3) == molecules[:20]
    assert model.sample(20, random_seed=4) != molecules[:20]


def test_sample_respects_the_size_limit(corpus):
    from rdkit import Chem

    small = NGramLanguageModel(order=6, max_heavy_atoms=12).fit(corpus[:500])
    for smiles in small.sample(100, random_seed=0):
        assert Chem.MolFromSmiles(smiles).GetNumHeavyAtoms() <= 12


def test_extend_completes_a_prefix(model):
    rng = np.random.default_rng(1)
    tokens = model.extend(["c", "1", "c", "c"], rng)
    assert tokens[:4] == ["c", "1", "c", "c"]
    assert tokens.count("1") == 2  # the open ring is closed
    with pytest.raises(ValueError, match="not a SMILES prefix"):
        model.extend([")", "C"], rng)
    with pytest.raises(ValueError, match="not in the model's vocabulary"):
        model.extend(["[Fe]"], rng)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        model.extend(["C"], 0)


def test_propose_returns_a_new_valid_molecule(model):
    rng = np.random.default_rng(2)
    start = "CC(=O)Nc1ccc(O)cc1"
    proposals = [model.propose(start, rng) for _ in range(30)]
    assert all(canonical_smiles(p) == p for p in proposals)
    assert sum(p != start for p in proposals) >= 28
    assert len(set(proposals)) > 10
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    assert [model.propose(start, rng_a) for _ in range(5)] == [
        model.propose(start, rng_b) for _ in range(5)
    ]
    with pytest.raises(ValueError, match="is not a valid SMILES"):
        model.propose("C1CC", rng)
    with pytest.raises(ValueError, match="truncate_fraction must be in"):
        model.propose(start, rng, truncate_fraction=1.5)


def test_proposal_validity_reaches_the_target(model):
    corpus = load_smiles_corpus(max_heavy_atoms=30)
    single = model.proposal_validity(corpus, n=300, random_seed=0)
    assert single >= 0.9
    chains = model.proposal_validity(corpus, n=10, random_seed=1, chain_length=20)
    assert chains >= 0.85
