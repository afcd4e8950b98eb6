"""Effective samples per second: NUTS (nutpie) versus the teaching Metropolis sampler.

Both samplers draw from lesson 02's posterior, the Bayesian linear regression of
``mi_workbench.data.noisy_line()`` (20 points, y = 1 + 2 x + noise), with their defaults in
``mi_workbench.inference``: ``fit`` (NUTS, 1000 warm-up + 1000 draws per chain, 2 chains run in
parallel) and ``metropolis`` (adaptive random walk, 5000 + 5000 per chain, 2 chains one after the
other). For each parameter the bulk effective sample size per second of sampling
(``ess_per_second``, compilation excluded) is the median over ``--repeats`` seeds; the ratio is
NUTS / Metropolis. A second table gives the wall time with and without compilation (the first NUTS
call compiles the model, later calls re-use it; Metropolis compiles the model's log-density).

Run: ``.venv/bin/python bench/mcmc_efficiency.py`` (or ``make bench``).
The tables are printed and saved to ``bench/results/mcmc_efficiency.{md,csv}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import machine_info, save_table  # noqa: E402

VAR_NAMES = ["intercept", "coefficients", "noise_sd"]


def _wall(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def main() -> None:
    from mi_workbench.data import noisy_line
    from mi_workbench.inference import diagnose, ess_per_second, fit, metropolis
    from mi_workbench.models import bayesian_linear_regression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="seeds per sampler (median)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    line = noisy_line()
    ess_rate = {"NUTS": [], "Metropolis": []}
    ess_bulk = {"NUTS": [], "Metropolis": []}
    timing = {"NUTS": [], "Metropolis": []}
    for seed in range(args.repeats):
        # A new model each time, so that the first NUTS call of every repeat compiles again.
        model = bayesian_linear_regression(line.x.values, line.y.values)
        first, first_wall = _wall(lambda m=model, s=seed: fit(m, random_seed=s, progressbar=False))
        nuts, nuts_wall = _wall(lambda m=model, s=seed: fit(m, random_seed=s, progressbar=False))
        mh, mh_wall = _wall(lambda m=model, s=seed: metropolis(m, random_seed=s))
        for label, idata in (("NUTS", nuts), ("Metropolis", mh)):
            ess_rate[label].append(ess_per_second(idata, VAR_NAMES))
            ess_bulk[label].append(diagnose(idata, VAR_NAMES).table["ess_bulk"])
        timing["NUTS"].append(
            {
                "draws": "2 x (1000 + 1000)",
                "compile_s": first["posterior"].attrs["compile_time"],
                "sampling_s": nuts["posterior"].attrs["sampling_time"],
                "wall_first_call_s": first_wall,
                "wall_compiled_s": nuts_wall,
            }
        )
        mh_sampling = mh["posterior"].attrs["sampling_time"]
        timing["Metropolis"].append(
            {
                "draws": "2 x (5000 + 5000)",
                "compile_s": mh_wall - mh_sampling,  # log-density compile and draw conversion
                "sampling_s": mh_sampling,
                "wall_first_call_s": mh_wall,
                "wall_compiled_s": float("nan"),
            }
        )
        print(f"repeat {seed + 1}/{args.repeats} done", flush=True)

    median = {k: np.median(np.column_stack(v), axis=1) for k, v in ess_rate.items()}
    bulk = {k: np.median(np.column_stack(v), axis=1) for k, v in ess_bulk.items()}
    parameters = list(ess_rate["NUTS"][0].index)
    ess_rows = [
        {
            "parameter": name,
            "NUTS ESS bulk": round(float(bulk["NUTS"][i])),
            "NUTS ESS/s": round(float(median["NUTS"][i])),
            "Metropolis ESS bulk": round(float(bulk["Metropolis"][i])),
            "Metropolis ESS/s": round(float(median["Metropolis"][i])),
            "ratio NUTS/Metropolis": round(float(median["NUTS"][i] / median["Metropolis"][i]), 1),
        }
        for i, name in enumerate(parameters)
    ]
    time_rows = []
    for label, runs in timing.items():
        row = {"sampler": label, "draws per chain": runs[0]["draws"]}
        for key in ("compile_s", "sampling_s", "wall_first_call_s", "wall_compiled_s"):
            value = float(np.median([r[key] for r in runs]))
            row[key] = "n/a" if np.isnan(value) else round(value, 2)
        time_rows.append(row)

    notes = [
        f"Median over {args.repeats} seed(s). ESS/s = bulk ESS / sampling time (compilation",
        "excluded) on lesson 02's posterior (noisy_line, 20 points). NUTS runs its 2 chains in",
        "parallel on 2 cores; the NumPy Metropolis runs them one after the other on one core.",
    ]
    time_notes = [
        "Seconds (median). compile_s: for NUTS nutpie's compilation on the first call on a new",
        "model; for Metropolis the log-density compilation plus converting the draws.",
        "wall_first_call_s includes it; wall_compiled_s is a second NUTS call on the same model,",
        "re-using the compiled model (what a panel pays when sampling again).",
    ]
    save_table(
        ess_rows,
        name="mcmc_efficiency",
        title="ESS per second: NUTS (nutpie) vs the teaching Metropolis sampler",
        notes=notes,
        info=machine_info(["pymc", "pytensor", "nutpie", "numpy", "arviz-stats"]),
        more=[("timing", time_rows, time_notes)],
    )


if __name__ == "__main__":
    main()
