"""Measured Raman spectra of silicon: the first-order phonon line near 520.7 cm^-1.

The spectra are files shipped inside the PyPI package ``ramanchada2`` (a declared dependency) in
``ramanchada2/auxiliary/spectra/datasets2/``: spectra of a silicon reference sample measured on
different instruments, lasers and optical paths by partners of the CHARISMA H2020 project for its
Raman harmonisation round robin. Nothing is downloaded; the files are parsed with
:func:`mi_workbench.data.read_spectrum`, and the instrument, provider and laser come from the
package's metadata list (``data = [...]`` in ``datasets2/__init__.py``) and the file headers.

Exposed spectra (``silicon_raman_spectra()``), each checked to show one clear Si line in
480-560 cm^-1:

- ``horiba_633nm``: provider TOP, Horiba, 633 nm, 40 s x 5 accumulations, 1.04 cm^-1 steps.
- ``bwtek_532nm``: provider FNMT, B&W Tek BWS415-532S with fibre probe, 532.02 nm, 60 s x 2,
  2.84 cm^-1 steps (dark-subtracted, raw and dark counts).
- ``horiba_785nm_op01``, ``horiba_785nm_op02``: provider FNMT, Horiba, 785 nm, optical paths 01
  and 02; weak lines (about 1/15 and 1/60 of a ~1050 offset).

What this module's check of the 480-560 cm^-1 window found (fits of a Lorentzian or Voigt line
on a linear baseline; noise from second differences of the baseline):

================== ============ ================ ============== =========================
name               line (cm^-1) height over base FWHM (cm^-1)   noise sd (baseline level)
================== ============ ================ ============== =========================
horiba_633nm       518.8        29000 (430)      3.5-3.8        9 (410-460), var ~mean/5
bwtek_532nm        520.3        24000 (2400)     8.4-9.4 [1]_   55-120 (2000-2900)
horiba_785nm_op01  523.2 +- 0.4 61-74 (1081)     10-12.5        2-2.5 (1080)
horiba_785nm_op02  521.5 +- 0.3 17-19 (1047)     11.5-12.6      0.1 point-to-point [2]_
================== ============ ================ ============== =========================

.. [1] 2.84 cm^-1 steps: three points across the line, which is instrument-broadened.
.. [2] smoothed data: baseline undulations of 1-2, correlated over many points.

The offsets of the line from 520.7 cm^-1 (-1.9 to +2.5) are the instruments' uncalibrated
Raman-shift axes, which is what the round robin was about.

Left out: ``FMNT-M_Ho785/Sil10_iR785_OP03_8000msx2.txt`` (785 nm, optical path 03): its largest
feature in the window is a bump of ~8 above a ~1034 offset at 526.8 cm^-1, no larger than the
baseline's undulations of the smoothed data, so there is no clear Si line to fit.

Licence and citation
--------------------
The files are part of ramanchada2 (checked against version 1.5.0), distributed under the MIT
licence; its text, as installed in ``ramanchada2-*.dist-info/licenses/LICENSE``, is
:data:`RAMANCHADA2_LICENCE` and is copied into every Dataset's ``attrs["licence"]``::

    MIT License

    Copyright (c) 2021-2024 CHARISMA H2020 project
    Copyright (c) 2022-2023 IDEAconsult Ltd.
    Copyright (c) 2024 Georgi Stefanov Georgiev
    Copyright (c) 2024 Nicolas Coca Lopez

    (followed by the standard MIT permission notice and warranty disclaimer)

Cite (:data:`SILICON_RAMAN_CITATION`, also in ``attrs["citation"]``): ramanchada2 1.5.0, a
library for Raman spectroscopy harmonisation, IDEAconsult Ltd. and the CHARISMA H2020 project,
https://github.com/h2020charisma/ramanchada2 (MIT licence); spectra from the CHARISMA project
round robin, ramanchada2/auxiliary/spectra/datasets2. CHARISMA received funding from the
European Union's Horizon 2020 research and innovation programme under grant agreement
No. 952921.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import xarray as xr

from mi_workbench._checks import check_choice, check_finite_number
from mi_workbench.data.files import _variable_name, read_spectrum

#: Position of the first-order optical phonon of crystalline silicon at room temperature, the
#: usual Raman-shift calibration reference (cm^-1).
SI_PHONON_CM1 = 520.7

#: The MIT licence of ramanchada2 exactly as installed with version 1.5.0
#: (``ramanchada2-1.5.0.dist-info/licenses/LICENSE``).
RAMANCHADA2_LICENCE = """MIT License

