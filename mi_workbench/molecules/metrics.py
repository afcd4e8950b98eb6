"""Metrics of a set of generated molecules, and structural alerts.

How good is a set of molecules that a generator (iQSPR, tree search, a language model)
proposed? The standard answers, as the MOSES benchmark defines them (Polykovskiy et al., *Front.
Pharmacol.* 11, 565644, 2020):

- **validity**: the fraction of the generated SMILES that RDKit can read and sanitise;
- **uniqueness**: the fraction of the valid molecules that are distinct (canonical SMILES);
- **novelty**: the fraction of the unique molecules not in the training corpus;
- **internal diversity**: one minus the mean Tanimoto similarity of Morgan fingerprints over the
  pairs of unique molecules (0: all alike; near 1: nothing shared);
- **scaffolds**: the number of distinct Bemis-Murcko scaffolds (ring systems and linkers) among
  the unique molecules.

Structural alerts flag substructures that medicinal chemists avoid: PAINS (pan-assay
interference compounds, Baell and Holloway, *J. Med. Chem.* 53, 2719, 2010) and Brenk's
unwanted groups (*ChemMedChem* 3, 435, 2008), both from RDKit's filter catalogues.

Written on RDKit here rather than taken from MOSES or GuacaMol: neither installs on Python 3.12
with today's NumPy and pandas, and each would pull a deep-learning stack for five counts. One
difference is deliberate: MOSES averages the similarity over all ordered pairs *including each
molecule with itself*, so its internal diversity is ``(1 - 1/n)`` times the one here, which
averages over distinct pairs only and does not depend on the set's size for the same chemistry.

Examples
--------
>>> table = generation_metrics(["CCO", "OCC", "c1ccccc1", "C1CC"], training=["CCO"])
>>> table["validity"], table["uniqueness"], table["novelty"]
(0.75, 0.6666666666666666, 0.5)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from mi_workbench._checks import check_positive_int, check_str_sequence
from mi_workbench.molecules.language import canonical_smiles

__all__ = [
    "ALERT_CATALOGS",
    "generation_metrics",
    "internal_diversity",
    "scaffold_counts",
    "structural_alerts",
]

#: Filter catalogues of RDKit that :func:`structural_alerts` can apply, by the name it takes.
ALERT_CATALOGS = ("PAINS", "Brenk", "NIH", "ZINC")

_ROWS_PER_BLOCK = 512  # rows of the similarity matrix held at once (memory stays O(n))


def _smiles_list(name: str, smiles: object) -> list[str]:
    if isinstance(smiles, str):
        raise TypeError(f"{name} must be a list of SMILES strings, not one string")
    if isinstance(smiles, pd.DataFrame):
        if "smiles" not in smiles:
            raise ValueError(f"{name} is a table without a 'smiles' column")
        smiles = smiles["smiles"]
    if not isinstance(smiles, Iterable):
        raise TypeError(f"{name} must be a sequence of SMILES strings, got {type(smiles).__name__}")
    values = list(smiles)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(
                f"{name}[{i}] must be a SMILES string, got {value!r} ({type(value).__name__})"
            )
    return values


def _unique_valid(smiles: Sequence[str]) -> tuple[list[str], int]:
    """Canonical forms of the valid molecules in order of first appearance, and their count."""
    seen: dict[str, None] = {}
    n_valid = 0
    for text in smiles:
        canonical = canonical_smiles(text)
        if canonical is not None:
            n_valid += 1
            seen.setdefault(canonical, None)
    return list(seen), n_valid


def _bit_fingerprints(canonical: Sequence[str], radius: int, n_bits: int) -> np.ndarray:
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    bits = np.zeros((len(canonical), n_bits))
    for row, text in enumerate(canonical):
        bits[row] = generator.GetFingerprintAsNumPy(Chem.MolFromSmiles(text))
    return bits


def _mean_pair_similarity(bits: np.ndarray) -> float:
    """Mean Tanimoto similarity over the distinct pairs of rows of a 0/1 matrix."""
    n = len(bits)
    counts = bits.sum(axis=1)
    total = 0.0
    for start in range(0, n, _ROWS_PER_BLOCK):
        block = bits[start : start + _ROWS_PER_BLOCK]
        shared = block @ bits.T
        union = counts[start : start + _ROWS_PER_BLOCK, None] + counts[None, :] - shared
        # two molecules without any fingerprint bit are identical by this measure
        similarity = np.where(union > 0, shared / np.maximum(union, 1.0), 1.0)
        total += float(similarity.sum()) - float(np.trace(similarity[:, start:]))
    return total / (n * (n - 1))


def internal_diversity(smiles: Sequence[str], *, radius: int = 2, n_bits: int = 2048) -> float:
    """One minus the mean Tanimoto similarity over distinct pairs of the unique valid molecules.

    Parameters
    ----------
    smiles : sequence of str or DataFrame with a ``smiles`` column
        The molecules; invalid SMILES are left out and duplicates count once.
    radius : int, optional
        Morgan radius (2, ECFP4-like, as MOSES).
    n_bits : int, optional
        Length of the bit fingerprint.

    Returns
    -------
    float
        In [0, 1]. With fewer than two distinct valid molecules there is no pair that differs,
        and the diversity is 0.0.

    Examples
    --------
    >>> internal_diversity(["CCO", "CCO"])
    0.0
    >>> 0.5 < internal_diversity(["CCO", "c1ccccc1N", "FC(F)(F)C#N"]) <= 1.0
    True
    """
    values = _smiles_list("smiles", smiles)
    radius = check_positive_int("radius", radius, minimum=0)
    n_bits = check_positive_int("n_bits", n_bits)
    unique, _ = _unique_valid(values)
    if len(unique) < 2:
        return 0.0
    return 1.0 - _mean_pair_similarity(_bit_fingerprints(unique, radius, n_bits))


def scaffold_counts(smiles: Sequence[str]) -> pd.Series:
    """How many of the unique valid molecules share each Bemis-Murcko scaffold.

    Parameters
    ----------
    smiles : sequence of str or DataFrame with a ``smiles`` column
        The molecules; invalid SMILES are left out and duplicates count once.

    Returns
    -------
    pandas.Series
        Counts indexed by the scaffold's SMILES, most frequent first; acyclic molecules share the
        empty scaffold ``""``.

    Examples
    --------
    >>> scaffold_counts(["c1ccccc1O", "c1ccccc1N", "CCO"]).to_dict()
    {'c1ccccc1': 2, '': 1}
    """
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    unique, _ = _unique_valid(_smiles_list("smiles", smiles))
    scaffolds = [
        MurckoScaffold.MurckoScaffoldSmiles(mol=Chem.MolFromSmiles(text)) for text in unique
    ]
    counts = pd.Series(scaffolds, dtype=object).value_counts(sort=True)
    counts.index.name = "scaffold"
    counts.name = "molecules"
    return counts.astype(int)


def generation_metrics(
    generated: Sequence[str],
    training: Sequence[str] | None = None,
    *,
    radius: int = 2,
    n_bits: int = 2048,
) -> pd.Series:
    """Validity, uniqueness, novelty, internal diversity and scaffolds of generated molecules.

    Parameters
    ----------
    generated : sequence of str or DataFrame with a ``smiles`` column
        Every SMILES the generator produced, duplicates and invalid ones included (they are what
        validity and uniqueness measure).
    training : sequence of str, optional
        The corpus the generator learnt from; gives ``novelty``. Invalid entries are ignored.
    radius, n_bits : int, optional
        Morgan fingerprint of the internal diversity (see :func:`internal_diversity`).

    Returns
    -------
    pandas.Series
        ``n_generated``, ``n_valid``, ``validity`` (valid / generated), ``n_unique``,
        ``uniqueness`` (unique / valid), ``novelty`` (unique and not in ``training`` / unique;
        only when ``training`` is given), ``internal_diversity``, ``n_scaffolds`` (distinct
        Bemis-Murcko scaffolds among the unique molecules). A fraction of an empty set (no valid
        molecule) is reported as 0.0.

    Raises
    ------
    ValueError
        If ``generated`` is empty.

    Examples
    --------
    >>> metrics = generation_metrics(["CCO", "CCO", "c1ccccc1", "C1CC"], training=["OCC"])
    >>> int(metrics["n_valid"]), int(metrics["n_unique"]), metrics["novelty"]
    (3, 2, 0.5)
    """
    values = _smiles_list("generated", generated)
    if not values:
        raise ValueError("generated is empty: give the SMILES the generator produced")
    radius = check_positive_int("radius", radius, minimum=0)
    n_bits = check_positive_int("n_bits", n_bits)
    unique, n_valid = _unique_valid(values)
    metrics: dict[str, float] = {
        "n_generated": len(values),
        "n_valid": n_valid,
        "validity": n_valid / len(values),
        "n_unique": len(unique),
        "uniqueness": len(unique) / n_valid if n_valid else 0.0,
    }
    if training is not None:
        known = {c for c in map(canonical_smiles, _smiles_list("training", training)) if c}
        novel = sum(text not in known for text in unique)
        metrics["novelty"] = novel / len(unique) if unique else 0.0
    metrics["internal_diversity"] = (
        1.0 - _mean_pair_similarity(_bit_fingerprints(unique, radius, n_bits))
        if len(unique) >= 2
        else 0.0
    )
    metrics["n_scaffolds"] = len(scaffold_counts(unique)) if unique else 0
    return pd.Series(metrics, name="generation metrics", dtype=object)


def structural_alerts(
    smiles: Sequence[str], catalogs: Sequence[str] = ("PAINS", "Brenk")
) -> pd.DataFrame:
    """Flag molecules that match RDKit's structural-alert catalogues (PAINS, Brenk, ...).

    Parameters
    ----------
    smiles : sequence of str or DataFrame with a ``smiles`` column
        The molecules, one row each (duplicates are kept, so the table lines up with the input).
    catalogs : sequence of str, optional
        Names from :data:`ALERT_CATALOGS`.

    Returns
    -------
    pandas.DataFrame
        One row per input: ``smiles``, ``valid``, then for each catalogue a boolean column named
        after it (``True``: at least one alert matched) and ``<catalogue>_alerts`` with the
        matched alerts' descriptions joined by ``"; "`` (empty when none). Invalid SMILES get
        ``valid = False`` and no flags.

    Examples
    --------
    >>> table = structural_alerts(["CCO", "O=C(C)Oc1ccccc1C(=O)O"], catalogs=["Brenk"])
    >>> table["Brenk"].tolist(), table.loc[1, "Brenk_alerts"]
    ([False, True], 'phenol_ester')
    """
    from rdkit import Chem
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

    values = _smiles_list("smiles", smiles)
    names = check_str_sequence("catalogs", catalogs, allow_empty=True, allow_str=True)
    if not names:
        raise ValueError(f"catalogs is empty: name at least one of {list(ALERT_CATALOGS)}")
    for name in names:
        if name not in ALERT_CATALOGS:
            raise ValueError(
                f"catalogs: unknown catalogue {name!r}; choose from {list(ALERT_CATALOGS)}"
            )
    filters = {}
    for name in names:
        params = FilterCatalogParams()
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name.upper()))
        filters[name] = FilterCatalog(params)
    rows = []
    for text in values:
        canonical = canonical_smiles(text)
        row: dict[str, object] = {"smiles": text, "valid": canonical is not None}
        mol = Chem.MolFromSmiles(canonical) if canonical is not None else None
        for name, catalog in filters.items():
            matches = [entry.GetDescription() for entry in catalog.GetMatches(mol)] if mol else []
            row[name] = bool(matches)
            row[f"{name}_alerts"] = "; ".join(dict.fromkeys(matches))
        rows.append(row)
    columns = ["smiles", "valid"] + [c for name in names for c in (name, f"{name}_alerts")]
    return pd.DataFrame(rows, columns=columns)
