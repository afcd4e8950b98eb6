"""The workbench's own computed molecule data set: GFN2-xTB (cheap) and DFT (expensive) properties.

About 3,300 small organic molecules from RDKit's NCI set have GFN2-xTB HOMO-LUMO gaps, total
energies and dipoles; the smallest few hundred also have B3LYP/6-31G* gaps and total energies on
the same geometry. It is the low-/high-fidelity pair of the transfer-learning and multi-fidelity
lessons. The file was computed by the workbench itself; how, with which code versions and how
long it took is in the data set's ``attrs`` (``command``, ``code_versions``,
``build_wall_time_s``, ...). Rebuild or extend it with
``python -m mi_workbench.molecules.dataset`` (see :mod:`mi_workbench.molecules.dataset`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from mi_workbench._checks import check_choice, check_path

MOLECULES_XTB_DFT_PATH = Path(__file__).resolve().parent / "molecules_xtb_dft.nc"
"""Path of the committed data set inside the package."""

_SUBSETS = ("all", "xtb", "dft")

MOLECULE_PROPERTY_UNITS = {"homo_lumo_gap": "eV", "total_energy": "hartree", "dipole": "debye"}
"""The molecular properties the oracles compute (their result keys), with units."""

MOLECULE_PROPERTY_LABELS = {
    "homo_lumo_gap": "HOMO-LUMO gap",
    "total_energy": "total energy",
    "dipole": "dipole moment",
}
"""Words for each property on axes and in tables."""

XTB_PROPERTY_VARIABLES = {
    "homo_lumo_gap": "xtb_homo_lumo_gap_ev",
    "total_energy": "xtb_total_energy_hartree",
    "dipole": "xtb_dipole_debye",
}
"""Variable of :func:`load_molecules_xtb_dft` that holds each property's xTB value."""


def load_molecules_xtb_dft(
    subset: str = "all", path: str | os.PathLike | None = None
) -> xr.Dataset:
    """Load the xTB/DFT molecule data set (dimension ``molecule``).

    Parameters
    ----------
    subset : {"all", "xtb", "dft"}, optional
        ``"all"``: every molecule, including those whose calculation failed (NaN values and a
        reason in ``xtb_failure_reason``/``dft_failure_reason``); ``"xtb"``: molecules with xTB
        properties; ``"dft"``: molecules with both xTB and DFT properties.
    path : str or path-like, optional
        Another file written by :func:`mi_workbench.molecules.dataset.save_molecule_dataset`;
        default the committed one (:data:`MOLECULES_XTB_DFT_PATH`).

    Returns
    -------
    xarray.Dataset
        Variables ``smiles``, ``source_id``, ``n_heavy_atoms``, ``n_atoms``,
        ``xtb_homo_lumo_gap_ev``, ``xtb_total_energy_hartree``, ``xtb_dipole_debye``,
        ``xtb_wall_time_s``, ``xtb_failure_reason``, ``dft_attempted``,
        ``dft_homo_lumo_gap_ev``, ``dft_total_energy_hartree``, ``dft_wall_time_s``,
        ``dft_failure_reason``; units in ``attrs["units"]``; provenance in ``attrs``.

    Examples
    --------
    >>> ds = load_molecules_xtb_dft("dft")
    >>> x, y = ds["xtb_homo_lumo_gap_ev"].values, ds["dft_homo_lumo_gap_ev"].values
    >>> bool(np.corrcoef(x, y)[0, 1] > 0.5)
    True
    """
    check_choice("subset", subset, _SUBSETS)
    path = check_path("path", path) if path is not None else MOLECULES_XTB_DFT_PATH
    if not path.exists():
        raise FileNotFoundError(
            f"no molecule data set at {path}; build it with "
            "`python -m mi_workbench.molecules.dataset --output PATH`"
        )
    with xr.open_dataset(path, engine="h5netcdf") as handle:
        ds = handle.load()
    for name in ("smiles", "source_id", "xtb_failure_reason", "dft_failure_reason"):
        if name in ds:
            ds[name] = ds[name].astype(str)
    if "dft_attempted" in ds:
        ds["dft_attempted"] = ds["dft_attempted"].astype(bool)
    if subset == "xtb":
        ds = ds.isel(molecule=np.isfinite(ds["xtb_homo_lumo_gap_ev"].values))
    elif subset == "dft":
        keep = np.isfinite(ds["xtb_homo_lumo_gap_ev"].values) & np.isfinite(
            ds["dft_homo_lumo_gap_ev"].values
        )
        ds = ds.isel(molecule=keep)
    return ds