Copyright (c) 2021-2024 CHARISMA H2020 project
Copyright (c) 2022-2023 IDEAconsult Ltd.
Copyright (c) 2024 Georgi Stefanov Georgiev
Copyright (c) 2024 Nicolas Coca Lopez

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

#: How to cite the spectra (``{version}`` is the installed ramanchada2 version).
SILICON_RAMAN_CITATION = (
    "ramanchada2 {version}: a library for Raman spectroscopy harmonisation, IDEAconsult Ltd. and "
    "the CHARISMA H2020 project, https://github.com/h2020charisma/ramanchada2 (MIT licence); "
    "spectra from the CHARISMA project round robin, ramanchada2/auxiliary/spectra/datasets2. "
    "CHARISMA received funding from the European Union's Horizon 2020 research and innovation "
    "programme under grant agreement No. 952921."
)

_DATASETS = "auxiliary/spectra/datasets2"
_COUNTS_NOTE = (
    "detector counts (ADU) as the instrument software exported them; not photon counts: the "
    "noise variance grows with the signal but is {ratio} times the mean"
)

#: name -> how to read the file and what is known about it. ``measured`` are figures of this
#: module's own check of the 480-560 cm^-1 window (see the module docstring).
_SPECTRA: dict[str, dict] = {
    "horiba_633nm": {
        "file": "TOP_Ho633/Si_HLR633_Z010_100_40sx5.txt",
        "columns": {"counts": "intensity"},
        "signal": "counts",
        "exposure_s": 40.0,
        "accumulations": 5,
        "processing": (
            "as exported: the mean of 5 accumulations of 40 s (non-integer values); no dark or "
            "offset subtraction is documented"
        ),
        "noise": (
            "nearly white; variance about 0.2 x mean over the spectrum (e.g. 64 at a mean of 350, "
            "157 at 850), as for Poisson counts averaged over 5 accumulations: 5 x counts is "
            "close to Poisson"
        ),
    },
    "bwtek_532nm": {
        "file": "FMNT-M_BW532/Sil10_iR532_Probe_100_60000msx2.txt",
        "x": "Raman Shift (cm^-1)",
        "columns": {
            "counts": "Dark Subtracted #1",
            "raw_counts": "Raw data #1",
            "dark_counts": "Dark",
        },
        "signal": "counts",
        "exposure_s": 60.0,
        "accumulations": 2,
        "processing": (
            "counts = 'Dark Subtracted #1' of the B&W Tek export (raw_counts - dark_counts); "
            "raw_counts ('Raw data #1') and dark_counts ('Dark') are each the mean of 2 "
            "accumulations of 60 s (values in steps of 0.5 ADU)"
        ),
        "noise": (
            "white; standard deviation 55-120 ADU (about 100 at 700-900 cm^-1); variance "
            "6000-8800 at dark-subtracted levels of 1550-2900 ADU, about 3 x mean and growing "
            "slowly with it: detector units (ADU), not photon counts; Poisson-like up to a gain "
            "factor, plus a floor from the dark and read noise"
        ),
    },
    "horiba_785nm_op01": {
        "file": "FMNT-M_Ho785/Sil10_iR785_OP01_6000msx4.txt",
        "columns": {"intensity": "intensity"},
        "signal": "intensity",
        "exposure_s": 6.0,
        "accumulations": 4,
        "processing": (
            "processed export: non-integer values on a ~1060 offset that is not subtracted; "
            "3.8 cm^-1 steps"
        ),
        "noise": (
            "close to white, standard deviation 2-2.5 near the line; not Poisson in these units "
            "(variance 4-15, under 0.015 x value); the variance grows with the signal above the "
            "~1045 offset"
        ),
    },
    "horiba_785nm_op02": {
        "file": "FMNT-M_Ho785/Sil10_iR785_OP02_25000msx2.txt",
        "columns": {"intensity": "intensity"},
        "signal": "intensity",
        "exposure_s": 25.0,
        "accumulations": 2,
        "processing": (
            "processed export: non-integer values on a ~1046 offset that is not subtracted; the "
            "data are smoothed (neighbouring points are strongly correlated); 1.8 cm^-1 steps"
        ),
        "noise": (
            "strongly correlated between neighbouring points (lag-1 correlation of the baseline "
            "residuals ~0.95): point-to-point scatter ~0.2, slow baseline undulations ~1-2; an "
            "independent-noise model will be overconfident"
        ),
    },
}


