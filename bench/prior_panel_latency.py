"""Control-to-figure latency of ``PriorPanel`` on the kernel side, beside the 100 ms target.

Two forms are measured: the regression panel of lesson 01 (a table) and ``PriorPanel(model)`` on
a user's own PyMC model with 10 priors and 300 observations (two Lorentzian lines on a quadratic
background). For the model panel the peer is what a PyMC user does without it: rebuild the model
with the new prior and call ``pm.sample_prior_predictive`` (100 draws), once per change; the
table gives both medians on the same changes, in one run, and their ratio.

A slider move in JupyterLab reaches the kernel as a comm message that sets the slider's
``value``; the panel's observer then recomputes the prior densities and the NumPy prior-predictive
lines and updates both plotly ``FigureWidget`` objects, whose new state is serialised into comm
messages back to the browser. This script times exactly that path inside a real (in-process)
IPython kernel, so that the figure updates are serialised as they are for JupyterLab: from setting
``slider.value`` until both figures hold their new data. Network and browser rendering are not
included (they are what the browser test exercises).

The panel is set up as in lesson 01 (30 virtual alloys, 4 descriptors, 40 prior lines), once alone
and once linked to a ``PosteriorPanel`` (``priors=prior_panel``) as the lesson does. Each slider is
swept back and forth in its own steps, like a drag; the first moves are warm-up and not counted.

Run: ``.venv/bin/python bench/prior_panel_latency.py`` (or ``make bench``). Options: ``--moves``.
The table is printed and saved to ``bench/results/prior_panel_latency.{md,csv}``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet the in-process kernel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import machine_info, save_table  # noqa: E402

TARGET_MS = 100.0
WARMUP_MOVES = 5
SLIDERS = [("intercept", "mu"), ("coefficients", "sigma"), ("noise", "sigma")]
MODEL_SLIDERS = [("centre_a", "mu"), ("width_b", "sigma"), ("noise", "sigma")]
N_OBS = 300
PEER_MOVES = 12


def peak_model(priors: dict | None = None):
    """The model panel's benchmark model: 10 priors, 300 observations.

    ``priors`` maps names to :class:`~mi_workbench.models.Prior` to rebuild it with other
    priors (what the peer does at each change).
    """
    import numpy as np
    import pymc as pm

    from mi_workbench.models import Prior

    rng = np.random.default_rng(0)
    shift = np.linspace(480.0, 560.0, N_OBS)

    def line(x, centre, width, height):
        return height / (1.0 + ((x - centre) / width) ** 2)

    truth = 50.0 + 0.2 * (shift - 520.0) + line(shift, 505.0, 3.0, 300.0)
    truth = truth + line(shift, 520.0, 2.0, 900.0)
    counts = truth + rng.normal(0.0, 10.0, N_OBS)
    defaults = {
        "centre_a": Prior("Normal", 505.0, 5.0),
        "width_a": Prior("LogNormal", np.log(3.0), 0.5),
        "height_a": Prior("Gamma", alpha=3.0, beta=0.01),
        "centre_b": Prior("Normal", 520.0, 5.0),
        "width_b": Prior("LogNormal", np.log(2.0), 0.5),
        "height_b": Prior("Gamma", alpha=3.0, beta=0.003),
        "b0": Prior("Normal", 50.0, 30.0),
        "b1": Prior("Normal", 0.0, 1.0),
        "b2": Prior("Normal", 0.0, 0.01),
        "noise": Prior("HalfNormal", sigma=20.0),
    }
    defaults.update(priors or {})
    with pm.Model() as model:
        x = pm.Data("shift", shift)
        v = {name: prior.to_pymc(name) for name, prior in defaults.items()}
        d = x - 520.0
        mean = v["b0"] + v["b1"] * d + v["b2"] * d**2
        mean = mean + line(x, v["centre_a"], v["width_a"], v["height_a"])
        mean = mean + line(x, v["centre_b"], v["width_b"], v["height_b"])
        pm.Normal("counts", mean, v["noise"], observed=counts)
    return model


def peer_times(panel, moves: int) -> tuple[list[float], list[float]]:
    """Per change: the panel's time, and rebuild + ``pm.sample_prior_predictive`` (the peer)."""
    import time

    import pymc as pm

    slider = panel.controls["width_b"].sliders["sigma"]
    ours, peer = [], []
    for value in sweep_values(slider, moves + 1)[1:]:
        start = time.perf_counter()
        slider.value = value
        ours.append(1000.0 * (time.perf_counter() - start))
        start = time.perf_counter()
        model = peak_model({"width_b": panel.priors["width_b"]})
        pm.sample_prior_predictive(draws=100, model=model, random_seed=0)
        peer.append(1000.0 * (time.perf_counter() - start))
    return ours, peer


