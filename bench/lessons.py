"""Wall time, CPU time and peak memory of every lesson in fast mode, as the tests run them.

The lessons are executed by the suite's own notebook test (``tests/test_notebooks.py``: a fresh
kernel per lesson, ``MI_WORKBENCH_FAST=1``), in a child ``pytest`` process that appends one row per
lesson to a temporary file; this script turns the rows into a table. The test limits CPU time and
memory only, since a busy machine stretches the wall clock; the wall times belong here.

The ratio column is wall over CPU time in the kernel: near 1 on an idle machine for a lesson
that computes on one core, below 1 when it uses both cores, above 1 when the kernel waited (for
other processes on a busy machine, or for its compilers, whose CPU time is counted too).

Run: ``.venv/bin/python bench/lessons.py`` (``-k 03_`` for one lesson). The table is printed and
saved to ``bench/results/lessons.{md,csv}``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _report import machine_info, save_table  # noqa: E402

ROOT = HERE.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="pytest -k expression selecting lessons")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs.csv"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_notebooks.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        if args.k:
            command += ["-k", args.k]
        env = {**os.environ, "MI_WORKBENCH_LESSON_RUNS": str(runs)}
        status = subprocess.run(command, cwd=ROOT, env=env).returncode
        lines = runs.read_text().splitlines() if runs.exists() else []
    if not lines:
        raise SystemExit(f"no lesson ran (pytest exited with {status})")
    parsed = [line.split(",") for line in lines]
    measured = [(name, float(wall), float(cpu), peak) for name, wall, cpu, peak in parsed]
    rows = [
        {
            "lesson": name.removesuffix(".ipynb"),
            "wall s": f"{wall:.1f}",
            "CPU s in the kernel": f"{cpu:.1f}",
            "wall / CPU": f"{wall / max(cpu, 1e-9):.2f}",
            "peak MB": peak,
        }
        for name, wall, cpu, peak in measured
    ]
    total_wall = sum(wall for _, wall, _, _ in measured)
    total_cpu = sum(cpu for _, _, cpu, _ in measured)
    notes = [
        f"{len(rows)} lessons in fast mode (MI_WORKBENCH_FAST=1), each in a fresh kernel:",
        f"{total_wall:.0f} s wall and {total_cpu:.0f} CPU-s in all.",
        "tests/test_notebooks.py limits each lesson's CPU time and peak memory (MAX_CPU_SECONDS,",
        "MAX_PEAK_MB); wall time is not limited.",
    ]
    if status != 0:
        notes.append(f"pytest exited with {status}: a lesson failed (its row may be missing).")
    save_table(
        rows,
        name="lessons",
        title="Lessons in fast mode: wall time, CPU time and peak memory",
        notes=notes,
        info=machine_info(["pymc", "pytensor", "nutpie", "arviz", "numpy"]),
    )
    raise SystemExit(status)


if __name__ == "__main__":
    main()
