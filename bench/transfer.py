"""Transfer learning and multi-fidelity on real pairs of fidelities: learning curves.

Root-mean-square error (RMSE) on held-out high-fidelity values of

- the workbench's single-fidelity GP (high-fidelity points only),
- the workbench's AR1 (Kennedy-O'Hagan) multi-fidelity GP: high = rho * low + delta,
- the workbench's nonlinear autoregressive GP ("NARGP", Perdikaris et al., Proc. R. Soc. A 473,
  20160751, 2017): high = g(x, low(x)), with and without an added linear term in the low fidelity,
- the workbench's "difference" and "proxy as descriptor" transfer models (Hutchinson et al. 2017),
- Emukit's linear multi-fidelity model (``GPyLinearMultiFidelityModel``, the same AR1 model in
  GPy, an independent implementation) on the same splits and the same training data,

for n_high = 10, 20, 50, 100 high-fidelity training points and >= 10 seeded random splits each.

Data sets and design (the same for every model)
-----------------------------------------------
``xtb_dft``: the workbench's own molecules (:func:`mi_workbench.data.load_molecules_xtb_dft`).
Low fidelity = GFN2-xTB HOMO-LUMO gap, high fidelity = B3LYP/6-31G* HOMO-LUMO gap (eV). Input x =
six RDKit descriptors of the molecule, standardised (molecular weight, Crippen logP, topological
polar surface area, fraction of aromatic heavy atoms, fraction of conjugated bonds, fraction of
sp3 carbons); continuous ones, so that nearly every molecule has its own descriptor vector (the
workbench's models look the low-fidelity value up by exact descriptor row; the few molecules that
share a vector share the mean of their xTB gaps).
The input does NOT contain the xTB gap: the single-fidelity GP sees only the descriptors and
the n_high DFT gaps. Scenario: xTB is cheap, so it is computed for every molecule, including the
ones whose DFT gap we want to predict. The low-fidelity training set of the multi-fidelity models
is therefore the xTB gaps of all molecules with a DFT gap (training and test) plus random other
molecules up to 200 points; the test set is at most 120 random molecules with a DFT gap that are
not in training (fewer points keep Emukit's exact GP affordable, see ``SIZES``).

``pbe_hse`` and ``pbe_exp``: band gaps of Chen et al., Nat. Comput. Sci. 1, 46 (2021), read from
``../shared/data/reference/chen2021_bandgap_fidelity_pairs.csv`` (never copied into the project).
The file has no composition or structure, so the only cheap descriptor is the PBE gap itself:
input x = PBE gap (eV), low fidelity = PBE gap, high fidelity = HSE gap or the experimental gap.
Here the single-fidelity GP already sees each material's PBE gap (as its input), so the
multi-fidelity models get no extra information about a new material; what they add is the
structure "high = rho * low + smooth correction" learnt from the abundant low fidelity, which
matters most where the few high-fidelity points do not reach (large gaps). The low-fidelity set
is the training materials, the test materials and random other materials with a PBE gap up to
300 points; the test set is at most 400 random materials with both gaps that are
not in training.

Every model is given exactly the same arrays in a split. RMSE is over the test set of that split;
the tables give the mean over splits (and the standard error), and the ratios of the means.

Run ``.venv/bin/python bench/transfer.py --jobs 2`` (Emukit's fits dominate the time) or
``--quick`` (n_high 10 and 20, 2 splits, xtb_dft and pbe_hse) for a smoke run. ``--data`` reruns
some data sets and keeps the other data sets' rows of the previous run
(``results/transfer_runs.csv``). Emukit and GPy are bench-only dependencies:
``.venv/bin/pip install -r bench/requirements.txt``; without them the Emukit columns say why they
are missing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _report import RESULTS, machine_info, save_table  # noqa: E402

from mi_workbench.design.budget import (  # noqa: E402
    MOLECULE_DESCRIPTORS,
    molecule_descriptors,
)

REFERENCE = ROOT.parent / "shared" / "data" / "reference"
CHEN_FILE = "chen2021_bandgap_fidelity_pairs.csv"
CHEN = "Chen et al., Nat. Comput. Sci. 1, 46 (2021)"
HUTCHINSON = "Hutchinson et al., arXiv:1711.05099 (2017)"
N_HIGH = (10, 20, 50, 100)
#: data set -> (low-fidelity points per split, at most this many held-out test points); the
#: low-fidelity set always holds the training and test items (Emukit's exact GP costs O(n^3))
SIZES = {"xtb_dft": (200, 120), "pbe_hse": (300, 400), "pbe_exp": (300, 400)}


@dataclass
class FidelityPairs:
    """A pool of items with an input x, a low-fidelity value for all and a high one for some."""

    name: str
    description: str
    X: np.ndarray  # (n, d) model inputs
    y_low: np.ndarray  # (n,) finite
    y_high: np.ndarray  # (n,) NaN where not computed/measured
    input_names: tuple[str, ...]


@dataclass
class Split:
    """One random split: indices into a :class:`FidelityPairs` pool."""

    train_high: np.ndarray
    test: np.ndarray
    low: np.ndarray  # low-fidelity training points (contains train_high and test)


# ----------------------------------------------------------------------------------------- data


def load_xtb_dft(path: str | None = None) -> FidelityPairs:
    """The workbench's xTB -> DFT HOMO-LUMO gaps with RDKit descriptors as input."""
    from mi_workbench.data.molecules import load_molecules_xtb_dft

    ds = load_molecules_xtb_dft("xtb", path=path)
    X = molecule_descriptors(ds["smiles"].values)
    ok = np.all(np.isfinite(X), axis=1)
    X = X[ok]
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    y_low = ds["xtb_homo_lumo_gap_ev"].values[ok].astype(float)
    y_high = ds["dft_homo_lumo_gap_ev"].values[ok].astype(float)
    n_dft = int(np.isfinite(y_high).sum())
    return FidelityPairs(
        "xtb_dft",
        f"workbench molecules: GFN2-xTB gap -> B3LYP/6-31G* gap ({len(y_low)} with xTB, "
        f"{n_dft} with DFT); x = {len(MOLECULE_DESCRIPTORS)} RDKit descriptors",
        X,
        y_low,
        y_high,
        MOLECULE_DESCRIPTORS,
    )