def sweep_values(slider, n_moves: int) -> list[float]:
    """``n_moves`` successive slider values, back and forth around the start, one step apart.

    A log slider (``FloatLogSlider``) steps in the exponent, as dragging it does.
    """
    import math

    log = hasattr(slider, "base")
    position = math.log(slider.value, slider.base) if log else slider.value
    step = slider.step
    span = max(10, min(40, int((slider.max - slider.min) / step) // 4))
    offsets, k, direction = [], 0, 1
    while len(offsets) < n_moves:
        if abs(k + direction) > span:
            direction = -direction
        k += direction
        offsets.append(k)
    values = [min(max(position + k * step, slider.min), slider.max) for k in offsets]
    return [slider.base**v for v in values] if log else values


def measure(panel, moves: int, sliders=SLIDERS) -> dict[tuple[str, str], list[float]]:
    """Time ``moves`` slider moves (after a warm-up) for each of ``sliders``."""
    import time

    import numpy as np

    def state():
        return (
            [
                np.concatenate([np.asarray(t.x, dtype=float), np.asarray(t.y, dtype=float)])
                for t in panel.density_figure.data
            ],
            np.array(panel.predictive_figure.data[0].y, dtype=float, copy=True),
        )

    timings = {}
    for key in sliders:
        name, param = key
        slider = panel.controls[name].sliders[param]
        values = sweep_values(slider, moves + WARMUP_MOVES)
        times = []
        for i, value in enumerate(values):
            before_density, before_lines = state()
            start = time.perf_counter()
            slider.value = value
            elapsed = time.perf_counter() - start
            after_density, after_lines = state()
            density_changed = any(
                not np.array_equal(a, b) for a, b in zip(before_density, after_density, strict=True)
            )
            if not (density_changed and not np.array_equal(before_lines, after_lines)):
                raise RuntimeError(f"moving {key} to {value} did not update both figures")
            if i >= WARMUP_MOVES:
                times.append(1000.0 * elapsed)
        timings[key] = times
    return timings


def run_in_kernel(moves: int, linked: bool, form: str = "regression"):
    """Build the panels inside an in-process IPython kernel and measure there.

    ``form`` is ``"regression"`` (lesson 01's table) or ``"model"`` (:func:`peak_model`); the
    model form also returns the per-change times of the panel and of the peer.
    """
    from ipykernel.inprocess.manager import InProcessKernelManager

    manager = InProcessKernelManager()
    manager.start_kernel()
    try:
        shell = manager.kernel.shell
        code = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
import prior_panel_latency as bench
from _lesson_data import LESSON_01_FEATURES as FEATURES, LESSON_01_TARGET as TARGET
from _lesson_data import lesson_01_training_alloys
from mi_workbench.widgets import PosteriorPanel, PriorPanel

train = lesson_01_training_alloys()
panel = PriorPanel(train, features=FEATURES, target=TARGET,
                   plot_feature="valence_electron_concentration", n_draws=40, random_seed=0)
assert type(panel.density_figure.comm).__module__.startswith("ipykernel"), "no kernel comm"
if {form!r} == "model":
    panel = PriorPanel(bench.peak_model(), n_draws=100, random_seed=0)
    if {linked!r}:
        posterior_panel = PosteriorPanel(panel)
    timings = bench.measure(panel, {moves}, bench.MODEL_SLIDERS)
    peer = bench.peer_times(panel, bench.PEER_MOVES)
else:
    if {linked!r}:
        posterior_panel = PosteriorPanel(train, features=FEATURES, target=TARGET, priors=panel)
    timings = bench.measure(panel, {moves})
    peer = None
"""
        result = shell.run_cell(code)
        result.raise_error()
        return shell.user_ns["timings"], shell.user_ns["peer"]
    finally:
        manager.shutdown_kernel()


def main() -> None:
    import logging

    import numpy as np

    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # kernel shutdown chatter at exit
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200, help="timed moves per slider (>= 100)")
    args = parser.parse_args()
    if args.moves < 100:
        parser.error("--moves must be at least 100")

    rows, peer_rows = [], []
    for form, label in (
        ("regression", "table (lesson 01)"),
        ("model", "pm.Model, 10 priors, 300 obs"),
    ):
        for linked in (False, True):
            setup = f"{label}: PriorPanel" + (" + linked PosteriorPanel" if linked else " alone")
            timings, peer = run_in_kernel(args.moves, linked, form)
            for (name, param), times in timings.items():
                ms = np.asarray(times)
                p95 = float(np.percentile(ms, 95))
                rows.append(
                    {
                        "setup": setup,
                        "control": f"{name} {param}",
                        "moves": ms.size,
                        "median_ms": round(float(np.median(ms)), 2),
                        "p95_ms": round(p95, 2),
                        "max_ms": round(float(ms.max()), 2),
                        "target_ms": TARGET_MS,
                        "within_target": "yes" if p95 <= TARGET_MS else "NO",
                    }
                )
            if peer is not None and not linked:
                ours, theirs = (np.asarray(t) for t in peer)
                peer_rows.append(
                    {
                        "work": "one prior change on the 10-prior, 300-observation model",
                        "changes": ours.size,
                        "panel_median_ms": round(float(np.median(ours)), 2),
                        "peer_median_ms": round(float(np.median(theirs)), 1),
                        "peer_over_panel": round(float(np.median(theirs) / np.median(ours)), 1),
                    }
                )
    notes = [
        "Kernel-side time from setting `slider.value` until both FigureWidgets hold the new data",
        "and their comm messages are serialised (in-process IPython kernel); browser rendering and",
        "the websocket round trip are not included. Lesson-01 set-up: 30 alloys, 4 descriptors,",
        "40 prior lines. Model set-up: `peak_model()`, 100 joint prior draws per change (one",
        f"compiled function). {WARMUP_MOVES} warm-up moves per control not counted.",
    ]
    save_table(
        rows,
        name="prior_panel_latency",
        title="PriorPanel control-to-figure latency (target: p95 <= 100 ms)",
        notes=notes,
        info=machine_info(["numpy", "plotly", "ipywidgets", "ipykernel", "anywidget", "pymc"]),
    )
    save_table(
        peer_rows,
        name="prior_panel_latency_peer",
        title="PriorPanel(model) against rebuilding the model + pm.sample_prior_predictive",
        notes=[
            "Same prior changes, same run: the panel's control-to-figure time (its one compiled",
            "function) against what a PyMC user runs without it (rebuild the model with the new",
            "prior, then `pm.sample_prior_predictive(draws=100)`, which compiles again), no figure",
            f"drawn for the peer. {PEER_MOVES} changes.",
        ],
        info=machine_info(["pymc", "pytensor"]),
    )


if __name__ == "__main__":
    main()
