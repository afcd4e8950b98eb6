"""Measured silicon Raman spectra shipped in ramanchada2 (mi_workbench.data.raman)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import curve_fit

from mi_workbench.data import (
    RAMANCHADA2_LICENCE,
    SI_PHONON_CM1,
    silicon_raman_spectra,
    silicon_raman_spectrum,
)
from mi_workbench.data.raman import _metadata

NAMES = list(silicon_raman_spectra())


def _lorentzian_on_line(x, x0, height, hwhm, b0, b1):
    return height / (1.0 + ((x - x0) / hwhm) ** 2) + b0 + b1 * (x - 520.0)


def _installed_licence() -> str:
    distribution = importlib.metadata.distribution("ramanchada2")
    files = [f for f in distribution.files if f.name == "LICENSE"]
    assert files, "ramanchada2's dist-info has no LICENSE file"
    return Path(distribution.locate_file(files[0])).read_text()


def test_the_checked_spectra_are_exposed():
    assert NAMES == ["horiba_633nm", "bwtek_532nm", "horiba_785nm_op01", "horiba_785nm_op02"]
    assert all(
        isinstance(text, str) and "nm laser" in text for text in silicon_raman_spectra().values()
    )


@pytest.mark.parametrize("name", NAMES)
def test_spectrum_loads_sorted_finite_in_window(name):
    ds = silicon_raman_spectrum(name)
    signal = ds.attrs["signal"]
    assert signal in ("counts", "intensity") and signal in ds.data_vars
    assert ds[signal].dims == ("raman_shift",)
    assert ds["raman_shift"].attrs["units"] == "cm^-1"
    x, y = ds["raman_shift"].values, ds[signal].values
    assert np.all(np.diff(x) > 0) and np.all(np.isfinite(y))
    assert x[0] >= 480 and x[-1] <= 560 and len(x) >= 20
    whole = silicon_raman_spectrum(name, window=None)
    assert whole.sizes["raman_shift"] > 5 * len(x)
    assert whole["raman_shift"].values[0] < 200 and whole["raman_shift"].values[-1] > 2000


@pytest.mark.parametrize("name", NAMES)
def test_single_clear_silicon_line_near_520(name):
    ds = silicon_raman_spectrum(name)
    x, y = ds["raman_shift"].values, ds[ds.attrs["signal"]].values
    top = int(np.argmax(y))
    base = float(np.median(np.r_[y[:4], y[-4:]]))
    p0 = [x[top], y[top] - base, 2.0, base, 0.0]
    (x0, _, hwhm, _, _), covariance = curve_fit(_lorentzian_on_line, x, y, p0=p0)
    assert abs(x0 - SI_PHONON_CM1) < 3.0, f"{name}: line at {x0:.2f} cm^-1"
    assert np.sqrt(covariance[0, 0]) < 0.5
    assert 2.0 < 2 * abs(hwhm) < 15.0
    # one line: away from it nothing rises above a quarter of its height
    away = np.abs(x - x[top]) > 15
    assert (y[away].max() - base) < 0.25 * (y[top] - base)
    # clear: the line stands far above the scatter of the baseline points
    left = y[x < x[top] - 15]
    d2 = left[:-2] - 2 * left[1:-1] + left[2:]
    assert (y[top] - base) > 10 * np.sqrt(np.mean(d2**2) / 6)


def test_attrs_carry_licence_citation_and_source():
    licence = _installed_licence()
    assert RAMANCHADA2_LICENCE == licence
    version = importlib.metadata.version("ramanchada2")
    for name in NAMES:
        ds = silicon_raman_spectrum(name)
        assert ds.attrs["licence"] == licence
        assert "MIT License" in ds.attrs["licence"] and "CHARISMA H2020" in ds.attrs["licence"]
        citation = ds.attrs["citation"]
        assert f"ramanchada2 {version}" in citation and "952921" in citation
        assert "github.com/h2020charisma/ramanchada2" in citation
        assert ds.attrs["file"] in ds.attrs["source"] and "CHARISMA" in ds.attrs["source"]
        for key in ("instrument", "processing", "noise", "provider", "optical_path"):
            assert isinstance(ds.attrs[key], str) and ds.attrs[key]
        assert ds.attrs["laser_wavelength_nm"] in (532.02, 633.0, 785.0)
        ds.to_netcdf(engine="h5netcdf")  # every attr can be saved


def test_files_are_the_silicon_entries_of_the_package_metadata():
    root = Path(next(iter(importlib.util.find_spec("ramanchada2").submodule_search_locations)))
    metadata = _metadata()
    for name in NAMES:
        ds = silicon_raman_spectrum(name)
        entry = metadata[ds.attrs["file"]]
        assert entry["sample"].startswith("Sil")
        assert abs(float(entry["laser_wl"]) - ds.attrs["laser_wavelength_nm"]) < 0.1
        assert ds.attrs["provider"] == entry["provider"]
        assert (root / "auxiliary/spectra/datasets2" / ds.attrs["file"]).is_file()


def test_bwtek_counts_are_raw_minus_dark():
    ds = silicon_raman_spectrum("bwtek_532nm")
    np.testing.assert_allclose(ds["counts"], ds["raw_counts"] - ds["dark_counts"], atol=1e-6)
    assert ds.attrs["instrument"].startswith("B&W Tek BWS415-532S")
    assert ds.attrs["exposure_s"] == 60.0 and ds.attrs["accumulations"] == 2


def test_horiba_633_noise_is_poisson_like_over_five_accumulations():
    """attrs['noise'] says: variance about mean / 5 (Poisson counts averaged over 5)."""
    ds = silicon_raman_spectrum("horiba_633nm", window=None)
    y = ds["counts"].values
    ratios = []
    for start in range(0, len(y) - 16, 16):
        block = y[start : start + 16]
        d2 = block[:-2] - 2 * block[1:-1] + block[2:]
        ratios.append(np.mean(d2**2) / 6 / block.mean())
    assert 0.12 < np.median(ratios) < 0.3
    assert "0.2 x mean" in ds.attrs["noise"] and "5 accumulations" in ds.attrs["noise"]


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"name must be one of \['horiba_633nm'"):
        silicon_raman_spectrum("horiba_785nm_op03")
    with pytest.raises(ValueError, match="low < high"):
        silicon_raman_spectrum(window=(560, 480))
    with pytest.raises(TypeError, match="pair"):
        silicon_raman_spectrum(window=520)
    with pytest.raises(ValueError, match="holds 0 points.*choose a wider window"):
        silicon_raman_spectrum(window=(5000, 6000))