def load_chen(high: str) -> FidelityPairs:
    """Chen 2021 band gaps: PBE -> ``high`` ("hse" or "exp"), x = PBE gap."""
    path = REFERENCE / CHEN_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the band-gap sets need ../shared/ beside it")
    frame = pd.read_csv(path)
    frame.columns = ["pbe", "gllb_sc", "scan", "hse", "exp"]  # LaTeX names in the file
    frame = frame[np.isfinite(frame["pbe"])]
    y_low = frame["pbe"].to_numpy(float)
    y_high = frame[high].to_numpy(float)
    label = {"hse": "HSE", "exp": "experiment"}[high]
    return FidelityPairs(
        f"pbe_{high}",
        f"{CHEN}: PBE gap -> {label} gap ({len(y_low)} with PBE, "
        f"{int(np.isfinite(y_high).sum())} with both); x = PBE gap",
        y_low[:, None].copy(),
        y_low,
        y_high,
        ("pbe_gap_ev",),
    )


def make_split(data: FidelityPairs, n_high: int, seed: int) -> Split:
    """Seeded split: n_high training items, the rest (at most ``SIZES[name][1]``) as test."""
    n_low, n_test_max = SIZES[data.name]
    rng = np.random.default_rng([seed, n_high, len(data.y_low)])
    with_high = np.flatnonzero(np.isfinite(data.y_high))
    order = rng.permutation(with_high)
    train = np.sort(order[:n_high])
    rest = order[n_high:]
    rest = rest[:n_test_max]
    test = np.sort(rest)
    others = np.setdiff1d(np.arange(len(data.y_low)), np.concatenate([train, test]))
    n_extra = max(n_low - len(train) - len(test), 0)
    extra = rng.choice(others, size=min(n_extra, len(others)), replace=False)
    low = np.concatenate([train, test, extra])
    # identical (x, low value) rows carry no information and make exact GPs singular (many
    # metals have x = PBE gap = 0): keep one of each
    _, first = np.unique(np.column_stack([data.X[low], data.y_low[low]]), axis=0, return_index=True)
    return Split(train, test, np.sort(low[first]))


# --------------------------------------------------------------------------------------- models

#: name -> callable(X_low, y_low, X_high, y_high, X_test, seed) -> predicted mean at X_test
Model = Callable[..., np.ndarray]


