"""Compute budgets and learning curves for cheap/expensive (low/high-fidelity) calculations.

How accurate is a model of an expensive quantity (a DFT HOMO-LUMO gap) for a given number of
expensive calculations, with and without many cheap ones (xTB gaps)? And if a fixed amount of
computer time is to be split between the two, which split gives the smallest error? This module
answers both questions *empirically*, by fitting the multi-fidelity regressors of
:mod:`mi_workbench.design.multifidelity` on random subsets of a data set in which both
fidelities were computed, and measuring the error on the expensive values that were held out.

Pieces
------
:func:`molecule_descriptors`, :func:`xtb_dft_fidelity_data`
    The workbench's molecule data set (:func:`mi_workbench.data.load_molecules_xtb_dft`) as model
    inputs: six RDKit descriptors per molecule, the xTB gap (every molecule) and the DFT gap
    (NaN where DFT was not run).
:func:`measured_costs`
    CPU-seconds per molecule of each fidelity, from the wall times recorded in the data set.
:func:`allocate_budget`
    How many cheap and expensive calculations a budget buys for a given split.
:func:`fidelity_split`
    One random split: expensive training items, held-out test items, cheap items.
:func:`evaluate_allocation`, :func:`budget_curve`, :func:`learning_curve`
    Held-out RMSE (and the models' own predicted sd) of one allocation, of every split of a budget
    over a grid of fractions, and of a number of expensive points with and without cheap data.

Design of a split (the same everywhere): the expensive training items are a random subset of the
items with a high-fidelity value; all other such items are the test set. The cheap calculations go
first to the expensive training items (a nested design, as the AR(1) model of Kennedy & O'Hagan
assumes), then to the test items (the candidates whose expensive value we want to predict: a
cheap calculation on them is what transfer learning exploits), then to random other items. Where
an item has no cheap value, the models predict one from the cheap data (with its uncertainty).
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import (
    check_choice,
    check_finite_array,
    check_finite_number,
    check_path,
    check_positive,
    check_positive_int,
)
from mi_workbench.design.multifidelity import TRANSFER_MODELS, make_transfer_model

#: Names of the columns of :func:`molecule_descriptors` (units in :data:`DESCRIPTOR_UNITS`).
MOLECULE_DESCRIPTORS = (
    "molecular_weight",
    "crippen_logp",
    "tpsa",
    "aromatic_atom_fraction",
    "conjugated_bond_fraction",
    "fraction_csp3",
)
DESCRIPTOR_UNITS = {"molecular_weight": "g/mol", "tpsa": "A^2"}

#: Fractions of a budget spent on cheap calculations at which :func:`budget_curve` evaluates
#: by default (dense at small fractions, where a cheap calculation is ~100x cheaper).
DEFAULT_FRACTIONS = (0.0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)

#: Fewest expensive training points that a model is fitted to.
MIN_HIGH = 3

SECONDS_PER_HOUR = 3600.0


# ------------------------------------------------------------------------------------------ data


def molecule_descriptors(smiles: Sequence[str]) -> np.ndarray:
    """Six cheap RDKit descriptors per molecule (columns as :data:`MOLECULE_DESCRIPTORS`).

    Molecular weight (g/mol), Crippen logP, topological polar surface area (A^2), the fraction of
    aromatic heavy atoms, the fraction of conjugated bonds and the fraction of sp3 carbons
    (conjugation sets the HOMO-LUMO gap). A SMILES that RDKit cannot read gives a row of NaN.

    Parameters
    ----------
    smiles : sequence of str

    Returns
    -------
    numpy.ndarray, shape (n_molecules, 6)

    Examples
    --------
    >>> molecule_descriptors(["c1ccccc1"]).round(2).tolist()
    [[78.11, 1.69, 0.0, 1.0, 1.0, 0.0]]
    """
    from rdkit import Chem, RDLogger
    from rdkit.Chem import Crippen, Descriptors, rdMolDescriptors

    if isinstance(smiles, str):
        raise TypeError("smiles must be a sequence of SMILES strings, got a single str")
    if not isinstance(smiles, Sequence | np.ndarray | pd.Series):
        raise TypeError(f"smiles must be a sequence of SMILES strings, got {type(smiles).__name__}")
    RDLogger.DisableLog("rdApp.*")
    rows = []
    for text in smiles:
        mol = Chem.MolFromSmiles(str(text))
        if mol is None:
            rows.append([np.nan] * len(MOLECULE_DESCRIPTORS))
            continue
        n_heavy = max(mol.GetNumHeavyAtoms(), 1)
        n_bonds = max(mol.GetNumBonds(), 1)
        rows.append(
            [
                Descriptors.MolWt(mol),
                Crippen.MolLogP(mol),
                rdMolDescriptors.CalcTPSA(mol),
                sum(a.GetIsAromatic() for a in mol.GetAtoms()) / n_heavy,
                sum(b.GetIsConjugated() for b in mol.GetBonds()) / n_bonds,
                rdMolDescriptors.CalcFractionCSP3(mol),
            ]
        )
    return np.asarray(rows, dtype=float).reshape(len(rows), len(MOLECULE_DESCRIPTORS))


def xtb_dft_fidelity_data(
    path: str | os.PathLike | None = None, *, standardize: bool = True
) -> xr.Dataset:
    """The molecule data set as low/high-fidelity model inputs (dimension ``molecule``).

    Parameters
    ----------
    path : str or path-like, optional
        Another molecule data set file; default the committed one.
    standardize : bool
        Centre and scale each descriptor column over all molecules (the GPs' length-scale priors
        and optimiser starts assume inputs of order 1).

    Returns
    -------
    xarray.Dataset
        ``X`` (molecule, descriptor), ``y_low`` (xTB gap, eV, every molecule), ``y_high`` (DFT
        gap, eV, NaN where DFT was not run), ``smiles``, ``n_heavy_atoms``, ``xtb_wall_time_s``,
        ``dft_wall_time_s``; molecules whose xTB calculation failed or whose descriptors could not
        be computed are left out.

    Examples
    --------
    >>> data = xtb_dft_fidelity_data()
    >>> int(np.isfinite(data["y_high"]).sum()) >= 200
    True
    """
    if path is None:
        return _committed_fidelity_data(bool(standardize)).copy(deep=True)
    return _fidelity_data(check_path("path", path), bool(standardize))


@functools.lru_cache(maxsize=2)
def _committed_fidelity_data(standardize: bool) -> xr.Dataset:
    # RDKit descriptors of ~3,400 molecules take a few seconds: computed once per session
    return _fidelity_data(None, standardize)


def _fidelity_data(path, standardize: bool) -> xr.Dataset:
    from mi_workbench.data.molecules import load_molecules_xtb_dft

    ds = load_molecules_xtb_dft("xtb", path=path)
    X = molecule_descriptors(ds["smiles"].values)
    ok = np.all(np.isfinite(X), axis=1)
    ds, X = ds.isel(molecule=ok), X[ok]
    if standardize:
        scale = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    out = xr.Dataset(
        {
            "X": (("molecule", "descriptor"), X),
            "y_low": ("molecule", ds["xtb_homo_lumo_gap_ev"].values.astype(float)),
            "y_high": ("molecule", ds["dft_homo_lumo_gap_ev"].values.astype(float)),
            "smiles": ("molecule", ds["smiles"].values),
            "n_heavy_atoms": ("molecule", ds["n_heavy_atoms"].values),
            "xtb_wall_time_s": ("molecule", ds["xtb_wall_time_s"].values.astype(float)),
            "dft_wall_time_s": ("molecule", ds["dft_wall_time_s"].values.astype(float)),
        },
        coords={"molecule": ds["molecule"].values, "descriptor": list(MOLECULE_DESCRIPTORS)},
        attrs={
            "low_fidelity": "GFN2-xTB HOMO-LUMO gap",
            "high_fidelity": f"{ds.attrs.get('dft_functional', 'b3lyp').upper()}/"
            f"{ds.attrs.get('dft_basis', '6-31g*').upper()} HOMO-LUMO gap",
            "units": {"y_low": "eV", "y_high": "eV", "xtb_wall_time_s": "s"}
            | {"dft_wall_time_s": "s"},
            "descriptors_standardized": int(bool(standardize)),
            "source": "mi_workbench.data.load_molecules_xtb_dft",
        },
    )
    return out


# ----------------------------------------------------------------------------------------- costs


@dataclass(frozen=True)
class FidelityCosts:
    """Measured cost per calculation of each fidelity (CPU-seconds, one core each)."""

    low_s: float
    high_s: float
    n_low: int
    n_high: int
    low_name: str = "xTB"
    high_name: str = "DFT"

    def __post_init__(self) -> None:
        for name in ("low_s", "high_s"):
            object.__setattr__(self, name, check_positive(name, getattr(self, name)))
        for name in ("n_low", "n_high"):
            object.__setattr__(self, name, check_positive_int(name, getattr(self, name)))
        for name in ("low_name", "high_name"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a str, got {getattr(self, name)!r}")

    @property
    def ratio(self) -> float:
        """How many cheap calculations cost as much as one expensive one."""
        return self.high_s / self.low_s


def measured_costs(data: xr.Dataset | None = None) -> FidelityCosts:
    """Mean CPU-seconds per molecule of xTB and of DFT, from the data set's recorded wall times.

    Each calculation of the committed data set ran on one core, so its wall time is its cost in
    CPU-seconds. The mean (not the median) is used: a budget pays for every molecule. The DFT
    molecules are the smallest ones (<= 12 heavy atoms); DFT on larger molecules costs more.

    Parameters
    ----------
    data : xarray.Dataset, optional
        From :func:`xtb_dft_fidelity_data` or :func:`mi_workbench.data.load_molecules_xtb_dft`;
        default the committed data set.

    Returns
    -------
    FidelityCosts

    Examples
    --------
    >>> costs = measured_costs()
    >>> bool(costs.ratio > 10)
    True
    """
    if data is None:
        from mi_workbench.data.molecules import load_molecules_xtb_dft

        data = load_molecules_xtb_dft("xtb")
    if not isinstance(data, xr.Dataset):
        raise TypeError(f"data must be an xarray.Dataset, got {type(data).__name__}")
    missing = [v for v in ("xtb_wall_time_s", "dft_wall_time_s") if v not in data]
    if missing:
        raise ValueError(f"data has no variable(s) {missing} with the measured wall times")
    low = np.asarray(data["xtb_wall_time_s"].values, dtype=float)
    high = np.asarray(data["dft_wall_time_s"].values, dtype=float)
    low, high = low[np.isfinite(low) & (low > 0)], high[np.isfinite(high) & (high > 0)]
    if not len(low) or not len(high):
        raise ValueError("data has no recorded xTB or DFT wall times")
    return FidelityCosts(float(low.mean()), float(high.mean()), len(low), len(high))


@dataclass(frozen=True)
class BudgetAllocation:
    """What a budget buys: ``n_low`` cheap and ``n_high`` expensive calculations.

    ``n_low_affordable``/``n_high_affordable`` are what the money buys; ``n_low``/``n_high`` are
    capped at what the data set holds (``notes`` says so when a cap applies).
    """

    total_s: float
    cheap_fraction: float
    n_low: int
    n_high: int
    n_low_affordable: int
    n_high_affordable: int
    cost_low_s: float
    cost_high_s: float
    notes: tuple[str, ...] = ()

    @property
    def spent_s(self) -> float:
        """CPU-seconds spent on the calculations actually used."""
        return self.n_low * self.cost_low_s + self.n_high * self.cost_high_s


def allocate_budget(
    total_s: float,
    cheap_fraction: float,
    costs: FidelityCosts,
    *,
    max_low: int | None = None,
    max_high: int | None = None,
) -> BudgetAllocation:
    """Split ``total_s`` CPU-seconds: ``cheap_fraction`` on cheap calculations, the rest expensive.

    Parameters
    ----------
    total_s : float
        The budget in CPU-seconds (> 0).
    cheap_fraction : float
        Share of the budget spent on cheap calculations, in [0, 1].
    costs : FidelityCosts
        Cost of one calculation of each kind (:func:`measured_costs`).
    max_low, max_high : int, optional
        How many items of each fidelity exist (e.g. in a data set): larger counts are capped.

    Returns
    -------
    BudgetAllocation

    Examples
    --------
    >>> costs = FidelityCosts(low_s=0.1, high_s=20.0, n_low=100, n_high=10)
    >>> allocation = allocate_budget(1000.0, 0.02, costs)
    >>> allocation.n_low, allocation.n_high
    (200, 49)
    """
    total_s = check_positive("total_s", total_s)
    fraction = check_finite_number("cheap_fraction", cheap_fraction)
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"cheap_fraction must be between 0 and 1, got {cheap_fraction!r}")
    if not isinstance(costs, FidelityCosts):
        raise TypeError(f"costs must be a FidelityCosts, got {type(costs).__name__}")
    # the small tolerance keeps 0.3 * 1000 / 0.1 from becoming 2999
    n_low = int(math.floor(fraction * total_s / costs.low_s + 1e-9))
    n_high = int(math.floor((1.0 - fraction) * total_s / costs.high_s + 1e-9))
    notes = []
    capped_low, capped_high = n_low, n_high
    max_low = None if max_low is None else check_positive_int("max_low", max_low, minimum=0)
    max_high = None if max_high is None else check_positive_int("max_high", max_high, minimum=0)
    if max_high is not None and n_high > max_high:
        capped_high = int(max_high)
        notes.append(
            f"the budget buys {n_high} {costs.high_name} calculations, but only {max_high} can be "
            f"used for training (the rest of the data set's {costs.high_name} values are the test "
            "set)"
        )
    if max_low is not None and n_low > max_low:
        capped_low = int(max_low)
        notes.append(
            f"the budget buys {n_low} {costs.low_name} calculations; the data set has {max_low}"
        )
    return BudgetAllocation(
        total_s=total_s,
        cheap_fraction=fraction,
        n_low=capped_low,
        n_high=capped_high,
        n_low_affordable=n_low,
        n_high_affordable=n_high,
        cost_low_s=costs.low_s,
        cost_high_s=costs.high_s,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------- splits


@dataclass(frozen=True)
class FidelitySplit:
    """Indices of one split: expensive training items, test items, cheap items."""

    train_high: np.ndarray
    test: np.ndarray
    low: np.ndarray


def _check_seed(random_seed: object) -> int:
    return check_positive_int("random_seed", random_seed, minimum=0)


def _check_y_high(y_high: object) -> np.ndarray:
    """``y_high`` as a 1-D float array; NaN (not computed) is allowed, infinity is not."""
    try:
        y_high = np.asarray(y_high, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"y_high must contain numbers (NaN: not computed), got {y_high!r}"
        ) from None
    if y_high.ndim != 1:
        raise ValueError(f"y_high must be 1-dimensional, got shape {y_high.shape}")
    if y_high.size == 0:
        raise ValueError("y_high is empty")
    if np.isinf(y_high).any():
        raise ValueError("y_high contains an infinite value; use NaN for 'not computed'")
    return y_high


def _check_pool(X, y_low, y_high) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = check_finite_array("X", X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_items, n_features), got {X.shape}")
    y_low = check_finite_array("y_low", y_low, ndim=1)
    y_high = _check_y_high(y_high)
    if not (len(X) == len(y_low) == len(y_high)):
        raise ValueError(
            f"X, y_low and y_high must describe the same items: got {len(X)}, {len(y_low)} and "
            f"{len(y_high)} rows"
        )
    return X, y_low, y_high


def fidelity_split(
    y_high: np.ndarray,
    n_high: int,
    n_low: int | None,
    rng: np.random.Generator,
    *,
    n_test_max: int | None = None,
) -> FidelitySplit:
    """One random split of a pool whose ``y_high`` is NaN where the expensive value is unknown.

    The first ``n_high`` items of a random order of those with a high-fidelity value train; the
    rest (at most ``n_test_max``) are the test set. Cheap items: the training items, then the test
    items, then random other items, ``n_low`` in all (``None``: every item). With the same ``rng``
    state, a larger ``n_high`` extends the training set of a smaller one (nested learning curves).

    Examples
    --------
    >>> y_high = np.array([1.0, np.nan, 2.0, 3.0, np.nan, 4.0])
    >>> split = fidelity_split(y_high, 2, 4, np.random.default_rng(0))
    >>> len(split.train_high), len(split.test), len(split.low)
    (2, 2, 4)
    """
    y_high = _check_y_high(y_high)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got "
            f"{type(rng).__name__}"
        )
    with_high = np.flatnonzero(np.isfinite(y_high))
    n_high = check_positive_int("n_high", n_high)
    if n_high >= len(with_high):
        raise ValueError(
            f"n_high must be smaller than the {len(with_high)} items with a high-fidelity value "
            f"(the others are the test set), got {n_high}"
        )
    order = rng.permutation(with_high)
    train, test = order[:n_high], order[n_high:]
    if n_test_max is not None:
        test = test[: check_positive_int("n_test_max", n_test_max)]
    others = rng.permutation(np.setdiff1d(np.arange(len(y_high)), np.concatenate([train, test])))
    priority = np.concatenate([train, test, others])
    n_low = len(priority) if n_low is None else check_positive_int("n_low", n_low, minimum=0)
    return FidelitySplit(np.sort(train), np.sort(test), np.sort(priority[:n_low]))


# ------------------------------------------------------------------------------------ evaluation


def _model_options(model: str, random_seed: int, options: dict | None) -> dict:
    return {"random_seed": random_seed} | dict(options or {})


def _fit_and_score(X, y_low, y_high, split: FidelitySplit, model: str, seed: int, options):
    """RMSE, predicted sd, coverage and seconds of one fit; the model actually used."""
    used = model if len(split.low) >= 2 or model == "single_fidelity" else "single_fidelity"
    regressor = make_transfer_model(used, **_model_options(used, seed, options))
    X_low, low = (X[split.low], y_low[split.low]) if len(split.low) >= 2 else (X[:2], y_low[:2])
    start = time.perf_counter()
    regressor.fit(X_low, low, X[split.train_high], y_high[split.train_high])
    mean, sd = regressor.predict(X[split.test])
    seconds = time.perf_counter() - start
    truth = y_high[split.test]
    error = mean - truth
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "predicted_sd": float(np.sqrt(np.mean(sd**2))),
        "coverage_95": float(np.mean(np.abs(error) <= 1.96 * sd)),
        "seconds": seconds,
        "model_used": used,
    }


def evaluate_allocation(
    X,
    y_low,
    y_high,
    n_low: int,
    n_high: int,
    *,
    model: str = "ar1",
    n_repeats: int = 3,
    random_seed: int = 0,
    model_options: dict | None = None,
) -> dict:
    """Held-out error of a model fitted on ``n_low`` cheap and ``n_high`` expensive items.

    For each repeat, :func:`fidelity_split` draws the items (seeded by ``(random_seed, repeat)``,
    so different allocations share their random orders), the model is fitted and the RMSE on all
    remaining items with an expensive value is measured. With fewer than 2 cheap items every model
    is the single-fidelity GP (there is nothing to transfer).

    Parameters
    ----------
    X : array (n_items, n_features)
        Inputs of every item.
    y_low : array (n_items,)
        Cheap values (every item).
    y_high : array (n_items,)
        Expensive values, NaN where not computed.
    n_low, n_high : int
        Cheap and expensive training calculations (``n_high >= 3``).
    model : {"single_fidelity", "ar1", "difference", "proxy"}
        Regressor of :mod:`mi_workbench.design.multifidelity`.
    n_repeats : int
        Random splits to average over.
    random_seed : int
        Seed of the splits (and of the regressors' optimiser restarts).
    model_options : dict, optional
        Passed to :func:`~mi_workbench.design.make_transfer_model`.

    Returns
    -------
    dict
        ``rmse`` (mean over repeats), ``rmse_se`` (standard error, NaN for 1 repeat),
        ``predicted_sd`` (root-mean-square of the models' predicted sd over the test items,
        averaged over repeats), ``coverage_95`` (share of test items within +-1.96 sd),
        ``n_test``, ``seconds`` (fit + predict, summed), ``model_used``, ``rmse_per_repeat``.

    Examples
    --------
    >>> data = xtb_dft_fidelity_data()  # doctest: +SKIP
    >>> result = evaluate_allocation(
    ...     data.X, data.y_low, data.y_high, 500, 20, model="proxy"
    ... )  # doctest: +SKIP
    """
    X, y_low, y_high = _check_pool(X, y_low, y_high)
    model = check_choice("model", model, tuple(TRANSFER_MODELS))
    n_high = check_positive_int("n_high", n_high, minimum=MIN_HIGH)
    n_low = check_positive_int("n_low", n_low, minimum=0)
    n_repeats = check_positive_int("n_repeats", n_repeats)
    results = []
    for repeat in range(n_repeats):
        rng = np.random.default_rng([_check_seed(random_seed), repeat])
        split = fidelity_split(y_high, n_high, n_low, rng)
        results.append(
            _fit_and_score(X, y_low, y_high, split, model, random_seed + repeat, model_options)
            | {"n_test": len(split.test)}
        )
    rmse = np.array([r["rmse"] for r in results])
    return {
        "rmse": float(rmse.mean()),
        "rmse_se": float(rmse.std(ddof=1) / math.sqrt(len(rmse))) if len(rmse) > 1 else np.nan,
        "predicted_sd": float(np.mean([r["predicted_sd"] for r in results])),
        "coverage_95": float(np.mean([r["coverage_95"] for r in results])),
        "n_test": int(results[0]["n_test"]),
        "seconds": float(sum(r["seconds"] for r in results)),
        "model_used": results[0]["model_used"],
        "rmse_per_repeat": rmse.tolist(),
    }


Progress = Callable[[int, int], None]


def budget_curve(
    X,
    y_low,
    y_high,
    total_s: float,
    costs: FidelityCosts,
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    model: str = "ar1",
    n_repeats: int = 3,
    random_seed: int = 0,
    min_test: int = 20,
    model_options: dict | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Held-out RMSE on the expensive quantity for each split of a budget.

    For each fraction, :func:`allocate_budget` turns the budget into ``n_low`` cheap and
    ``n_high`` expensive calculations (``n_high`` capped so that ``min_test`` items stay for
    testing, ``n_low`` at the pool's size) and :func:`evaluate_allocation` measures the error.
    Fractions that buy fewer than 3 expensive calculations get NaN.

    Parameters
    ----------
    X, y_low, y_high :
        As in :func:`evaluate_allocation`.
    total_s : float
        Budget in CPU-seconds.
    costs : FidelityCosts
        Cost per calculation (:func:`measured_costs`).
    fractions : sequence of float
        Shares of the budget spent on cheap calculations, each in [0, 1].
    model, n_repeats, random_seed, model_options :
        As in :func:`evaluate_allocation`.
    min_test : int
        Items with an expensive value kept out of training.
    progress : callable(done, total), optional
        Called after each fraction (a progress bar).

    Returns
    -------
    pandas.DataFrame
        One row per fraction: ``cheap_fraction``, ``n_low``, ``n_high``, ``n_low_affordable``,
        ``n_high_affordable``, ``rmse``, ``rmse_se``, ``predicted_sd``, ``coverage_95``,
        ``n_test``, ``seconds``, ``model_used``; ``attrs`` hold the settings.

    Examples
    --------
    >>> data = xtb_dft_fidelity_data()  # doctest: +SKIP
    >>> table = budget_curve(data.X, data.y_low, data.y_high, 1800.0, measured_costs(data),
    ...                      model="proxy")  # doctest: +SKIP
    """
    X, y_low, y_high = _check_pool(X, y_low, y_high)
    model = check_choice("model", model, tuple(TRANSFER_MODELS))
    min_test = check_positive_int("min_test", min_test)
    fractions = list(check_finite_array("fractions", fractions, ndim=1))
    random_seed = _check_seed(random_seed)
    if not fractions:
        raise ValueError("fractions must hold at least one value in [0, 1]")
    n_with_high = int(np.isfinite(y_high).sum())
    if n_with_high - min_test < MIN_HIGH:
        raise ValueError(
            f"y_high has {n_with_high} finite values; with min_test={min_test} fewer than "
            f"{MIN_HIGH} are left for training"
        )
    rows = []
    for i, fraction in enumerate(fractions):
        allocation = allocate_budget(
            total_s, fraction, costs, max_low=len(y_low), max_high=n_with_high - min_test
        )
        row = {
            "cheap_fraction": fraction,
            "n_low": allocation.n_low,
            "n_high": allocation.n_high,
            "n_low_affordable": allocation.n_low_affordable,
            "n_high_affordable": allocation.n_high_affordable,
        }
        if allocation.n_high >= MIN_HIGH:
            row |= evaluate_allocation(
                X,
                y_low,
                y_high,
                allocation.n_low,
                allocation.n_high,
                model=model,
                n_repeats=n_repeats,
                random_seed=random_seed,
                model_options=model_options,
            )
            row.pop("rmse_per_repeat")
        else:
            row |= {
                "rmse": np.nan,
                "rmse_se": np.nan,
                "predicted_sd": np.nan,
                "coverage_95": np.nan,
                "n_test": 0,
                "seconds": 0.0,
                "model_used": "too few expensive calculations",
            }
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(fractions))
    table = pd.DataFrame(rows)
    table.attrs = {
        "total_s": float(total_s),
        "model": model,
        "n_repeats": int(n_repeats),
        "random_seed": int(random_seed),
        "cost_low_s": costs.low_s,
        "cost_high_s": costs.high_s,
    }
    return table


