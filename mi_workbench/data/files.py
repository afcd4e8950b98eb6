"""Files in and out: users' tables and spectra from CSV/TSV/TXT or Excel, tables out as CSV.

:func:`read_table` reads a table with a header row into a ``pandas.DataFrame``; units written in
the header (``energy (eV)`` or ``energy [eV]``) are stripped from the column names and kept in
``df.attrs["units"]``. :func:`read_spectrum` reads one spectrum (an x axis and one or more
intensity columns) into an ``xarray.Dataset`` with a named dimension (``energy`` in eV,
``raman_shift`` in cm^-1, ``wavelength`` in nm) and units in ``attrs``. :func:`write_csv` writes a
table atomically with the units back in the header, so that :func:`read_table` reloads it.

Text files: the delimiter (comma, semicolon, tab, ``|`` or runs of spaces) and the decimal mark
(``1.5`` or, with a delimiter other than a comma, ``1,5``) are detected from the data; lines above
the table (an instrument's ``key;value`` preamble, a title) are skipped and kept in
``attrs["preamble"]``. Errors name the file, the column and the line (text files) or the row and
cell (Excel) as the user sees them in the file, and the offending text.
"""

from __future__ import annotations

import collections
import csv
import datetime as _dt
import io
import os
import re
import secrets
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

#: Extensions of delimited text files :func:`read_table` and :func:`read_spectrum` accept.
TEXT_EXTENSIONS = (".csv", ".tsv", ".txt", ".dat")
#: Extensions of Excel workbooks (read with openpyxl).
EXCEL_EXTENSIONS = (".xlsx", ".xlsm")
#: Extensions :func:`write_csv` writes (comma- or tab-separated).
CSV_EXTENSIONS = (".csv", ".tsv")

#: Units accepted for the x axis of a spectrum: unit -> (dim, units, divide the values by).
_AXIS_UNITS = {
    "eV": ("energy", "eV", 1.0),
    "meV": ("energy", "eV", 1000.0),
    "cm^-1": ("raman_shift", "cm^-1", 1.0),
    "nm": ("wavelength", "nm", 1.0),
}
_UNIT_SPELLINGS = {
    "ev": "eV",
    "electronvolt": "eV",
    "electronvolts": "eV",
    "mev": "meV",
    "cm^-1": "cm^-1",
    "cm-1": "cm^-1",
    "cm^{-1}": "cm^-1",
    "cm**-1": "cm^-1",
    "1/cm": "cm^-1",
    "/cm": "cm^-1",
    "nm": "nm",
    "nanometer": "nm",
    "nanometers": "nm",
    "nanometre": "nm",
    "nanometres": "nm",
}
_RAMAN_NAMES = {"raman shift", "ramanshift", "raman", "shift", "raman shifts"}
_WAVENUMBER_NAMES = {"wavenumber", "wavenumbers", "wave number", "wave numbers", "wn"}
_LONG_NAMES = {
    "energy": "photon energy",
    "raman_shift": "Raman shift",
    "wavelength": "wavelength",
    "wavenumber": "absolute wavenumber",
}
#: Raman shifts stay below this (cm^-1); a "wavenumber" column beyond it is absolute.
_MAX_RAMAN_SHIFT_CM1 = 5000.0

_INT = re.compile(r"[+-]?\d+")
_DOT_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_COMMA_NUMBER = re.compile(r"[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?")
_COMMA_DECIMAL = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_DOT_DECIMAL = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
_SPECIAL_NUMBERS = {
    "nan": float("nan"),
    "inf": float("inf"),
    "+inf": float("inf"),
    "-inf": float("-inf"),
    "infinity": float("inf"),
    "-infinity": float("-inf"),
}
_TRUE, _FALSE = {"true"}, {"false"}
#: Whitespace-separated fields; a unit in brackets stays with the name before it.
_WHITESPACE_FIELD = re.compile(
    r"[^\s(\[]+(?:\s*(?:\([^()]*\)|\[[^\[\]]*\]))?|\([^()]*\)|\[[^\]]*\]|\S+"
)


class _MissingFileError(FileNotFoundError, ValueError):
    """A missing input file: both a ``FileNotFoundError`` and a ``ValueError`` (panels catch
    ``ValueError``)."""


# --------------------------------------------------------------------------------------------
# headers and units


def _split_unit(header: str) -> tuple[str, str | None]:
    """``"energy (eV)"`` -> ``("energy", "eV")``; ``"x"`` -> ``("x", None)``.

    The unit is the last bracketed group at the end of the header, ``(...)`` or ``[...]``, and may
    itself hold balanced brackets (``W/(m K)``).
    """
    text = header.strip()
    if not text or text[-1] not in ")]":
        return text, None
    closing = text[-1]
    opening = "(" if closing == ")" else "["
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == closing:
            depth += 1
        elif text[i] == opening:
            depth -= 1
            if depth == 0:
                name, unit = text[:i].strip(), text[i + 1 : -1].strip()
                if name and unit:
                    return name, unit
                return text, None
    return text, None


def _header_text(name: str, unit: str | None) -> str:
    return name if unit is None else f"{name} ({unit})"


def _key(name: str) -> str:
    """Name used to match a requested column: case, spaces and underscores ignored."""
    return re.sub(r"[\s_]+", " ", name.strip().lower())