def emukit_linear_mf(
    X_low, y_low, X_high, y_high, X_test, seed, *, restarts=2, fix_low_noise=False
) -> np.ndarray:
    """Emukit's linear multi-fidelity model (AR1 in GPy), set up as in Emukit's example.

    ARD RBF kernels for the low fidelity and the correction; outputs standardised with the low
    fidelity's mean and sd (one affine map for both fidelities keeps the AR1 relation);
    ``restarts`` optimiser restarts. Noise variances (standardised units) are learnt within
    [1e-6, 10] (the lower bound keeps the covariance positive definite where inputs repeat;
    if the Cholesky factorisation still fails, the fit is repeated with a floor of 1e-4), or,
    with ``fix_low_noise``, the low fidelity's is fixed at 1e-6 (Emukit's example fixes both at
    0: the cheap calculation is deterministic) and the high fidelity's is learnt.
    """
    import GPy
    from emukit.model_wrappers.gpy_model_wrappers import GPyMultiOutputWrapper
    from emukit.multi_fidelity.convert_lists_to_array import convert_xy_lists_to_arrays
    from emukit.multi_fidelity.kernels import LinearMultiFidelityKernel
    from emukit.multi_fidelity.models import GPyLinearMultiFidelityModel

    np.random.seed(seed)  # noqa: NPY002 - GPy's restarts draw from the global generator
    centre, scale = float(np.mean(y_low)), float(np.std(y_low)) or 1.0
    X, Y = convert_xy_lists_to_arrays(
        [X_low, X_high], [((y_low - centre) / scale)[:, None], ((y_high - centre) / scale)[:, None]]
    )
    d = X_low.shape[1]
    kernel = LinearMultiFidelityKernel([GPy.kern.RBF(d, ARD=True), GPy.kern.RBF(d, ARD=True)])
    gpy_model = GPyLinearMultiFidelityModel(X, Y, kernel, n_fidelities=2)
    noise_low = gpy_model.mixed_noise.Gaussian_noise
    noise_high = gpy_model.mixed_noise.Gaussian_noise_1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fix_low_noise:
            noise_low.variance.fix(1e-6)
        else:
            noise_low.variance.constrain_bounded(1e-6, 10.0, warning=False)
        noise_high.variance.constrain_bounded(1e-6, 10.0, warning=False)
        model = GPyMultiOutputWrapper(gpy_model, 2, n_optimization_restarts=restarts)
        try:
            model.optimize()
        except np.linalg.LinAlgError:  # once more from the start with a larger noise floor
            gpy_model = GPyLinearMultiFidelityModel(X, Y, kernel.copy(), n_fidelities=2)
            for noise in gpy_model.mixed_noise.parameters:
                noise.variance.constrain_bounded(1e-4, 10.0, warning=False)
            model = GPyMultiOutputWrapper(gpy_model, 2, n_optimization_restarts=restarts)
            model.optimize()
    mean, _ = model.predict(np.column_stack([X_test, np.ones(len(X_test))]))
    return mean.ravel() * scale + centre


def emukit_status() -> str:
    """ "" if Emukit's multi-fidelity model imports, else the error message."""
    try:
        import GPy  # noqa: F401
        from emukit.multi_fidelity.models import GPyLinearMultiFidelityModel  # noqa: F401
    except Exception as error:  # noqa: BLE001 - any import failure is reported as it is
        return f"{type(error).__name__}: {error}"
    return ""


#: Column name -> (name in :data:`mi_workbench.design.TRANSFER_MODELS`, options).
WORKBENCH_MODELS = {
    "single-fidelity": ("single_fidelity", {}),
    "AR1 MF": ("ar1", {}),
    "NARGP": ("nargp", {}),
    "NARGP (paper kernel)": ("nargp", {"linear_term": False}),
    "difference": ("difference", {}),
    "proxy": ("proxy", {}),
}
#: Multi-fidelity/transfer columns compared with the single-fidelity GP (and Emukit).
MF_MODELS = ("AR1 MF", "NARGP", "NARGP (paper kernel)", "difference", "proxy")


