"""Build the workbench's own xTB/DFT data set of small organic molecules.

The molecules are the public NCI structures that RDKit ships (``rdkit/Data/NCI/first_5K.smi``,
4,999 lines in RDKit 2026.9), reduced to their largest fragment and filtered to neutral,
closed-shell molecules of H, C, N, O, F, S and Cl with at most ``max_heavy_atoms`` heavy atoms
(duplicates after canonicalisation removed). Every one gets GFN2-xTB properties; the smallest
``n_dft`` of those that xTB computed also get B3LYP/6-31G* properties, all on the same RDKit
geometry (:func:`mi_workbench.molecules.oracles.embed_molecule`).

Every finished molecule is appended to a JSON-lines cache per method in ``--cache-dir``, so an
interrupted build resumes where it stopped. The result is one netCDF file with dimension
``molecule`` (see :func:`build_molecule_dataset`), read back with
:func:`mi_workbench.data.load_molecules_xtb_dft`.

The committed file ``mi_workbench/data/molecules_xtb_dft.nc`` (0.75 MB) was built on the
project's 2-core machine while five other jobs shared it, on 2026-11-24, in two runs with the
same cache. First::

    OMP_NUM_THREADS=1 nohup nice -n 10 .venv/bin/python -m mi_workbench.molecules.dataset \
        --cache-dir /tmp/mi_workbench_molecule_cache --output mi_workbench/data/molecules_xtb_dft.nc

(defaults ``--max-heavy-atoms 20 --n-dft 240 --dft-max-heavy-atoms 12 --xtb-workers 1
--dft-workers 1``): 3,364 molecules selected, xTB on all of them in about 7 minutes, then DFT
on the smallest, 1-7 heavy atoms, 3-20 s each at nice 10 on the loaded machine. It was stopped
after 201 DFT molecules (4,020 s wall time in all), and the file was written from the cache by::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python -m mi_workbench.molecules.dataset \
        --cache-dir /tmp/mi_workbench_molecule_cache \
        --output mi_workbench/data/molecules_xtb_dft.nc --n-dft 201 --no-progress

which computed nothing new (2 s). Run from an empty cache, that command does the whole build:
about 6 minutes of xTB and 60 minutes of DFT (sums of the per-molecule times, stored as
``compute_time_xtb_s`` and ``compute_time_dft_s`` in the attrs). All 3,364 xTB and all 201 DFT
calculations succeeded. On the 201 molecules with both, the B3LYP gap follows the xTB gap with
Pearson r = 0.79 and Spearman rho = 0.92 (DFT ~ 0.43 xTB + 4.8 eV, residual SD 0.80 eV).

Run ``python -m mi_workbench.molecules.dataset --help`` for the options.
"""

from __future__ import annotations

import argparse
import datetime as _datetime
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import check_positive_int
from mi_workbench.molecules.oracles import (
    EMBED_SEED,
    SUPPORTED_ELEMENTS,
    _check_dft_options,
    limit_threads,
    prepare_molecule,
    run_oracle_batch,
)

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "data" / "molecules_xtb_dft.nc"
"""Where the committed data set lives inside the package."""

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "mi_workbench" / "molecules"
"""Default cache directory of the builder (outside the package)."""


def nci_smiles_path() -> Path:
    """Path of the NCI SMILES file that RDKit ships (``RDConfig.RDDataDir/NCI/first_5K.smi``).

    Examples
    --------
    >>> nci_smiles_path().name
    'first_5K.smi'
    """
    from rdkit import RDConfig

    return Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"


