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


def _columns(data: pd.DataFrame | xr.Dataset) -> list[str]:
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    return [str(v) for v in data.data_vars]


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
    if isinstance(features, str):
        features = [features]
    features = [str(f) for f in features]
    if not features:
        raise ValueError("features must name at least one descriptor column, got []")
    if len(set(features)) != len(features):
        raise ValueError(f"features contains a name twice: {features}")
    if target in features:
        raise ValueError(f"target {target!r} is also listed in features")
    available = _columns(data)
    unknown = [name for name in [*features, target] if name not in available]
    if unknown:
        raise ValueError(f"unknown column name(s) {unknown}; the table has columns {available}")
    units: dict = {}
    if isinstance(data, xr.Dataset):
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
            units = {n: table_units[n] for n in [*features, target] if n in table_units}
        columns = {name: data[name].to_numpy() for name in [*features, target]}
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