def workbench_models() -> dict[str, Model]:
    """The workbench's regressors (fast type-II ML variants, their defaults) as :data:`Model`."""
    from mi_workbench.design import make_transfer_model

    def runner(name: str, options: dict) -> Model:
        def run(X_low, y_low, X_high, y_high, X_test, seed):
            model = make_transfer_model(name, random_seed=seed, **options)
            return model.fit(X_low, y_low, X_high, y_high).predict(X_test)[0]

        return run

    return {column: runner(*spec) for column, spec in WORKBENCH_MODELS.items()}


# ------------------------------------------------------------------------------------ benchmark


def rmse(prediction: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(prediction) - truth) ** 2)))


EMUKIT = ("Emukit linear MF", "Emukit (low noise fixed)")


def build_models(restarts: int, extra: bool = True) -> dict[str, Model]:
    """The workbench's regressors and, when it imports, Emukit's linear model (two settings)."""
    models = workbench_models()
    if not extra:
        models = {k: v for k, v in models.items() if k in ("single-fidelity", "AR1 MF")}
    if not emukit_status():
        models[EMUKIT[0]] = lambda *a: emukit_linear_mf(*a, restarts=restarts)
        models[EMUKIT[1]] = lambda *a: emukit_linear_mf(*a, restarts=restarts, fix_low_noise=True)
    return models


def load(name: str, molecules: str | None) -> FidelityPairs:
    if name == "xtb_dft":
        return load_xtb_dft(molecules)
    return load_chen(name.split("_")[1])


def run_task(task: tuple) -> list[dict]:
    """One (data set, n_high) cell: every split and model; one row per (split, model)."""
    name, molecules, n_high, n_splits, restarts, extra = task
    data = load(name, molecules)
    models = build_models(restarts, extra)
    records = []
    for seed in range(n_splits):
        split = make_split(data, n_high, seed)
        arrays = (
            data.X[split.low],
            data.y_low[split.low],
            data.X[split.train_high],
            data.y_high[split.train_high],
            data.X[split.test],
        )
        truth = data.y_high[split.test]
        for model_name, model in models.items():
            start = time.perf_counter()
            try:
                prediction = model(*arrays, seed)
                error, message = rmse(prediction, truth), ""
            except Exception as failure:  # noqa: BLE001 - recorded, the run goes on
                error, message = np.nan, f"{type(failure).__name__}: {failure}"
            seconds = time.perf_counter() - start
            records.append(
                {
                    "data": data.name,
                    "n_high": n_high,
                    "split": seed,
                    "model": model_name,
                    "rmse_ev": error,
                    "seconds": seconds,
                    "error": message,
                    "n_test": len(split.test),
                    "n_low": len(split.low),
                    "description": data.description,
                }
            )
            print(
                f"{data.name} n_high={n_high} split={seed} {model_name}: RMSE {error:.3f} eV "
                f"({seconds:.1f} s){' ' + message if message else ''}",
                flush=True,
            )
    return records


def _mean_sem(values: np.ndarray) -> tuple[float, str]:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return np.nan, "failed"
    sem = finite.std(ddof=1) / np.sqrt(len(finite)) if len(finite) > 1 else np.nan
    failed = len(values) - len(finite)
    text = f"{finite.mean():.3f} +- {sem:.3f}" + (f" ({failed} failed)" if failed else "")
    return finite.mean(), text


def summarise(records: pd.DataFrame, models: list[str]) -> list[dict]:
    """Mean RMSE (+- standard error) per data set and n_high, and AR1 MF's ratios.

    ``MF <= Emukit`` counts the splits in which the workbench's AR1 model is at least as
    accurate as the Emukit setting (learnt noise / fixed low-fidelity noise); the other
    multi-fidelity models' ratios are in :func:`ratio_rows`.
    """
    rows = []
    for (name, n_high), group in records.groupby(["data", "n_high"], sort=False):
        wide = group.pivot(index="split", columns="model", values="rmse_ev")
        row = {"data": name, "n_high": int(n_high), "splits": len(wide)}
        means = {}
        for model in models:
            if model not in wide:
                row[model] = "unavailable"
                continue
            means[model], row[model] = _mean_sem(wide[model].to_numpy(float))
        mf, sf = means.get("AR1 MF", np.nan), means.get("single-fidelity", np.nan)
        row["MF / SF"] = f"{mf / sf:.2f}"
        per_split = (wide["AR1 MF"] / wide["single-fidelity"]).median()
        row["MF / SF (median over splits)"] = f"{per_split:.2f}"
        ratios, wins = [], []
        for emukit in EMUKIT:
            if emukit in means:
                ratios.append(f"{mf / means[emukit]:.2f}")
                wins.append(f"{int((wide['AR1 MF'] <= wide[emukit]).sum())}/{len(wide)}")
        row["MF / Emukit"] = ", ".join(ratios) or "-"
        row["MF <= Emukit (splits)"] = ", ".join(wins) or "-"
        rows.append(row)
    return rows


