"""Files in and out: read_table, read_spectrum, write_csv (mi_workbench.data.files)."""

from __future__ import annotations

import os

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xarray as xr

from mi_workbench.data import as_regression_data, read_spectrum, read_table, write_csv
from mi_workbench.physics import check_energy_grid


def _xlsx(path, sheets):
    """Write ``{sheet name: [row, ...]}`` as an Excel workbook (rows of Python values)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


# ---------------------------------------------------------------------------------------------
# read_table: CSV and Excel


def test_csv_units_and_column_types(tmp_path):
    path = tmp_path / "films.csv"
    path.write_text(
        "sample,thickness (nm),Eg [eV],annealed,note\n"
        "A,120,2.1725,True,first\n"
        "B,85,2.1603,False,\n"
        "C,60,2.1550,True,third\n"
    )
    df = read_table(path)
    assert list(df.columns) == ["sample", "thickness", "Eg", "annealed", "note"]
    assert df.attrs["units"] == {"thickness": "nm", "Eg": "eV"}
    assert df["thickness"].dtype == np.int64
    assert df["Eg"].dtype == np.float64
    assert df["Eg"].tolist() == [2.1725, 2.1603, 2.1550]
    assert df["annealed"].dtype == bool
    assert df["sample"].tolist() == ["A", "B", "C"]  # text kept as text
    assert df["note"].iloc[0] == "first" and pd.isna(df["note"].iloc[1])


def test_xlsx_units_sheets_and_text_column(tmp_path):
    path = _xlsx(
        tmp_path / "alloys.xlsx",
        {
            "notes": [["made by", "me"]],
            "data": [
                ["alloy", "Ms (K)", "Cu [at.%]"],
                ["TiNi", 330.5, 0],
                ["TiNiCu5", 321.0, 5],
            ],
        },
    )
    df = read_table(path, sheet="data")
    assert list(df.columns) == ["alloy", "Ms", "Cu"]
    assert df.attrs["units"] == {"Ms": "K", "Cu": "at.%"}
    assert df["Ms"].tolist() == [330.5, 321.0]
    assert df["Cu"].dtype == np.int64
    assert df["alloy"].tolist() == ["TiNi", "TiNiCu5"]
    assert read_table(path, sheet=1).equals(df)
    with pytest.raises(ValueError, match="no data rows"):
        read_table(path)  # the first sheet holds a header only


def test_excel_numbers_stored_as_text_with_a_point_are_numbers(tmp_path):
    path = _xlsx(tmp_path / "t.xlsx", {"s": [["x (eV)", "y"], ["1.5", 2], [2.5, "3"]]})
    df = read_table(path)
    assert df["x"].tolist() == [1.5, 2.5] and df["y"].tolist() == [2, 3]


def test_decimal_comma_semicolon_csv(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("T (K);rho (Ohm m)\n300;1,5e-06\n350;2,25e-06\n", encoding="cp1252")
    df = read_table(path)
    assert df["T"].tolist() == [300, 350]
    assert df["rho"].tolist() == [1.5e-06, 2.25e-06]
    assert df.attrs["units"] == {"T": "K", "rho": "Ohm m"}


def test_tsv_and_whitespace_txt(tmp_path):
    tsv = tmp_path / "a.tsv"
    tsv.write_text("name\tE (eV)\nfilm A\t2.17\nfilm B\t2.16\n")
    df = read_table(tsv)
    assert df["name"].tolist() == ["film A", "film B"] and df.attrs["units"] == {"E": "eV"}
    txt = tmp_path / "b.txt"
    txt.write_text("energy (eV)   absorbance\n2.10   0.1\n2.11   0.2\n2.12   0.4\n")
    df = read_table(txt)
    assert list(df.columns) == ["energy", "absorbance"] and df["absorbance"].iloc[2] == 0.4


def test_preamble_lines_are_skipped_and_kept(tmp_path):
    path = tmp_path / "instrument.txt"
    path.write_text("Instrument;XYZ\nDate;2024-01-01\nx (nm);y;z\n1;2;3\n4;5;6\n")
    df = read_table(path)
    assert list(df.columns) == ["x", "y", "z"] and df["z"].tolist() == [3, 6]
    assert df.attrs["preamble"] == ["Instrument;XYZ", "Date;2024-01-01"]


def test_missing_file(tmp_path):
    path = tmp_path / "nothere.csv"
    with pytest.raises(ValueError, match="nothere.csv.*does not exist"):
        read_table(path)
    with pytest.raises(FileNotFoundError):
        read_table(path)


def test_unsupported_extension_lists_allowed(tmp_path):
    path = tmp_path / "table.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match=r"table\.json.*\.json.*\.csv.*\.xlsx"):
        read_table(path)
    with pytest.raises(ValueError, match="save old .xls workbooks as .xlsx"):
        read_table(tmp_path / "old.xls")


def test_unknown_sheet_lists_sheets(tmp_path):
    path = _xlsx(tmp_path / "w.xlsx", {"first": [["a"], [1]], "second": [["b"], [2]]})
    with pytest.raises(ValueError, match=r"no sheet 'third'.*\['first', 'second'\]"):
        read_table(path, sheet="third")
    with pytest.raises(ValueError, match="out of range"):
        read_table(path, sheet=5)
    with pytest.raises(ValueError, match="sheet applies to Excel files only"):
        (tmp_path / "t.csv").write_text("a\n1\n")
        read_table(tmp_path / "t.csv", sheet="first")


def test_empty_column_name(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,,c\n1,2,3\n")
    with pytest.raises(ValueError, match=r"column 2 has values but no name.*line 1"):
        read_table(path)
    xlsx = _xlsx(tmp_path / "t.xlsx", {"s": [["a", None, "c"], [1, 2, 3]]})
    with pytest.raises(ValueError, match=r"column B has values but no name.*row 1"):
        read_table(xlsx)


def test_duplicate_names_after_unit_stripping(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("energy (eV),energy (meV)\n1,1000\n")
    with pytest.raises(
        ValueError, match=r"'energy' appears twice.*'energy \(eV\)'.*'energy \(meV\)'"
    ):
        read_table(path)


def test_header_of_numbers_means_no_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1.0,2.0\n3.0,4.0\n")
    with pytest.raises(ValueError, match=r"line 1\) holds only numbers.*no header row"):
        read_table(path)


def test_excel_text_in_number_column_names_column_row_and_text(tmp_path):
    path = _xlsx(
        tmp_path / "lab.xlsx",
        {
            "Data": [
                ["sample", "Tc (K)", "rho"],
                ["a", 9.2, 1.0],
                ["b", 9.1, 2.0],
                ["c", "n/a", 3.0],
                ["d", 8.7, "1,5"],
            ]
        },
    )
    with pytest.raises(ValueError) as error:
        read_table(path)
    message = str(error.value)
    assert "lab.xlsx" in message and "'Tc'" in message and "row 4" in message
    assert "cell B4" in message and "'n/a'" in message and "sheet 'Data'" in message
    path2 = _xlsx(tmp_path / "lab2.xlsx", {"Data": [["rho (Ohm)"], [1.0], [2.0], ["1,5"], [3.0]]})
    with pytest.raises(ValueError, match=r"'rho'.*row 4.*'1,5'.*decimal comma"):
        read_table(path2)


def test_csv_text_in_number_column_names_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("# made by hand\nx,y\n1,2\n2,3\n3,oops\n4,5\n")
    with pytest.raises(ValueError, match=r"column 'y' \(column 2\).*line 5.*'oops'"):
        read_table(path)


def test_ragged_line_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n8,9\n")
    with pytest.raises(ValueError, match=r"line 3 has 3 fields but the header \(line 1\) has 2"):
        read_table(path)


def test_empty_tables(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="empty.csv' is empty"):
        read_table(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text("a,b\n")
    with pytest.raises(ValueError, match="header row .*no data rows"):
        read_table(header_only)
    with pytest.raises(ValueError, match="is empty"):
        read_table(_xlsx(tmp_path / "e.xlsx", {"s": []}))


def test_as_regression_data_reads_dataframe_units(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x (nm),y (eV),z\n1,2,5\n2,3,6\n3,5,7\n")
    rd = as_regression_data(read_table(path), features=["x", "z"], target="y")
    assert rd.units == {"x": "nm", "y": "eV"}
    assert rd.to_dataset()["x"].attrs["units"] == "nm"


# ---------------------------------------------------------------------------------------------
# write_csv


def _example_table():
    rng = np.random.default_rng(3)
    table = pd.DataFrame(
        {
            "sample": ["A", "B, with comma", None, "D"],
            "n": [1, 2, 3, 4],
            "energy": rng.normal(2.17, 0.01, 4),
            "rate": [1e-300, np.nan, 0.1 + 0.2, 123456789.123456789],
            "ok": [True, False, True, True],
        }
    )
    table.attrs["units"] = {"energy": "eV", "rate": "W/(m K)"}
    return table


def test_write_csv_round_trips_exactly(tmp_path):
    table = _example_table()
    path = write_csv(table, tmp_path / "out.csv")
    assert path.read_text().splitlines()[0] == "sample,n,energy (eV),rate (W/(m K)),ok"
    back = read_table(path)
    pd.testing.assert_frame_equal(back, table)
    assert back.attrs["units"] == table.attrs["units"]
    assert sorted(os.listdir(tmp_path)) == ["out.csv"]  # no temporary file left


def test_write_csv_tsv_and_dataset(tmp_path):
    ds = xr.Dataset(
        {"absorbance": ("energy", [0.1, 0.2, 0.4], {"units": "OD"})},
        coords={"energy": ("energy", [2.10, 2.11, 2.12], {"units": "eV"})},
    )
    path = write_csv(ds, tmp_path / "spectrum.tsv")
    assert path.read_text().splitlines()[0] == "energy (eV)\tabsorbance (OD)"
    back = read_spectrum(path)
    xr.testing.assert_allclose(back["absorbance"], ds["absorbance"])
    assert back["absorbance"].attrs["units"] == "OD"
    df = read_table(write_csv(ds["absorbance"], tmp_path / "a.csv"))
    assert df.attrs["units"] == {"energy": "eV", "absorbance": "OD"}


def test_write_csv_failure_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    path.write_text("old,content\n1,2\n")
    seen = {}

    def broken_fsync(fd):
        seen["files"] = sorted(os.listdir(tmp_path))
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_csv(_example_table(), path)
    assert len(seen["files"]) == 2  # the temporary file was there, fully written
    assert path.read_text() == "old,content\n1,2\n"
    assert sorted(os.listdir(tmp_path)) == ["results.csv"]


def test_write_csv_failure_while_formatting_rows(tmp_path):
    class Unprintable:
        def __str__(self):
            raise RuntimeError("cannot format")

        __repr__ = __str__

    path = tmp_path / "results.csv"
    path.write_text("old\n")
    table = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", Unprintable()]})
    with pytest.raises(RuntimeError, match="cannot format"):
        write_csv(table, path)
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["results.csv"]


def test_write_csv_failure_at_replace(tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    path.write_text("old\n")

    def broken_replace(src, dst):
        raise PermissionError("locked by Excel")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        write_csv(_example_table(), path)
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["results.csv"]


def test_write_csv_errors(tmp_path):
    table = _example_table()
    with pytest.raises(ValueError, match=r"\.xlsx.*allowed extensions are \.csv, \.tsv"):
        write_csv(table, tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match="does not exist"):
        write_csv(table, tmp_path / "missing" / "t.csv")
    with pytest.raises(TypeError, match="DataFrame"):
        write_csv([[1, 2]], tmp_path / "t.csv")
    with pytest.raises(ValueError, match="no rows"):
        write_csv(table.iloc[:0], tmp_path / "t.csv")
    clash = pd.DataFrame({"energy (eV)": [1.0], "energy": [2.0]})
    with pytest.raises(ValueError, match="would both read back as 'energy'"):
        write_csv(clash, tmp_path / "t.csv")
    bad_unit = pd.DataFrame({"x": [1.0]})
    bad_unit.attrs["units"] = {"x": "m)("}
    with pytest.raises(ValueError, match="cannot be written so that it reads back"):
        write_csv(bad_unit, tmp_path / "t.csv")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# read_spectrum


def test_spectrum_ev_is_what_the_spectrum_panel_takes(tmp_path):
    path = tmp_path / "cu2o.csv"
    path.write_text("energy (eV),Absorbance (OD)\n2.150,0.3\n2.125,0.1\n2.175,0.5\n")
    ds = read_spectrum(path)
    assert ds["absorbance"].dims == ("energy",)
    assert ds["absorbance"].attrs["units"] == "OD" and ds["energy"].attrs["units"] == "eV"
    np.testing.assert_array_equal(check_energy_grid("e", ds["energy"].values), [2.125, 2.15, 2.175])
    assert ds["absorbance"].values.tolist() == [0.1, 0.3, 0.5]  # sorted with the axis
    assert "sorted by energy" in ds.attrs["notes"]


def test_spectrum_mev_is_converted_to_ev(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("E (meV),absorbance\n2125,0.1\n2150,0.3\n")
    ds = read_spectrum(path)
    assert ds["energy"].values.tolist() == [2.125, 2.15]
    assert ds["energy"].attrs["units"] == "eV" and ds["energy"].attrs["converted_from"] == "meV"
    assert "converted from meV to eV" in ds.attrs["notes"]


def test_spectrum_raman_shift_and_wavelength(tmp_path):
    path = tmp_path / "si.csv"
    path.write_text("Raman shift (cm-1),counts\n510,100\n520,900\n530,120\n")
    ds = read_spectrum(path)
    assert ds["counts"].dims == ("raman_shift",)
    assert ds["raman_shift"].attrs["units"] == "cm^-1" and ds["counts"].attrs["units"] == "counts"
    path = tmp_path / "pl.csv"
    path.write_text("wavelength [nm],Intensity [a.u.]\n600,1\n601,2\n")
    ds = read_spectrum(path)
    assert ds["intensity"].dims == ("wavelength",) and ds["wavelength"].attrs["units"] == "nm"
    path = tmp_path / "abs.csv"
    path.write_text("Wavenumber (cm^-1),counts\n18650.3,1\n18647.3,2\n")
    assert read_spectrum(path)["counts"].dims == ("wavenumber",)  # absolute, not a shift


def test_headerless_spectrum_needs_named_columns(tmp_path):
    path = tmp_path / "si.txt"
    path.write_text("120.4\t1217.12\r\n124.5\t1233.8\r\n128.6\t1247.29\r\n")
    with pytest.raises(ValueError, match=r"no header row.*x='raman_shift \(cm\^-1\)'"):
        read_spectrum(path)
    ds = read_spectrum(path, x="raman_shift (cm^-1)", y="counts")
    assert ds["counts"].values.tolist() == [1217.12, 1233.8, 1247.29]
    with pytest.raises(ValueError, match="has no unit"):
        read_spectrum(path, x="energy", y="counts")
    with pytest.raises(ValueError, match=r"unit 'keV'.*not supported.*eV, meV"):
        read_spectrum(path, x="energy (keV)", y="counts")


def test_spectrum_decimal_comma_preamble_and_blank_leading_cells(tmp_path):
    path = tmp_path / "bwtek.txt"
    lines = [
        "File Version;BWRam4.11_11",
        "laser_wavelength;532,02",
        "Pixel;Wavelength;Raman Shift;Dark;Raw data #1;Dark Subtracted #1;",
        "0;   ;   ;1535,0000;1584,5000;49,5000;",
        "1;   ;   ;1495,0000;1539,5000;44,5000;",
        "2;546,98;514,01;2284,0000;13530,0000;11246,0000;",
        "3;547,06;516,85;2115,0000;19774,0000;17659,0000;",
        "4;547,15;519,70;2102,0000;28308,0000;26206,0000;",
        "5;   ;   ;1068,0000;1061,5000;-6,5000;",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    ds = read_spectrum(path, x="Raman Shift (cm^-1)", y=["Dark Subtracted #1", "Raw data #1"])
    assert ds["raman_shift"].values.tolist() == [514.01, 516.85, 519.70]
    assert ds["dark_subtracted_1"].values.tolist() == [11246.0, 17659.0, 26206.0]
    assert ds["raw_data_1"].values.tolist() == [13530.0, 19774.0, 28308.0]
    assert "lines 4-5 and line 9 skipped" in ds.attrs["notes"]
    assert "laser_wavelength;532,02" in ds.attrs["preamble"]


def test_spectrum_duplicate_and_missing_rows_are_errors(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("energy (eV),absorbance\n2.10,0.1\n2.11,0.2\n2.10,0.3\n")
    with pytest.raises(ValueError, match=r"value 2.1 twice \(line 2, line 4\)"):
        read_spectrum(path)
    path = tmp_path / "gap.csv"
    path.write_text("energy (eV),absorbance\n2.10,0.1\n2.11,\n2.12,NaN\n2.13,0.4\n")
    with pytest.raises(ValueError, match=r"missing or non-numeric.*at line 3, line 4"):
        read_spectrum(path)
    path = tmp_path / "text.csv"
    path.write_text("energy (eV),absorbance\n2.10,0.1\n2.11,0.2\n2.12,high\n2.13,0.4\n")
    with pytest.raises(ValueError, match=r"'absorbance'.*line 4.*'high'"):
        read_spectrum(path)


def test_spectrum_column_choice(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("energy (eV),absorbance,absorbance_true\n2.1,0.1,0.1\n2.2,0.2,0.2\n")
    with pytest.raises(ValueError, match="say which one.*y="):
        read_spectrum(path)
    assert list(read_spectrum(path, y="absorbance").data_vars) == ["absorbance"]
    with pytest.raises(ValueError, match=r"no column 'absorbence'.*columns are"):
        read_spectrum(path, y="absorbence")
    with pytest.raises(ValueError, match=r"gives the unit 'meV' but the header.*'eV'"):
        read_spectrum(path, x="energy (meV)", y="absorbance")


def test_spectrum_from_excel(tmp_path):
    path = _xlsx(
        tmp_path / "s.xlsx",
        {"Sheet1": [["x"], [1]], "PL": [["wavelength (nm)", "counts"], [600.5, 10], [600.0, 5]]},
    )
    ds = read_spectrum(path, sheet="PL")
    assert ds["wavelength"].values.tolist() == [600.0, 600.5]
    assert ds.attrs["sheet"] == "PL"
