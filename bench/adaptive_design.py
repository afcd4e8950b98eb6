"""Adaptive design on real data: the workbench's strategies against random search and PHYSBO.

Three parts, all reading ``../shared/data/reference/`` (never copied here):

- ``liang``: pool-based sequential optimisation on the five data sets of Liang et al.,
  npj Comput. Mater. 7, 188 (2021) (every row is a candidate, duplicates included, as in their
  benchmark): GP (ARD Matern 5/2) + EI, GP + LCB, random features + Thompson sampling, random
  search and PHYSBO (``physbo.search.discrete.Policy``, exact GP, EI), all from the same initial
  points at the same budget, with Top%, EF and AF (Liang's definitions) side by side.
- ``xue``: the 22 initial alloys of Xue et al., Nat. Commun. 7, 11241 (2016): leave-one-out
  accuracy of each surrogate on the six descriptors, and the first four alloys each strategy
  would make from the ~800k-candidate composition space after fitting on the 22.
- ``timing``: time and peak memory of one suggestion on the ~800k-candidate space with 100
  observations, the workbench's ``Campaign.suggest`` against one PHYSBO ``bayes_search`` step,
  each in its own subprocess.

Run ``.venv/bin/python bench/adaptive_design.py`` (about 25 minutes of CPU; 50 minutes wall on
a loaded 2-core machine) or with ``--quick``
(two small sets, two repeats) for a smoke run. PHYSBO is a bench-only dependency:
``.venv/bin/pip install -r bench/requirements.txt``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _report import machine_info, save_table  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "data" / "reference"
LIANG = "Liang et al., npj Comput. Mater. 7, 188 (2021)"
XUE = "Xue et al., Nat. Commun. 7, 11241 (2016)"

#: name -> (file, objective); every set's last column is the objective.
LIANG_SETS = {
    "p3ht": ("liang2021_p3ht.csv", "maximize"),
    "agnp": ("liang2021_agnp.csv", "minimize"),
    "perovskite": ("liang2021_perovskite.csv", "minimize"),
    "crossed_barrel": ("liang2021_crossed_barrel.csv", "maximize"),
    "autoam": ("liang2021_autoam.csv", "maximize"),
}
PHYSBO_INTERVAL = 5  # PHYSBO relearns its hyperparameters every 5 evaluations
RETUNE = 5  # and so do the workbench's strategies (conditioned on each new value in between)


def _read_liang(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    frame = pd.read_csv(REFERENCE / LIANG_SETS[name][0], encoding="utf-8-sig")
    return (
        frame.iloc[:, :-1].to_numpy(float),
        frame.iloc[:, -1].to_numpy(float),
        list(frame.columns),
    )


def physbo_ei(X, measure, initial, budget, *, minimize, rng):
    """PHYSBO's discrete policy (exact GP, EI) from the same initial points; it maximises."""
    import contextlib
    import io

    import physbo

    scale = X.std(0)
    Xc = (X - X.mean(0)) / np.where(scale > 0, scale, 1.0)  # physbo.misc.centering
    sign = -1.0 if minimize else 1.0
    initial = np.asarray(initial, dtype=np.int64)
    with contextlib.redirect_stdout(io.StringIO()):
        policy = physbo.search.discrete.Policy(
            test_X=Xc, initial_data=(initial, sign * measure(initial))
        )
        policy.set_seed(int(rng.integers(2**31)))
        history = policy.bayes_search(
            max_num_probes=budget - len(initial),
            simulator=lambda actions: sign * measure(np.asarray(actions, dtype=np.int64)),
            score="EI",
            interval=PHYSBO_INTERVAL,
            is_disp=False,
        )
    return np.asarray(history.chosen_actions[: history.total_num_search], dtype=np.int64)


def _strategies():
    from mi_workbench.design.benchmark import RANDOM, Strategy

    return {
        "GP + EI": Strategy("gp", "ei", {"n_restarts": 1}, retune_every=RETUNE),
        "GP + LCB": Strategy("gp", "lcb", {"n_restarts": 1}, {"kappa": 2.0}, RETUNE),
        "RF-BLR + TS": Strategy("random_features", "thompson", {"n_features": 300}, {}, RETUNE),
        "random": RANDOM,
        "PHYSBO EI": physbo_ei,
    }