RATIO_NOTES = [
    "Each multi-fidelity model against the single-fidelity GP (ratio of mean RMSEs, median of",
    "the per-split ratios in brackets) and against Emukit's linear model with learnt noise",
    "(ratio of mean RMSEs; splits in which the model is at least as accurate). NARGP =",
    "nonlinear autoregressive GP (Perdikaris et al., Proc. R. Soc. A 473, 20160751, 2017) with",
    "an added linear term in the low fidelity; 'paper kernel' = without it.",
]


def ratio_rows(records: pd.DataFrame) -> list[dict]:
    """Every multi-fidelity model against the single-fidelity GP and Emukit, per cell.

    ``/ SF``: ratio of the mean RMSEs (median of the per-split ratios in brackets).
    ``/ Emukit``: ratio of the mean RMSE to Emukit's (learnt noise) and the number of splits in
    which the model is at least as accurate as Emukit.
    """
    rows = []
    for (name, n_high), group in records.groupby(["data", "n_high"], sort=False):
        wide = group.pivot(index="split", columns="model", values="rmse_ev")
        sf = wide["single-fidelity"]
        emukit = wide[EMUKIT[0]] if EMUKIT[0] in wide else None
        for model in MF_MODELS:
            if model not in wide:
                continue
            values = wide[model]
            row = {
                "data": name,
                "n_high": int(n_high),
                "model": model,
                "RMSE / SF": f"{values.mean() / sf.mean():.2f} ({(values / sf).median():.2f})",
            }
            if emukit is not None:
                row["RMSE / Emukit"] = f"{values.mean() / emukit.mean():.2f}"
                row["<= Emukit (splits)"] = f"{int((values <= emukit).sum())}/{len(values)}"
            rows.append(row)
    return rows


