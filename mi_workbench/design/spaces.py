"""Candidate spaces for adaptive design: composition grids and their elemental descriptors.

A candidate space is an :class:`xarray.Dataset` over the dimension ``candidate``. Composition
variables are named by element symbol and hold at.% (``attrs["units"] == "at.%"``); descriptor
variables are named by the descriptor (see :data:`XUE_DESCRIPTORS`). Large spaces are dask-backed
(chunked along ``candidate``), generated chunk by chunk and never held whole in memory.

The default grid is the search space of Xue et al., Nat. Commun. 7, 11241 (2016):
Ti50 Ni(50-x-y-z) Cu_x Fe_y Pd_z at 0.1 at.% steps. The paper reports "about 800,000"
candidates without listing its bounds; the project's bounds (:data:`XUE_BOUNDS`)

- Ti fixed at 50 at.%,
- Cu 0-20, Fe 0-5, Pd 0-20 at.%,
- Ni the balance, at least 30 at.% (so Cu + Fe + Pd <= 20),

give 799,901 candidates and contain all 22 alloys Xue et al. started from. For a space of more
than a million candidates (a test of dask clusters, for instance) use :data:`XUE_LARGE_BOUNDS`
(Cu 0-25, Fe 0-5, Pd 0-25, Ni >= 25: 1,313,726 candidates).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import (
    _short,
    check_composition_rows,
    check_finite_number,
    check_positive,
    check_positive_int,
)
from mi_workbench.data.elements import (
    ELEMENT_PROPERTIES,
    ELEMENT_PROPERTY_UNITS,
)

#: Name of the dimension that enumerates candidates.
CANDIDATE_DIM = "candidate"

#: Units attribute of composition variables.
COMPOSITION_UNITS = "at.%"

#: The six composition-weighted descriptors of Xue et al. (2016), in their order: Pettifor
#: chemical scale, Clementi atomic radius, metallic radius, Pauling electronegativity, valence
#: electrons and pseudopotential radius. Each is a column of
#: :data:`mi_workbench.data.ELEMENT_PROPERTIES` (its docstring gives the sources).
XUE_DESCRIPTORS = (
    "pettifor_chemical_scale",
    "clementi_atomic_radius_pm",
    "metallic_radius_pm",
    "pauling_electronegativity",
    "valence_electrons",
    "pseudopotential_radius_xue_angstrom",
)

#: Elements of the Xue et al. space, in the order of the dataset's variables.
XUE_ELEMENTS = ("Ti", "Ni", "Cu", "Fe", "Pd")

#: Bounds (at.%) of the ~800,000-candidate Xue space (Ni is the balance); see the module doc.
XUE_BOUNDS = {"Ni": (30.0, 50.0), "Cu": (0.0, 20.0), "Fe": (0.0, 5.0), "Pd": (0.0, 20.0)}

#: Bounds (at.%) of a 1,313,726-candidate extension of the Xue space.
XUE_LARGE_BOUNDS = {"Ni": (25.0, 50.0), "Cu": (0.0, 25.0), "Fe": (0.0, 5.0), "Pd": (0.0, 25.0)}

_ELEMENT_SYMBOL = re.compile(r"^[A-Z][a-z]?$")
_SUM_TOLERANCE = 1e-3  # at.%: float32 grids carry ~1e-5 rounding


def _check_element(name: str, symbol: object) -> str:
    if not isinstance(symbol, str) or symbol not in ELEMENT_PROPERTIES.index:
        raise ValueError(
            f"{name} contains the unknown element {_short(symbol)}; known elements are "
            f"{list(ELEMENT_PROPERTIES.index)}"
        )
    return symbol


def _to_steps(name: str, value: float, step: float) -> int:
    """``value`` as an integer number of grid steps, or raise if it is not on the grid."""
    steps = value / step
    nearest = round(steps)
    if abs(steps - nearest) > 1e-6:
        raise ValueError(f"{name}={value!r} is not a multiple of step={step!r}")
    return int(nearest)


class _GridPlan:
    """Integer description of a bounded composition grid, enumerated block by block.

    Amounts are integers in units of ``step``. The first free element is the outer loop: each of
    its values is a block whose rows are the filtered product of the inner elements' ranges, in
    lexicographic order. Row counts per block are known up front, so any row range (a dask chunk)
    can be generated without enumerating the rest.
    """

    def __init__(self, elements, fixed, bounds, balance, step):
        self.elements = tuple(elements)
        self.step = step
        self.balance = balance
        self.fixed_steps = {el: _to_steps(f"fixed[{el!r}]", v, step) for el, v in fixed.items()}
        self.free = [el for el in self.elements if el not in fixed and el != balance]
        self.ranges = {}
        for el in self.free:
            low, high = bounds[el]
            self.ranges[el] = (
                _to_steps(f"bounds[{el!r}]", low, step),
                _to_steps(f"bounds[{el!r}]", high, step),
            )
        total = _to_steps("100 at.%", 100.0, step)
        self.remaining = total - sum(self.fixed_steps.values())
        low, high = bounds.get(balance, (0.0, 100.0))
        self.balance_range = (
            math.ceil(low / step - 1e-6),
            math.floor(high / step + 1e-6),
        )
        if not self.free:
            self.inner_sums = np.zeros(1, dtype=np.int64)
            self.inner_grid = np.zeros((1, 0), dtype=np.int32)
            self.outer_values = np.zeros(1, dtype=np.int64)
        else:
            outer = self.free[0]
            self.outer_values = np.arange(self.ranges[outer][0], self.ranges[outer][1] + 1)
            axes = [np.arange(self.ranges[el][0], self.ranges[el][1] + 1) for el in self.free[1:]]
            if axes:
                mesh = np.meshgrid(*axes, indexing="ij")
                self.inner_grid = np.stack([m.ravel() for m in mesh], axis=1).astype(np.int32)
            else:
                self.inner_grid = np.zeros((1, 0), dtype=np.int32)
            self.inner_sums = self.inner_grid.sum(axis=1, dtype=np.int64)
        outer_amounts = self.outer_values if self.free else np.zeros(1, dtype=np.int64)
        self.block_counts = np.array([int(self._inner_mask(v).sum()) for v in outer_amounts])
        self.block_starts = np.concatenate([[0], np.cumsum(self.block_counts)])
        self.size = int(self.block_starts[-1])

    def _inner_mask(self, outer_value: int) -> np.ndarray:
        balance = self.remaining - outer_value - self.inner_sums
        return (balance >= self.balance_range[0]) & (balance <= self.balance_range[1])

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Integer amounts (in steps) of rows ``start:stop``, shape (stop - start, n_elements)."""
        first = int(np.searchsorted(self.block_starts, start, side="right")) - 1
        pieces = []
        position = int(self.block_starts[first])
        block = first
        while position < stop and block < len(self.block_counts):
            outer_value = int(self.outer_values[block]) if self.free else 0
            inner = self.inner_grid[self._inner_mask(outer_value)]
            low = max(start - position, 0)
            high = min(stop - position, len(inner))
            if high > low:
                part = inner[low:high]
                pieces.append((outer_value, part))
            position += len(inner)
            block += 1
        n_rows = stop - start
        out = np.empty((n_rows, len(self.elements)), dtype=np.int32)
        column = {el: i for i, el in enumerate(self.elements)}
        offset = 0
        for outer_value, part in pieces:
            rows = slice(offset, offset + len(part))
            for el, amount in self.fixed_steps.items():
                out[rows, column[el]] = amount
            if self.free:
                out[rows, column[self.free[0]]] = outer_value
                for j, el in enumerate(self.free[1:]):
                    out[rows, column[el]] = part[:, j]
            free_sum = part.sum(axis=1) + outer_value
            out[rows, column[self.balance]] = self.remaining - free_sum
            offset += len(part)
        return out