def _liang_one(task):
    name, n_repeats, budget, n_initial, seed = task
    from mi_workbench.design.benchmark import run_benchmark, summarize_benchmark

    X, y, _ = _read_liang(name)
    budget = min(budget, len(y))
    result = run_benchmark(
        _strategies(),
        X,
        y,
        objective=LIANG_SETS[name][1],
        n_repeats=n_repeats,
        budget=budget,
        n_initial=n_initial,
        random_seed=seed,
    )
    budgets = sorted({10, budget // 2, budget} - {0})
    summary = summarize_benchmark(result, budgets=budgets, af_target=0.5)
    return name, len(y), int(result.attrs["n_top"]), budget, budgets, summary


def start_liang(sets, n_repeats, budget, n_initial, jobs, seed=2021):
    """Start the Liang benchmark in ``jobs`` worker processes; returns a function that waits."""
    tasks = [(name, n_repeats, budget, n_initial, seed) for name in sets]
    if jobs <= 1:
        outputs = [_liang_one(task) for task in tasks]
        return lambda: _liang_tables(outputs)
    pool = ProcessPoolExecutor(max_workers=jobs)
    futures = [pool.submit(_liang_one, task) for task in tasks]

    def wait():
        outputs = [future.result() for future in futures]
        pool.shutdown()
        return _liang_tables(outputs)

    return wait


def _liang_tables(outputs):
    rows, ratio_rows = [], []
    for name, n_pool, n_top, used_budget, budgets, summary in outputs:
        physbo = summary.set_index("strategy").loc["PHYSBO EI"]
        for _, row in summary.iterrows():
            out = {"set": name, "N": n_pool, "top 5%": n_top, "strategy": row["strategy"]}
            for b in budgets:
                out[f"Top% @{b}"] = f"{row[f'top%@{b}']:.0f} ± {row[f'sd@{b}']:.0f}"
            out[f"EF @{used_budget}"] = f"{row[f'EF@{used_budget}']:.2f}"
            out["EF @10"] = f"{row['EF@10']:.2f}"
            out["AF @50%"] = "n/r" if math.isnan(row["AF@0.5"]) else f"{row['AF@0.5']:.1f}"
            out["s / campaign"] = f"{row['seconds']:.1f}"
            rows.append(out)
        for strategy in ("GP + EI", "GP + LCB", "RF-BLR + TS"):
            mine = summary.set_index("strategy").loc[strategy]
            ratio_rows.append(
                {
                    "set": name,
                    "budget": used_budget,
                    "strategy": strategy,
                    "EF": f"{mine[f'EF@{used_budget}']:.2f}",
                    "EF PHYSBO": f"{physbo[f'EF@{used_budget}']:.2f}",
                    "EF ratio": _ratio(mine[f"EF@{used_budget}"], physbo[f"EF@{used_budget}"]),
                    "EF @10 ratio": _ratio(mine["EF@10"], physbo["EF@10"]),
                }
            )
    # uniform columns for the markdown table (budgets differ between sets)
    rows = [_rename_budget_columns(row) for row in rows]
    return rows, ratio_rows


def _ratio(mine: float, theirs: float) -> str:
    if theirs > 0:
        return f"{mine / theirs:.2f}"
    return "both 0" if mine == 0 else "inf (PHYSBO 0)"


def _rename_budget_columns(row):
    out, k = {}, 0
    for key, value in row.items():
        if key.startswith("Top% @"):
            k += 1
            out[f"Top% ({'abc'[k - 1]})"] = f"{value} @{key[6:]}"
        elif key.startswith("EF @") and key != "EF @10":
            out["EF @budget"] = value
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------------------------------
# Xue et al. 2016


def _xue_training():
    from mi_workbench.design import XUE_DESCRIPTORS, XUE_ELEMENTS, featurize

    frame = pd.read_csv(REFERENCE / "xue2016_nitisma_training.csv")
    compositions = frame[list(XUE_ELEMENTS)].astype(float)
    features = featurize(compositions)
    X = np.column_stack([features[name].values for name in XUE_DESCRIPTORS])
    published = frame.iloc[:, 5:11].to_numpy(float)
    agreement = np.max(np.abs(X - published) / np.abs(published), axis=0)
    return compositions, X, frame["delta(T)"].to_numpy(float), agreement


def run_xue_loo(quick: bool):
    from scipy import stats

    from mi_workbench.design import make_surrogate

    _, X, y, agreement = _xue_training()
    z94 = stats.norm.ppf(0.97)
    options = {
        "gp": {"random_seed": 0},
        "svr_ensemble": {"random_seed": 0, "n_estimators": 16 if quick else 32},
        "random_features": {"random_seed": 0},
    }
    rows = []
    for name, opts in options.items():
        mean, sd = np.empty(len(y)), np.empty(len(y))
        for i in range(len(y)):
            keep = np.arange(len(y)) != i
            model = make_surrogate(name, **opts).fit(X[keep], y[keep])
            m, s = model.predict(X[i : i + 1])
            mean[i] = m[0]
            sd[i] = math.hypot(s[0], model.noise_sd_)  # predictive sd of a new measurement
        rows.append(_loo_row(name, y, mean, sd, z94))
    # baseline: the mean and sd of the other 21 alloys
    mean = np.array([np.delete(y, i).mean() for i in range(len(y))])
    sd = np.array([np.delete(y, i).std(ddof=1) for i in range(len(y))])
    rows.append(_loo_row("mean of the others (baseline)", y, mean, sd, z94))
    return rows, agreement


def _loo_row(name, y, mean, sd, z94):
    from scipy import stats

    error = mean - y
    return {
        "surrogate": name,
        "RMSE (K)": f"{np.sqrt(np.mean(error**2)):.2f}",
        "MAE (K)": f"{np.mean(np.abs(error)):.2f}",
        "mean log pred. density": f"{np.mean(stats.norm.logpdf(y, mean, sd)):.2f}",
        "94% coverage": f"{np.mean(np.abs(error) <= z94 * sd):.2f}",
        "mean pred. sd (K)": f"{np.mean(sd):.2f}",
    }


def run_xue_first_four(quick: bool):
    from mi_workbench.design import (
        XUE_DESCRIPTORS,
        XUE_ELEMENTS,
        composition_grid,
        featurize,
        make_surrogate,
        select_batch,
    )

    compositions, X_train, y, _ = _xue_training()
    space = composition_grid()
    if quick:
        space = space.isel(candidate=slice(None, None, 20))
    space = featurize(space)
    X = np.column_stack([space[name].values for name in XUE_DESCRIPTORS])
    grid = np.column_stack([np.rint(space[e].values * 10) for e in XUE_ELEMENTS]).astype(int)
    train = np.rint(compositions.to_numpy() * 10).astype(int)
    lookup = {tuple(row): i for i, row in enumerate(grid)}
    exclude = np.array([lookup[tuple(r)] for r in train if tuple(r) in lookup], dtype=np.int64)
    rows = []
    plans = [
        ("gp", "exploit"),
        ("gp", "expected_improvement"),
        ("gp", "knowledge_gradient"),
        ("svr_ensemble", "exploit"),
        ("svr_ensemble", "expected_improvement"),
        ("none", "random"),
    ]
    for surrogate, acquisition in plans:
        start = time.perf_counter()
        if acquisition == "random":
            rest = np.setdiff1d(np.arange(len(X)), exclude)
            chosen = np.random.default_rng(16).choice(rest, 4, replace=False)
            model = make_surrogate("gp", random_seed=0).fit(X_train, y)
        else:
            model = make_surrogate(surrogate, random_seed=0)
            chosen, _ = select_batch(
                model, X, X_train, y, acquisition, 4, minimize=True, exclude=exclude, rng=16
            )
        seconds = time.perf_counter() - start
        mean, sd = model.predict(X[chosen])
        for k, index in enumerate(chosen):
            alloy = "".join(f"{e}{float(space[e].values[index]):.1f}" for e in XUE_ELEMENTS)
            rows.append(
                {
                    "strategy": f"{surrogate} + {acquisition}" if surrogate != "none" else "random",
                    "rank": k + 1,
                    "alloy (at.%)": alloy,
                    "predicted delta(T) (K)": f"{mean[k]:.2f} ± {sd[k]:.2f}",
                    "seconds for 4": f"{seconds:.1f}" if k == 0 else "",
                }
            )
    return rows, len(X)


# ------------------------------------------------------------------------------------------
# time and memory per suggestion on the ~800k space (each measured in a fresh subprocess)

_CHILD = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from mi_workbench.design import XUE_DESCRIPTORS, composition_grid, featurize
from mi_workbench.physics.alloys import VirtualHysteresisExperiment
which, n_obs, quick = {which!r}, {n_obs}, {quick}

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

space = composition_grid()
if quick:
    space = space.isel(candidate=slice(None, None, 20))
space = featurize(space).compute()
observed = np.random.default_rng(5).choice(space.sizes["candidate"], n_obs, replace=False)
values = VirtualHysteresisExperiment(noise_sd_k=0.5, random_seed=5)(space.isel(candidate=observed))
out = {{"n_candidates": int(space.sizes["candidate"]), "rss_before_mb": rss_mb()}}
if which == "physbo":
    import contextlib, io
    import physbo
    X = np.column_stack([space[n].values for n in XUE_DESCRIPTORS]).astype(float)
    del space
    X = (X - X.mean(0)) / X.std(0)
    out["rss_before_mb"] = rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        policy = physbo.search.discrete.Policy(test_X=X, initial_data=(observed, -values))
        policy.set_seed(0)
        actions = policy.bayes_search(max_num_probes=1, score="EI", interval=0, is_disp=False)
    out["chosen"] = [int(a) for a in np.atleast_1d(actions)]
else:
    from mi_workbench.design import Campaign
    campaign = Campaign(space, list(XUE_DESCRIPTORS), objective="minimize", surrogate="gp",
                        acquisition="expected_improvement", random_seed=0)
    campaign.observe(space.candidate.values[observed], values)
    n = int(which.split("_")[1])
    wall, cpu = time.perf_counter(), time.process_time()
    batch = campaign.suggest(n)
    out["chosen"] = [int(c) for c in batch.candidate.values]
out["wall_s"] = time.perf_counter() - wall
out["cpu_s"] = time.process_time() - cpu
out["peak_rss_mb"] = rss_mb()
print("RESULT" + json.dumps(out))
"""


def _measure_suggest(
    which: str, n_obs: int, quick: bool, limit_gb: float = 8.0, timeout_s: float = 1200.0
):
    code = _CHILD.format(root=str(ROOT), which=which, n_obs=n_obs, quick=quick)

    def limit():  # keep a runaway child from taking the machine down
        cap = int(limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            preexec_fn=limit,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout_s:.0f} s (wall)"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"error": f"exit code {proc.returncode}: {tail[0][:200]}"}


def run_timing(quick: bool, n_obs: int = 100):
    rows = []
    for which, label in (
        ("project_1", "workbench Campaign.suggest(1), GP + EI"),
        ("project_4", "workbench Campaign.suggest(4), GP + EI, Kriging believer"),
        ("physbo", "PHYSBO Policy.bayes_search, 1 step, exact GP + EI"),
    ):
        out = _measure_suggest(which, n_obs, quick)
        if "error" in out:
            rows.append(
                {
                    "method": label,
                    "candidates": "",
                    "wall s": "failed",
                    "CPU s": "",
                    "peak RSS (MB)": "",
                    "RSS before (MB)": out["error"],
                }
            )
            continue
        rows.append(
            {
                "method": label,
                "candidates": out["n_candidates"],
                "wall s": f"{out['wall_s']:.2f}",
                "CPU s": f"{out['cpu_s']:.2f}",
                "peak RSS (MB)": f"{out['peak_rss_mb']:.0f}",
                "RSS before (MB)": f"{out['rss_before_mb']:.0f}",
            }
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--parts", default="liang,xue,timing", help="comma-separated parts")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--budget", type=int, default=30, help="evaluations per campaign")
    parser.add_argument("--initial", type=int, default=5, help="random initial points")
    parser.add_argument("--jobs", type=int, default=3, help="data sets run in parallel")
    parser.add_argument("--sets", default=",".join(LIANG_SETS))
    args = parser.parse_args(argv)
    if not REFERENCE.is_dir():
        sys.exit(f"the reference data folder {REFERENCE} is missing (see DESIGN.md)")
    parts = set(args.parts.split(","))
    sets = args.sets.split(",")
    if args.quick:
        args.repeats, args.budget, sets = 2, 15, [s for s in sets if s in ("autoam", "p3ht")]
    command = "python bench/adaptive_design.py " + " ".join(argv or sys.argv[1:])
    name = "adaptive_design_quick" if args.quick else "adaptive_design"
    sections = []
    start = time.perf_counter()
    if "liang" in parts:  # runs in worker processes while the other parts run here
        wait_liang = start_liang(sets, args.repeats, args.budget, args.initial, args.jobs)
    if "xue" in parts:
        loo, agreement = run_xue_loo(args.quick)
        sections.append(
            (
                "xue_loo",
                loo,
                [
                    f"Leave-one-out on the 22 initial alloys of {XUE} (delta(T) in K), inputs:",
                    "the six descriptors computed by mi_workbench.design.featurize (largest",
                    "relative difference from the published columns:",
                    ", ".join(f"{a:.1e}" for a in agreement) + ").",
                    "Predictive sd includes the fitted noise sd; coverage: fraction of held-out",
                    "alloys inside mean ± 1.88 sd (nominal 0.94).",
                ],
            )
        )
        first, n_space = run_xue_first_four(args.quick)
        sections.append(
            (
                "xue_first_four",
                first,
                [
                    f"The first batch of four each strategy would make from the {n_space:,}",
                    "candidate Ti50 Ni Cu Fe Pd space (0.1 at.% steps), after fitting on the 22",
                    "alloys (training alloys excluded); batches by the Kriging believer as in",
                    "Xue et al.; KG on a 500-candidate subsample; predicted delta(T) from the",
                    "strategy's own surrogate (GP for random). Xue's best new alloy was",
                    "Ti50.0Ni46.7Cu0.8Fe2.3Pd0.2 (1.84 K).",
                ],
            )
        )
    if "timing" in parts:
        sections.append(
            (
                "timing",
                run_timing(args.quick),
                [
                    "One suggestion on the featurized Xue space with 100 observations (virtual",
                    "hysteresis at random candidates), each method in a fresh subprocess;",
                    "peak RSS of that process (includes the candidate array, ~40 MB per float64",
                    "column); targets: <= 2 s per iteration and <= 1.5 GB. Wall time on a",
                    "shared, loaded machine; CPU s counts all threads.",
                ],
            )
        )
    later = []  # the Liang tables come first in the file
    if "liang" in parts:
        rows, ratios = wait_liang()
        later.append(
            (
                "liang",
                rows,
                [
                    f"Pool-based benchmark on the five data sets of {LIANG}",
                    "(each row of a set is a candidate, duplicates included).",
                    f"{args.repeats} repeats; in each repeat all",
                    f"strategies start from the same {args.initial} random points; budget",
                    f"min({args.budget}, N) evaluations including them. Top% (mean ± sd over",
                    "repeats, percent of the top 5% found) at three budgets; EF = mean Top% /",
                    "(i/N) (random search's expectation, computed analytically); AF @50% =",
                    "0.5 N / (evaluations until the mean Top% reaches 50%), n/r if not reached.",
                    "GP: ARD Matern 5/2, hyperparameters by marginal likelihood (1 restart);",
                    "RF-BLR: 300 random Fourier features, Bayesian linear regression; both",
                    f"re-tune their hyperparameters every {RETUNE} evaluations and are conditioned",
                    "on each new value in between. PHYSBO 3.x discrete Policy, exact GP, EI,",
                    f"hyperparameters relearned every {PHYSBO_INTERVAL} evaluations",
                    "(interval), inputs standardised. Wall time of the part",
                    f"{time.perf_counter() - start:.0f} s on the loaded machine.",
                ],
            )
        )
        later.append(
            (
                "liang_ratios",
                ratios,
                [
                    "EF of each workbench strategy over PHYSBO's at the same budget (ratio >= 1:",
                    "at least as good as PHYSBO), and the same at 10 evaluations.",
                ],
            )
        )
    sections = later + sections
    if not sections:
        sys.exit(f"no known part in {args.parts!r}; choose from liang, xue, timing")
    info = machine_info(["numpy", "scipy", "scikit-learn", "physbo"])  # load at the end
    info["command"] = f"`{command.strip()}`"
    first_suffix, first_rows, first_notes = sections[0]
    save_table(
        first_rows,
        name=f"{name}_{first_suffix}" if len(parts) < 3 else name,
        title="Adaptive design on real data: workbench vs random vs PHYSBO",
        notes=first_notes,
        info=info,
        more=sections[1:],
    )


if __name__ == "__main__":
    main()