def learning_curve(
    X,
    y_low,
    y_high,
    n_high_values: Sequence[int],
    *,
    models: Sequence[str] = ("single_fidelity", "ar1"),
    n_low: int | None = None,
    n_splits: int = 5,
    random_seed: int = 0,
    n_test_max: int | None = None,
    model_options: dict | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Held-out RMSE against the number of expensive training points, for several models.

    Every model sees the same split (:func:`fidelity_split`, seeded by ``(random_seed, split)``).

    Parameters
    ----------
    X, y_low, y_high :
        As in :func:`evaluate_allocation`.
    n_high_values : sequence of int
        Numbers of expensive training points (each >= 3 and below the number of items with an
        expensive value).
    models : sequence of str
        Names in :data:`~mi_workbench.design.TRANSFER_MODELS`.
    n_low : int, optional
        Cheap items per split (default: every item).
    n_splits : int
        Random splits per point.
    random_seed : int
        Seed of the splits.
    n_test_max : int, optional
        At most this many test items per split.
    model_options : dict, optional
        Model name -> options for :func:`~mi_workbench.design.make_transfer_model`.
    progress : callable(done, total), optional

    Returns
    -------
    pandas.DataFrame
        One row per (model, n_high, split): ``model``, ``n_high``, ``split``, ``rmse``,
        ``predicted_sd``, ``coverage_95``, ``seconds``, ``n_test``, ``n_low``.

    Examples
    --------
    >>> data = xtb_dft_fidelity_data()  # doctest: +SKIP
    >>> curve = learning_curve(data.X, data.y_low, data.y_high, [10, 20, 50])  # doctest: +SKIP
    """
    X, y_low, y_high = _check_pool(X, y_low, y_high)
    if isinstance(models, str) or not isinstance(models, Sequence):
        raise TypeError(f"models must be a sequence of model names, got {models!r}")
    random_seed = _check_seed(random_seed)
    models = [check_choice("models", m, tuple(TRANSFER_MODELS)) for m in models]
    if not models:
        raise ValueError("models must name at least one model")
    if isinstance(n_high_values, str) or not isinstance(n_high_values, Sequence | np.ndarray):
        raise TypeError(f"n_high_values must be a sequence of integers, got {n_high_values!r}")
    if len(n_high_values) == 0:
        raise ValueError("n_high_values is empty; give at least one number of expensive points")
    n_values = [check_positive_int("n_high_values", n, minimum=MIN_HIGH) for n in n_high_values]
    n_splits = check_positive_int("n_splits", n_splits)
    options = dict(model_options or {})
    unknown = [k for k in options if k not in TRANSFER_MODELS]
    if unknown:
        raise ValueError(f"model_options keys must be model names {list(TRANSFER_MODELS)}")
    rows = []
    total, done = len(n_values) * n_splits, 0
    for n_high in n_values:
        for split_index in range(n_splits):
            rng = np.random.default_rng([int(random_seed), split_index])
            split = fidelity_split(y_high, n_high, n_low, rng, n_test_max=n_test_max)
            for name in models:
                result = _fit_and_score(
                    X, y_low, y_high, split, name, random_seed + split_index, options.get(name)
                )
                rows.append(
                    {
                        "model": name,
                        "n_high": n_high,
                        "split": split_index,
                        "rmse": result["rmse"],
                        "predicted_sd": result["predicted_sd"],
                        "coverage_95": result["coverage_95"],
                        "seconds": result["seconds"],
                        "n_test": len(split.test),
                        "n_low": len(split.low),
                    }
                )
            done += 1
            if progress is not None:
                progress(done, total)
    return pd.DataFrame(rows)
