"""Inverse design: iQSPR against unguided sampling and random picks; tree search on Si/Ge.

Two parts:

- ``iqspr``: hit rate of three generators at the same number of real GFN2-xTB calls. A *hit*
  is a unique, valid, novel molecule (not among the 3,364 molecules the forward models were
  trained on) whose xTB properties fall in a target region that lies outside the bulk of the
  training data (default: HOMO-LUMO gap above the data's 95th percentile *and* total energy
  below its 25th percentile, a corner that holds 0.7 % of the data). The generators:

  1. iQSPR (:class:`mi_workbench.molecules.iqspr.IQSPR`, n-gram language model prior, forward
     models on fingerprints, sequential Monte Carlo); the candidates sent to xTB are the unique
     novel molecules of its last populations with the highest predicted probability in the
     region;
  2. unguided sampling from the same language model (``language_model.sample``), unique and
     novel molecules;
  3. random picks from the corpus molecules that are *not* in the training data (the RDKit NCI
     molecules the data set left out, mostly because they have more than 20 heavy atoms), so
     that every pick is novel.

  Every generator gets the same free filter (no duplicates, no training molecules) and the same
  number of xTB calls per seed. Ratios are of pooled hits over pooled calls.
- ``tree``: Monte Carlo tree search on the MDTS Si/Ge set (``bench/_inverse_design_tree.py``,
  ``tree_part(args) -> str``), when that file is present.

Run ``.venv/bin/python bench/inverse_design.py`` (on a loaded 2-core machine the iqspr part
takes 7-10 minutes, the tree part about 17, mostly its 20 GP + EI runs; ``--tree-gp-seeds 5``
shortens it), or ``--quick`` for a smoke run. Writes ``bench/results/inverse_design.md`` (and
CSV tables).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _report import RESULTS, machine_info, save_table  # noqa: E402

IKEBATA = "Ikebata et al., J. Comput.-Aided Mol. Des. 31, 379 (2017)"
PACKAGES = ("numpy", "rdkit", "tblite", "scipy", "xarray")


def _region(args, ds) -> tuple[dict, list[dict]]:
    gap = ds["xtb_homo_lumo_gap_ev"].values
    energy = ds["xtb_total_energy_hartree"].values
    gap_low = float(np.percentile(gap, args.gap_percentile))
    energy_high = float(np.percentile(energy, args.energy_percentile))
    region = {"homo_lumo_gap": (gap_low, None), "total_energy": (None, energy_high)}
    inside = (gap >= gap_low) & (energy <= energy_high)
    rows = [
        {
            "property": "HOMO-LUMO gap (eV)",
            "region": f">= {gap_low:.2f}",
            "data percentiles 5/25/50/75/95": " / ".join(
                f"{v:.2f}" for v in np.percentile(gap, [5, 25, 50, 75, 95])
            ),
            "data inside this side": f"{np.mean(gap >= gap_low):.1%}",
        },
        {
            "property": "total energy (hartree)",
            "region": f"<= {energy_high:.1f}",
            "data percentiles 5/25/50/75/95": " / ".join(
                f"{v:.1f}" for v in np.percentile(energy, [5, 25, 50, 75, 95])
            ),
            "data inside this side": f"{np.mean(energy <= energy_high):.1%}",
        },
        {
            "property": "both (the target region)",
            "region": "corner",
            "data percentiles 5/25/50/75/95": "",
            "data inside this side": f"{np.mean(inside):.2%} ({int(inside.sum())} molecules)",
        },
    ]
    return region, rows


def _novel_unique(candidates, known: set, budget: int) -> list[str]:
    chosen = []
    for smiles in dict.fromkeys(candidates):
        if smiles not in known:
            chosen.append(smiles)
            if len(chosen) == budget:
                break
    return chosen


def _iqspr_candidates(design, known, args, seed) -> list[str]:
    from mi_workbench.molecules.iqspr import unique_molecules

    result = design.run(args.steps, args.particles, random_seed=seed, progress=False)
    last = list(range(-min(args.last_steps, args.steps), 0))
    table = unique_molecules(result, step=last, known_smiles=known)
    return _novel_unique(table["smiles"], known, args.budget)


def _unguided_candidates(language_model, known, args, seed) -> list[str]:
    chosen: list[str] = []
    chunk = 0
    while len(chosen) < args.budget and chunk < 50:
        batch = language_model.sample(args.budget, random_seed=seed * 1000 + chunk)
        chosen = _novel_unique(chosen + batch, known, args.budget)
        chunk += 1
    return chosen


def _random_candidates(pool, args, seed) -> list[str]:
    rng = np.random.default_rng(seed)
    return [pool[i] for i in rng.choice(len(pool), size=args.budget, replace=False)]


def _hits(records, region) -> tuple[int, int]:
    from mi_workbench.molecules.iqspr import TargetRegion

    box = TargetRegion(region)
    valid = [r for r in records if r["ok"]]
    return len(valid), sum(box.contains(r) for r in valid)


def run_iqspr(args) -> list[tuple[str, list[dict], list[str]]]:
    from mi_workbench.data import load_molecules_xtb_dft
    from mi_workbench.molecules import run_oracle_batch
    from mi_workbench.molecules.forward import fit_forward_models
    from mi_workbench.molecules.iqspr import IQSPR
    from mi_workbench.molecules.language import default_language_model, load_smiles_corpus

    start = time.perf_counter()
    ds = load_molecules_xtb_dft("xtb")
    region, region_rows = _region(args, ds)
    checked = fit_forward_models(
        ("homo_lumo_gap", "total_energy", "dipole"), holdout_fraction=0.2, random_seed=0
    )
    accuracy_rows = [
        {
            "property": f"{name} ({model.units})",
            "held-out R^2": f"{model.holdout_metrics_['r2']:.4f}",
            "RMSE": f"{model.holdout_metrics_['rmse']:.3g}",
            "95% interval coverage": f"{model.holdout_metrics_['coverage_95']:.2f}",
            "n held out": model.holdout_metrics_["n"],
        }
        for name, model in checked.items()
    ]
    models = fit_forward_models(("homo_lumo_gap", "total_energy"))
    known = set(models["homo_lumo_gap"].training_smiles_)
    language_model = default_language_model()
    pool = sorted(set(load_smiles_corpus()) - known)
    design = IQSPR(models, region, language_model)
    cache = Path(tempfile.mkdtemp(prefix="inverse_design_")) / "xtb.jsonl"
    runs = []
    totals = {name: [0, 0, 0] for name in ("iQSPR", "unguided", "random corpus")}
    for seed in range(args.seeds):
        for method in totals:
            t0 = time.perf_counter()
            if method == "iQSPR":
                candidates = _iqspr_candidates(design, known, args, seed)
            elif method == "unguided":
                candidates = _unguided_candidates(language_model, known, args, seed)
            else:
                candidates = _random_candidates(pool, args, seed)
            generate_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            records = run_oracle_batch(
                candidates, "xtb", n_workers=args.workers, cache_path=cache, progress=False
            )
            valid, hits = _hits(records, region)
            totals[method][0] += len(candidates)
            totals[method][1] += valid
            totals[method][2] += hits
            runs.append(
                {
                    "seed": seed,
                    "method": method,
                    "oracle calls": len(candidates),
                    "xTB ok": valid,
                    "hits": hits,
                    "hit rate": f"{hits / max(len(candidates), 1):.3f}",
                    "generation s": f"{generate_s:.1f}",
                    "xTB s": f"{time.perf_counter() - t0:.1f}",
                }
            )
            print(runs[-1], flush=True)
    rate = {m: t[2] / max(t[0], 1) for m, t in totals.items()}
    summary = []
    for method, (calls, valid, hits) in totals.items():
        row = {
            "method": method,
            "oracle calls": calls,
            "xTB ok": valid,
            "hits": hits,
            "hit rate": f"{rate[method]:.3f}",
        }
        for base in ("unguided", "random corpus"):
            if method == base:
                row[f"ratio to {base}"] = "1"
            elif totals[base][2] == 0:
                bound = hits / max(calls, 1) / (1 / max(totals[base][0], 1))
                row[f"ratio to {base}"] = f"> {bound:.0f} ({base}: 0 hits)" if hits else "n/a"
            else:
                row[f"ratio to {base}"] = f"{rate[method] / rate[base]:.1f}"
        summary.append(row)
    command = "python bench/inverse_design.py " + " ".join(args.argv)
    notes = [
        f"Hit rate of iQSPR ({IKEBATA}) against unguided sampling from the same n-gram",
        "language model and random picks of corpus molecules outside the training data, at",
        f"equal numbers of real GFN2-xTB calls ({args.budget} per method and seed,",
        f"{args.seeds} seeds). A hit is a unique, valid, novel molecule (not one of the",
        f"{len(known):,} training molecules) whose xTB gap and energy lie in the target region",
        "(table 'region'). iQSPR: forward models on Morgan count fingerprints + atom counts",
        f"(conjugate Bayesian linear regression), {args.particles} particles, {args.steps}",
        "steps, default annealing; candidates: the unique novel molecules of the last",
        f"{args.last_steps} populations with the highest predicted probability in the region.",
        "Random corpus picks come from the",
        f"{len(pool)} corpus molecules not in the training data. Ratios: pooled hits/calls.",
        f"Wall time of the part {time.perf_counter() - start:.0f} s. Command: `{command}`.",
    ]
    return [
        ("", summary, notes),
        (
            "region",
            region_rows,
            [
                "Where the target region lies relative to the 3,364 training molecules",
                f"(gap above the {args.gap_percentile:g}th percentile, energy below the",
                f"{args.energy_percentile:g}th).",
            ],
        ),
        ("runs", runs, ["Each seed and method: calls, xTB successes, hits, seconds."]),
        (
            "forward_models",
            accuracy_rows,
            [
                "Forward-model accuracy on a random 20 % hold-out of the xTB data (fitted on",
                "the other 80 %); coverage: fraction of held-out values inside mean ± 1.96 sd",
                "(nominal 0.95).",
            ],
        ),
    ]


def run_tree(args) -> str:
    try:
        module = importlib.import_module("_inverse_design_tree")
    except ModuleNotFoundError:
        return (
            "## Tree search\n\nSkipped: `bench/_inverse_design_tree.py` (the tree-search part) "
            "is not present in this checkout."
        )
    tree_args = argparse.Namespace(
        seeds=args.tree_seeds,
        budget=args.tree_budget,
        gp_seeds=args.tree_gp_seeds,
        quick=args.quick,
        argv=args.argv,
    )
    return module.tree_part(tree_args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--parts", default="iqspr,tree", help="comma-separated parts")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=60, help="xTB calls per method and seed")
    parser.add_argument("--steps", type=int, default=40, help="iQSPR steps")
    parser.add_argument("--particles", type=int, default=100, help="iQSPR particles")
    parser.add_argument("--last-steps", type=int, default=10, help="populations to pick from")
    parser.add_argument("--gap-percentile", type=float, default=95.0)
    parser.add_argument("--energy-percentile", type=float, default=25.0)
    parser.add_argument("--workers", type=int, default=2, help="xTB worker processes")
    parser.add_argument("--tree-seeds", type=int, default=20, help="tree part: seeds")
    parser.add_argument("--tree-budget", type=int, default=500, help="tree part: evaluations")
    parser.add_argument(
        "--tree-gp-seeds", type=int, default=None, help="tree part: GP + EI seeds (default all)"
    )
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    parts = set(args.parts.split(","))
    unknown = parts - {"iqspr", "tree"}
    if unknown:
        parser.error(f"unknown part(s) {sorted(unknown)}; choose from iqspr, tree")
    if args.quick:
        args.seeds, args.budget, args.steps, args.particles = 1, 30, 20, 60
        args.tree_seeds = min(args.tree_seeds, 4)
    name = "inverse_design_quick" if args.quick else "inverse_design"
    if parts != {"iqspr", "tree"}:  # a partial run does not overwrite the full result
        name += "_only_" + "_".join(sorted(parts))
    sections = run_iqspr(args) if "iqspr" in parts else []
    tree_text = run_tree(args) if "tree" in parts else ""
    info = machine_info(PACKAGES)
    if sections:
        (_, rows, notes), *more = sections
        path = save_table(
            rows,
            name=name,
            title="Inverse design: iQSPR vs unguided sampling vs random picks (xTB hit rates)",
            notes=notes,
            info=info,
            more=more,
        )
    else:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{name}.md"
        meta = "\n".join(f"- {key}: {value}" for key, value in info.items())
        path.write_text(f"# Inverse design\n\nMeasured on:\n\n{meta}\n")
    if tree_text:  # tree_part prints its own table
        with path.open("a") as handle:
            handle.write("\n" + tree_text.strip() + "\n")


if __name__ == "__main__":
    main()
