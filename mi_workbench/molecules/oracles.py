"""Virtual experiments on molecules: GFN2-xTB (tblite) and DFT (PySCF) on one RDKit geometry.

The two oracles answer the same question at two costs and two accuracies, which is what the
transfer-learning and multi-fidelity lessons need: a cheap, abundant property (GFN2-xTB, about
0.1 s per small molecule) and an expensive, scarce one (B3LYP/6-31G*, seconds to a minute).

Both oracles start from the same geometry (:func:`embed_molecule`: RDKit ETKDG embedding with a
fixed seed, then an MMFF94 optimisation), treat the molecule as neutral and closed-shell, and
return a plain ``dict`` (JSON-serialisable, so that it can be cached line by line):

``smiles``
    the canonical SMILES that was computed (largest fragment, RDKit canonical form);
``method``
    ``"gfn2-xtb"`` or e.g. ``"rks/b3lyp/6-31g*"``;
``ok``, ``reason``
    ``True`` and ``""`` on success, otherwise ``False`` and a sentence that says what failed
    (invalid SMILES, unsupported element, charged or open-shell molecule, embedding failure,
    missing force-field parameters, SCF not converged, ...);
``homo_lumo_gap``
    HOMO-LUMO gap in eV (NaN on failure);
``total_energy``
    total electronic energy in hartree (NaN on failure);
``dipole`` (xTB only)
    magnitude of the dipole moment in debye;
``n_heavy_atoms``, ``n_atoms``, ``wall_time_s``
    size of the molecule and the seconds the calculation took;
``permanent`` (failures only)
    ``True`` when the failure is a property of the molecule itself (invalid SMILES,
    unsupported element, charged or open-shell molecule, no MMFF94 parameters), which no
    retry changes; ``False`` for failures of the calculation (SCF not converged, out of
    memory, a crash), which may succeed another time.

A failure never raises: batches (:func:`run_oracle_batch`) go on and the reason is recorded.
Only wrong *arguments* (a SMILES that is not a string, an unknown functional, a misspelled
basis set) raise ``TypeError``/``ValueError`` at once.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import math
import multiprocessing
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from mi_workbench._checks import (
    check_path,
    check_positive,
    check_positive_int,
    check_str_sequence,
)

HARTREE_TO_EV = 27.211386245988
"""One hartree in eV (CODATA 2018)."""

AU_DIPOLE_TO_DEBYE = 2.541746473
"""One atomic unit of dipole moment (e bohr) in debye."""

ANGSTROM_TO_BOHR = 1.0 / 0.529177210903
"""One angstrom in bohr (CODATA 2018)."""

SUPPORTED_ELEMENTS = ("H", "C", "N", "O", "F", "S", "Cl")
"""Elements the oracles accept by default: the small organic chemistry of the data set."""

EMBED_SEED = 20240917
"""Default random seed of the ETKDG embedding, so that every geometry is reproducible."""

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _failure(smiles: str, method: str, reason: str, permanent: bool = False, **extra) -> dict:
    record = {
        "smiles": smiles,
        "method": method,
        "ok": False,
        "reason": reason,
        "permanent": bool(permanent),
        "homo_lumo_gap": math.nan,
        "total_energy": math.nan,
    }
    record.update(extra)
    return record


def _check_smiles(smiles: object) -> str:
    if not isinstance(smiles, str):
        raise TypeError(f"smiles must be a str, got {smiles!r} ({type(smiles).__name__})")
    return smiles.strip()


def _quiet_rdkit() -> None:
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")


def prepare_molecule(smiles: str, elements: Sequence[str] = SUPPORTED_ELEMENTS):
    """Parse a SMILES and check that the oracles can compute it.

    Keeps the largest fragment (salts and solvents are dropped) and accepts only neutral,
    closed-shell molecules made of ``elements``.

    Parameters
    ----------
    smiles : str
        The molecule.
    elements : sequence of str, optional
        Element symbols that are allowed (default :data:`SUPPORTED_ELEMENTS`).

    Returns
    -------
    mol : rdkit.Chem.Mol or None
        The largest fragment without explicit hydrogens, or ``None`` if it cannot be computed.
    canonical : str
        Canonical SMILES of the fragment (the input text if it did not parse).
    reason : str
        Empty if ``mol`` is usable, else why not.

    Examples
    --------
    >>> mol, canonical, reason = prepare_molecule("OCC.[Na+].[Cl-]")
    >>> canonical, reason
    ('CCO', '')
    """
    from rdkit import Chem
    from rdkit.Chem.MolStandardize import rdMolStandardize

    smiles = _check_smiles(smiles)
    elements = check_str_sequence("elements", elements)
    _quiet_rdkit()
    if not smiles:
        return None, smiles, "invalid SMILES: empty text"
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None, smiles, f"invalid SMILES: RDKit cannot parse {smiles!r}"
    if mol.GetNumAtoms() == 0:
        return None, smiles, "invalid SMILES: no atoms"
    mol = rdMolStandardize.LargestFragmentChooser().choose(mol)
    canonical = Chem.MolToSmiles(mol)
    symbols = sorted({atom.GetSymbol() for atom in mol.GetAtoms()})
    unsupported = [symbol for symbol in symbols if symbol not in elements]
    if unsupported:
        return (
            None,
            canonical,
            f"unsupported element(s) {', '.join(unsupported)}; allowed: {', '.join(elements)}",
        )
    charge = Chem.GetFormalCharge(mol)
    if charge != 0:
        return None, canonical, f"charged molecule (net charge {charge:+d}); only neutral allowed"
    radicals = sum(atom.GetNumRadicalElectrons() for atom in mol.GetAtoms())
    if radicals:
        return None, canonical, f"open-shell molecule ({radicals} radical electron(s))"
    return mol, canonical, ""


def embed_molecule(
    smiles: str,
    random_seed: int = EMBED_SEED,
    elements: Sequence[str] = SUPPORTED_ELEMENTS,
    max_mmff_iterations: int = 2000,
):
    """Build the 3-D geometry both oracles use: ETKDG embedding, then MMFF94 optimisation.

    Parameters
    ----------
    smiles : str
        The molecule (the largest fragment is used).
    random_seed : int, optional
        Seed of the ETKDG embedding; the same seed gives the same geometry.
    elements : sequence of str, optional
        Allowed element symbols.
    max_mmff_iterations : int, optional
        Iterations of the MMFF optimisation.

    Returns
    -------
    dict
        ``ok``, ``reason``, ``smiles`` (canonical), and on success ``symbols`` (list of str),
        ``numbers`` (atomic numbers), ``positions_angstrom`` (n_atoms x 3 array),
        ``n_heavy_atoms`` and ``n_atoms``; on failure ``permanent`` (see the module's
        documentation).

    Examples
    --------
    >>> geometry = embed_molecule("O")
    >>> geometry["ok"], geometry["symbols"]
    (True, ['O', 'H', 'H'])
    """
    from rdkit import Chem
    from rdkit.Chem import AllChem

    check_positive_int("random_seed", random_seed, minimum=0)
    max_mmff_iterations = check_positive_int("max_mmff_iterations", max_mmff_iterations)
    mol, canonical, reason = prepare_molecule(smiles, elements)
    if mol is None:
        return {"ok": False, "reason": reason, "smiles": canonical, "permanent": True}
    n_heavy = mol.GetNumHeavyAtoms()
    mol = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(random_seed)
    if AllChem.EmbedMolecule(mol, params) != 0:
        params.useRandomCoords = True
        if AllChem.EmbedMolecule(mol, params) != 0:
            return {
                "ok": False,
                "reason": "embedding failed: ETKDG found no 3-D coordinates",
                "smiles": canonical,
                "n_heavy_atoms": n_heavy,
                "permanent": False,
            }
    if not AllChem.MMFFHasAllMoleculeParams(mol):
        return {
            "ok": False,
            "reason": "MMFF94 has no parameters for this molecule",
            "smiles": canonical,
            "n_heavy_atoms": n_heavy,
            "permanent": True,
        }
    if AllChem.MMFFOptimizeMolecule(mol, maxIters=max_mmff_iterations) == -1:
        return {
            "ok": False,
            "reason": "MMFF94 set-up failed",
            "smiles": canonical,
            "n_heavy_atoms": n_heavy,
            "permanent": False,
        }
    positions = np.asarray(mol.GetConformer().GetPositions(), dtype=float)
    return {
        "ok": True,
        "reason": "",
        "smiles": canonical,
        "symbols": [atom.GetSymbol() for atom in mol.GetAtoms()],
        "numbers": [atom.GetAtomicNum() for atom in mol.GetAtoms()],
        "positions_angstrom": positions,
        "n_heavy_atoms": n_heavy,
        "n_atoms": mol.GetNumAtoms(),
    }


def _gap_ev(orbital_energies_hartree: np.ndarray, occupations: np.ndarray) -> float:
    occupied = np.flatnonzero(occupations > 1.0)
    virtual = np.flatnonzero(occupations < 1.0)
    if occupied.size == 0 or virtual.size == 0:
        return math.nan
    homo = orbital_energies_hartree[occupied].max()
    lumo = orbital_energies_hartree[virtual].min()
    return float((lumo - homo) * HARTREE_TO_EV)


def xtb_properties(
    smiles: str,
    random_seed: int = EMBED_SEED,
    elements: Sequence[str] = SUPPORTED_ELEMENTS,
    accuracy: float = 1.0,
    max_iterations: int = 250,
    threads: int | None = 1,
) -> dict:
    """GFN2-xTB single point (tblite) on the shared RDKit geometry.

    Parameters
    ----------
    smiles : str
        The molecule; the largest fragment is computed, neutral and closed-shell.
    random_seed : int, optional
        Seed of the geometry embedding (:func:`embed_molecule`).
    elements : sequence of str, optional
        Allowed element symbols (default :data:`SUPPORTED_ELEMENTS`).
    accuracy : float, optional
        tblite's numerical accuracy (1.0 is its default; smaller is tighter).
    max_iterations : int, optional
        Maximum number of SCC iterations.
    threads : int or None, optional
        OpenMP threads of the calculation (default 1). One thread is the fastest for small
        molecules, and it keeps xTB from competing with the notebook's other work for the cores:
        with tblite's default of one thread per core, a loaded 2-core machine took about 5 s per
        small molecule instead of 0.03 s. ``None`` leaves the process's setting alone.

    Returns
    -------
    dict
        ``ok``, ``reason``, ``smiles``, ``method`` (``"gfn2-xtb"``), ``homo_lumo_gap`` (eV),
        ``total_energy`` (hartree), ``dipole`` (debye), ``n_heavy_atoms``, ``n_atoms``,
        ``wall_time_s``. On failure ``ok`` is ``False``, ``reason`` says why and the numbers
        are NaN.

    Examples
    --------
    >>> result = xtb_properties("C=C")
    >>> result["ok"], round(result["homo_lumo_gap"], 1) > 3
    (True, True)
    >>> xtb_properties("not a molecule")["reason"][:14]
    'invalid SMILES'
    """
    method = "gfn2-xtb"
    smiles = _check_smiles(smiles)
    accuracy = check_positive("accuracy", accuracy)
    max_iterations = check_positive_int("max_iterations", max_iterations)
    if threads is not None:
        threads = check_positive_int("threads", threads)
    start = time.perf_counter()
    geometry = embed_molecule(smiles, random_seed=random_seed, elements=elements)
    if not geometry["ok"]:
        extra = {k: geometry[k] for k in ("n_heavy_atoms", "permanent") if k in geometry}
        return _failure(geometry["smiles"], method, geometry["reason"], dipole=math.nan, **extra)
    from tblite.exceptions import TBLiteRuntimeError
    from tblite.interface import Calculator

    numbers = np.asarray(geometry["numbers"], dtype=np.int32)
    positions_bohr = geometry["positions_angstrom"] * ANGSTROM_TO_BOHR
    common = {
        "n_heavy_atoms": geometry["n_heavy_atoms"],
        "n_atoms": geometry["n_atoms"],
        "dipole": math.nan,
    }
    try:
        calculator = Calculator("GFN2-xTB", numbers, positions_bohr, charge=0.0, uhf=0)
        calculator.set("verbosity", 0)
        calculator.set("accuracy", float(accuracy))
        calculator.set("max-iter", int(max_iterations))
        with _thread_limit(threads):
            result = calculator.singlepoint()
    except (TBLiteRuntimeError, RuntimeError, ValueError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return _failure(geometry["smiles"], method, f"xTB failed: {message}", **common)
    energies = np.asarray(result.get("orbital-energies"), dtype=float)
    occupations = np.asarray(result.get("orbital-occupations"), dtype=float)
    gap = _gap_ev(energies, occupations)
    dipole = float(np.linalg.norm(result.get("dipole")) * AU_DIPOLE_TO_DEBYE)
    energy = float(result.get("energy"))
    if not (math.isfinite(gap) and math.isfinite(energy)):
        return _failure(geometry["smiles"], method, "xTB returned a non-finite result", **common)
    return {
        "smiles": geometry["smiles"],
        "method": method,
        "ok": True,
        "reason": "",
        "homo_lumo_gap": gap,
        "total_energy": energy,
        "dipole": dipole,
        "n_heavy_atoms": geometry["n_heavy_atoms"],
        "n_atoms": geometry["n_atoms"],
        "wall_time_s": time.perf_counter() - start,
    }


_FUNCTIONALS = ("b3lyp", "pbe0", "pbe", "b97-d", "wb97x", "m06-2x", "hf")


@functools.lru_cache(maxsize=64)
def _pyscf_knows_basis(basis: str) -> bool:
    """Whether PySCF can load ``basis`` for hydrogen or carbon (about a millisecond)."""
    from pyscf.gto import basis as basis_sets

    for element in ("H", "C"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if basis_sets.load(basis, element):
                    return True
            except Exception:  # noqa: BLE001, S112 - PySCF raises KeyError, its own errors, ...
                continue
    return False


def _check_dft_options(functional: object, basis: object) -> tuple[str, str]:
    if not isinstance(functional, str) or functional.lower() not in _FUNCTIONALS:
        raise ValueError(f"functional must be one of {list(_FUNCTIONALS)}, got {functional!r}")
    if not isinstance(basis, str) or not basis.strip():
        raise ValueError(f"basis must be the name of a basis set, e.g. '6-31g*', got {basis!r}")
    basis = basis.strip()
    if not _pyscf_knows_basis(basis):
        raise ValueError(
            f"basis {basis!r} is not a basis set PySCF knows (a misspelling?); "
            "examples: '6-31g*', 'def2-svp', 'cc-pvdz', 'sto-3g'"
        )
    return functional.lower(), basis


def dft_properties(
    smiles: str,
    functional: str = "b3lyp",
    basis: str = "6-31g*",
    random_seed: int = EMBED_SEED,
    elements: Sequence[str] = SUPPORTED_ELEMENTS,
    max_cycle: int = 100,
    conv_tol: float = 1e-9,
    threads: int | None = None,
) -> dict:
    """Restricted Kohn-Sham DFT single point (PySCF) on the shared RDKit geometry.

    Parameters
    ----------
    smiles : str
        The molecule; the largest fragment is computed, neutral and closed-shell.
    functional : str, optional
        Exchange-correlation functional, one of ``"b3lyp"`` (PySCF's B3LYP, with the VWN-RPA
        correlation as in Gaussian), ``"pbe0"``, ``"pbe"``, ``"b97-d"``, ``"wb97x"``,
        ``"m06-2x"`` or ``"hf"`` (Hartree-Fock).
    basis : str, optional
        Gaussian basis set known to PySCF, e.g. ``"6-31g*"``, ``"def2-svp"``.
    random_seed : int, optional
        Seed of the geometry embedding (:func:`embed_molecule`).
    elements : sequence of str, optional
        Allowed element symbols.
    max_cycle : int, optional
        SCF iterations before a second-order (Newton) solver is tried.
    conv_tol : float, optional
        SCF energy convergence threshold in hartree.
    threads : int, optional
        OpenMP threads PySCF may use; ``None`` leaves PySCF's setting as it is.

    Returns
    -------
    dict
        ``ok``, ``reason``, ``smiles``, ``method`` (e.g. ``"rks/b3lyp/6-31g*"``),
        ``homo_lumo_gap`` (eV), ``total_energy`` (hartree), ``n_heavy_atoms``, ``n_atoms``,
        ``n_basis_functions``, ``scf_cycles`` and ``wall_time_s``; on failure ``ok`` is
        ``False``, ``reason`` says why and the numbers are NaN.

    Examples
    --------
    >>> result = dft_properties("O")  # about one second
    >>> result["ok"], round(result["total_energy"], 2)
    (True, -76.41)
    """
    functional, basis = _check_dft_options(functional, basis)
    method = f"{'rhf' if functional == 'hf' else 'rks/' + functional}/{basis.lower()}"
    smiles = _check_smiles(smiles)
    start = time.perf_counter()
    geometry = embed_molecule(smiles, random_seed=random_seed, elements=elements)
    if not geometry["ok"]:
        extra = {k: geometry[k] for k in ("n_heavy_atoms", "permanent") if k in geometry}
        return _failure(geometry["smiles"], method, geometry["reason"], **extra)
    import pyscf
    from pyscf import dft, gto, scf

    if threads is not None:
        pyscf.lib.num_threads(check_positive_int("threads", threads))
    common = {"n_heavy_atoms": geometry["n_heavy_atoms"], "n_atoms": geometry["n_atoms"]}
    atoms = [
        (symbol, tuple(float(x) for x in position))
        for symbol, position in zip(
            geometry["symbols"], geometry["positions_angstrom"], strict=True
        )
    ]
    try:
        mol = gto.M(
            atom=atoms, basis=basis, charge=0, spin=0, unit="Angstrom", verbose=0, output=None
        )
    except (RuntimeError, KeyError, ValueError) as error:
        return _failure(geometry["smiles"], method, f"basis {basis!r} failed: {error}", **common)
    common["n_basis_functions"] = int(mol.nao_nr())
    if functional == "hf":
        mf = scf.RHF(mol)
    else:
        mf = dft.RKS(mol)
        mf.xc = functional
    mf.verbose = 0
    mf.max_cycle = int(max_cycle)
    mf.conv_tol = float(conv_tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            energy = mf.kernel()
            if not mf.converged:
                mf = mf.newton()
                energy = mf.kernel(mf.mo_coeff, mf.mo_occ)
        except (RuntimeError, np.linalg.LinAlgError) as error:
            return _failure(geometry["smiles"], method, f"SCF failed: {error}", **common)
    if not mf.converged:
        return _failure(
            geometry["smiles"],
            method,
            f"SCF did not converge in {max_cycle} cycles (nor with the Newton solver)",
            **common,
        )
    gap = _gap_ev(np.asarray(mf.mo_energy), np.asarray(mf.mo_occ))
    record = {
        "smiles": geometry["smiles"],
        "method": method,
        "ok": True,
        "reason": "",
        "homo_lumo_gap": gap,
        "total_energy": float(energy),
        **common,
        "scf_cycles": int(getattr(mf, "cycles", -1) or -1),
        "wall_time_s": time.perf_counter() - start,
    }
    return record


# --------------------------------------------------------------------------------------------
# batches


ORACLES: dict[str, Callable[..., dict]] = {"xtb": xtb_properties, "dft": dft_properties}
"""Oracles by short name, as :func:`run_oracle_batch` accepts them."""


def limit_threads(threads: int = 1) -> None:
    """Limit the OpenMP/BLAS threads of this process (tblite, PySCF, NumPy).

    Sets ``OMP_NUM_THREADS`` and friends (effective for libraries loaded afterwards), limits
    already loaded OpenMP/BLAS pools through ``threadpoolctl`` when it is installed, and calls
    ``pyscf.lib.num_threads``.

    Parameters
    ----------
    threads : int, optional
        Number of threads.

    Examples
    --------
    >>> limit_threads(1)
    """
    threads = check_positive_int("threads", threads)
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    with contextlib.suppress(ImportError):
        import pyscf

        pyscf.lib.num_threads(threads)


def _thread_limit(threads: int | None):
    """A context that runs the OpenMP/BLAS pools with ``threads`` threads (``None``: unchanged)."""
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a declared dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads)


def _worker_init(threads: int) -> None:
    limit_threads(threads)
    _quiet_rdkit()


def _call_oracle(oracle: Callable[..., dict], smiles: str, options: dict) -> dict:
    try:
        return oracle(smiles, **options)
    except Exception as error:  # noqa: BLE001 - a batch records any failure and goes on
        return _failure(
            smiles, getattr(oracle, "__name__", "oracle"), f"{type(error).__name__}: {error}"
        )


#: Oracle options that do not change a result, left out of the cache key.
_RESULT_NEUTRAL_OPTIONS = ("threads",)


def _oracle_name(function: Callable[..., dict]) -> str:
    module = getattr(function, "__module__", None) or "?"
    return f"{module}.{getattr(function, '__qualname__', type(function).__name__)}"


def _oracle_settings(function: Callable[..., dict], options: dict) -> dict:
    """The oracle and every option that changes its result, defaults filled in (JSON-ready).

    Raises ``TypeError`` if ``options`` do not fit the oracle's signature.
    """
    name = _oracle_name(function)
    settings = dict(options)
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature: options as given
        signature = None
    if signature is not None:
        try:
            bound = signature.bind("C", **options)
        except TypeError as error:
            raise TypeError(
                f"options {sorted(options)} do not fit the oracle {name}: {error}"
            ) from None
        bound.apply_defaults()
        parameters = list(signature.parameters.values())
        settings = {}
        for parameter in parameters[1:]:  # the first one is the SMILES
            if parameter.name not in bound.arguments:
                continue
            value = bound.arguments[parameter.name]
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                settings.update(value)
            elif parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
                settings[parameter.name] = value
    for option in _RESULT_NEUTRAL_OPTIONS:
        settings.pop(option, None)
    if function is dft_properties:
        settings["functional"], basis = _check_dft_options(
            settings.get("functional", "b3lyp"), settings.get("basis", "6-31g*")
        )
        settings["basis"] = basis.lower()  # PySCF reads basis names in any case
    # through JSON once, so that a key read back from a cache file is the same text
    return json.loads(json.dumps({"oracle": name, "options": settings}, default=repr))


def _settings_key(settings: dict) -> str:
    return json.dumps(settings, sort_keys=True)


def _canonical_input(smiles: str) -> str:
    from mi_workbench.molecules.language import canonical_smiles

    return canonical_smiles(smiles) or smiles


def _cacheable(record: dict) -> bool:
    """Successes, and failures that are a property of the molecule (``permanent``)."""
    return record.get("ok") is True or record.get("permanent") is True


def read_cache(path: str | os.PathLike) -> dict[tuple[str, str], dict]:
    """Read a JSON-lines oracle cache into ``{(canonical SMILES, settings): record}``.

    Each line is one record of :func:`run_oracle_batch` with the fields ``canonical_input``
    (the requested molecule in RDKit's canonical form) and ``oracle_settings`` (the oracle and
    every option that changes its result, for example the functional, the basis set and the
    geometry's seed); ``settings`` in the key is ``oracle_settings`` as sorted JSON text. A line
    cut short by an interrupted run, a failure that may succeed another time and a line written
    without these fields (by an older version) are skipped: that molecule is computed again.

    Parameters
    ----------
    path : str or path-like
        The cache file; a missing file is an empty cache.

    Returns
    -------
    dict
        Records by ``(canonical SMILES, settings)``.

    Examples
    --------
    >>> read_cache("/nonexistent/cache.jsonl")
    {}
    """
    path = check_path("path", path)
    records: dict[tuple[str, str], dict] = {}
    if not path.exists():
        return records
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, dict) or not _cacheable(record):
                continue
            smiles, settings = record.get("canonical_input"), record.get("oracle_settings")
            if isinstance(smiles, str) and isinstance(settings, dict):
                records[(smiles, _settings_key(settings))] = record
    return records


def _append(handle, record: dict) -> None:
    handle.write(json.dumps(record, allow_nan=True) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _progress(total: int, description: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, disable=not enabled, unit="mol", smoothing=0.05)


def run_oracle_batch(
    smiles: Iterable[str],
    oracle: str | Callable[..., dict] = "xtb",
    n_workers: int = 1,
    cache_path: str | os.PathLike | None = None,
    progress: bool = True,
    threads_per_worker: int = 1,
    **options,
) -> list[dict]:
    """Run an oracle on many molecules, in parallel, resumable, never stopping on a failure.

    Parameters
    ----------
    smiles : iterable of str
        Molecules; duplicates (also the same molecule written another way) are computed once.
    oracle : {"xtb", "dft"} or callable, optional
        :func:`xtb_properties`, :func:`dft_properties` or any function
        ``f(smiles, **options) -> dict`` (a module-level function when ``n_workers > 1``).
    n_workers : int, optional
        Worker processes; 1 computes in this process.
    cache_path : str or path-like, optional
        JSON-lines file (see :func:`read_cache`). Every finished molecule is appended (and
        flushed) at once; molecules already in it for the same oracle and settings are not
        computed again, so an interrupted batch resumes where it stopped. Entries are keyed by
        the canonical SMILES, the oracle and every option that changes the result (functional,
        basis set, seed of the geometry, accuracy, ...), so one file may serve several methods.
        A failed calculation (SCF not converged, out of memory, a crash) is not stored and is
        computed again on the next call; only molecules the oracle can never compute
        (``permanent`` failures: invalid SMILES, unsupported element, ...) are stored as such.
    progress : bool, optional
        Show a tqdm progress bar.
    threads_per_worker : int, optional
        OpenMP/BLAS threads per worker process (PySCF, tblite).
    **options
        Passed to the oracle, e.g. ``functional="pbe0"``.

    Returns
    -------
    list of dict
        One record per distinct input, in input order; each has the oracle's keys plus
        ``input`` (the SMILES as given), ``canonical_input`` and ``oracle_settings``.

    Raises
    ------
    TypeError
        If ``options`` are not arguments of the oracle.
    ValueError
        If the oracle is unknown, or (DFT) the functional or the basis set is.

    Examples
    --------
    >>> records = run_oracle_batch(["C", "CC", "[Si]"], oracle="xtb", progress=False)
    >>> [record["ok"] for record in records]
    [True, True, False]
    """
    if isinstance(oracle, str):
        if oracle not in ORACLES:
            raise ValueError(
                f"oracle must be one of {sorted(ORACLES)} or a callable, got {oracle!r}"
            )
        function = ORACLES[oracle]
        label = oracle
    elif callable(oracle):
        function = oracle
        label = getattr(oracle, "__name__", "oracle")
    else:
        raise TypeError(f"oracle must be a name or a callable, got {oracle!r}")
    settings = _oracle_settings(function, options)
    settings_key = _settings_key(settings)
    n_workers = check_positive_int("n_workers", n_workers)
    threads_per_worker = check_positive_int("threads_per_worker", threads_per_worker)
    smiles = check_str_sequence("smiles", smiles, allow_empty=True)
    inputs = list(dict.fromkeys(_check_smiles(s) for s in smiles))
    key_of = {text: (_canonical_input(text), settings_key) for text in inputs}
    cached = read_cache(cache_path) if cache_path is not None else {}
    todo = list(dict.fromkeys(key_of[s] for s in inputs if key_of[s] not in cached))
    found: dict[tuple[str, str], dict] = {
        key: cached[key] for key in key_of.values() if key in cached
    }
    first_text = {}
    for text in inputs:
        first_text.setdefault(key_of[text], text)
    handle = None
    if cache_path is not None and todo:
        Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
        cut_short = False
        if Path(cache_path).exists() and Path(cache_path).stat().st_size > 0:
            with open(cache_path, "rb") as tail:
                tail.seek(-1, os.SEEK_END)
                cut_short = tail.read(1) != b"\n"
        handle = open(cache_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in finally
        if cut_short:  # a line cut short by a kill: end it (it is skipped when read)
            handle.write("\n")

    def finish(key: tuple[str, str], record: dict) -> None:
        record = {
            **record,
            "input": first_text[key],
            "canonical_input": key[0],
            "oracle_settings": settings,
        }
        found[key] = record
        if handle is not None and _cacheable(record):
            _append(handle, record)
        bar.update(1)

    n_done = len(inputs) - sum(1 for s in inputs if key_of[s] in todo)
    bar = _progress(len(inputs), label, progress)
    bar.update(n_done)
    try:
        if n_workers == 1:
            for key in todo:
                finish(key, _call_oracle(function, first_text[key], options))
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=n_workers,
                mp_context=context,
                initializer=_worker_init,
                initargs=(threads_per_worker,),
            ) as pool:
                futures = {
                    pool.submit(_call_oracle, function, first_text[key], options): key
                    for key in todo
                }
                from concurrent.futures import as_completed

                try:
                    for future in as_completed(futures):
                        finish(futures[future], future.result())
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
    finally:
        bar.close()
        if handle is not None:
            handle.close()
    return [{**found[key_of[text]], "input": text} for text in inputs]
