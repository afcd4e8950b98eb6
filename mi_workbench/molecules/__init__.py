"""Molecules: virtual experiments, a chemical language model, and inverse design.

- Virtual experiments: GFN2-xTB and DFT oracles (:mod:`~mi_workbench.molecules.oracles`) and the
  builder of the computed xTB/DFT data set (:mod:`~mi_workbench.molecules.dataset`).
- A SMILES tokenizer and n-gram language model (:mod:`~mi_workbench.molecules.language`).
- Forward models on fingerprints (:mod:`~mi_workbench.molecules.forward`), iQSPR's sequential
  Monte Carlo toward a target region (:mod:`~mi_workbench.molecules.iqspr`), the SPACIER-style
  extrapolative loop (:mod:`~mi_workbench.molecules.spacier`) and UCT tree search over lattices
  and SMILES (:mod:`~mi_workbench.molecules.tree_search`).
- Metrics of generated molecule sets (validity, uniqueness, novelty, internal diversity,
  scaffolds) and PAINS/Brenk structural alerts (:mod:`~mi_workbench.molecules.metrics`).

Imports RDKit, tblite and PySCF only when a calculation runs. The data-set builder is
:mod:`mi_workbench.molecules.dataset` (``python -m mi_workbench.molecules.dataset``); the
committed data set loads with :func:`mi_workbench.data.load_molecules_xtb_dft`.
"""

from mi_workbench.molecules.forward import (
    PropertyModel,
    fingerprint_matrix,
    fit_forward_models,
)
from mi_workbench.molecules.iqspr import (
    IQSPR,
    TargetRegion,
    log_probability_in_region,
    unique_molecules,
    verify_molecules,
)
from mi_workbench.molecules.language import (
    NGramLanguageModel,
    canonical_smiles,
    check_smiles,
    default_language_model,
    join_tokens,
    load_smiles_corpus,
    tokenize_smiles,
)
from mi_workbench.molecules.metrics import (
    ALERT_CATALOGS,
    generation_metrics,
    internal_diversity,
    scaffold_counts,
    structural_alerts,
)
from mi_workbench.molecules.oracles import (
    AU_DIPOLE_TO_DEBYE,
    EMBED_SEED,
    HARTREE_TO_EV,
    ORACLES,
    SUPPORTED_ELEMENTS,
    dft_properties,
    embed_molecule,
    limit_threads,
    prepare_molecule,
    read_cache,
    run_oracle_batch,
    xtb_properties,
)
from mi_workbench.molecules.spacier import (
    ExtrapolativeDesign,
    extrapolative_acquisition,
    temporary_region,
)
from mi_workbench.molecules.tree_search import (
    BACKUPS,
    LatticeTreeSearch,
    SmilesTreeSearch,
    gap_target_reward,
    penalized_logp,
    random_lattice_search,
    sample_rollouts,
    uct_search,
)

__all__ = [
    "AU_DIPOLE_TO_DEBYE",
    "EMBED_SEED",
    "ExtrapolativeDesign",
    "HARTREE_TO_EV",
    "NGramLanguageModel",
    "ORACLES",
    "SUPPORTED_ELEMENTS",
    "canonical_smiles",
    "check_smiles",
    "default_language_model",
    "dft_properties",
    "embed_molecule",
    "extrapolative_acquisition",
    "join_tokens",
    "limit_threads",
    "load_smiles_corpus",
    "prepare_molecule",
    "read_cache",
    "run_oracle_batch",
    "temporary_region",
    "tokenize_smiles",
    "xtb_properties",
    "BACKUPS",
    "LatticeTreeSearch",
    "SmilesTreeSearch",
    "gap_target_reward",
    "penalized_logp",
    "random_lattice_search",
    "sample_rollouts",
    "uct_search",
    "IQSPR",
    "PropertyModel",
    "TargetRegion",
    "fingerprint_matrix",
    "fit_forward_models",
    "log_probability_in_region",
    "unique_molecules",
    "verify_molecules",
    "ALERT_CATALOGS",
    "generation_metrics",
    "internal_diversity",
    "scaffold_counts",
    "structural_alerts",
]
