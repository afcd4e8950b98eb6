"""Bayesian linear regression of a target property on descriptors.

The model works on standardised descriptors and target (each centred and divided by its standard
deviation), so that one set of default priors suits any data set: a coefficient of 1 means "one
standard deviation of the descriptor moves the target by one standard deviation". Posterior
coefficients are also reported in the data's own units (``intercept``, ``coefficients``,
``noise_sd``).

The same standardisation serves the NumPy prior predictive of the panels
(:func:`prior_predictive_lines`) and the posterior predictive (:func:`posterior_predictive_lines`),
so that panels never compile a model on a slider move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import check_finite_array, check_positive_int
from mi_workbench.data.tables import check_xy
from mi_workbench.models.priors import POSITIVE_FAMILIES, REAL_FAMILIES, Prior, as_prior

#: The three priors of the regression model, on the standardised scale.
REGRESSION_PRIOR_NAMES = ("intercept", "coefficients", "noise")


def default_regression_priors() -> dict[str, Prior]:
    """Weakly informative priors on the standardised scale.

    ``intercept`` ~ Normal(0, 1), each of ``coefficients`` ~ Normal(0, 1),
    ``noise`` (residual standard deviation in target standard deviations) ~ HalfNormal(1).
    """
    return {
        "intercept": Prior("Normal", mu=0.0, sigma=1.0),
        "coefficients": Prior("Normal", mu=0.0, sigma=1.0),
        "noise": Prior("HalfNormal", sigma=1.0),
    }


def regression_priors(priors: Mapping[str, Prior | dict] | None = None) -> dict[str, Prior]:
    """Defaults updated by ``priors``; raises on unknown names or a wrong support."""
    result = default_regression_priors()
    if priors is not None and not isinstance(priors, Mapping):
        raise TypeError(
            f"priors must be a mapping of prior name -> Prior or dict, got {type(priors).__name__}"
        )
    for name, value in (priors or {}).items():
        if name not in REGRESSION_PRIOR_NAMES:
            raise ValueError(
                f"unknown prior name {name!r}; "
                f"the regression has priors {list(REGRESSION_PRIOR_NAMES)}"
            )
        result[name] = as_prior(name, value)
    if result["noise"].family not in POSITIVE_FAMILIES:
        raise ValueError(
            "the noise prior must be a family on the positive half-line "
            f"{list(POSITIVE_FAMILIES)}, got {result['noise'].family!r}"
        )
    for name in ("intercept", "coefficients"):
        if result[name].family not in REAL_FAMILIES:
            raise ValueError(
                f"the {name} prior must be a family on the whole real line "
                f"{list(REAL_FAMILIES)}, got {result[name].family!r}"
            )
    return result


@dataclass(frozen=True)
class Standardization:
    """Centres and scales that map data to the model's standardised scale and back."""

    x_center: np.ndarray
    x_scale: np.ndarray
    y_center: float
    y_scale: float

    @classmethod
    def from_data(cls, X: np.ndarray, y: np.ndarray, standardize: bool = True) -> Standardization:
        n_features = X.shape[1]
        if not standardize:
            return cls(np.zeros(n_features), np.ones(n_features), 0.0, 1.0)
        with np.errstate(over="ignore", invalid="ignore"):
            x_scale = X.std(axis=0)
        constant = np.flatnonzero(~((x_scale > 0) & np.isfinite(x_scale)))
        if constant.size:
            raise ValueError(
                f"X: descriptor column(s) at position {constant.tolist()} are constant (or too "
                "large to standardise); a constant descriptor carries no information: drop it"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            y_scale = float(y.std())
        if not 0 < y_scale < np.inf:
            raise ValueError(
                "y (the target) is constant or too large to standardise; there is nothing to "
                f"regress (its standard deviation is {y_scale!r})"
            )
        return cls(X.mean(axis=0), x_scale, float(y.mean()), y_scale)

    def to_original(
        self, intercept_std: np.ndarray, coefficients_std: np.ndarray, noise_std: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Map standardised parameters (leading sample axes) to the data's own units."""
        coefficients = coefficients_std * (self.y_scale / self.x_scale)
        intercept = self.y_center + self.y_scale * intercept_std - coefficients @ self.x_center
        return intercept, coefficients, noise_std * self.y_scale


def _as_matrix(X, feature_names, name: str = "X"):
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        return X.to_numpy(dtype=float, na_value=np.nan), names
    X = check_finite_array(name, X)
    if X.ndim not in (1, 2):
        raise ValueError(f"{name} must be 2-dimensional (n_obs, n_features), got shape {X.shape}")
    n_features = 1 if X.ndim == 1 else X.shape[1]
    if feature_names is None:
        return X, [f"x{j}" for j in range(n_features)]
    names = list(feature_names)
    return X, names


def bayesian_linear_regression(
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray | pd.Series,
    *,
    feature_names: Sequence[str] | None = None,
    target_name: str = "y",
    priors: Mapping[str, Prior | dict] | None = None,
    standardize: bool = True,
):
    """Build a Bayesian linear regression ``y = intercept + X @ coefficients + noise``.

    Parameters
    ----------
    X : array of shape (n_obs, n_features), or pandas.DataFrame
        Descriptors. A DataFrame's column names become the ``feature`` coordinate.
    y : array of shape (n_obs,)
        Target property.
    feature_names : list of str, optional
        Names of the descriptors when ``X`` is an array.
    target_name : str
        Name of the target (used in labels).
    priors : dict, optional
        Any of ``intercept``, ``coefficients``, ``noise`` as :class:`Prior` or dict; the rest keep
        :func:`default_regression_priors`. With ``standardize=True`` they act on the standardised
        scale.
    standardize : bool
        Centre and scale descriptors and target before the regression (recommended).

    Returns
    -------
    pymc.Model
        Free variables ``intercept_std``, ``coefficients_std`` (dim ``feature``), ``noise_std``;
        deterministics ``intercept``, ``coefficients``, ``noise_sd`` in the data's units; observed
        ``y_obs`` (dim ``obs``). Data enter as ``pm.Data`` (``X``, ``y`` and the standardisation
        constants), so that ``pm.set_data`` can swap them without a rebuild.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 2)); y = 1 + X @ [2.0, -1.0] + rng.normal(0, 0.1, 20)
    >>> model = bayesian_linear_regression(X, y, feature_names=["a", "b"])
    >>> sorted(model.named_vars)[:3]
    ['X', 'coefficients', 'coefficients_std']
    """
    import pymc as pm

    X, names = _as_matrix(X, feature_names)
    if isinstance(y, pd.Series):
        y = y.to_numpy(dtype=float, na_value=np.nan)
    X, y = check_xy(X, y)
    if len(names) != X.shape[1]:
        raise ValueError(f"feature_names has {len(names)} name(s) but X has {X.shape[1]} column(s)")
    if not isinstance(target_name, str) or not target_name:
        raise TypeError(f"target_name must be a non-empty str, got {target_name!r}")
    priors = regression_priors(priors)
    scaling = Standardization.from_data(X, y, standardize)
    coords = {"feature": names, "obs": np.arange(len(y))}
    with pm.Model(coords=coords) as model:
        X_data = pm.Data("X", X, dims=("obs", "feature"))
        y_data = pm.Data("y", y, dims="obs")
        x_center = pm.Data("x_center", scaling.x_center, dims="feature")
        x_scale = pm.Data("x_scale", scaling.x_scale, dims="feature")
        y_center = pm.Data("y_center", scaling.y_center)
        y_scale = pm.Data("y_scale", scaling.y_scale)

        intercept_std = priors["intercept"].to_pymc("intercept_std")
        coefficients_std = priors["coefficients"].to_pymc("coefficients_std", dims="feature")
        noise_std = priors["noise"].to_pymc("noise_std")

        mean_std = intercept_std + ((X_data - x_center) / x_scale) @ coefficients_std
        pm.Normal(
            "y_obs",
            mu=y_center + y_scale * mean_std,
            sigma=y_scale * noise_std,
            observed=y_data,
            dims="obs",
        )

        coefficients = pm.Deterministic(
            "coefficients", coefficients_std * y_scale / x_scale, dims="feature"
        )
        pm.Deterministic(
            "intercept", y_center + y_scale * intercept_std - (coefficients * x_center).sum()
        )
        pm.Deterministic("noise_sd", noise_std * y_scale)
    model.mi_target_name = target_name  # read by plots and panels for labels
    return model


def prior_predictive_lines(
    priors: Mapping[str, Prior | dict] | None,
    X: np.ndarray,
    y: np.ndarray,
    x_grid: np.ndarray,
    *,
    feature_index: int = 0,
    n_draws: int = 50,
    random_seed: int = 0,
    standardize: bool = True,
) -> np.ndarray:
    """Regression lines drawn from the prior, in the data's units, with NumPy only.

    The line varies descriptor ``feature_index`` over ``x_grid`` and holds the others at their
    mean. Returns an array (n_draws, len(x_grid)) of mean responses.
    """
    X, y = check_xy(X, y)
    priors = regression_priors(priors)
    n_draws = check_positive_int("n_draws", n_draws)
    rng = np.random.default_rng(check_positive_int("random_seed", random_seed, minimum=0))
    scaling = Standardization.from_data(X, y, standardize)
    intercept_std = priors["intercept"].sample(rng, n_draws)
    coefficients_std = priors["coefficients"].sample(rng, (n_draws, X.shape[1]))
    design = grid_design(X, x_grid, feature_index)
    standardized = (design - scaling.x_center) / scaling.x_scale
    return scaling.y_center + scaling.y_scale * (
        intercept_std[:, None] + coefficients_std @ standardized.T
    )


def posterior_predictive_lines(
    idata: xr.DataTree,
    X_new: np.ndarray,
    *,
    include_noise: bool = False,
    max_draws: int | None = 400,
    random_seed: int = 0,
) -> np.ndarray:
    """Posterior draws of the regression at new descriptor rows, with NumPy only.

    Parameters
    ----------
    idata : xarray.DataTree
        Result of fitting :func:`bayesian_linear_regression`.
    X_new : array (n_new, n_features)
        Descriptor rows in the data's units.
    include_noise : bool
        Add the observation noise (a posterior predictive of new measurements) instead of the
        mean response only.
    max_draws : int or None
        Thin to at most this many posterior draws (evenly spaced).

    Returns
    -------
    numpy.ndarray of shape (n_draws, n_new)
    """
    if not isinstance(idata, xr.DataTree) or "posterior" not in idata.children:
        raise TypeError(
            f"idata must be an xarray.DataTree with a posterior group (the result of fit), got "
            f"{type(idata).__name__}"
        )
    X_new = check_finite_array("X_new", X_new)
    if max_draws is not None:
        max_draws = check_positive_int("max_draws", max_draws)
    random_seed = check_positive_int("random_seed", random_seed, minimum=0)
    posterior = idata["posterior"].to_dataset()
    missing = [v for v in ("intercept", "coefficients", "noise_sd") if v not in posterior]
    if missing:
        raise ValueError(
            f"idata has no posterior variable(s) {missing}: is it a fit of "
            "bayesian_linear_regression?"
        )
    stacked = (
        posterior[["intercept", "coefficients", "noise_sd"]]
        .stack(sample=("chain", "draw"))
        .transpose("sample", ...)
    )
    n_total = stacked.sizes["sample"]
    if max_draws is not None and n_total > max_draws:
        stacked = stacked.isel(sample=np.linspace(0, n_total - 1, max_draws).astype(int))
    coefficients = stacked["coefficients"].values
    if X_new.ndim == 1:
        X_new = X_new[:, None]
    if X_new.shape[1] != coefficients.shape[1]:
        raise ValueError(
            f"X_new must have {coefficients.shape[1]} column(s), got shape {X_new.shape}"
        )
    mean = stacked["intercept"].values[:, None] + coefficients @ X_new.T
    if include_noise:
        rng = np.random.default_rng(random_seed)
        mean = mean + rng.normal(size=mean.shape) * stacked["noise_sd"].values[:, None]
    return mean


def grid_design(X: np.ndarray, x_grid: np.ndarray, feature_index: int = 0) -> np.ndarray:
    """Rows that vary descriptor ``feature_index`` over ``x_grid``, the others at their mean."""
    X = check_finite_array("X", X, ndim=2)
    x_grid = check_finite_array("x_grid", x_grid, ndim=1)
    if isinstance(feature_index, bool) or not isinstance(feature_index, int | np.integer):
        raise TypeError(f"feature_index must be an integer, got {feature_index!r}")
    if not 0 <= feature_index < X.shape[1]:
        raise ValueError(f"feature_index must be in [0, {X.shape[1] - 1}], got {feature_index}")
    design = np.tile(X.mean(axis=0), (len(x_grid), 1))
    design[:, feature_index] = np.asarray(x_grid, dtype=float)
    return design
