"""Shared helpers of the benchmarks: machine description and saving a result table.

Every benchmark prints its table and writes it to ``bench/results/<name>.md`` (with the machine,
date and notes) and ``bench/results/<name>.csv`` (the rows only).
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.metadata
import os
import platform
from collections.abc import Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_info(packages: Sequence[str]) -> dict[str, str]:
    """Date, OS, CPU, cores, Python and the versions of ``packages``."""
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = cores
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": f"{_cpu_model()}, {usable} of {cores} cores usable",
        "load average (1, 5, 15 min) at the end": load,
        "python": platform.python_version(),
        "packages": ", ".join(versions),
    }


def _markdown_table(rows: list[dict]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def save_table(
    rows: list[dict],
    *,
    name: str,
    title: str,
    notes: Sequence[str],
    info: dict[str, str],
    more: Sequence[tuple[str, list[dict], Sequence[str]]] = (),
) -> Path:
    """Print the table and save it as ``results/<name>.md`` and ``results/<name>.csv``.

    ``more`` adds further ``(suffix, rows, notes)`` tables to the markdown file, each also saved as
    ``results/<name>_<suffix>.csv``.
    """
    RESULTS.mkdir(exist_ok=True)
    sections = [("", rows, notes), *more]
    parts = [f"# {title}"]
    for suffix, section_rows, section_notes in sections:
        parts.append(_markdown_table(section_rows) + "\n\n" + " ".join(section_notes))
        csv_name = f"{name}_{suffix}.csv" if suffix else f"{name}.csv"
        with (RESULTS / csv_name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(section_rows[0]))
            writer.writeheader()
            writer.writerows(section_rows)
    meta = "\n".join(f"- {key}: {value}" for key, value in info.items())
    text = "\n\n".join(parts) + f"\n\nMeasured on:\n\n{meta}\n"
    path = RESULTS / f"{name}.md"
    path.write_text(text)
    print(text)
    print(f"saved {path.relative_to(RESULTS.parent.parent)} and its CSV table(s)")
    return path
