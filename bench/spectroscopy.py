"""Benchmark: Bayesian spectroscopy (issue 3).

Three parts, each printed as a Markdown table and saved together in ``bench/results/``:

1. **Cu2O exciton fit.** The project's default fit, ``fit(exciton_spectrum_model(ds))`` (NUTS via
   nutpie), against the random-walk Metropolis sampler of the paper's analysis (Iwamitsu et al.,
   J. Phys. Soc. Jpn. 85, 094716, 2016), ``metropolis(model, ...)``, on the same posterior of the
   synthetic "reference" spectrum: bulk ESS per second of sampling for Eg and Ry and their ratio
   (target: NUTS >= 100 x Metropolis), R-hat, and whether the truth lies in the 94% HDI.
2. **Evidence settings on a peak model.** Exchange Monte Carlo and SMC with a few settings on
   ``synthetic_peak_spectrum(n_peaks=2)`` with K = 2 and 3 peaks: log evidence, its standard error
   (spread of independent runs) and the time, so that the settings used in part 3 are measured,
   not guessed.
3. **How many peaks?** Random spectra with 1-5 Lorentzian peaks at two noise levels (smallest peak
   height / noise = 20 and 5); K = 1..5 is chosen by the evidence (``select_model``) and by BIC.

Run from the repository root::

    nice -n 10 .venv/bin/python bench/spectroscopy.py            # full run (~30 min on 2 cores)
    .venv/bin/python bench/spectroscopy.py --quick               # smaller run (~5 min)
    .venv/bin/python bench/spectroscopy.py --parts cu2o          # one part only
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"

#: Exchange Monte Carlo settings for the peak-count benchmark (part 3), affordable for 200
#: evidence estimates: 32 temperatures from beta = 1e-6, 3000 warm-up and 1500 kept sweeps,
#: 2 independent runs. Part 2 shows what longer runs and finer ladders change.
SELECTION_SETTINGS = {
    "method": "exchange",
    "n_temperatures": 32,
    "beta_min": 1e-6,
    "draws": 1500,
    "tune": 3000,
    "chains": 2,
}
QUICK_SELECTION_SETTINGS = {**SELECTION_SETTINGS, "draws": 1000, "tune": 2000}

PEAK_RATIOS = (20.0, 5.0)
K_RANGE = (1, 2, 3, 4, 5)


def _markdown(table: pd.DataFrame) -> str:
    """A pandas table as a GitHub Markdown table (no extra dependency)."""
    header = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def _quiet():
    warnings.filterwarnings("ignore")
    import logging

    for name in ("pymc", "pytensor", "nutpie", "arviz"):
        logging.getLogger(name).setLevel(logging.ERROR)


def machine_info() -> str:
    import pymc
    import pytensor

    try:
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        load = "n/a"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if "model name" in line]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}\n"
        f"- machine: {platform.platform()}, {os.cpu_count()} logical cores ({cpu}), "
        f"load average at start {load}\n"
        f"- Python {platform.python_version()}, PyMC {pymc.__version__}, "
        f"PyTensor {pytensor.__version__}, NumPy {np.__version__}\n"
        f"- command: `{' '.join([Path(sys.executable).name, *sys.argv])}`\n"
    )


# ------------------------------------------------------------------------------------------
# Part 1: Cu2O exciton series, NUTS vs random-walk Metropolis
# ------------------------------------------------------------------------------------------


def bench_cu2o(quick: bool) -> str:
    from mi_workbench.data import synthetic_cu2o_spectrum
    from mi_workbench.inference import diagnose, ess_per_second, fit, metropolis
    from mi_workbench.models import exciton_spectrum_model

    ds = synthetic_cu2o_spectrum()
    truth = {"Eg": ds.attrs["Eg"], "Ry": ds.attrs["Ry"]}
    model = exciton_spectrum_model(ds)

    start = time.perf_counter()
    nuts = fit(model)
    nuts_wall = time.perf_counter() - start
    mh_draws = 5000 if quick else 25_000
    start = time.perf_counter()
    mh = metropolis(model, draws=mh_draws, tune=mh_draws, chains=2, random_seed=0)
    mh_wall = time.perf_counter() - start

    rows = []
    for label, idata, wall in (
        ("NUTS (fit, defaults: 2 x 1000 + 1000 warm-up)", nuts, nuts_wall),
        (f"random-walk Metropolis (2 x {mh_draws} + {mh_draws} warm-up)", mh, mh_wall),
    ):
        diag = diagnose(idata, ["Eg", "Ry"])
        speed = ess_per_second(idata, ["Eg", "Ry"])
        seconds = float(idata["posterior"].attrs["sampling_time"])
        for name in ("Eg", "Ry"):
            row = diag.table.loc[name]
            low, high = row["hdi_94%_low"], row["hdi_94%_high"]
            rows.append(
                {
                    "sampler": label,
                    "parameter": name,
                    "truth (eV)": f"{truth[name]:.5f}",
                    "posterior mean (eV)": f"{row['mean']:.5f}",
                    "94% HDI (eV)": f"[{low:.5f}, {high:.5f}]",
                    "truth in HDI": bool(low <= truth[name] <= high),
                    "R-hat": round(float(row["r_hat"]), 3),
                    "ESS bulk": round(float(row["ess_bulk"])),
                    "sampling s": round(seconds, 1),
                    "wall s (incl. compile)": round(wall, 1),
                    "ESS/s": round(float(speed[name]), 2),
                }
            )
        if label.startswith("NUTS"):
            divergences = diag.n_divergences
    table = pd.DataFrame(rows)
    speed_nuts = ess_per_second(nuts, ["Eg", "Ry"])
    speed_mh = ess_per_second(mh, ["Eg", "Ry"])
    ratio = speed_nuts / speed_mh
    lines = [
        "## 1. Cu2O exciton series: default NUTS fit vs random-walk Metropolis",
        "",
        "Data: `synthetic_cu2o_spectrum()` (preset `reference`, 301 points, noise 0.01); model "
        "`exciton_spectrum_model(ds)` (9 free parameters); the same posterior for both samplers.",
        "",
        _markdown(table),
        "",
        f"NUTS divergences: {divergences}.",
        "",
        "ESS per second ratio NUTS / Metropolis (target >= 100): "
        + ", ".join(f"{k}: {v:.2g}x" for k, v in ratio.items()),
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# Part 2: evidence settings on a two-peak spectrum
# ------------------------------------------------------------------------------------------


def bench_settings(quick: bool) -> str:
    import pymc as pm

    from mi_workbench.data import synthetic_peak_spectrum
    from mi_workbench.inference import evidence
    from mi_workbench.models import peak_model

    ds = synthetic_peak_spectrum(n_peaks=2, random_seed=0)
    models = {k: peak_model(ds, k) for k in (2, 3)}
    configs = [
        ("exchange, defaults (32 temps, 4000 + 2000 warm-up, 4 runs)", {"method": "exchange"}),
        (
            "exchange, 32 temps, 2000 + 4000 warm-up, 4 runs",
            {"method": "exchange", "draws": 2000, "tune": 4000},
        ),
        (
            "exchange, 32 temps, 1500 + 3000 warm-up, 2 runs (used in part 3)",
            {k: v for k, v in SELECTION_SETTINGS.items()},
        ),
        (
            "exchange, 64 temps, 2000 + 4000 warm-up, 4 runs",
            {"method": "exchange", "n_temperatures": 64, "draws": 2000, "tune": 4000},
        ),
        ("SMC, defaults (2000 particles, IMH kernel, 4 runs)", {"method": "smc"}),
        (
            "SMC, 2000 particles, MH kernel, 4 runs",
            {"method": "smc", "smc_kwargs": {"kernel": pm.smc.kernels.MH}},
        ),
    ]
    if quick:
        configs = [configs[0], configs[2], configs[4]]
    rows = []
    for label, settings in configs:
        settings = dict(settings)
        method = settings.pop("method")
        if method == "smc":
            settings.setdefault("cores", 1)
        for k, model in models.items():
            start = time.perf_counter()
            result = evidence(model, method, random_seed=0, **settings)
            rows.append(
                {
                    "settings": label,
                    "K": k,
                    "log Z": round(result.log_evidence, 2),
                    "stderr": round(result.stderr, 2),
                    "per-run log Z": ", ".join(f"{v:.1f}" for v in result.chain_log_evidence),
                    "time s": round(time.perf_counter() - start, 1),
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    return "\n".join(
        [
            "## 2. Evidence estimators on a two-peak spectrum (settings study)",
            "",
            "Data: `synthetic_peak_spectrum(n_peaks=2, random_seed=0)` (height / noise = 20); "
            "models `peak_model(ds, K)`. The stderr is the spread of the independent runs; "
            "runs that have not found the posterior's main mode under-estimate log Z.",
            "",
            _markdown(table),
            "",
        ]
    )


# ------------------------------------------------------------------------------------------
# Part 3: peak-count selection
# ------------------------------------------------------------------------------------------


def _bic_choice(models, random_seed: int) -> int:
    from mi_workbench.inference.evidence import _max_log_likelihood

    bics = {}
    for k, model in models.items():
        log_like, n_par, n_obs = _max_log_likelihood(model, random_seed)
        bics[k] = n_par * np.log(n_obs) - 2.0 * log_like
    return min(bics, key=bics.get)


def bench_selection(quick: bool, n_spectra: int | None = None) -> str:
    from mi_workbench.data import synthetic_peak_spectrum
    from mi_workbench.inference import select_model
    from mi_workbench.models import peak_model

    n_spectra = n_spectra or (10 if quick else 20)
    settings = dict(QUICK_SELECTION_SETTINGS if quick else SELECTION_SETTINGS)
    method = settings.pop("method")
    records = []
    for level, ratio in enumerate(PEAK_RATIOS):
        for i in range(n_spectra):
            seed = 1000 * (level + 1) + i
            n_true = 1 + i % 5  # balanced: every count 1..5 equally often
            ds = synthetic_peak_spectrum(
                n_true, "lorentzian", peak_height_to_noise=ratio, random_seed=seed
            )
            models = {f"K={k}": peak_model(ds, k) for k in K_RANGE}
            start = time.perf_counter()
            table = select_model(models, method, random_seed=0, **settings)
            seconds = time.perf_counter() - start
            k_evidence = int(table.index[0].split("=")[1])
            k_bic = int(table["bic"].idxmin().split("=")[1])
            second = table.iloc[1]
            records.append(
                {
                    "height/noise": ratio,
                    "seed": seed,
                    "true K": n_true,
                    "K by evidence": k_evidence,
                    "K by BIC": k_bic,
                    "margin (nats)": float(table.iloc[0]["log_evidence"] - second["log_evidence"]),
                    "stderr of best": float(table.iloc[0]["stderr"]),
                    "max stderr": float(table["stderr"].max()),
                    "time s": seconds,
                }
            )
            r = records[-1]
            print(
                f"ratio {ratio:g} seed {seed}: true {n_true}, evidence {k_evidence}, "
                f"BIC {k_bic}, margin {r['margin (nats)']:.1f}, stderr best "
                f"{r['stderr of best']:.2f}, {seconds:.1f} s",
                flush=True,
            )
    detail = pd.DataFrame(records)
    summary = (
        detail.assign(
            evidence_ok=detail["K by evidence"] == detail["true K"],
            bic_ok=detail["K by BIC"] == detail["true K"],
        )
        .groupby("height/noise", sort=False)
        .agg(
            spectra=("seed", "size"),
            evidence_correct=("evidence_ok", "mean"),
            bic_correct=("bic_ok", "mean"),
            median_stderr_best=("stderr of best", "median"),
            max_stderr_best=("stderr of best", "max"),
            time_s=("time s", "sum"),
        )
    )
    summary["evidence_correct"] = (100 * summary["evidence_correct"]).round(0).astype(int)
    summary["bic_correct"] = (100 * summary["bic_correct"]).round(0).astype(int)
    summary = summary.rename(
        columns={"evidence_correct": "evidence correct %", "bic_correct": "BIC correct %"}
    ).round(2)
    confusion = pd.crosstab(
        [detail["height/noise"], detail["true K"]], detail["K by evidence"]
    ).add_prefix("evidence K=")
    settings_text = ", ".join(f"{k}={v}" for k, v in settings.items())
    return "\n".join(
        [
            "## 3. How many peaks? Selection of K = 1..5 by evidence and by BIC",
            "",
            f"{n_spectra} spectra per noise level from `synthetic_peak_spectrum(n_true, "
            "'lorentzian', peak_height_to_noise=r, random_seed=seed)` with n_true = 1..5 in "
            "turn (400 points); candidates `peak_model(ds, K)`, K = 1..5. Evidence: "
            f"`select_model(models, '{method}', {settings_text})`; BIC = k ln n - 2 ln L(MAP) "
            "from the same call (`pm.find_MAP` from the model's initial point).",
            "",
            _markdown(summary.reset_index()),
            "",
            "Evidence choice by true K:",
            "",
            _markdown(confusion.reset_index()),
            "",
            "Every spectrum:",
            "",
            _markdown(detail.round(2)),
            "",
        ]
    )


PARTS = {"cu2o": bench_cu2o, "selection": bench_selection, "settings": bench_settings}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller run (~5 min)")
    parser.add_argument(
        "--parts", nargs="+", choices=list(PARTS), default=list(PARTS), help="parts to run"
    )
    parser.add_argument("--output", default=None, help="Markdown file (default bench/results/)")
    parser.add_argument(
        "--n-spectra", type=int, default=None, help="spectra per noise level in part 3"
    )
    args = parser.parse_args(argv)
    _quiet()
    header = ["# Bayesian spectroscopy benchmark", "", machine_info()]
    sections = []
    start = time.perf_counter()
    for name in args.parts:
        part_start = time.perf_counter()
        if name == "selection":
            sections.append(bench_selection(args.quick, args.n_spectra))
        else:
            sections.append(PARTS[name](args.quick))
        sections.append(f"(part `{name}`: {time.perf_counter() - part_start:.0f} s wall)\n")
        print(sections[-2], sections[-1], sep="\n", flush=True)
    sections.append(f"Total wall time: {time.perf_counter() - start:.0f} s.\n")
    text = "\n".join(header + sections)
    default = "spectroscopy_quick.md" if args.quick else "spectroscopy.md"
    output = Path(args.output) if args.output else RESULTS / default
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    print(f"saved to {output}")


if __name__ == "__main__":
    main()
