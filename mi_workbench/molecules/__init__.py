"""Molecules: virtual experiments (GFN2-xTB and DFT oracles) and the computed xTB/DFT data set.

Imports RDKit, tblite and PySCF only when a calculation runs. The data-set builder is
:mod:`mi_workbench.molecules.dataset` (``python -m mi_workbench.molecules.dataset``); the
committed data set loads with :func:`mi_workbench.data.load_molecules_xtb_dft`.
"""

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

__all__ = [
    "AU_DIPOLE_TO_DEBYE",
    "EMBED_SEED",
    "HARTREE_TO_EV",
    "ORACLES",
    "SUPPORTED_ELEMENTS",
    "dft_properties",
    "embed_molecule",
    "limit_threads",
    "prepare_molecule",
    "read_cache",
    "run_oracle_batch",
    "xtb_properties",
]
