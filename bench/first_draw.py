"""Time from a fresh process to the first NUTS draw and to the full fit, cold and warm cache.

Each row is a new Python process, as a fresh kernel is. It imports the stack, builds the lesson's
model with the lesson's data, gets the compiled model (compiled, or loaded from the workbench's
disk cache, :mod:`mi_workbench.inference._compile_cache`), draws once (one warm-up step and
one NUTS draw: the sampler started), then runs the lesson's full default fit. Wall and CPU time of
each phase are measured inside the process (CPU time counts every thread of the process).

Three states of the caches, in one run, on the same models:

- ``cold``: an empty PyTensor compile directory (``PYTENSOR_FLAGS=base_compiledir=...``), the
  first use of a model on a new machine (Binder without a warmed image);
- ``warm``: the same directory again, the model compiled before by another process;
- ``nutpie (PyTensor cache warm)``: the peer, ``nutpie.compile_pymc_model`` as PyMC users call it
  (the workbench's cache switched off, ``MI_WORKBENCH_COMPILE_CACHE=0``) with PyTensor's numba
  cache warm: what a new kernel paid before the workbench kept compiled models.

The models: the regression of lesson 01 (four descriptors of 30 virtual alloys; the posterior
panel's fit, 2 chains of 1,000 warm-up and 2,000 draws) and the Cu2O exciton model of lesson 03
(the reference spectrum; 2 chains of 1,000 + 1,000, low-rank mass matrix).

Run: ``.venv/bin/python bench/first_draw.py`` (``--repeats`` warm and peer runs per model,
default 3; the median is reported). Saves ``bench/results/first_draw.{md,csv}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import machine_info, save_table  # noqa: E402

TARGET_WARM_FIRST_DRAW_S = 3.0

CHILD = textwrap.dedent(
    """
    import json, sys, time

    phases = {}
    clock = [time.perf_counter(), time.process_time()]

    def lap(name):
        now = [time.perf_counter(), time.process_time()]
        phases[name] = [now[0] - clock[0], now[1] - clock[1]]
        clock[:] = now

    import nutpie
    import pymc
    from mi_workbench.data import synthetic_cu2o_spectrum
    from mi_workbench.inference import fit
    from mi_workbench.inference.sampling import _compiled_with_source
    from mi_workbench.models import bayesian_linear_regression, exciton_spectrum_model
    lap("import")

    which = sys.argv[1]
    if which == "lesson 01 regression":
        sys.path.insert(0, sys.argv[2])
        from _lesson_data import LESSON_01_FEATURES, LESSON_01_TARGET, lesson_01_training_alloys

        train = lesson_01_training_alloys()
        model = bayesian_linear_regression(
            train[LESSON_01_FEATURES].to_dataframe(),
            train[LESSON_01_TARGET].values,
            target_name=LESSON_01_TARGET,
        )
        settings = dict(draws=2000, tune=1000, chains=2)
    else:
        model = exciton_spectrum_model(synthetic_cu2o_spectrum(preset="reference", random_seed=0))
        settings = dict(draws=1000, tune=1000, chains=2)
    lap("build")
    compiled, source = _compiled_with_source(model)
    lap("compile")
    nutpie.sample(compiled, draws=1, tune=1, chains=1, seed=0, progress_bar=False)
    lap("first_draw")
    fit(model, random_seed=0, progressbar=False, **settings)
    lap("fit")
    print(json.dumps({"phases": phases, "source": source}))
    """
)

MODELS = ("lesson 01 regression", "lesson 03 Cu2O")


def _child(model: str, compiledir: Path, cache: bool) -> dict:
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={compiledir}"}
    env["MI_WORKBENCH_COMPILE_CACHE"] = "1" if cache else "0"
    env.pop("MI_WORKBENCH_FAST", None)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, model, str(HERE)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{model}: the child process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(model: str, state: str, runs: list[dict]) -> dict:
    def median(phase_names, index):
        return statistics.median(sum(r["phases"][p][index] for p in phase_names) for r in runs)

    to_first = ("build", "compile", "first_draw")
    return {
        "model": model,
        "cache": state,
        "runs": len(runs),
        "import wall (s)": f"{median(['import'], 0):.2f}",
        "first draw wall (s)": f"{median(to_first, 0):.2f}",
        "first draw CPU (s)": f"{median(to_first, 1):.2f}",
        "of which compile or load wall (s)": f"{median(['compile'], 0):.2f}",
        "with import wall (s)": f"{median(['import', *to_first], 0):.2f}",
        "full fit wall (s)": f"{median(['build', 'compile', 'fit'], 0):.2f}",
        "full fit CPU (s)": f"{median(['build', 'compile', 'fit'], 1):.2f}",
        "compiled model from": runs[0]["source"],
    }


def _ratios(model: str, cold: dict, warm: dict, peer: dict) -> dict:
    def ratio(over: dict, column: str, digits: int = 0) -> str:
        return f"{float(over[column]) / float(warm[column]):.{digits}f}x"

    first, first_cpu, full = "first draw wall (s)", "first draw CPU (s)", "full fit wall (s)"
    return {
        "model": model,
        "peer / warm, first draw wall": ratio(peer, first),
        "peer / warm, first draw CPU": ratio(peer, first_cpu),
        "cold / warm, first draw wall": ratio(cold, first),
        "peer / warm, full fit wall": ratio(peer, full, 1),
        f"warm first draw <= {TARGET_WARM_FIRST_DRAW_S:.0f} s": (
            "yes" if float(warm[first]) <= TARGET_WARM_FIRST_DRAW_S else "no"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm and peer runs per model")
    args = parser.parse_args()
    rows, ratios = [], []
    for model in MODELS:
        with tempfile.TemporaryDirectory() as tmp:
            compiledir = Path(tmp) / "compiledir"
            cold = [_child(model, compiledir, cache=True)]
            warm = [_child(model, compiledir, cache=True) for _ in range(args.repeats)]
            peer = [_child(model, compiledir, cache=False) for _ in range(args.repeats)]
        for state, runs in [("cold", cold), ("warm", warm), ("nutpie (PyTensor cache warm)", peer)]:
            rows.append(_row(model, state, runs))
            print(rows[-1], flush=True)
        ratios.append(_ratios(model, *rows[-3:]))
    notes = [
        "Each run is a new process. 'first draw' is from the end of the imports to the first",
        "NUTS draw: building the model with its data, the compile or cache load, and the",
        "sampler's start with one draw; 'with import' adds the imports (PyMC, nutpie, which",
        "imports ArviZ, and mi_workbench), which every kernel pays once whatever it runs.",
        "'full fit' is build, compile or load, and the lesson's default fit. Medians of the runs.",
        "CPU time counts every thread of the process (the two chains run on two threads).",
    ]
    save_table(
        rows,
        name="first_draw",
        title="Fresh process to the first NUTS draw: cold cache, warm cache, nutpie's own compile",
        notes=notes,
        info=machine_info(["pymc", "pytensor", "nutpie", "numba"]),
        more=[("ratios", ratios, ["Ratios of the medians above, in the same run."])],
    )


if __name__ == "__main__":
    main()
