"""Tree-search half of ``bench/inverse_design.py``: UCT vs random vs adaptive design on MDTS.

The MDTS Si/Ge interface set (``../shared/data/reference/mdts_sige_interface_db16.csv``: every
arrangement of 8 Si and 8 Ge on 16 interface sites, 12,870 structures, thermal conductance to
MAXIMISE; Ju et al., Phys. Rev. X 7, 021024 (2017); Dieb et al., STAM 18, 498 (2017)).
For each seed we record the first evaluation at which a best structure is found, within a budget
of 500 evaluations, for

- UCT tree search (:class:`mi_workbench.molecules.LatticeTreeSearch`, default settings);
- random search without repeats (simulated, and the analytic probability);
- an adaptive-design campaign: a GP surrogate (ARD Matern 5/2) on the 16 site occupations with
  expected improvement, 10 initial random structures, batches of 10 (Kriging believer), the
  hyperparameters re-tuned every 100 evaluations; a campaign stops at its first hit.

"Best": the table holds eight symmetry-equivalent best structures whose published values agree
to 2e-6 (14.095972-14.095974); any of them counts. Stricter: only the two at the stored
maximum 14.095974 count (a second column).

Run alone: ``.venv/bin/python bench/_inverse_design_tree.py [--seeds 20] [--budget 500]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import _markdown_table  # noqa: E402

MDTS_TABLE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "reference"
    / "mdts_sige_interface_db16.csv"
)
CLASS_TOLERANCE = 1e-5  # the eight equivalent best structures differ by <= 2e-6


def _first_hit(structures, targets) -> int | None:
    for i, s in enumerate(structures):
        if s in targets:
            return i + 1
    return None


def _gp_campaign(X, y, budget, seed, targets, structures, batch_size=10, retune_every=100):
    from mi_workbench.design import GaussianProcessSurrogate, select_batch

    rng = np.random.default_rng([seed, 7])
    order = list(rng.choice(len(X), 10, replace=False))
    surrogate, tuned_at = None, -retune_every
    while len(order) < budget:
        if _first_hit([structures[i] for i in order], targets):
            break
        if len(order) - tuned_at >= retune_every:
            surrogate = GaussianProcessSurrogate(random_seed=seed, n_restarts=0).fit(
                X[order], y[order]
            )
            tuned_at, known = len(order), len(order)
        else:
            surrogate = surrogate.condition_on(X[order[known:]], y[order[known:]])
            known = len(order)
        size = min(batch_size, budget - len(order))
        chosen, _ = select_batch(
            surrogate,
            X,
            X[order],
            y[order],
            "ei",
            size,
            minimize=False,
            exclude=np.asarray(order),
            rng=rng,
            refit=False,
        )
        order.extend(int(i) for i in chosen)
    return [structures[i] for i in order[:budget]]


def _summary(name, hits, budget, n_seeds, analytic=None):
    found = [h for h in hits if h is not None]
    return {
        "method": name,
        "seeds": n_seeds,
        f"P(best within {budget})": f"{len(found) / n_seeds:.2f}",
        "random (analytic)": "" if analytic is None else f"{analytic:.3f}",
        "mean evaluations to best (seeds that found it)": f"{np.mean(found):.0f}" if found else "-",
        "median (misses count as > budget)": (
            f"{np.median([h if h is not None else budget + 1 for h in hits]):.0f}"
        ),
    }


def tree_part(args=None) -> str:
    """Run the MDTS comparison and return it as markdown (also printed)."""
    seeds = int(getattr(args, "seeds", 20) or 20)
    budget = int(getattr(args, "budget", 500) or 500)
    gp_seeds = int(getattr(args, "gp_seeds", seeds) or seeds)
    if not MDTS_TABLE.exists():
        return f"## Tree search on MDTS Si/Ge\n\nSkipped: {MDTS_TABLE} not found.\n"
    from mi_workbench.molecules import LatticeTreeSearch, random_lattice_search

    table = pd.read_csv(MDTS_TABLE, dtype={"structure": str})
    structures = table["structure"].tolist()
    y = table["thermal_conductance"].to_numpy(float)
    values = dict(zip(structures, y, strict=True))
    best_class = set(table.loc[y >= y.max() - CLASS_TOLERANCE, "structure"])
    best_exact = set(table.loc[y >= y.max() - 1e-9, "structure"])
    n = len(table)

    def analytic(k):
        return 1 - math.comb(n - k, budget) / math.comb(n, budget)

    options = {"n_of_each": {"0": 8, "1": 8}}
    runs: dict[str, list[list[str]]] = {"UCT tree search": [], "random search": [], "GP + EI": []}
    seconds = {}
    start = time.perf_counter()
    for seed in range(seeds):
        result = LatticeTreeSearch(16, values.__getitem__, random_seed=seed, **options).run(
            budget, progress=False
        )
        runs["UCT tree search"].append(result["structure"].values.tolist())
    seconds["UCT tree search"] = (time.perf_counter() - start) / seeds
    start = time.perf_counter()
    for seed in range(seeds):
        result = random_lattice_search(values.__getitem__, 16, budget, random_seed=seed, **options)
        runs["random search"].append(result["structure"].values.tolist())
    seconds["random search"] = (time.perf_counter() - start) / seeds
    X = np.array([[int(c) for c in s] for s in structures], dtype=float)
    start = time.perf_counter()
    for seed in range(gp_seeds):
        runs["GP + EI"].append(_gp_campaign(X, y, budget, seed, best_class, structures))
    seconds["GP + EI"] = (time.perf_counter() - start) / gp_seeds
    rows = []
    for name, orders in runs.items():
        hits = [_first_hit(o, best_class) for o in orders]
        row = _summary(name, hits, budget, len(orders), analytic(len(best_class)))
        exact = [_first_hit(o, best_exact) for o in orders]
        row[f"P(stored maximum, {len(best_exact)} structures)"] = (
            f"{np.mean([h is not None for h in exact]):.2f}"
            + ("" if name != "GP + EI" else " (stops at first hit)")
        )
        row["seconds per run"] = f"{seconds[name]:.1f}"
        rows.append(row)
    text = (
        f"## Tree search on the MDTS Si/Ge interface set ({n:,} structures, maximise)\n\n"
        + _markdown_table(rows)
        + f"\n\nBest = any of the {len(best_class)} symmetry-equivalent structures at the maximum "
        f"thermal conductance (values within {CLASS_TOLERANCE:g}); the analytic random column is "
        f"for that set (a single unique best: {budget / n:.3f}). Stored maximum: only the "
        f"{len(best_exact)} structures at exactly {y.max():.6f}, "
        f"random {analytic(len(best_exact)):.3f}. "
        "UCT: LatticeTreeSearch defaults (max back-up, exploration 0.5, one rollout per "
        "expansion, no structure evaluated twice). GP + EI: ARD Matern 5/2 GP on the 16 site "
        "occupations, 10 random initial structures, batches of 10 by Kriging believer, "
        "hyperparameters re-tuned every 100 evaluations.\n"
    )
    print(text)
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--gp-seeds", dest="gp_seeds", type=int, default=None)
    parser.add_argument("--budget", type=int, default=500)
    tree_part(parser.parse_args())