def read_nci_smiles(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read RDKit's NCI file into a table with columns ``smiles`` and ``nci_id``.

    Parameters
    ----------
    path : str or path-like, optional
        A whitespace-separated ``SMILES id`` file; default :func:`nci_smiles_path`.

    Examples
    --------
    >>> table = read_nci_smiles()
    >>> len(table) > 4900
    True
    """
    path = Path(path) if path is not None else nci_smiles_path()
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if parts:
                rows.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return pd.DataFrame(rows, columns=["smiles", "nci_id"])


def select_molecules(
    smiles: Sequence[str],
    max_heavy_atoms: int = 20,
    elements: Sequence[str] = SUPPORTED_ELEMENTS,
    ids: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, Counter]:
    """Keep the molecules the oracles can compute: largest fragment, neutral, closed-shell.

    Parameters
    ----------
    smiles : sequence of str
        Candidate molecules.
    max_heavy_atoms : int, optional
        Largest number of heavy (non-hydrogen) atoms kept.
    elements : sequence of str, optional
        Allowed element symbols.
    ids : sequence of str, optional
        Identifiers of the candidates (kept in column ``source_id``).

    Returns
    -------
    table : pandas.DataFrame
        Columns ``smiles`` (canonical, unique), ``source_id``, ``n_heavy_atoms``, in input order.
    excluded : collections.Counter
        Number of candidates left out, by reason.

    Examples
    --------
    >>> table, excluded = select_molecules(["CCO", "OCC", "[Na+].[Cl-]", "C[Si](C)C"])
    >>> list(table["smiles"]), sum(excluded.values())
    (['CCO'], 3)
    """
    max_heavy_atoms = check_positive_int("max_heavy_atoms", max_heavy_atoms)
    if isinstance(smiles, str):
        raise TypeError("smiles must be a list of SMILES strings, not one string")
    ids = list(ids) if ids is not None else [str(i) for i in range(len(smiles))]
    if len(ids) != len(smiles):
        raise ValueError(f"ids has {len(ids)} entries but smiles has {len(smiles)}")
    rows, seen, excluded = [], set(), Counter()
    for text, source_id in zip(smiles, ids, strict=True):
        mol, canonical, reason = prepare_molecule(text, elements)
        if mol is None:
            excluded[reason.split(":")[0].split(" (")[0].split(";")[0]] += 1
            continue
        n_heavy = mol.GetNumHeavyAtoms()
        if n_heavy > max_heavy_atoms:
            excluded[f"more than {max_heavy_atoms} heavy atoms"] += 1
            continue
        if canonical in seen:
            excluded["duplicate"] += 1
            continue
        seen.add(canonical)
        rows.append((canonical, str(source_id), n_heavy))
    table = pd.DataFrame(rows, columns=["smiles", "source_id", "n_heavy_atoms"])
    return table, excluded


def _method_tag(text: str) -> str:
    return text.lower().replace("*", "star").replace("/", "_").replace("(", "").replace(")", "")


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("rdkit", "tblite", "pyscf", "numpy", "xarray"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _column(records: dict[str, dict], smiles: Sequence[str], key: str) -> np.ndarray:
    return np.array(
        [float(records[s].get(key, np.nan)) if s in records else np.nan for s in smiles]
    )


def build_molecule_dataset(
    cache_dir: str | os.PathLike = DEFAULT_CACHE_DIR,
    smiles: Sequence[str] | None = None,
    max_heavy_atoms: int = 20,
    n_dft: int = 240,
    dft_max_heavy_atoms: int = 12,
    functional: str = "b3lyp",
    basis: str = "6-31g*",
    xtb_workers: int = 1,
    dft_workers: int = 1,
    random_seed: int = EMBED_SEED,
    progress: bool = True,
    command: str | None = None,
) -> xr.Dataset:
    """Compute xTB properties for many molecules and DFT properties for the smallest of them.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Folder of the per-method JSON-lines caches; a rerun with the same folder computes only
        the molecules that are not in them yet.
    smiles : sequence of str, optional
        Your own molecules; default: RDKit's NCI set (:func:`read_nci_smiles`).
    max_heavy_atoms : int, optional
        Largest molecule (heavy atoms) given to xTB.
    n_dft : int, optional
        Number of molecules given to DFT: the smallest (by heavy atoms, then atoms) of those
        with xTB properties and at most ``dft_max_heavy_atoms`` heavy atoms. 0 skips DFT.
    dft_max_heavy_atoms : int, optional
        Largest molecule given to DFT.
    functional, basis : str, optional
        DFT level (see :func:`~mi_workbench.molecules.oracles.dft_properties`).
    xtb_workers, dft_workers : int, optional
        Worker processes for each method (one thread each).
    random_seed : int, optional
        Seed of the geometry embedding shared by both methods.
    progress : bool, optional
        Show progress bars.
    command : str, optional
        The command that ran the build, stored in the attrs.

    Returns
    -------
    xarray.Dataset
        Dimension ``molecule``; variables ``smiles``, ``source_id``, ``n_heavy_atoms``,
        ``n_atoms``, ``xtb_homo_lumo_gap_ev``, ``xtb_total_energy_hartree``,
        ``xtb_dipole_debye``, ``xtb_wall_time_s``, ``xtb_failure_reason`` (empty on success),
        ``dft_attempted``, ``dft_homo_lumo_gap_ev``, ``dft_total_energy_hartree``,
        ``dft_wall_time_s`` (NaN where not computed) and ``dft_failure_reason``; units in each
        variable's ``attrs["units"]``, provenance (methods, code versions, date, command, wall
        time, counts) in the data set's attrs.

    Examples
    --------
    >>> ds = build_molecule_dataset(  # doctest: +SKIP
    ...     "/tmp/my_cache", smiles=["C", "CO", "c1ccccc1"], n_dft=2, progress=False
    ... )
    >>> int(ds["dft_attempted"].sum()), ds.attrs["n_dft_ok"]  # doctest: +SKIP
    (2, 2)
    """
    start = time.perf_counter()
    max_heavy_atoms = check_positive_int("max_heavy_atoms", max_heavy_atoms)
    n_dft = check_positive_int("n_dft", n_dft, minimum=0)
    dft_max_heavy_atoms = check_positive_int("dft_max_heavy_atoms", dft_max_heavy_atoms)
    functional, basis = _check_dft_options(functional, basis)
    check_positive_int("random_seed", random_seed, minimum=0)
    cache_dir = Path(cache_dir)
    if smiles is None:
        source = read_nci_smiles()
        source_name = f"RDKit NCI set ({nci_smiles_path().name}, {len(source)} molecules)"
        candidates, ids = list(source["smiles"]), list(source["nci_id"])
    else:
        if isinstance(smiles, str):
            raise TypeError("smiles must be a list of SMILES strings, not one string")
        candidates, ids = list(smiles), None
        source_name = f"user list ({len(candidates)} molecules)"
    table, excluded = select_molecules(candidates, max_heavy_atoms, ids=ids)
    if table.empty:
        raise ValueError(
            "no molecule is left after the filter "
            f"(neutral, closed-shell, elements {SUPPORTED_ELEMENTS}, <= {max_heavy_atoms} "
            f"heavy atoms); excluded: {dict(excluded)}"
        )
    molecules = list(table["smiles"])

    xtb_cache = cache_dir / f"xtb_gfn2_seed{random_seed}.jsonl"
    xtb_records = run_oracle_batch(
        molecules,
        oracle="xtb",
        n_workers=xtb_workers,
        cache_path=xtb_cache,
        progress=progress,
        random_seed=random_seed,
    )
    xtb = {record["input"]: record for record in xtb_records}

    xtb_ok = [s for s in molecules if xtb[s]["ok"]]
    n_atoms_of = {s: int(xtb[s].get("n_atoms", 0)) for s in xtb_ok}
    heavy_of = dict(zip(table["smiles"], table["n_heavy_atoms"], strict=True))
    dft_candidates = sorted(
        (s for s in xtb_ok if heavy_of[s] <= dft_max_heavy_atoms),
        key=lambda s: (heavy_of[s], n_atoms_of[s], s),
    )[:n_dft]
    dft_method = f"rks/{functional}/{basis.lower()}" if functional != "hf" else f"rhf/{basis}"
    dft: dict[str, dict] = {}
    if dft_candidates:
        dft_cache = (
            cache_dir
            / f"dft_{_method_tag(functional)}_{_method_tag(basis)}_seed{random_seed}.jsonl"
        )
        dft_records = run_oracle_batch(
            dft_candidates,
            oracle="dft",
            n_workers=dft_workers,
            cache_path=dft_cache,
            progress=progress,
            functional=functional,
            basis=basis,
            random_seed=random_seed,
        )
        dft = {record["input"]: record for record in dft_records}

    def reason(records: dict[str, dict], s: str, missing: str) -> str:
        return records[s]["reason"] if s in records else missing

    dims = ("molecule",)
    data = {
        "smiles": (dims, np.array(molecules, dtype=object), {"long_name": "canonical SMILES"}),
        "source_id": (dims, np.array(table["source_id"], dtype=object), {"long_name": "id"}),
        "n_heavy_atoms": (dims, table["n_heavy_atoms"].to_numpy(np.int64), {"units": "1"}),
        "n_atoms": (
            dims,
            np.array([int(xtb[s].get("n_atoms", -1) or -1) for s in molecules], dtype=np.int64),
            {"units": "1", "long_name": "atoms including hydrogens (-1: not embedded)"},
        ),
        "xtb_homo_lumo_gap_ev": (
            dims,
            _column(xtb, molecules, "homo_lumo_gap"),
            {"units": "eV", "long_name": "GFN2-xTB HOMO-LUMO gap"},
        ),
        "xtb_total_energy_hartree": (
            dims,
            _column(xtb, molecules, "total_energy"),
            {"units": "hartree", "long_name": "GFN2-xTB total energy"},
        ),
        "xtb_dipole_debye": (
            dims,
            _column(xtb, molecules, "dipole"),
            {"units": "D", "long_name": "GFN2-xTB dipole moment magnitude"},
        ),
        "xtb_wall_time_s": (
            dims,
            _column(xtb, molecules, "wall_time_s"),
            {"units": "s", "long_name": "wall time of geometry + xTB (one core)"},
        ),
        "xtb_failure_reason": (
            dims,
            np.array([reason(xtb, s, "not computed") for s in molecules], dtype=object),
            {"long_name": "why xTB failed (empty: success)"},
        ),
        "dft_attempted": (
            dims,
            np.array([s in dft for s in molecules]),
            {"long_name": "DFT was run for this molecule"},
        ),
        "dft_homo_lumo_gap_ev": (
            dims,
            _column(dft, molecules, "homo_lumo_gap"),
            {"units": "eV", "long_name": f"{dft_method} HOMO-LUMO gap"},
        ),
        "dft_total_energy_hartree": (
            dims,
            _column(dft, molecules, "total_energy"),
            {"units": "hartree", "long_name": f"{dft_method} total energy"},
        ),
        "dft_wall_time_s": (
            dims,
            _column(dft, molecules, "wall_time_s"),
            {"units": "s", "long_name": "wall time of geometry + DFT (one core)"},
        ),
        "dft_failure_reason": (
            dims,
            np.array([reason(dft, s, "") for s in molecules], dtype=object),
            {"long_name": "why DFT failed (empty: success or not attempted)"},
        ),
    }
    ds = xr.Dataset(data, coords={"molecule": np.arange(len(molecules))})
    xtb_time = float(np.nansum(ds["xtb_wall_time_s"].values))
    dft_time = float(np.nansum(ds["dft_wall_time_s"].values))
    versions = _versions()
    ds.attrs = {
        "title": "GFN2-xTB and DFT properties of small organic molecules",
        "source": source_name,
        "selection": (
            f"largest fragment, neutral, closed-shell, elements {' '.join(SUPPORTED_ELEMENTS)}, "
            f"<= {max_heavy_atoms} heavy atoms, unique canonical SMILES; DFT on the {n_dft} "
            f"smallest (heavy atoms, then atoms) with xTB results and <= {dft_max_heavy_atoms} "
            "heavy atoms"
        ),
        "excluded_counts": "; ".join(f"{k}: {v}" for k, v in sorted(excluded.items())),
        "geometry": (
            f"RDKit ETKDGv3 embedding (randomSeed={random_seed}) + MMFF94 optimisation; "
            "the same geometry for xTB and DFT"
        ),
        "xtb_method": "GFN2-xTB single point (tblite), neutral, closed-shell",
        "dft_method": f"{dft_method} single point (PySCF), neutral, closed-shell",
        "dft_functional": functional,
        "dft_basis": basis,
        "note_b3lyp": "PySCF's B3LYP uses VWN-RPA (VWN3) correlation, as Gaussian does",
        "code_versions": "; ".join(f"{k} {v}" for k, v in versions.items()),
        **{f"version_{k}": v for k, v in versions.items()},
        "created": _datetime.datetime.now(_datetime.UTC).isoformat(timespec="seconds"),
        "command": command or "mi_workbench.molecules.dataset.build_molecule_dataset(...)",
        "machine": f"{platform.machine()}, {os.cpu_count()} logical cores",
        "build_wall_time_s": round(time.perf_counter() - start, 1),
        "compute_time_xtb_s": round(xtb_time, 1),
        "compute_time_dft_s": round(dft_time, 1),
        "time_note": (
            "build_wall_time_s: this run, which reads finished molecules from the cache; "
            "compute_time_*_s: sum of the per-molecule wall times over all runs that filled "
            "the cache (one core each, on a machine shared with other work)"
        ),
        "n_molecules": int(ds.sizes["molecule"]),
        "n_xtb_ok": int(np.isfinite(ds["xtb_homo_lumo_gap_ev"]).sum()),
        "n_dft_attempted": int(ds["dft_attempted"].sum()),
        "n_dft_ok": int(np.isfinite(ds["dft_homo_lumo_gap_ev"]).sum()),
        "cache_files": f"{xtb_cache.name}, dft_*.jsonl in the --cache-dir",
    }
    return ds


def save_molecule_dataset(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a data set from :func:`build_molecule_dataset` as netCDF (h5netcdf), atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        The data set.
    path : str or path-like
        Target file (``.nc``); written to a temporary file first, then renamed.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> save_molecule_dataset(ds, "/tmp/molecules.nc")  # doctest: +SKIP
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    encoding = {
        name: {"compression": "gzip", "compression_opts": 4}
        for name, variable in ds.data_vars.items()
        if variable.dtype.kind in "fiub"
    }
    ds.to_netcdf(temporary, engine="h5netcdf", encoding=encoding, invalid_netcdf=False)
    os.replace(temporary, path)
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mi_workbench.molecules.dataset",
        description=(
            "Compute GFN2-xTB properties of RDKit's NCI molecules and DFT properties of the "
            "smallest of them; resumable from per-method caches."
        ),
    )
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE_DIR), help="cache folder")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="netCDF file to write")
    parser.add_argument("--max-heavy-atoms", type=int, default=20)
    parser.add_argument("--n-dft", type=int, default=240)
    parser.add_argument("--dft-max-heavy-atoms", type=int, default=12)
    parser.add_argument("--functional", default="b3lyp")
    parser.add_argument("--basis", default="6-31g*")
    parser.add_argument("--xtb-workers", type=int, default=1)
    parser.add_argument("--dft-workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=EMBED_SEED, help="embedding seed")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: build the data set and write it (see ``--help``)."""
    args = _parser().parse_args(argv)
    limit_threads(1)
    shown = list(sys.argv[1:] if argv is None else argv)
    command = "python -m mi_workbench.molecules.dataset " + " ".join(shown)
    ds = build_molecule_dataset(
        cache_dir=args.cache_dir,
        max_heavy_atoms=args.max_heavy_atoms,
        n_dft=args.n_dft,
        dft_max_heavy_atoms=args.dft_max_heavy_atoms,
        functional=args.functional,
        basis=args.basis,
        xtb_workers=args.xtb_workers,
        dft_workers=args.dft_workers,
        random_seed=args.seed,
        progress=not args.no_progress,
        command=command.strip(),
    )
    path = save_molecule_dataset(ds, args.output)
    attrs = ds.attrs
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): {attrs['n_molecules']} molecules, "
        f"{attrs['n_xtb_ok']} with xTB, {attrs['n_dft_ok']} with DFT "
        f"({attrs['n_dft_attempted']} attempted); wall time {attrs['build_wall_time_s']} s, "
        f"compute time xTB {attrs['compute_time_xtb_s']} s, DFT {attrs['compute_time_dft_s']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