def _package_directory() -> Path:
    """``.../site-packages/ramanchada2`` without importing ramanchada2 (a 3 s import)."""
    spec = importlib.util.find_spec("ramanchada2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "the silicon Raman spectra ship inside the package ramanchada2, which is not "
            "installed; install it with `pip install 'ramanchada2>=1.5,<2'`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def _metadata() -> dict[str, dict]:
    """The ``data = [...]`` list of ``datasets2/__init__.py`` by file name (read with ``ast``)."""
    source = (_package_directory() / _DATASETS / "__init__.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "data" for t in node.targets
        ):
            entries = ast.literal_eval(node.value)
            return {entry["filename"].removeprefix("./"): entry for entry in entries}
    raise ImportError("ramanchada2's datasets2/__init__.py has no metadata list `data = [...]`")


def _ramanchada2_version() -> str:
    try:
        return importlib.metadata.version("ramanchada2")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def silicon_raman_spectra() -> dict[str, str]:
    """The measured silicon Raman spectra available, by name, with a one-line description.

    Returns
    -------
    dict of str to str
        Name (for :func:`silicon_raman_spectrum`) -> instrument, laser and acquisition.

    Examples
    --------
    >>> names = silicon_raman_spectra()
    >>> sorted(names)
    ['bwtek_532nm', 'horiba_633nm', 'horiba_785nm_op01', 'horiba_785nm_op02']
    """
    out = {}
    for name, spec in _SPECTRA.items():
        meta = _metadata().get(spec["file"], {})
        out[name] = (
            f"{meta.get('device', '?')}, {meta.get('laser_wl', '?')} nm laser, provider "
            f"{meta.get('provider', '?')}, optical path {meta.get('OP', '?')}, "
            f"{spec['exposure_s']:g} s x {spec['accumulations']}; variable {spec['signal']!r}"
        )
    return out


def _check_window(window: object) -> tuple[float, float] | None:
    if window is None:
        return None
    if isinstance(window, (str, bytes)) or not hasattr(window, "__len__") or len(window) != 2:
        raise TypeError(f"window must be a pair (low, high) in cm^-1 or None, got {window!r}")
    low = check_finite_number("window[0]", window[0])
    high = check_finite_number("window[1]", window[1])
    if not low < high:
        raise ValueError(f"window must be (low, high) with low < high, got {window!r}")
    return low, high


def _preamble_value(preamble: str, key: str) -> str | None:
    for line in preamble.splitlines():
        name, _, value = line.partition(";")
        if name.strip() == key and value.strip():
            return value.strip()
    return None


def silicon_raman_spectrum(
    name: str = "horiba_633nm", window: tuple[float, float] | None = (480.0, 560.0)
) -> xr.Dataset:
    """A measured Raman spectrum of silicon around its phonon line at ~520.7 cm^-1.

    Parameters
    ----------
    name : str
        One of :func:`silicon_raman_spectra` (default ``"horiba_633nm"``, the cleanest line).
    window : (float, float) or None
        Raman-shift range kept, in cm^-1 (inclusive); ``None`` keeps the whole spectrum.

    Returns
    -------
    xarray.Dataset
        Over dim ``raman_shift`` (cm^-1, ascending, finite): ``counts`` (detector counts) or
        ``intensity`` (a processed export), as ``attrs["signal"]`` says; ``bwtek_532nm`` also
        has ``raw_counts`` and ``dark_counts``. ``attrs``: ``source``, ``licence`` (the full
        MIT text), ``citation``, ``instrument``, ``laser_wavelength_nm``, ``file`` (inside
        ramanchada2), ``provider``, ``optical_path``, ``exposure_s``, ``accumulations``,
        ``signal``, ``processing``, ``noise`` (what this module found in the data),
        ``window_cm1``, ``si_phonon_reference_cm1``.

    Raises
    ------
    ValueError
        On an unknown name, a bad window or a window with fewer than 5 points.
    ImportError
        If ramanchada2 is not installed.

    Examples
    --------
    >>> ds = silicon_raman_spectrum("horiba_633nm")
    >>> ds["counts"].dims, ds.attrs["laser_wavelength_nm"]
    (('raman_shift',), 633.0)
    >>> peak = float(ds["counts"].idxmax())
    >>> abs(peak - 520.7) < 3
    True
    """
    check_choice("name", name, list(_SPECTRA))
    bounds = _check_window(window)
    spec = _SPECTRA[name]
    directory = _package_directory() / _DATASETS
    path = directory / spec["file"]
    meta = _metadata().get(spec["file"], {})
    columns = spec["columns"]
    x = spec.get("x", "raman_shift (cm^-1)")
    ds = read_spectrum(path, x=x, y=list(columns.values()))
    ds = ds.rename({_variable_name(c): v for v, c in columns.items() if _variable_name(c) != v})
    for variable in ds.data_vars:
        ds[variable].attrs["units"] = "counts" if "counts" in variable else "a.u."
        ds[variable].attrs["long_name"] = variable.replace("_", " ")
    preamble = ds.attrs.pop("preamble", "")
    laser = _preamble_value(preamble, "laser_wavelength")
    laser_nm = float(laser.replace(",", ".")) if laser else float(meta.get("laser_wl", "nan"))
    instrument = (
        f"{meta.get('device', 'unknown')} Raman spectrometer (device as named in the ramanchada2 "
        f"metadata), {laser_nm:g} nm laser"
    )
    title, model = _preamble_value(preamble, "title"), _preamble_value(preamble, "model")
    if title:
        instrument = f"B&W Tek {title} (model {model}), fibre probe"
    if bounds is not None:
        full = ds["raman_shift"].values
        ds = ds.sel(raman_shift=slice(*bounds))
        if ds.sizes["raman_shift"] < 5:
            raise ValueError(
                f"window {window!r} holds {ds.sizes['raman_shift']} points of {name!r}, whose "
                f"spectrum covers {full[0]:.1f}-{full[-1]:.1f} cm^-1; choose a wider window"
            )
    version = _ramanchada2_version()
    notes = ds.attrs.pop("notes", None)
    ds.attrs.clear()
    ds.attrs.update(
        description=f"Measured Raman spectrum of silicon ({name})",
        source=(
            f"ramanchada2 {version} (PyPI), file ramanchada2/{_DATASETS}/{spec['file']}: Raman "
            "spectra of the CHARISMA H2020 project round robin"
        ),
        licence=RAMANCHADA2_LICENCE,
        citation=SILICON_RAMAN_CITATION.format(version=version),
        instrument=instrument,
        laser_wavelength_nm=laser_nm,
        file=spec["file"],
        provider=str(meta.get("provider", "unknown")),
        optical_path=str(meta.get("OP", "unknown")),
        sample="silicon reference (sample code 'Sil' in the ramanchada2 metadata)",
        exposure_s=spec["exposure_s"],
        accumulations=spec["accumulations"],
        signal=spec["signal"],
        processing=spec["processing"],
        noise=spec["noise"],
        window_cm1=np.array(bounds if bounds is not None else [np.nan, np.nan]),
        si_phonon_reference_cm1=SI_PHONON_CM1,
    )
    if notes:
        ds.attrs["reading_notes"] = notes
    return ds
