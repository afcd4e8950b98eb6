"""Turning a user's table (pandas DataFrame or xarray Dataset) into model inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import check_finite_array


@dataclass(frozen=True)
class RegressionData:
    """Descriptors ``X`` (n_obs x n_features) and target ``y`` (n_obs), validated and named.

    Attributes
    ----------
    X : numpy.ndarray
        Descriptor matrix, finite floats.
    y : numpy.ndarray
        Target values, finite floats.
    feature_names : tuple of str
        Names of the columns of ``X``.
    target_name : str
        Name of the target.
    units : dict
        Units of features and target where the source table declared them (``attrs["units"]``).
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str
    units: dict

    @property
    def n_obs(self) -> int:
        return self.X.shape[0]

    def to_dataset(self) -> xr.Dataset:
        """The same data as an ``xarray.Dataset`` over dim ``obs``."""
        variables = {name: ("obs", self.X[:, j]) for j, name in enumerate(self.feature_names)}
        variables[self.target_name] = ("obs", self.y)
        ds = xr.Dataset(variables, coords={"obs": np.arange(self.n_obs)})
        for name, unit in self.units.items():
            if name in ds:
                ds[name].attrs["units"] = unit
        return ds


def _columns(data: pd.DataFrame | xr.Dataset) -> dict[str, object]:
    """The table's column labels by their text (labels may be numbers, e.g. ``0, 1, 2``)."""
    labels = data.columns if isinstance(data, pd.DataFrame) else data.data_vars
    return {str(label): label for label in labels}


def _column_name(argument: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{argument} must name a column (a str, or the number of a numbered column), "
            f"got {value!r} ({type(value).__name__})"
        )
    return str(value)


def as_regression_data(
    data: pd.DataFrame | xr.Dataset, features: Sequence[str] | str, target: str
) -> RegressionData:
    """Pick descriptor columns and a target column out of a user's table and validate them.

    Parameters
    ----------
    data : pandas.DataFrame or xarray.Dataset
        One row (or one entry along a single dimension) per observation.
    features : list of str
        Names of the descriptor columns (data variables).
    target : str
        Name of the target column.

    Returns
    -------
    RegressionData
        With the units of the chosen columns from ``df.attrs["units"]`` (a DataFrame, e.g. from
        :func:`mi_workbench.data.read_table`) or from each variable's ``attrs["units"]``.

    Raises
    ------
    ValueError
        On unknown column names, an empty table, NaN or infinite values (with their position).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [1.0, 3.0, 5.0]})
    >>> rd = as_regression_data(table, features=["x"], target="y")
    >>> rd.X.shape, rd.target_name
    ((3, 1), 'y')
    """
    if not isinstance(data, (pd.DataFrame, xr.Dataset)):
        raise TypeError(
            f"data must be a pandas DataFrame or an xarray Dataset, got {type(data).__name__}"
        )
    if isinstance(features, (str, int, np.integer)) and not isinstance(features, bool):
        features = [features]
    if not isinstance(features, (list, tuple, pd.Index, np.ndarray)):
        raise TypeError(
            f"features must be a list of column names, got {features!r} ({type(features).__name__})"
        )
    features = [_column_name("features", f) for f in features]
    target = _column_name("target", target)
    if not features:
        raise ValueError("features must name at least one descriptor column, got []")
    if len(set(features)) != len(features):
        raise ValueError(f"features contains a name twice: {features}")
    if target in features:
        raise ValueError(f"target {target!r} is also listed in features")
    labels = _columns(data)
    available = list(labels)
    for argument, names in (("features", features), ("target", [target])):
        unknown = [name for name in names if name not in labels]
        if unknown:
            raise ValueError(
                f"{argument}: unknown column name(s) {unknown}; the table has columns {available}"
            )
    units: dict = {}
    if isinstance(data, xr.Dataset):
        data = data.rename({labels[name]: name for name in [*features, target]})
        for name in [*features, target]:
            if data[name].ndim != 1:
                raise ValueError(
                    f"column {name!r} must be one-dimensional (one value per observation), "
                    f"got dims {data[name].dims}"
                )
            if "units" in data[name].attrs:
                units[name] = data[name].attrs["units"]
        dims = {data[name].dims for name in [*features, target]}
        if len(dims) != 1:
            raise ValueError(f"features and target must share one dimension, got {sorted(dims)}")
        columns = {name: data[name].values for name in [*features, target]}
    else:
        table_units = data.attrs.get("units")
        if isinstance(table_units, dict):
            units = {
                n: table_units[labels[n]] for n in [*features, target] if labels[n] in table_units
            }
        columns = {name: data[labels[name]].to_numpy() for name in [*features, target]}
    X = np.column_stack(
        [check_finite_array(f"column {name!r}", columns[name], ndim=1) for name in features]
    )
    y = check_finite_array(f"column {target!r}", columns[target], ndim=1)
    if len(y) < 2:
        raise ValueError(f"need at least 2 observations, got {len(y)}")
    return RegressionData(X, y, tuple(features), str(target), units)


def check_xy(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate a descriptor matrix and a target vector of matching length."""
    X = check_finite_array("X", X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_obs, n_features), got shape {X.shape}")
    y = check_finite_array("y", y, ndim=1)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of observations, got X with {X.shape[0]} rows "
            f"and y with {y.shape[0]} values"
        )
    if len(y) < 2:
        raise ValueError(f"need at least 2 observations, got {len(y)}")
    return X, y
