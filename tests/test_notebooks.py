"""Execute every lesson notebook top to bottom, as CI and a seminar participant would.

Each notebook runs in a fresh ``python3`` kernel with ``MI_WORKBENCH_FAST=1`` (fewer draws, same
cells). A notebook passes when no cell raised, no output is an error, the kernel's CPU time (its
own and its compilers') stayed under ``MAX_CPU_SECONDS`` and its peak memory under ``MAX_PEAK_MB``
(Binder gives about 2 GB). CPU time, not wall time, is limited: a busy machine stretches the wall
clock several times but the CPU work hardly at all. The cell timeout only catches a hang.
Each run's wall time, CPU time and peak memory are appended to ``tests/artifacts/notebook_runs.csv``
(or to the file ``MI_WORKBENCH_LESSON_RUNS`` names); ``bench/lessons.py`` makes the timing table.
Run one lesson with ``pytest tests/test_notebooks.py -k 01_descriptors``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
MAX_CPU_SECONDS = 600.0  # fast mode needs 9-40 CPU-s per lesson (bench/results/lessons.md)
MAX_PEAK_MB = 2048.0
CELL_TIMEOUT_SECONDS = 1200  # a hang, not a slow machine
KERNEL_NAME = "python3"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
_PEAK_MARKER = "MI_WORKBENCH_PEAK_RSS_MB="
_CPU_MARKER = "MI_WORKBENCH_CPU_S="
# Appended to the in-memory copy only (never saved): the kernel reports its own peak memory.
# VmHWM is the peak resident size of this process image (ru_maxrss would also count the
# pytest process that started the kernel, since it survives exec).
_PEAK_CELL = (
    "import re as _re\n"
    "_hwm = _re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
    f"print('{_PEAK_MARKER}' + str(int(_hwm) / 1024))\n"
    "import os as _os\n"
    f"print('{_CPU_MARKER}' + str(sum(_os.times()[:4])))"
)


def _error_outputs(notebook) -> list[str]:
    """Text of every error output and every stderr stream that reports a traceback."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = output.get("text", "")
                if "Traceback (most recent call last)" in text:
                    problems.append(f"cell {index}: traceback on stderr:\n{text[-2000:]}")
    return problems


def test_lessons_are_present():
    assert NOTEBOOKS, f"no lesson notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_clean(path, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata.get("kernelspec", {}).get("name") == KERNEL_NAME, (
        f"{path.name} needs kernelspec name {KERNEL_NAME!r} so JupyterLab does not ask for a kernel"
    )
    monkeypatch.setenv("MI_WORKBENCH_FAST", "1")  # the kernel inherits the environment
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    notebook.cells.append(nbformat.v4.new_code_cell(_PEAK_CELL))
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    problems = _error_outputs(notebook)
    assert not problems, f"{path.name} produced error output:\n" + "\n".join(problems)
    peak_mb = _reported(notebook.cells[-1], _PEAK_MARKER)
    cpu_s = _reported(notebook.cells[-1], _CPU_MARKER)
    runs = Path(os.environ.get("MI_WORKBENCH_LESSON_RUNS", ARTIFACTS / "notebook_runs.csv"))
    runs.parent.mkdir(parents=True, exist_ok=True)
    with open(runs, "a", encoding="utf-8") as log:
        log.write(f"{path.name},{elapsed:.1f},{cpu_s:.1f},{peak_mb:.0f}\n")
    print(
        f"{path.name}: executed in {elapsed:.1f} s wall, {cpu_s:.1f} CPU-s in the kernel, "
        f"peak memory {peak_mb:.0f} MB"
    )
    assert cpu_s <= MAX_CPU_SECONDS, (
        f"{path.name} used {cpu_s:.0f} CPU-s in the kernel (limit {MAX_CPU_SECONDS:.0f})"
    )
    assert peak_mb <= MAX_PEAK_MB, f"{path.name} peaked at {peak_mb:.0f} MB (limit {MAX_PEAK_MB})"


def _reported(cell, marker: str) -> float:
    """The number the kernel printed after ``marker`` in the appended measuring cell."""
    for output in cell.get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(marker):
                return float(line[len(marker) :])
    raise AssertionError(f"the kernel did not report {marker!r}: {cell.get('outputs')}")