def timing_rows(records: pd.DataFrame) -> list[dict]:
    rows = []
    for (name, model), group in records.groupby(["data", "model"], sort=False):
        rows.append(
            {
                "data": name,
                "model": model,
                "median fit+predict (s)": f"{group['seconds'].median():.2f}",
                "max (s)": f"{group['seconds'].max():.2f}",
                "n_low": int(group["n_low"].max()),
            }
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 splits, n_high 10, 20")
    parser.add_argument("--splits", type=int, default=10, help="random splits per n_high")
    parser.add_argument("--n-high", type=int, nargs="+", default=list(N_HIGH))
    parser.add_argument(
        "--data",
        nargs="+",
        default=["xtb_dft", "pbe_hse", "pbe_exp"],
        choices=["xtb_dft", "pbe_hse", "pbe_exp"],
        help="data sets to (re)run; rows of the others are kept from the previous run's CSV",
    )
    parser.add_argument("--molecules", default=None, help="another molecule netCDF file")
    parser.add_argument("--no-extra", action="store_true", help="only SF, AR1 MF and Emukit")
    parser.add_argument("--restarts", type=int, default=2, help="Emukit optimiser restarts")
    parser.add_argument("--jobs", type=int, default=1, help="processes (one per data set, n_high)")
    parser.add_argument("--output", default="transfer", help="name under bench/results/")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the tables from the runs CSV, no fits"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.splits, args.n_high, args.restarts = 2, [10, 20], 1
        args.data = [d for d in args.data if d != "pbe_exp"]
        if args.output == "transfer":
            args.output = "transfer_quick"
    command = "nice -n 10 .venv/bin/python bench/transfer.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    tasks = [
        (name, args.molecules, n_high, args.splits, args.restarts, not args.no_extra)
        for name in args.data
        for n_high in args.n_high
    ]
    wall = time.perf_counter()
    runs = RESULTS / f"{args.output}_runs.csv"
    if args.report_only:
        tasks = []
        args.data = []
    if not tasks:
        chunks = []
    elif args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            chunks = list(pool.map(run_task, tasks))
    else:
        chunks = [run_task(task) for task in tasks]
    frame = pd.DataFrame([row for chunk in chunks for row in chunk])
    frame["command"] = command
    frame["date"] = machine_info([])["date"]
    if runs.exists():  # keep the other data sets' rows of an earlier run
        earlier = pd.read_csv(runs, keep_default_na=True).fillna({"error": ""})
        frame = pd.concat([earlier[~earlier["data"].isin(args.data)], frame], ignore_index=True)
    order = {"xtb_dft": 0, "pbe_hse": 1, "pbe_exp": 2}
    frame = frame.sort_values(["data", "n_high", "split"], key=lambda c: c.map(order).fillna(c))
    frame["error"] = frame["error"].fillna("")
    RESULTS.mkdir(exist_ok=True)
    frame.to_csv(runs, index=False)

    names = [*WORKBENCH_MODELS, *EMUKIT]
    if args.no_extra:
        names = ["single-fidelity", "AR1 MF", *EMUKIT]
        frame = frame[frame["model"].isin(names)]
    rows = summarise(frame, names)
    failures = frame.loc[frame["error"] != "", ["data", "n_high", "split", "model", "error"]]
    descriptions = frame.groupby("data", sort=False)["description"].first()
    described = [f"`{name}`: {text}." for name, text in descriptions.items()]
    notes = [
        "RMSE (eV) on held-out high-fidelity values, mean +- standard error over seeded random",
        "splits; every model gets the same arrays in a split. AR1 MF = the workbench's",
        "Kennedy-O'Hagan multi-fidelity GP (fast recursive variant), SF = its single-fidelity GP",
        "on the high-fidelity points only; 'difference' and 'proxy' are the workbench's transfer",
        f"models after {HUTCHINSON}; Emukit = `GPyLinearMultiFidelityModel` with noise learnt, and",
        "with the low fidelity's noise fixed at 1e-6. Ratios are of the mean RMSEs; 'MF <= Emukit'",
        "counts splits (for the two Emukit settings). Data: " + " ".join(described),
        "Low-fidelity training points per split (training and test items included, identical",
        "rows once) and test points per split at most: "
        + ", ".join(f"{k} {low} and {test}" for k, (low, test) in SIZES.items())
        + ". The design is described in the script's docstring.",
    ]
    emukit_error = emukit_status()
    if emukit_error:
        notes.append(f"Emukit columns unavailable: {emukit_error}")
    wide = frame.pivot_table(index=["data", "n_high", "split"], columns="model", values="rmse_ev")
    sf_rmse = wide.pop("single-fidelity")
    blown = wide.gt(10 * sf_rmse, axis=0).stack()
    for (data_name, n_high, split, model), _ in blown[blown].items():
        notes.append(
            f"{model} on {data_name}, n_high={int(n_high)}, split {int(split)} went astray: RMSE "
            f"{wide.loc[(data_name, n_high, split), model]:.3g} eV against the single-fidelity "
            f"GP's {sf_rmse.loc[(data_name, n_high, split)]:.3g} eV (it dominates that row's mean;"
            " the median ratio column is not affected)."
        )
    if len(failures):
        first = failures.iloc[0]
        notes.append(
            f"{len(failures)} fit(s) failed (listed in the runs CSV); first: {first['model']} on "
            f"{first['data']}, n_high={first['n_high']}, split {first['split']}: {first['error']}"
        )
    info = machine_info(["numpy", "scipy", "scikit-learn", "pymc", "rdkit", "emukit", "GPy"])
    for (data_name, run_command), part in frame.groupby(["data", "command"], sort=False):
        info[f"command ({data_name})"] = f"`{run_command}` on {part['date'].iloc[0]}"
    if args.report_only:
        info["note"] = f"tables rewritten from {runs.name} without new fits (load average now)"
    else:
        wall_s = time.perf_counter() - wall
        info["wall time of this run"] = f"{wall_s:.0f} s ({args.jobs} process(es))"
    save_table(
        rows,
        name=args.output,
        title="Multi-fidelity vs single-fidelity learning curves",
        notes=notes,
        info=info,
        more=[
            (
                "ratios",
                ratio_rows(frame),
                RATIO_NOTES,
            ),
            ("timing", timing_rows(frame), ["Wall time of one fit plus prediction per model."]),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