def _variable_name(name: str) -> str:
    """``"Dark Subtracted #1"`` -> ``"dark_subtracted_1"``; ``"Absorbance"`` -> ``"absorbance"``."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _canonical_unit(unit: str) -> str | None:
    text = unit.strip().replace(" ", "").replace("⁻¹", "^-1").replace("−", "-")
    return _UNIT_SPELLINGS.get(text.lower())


# --------------------------------------------------------------------------------------------
# cells


def _is_missing(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _number(cell: object, decimal: str) -> float | int | None:
    """The number in ``cell`` (int or float), or None if it is not one."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, np.integer)):
        return int(cell)
    if isinstance(cell, (float, np.floating)):
        return float(cell)
    if not isinstance(cell, str):
        return None
    text = cell.strip()
    if _INT.fullmatch(text):
        return int(text)
    if text.lower() in _SPECIAL_NUMBERS:
        return _SPECIAL_NUMBERS[text.lower()]
    if decimal == ",":
        if _COMMA_NUMBER.fullmatch(text):
            return float(text.replace(",", "."))
        return None
    if _DOT_NUMBER.fullmatch(text):
        return float(text)
    return None


def _boolean(cell: object) -> bool | None:
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, str):
        text = cell.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _guess_decimal(cells: Sequence[str], delimiter: str | None) -> str:
    """``","`` if the numbers in ``cells`` are written with decimal commas, else ``"."``."""
    if delimiter == ",":
        return "."
    commas = dots = 0
    for cell in cells:
        text = cell.strip()
        if _COMMA_DECIMAL.fullmatch(text):
            commas += 1
        elif _DOT_DECIMAL.fullmatch(text):
            dots += 1
    return "," if commas > dots else "."


def _show(cell: object) -> str:
    text = repr(cell.strip() if isinstance(cell, str) else cell)
    return text if len(text) <= 40 else text[:37] + "..."


# --------------------------------------------------------------------------------------------
# raw tables: the cells of a file, with the line/row numbers the user sees


@dataclass
class _Raw:
    """Cells of a file's table (header row first) and where each row is in the file."""

    source: str
    rows: list[list[object]]
    numbers: list[int]
    excel: bool = False
    sheet: str | None = None
    decimal: str = "."
    delimiter: str | None = ","
    preamble: list[str] = field(default_factory=list)

    def where(self, i: int, j: int | None = None) -> str:
        """Position of row ``i`` (and column ``j``) as the user sees it in the file."""
        n = self.numbers[i]
        if not self.excel:
            return f"line {n}"
        cell = f", cell {_excel_column(j)}{n}" if j is not None else ""
        return f"row {n}{cell} of sheet {self.sheet!r}"

    def column_label(self, j: int) -> str:
        return f"column {_excel_column(j)}" if self.excel else f"column {j + 1}"

    def cell(self, i: int, j: int) -> object:
        row = self.rows[i]
        return row[j] if j < len(row) else None


