"""Slider-to-figure latency of ``PriorPanel`` on the kernel side, beside the 100 ms target.

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
SLIDERS = [("intercept", "loc"), ("coefficients", "scale"), ("noise", "scale")]


def sweep_values(slider, n_moves: int) -> list[float]:
    """``n_moves`` successive slider values, back and forth around the start, one step apart."""
    step = slider.step
    span = max(10, min(40, int((slider.max - slider.min) / step) // 4))
    start = slider.value
    offsets, k, direction = [], 0, 1
    while len(offsets) < n_moves:
        if abs(k + direction) > span:
            direction = -direction
        k += direction
        offsets.append(k)
    return [min(max(start + k * step, slider.min), slider.max) for k in offsets]


def measure(panel, moves: int) -> dict[tuple[str, str], list[float]]:
    """Time ``moves`` slider moves (after a warm-up) for each slider of :data:`SLIDERS`."""
    import time

    import numpy as np

    def state():
        return (
            [np.array(trace.y, copy=True) for trace in panel.density_figure.data],
            np.array(panel.predictive_figure.data[0].y, dtype=float, copy=True),
        )

    timings = {}
    for key in SLIDERS:
        slider = panel.sliders[key]
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


def run_in_kernel(moves: int, linked: bool) -> dict[tuple[str, str], list[float]]:
    """Build the lesson-01 panels inside an in-process IPython kernel and measure there."""
    from ipykernel.inprocess.manager import InProcessKernelManager

    manager = InProcessKernelManager()
    manager.start_kernel()
    try:
        shell = manager.kernel.shell
        code = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
import numpy as np
import prior_panel_latency as bench
from mi_workbench.data import virtual_alloys
from mi_workbench.widgets import PosteriorPanel, PriorPanel

FEATURES = ["valence_electron_concentration", "mean_electronegativity",
            "mean_metallic_radius_pm", "radius_mismatch_percent"]
TARGET = "transformation_temperature_k"
alloys = virtual_alloys(n_alloys=50, random_seed=0)
order = np.random.default_rng(0).permutation(alloys.sizes["alloy"])
train = alloys.isel(alloy=np.sort(order[:30]))
panel = PriorPanel(train, features=FEATURES, target=TARGET,
                   plot_feature="valence_electron_concentration", n_draws=40, random_seed=0)
assert type(panel.density_figure.comm).__module__.startswith("ipykernel"), "no kernel comm"
if {linked!r}:
    posterior_panel = PosteriorPanel(train, features=FEATURES, target=TARGET, priors=panel)
timings = bench.measure(panel, {moves})
"""
        result = shell.run_cell(code)
        result.raise_error()
        return shell.user_ns["timings"]
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

    rows = []
    for linked in (False, True):
        setup = "PriorPanel + linked PosteriorPanel" if linked else "PriorPanel alone"
        for (name, param), times in run_in_kernel(args.moves, linked).items():
            ms = np.asarray(times)
            p95 = float(np.percentile(ms, 95))
            rows.append(
                {
                    "setup": setup,
                    "slider": f"{name} {param}",
                    "moves": ms.size,
                    "median_ms": round(float(np.median(ms)), 2),
                    "p95_ms": round(p95, 2),
                    "max_ms": round(float(ms.max()), 2),
                    "target_ms": TARGET_MS,
                    "within_target": "yes" if p95 <= TARGET_MS else "NO",
                }
            )
    notes = [
        "Kernel-side time from setting `slider.value` until both FigureWidgets hold the new data",
        "and their comm messages are serialised (in-process IPython kernel); browser rendering and",
        "the websocket round trip are not included. Lesson-01 set-up: 30 alloys, 4 descriptors,",
        f"40 prior lines; {WARMUP_MOVES} warm-up moves per slider not counted.",
    ]
    save_table(
        rows,
        name="prior_panel_latency",
        title="PriorPanel slider-to-figure latency (target: 100 ms)",
        notes=notes,
        info=machine_info(["numpy", "plotly", "ipywidgets", "ipykernel", "anywidget"]),
    )


if __name__ == "__main__":
    main()
