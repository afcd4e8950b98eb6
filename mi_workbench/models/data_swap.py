"""Swap the data of a compiled regression model instead of building (and compiling) a new one.

:func:`~mi_workbench.models.bayesian_linear_regression` puts its data and its standardisation
constants into ``pm.Data`` containers. :func:`set_regression_data` replaces all of them at once, so
that :func:`~mi_workbench.inference.fit` re-uses the compiled model for a new data set with the same
descriptors: seconds instead of a compile.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mi_workbench._checks import check_pymc_model
from mi_workbench.data.tables import check_xy
from mi_workbench.models.regression import Standardization, _as_matrix

_DATA_NAMES = ("X", "y", "x_center", "x_scale", "y_center", "y_scale")


def _is_standardized(model) -> bool:
    """Whether ``model`` was built with ``standardize=True`` (identity constants mean False)."""
    values = {name: np.asarray(model[name].get_value()) for name in _DATA_NAMES[2:]}
    identity = (
        np.all(values["x_center"] == 0)
        and np.all(values["x_scale"] == 1)
        and values["y_center"] == 0
        and values["y_scale"] == 1
    )
    return not identity


def set_regression_data(
    model,
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray | pd.Series,
    *,
    feature_names: Sequence[str] | None = None,
) -> None:
    """Give a model from ``bayesian_linear_regression`` new data with the same descriptors.

    The standardisation constants are recomputed from the new data (as a fresh build would), so
    the priors keep their meaning on the standardised scale. The number of observations may change
    (a different count costs one compile for the new shape); the descriptors may not.

    Parameters
    ----------
    model : pymc.Model
        A model built by :func:`~mi_workbench.models.bayesian_linear_regression`.
    X : array of shape (n_obs, n_features), or pandas.DataFrame
        New descriptors, in the same order as the model's ``feature`` coordinate. A DataFrame's
        column names must equal the model's feature names.
    y : array of shape (n_obs,), or pandas.Series
        New target values.
    feature_names : list of str, optional
        Names of the columns of an array ``X``; checked against the model when given.

    Raises
    ------
    ValueError
        If the model is not a regression model of this package, or the descriptors differ.

    Examples
    --------
    >>> import numpy as np
    >>> from mi_workbench.models import bayesian_linear_regression
    >>> rng = np.random.default_rng(0)
    >>> model = bayesian_linear_regression(rng.normal(size=(10, 1)), rng.normal(size=10))
    >>> set_regression_data(model, rng.normal(size=(12, 1)), rng.normal(size=12))
    >>> model["y"].get_value().shape
    (12,)
    """
    import pymc as pm

    model = check_pymc_model("model", model)
    missing = [name for name in _DATA_NAMES if name not in model.named_vars]
    if missing:
        raise ValueError(
            f"model has no data container(s) {missing}: pass a model built by "
            "bayesian_linear_regression"
        )
    model_features = [str(name) for name in model.coords["feature"]]
    named = isinstance(X, pd.DataFrame) or feature_names is not None
    X, names = _as_matrix(X, feature_names)
    if isinstance(y, pd.Series):
        y = y.to_numpy(dtype=float, na_value=np.nan)
    X, y = check_xy(X, y)
    if X.shape[1] != len(model_features):
        raise ValueError(
            f"X has {X.shape[1]} column(s) but the model has {len(model_features)} descriptor(s) "
            f"{model_features}"
        )
    if named and [str(name) for name in names] != model_features:
        raise ValueError(
            f"descriptor names {names} differ from the model's {model_features}; "
            "build a new model for other descriptors"
        )
    scaling = Standardization.from_data(X, y, _is_standardized(model))
    with model:
        pm.set_data(
            {
                "X": X,
                "y": y,
                "x_center": scaling.x_center,
                "x_scale": scaling.x_scale,
                "y_center": scaling.y_center,
                "y_scale": scaling.y_scale,
            },
            coords={"obs": np.arange(len(y))},
        )