def _excel_column(j: int | None) -> str:
    if j is None:
        return ""
    letters = ""
    j += 1
    while j:
        j, rest = divmod(j - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _check_path(path: object, allowed: Sequence[str], what: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    extension = path.suffix.lower()
    if extension not in allowed:
        hint = " (save old .xls workbooks as .xlsx)" if extension == ".xls" else ""
        raise ValueError(
            f"{str(path)!r}: cannot {what} a {extension or 'extension-less'!s} file; "
            f"allowed extensions are {', '.join(allowed)}{hint}"
        )
    return path


def _load_raw(path: object, sheet: str | int | None) -> _Raw:
    path = _check_path(path, TEXT_EXTENSIONS + EXCEL_EXTENSIONS, "read")
    source = str(path)
    if not path.exists():
        raise _MissingFileError(
            f"file {source!r} does not exist (looked in {str(path.absolute().parent)!r})"
        )
    if path.is_dir():
        raise ValueError(f"{source!r} is a folder, not a file")
    if path.suffix.lower() in EXCEL_EXTENSIONS:
        return _load_excel(path, sheet)
    if sheet is not None:
        raise ValueError(
            f"sheet applies to Excel files only; got sheet={sheet!r} for the text file {source!r}"
        )
    return _load_text(path)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise ValueError(f"{str(path)!r} holds binary data, not a text table")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _split_line(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return _WHITESPACE_FIELD.findall(line)
    return next(csv.reader([line], delimiter=delimiter), [])


def _sniff(lines: list[str], extension: str) -> str | None:
    """The delimiter that splits the last lines of the file into the most consistent numbers."""
    order = {
        ".csv": [",", ";", "\t", "|", None],
        ".tsv": ["\t", ";", ",", "|", None],
    }.get(extension, ["\t", ";", ",", "|", None])
    body = [line for line in lines if line.strip()][-200:]
    best, best_score = None, None
    for rank, delimiter in enumerate(order):
        fields = [_split_line(line, delimiter) for line in body]
        counts = collections.Counter(len(f) for f in fields)
        width = counts.most_common(1)[0][0] if counts else 0
        if width < 2:
            continue
        # lines above the table (a preamble) do not count against the delimiter
        fields = fields[next(i for i, f in enumerate(fields) if len(f) == width) :]
        n_width = sum(len(f) == width for f in fields)
        if n_width < 0.8 * len(fields):
            continue
        cells = [c for f in fields if len(f) == width for c in f if c.strip()]
        decimal = _guess_decimal(cells, delimiter)
        numeric = sum(_number(c, decimal) is not None for c in cells) / max(len(cells), 1)
        score = (round(numeric, 3), round(n_width / len(fields), 3), -rank)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    if best_score is None:
        return order[0]
    return best


def _load_text(path: Path) -> _Raw:
    source = str(path)
    text = _decode(path)
    lines = re.split(r"\r\n|\r|\n", text)
    delimiter = _sniff(lines, path.suffix.lower())
    parsed: list[tuple[int, list[str]]] = []
    if delimiter is None:
        for number, line in enumerate(lines, start=1):
            parsed.append((number, _split_line(line, None)))
    else:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        start = 1
        for cells in reader:
            parsed.append((start, cells))
            start = reader.line_num + 1
    parsed = [
        (n, [c.strip() for c in cells]) for n, cells in parsed if any(c.strip() for c in cells)
    ]
    raw = _Raw(source, [], [], delimiter=delimiter)
    if not parsed:
        return raw
    widths = collections.Counter(len(cells) for _, cells in parsed[-200:])
    width = widths.most_common(1)[0][0]
    start = next(i for i, (_, cells) in enumerate(parsed) if len(cells) == width)
    raw.preamble = [lines[n - 1].strip() for n, _ in parsed[:start]]
    header_line = parsed[start][0]
    for number, cells in parsed[start:]:
        if len(cells) > width or (delimiter is None and len(cells) != width):
            name = {None: "spaces", "\t": "tab", ";": "';'", ",": "','", "|": "'|'"}[delimiter]
            raise ValueError(
                f"{source!r}: line {number} has {len(cells)} fields but the header "
                f"(line {header_line}) has {width}; fields are separated by {name}: check the "
                f"line for a stray separator or a missing quote"
            )
        raw.rows.append(cells + [""] * (width - len(cells)))
        raw.numbers.append(number)
    raw.decimal = _guess_decimal([c for row in raw.rows[1:] for c in row], delimiter)
    return raw


def _load_excel(path: Path, sheet: str | int | None) -> _Raw:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    source = str(path)
    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise ValueError(f"{source!r} is not a readable Excel workbook ({error})") from None
    names = workbook.sheetnames
    if sheet is None:
        worksheet = workbook.worksheets[0]
    elif isinstance(sheet, bool) or not isinstance(sheet, (str, int)):
        raise TypeError(f"sheet must be a sheet name or a 0-based index, got {sheet!r}")
    elif isinstance(sheet, int):
        if not -len(names) <= sheet < len(names):
            raise ValueError(
                f"{source!r} has {len(names)} sheet(s) {names}; sheet index {sheet} is out of range"
            )
        worksheet = workbook.worksheets[sheet]
    elif sheet not in names:
        raise ValueError(f"{source!r} has no sheet {sheet!r}; its sheets are {names}")
    else:
        worksheet = workbook[sheet]
    raw = _Raw(source, [], [], excel=True, sheet=worksheet.title, delimiter=None)
    parsed = []
    for number, values in enumerate(
        worksheet.iter_rows(
            min_row=1,
            max_row=worksheet.max_row,
            min_col=1,
            max_col=worksheet.max_column,
            values_only=True,
        ),
        start=1,
    ):
        cells = [v.strip() if isinstance(v, str) else v for v in values]
        while cells and _is_missing(cells[-1]):
            cells.pop()
        if cells:
            parsed.append((number, cells))
    workbook.close()
    if not parsed:
        return raw
    width = max(len(cells) for _, cells in parsed[-200:])
    start = next(i for i, (_, cells) in enumerate(parsed) if len(cells) >= width)
    raw.preamble = [
        "\t".join("" if c is None else str(c) for c in cells) for _, cells in parsed[:start]
    ]
    width = max(len(cells) for _, cells in parsed[start:])
    for number, cells in parsed[start:]:
        raw.rows.append(cells + [None] * (width - len(cells)))
        raw.numbers.append(number)
    return raw


def _header_is_numbers(raw: _Raw) -> bool:
    cells = [c for c in raw.rows[0] if not _is_missing(c)]
    return bool(cells) and all(_number(c, raw.decimal) is not None for c in cells)


def _empty_columns(raw: _Raw, start: int) -> set[int]:
    """Columns without a single value from row ``start`` on (and no header if start == 1)."""
    width = len(raw.rows[0])
    empty = set()
    for j in range(width):
        rows = range(start, len(raw.rows))
        if all(_is_missing(raw.cell(i, j)) for i in rows):
            if start == 0 or _is_missing(raw.cell(0, j)):
                empty.add(j)
    return empty


# --------------------------------------------------------------------------------------------
# columns


def _numeric_column(raw: _Raw, j: int, name: str, first: int = 1) -> tuple[np.ndarray, bool]:
    """Values of column ``j`` from row ``first`` on as floats (NaN where empty) and whether all
    are integers; raise naming the first cell that holds text."""
    values, integral, bad = [], True, []
    for i in range(first, len(raw.rows)):
        cell = raw.cell(i, j)
        if _is_missing(cell):
            values.append(np.nan)
            integral = False
            continue
        number = _number(cell, raw.decimal)
        if number is None:
            bad.append(i)
            values.append(np.nan)
            continue
        integral = integral and isinstance(number, int)
        values.append(float(number))
    if bad:
        _raise_text_in_numbers(raw, j, name, bad)
    return np.asarray(values, dtype=float), integral


def _raise_text_in_numbers(raw: _Raw, j: int, name: str, bad: list[int]) -> None:
    i = bad[0]
    cell = raw.cell(i, j)
    text = cell.strip() if isinstance(cell, str) else cell
    hint = ""
    if isinstance(text, str) and raw.decimal == "." and _COMMA_DECIMAL.fullmatch(text):
        hint = " (a decimal comma? write it with a decimal point, or store the cell as a number)"
    elif isinstance(text, str) and raw.decimal == "," and _DOT_DECIMAL.fullmatch(text):
        hint = " (the file writes decimals with commas; this cell uses a point)"
    elif isinstance(text, str) and text.lower() in {"n/a", "na", "#n/a", "-", "--", "null", "none"}:
        hint = " (leave missing values empty instead)"
    more = ""
    if len(bad) > 1:
        others = ", ".join(raw.where(k, j if raw.excel else None) for k in bad[1:4])
        more = f" and {len(bad) - 1} more text cell(s) ({others}{', ...' if len(bad) > 4 else ''})"
    raise ValueError(
        f"{raw.source!r}: column {name!r} ({raw.column_label(j)}) holds numbers, but "
        f"{raw.where(i, j)} has the text {_show(text)}{hint}{more}; correct these cells or "
        f"empty them (empty cells are read as missing values)"
    )


def _column(raw: _Raw, j: int, name: str) -> pd.Series | np.ndarray:
    """Column ``j`` of a table with a header: numbers, booleans, dates or text."""
    cells = [raw.cell(i, j) for i in range(1, len(raw.rows))]
    present = [c for c in cells if not _is_missing(c)]
    if not present:
        return np.full(len(cells), np.nan)
    n_numbers = sum(_number(c, raw.decimal) is not None for c in present)
    if n_numbers > len(present) - n_numbers:
        values, integral = _numeric_column(raw, j, name)
        if integral and np.all(np.abs(values) < 2**63):
            return values.astype(np.int64)
        return values
    if len(present) == len(cells) and all(_boolean(c) is not None for c in present):
        return np.array([_boolean(c) for c in cells], dtype=bool)
    if all(isinstance(c, (_dt.datetime, _dt.date)) for c in present):
        return pd.to_datetime(pd.Series([None if _is_missing(c) else c for c in cells]))
    return np.array([None if _is_missing(c) else c for c in cells], dtype=object)


def _table_header(raw: _Raw) -> list[tuple[int, str, str | None]]:
    """(column index, name, unit) of the non-empty columns; raise on header problems."""
    if _header_is_numbers(raw):
        shown = ", ".join(_show(c) for c in raw.rows[0][:4] if not _is_missing(c))
        raise ValueError(
            f"{raw.source!r}: the first row of the table ({raw.where(0)}) holds only numbers "
            f"({shown}): the table has no header row; add a first row of column names, "
            f"e.g. 'energy (eV)', 'absorbance'"
        )
    empty = _empty_columns(raw, 1)
    columns, seen = [], {}
    for j, cell in enumerate(raw.rows[0]):
        if j in empty:
            continue
        header = "" if _is_missing(cell) else str(cell).strip()
        name, unit = _split_unit(header)
        if not name:
            raise ValueError(
                f"{raw.source!r}: {raw.column_label(j)} has values but no name in the header "
                f"row ({raw.where(0)}); give every column a name"
            )
        if name in seen:
            k, other = seen[name]
            raise ValueError(
                f"{raw.source!r}: the column name {name!r} appears twice in the header row "
                f"({raw.where(0)}): {raw.column_label(k)} {other!r} and {raw.column_label(j)} "
                f"{header!r}; column names must be unique (units in brackets do not count)"
            )
        seen[name] = (j, header)
        columns.append((j, name, unit))
    return columns


# --------------------------------------------------------------------------------------------
# public: read_table


def read_table(path: str | os.PathLike, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a table with a header row from a CSV/TSV/TXT file or an Excel workbook.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.tsv``, ``.txt`` or ``.dat`` text file (delimiter and decimal mark
        detected) or an ``.xlsx``/``.xlsm`` workbook.
    sheet : str or int, optional
        Excel only: the sheet's name or 0-based index; default the first sheet.

    Returns
    -------
    pandas.DataFrame
        One column per header cell. A unit at the end of a header, ``energy (eV)`` or
        ``energy [eV]``, is removed from the name and stored in ``df.attrs["units"]``
        (``{"energy": "eV"}``; an empty dict if no header has a unit). Columns of numbers are
        ``int64`` (all whole numbers, none missing) or ``float64`` (empty cells become NaN);
        columns of ``True``/``False`` are ``bool``; Excel dates are ``datetime64``; any other
        column is kept as text. Lines above the table (an instrument's preamble) are skipped and
        kept in ``df.attrs["preamble"]`` (a list of str).

    Raises
    ------
    ValueError
        Naming the file and the column, line (text files) or row and cell (Excel) and the bad
        text: a missing file (also a ``FileNotFoundError``), an unsupported extension, an
        unknown sheet (the message lists the sheets), a header row of numbers only (no header),
        an empty or repeated column name, text in a column of numbers (``"n/a"``, ``"1,5"``), an
        empty table.
    TypeError
        If ``path`` is not a str or path, or ``sheet`` not a str or int.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "films.csv"
    >>> _ = path.write_text("sample,thickness (nm),Eg [eV]\\nA,120,2.17\\nB,85,2.16\\n")
    >>> df = read_table(path)
    >>> list(df.columns), df.attrs["units"]
    (['sample', 'thickness', 'Eg'], {'thickness': 'nm', 'Eg': 'eV'})
    >>> df["thickness"].tolist()
    [120, 85]
    """
    raw = _load_raw(path, sheet)
    if not raw.rows:
        raise ValueError(f"{raw.source!r} is empty: there is no table in it")
    columns = _table_header(raw)
    if len(raw.rows) < 2:
        raise ValueError(
            f"{raw.source!r}: the table has a header row ({raw.where(0)}) but no data rows"
        )
    data, units = {}, {}
    for j, name, unit in columns:
        data[name] = _column(raw, j, name)
        if unit is not None:
            units[name] = unit
    frame = pd.DataFrame(data)
    frame.attrs["units"] = units
    if raw.preamble:
        frame.attrs["preamble"] = list(raw.preamble)
    return frame


# --------------------------------------------------------------------------------------------
# public: read_spectrum


def _axis(
    name: str, unit: str | None, values: np.ndarray, where: str
) -> tuple[str, str, float, str]:
    """(dim, units, divisor to convert the values, note) of a spectrum's x column."""
    key = _key(name)
    note = ""
    if unit is None:
        if key in _RAMAN_NAMES or key.startswith("raman shift"):
            unit, note = "cm^-1", f"the x column {name!r} has no unit: Raman shift read as cm^-1"
        else:
            raise ValueError(
                f"{where}: the x column {name!r} has no unit, so the axis is unknown; name it "
                f"with its unit, e.g. x='{name} (eV)', x='{name} (meV)', x='{name} (cm^-1)' or "
                f"x='{name} (nm)'"
            )
    canonical = _canonical_unit(unit)
    if canonical is None:
        raise ValueError(
            f"{where}: the unit {unit!r} of the x column {name!r} is not supported; allowed are "
            f"eV, meV (converted to eV), cm^-1 (Raman shift) and nm (wavelength)"
        )
    dim, units, divisor = _AXIS_UNITS[canonical]
    if canonical == "meV":
        note = f"the x column {name!r} was converted from meV to eV (divided by 1000)"
    if dim == "raman_shift" and key in _WAVENUMBER_NAMES:
        finite = values[np.isfinite(values)]
        if finite.size and np.max(np.abs(finite)) > _MAX_RAMAN_SHIFT_CM1:
            dim = "wavenumber"
            note = (
                f"the x column {name!r} holds absolute wavenumbers (up to "
                f"{np.max(np.abs(finite)):.6g} cm^-1), not Raman shifts"
            )
    return dim, units, divisor, note


def _requested(spec: object, argument: str) -> tuple[str, str | None]:
    if not isinstance(spec, str):
        raise TypeError(f"{argument} must be a column name (str), got {spec!r}")
    name, unit = _split_unit(spec)
    if not name:
        raise ValueError(f"{argument} must name a column, got {spec!r}")
    return name, unit


def _find_column(
    raw: _Raw, columns: list[tuple[int, str, str | None]], spec: str, argument: str
) -> tuple[int, str, str | None, str]:
    """(index, name, unit, header text) of the column that ``spec`` names."""
    name, unit = _requested(spec, argument)
    matches = [c for c in columns if _key(c[1]) == _key(name)]
    if not matches:
        matches = [c for c in columns if _key(_header_text(c[1], c[2])) == _key(spec)]
    available = [_header_text(c[1], c[2]) for c in columns]
    if not matches:
        raise ValueError(
            f"{argument}: {raw.source!r} has no column {spec!r}; its columns are {available}"
        )
    if len(matches) > 1:
        labels = ", ".join(raw.column_label(c[0]) for c in matches)
        raise ValueError(
            f"{raw.source!r}: {argument}={spec!r} matches {len(matches)} columns ({labels}); "
            f"rename them so that the names are unique"
        )
    j, header_name, header_unit = matches[0]
    if unit is not None and header_unit is not None:
        same = _canonical_unit(unit) or unit
        if same != (_canonical_unit(header_unit) or header_unit):
            raise ValueError(
                f"{raw.source!r}: {argument}={spec!r} gives the unit {unit!r} but the header of "
                f"{raw.column_label(j)} says {header_unit!r}"
            )
    header = _header_text(header_name, header_unit)
    return j, header_name, unit if unit is not None else header_unit, header


def _spectrum_columns(raw: _Raw, x: object, y: object) -> tuple[list, int]:
    """[(index, name, unit, source text), ...] for x then each y; and the first data row."""
    if y is not None and not isinstance(y, str | Sequence | np.ndarray | pd.Index):
        raise TypeError(f"y must be a column name (str) or a list of them, got {y!r}")
    ys = None if y is None else ([y] if isinstance(y, str) else list(y))
    if ys is not None and not ys:
        raise ValueError("y must name at least one column, got []")
    if not _header_is_numbers(raw):
        empty = _empty_columns(raw, 1)
        columns = []
        for j, cell in enumerate(raw.rows[0]):
            if j in empty or _is_missing(cell):
                continue
            name, unit = _split_unit(str(cell))
            columns.append((j, name, unit))
        if len(raw.rows) < 2:
            raise ValueError(
                f"{raw.source!r}: the table has a header row ({raw.where(0)}) but no data rows"
            )
        names = [_header_text(c[1], c[2]) for c in columns]
        if x is None:
            if len(columns) == 2 and ys is None:
                x, ys = names[0], [names[1]]
            elif columns:
                first = columns[0]
                try:
                    _axis(first[1], first[2], np.array([]), raw.source)
                except ValueError:
                    first = None
                if first is None:
                    raise ValueError(
                        f"{raw.source!r} has the columns {names}; say which one is the x axis "
                        f"and which the intensity, e.g. read_spectrum(path, x={names[0]!r}, "
                        f"y={names[-1]!r})"
                    ) from None
                x = names[0]
        chosen = [_find_column(raw, columns, x, "x")]
        if ys is None:
            others = [c for c in columns if c[0] != chosen[0][0]]
            if len(others) != 1:
                raise ValueError(
                    f"{raw.source!r} has the columns {names}; say which one(s) hold the "
                    f"intensity with y=, e.g. y={_header_text(others[-1][1], others[-1][2])!r}"
                )
            ys = [_header_text(others[0][1], others[0][2])]
        chosen += [_find_column(raw, columns, spec, "y") for spec in ys]
        return chosen, 1
    width = len(raw.rows[0])
    if x is None or ys is None:
        raise ValueError(
            f"{raw.source!r} has no header row ({raw.where(0)} holds numbers): name the columns "
            f"and the x unit, e.g. read_spectrum(path, x='raman_shift (cm^-1)', y='counts') or "
            f"x='energy (eV)', y='absorbance'"
        )
    if len(ys) != width - 1:
        raise ValueError(
            f"{raw.source!r} has no header row and {width} columns: give x= for the first column "
            f"and {width - 1} name(s) in y= for the others, got {len(ys)}"
        )
    chosen = []
    for j, (spec, argument) in enumerate([(x, "x")] + [(s, "y") for s in ys]):
        name, unit = _requested(spec, argument)
        chosen.append((j, name, unit, f"{raw.column_label(j)} (no header)"))
    return chosen, 0


def _lines(raw: _Raw, indices: Sequence[int]) -> str:
    shown = ", ".join(raw.where(int(i)) for i in indices[:5])
    return shown + (f", ... ({len(indices)} in all)" if len(indices) > 5 else "")


def _ranges(raw: _Raw, first: int, last: int) -> str:
    a, b = raw.numbers[first], raw.numbers[last]
    unit = "row" if raw.excel else "line"
    return f"{unit} {a}" if a == b else f"{unit}s {a}-{b}"


def read_spectrum(
    path: str | os.PathLike,
    x: str | None = None,
    y: str | Sequence[str] | None = None,
    sheet: str | int | None = None,
) -> xr.Dataset:
    """Read a spectrum (an x axis and one or more intensity columns) into an ``xarray.Dataset``.

    Parameters
    ----------
    path : str or os.PathLike
        A text file (``.csv``, ``.tsv``, ``.txt``, ``.dat``; comma, ``;``, tab, ``|`` or space
        separated; decimal points or, with a delimiter other than a comma, decimal commas) or an
        Excel workbook (``.xlsx``). Lines above the table (an instrument's ``key;value``
        preamble) are skipped and kept in ``attrs["preamble"]``.
    x : str, optional
        The x column, by its header name (case, spaces and underscores ignored; the unit may be
        added or left out: ``"Raman Shift"`` or ``"Raman Shift (cm^-1)"``). A unit given here
        supplies one the header lacks. In a file without a header row, ``x`` names the first
        column and must carry its unit, e.g. ``x="raman_shift (cm^-1)"``. Default: the first
        column when the file has two columns or its first column has a recognised unit.
    y : str or list of str, optional
        The intensity column(s), named like ``x`` (a unit in brackets is stored in
        ``attrs["units"]``). Without a header row: names for the columns after the first.
        Default: the other column of a two-column file.
    sheet : str or int, optional
        Excel only: the sheet's name or 0-based index; default the first sheet.

    Returns
    -------
    xarray.Dataset
        One variable per y column, named from its header in lower case with ``_`` for spaces
        and punctuation (``"Absorbance"`` -> ``absorbance``, ``"Dark Subtracted #1"`` ->
        ``dark_subtracted_1``), with ``attrs["units"]`` (the header's unit; ``"counts"`` for a
        column called counts; else ``"a.u."``), over one dimension chosen from the x unit:
        ``energy`` (eV; meV is converted to eV), ``raman_shift`` (cm^-1; a Raman shift column
        without a unit is taken as cm^-1), ``wavelength`` (nm), or ``wavenumber`` (cm^-1, for a
        column named wavenumber with values above 5000 cm^-1: absolute, not a shift). The axis
        is sorted ascending. ``attrs``: ``source_file``, ``sheet`` (Excel), ``notes`` (unit
        conversions, sorting, rows skipped), ``preamble`` (if any).

        A spectrum in eV with a column ``absorbance`` is what
        :class:`mi_workbench.widgets.SpectrumFitPanel` takes.

    Raises
    ------
    ValueError
        Naming the file, column and lines: the errors of :func:`read_table`; a file without a
        header and without ``x``/``y``; an x column without a unit (other than a Raman shift)
        or with an unsupported unit; missing values or NaN between rows with values (blank rows
        at the start or end, as instruments write for uncalibrated pixels, are skipped); an x
        value that occurs twice; fewer than two points.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "cu2o.csv").write_text("energy (meV);Absorbance (OD)\\n2150,5;0,31\\n"
    ...                                      "2125,0;0,12\\n2175,0;0,52\\n")
    >>> ds = read_spectrum(folder / "cu2o.csv")
    >>> ds["absorbance"].dims, ds["energy"].values.tolist(), ds["absorbance"].attrs["units"]
    (('energy',), [2.125, 2.1505, 2.175], 'OD')
    >>> _ = (folder / "si.txt").write_text("510.0\\t120\\n520.5\\t980\\n531.0\\t130\\n")
    >>> ds = read_spectrum(folder / "si.txt", x="raman_shift (cm^-1)", y="counts")
    >>> ds["counts"].dims, ds["raman_shift"].attrs["units"]
    (('raman_shift',), 'cm^-1')
    """
    raw = _load_raw(path, sheet)
    if not raw.rows:
        raise ValueError(f"{raw.source!r} is empty: there is no spectrum in it")
    chosen, first = _spectrum_columns(raw, x, y)
    arrays = [_numeric_column(raw, j, name, first)[0] for j, name, _, _ in chosen]
    notes = []
    valid = np.logical_and.reduce([np.isfinite(a) for a in arrays])
    if not valid.any():
        raise ValueError(f"{raw.source!r}: no row has a value in every selected column")
    start = int(np.argmax(valid))
    stop = len(valid) - int(np.argmax(valid[::-1]))
    skipped = []
    if start > 0:
        skipped.append(_ranges(raw, first, first + start - 1))
    if stop < len(valid):
        skipped.append(_ranges(raw, first + stop, first + len(valid) - 1))
    if skipped:
        notes.append(
            f"{' and '.join(skipped)} skipped: no value in "
            + " / ".join(repr(c[3]) for c in chosen)
        )
    gaps = np.flatnonzero(~valid[start:stop]) + start
    if gaps.size:
        raise ValueError(
            f"{raw.source!r}: missing or non-numeric (NaN/inf) values in "
            + " / ".join(repr(c[3]) for c in chosen)
            + f" at {_lines(raw, [first + g for g in gaps])}, between rows with values; "
            "remove these rows or fill in the values"
        )
    rows = np.arange(start, stop)
    arrays = [a[start:stop] for a in arrays]
    j, x_name, x_unit, x_source = chosen[0]
    dim, units, divisor, note = _axis(x_name, x_unit, arrays[0], raw.source)
    if note:
        notes.append(note)
    if rows.size < 2:
        raise ValueError(f"{raw.source!r}: a spectrum needs at least 2 points, got {rows.size}")
    order = np.argsort(arrays[0], kind="stable")
    if np.any(np.diff(arrays[0]) < 0):
        descending = bool(np.all(np.diff(arrays[0]) < 0))
        notes.append(
            f"sorted by {dim} (the file lists it in {'descending' if descending else 'mixed'} "
            f"order)"
        )
    arrays = [a[order] for a in arrays]
    rows = rows[order]
    repeats = np.flatnonzero(np.diff(arrays[0]) == 0)
    if repeats.size:
        k = repeats[0]
        pair = [first + rows[k], first + rows[k + 1]]
        others = "" if repeats.size == 1 else f" ({repeats.size} repeated values in all)"
        raise ValueError(
            f"{raw.source!r}: the x column {x_source!r} has the value {arrays[0][k]:.10g} twice "
            f"({_lines(raw, pair)}){others}; a spectrum needs one intensity per x value: "
            f"average or remove the repeats"
        )
    coordinate = arrays[0] / divisor
    variables = {}
    for (_, name, unit, source), values in zip(chosen[1:], arrays[1:], strict=True):
        variable = _variable_name(name) or "intensity"
        if variable == dim or variable in variables:
            raise ValueError(
                f"{raw.source!r}: the intensity column {source!r} would be named {variable!r}, "
                f"which is already taken; choose another y column or rename it"
            )
        if unit is None:
            unit = "counts" if variable == "counts" else "a.u."
        attrs = {"units": unit, "long_name": name, "source_column": source}
        variables[variable] = (dim, values, attrs)
    coord_attrs = {"units": units, "long_name": _LONG_NAMES[dim], "source_column": x_source}
    if divisor != 1.0:
        coord_attrs["converted_from"] = "meV"
    ds = xr.Dataset(variables, coords={dim: (dim, coordinate, coord_attrs)})
    ds.attrs["source_file"] = raw.source
    if raw.sheet is not None:
        ds.attrs["sheet"] = raw.sheet
    if notes:
        ds.attrs["notes"] = "; ".join(notes)
    if raw.preamble:
        ds.attrs["preamble"] = "\n".join(raw.preamble)
    return ds


# --------------------------------------------------------------------------------------------
# public: write_csv


def _frame_and_units(table: object) -> tuple[pd.DataFrame, dict[str, str]]:
    if isinstance(table, xr.DataArray):
        table = table.to_dataset(name=table.name if table.name is not None else "value")
    if isinstance(table, xr.Dataset):
        if not table.dims:
            raise ValueError("table: the Dataset has no dimension, so there are no rows to write")
        units = {}
        for name, variable in [*table.coords.items(), *table.data_vars.items()]:
            if "units" in variable.attrs:
                units[str(name)] = variable.attrs["units"]
        frame = table.to_dataframe().reset_index()
        return frame, units
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            "table must be a pandas DataFrame or an xarray Dataset/DataArray, "
            f"got {type(table).__name__}"
        )
    units = table.attrs.get("units", {})
    if units is None:
        units = {}
    if not isinstance(units, Mapping):
        raise TypeError(
            f"table.attrs['units'] must be a dict of column name -> unit, got {units!r}"
        )
    frame = table
    named_index = any(name is not None for name in frame.index.names)
    if named_index:
        frame = frame.reset_index()
    return frame, dict(units)


def _atomic_write(path: Path, write: Callable[[io.TextIOBase], None]) -> None:
    """Write through ``write(handle)`` into a temporary file beside ``path``, then replace
    ``path``; on any failure the earlier file stays as it was and the temporary file is gone."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            temporary.unlink()
        except FileNotFoundError:
            pass
        raise


def write_csv(table: pd.DataFrame | xr.Dataset | xr.DataArray, path: str | os.PathLike) -> Path:
    """Write a table to CSV atomically, with units in the header, so that it reloads exactly.

    Parameters
    ----------
    table : pandas.DataFrame, xarray.Dataset or xarray.DataArray
        A DataFrame with units in ``df.attrs["units"]`` (``{"energy": "eV"}``), as
        :func:`read_table` returns; a named index is written as the first column(s), an unnamed
        one is not. A Dataset or DataArray is converted with ``to_dataframe()``: its dimensions
        become columns and each variable's and coordinate's ``attrs["units"]`` its unit.
    path : str or os.PathLike
        A ``.csv`` (comma-separated) or ``.tsv`` (tab-separated) file in an existing folder. An
        earlier file there is replaced.

    Returns
    -------
    pathlib.Path
        The path written.

    Notes
    -----
    The header holds ``name (unit)`` for columns with a unit, else ``name``; floats are written
    with every digit (``repr``), missing values as empty cells, UTF-8, ``\\n`` line ends. The
    file is written to a temporary file in the same folder and moved over ``path`` with
    :func:`os.replace`: a failure leaves any earlier file intact and no temporary file behind.
    :func:`read_table` gives back the same columns, values, dtypes (int64, float64, bool, text)
    and ``attrs["units"]``. Not preserved: dates (read back as text), text that looks like a
    number (read back as a number), empty strings (read back as missing values); a column name
    that itself ends in a bracket, such as ``"energy (eV)"`` without a units entry, is read back
    as the name ``energy`` with the unit ``eV``.

    Raises
    ------
    ValueError
        On a wrong extension, a missing folder, no columns or rows, empty or repeated column
        names, a unit that cannot be written in brackets.
    TypeError
        If ``table`` is not a DataFrame/Dataset/DataArray or ``attrs["units"]`` not a dict.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> table = pd.DataFrame({"T": [300, 350], "gap": [2.1725, 2.1603]})
    >>> table.attrs["units"] = {"T": "K", "gap": "eV"}
    >>> path = write_csv(table, pathlib.Path(tempfile.mkdtemp()) / "gaps.csv")
    >>> path.read_text().splitlines()[0]
    'T (K),gap (eV)'
    >>> back = read_table(path)
    >>> back.equals(table), back.attrs["units"]
    (True, {'T': 'K', 'gap': 'eV'})
    """
    path = _check_path(path, CSV_EXTENSIONS, "write")
    frame, units = _frame_and_units(table)
    if not path.parent.is_dir():
        raise ValueError(f"the folder {str(path.parent)!r} of path {str(path)!r} does not exist")
    if path.is_dir():
        raise ValueError(f"path {str(path)!r} is a folder; give a file name ending in .csv")
    if isinstance(frame.columns, pd.MultiIndex):
        raise ValueError("table has multi-level column names; flatten them before writing")
    if frame.shape[1] == 0:
        raise ValueError("table has no columns to write")
    if frame.shape[0] == 0:
        raise ValueError(
            f"table has no rows: a file of column names only would not read back as a table "
            f"(columns {list(frame.columns)})"
        )
    headers, names_read = [], {}
    for column in frame.columns:
        name = str(column)
        if not name.strip():
            raise ValueError(f"table has a column with an empty name ({column!r}); name it")
        unit = units.get(name)
        if unit is not None:
            if not isinstance(unit, str) or not unit.strip():
                raise ValueError(
                    f"the unit of column {name!r} must be a non-empty str, got {unit!r}"
                )
            unit = unit.strip()
        header = _header_text(name, unit)
        read_name, read_unit = _split_unit(header)
        if unit is not None and (read_name, read_unit) != (name, unit):
            raise ValueError(
                f"column {name!r} with unit {unit!r} cannot be written so that it reads back: the "
                f"header {header!r} would be read as {read_name!r} in {read_unit!r}; use a unit "
                f"with balanced brackets and a name without surrounding spaces"
            )
        if unit is None and read_name != name and read_unit is None:
            raise ValueError(
                f"column name {name!r} has surrounding spaces; it would read back as {read_name!r}"
            )
        if read_name in names_read:
            raise ValueError(
                f"columns {names_read[read_name]!r} and {name!r} would both read back as "
                f"{read_name!r}; column names must be unique (units in brackets do not count)"
            )
        names_read[read_name] = name
        headers.append(header)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","

    def write(handle: io.TextIOBase) -> None:
        frame.to_csv(
            handle, index=False, header=headers, sep=delimiter, na_rep="", lineterminator="\n"
        )

    _atomic_write(path, write)
    return path