def composition_grid(
    elements: Sequence[str] = XUE_ELEMENTS,
    fixed: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    step: float = 0.1,
    balance: str | None = None,
    chunk_size: int | None = None,
    dtype: str = "float32",
) -> xr.Dataset:
    """All compositions of ``elements`` on a grid of ``step`` at.%, within bounds.

    Every element is either fixed, bounded (enumerated from its lower to its upper bound in
    steps of ``step``) or the balance (100 at.% minus the others; kept only where it lies within
    its own bounds, if given). The defaults give the Xue et al. (2016) space of 799,901
    Ti50 Ni(50-x-y-z) Cu_x Fe_y Pd_z alloys (module docstring).

    Parameters
    ----------
    elements : sequence of str
        Element symbols, the dataset's variables in this order.
    fixed : mapping of str to float, optional
        Elements held at one amount (at.%). Default ``{"Ti": 50.0}`` for the default elements,
        none otherwise.
    bounds : mapping of str to (float, float), optional
        Inclusive (low, high) bounds in at.% for every element that is neither fixed nor the
        balance, and optionally for the balance. Default :data:`XUE_BOUNDS`.
    step : float
        Grid step in at.% (default 0.1). Bounds and fixed amounts must be multiples of it.
    balance : str, optional
        The element that makes each row sum to 100 at.%. Default: Ni if present, else the first
        element that is neither fixed nor bounded.
    chunk_size : int, optional
        If given, the variables are dask arrays with chunks of this many candidates, generated
        on demand (memory stays flat however large the space).
    dtype : {"float32", "float64"}
        Floating type of the compositions (float32 halves memory; values are exact to ~1e-5 at.%).

    Returns
    -------
    xarray.Dataset
        One variable per element (at.%, ``attrs["units"] == "at.%"``) over ``candidate``, with the
        integer coordinate ``candidate`` = 0 .. N-1; ``attrs`` record the step, the bounds, the
        fixed amounts and the balance element.

    Examples
    --------
    >>> space = composition_grid(("Ti", "Ni", "Cu"), fixed={"Ti": 50.0},
    ...                          bounds={"Cu": (0.0, 1.0)}, balance="Ni")
    >>> space.sizes["candidate"]
    11
    >>> float(space["Ni"][3])
    49.70000076293945
    """
    if isinstance(elements, str) or not isinstance(elements, Sequence):
        raise TypeError(f"elements must be a sequence of element symbols, got {_short(elements)}")
    elements = tuple(elements)
    if len(elements) < 2:
        raise ValueError(f"elements must name at least two elements, got {list(elements)}")
    for symbol in elements:
        _check_element("elements", symbol)
    if len(set(elements)) != len(elements):
        raise ValueError(f"elements contains a repeated symbol: {list(elements)}")
    step = check_positive("step", step)
    if step > 100.0:
        raise ValueError(f"step must be at most 100 at.%, got {step!r}")
    if abs(100.0 / step - round(100.0 / step)) > 1e-6:
        raise ValueError(f"step must divide 100 at.% into whole steps, got {step!r}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be one of ['float32', 'float64'], got {_short(dtype)}")
    for name, mapping in (("fixed", fixed), ("bounds", bounds)):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise TypeError(f"{name} must be a mapping from element symbol, got {_short(mapping)}")
    default_space = elements == XUE_ELEMENTS
    fixed = dict({"Ti": 50.0} if fixed is None and default_space else (fixed or {}))
    bounds = dict(XUE_BOUNDS if bounds is None and default_space else (bounds or {}))
    for name, mapping in (("fixed", fixed), ("bounds", bounds)):
        if not isinstance(mapping, Mapping):
            raise TypeError(f"{name} must be a mapping from element symbol, got {_short(mapping)}")
        for symbol in mapping:
            _check_element(name, symbol)
            if symbol not in elements:
                raise ValueError(f"{name} names {symbol!r}, which is not in elements {elements}")
    for symbol, value in fixed.items():
        amount = check_finite_number(f"fixed[{symbol!r}]", value)
        if not 0 <= amount <= 100:
            raise ValueError(f"fixed[{symbol!r}] must be between 0 and 100 at.%, got {amount!r}")
        fixed[symbol] = float(amount)
    checked_bounds = {}
    for symbol, pair in bounds.items():
        if symbol in fixed:
            raise ValueError(f"{symbol!r} is both fixed and bounded; give it in one of the two")
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise TypeError(
                f"bounds[{symbol!r}] must be a pair of numbers (low, high), got {_short(pair)}"
            ) from None
        if not (0 <= low <= high <= 100):
            raise ValueError(
                f"bounds[{symbol!r}] must satisfy 0 <= low <= high <= 100 at.%, got {(low, high)}"
            )
        checked_bounds[symbol] = (low, high)
    bounds = checked_bounds
    if balance is None:
        unbounded = [el for el in elements if el not in fixed and el not in bounds]
        if "Ni" in elements and "Ni" not in fixed and (not unbounded or "Ni" in unbounded):
            balance = "Ni"
        elif unbounded:
            balance = unbounded[0]
        else:
            raise ValueError("balance must be given when every element is fixed or bounded")
    _check_element("balance", balance)
    if balance not in elements or balance in fixed:
        raise ValueError(
            f"balance must be one of the elements that is not fixed, got {balance!r} "
            f"(elements {list(elements)}, fixed {sorted(fixed)})"
        )
    missing = [el for el in elements if el not in fixed and el not in bounds and el != balance]
    if missing:
        raise ValueError(
            f"bounds must give (low, high) for {missing}: every element that is neither fixed "
            f"nor the balance ({balance!r}) needs bounds"
        )
    if sum(fixed.values()) > 100 + 1e-9:
        raise ValueError(f"the fixed amounts add up to more than 100 at.%: {fixed}")
    if chunk_size is not None:
        chunk_size = check_positive_int("chunk_size", chunk_size)

    plan = _GridPlan(elements, fixed, bounds, balance, step)
    if plan.size == 0:
        raise ValueError(
            f"the bounds leave no composition that sums to 100 at.%: fixed {fixed}, "
            f"bounds {bounds}, balance {balance!r}"
        )
    attrs = {
        "description": "composition grid; every row sums to 100 at.%",
        "step_at_percent": step,
        "balance_element": balance,
        "fixed_at_percent": repr(fixed),
        "bounds_at_percent": repr(bounds),
    }
    candidate = np.arange(plan.size, dtype=np.int64)
    if chunk_size is None:
        values = plan.rows(0, plan.size).astype(dtype) * np.asarray(step, dtype=dtype)
        data = {el: values[:, j] for j, el in enumerate(elements)}
    else:
        import dask.array as da

        chunks = [chunk_size] * (plan.size // chunk_size)
        if plan.size % chunk_size:
            chunks.append(plan.size % chunk_size)

        def block(block_info=None):
            start, stop = block_info[None]["array-location"][0]
            return plan.rows(start, stop).astype(dtype) * np.asarray(step, dtype=dtype)

        table = da.map_blocks(
            block, chunks=(tuple(chunks), (len(elements),)), dtype=dtype, meta=np.empty((0, 0))
        )
        data = {el: table[:, j] for j, el in enumerate(elements)}
    space = xr.Dataset(
        {
            el: xr.Variable(CANDIDATE_DIM, values, attrs={"units": COMPOSITION_UNITS})
            for el, values in data.items()
        },
        coords={CANDIDATE_DIM: candidate},
        attrs=attrs,
    )
    return space


def composition_variables(space: xr.Dataset) -> list[str]:
    """Names of the composition variables (units ``at.%`` or an element-symbol name)."""
    if not isinstance(space, xr.Dataset):
        raise TypeError(f"space must be an xarray.Dataset, got {_short(space)}")
    names = []
    for name, variable in space.data_vars.items():
        if variable.attrs.get("units") == COMPOSITION_UNITS or (
            isinstance(name, str) and _ELEMENT_SYMBOL.match(name)
        ):
            names.append(str(name))
    return names


def _check_rows(block: np.ndarray, labels: np.ndarray, elements: Sequence[str]) -> None:
    check_composition_rows(block, labels, elements, tolerance=_SUM_TOLERANCE)


def check_compositions(space: xr.Dataset | pd.DataFrame) -> list[str]:
    """Validate a candidate space's compositions and return the element names.

    Raises for unknown element symbols, NaN or infinite amounts, negative amounts and rows
    that do not sum to 100 at.% (naming the row by its ``candidate`` label). A dask-backed
    space is checked chunk by chunk.

    Parameters
    ----------
    space : xarray.Dataset or pandas.DataFrame
        Compositions in at.%: dataset variables over ``candidate`` or DataFrame columns named by
        element symbol (other columns are ignored).

    Returns
    -------
    list of str
        The element symbols found.

    Examples
    --------
    >>> import pandas as pd
    >>> check_compositions(pd.DataFrame({"Ti": [50.0], "Ni": [50.0]}))
    ['Ti', 'Ni']
    """
    space = _as_dataset(space)
    elements = composition_variables(space)
    for symbol in elements:
        _check_element("the candidate space", symbol)
    if not elements:
        raise ValueError(
            "the candidate space has no composition variables (element symbols in at.%)"
        )
    labels = space[CANDIDATE_DIM].values
    table = xr.concat([space[el] for el in elements], dim="element").transpose(CANDIDATE_DIM, ...)
    if table.chunks:
        import dask

        starts = np.concatenate([[0], np.cumsum(table.chunks[0])])

        def check(block, start):
            _check_rows(np.asarray(block), labels[start : start + len(block)], elements)
            return True

        tasks = [
            dask.delayed(check)(table.data[starts[i] : starts[i + 1]], int(starts[i]))
            for i in range(len(starts) - 1)
        ]
        dask.compute(*tasks)
    else:
        _check_rows(np.asarray(table.values), labels, elements)
    return elements


def _as_dataset(space: object) -> xr.Dataset:
    if isinstance(space, xr.Dataset):
        if CANDIDATE_DIM not in space.dims:
            raise ValueError(
                f"the candidate space must have the dimension {CANDIDATE_DIM!r}, got dims "
                f"{list(space.dims)}"
            )
        if CANDIDATE_DIM not in space.coords:
            space = space.assign_coords(
                {CANDIDATE_DIM: np.arange(space.sizes[CANDIDATE_DIM], dtype=np.int64)}
            )
        return space
    if isinstance(space, pd.DataFrame):
        columns = [c for c in space.columns if isinstance(c, str) and _ELEMENT_SYMBOL.match(c)]
        if not columns:
            raise ValueError(
                f"the composition table has no element-symbol columns; got columns "
                f"{[str(c) for c in space.columns]}"
            )
        return xr.Dataset(
            {
                c: xr.Variable(
                    CANDIDATE_DIM, space[c].to_numpy(dtype=float), {"units": COMPOSITION_UNITS}
                )
                for c in columns
            },
            coords={CANDIDATE_DIM: space.index.to_numpy()},
        )
    raise TypeError(
        f"space must be an xarray.Dataset over {CANDIDATE_DIM!r} or a pandas DataFrame with "
        f"element columns, got {type(space).__name__}"
    )


def featurize(
    space: xr.Dataset | pd.DataFrame,
    descriptors: Sequence[str] = XUE_DESCRIPTORS,
    dtype: str = "float64",
) -> xr.Dataset:
    """Add composition-weighted elemental descriptors to a candidate space.

    Each descriptor is ``sum_i (c_i / 100) * p_i`` over the elements ``i`` of the space, with
    ``c_i`` in at.% and ``p_i`` the element's value in the column of the same name of
    :data:`mi_workbench.data.ELEMENT_PROPERTIES`. With the default :data:`XUE_DESCRIPTORS`
    this reproduces the six descriptors of Xue et al., Nat. Commun. 7, 11241 (2016). A
    dask-backed space stays lazy: descriptors are computed chunk by chunk when needed, and each
    chunk is checked (sums to 100 at.%, finite, non-negative) as it is computed.

    Parameters
    ----------
    space : xarray.Dataset or pandas.DataFrame
        Compositions in at.% over ``candidate`` (e.g. from :func:`composition_grid`), or a
        DataFrame with element-symbol columns (its index becomes the ``candidate`` coordinate).
    descriptors : sequence of str
        Column names of ``ELEMENT_PROPERTIES``; default :data:`XUE_DESCRIPTORS`.
    dtype : {"float64", "float32"}
        Floating type of the descriptor variables.

    Returns
    -------
    xarray.Dataset
        ``space`` with one more variable per descriptor (units in ``attrs["units"]``).

    Raises
    ------
    ValueError
        For an unknown descriptor or element, an element without a value for a requested
        descriptor, and (for in-memory spaces at once, for dask-backed ones when computed)
        compositions that are not finite, negative or do not sum to 100 at.%.

    Examples
    --------
    >>> import pandas as pd
    >>> ds = featurize(pd.DataFrame({"Ti": [50.0], "Ni": [50.0]}))
    >>> round(float(ds["pettifor_chemical_scale"][0]), 4)
    0.94
    """
    space = _as_dataset(space)
    if isinstance(descriptors, str) or not isinstance(descriptors, Sequence):
        raise TypeError(
            f"descriptors must be a sequence of descriptor names, got {_short(descriptors)}"
        )
    descriptors = tuple(descriptors)
    if not descriptors:
        raise ValueError("descriptors must name at least one descriptor")
    unknown = [d for d in descriptors if d not in ELEMENT_PROPERTIES.columns]
    if unknown:
        raise ValueError(
            f"unknown descriptor(s) {unknown}; available descriptors are "
            f"{list(ELEMENT_PROPERTIES.columns)}"
        )
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be one of ['float32', 'float64'], got {_short(dtype)}")
    elements = composition_variables(space)
    for symbol in elements:
        _check_element("the candidate space", symbol)
    if not elements:
        raise ValueError(
            "the candidate space has no composition variables (element symbols in at.%)"
        )
    table = ELEMENT_PROPERTIES.loc[elements, list(descriptors)]
    missing = table.isna()
    if missing.to_numpy().any():
        pairs = [f"{el}: {d}" for el in elements for d in descriptors if missing.loc[el, d]]
        raise ValueError(
            f"no elemental value for {pairs}; choose other descriptors or add the values to "
            f"mi_workbench.data.ELEMENT_PROPERTIES (with a source)"
        )
    weights = table.to_numpy(dtype=np.float64) / 100.0  # (n_elements, n_descriptors)
    labels = space[CANDIDATE_DIM].values
    compositions = xr.concat([space[el] for el in elements], dim="element").transpose(
        CANDIDATE_DIM, ...
    )

    def weighted(block: np.ndarray, start: int = 0) -> np.ndarray:
        block = np.asarray(block)
        _check_rows(block, labels[start : start + len(block)], elements)
        return (block.astype(np.float64) @ weights).astype(dtype)

    if compositions.chunks:
        import dask.array as da

        data = compositions.data.rechunk({1: -1})

        def block_values(block, block_info=None):
            start = block_info[0]["array-location"][0][0]
            return weighted(block, start)

        values = da.map_blocks(
            block_values,
            data,
            chunks=(data.chunks[0], (len(descriptors),)),
            dtype=dtype,
            meta=np.empty((0, 0), dtype=dtype),
        )
    else:
        values = weighted(compositions.values)
    out = space.copy()
    for j, name in enumerate(descriptors):
        out[name] = xr.Variable(
            CANDIDATE_DIM,
            values[:, j],
            attrs={
                "units": ELEMENT_PROPERTY_UNITS.get(name, ""),
                "description": f"composition-weighted mean of the elemental {name}",
            },
        )
    out.attrs = dict(space.attrs)
    out.attrs["descriptors"] = ", ".join(descriptors)
    return out
