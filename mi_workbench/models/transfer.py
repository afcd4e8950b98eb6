"""Small data: transfer learning across tasks and across fidelities.

Two PyMC model builders (each returns a ``pm.Model``) and four multi-fidelity regressors with one
interface, so that a benchmark or a lesson can compare them on the same splits.

Model builders
--------------
:func:`hierarchical_multitask`
    Linear regressions of related tasks (e.g. the same property of several alloy families, or one
    property measured in several laboratories) with partial pooling: each task's intercept and
    coefficients are drawn from a shared population distribution whose spread is learned. Small
    tasks borrow strength from the large ones. Non-centred parameterisation, standardised scales.
:func:`ar1_multifidelity_gp`
    The Kennedy-O'Hagan autoregressive model (Kennedy & O'Hagan, Biometrika 87, 1, 2000):
    ``f_high(x) = rho * f_low(x) + delta(x)`` with independent Gaussian processes ``f_low`` and
    ``delta``, fitted jointly to cheap (low-fidelity) and expensive (high-fidelity) data. Exact
    (the marginal likelihood of the stacked data with the AR(1) block covariance; a few hundred
    points) or with the Hilbert-space approximation ``approximation="hsgp"`` (``pm.gp.HSGP``;
    thousands of low-fidelity points, at most 3 input dimensions).

The regressors with one ``fit``/``predict`` interface built on these models (single fidelity,
AR(1), difference and proxy transfer) are in :mod:`mi_workbench.design.multifidelity`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import (
    check_choice,
    check_finite_array,
    check_finite_number,
    check_positive_int,
)
from mi_workbench.models.regression import Standardization, _as_matrix

#: Kernels of the Gaussian processes (names as in :mod:`mi_workbench.design.surrogates`).
TRANSFER_KERNELS = ("matern52", "rbf")
#: Pooling choices of :func:`hierarchical_multitask`.
POOLING = ("partial", "none", "complete")
#: Approximations of :func:`ar1_multifidelity_gp` (``None`` is exact).
AR1_APPROXIMATIONS = (None, "hsgp")
#: Default HSGP basis functions per input dimension, by the number of inputs.
_HSGP_DEFAULT_M = {1: 40, 2: 12, 3: 6}
_JITTER = 1e-4
#: Noise-variance floor of the HSGP likelihood (standardised units): the basis truncation is an
#: approximation error of this order, and noise-free simulation data otherwise make a funnel.
_HSGP_NUGGET = 1e-3


# --------------------------------------------------------------------------------------------
# hierarchical multi-task regression


def _task_codes(task, n_obs: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(task, pd.Series):
        task = task.to_numpy()
    labels = np.asarray(task)
    if labels.ndim != 1:
        raise ValueError(
            f"task must be 1-dimensional (one label per observation), got {labels.shape}"
        )
    if len(labels) != n_obs:
        raise ValueError(
            f"task must have one label per observation: got {len(labels)} labels for {n_obs} "
            "observations"
        )
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise ValueError("task contains NaN or an infinite value; give every observation a task")
    if labels.dtype.kind == "O" and any(v is None for v in labels):
        raise ValueError("task contains None; give every observation a task")
    try:
        names, codes = np.unique(labels, return_inverse=True)
    except TypeError:
        raise TypeError("task labels must be all numbers or all text, got a mix of types") from None
    return names, codes.astype(np.int64)


def hierarchical_multitask(
    X: np.ndarray | pd.DataFrame,
    y: np.ndarray | pd.Series,
    task: Sequence | np.ndarray | pd.Series,
    *,
    feature_names: Sequence[str] | None = None,
    target_name: str = "y",
    pooling: str = "partial",
    standardize: bool = True,
):
    """Build a multi-task linear regression with partial pooling across tasks.

    For task ``t``: ``y = intercept[t] + X @ coefficients[t] + noise``, with (on the standardised
    scale) ``intercept[t] = mu_a + tau_a * z_a[t]`` and ``coefficients[t, j] = mu_b[j] + tau_b[j]
    * z_b[t, j]``, ``z ~ Normal(0, 1)`` (non-centred, so that small task spreads sample without
    divergences). Priors: population means ``mu ~ Normal(0, 1)``, spreads ``tau ~ HalfNormal(1)``,
    noise sd (shared by all tasks) ``~ HalfNormal(1)``. Descriptors and target are standardised
    over all tasks together.

    Parameters
    ----------
    X : array (n_obs, n_features) or pandas.DataFrame
        Descriptors, the same columns for every task.
    y : array (n_obs,)
        Target property.
    task : array (n_obs,)
        Task label of each observation (numbers or text); the sorted unique labels become the
        ``task`` coordinate.
    feature_names : list of str, optional
        Names of the descriptors when ``X`` is an array.
    target_name : str
        Name of the target (used in labels).
    pooling : {"partial", "none", "complete"}
        ``"partial"``: the hierarchical model (needs >= 2 tasks). ``"none"``: independent
        regressions per task with ``Normal(0, 1)`` priors. ``"complete"``: one regression for all
        tasks. The last two are the baselines that partial pooling is compared with.
    standardize : bool
        Centre and scale descriptors and target (recommended).

    Returns
    -------
    pymc.Model
        Deterministics in the data's units: ``intercept`` (dim ``task``), ``coefficients``
        (``task``, ``feature``), ``noise_sd``; with partial pooling also
        ``population_intercept``, ``population_coefficients`` (``feature``) and the between-task
        spreads ``task_intercept_sd``, ``task_coefficient_sd`` (``feature``). Data as ``pm.Data``:
        ``X``, ``y``, ``task_index``. Predict with :func:`predict_multitask`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> task = np.repeat(["a", "b", "c"], 10)
    >>> X = rng.normal(size=(30, 1))
    >>> y = np.repeat([1.0, 1.5, 0.5], 10) + 2.0 * X[:, 0] + rng.normal(0, 0.1, 30)
    >>> model = hierarchical_multitask(X, y, task)
    >>> list(model.coords["task"])
    ['a', 'b', 'c']
    """
    import pymc as pm

    pooling = check_choice("pooling", pooling, POOLING)
    X, names = _as_matrix(X, feature_names)
    if isinstance(y, pd.Series):
        y = y.to_numpy(dtype=float, na_value=np.nan)
    from mi_workbench.data.tables import check_xy

    X, y = check_xy(X, y)
    if len(names) != X.shape[1]:
        raise ValueError(f"feature_names has {len(names)} name(s) but X has {X.shape[1]} column(s)")
    task_names, codes = _task_codes(task, len(y))
    if pooling == "partial" and len(task_names) < 2:
        raise ValueError(
            f"partial pooling needs at least 2 tasks, got {len(task_names)} "
            f"({task_names.tolist()}); use pooling='complete' for a single task"
        )
    scaling = Standardization.from_data(X, y, standardize)
    coords = {"feature": names, "task": task_names.tolist(), "obs": np.arange(len(y))}
    with pm.Model(coords=coords) as model:
        X_data = pm.Data("X", X, dims=("obs", "feature"))
        y_data = pm.Data("y", y, dims="obs")
        task_index = pm.Data("task_index", codes, dims="obs")
        x_center = pm.Data("x_center", scaling.x_center, dims="feature")
        x_scale = pm.Data("x_scale", scaling.x_scale, dims="feature")
        y_center = pm.Data("y_center", scaling.y_center)
        y_scale = pm.Data("y_scale", scaling.y_scale)

        if pooling == "partial":
            mu_a = pm.Normal("population_intercept_std", 0.0, 1.0)
            mu_b = pm.Normal("population_coefficients_std", 0.0, 1.0, dims="feature")
            tau_a = pm.HalfNormal("task_intercept_sd_std", 1.0)
            tau_b = pm.HalfNormal("task_coefficient_sd_std", 1.0, dims="feature")
            z_a = pm.Normal("intercept_offset", 0.0, 1.0, dims="task")
            z_b = pm.Normal("coefficients_offset", 0.0, 1.0, dims=("task", "feature"))
            intercept_std = pm.Deterministic("intercept_std", mu_a + tau_a * z_a, dims="task")
            coefficients_std = pm.Deterministic(
                "coefficients_std", mu_b + tau_b * z_b, dims=("task", "feature")
            )
        elif pooling == "none":
            intercept_std = pm.Normal("intercept_std", 0.0, 1.0, dims="task")
            coefficients_std = pm.Normal("coefficients_std", 0.0, 1.0, dims=("task", "feature"))
        else:
            a = pm.Normal("shared_intercept_std", 0.0, 1.0)
            b = pm.Normal("shared_coefficients_std", 0.0, 1.0, dims="feature")
            intercept_std = pm.Deterministic(
                "intercept_std", a + 0.0 * pm.math.ones(len(task_names)), dims="task"
            )
            coefficients_std = pm.Deterministic(
                "coefficients_std",
                b[None, :] + 0.0 * pm.math.ones((len(task_names), 1)),
                dims=("task", "feature"),
            )
        noise_std = pm.HalfNormal("noise_std", 1.0)

        Z = (X_data - x_center) / x_scale
        mean_std = intercept_std[task_index] + (Z * coefficients_std[task_index]).sum(axis=-1)
        pm.Normal(
            "y_obs",
            mu=y_center + y_scale * mean_std,
            sigma=y_scale * noise_std,
            observed=y_data,
            dims="obs",
        )

        coefficients = pm.Deterministic(
            "coefficients", coefficients_std * y_scale / x_scale, dims=("task", "feature")
        )
        pm.Deterministic(
            "intercept",
            y_center + y_scale * intercept_std - (coefficients * x_center).sum(axis=-1),
            dims="task",
        )
        pm.Deterministic("noise_sd", noise_std * y_scale)
        if pooling == "partial":
            population_coefficients = pm.Deterministic(
                "population_coefficients", mu_b * y_scale / x_scale, dims="feature"
            )
            pm.Deterministic(
                "population_intercept",
                y_center + y_scale * mu_a - (population_coefficients * x_center).sum(),
            )
            pm.Deterministic("task_intercept_sd", tau_a * y_scale)
            pm.Deterministic("task_coefficient_sd", tau_b * y_scale / x_scale, dims="feature")
    model.mi_target_name = target_name
    model.mi_pooling = pooling
    return model


def predict_multitask(
    idata: xr.DataTree,
    X_new: np.ndarray | pd.DataFrame,
    task_new: Sequence | np.ndarray,
    *,
    include_noise: bool = False,
    max_draws: int | None = 1000,
    random_seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior predictive mean and sd of :func:`hierarchical_multitask` at new rows (NumPy).

    Parameters
    ----------
    idata : xarray.DataTree
        Result of fitting :func:`hierarchical_multitask`.
    X_new : array (n_new, n_features)
        Descriptor rows in the data's units.
    task_new : array (n_new,)
        Task label of each row. A label that was not in the training data is predicted from the
        population distribution (a new task drawn from it, its own intercept at the descriptors'
        centre and its own slopes about that centre, as the model defines them); this needs
        partial pooling and the fit's ``constant_data`` group (``x_center``).
    include_noise : bool
        Include the measurement noise (predict new measurements, not the mean response).
    max_draws : int or None
        Thin to at most this many posterior draws.
    random_seed : int
        Seed of the draws for new tasks and of the noise.

    Returns
    -------
    mean, sd : numpy.ndarray, shape (n_new,)

    Examples
    --------
    >>> mean, sd = predict_multitask(idata, [[0.5]], ["a"])  # doctest: +SKIP
    """
    if not isinstance(idata, xr.DataTree) or "posterior" not in idata.children:
        raise TypeError(
            "idata must be an xarray.DataTree with a posterior group (the result of fitting "
            f"hierarchical_multitask), got {type(idata).__name__}"
        )
    posterior = idata["posterior"].to_dataset()
    for name in ("intercept", "coefficients", "noise_sd"):
        if name not in posterior:
            raise ValueError(
                f"idata has no posterior variable {name!r}: is it a fit of hierarchical_multitask?"
            )
    stacked = posterior.stack(sample=("chain", "draw")).transpose("sample", ...)
    n_total = stacked.sizes["sample"]
    if max_draws is not None and n_total > max_draws:
        stacked = stacked.isel(sample=np.linspace(0, n_total - 1, max_draws).astype(int))
    coefficients = stacked["coefficients"].values  # (s, task, feature)
    intercept = stacked["intercept"].values  # (s, task)
    X_new, _ = _as_matrix(X_new, None, name="X_new")
    X_new = check_finite_array("X_new", X_new)
    if X_new.ndim == 1:
        X_new = X_new[:, None]
    if X_new.ndim != 2 or X_new.shape[1] != coefficients.shape[2]:
        raise ValueError(
            f"X_new must have {coefficients.shape[2]} column(s) like the training descriptors, "
            f"got shape {X_new.shape}"
        )
    labels = np.asarray(task_new)
    if labels.ndim == 0:
        labels = np.full(len(X_new), labels)
    if len(labels) != len(X_new):
        raise ValueError(
            f"task_new must have one label per row of X_new: got {len(labels)} for {len(X_new)}"
        )
    known = list(stacked["task"].values)
    rng = np.random.default_rng(random_seed)
    n_samples = intercept.shape[0]
    x_center = None
    draws = np.empty((n_samples, len(X_new)))
    for i, (row, label) in enumerate(zip(X_new, labels, strict=True)):
        matches = [k for k, name in enumerate(known) if name == label]
        if matches:
            k = matches[0]
            draws[:, i] = intercept[:, k] + coefficients[:, k, :] @ row
            continue
        if "population_intercept" not in stacked:
            raise ValueError(
                f"task {label!r} is not one of the training tasks {known}; a new task can only be "
                "predicted with pooling='partial' (from the population distribution)"
            )
        # the task's own deviations are drawn where the model defines them: the intercept at
        # the descriptors' centre, the slopes about it (a new task is no better known at x = 0)
        if x_center is None:
            x_center = _descriptor_centre(idata, coefficients.shape[2])
        a = (
            stacked["population_intercept"].values
            + stacked["population_coefficients"].values @ row
            + rng.standard_normal(n_samples) * stacked["task_intercept_sd"].values
        )
        b = rng.standard_normal(coefficients[:, 0, :].shape) * stacked["task_coefficient_sd"].values
        draws[:, i] = a + b @ (row - x_center)
    if include_noise:
        draws = draws + rng.standard_normal(draws.shape) * stacked["noise_sd"].values[:, None]
    return draws.mean(axis=0), draws.std(axis=0, ddof=1)


def _descriptor_centre(idata: xr.DataTree, n_features: int) -> np.ndarray:
    """The descriptors' centre ``x_center`` that :func:`hierarchical_multitask` standardised by."""
    if "constant_data" not in idata.children or "x_center" not in idata["constant_data"]:
        raise ValueError(
            "idata has no constant_data/x_center: a new task is predicted about the descriptors' "
            "centre used by hierarchical_multitask; keep the constant_data group of the fit"
        )
    centre = np.asarray(idata["constant_data"]["x_center"].values, dtype=float).reshape(-1)
    if centre.size != n_features:
        raise ValueError(
            f"constant_data/x_center has {centre.size} value(s) for {n_features} descriptor(s)"
        )
    return centre


# --------------------------------------------------------------------------------------------
# input checks shared by the multi-fidelity models


def check_fidelity_data(
    X_low, y_low, X_high, y_high
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate low- and high-fidelity data: finite, matching rows, the same descriptors.

    A 1-D ``X_low``/``X_high`` is read as one descriptor. Returns float arrays, ``X`` 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> arrays = check_fidelity_data([0.0, 0.5, 1.0], [1, 2, 3], [0.5, 1.0], [4, 5])
    >>> arrays[2].shape
    (2, 1)
    """
    arrays = []
    for x_name, y_name, X, y in (
        ("X_low", "y_low", X_low, y_low),
        ("X_high", "y_high", X_high, y_high),
    ):
        X = check_finite_array(x_name, X.to_numpy() if isinstance(X, pd.DataFrame) else X)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2:
            raise ValueError(
                f"{x_name} must be 2-dimensional (n_points, n_features), got {X.shape}"
            )
        y = check_finite_array(y_name, y.to_numpy() if isinstance(y, pd.Series) else y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"{y_name} must be 1-dimensional, got shape {y.shape}")
        if len(y) != len(X):
            raise ValueError(
                f"{x_name} and {y_name} must have the same number of points: {x_name} has "
                f"{len(X)} row(s), {y_name} has {len(y)} value(s)"
            )
        if len(y) < 2:
            raise ValueError(f"{y_name} needs at least 2 points, got {len(y)}")
        arrays += [X, y]
    if arrays[0].shape[1] != arrays[2].shape[1]:
        raise ValueError(
            "X_low and X_high must have the same descriptors (columns): X_low has "
            f"{arrays[0].shape[1]} column(s), X_high has {arrays[2].shape[1]}"
        )
    return tuple(arrays)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Kennedy-O'Hagan AR(1) in PyMC


@dataclass(frozen=True)
class AR1Spec:
    """What :func:`predict_ar1_multifidelity` needs to know about a built AR(1) model."""

    kernel: str
    ard: bool
    approximation: str | None
    x_center: np.ndarray
    x_scale: np.ndarray
    y_low_center: float
    y_low_scale: float
    y_high_center: float
    y_high_scale: float
    n_low: int
    hsgp_center: np.ndarray | None = None
    hsgp_L: np.ndarray | None = None
    hsgp_m: tuple[int, ...] | None = None


def _pm_cov(kernel: str, n_dims: int, ls):
    import pymc as pm

    base = pm.gp.cov.Matern52 if kernel == "matern52" else pm.gp.cov.ExpQuad
    return base(n_dims, ls=ls)


def _np_kernel(A: np.ndarray, B: np.ndarray, ls, kernel: str) -> np.ndarray:
    r2 = (((A[:, None, :] - B[None, :, :]) / ls) ** 2).sum(-1)
    if kernel == "rbf":
        return np.exp(-0.5 * r2)
    r = np.sqrt(r2)
    return (1.0 + math.sqrt(5.0) * r + 5.0 / 3.0 * r2) * np.exp(-math.sqrt(5.0) * r)


def _check_n_basis(n_basis) -> int | tuple[int, ...] | None:
    """``None``, one count (>= 2) for every input, or a list of counts (>= 2) per input."""
    if n_basis is None:
        return None
    if isinstance(n_basis, (int, np.integer)) and not isinstance(n_basis, bool):
        return check_positive_int("n_basis", n_basis, minimum=2)
    if isinstance(n_basis, str) or not isinstance(n_basis, (Sequence, np.ndarray)):
        raise TypeError(
            f"n_basis must be an integer >= 2 or a list of them (one per input), got {n_basis!r}"
        )
    if len(n_basis) == 0:
        raise ValueError("n_basis is empty; give one number of basis functions per input")
    return tuple(check_positive_int("n_basis", v, minimum=2) for v in n_basis)


def hsgp_basis(X_centered: np.ndarray, L: np.ndarray, m: Sequence[int]) -> np.ndarray:
    """Laplacian eigenfunctions on ``[-L, L]`` (Dirichlet), as ``pm.gp.HSGP`` uses, in NumPy.

    Parameters
    ----------
    X_centered : array, shape (n, d)
        Inputs, centred on the middle of the domain (finite).
    L : array, shape (d,)
        Half widths of the domain per input (> 0).
    m : sequence of int, length d
        Basis functions per input (>= 1 each).

    Returns an array (n, prod(m)) in the column order of ``pm.gp.hsgp_approx.calc_eigenvalues``.

    Examples
    --------
    >>> hsgp_basis(np.zeros((1, 1)), np.array([1.0]), [3]).round(3)
    array([[ 1.,  0., -1.]])
    """
    from pymc.gp.hsgp_approx import calc_eigenvalues

    X_centered = check_finite_array("X_centered", X_centered, ndim=2)
    L = check_finite_array("L", L, ndim=1)
    if np.any(L <= 0):
        raise ValueError(f"L must hold half widths > 0, got {L.tolist()}")
    if len(L) != X_centered.shape[1]:
        raise ValueError(
            f"L must give one half width per column of X_centered ({X_centered.shape[1]}), "
            f"got {len(L)}"
        )
    if isinstance(m, str) or not isinstance(m, (Sequence, np.ndarray)):
        raise TypeError(f"m must be a list of basis-function counts (one per input), got {m!r}")
    m = [check_positive_int("m", v) for v in m]
    if len(m) != len(L):
        raise ValueError(f"m must give one count per input ({len(L)}), got {len(m)}")
    eigvals = np.asarray(calc_eigenvalues(L, list(m)))
    phi = np.ones((len(X_centered), eigvals.shape[0]))
    for k in range(X_centered.shape[1]):
        omega = np.sqrt(eigvals[:, k])
        phi *= np.sin(omega * (X_centered[:, k : k + 1] + L[k])) / np.sqrt(L[k])
    return phi


def _hsgp_statistics(spec: AR1Spec, X_low, y_low, X_high, y_high) -> dict[str, np.ndarray]:
    """Sufficient statistics of the data for the HSGP likelihood (standardised units)."""
    phi_low = hsgp_basis(
        (X_low - spec.x_center) / spec.x_scale - spec.hsgp_center, spec.hsgp_L, spec.hsgp_m
    )
    phi_high = hsgp_basis(
        (X_high - spec.x_center) / spec.x_scale - spec.hsgp_center, spec.hsgp_L, spec.hsgp_m
    )
    r_low = (y_low - spec.y_low_center) / spec.y_low_scale
    r_high = (y_high - spec.y_high_center) / spec.y_high_scale
    return {
        "hsgp_gram_low": phi_low.T @ phi_low,
        "hsgp_gram_high": phi_high.T @ phi_high,
        "hsgp_projection_low": phi_low.T @ r_low,
        "hsgp_projection_high": phi_high.T @ r_high,
        "hsgp_sum_basis_high": phi_high.sum(axis=0),
        "hsgp_moments": np.array(
            [len(r_low), r_low @ r_low, len(r_high), r_high @ r_high, r_high.sum()]
        ),
    }


def _hsgp_system(stats, a, b, rho, delta_mean, low_var, high_var, xp):
    """Matrix ``A = G^T N^-1 G + I`` and vector ``G^T N^-1 r`` of the HSGP AR(1) model.

    ``G = [[Phi_low diag(a), 0], [rho Phi_high diag(a), Phi_high diag(b)]]`` maps the 2m
    standard-normal coefficients to the stacked latent values; ``N`` is the diagonal noise
    covariance. ``xp`` is ``numpy`` or ``pytensor.tensor``.
    """
    g_low, g_high = stats["hsgp_gram_low"], stats["hsgp_gram_high"]
    p_low = stats["hsgp_projection_low"]
    p_high = stats["hsgp_projection_high"] - delta_mean * stats["hsgp_sum_basis_high"]
    aa, ab, bb = a[:, None] * a[None, :], a[:, None] * b[None, :], b[:, None] * b[None, :]
    a11 = aa * (g_low / low_var + rho**2 * g_high / high_var)
    a12 = rho * ab * g_high / high_var
    a22 = bb * g_high / high_var
    A = xp.concatenate(
        [xp.concatenate([a11, a12], axis=1), xp.concatenate([a12.T, a22], axis=1)], axis=0
    )
    A = A + xp.eye(2 * a.shape[0])
    v = xp.concatenate([a * (p_low / low_var + rho * p_high / high_var), b * p_high / high_var])
    return A, v


def _hsgp_log_likelihood(stats, a, b, rho, delta_mean, low_var, high_var):
    """Log marginal likelihood (standardised units) with the HSGP coefficients integrated out."""
    import pytensor.tensor as pt
    from pytensor.tensor.linalg import cholesky, solve_triangular

    A, v = _hsgp_system(stats, a, b, rho, delta_mean, low_var, high_var, pt)
    chol = cholesky(A, lower=True)
    u = solve_triangular(chol, v, lower=True)
    n_low, rr_low, n_high, rr_high, sum_high = (stats["hsgp_moments"][i] for i in range(5))
    rr_high = rr_high - 2 * delta_mean * sum_high + n_high * delta_mean**2
    quad = rr_low / low_var + rr_high / high_var - (u * u).sum()
    logdet = 2 * pt.log(pt.diag(chol)).sum() + n_low * pt.log(low_var) + n_high * pt.log(high_var)
    return -0.5 * (quad + logdet + (n_low + n_high) * math.log(2 * math.pi))


def ar1_multifidelity_gp(
    X_low: np.ndarray,
    y_low: np.ndarray,
    X_high: np.ndarray,
    y_high: np.ndarray,
    *,
    kernel: str = "matern52",
    ard: bool = True,
    approximation: str | None = None,
    n_basis: int | Sequence[int] | None = None,
    boundary_factor: float = 1.5,
    feature_names: Sequence[str] | None = None,
):
    """Build the Kennedy-O'Hagan model ``f_high(x) = rho * f_low(x) + delta(x)`` in PyMC.

    ``f_low`` and ``delta`` are independent zero-mean GPs (Matern 5/2 or squared exponential, one
    length scale per input with ``ard=True``); ``delta`` has a constant mean ``delta_mean``. Each
    fidelity has its own Gaussian noise. Inputs are standardised over both fidelities together;
    each target by its own mean and sd, so that every free parameter is of order 1:
    length scales ~ LogNormal(0, 1), amplitudes ~ HalfNormal(1) (``delta``: 1.5),
    ``rho_std`` ~ Normal(0, 2) (wide: the sd of a few high-fidelity points is a rough scale),
    ``delta_mean`` ~ Normal(0, 1), noise sds ~ HalfNormal(0.3). ``rho`` in the data's units
    is ``rho_std * sd(y_high) / sd(y_low)``.

    Parameters
    ----------
    X_low, y_low : arrays (n_low, n_features), (n_low,)
        Cheap, abundant data.
    X_high, y_high : arrays (n_high, n_features), (n_high,)
        Expensive, scarce data; the same descriptors as ``X_low``.
    kernel : {"matern52", "rbf"}
        Covariance function of both GPs.
    ard : bool
        One length scale per input (True) or one shared length scale.
    approximation : {None, "hsgp"}
        ``None``: exact marginal likelihood of the stacked data (cost ~ (n_low + n_high)^3 per
        gradient: up to a few hundred points). ``"hsgp"``: ``pm.gp.HSGP`` basis-function
        approximation of both GPs with non-centred coefficients (cost ~ n m per gradient:
        thousands of points; at most 3 inputs).
    n_basis : int or list of int, optional
        HSGP basis functions per input (default 40, 12, 6 for 1, 2, 3 inputs).
    boundary_factor : float
        HSGP box half-width as a multiple of the (standardised, centred) input half-range.
    feature_names : list of str, optional
        Names of the inputs (the ``feature`` coordinate).

    Returns
    -------
    pymc.Model
        Free variables ``low_lengthscale``, ``low_amplitude``, ``delta_lengthscale``,
        ``delta_amplitude``, ``delta_mean``, ``rho_std``, ``low_noise``, ``high_noise``
        (standardised); deterministics ``rho``, ``low_noise_sd``, ``high_noise_sd`` in the data's
        units (and ``low_sqrt_psd``, ``delta_sqrt_psd`` with HSGP). Data as ``pm.Data``: exact:
        ``X_low``, ``y_low``, ``X_high``, ``y_high``; HSGP: their sufficient statistics
        (``hsgp_gram_low``, ...; rebuild the model for other data). ``model.mi_ar1`` holds the
        :class:`AR1Spec` used by :func:`predict_ar1_multifidelity`.

    Notes
    -----
    With ``approximation="hsgp"`` both GPs are expanded in the same ``m`` Laplacian eigenfunctions
    of ``pm.gp.HSGP`` (box ``[-L, L]``), ``f = Phi diag(sqrt_psd) beta`` with
    ``beta ~ Normal(0, I)``. Given the hyperparameters the model is linear-Gaussian in the 2m
    coefficients, so they are integrated out exactly (a ``pm.Potential`` with the marginal
    likelihood, costing O(m^3) per gradient whatever the number of points) and NUTS samples only
    the eight hyperparameters; predictions condition on the coefficients analytically. Sampling
    the coefficients instead (the latent, non-centred form) mixed far worse on noise-free
    simulation data.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 20)[:, None]
    >>> high = lambda x: (6 * x - 2) ** 2 * np.sin(12 * x - 4)
    >>> model = ar1_multifidelity_gp(
    ...     x, 0.5 * high(x[:, 0]) + 10 * (x[:, 0] - 0.5) - 5, x[::4], high(x[::4, 0])
    ... )
    >>> model.mi_ar1.n_low
    20
    """
    import pymc as pm
    import pytensor.tensor as pt

    kernel = check_choice("kernel", kernel, TRANSFER_KERNELS)
    if approximation not in AR1_APPROXIMATIONS:
        raise ValueError(
            f"approximation must be one of {list(AR1_APPROXIMATIONS)}, got {approximation!r}"
        )
    n_basis = _check_n_basis(n_basis)
    boundary_factor = check_finite_number("boundary_factor", boundary_factor)
    if boundary_factor < 1.2:
        raise ValueError(f"boundary_factor must be >= 1.2, got {boundary_factor!r}")
    X_low, y_low, X_high, y_high = check_fidelity_data(X_low, y_low, X_high, y_high)
    n_low, n_high, d = len(y_low), len(y_high), X_low.shape[1]
    names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(d)]
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} name(s) but X has {d} column(s)")
    X_all = np.vstack([X_low, X_high])
    x_center = X_all.mean(axis=0)
    x_scale = X_all.std(axis=0)
    if (x_scale == 0).any():
        raise ValueError(
            f"descriptor column(s) {np.flatnonzero(x_scale == 0).tolist()} are constant over "
            "both fidelities: drop them"
        )
    for name, y in (("y_low", y_low), ("y_high", y_high)):
        if y.std() == 0:
            raise ValueError(f"{name} is constant; there is nothing to learn from it")
    spec_args = dict(
        kernel=kernel,
        ard=bool(ard),
        approximation=approximation,
        x_center=x_center,
        x_scale=x_scale,
        y_low_center=float(y_low.mean()),
        y_low_scale=float(y_low.std()),
        y_high_center=float(y_high.mean()),
        y_high_scale=float(y_high.std()),
        n_low=n_low,
    )
    Z_all = (X_all - x_center) / x_scale
    if approximation == "hsgp":
        if d > 3:
            raise ValueError(
                f"approximation='hsgp' needs at most 3 inputs (the number of basis functions "
                f"grows as m^d), got {d}; use approximation=None on a few hundred points, or "
                "AR1MultiFidelityGP(full_bayes=False)"
            )
        if n_basis is None:
            m = (_HSGP_DEFAULT_M[d],) * d
        elif isinstance(n_basis, int):
            m = (n_basis,) * d
        else:
            m = n_basis
            if len(m) != d:
                raise ValueError(f"n_basis must give one number per input ({d}), got {len(m)}")
        center = (Z_all.max(axis=0) + Z_all.min(axis=0)) / 2
        L = boundary_factor * np.abs(Z_all - center).max(axis=0)
        spec_args.update(hsgp_center=center, hsgp_L=L, hsgp_m=m)
    spec = AR1Spec(**spec_args)

    ls_dims = "feature" if ard else None
    coords = {"feature": names}
    with pm.Model(coords=coords) as model:
        low_ls = pm.LogNormal("low_lengthscale", 0.0, 1.0, dims=ls_dims)
        low_amp = pm.HalfNormal("low_amplitude", 1.0)
        delta_ls = pm.LogNormal("delta_lengthscale", 0.0, 1.0, dims=ls_dims)
        delta_amp = pm.HalfNormal("delta_amplitude", 1.5)
        delta_mean = pm.Normal("delta_mean", 0.0, 1.0)
        rho_std = pm.Normal("rho_std", 0.0, 2.0)
        low_noise = pm.HalfNormal("low_noise", 0.3)
        high_noise = pm.HalfNormal("high_noise", 0.3)
        cov_low = low_amp**2 * _pm_cov(kernel, d, low_ls)
        cov_delta = delta_amp**2 * _pm_cov(kernel, d, delta_ls)

        scale = np.r_[np.full(n_low, spec.y_low_scale), np.full(n_high, spec.y_high_scale)]
        center = np.r_[np.full(n_low, spec.y_low_center), np.full(n_high, spec.y_high_center)]
        if approximation is None:
            X_low_data = pm.Data("X_low", X_low)
            y_low_data = pm.Data("y_low", y_low)
            X_high_data = pm.Data("X_high", X_high)
            y_high_data = pm.Data("y_high", y_high)
            Z = (pt.concatenate([X_low_data, X_high_data], axis=0) - x_center) / x_scale
            K_low = cov_low(Z)
            s = pt.concatenate([pt.ones(n_low), rho_std * pt.ones(n_high)])
            K = s[:, None] * s[None, :] * K_low
            K = pt.inc_subtensor(K[n_low:, n_low:], cov_delta(Z[n_low:]))
            noise_var = pt.concatenate(
                [pt.full(n_low, low_noise**2), pt.full(n_high, high_noise**2)]
            )
            K = K + pt.diag(noise_var + _JITTER)
            mu = pt.concatenate([pt.zeros(n_low), pt.full(n_high, delta_mean)])
            pm.MvNormal(
                "y_obs",
                mu=center + scale * mu,
                cov=K * np.outer(scale, scale),
                observed=pt.concatenate([y_low_data, y_high_data]),
            )
        else:
            model.add_coord("basis", np.arange(int(np.prod(m))))
            # pm.gp.HSGP gives the square roots of the spectral densities at the basis
            # frequencies; the coefficients are integrated out analytically (see Notes).
            gp_low = pm.gp.HSGP(m=list(m), L=list(spec.hsgp_L), cov_func=cov_low)
            gp_delta = pm.gp.HSGP(m=list(m), L=list(spec.hsgp_L), cov_func=cov_delta)
            a = pm.Deterministic(
                "low_sqrt_psd", gp_low.prior_linearized(Z_all - spec.hsgp_center)[1], dims="basis"
            )
            b = pm.Deterministic(
                "delta_sqrt_psd",
                gp_delta.prior_linearized(Z_all - spec.hsgp_center)[1],
                dims="basis",
            )
            stats = {
                name: pm.Data(name, value)
                for name, value in _hsgp_statistics(spec, X_low, y_low, X_high, y_high).items()
            }
            loglik = _hsgp_log_likelihood(
                stats,
                a,
                b,
                rho_std,
                delta_mean,
                low_noise**2 + _HSGP_NUGGET,
                high_noise**2 + _HSGP_NUGGET,
            )
            pm.Potential(
                "y_log_likelihood",
                loglik - n_low * math.log(spec.y_low_scale) - n_high * math.log(spec.y_high_scale),
            )
        pm.Deterministic("rho", rho_std * spec.y_high_scale / spec.y_low_scale)
        pm.Deterministic("low_noise_sd", low_noise * spec.y_low_scale)
        pm.Deterministic("high_noise_sd", high_noise * spec.y_high_scale)
    model.mi_ar1 = spec
    return model


def _thin(posterior: xr.Dataset, names: Sequence[str], max_draws: int | None) -> xr.Dataset:
    stacked = posterior[list(names)].stack(sample=("chain", "draw")).transpose("sample", ...)
    n_total = stacked.sizes["sample"]
    if max_draws is not None and n_total > max_draws:
        stacked = stacked.isel(sample=np.linspace(0, n_total - 1, max_draws).astype(int))
    return stacked


def predict_ar1_multifidelity(
    idata: xr.DataTree,
    model,
    X_new: np.ndarray,
    *,
    fidelity: str = "high",
    max_draws: int | None = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and sd of the noise-free ``f_high`` (or ``f_low``) at new inputs.

    For each of at most ``max_draws`` posterior draws of the hyperparameters, the exact model
    gives the Gaussian conditional of the GPs given both data sets; the HSGP model evaluates its
    basis functions with the drawn weights. Means and variances are combined over draws (law of
    total variance). NumPy only: no compilation.

    Parameters
    ----------
    idata : xarray.DataTree
        Result of ``fit(model)``.
    model : pymc.Model
        The model from :func:`ar1_multifidelity_gp` (its data at call time are used).
    X_new : array (n_new, n_features)
        Inputs in the data's units.
    fidelity : {"high", "low"}
        Which function to predict.
    max_draws : int or None
        Posterior draws to average over.

    Returns
    -------
    mean, sd : numpy.ndarray, shape (n_new,)

    Examples
    --------
    >>> mean, sd = predict_ar1_multifidelity(idata, model, np.array([[0.3]]))  # doctest: +SKIP
    """
    if not isinstance(idata, xr.DataTree) or "posterior" not in idata.children:
        raise TypeError(
            "idata must be an xarray.DataTree with a posterior group (the result of "
            f"fit(model)), got {type(idata).__name__}"
        )
    spec = getattr(model, "mi_ar1", None)
    if not isinstance(spec, AR1Spec):
        raise TypeError("model must be built by ar1_multifidelity_gp (it has no mi_ar1 spec)")
    fidelity = check_choice("fidelity", fidelity, ("high", "low"))
    X_new = check_finite_array("X_new", X_new)
    if X_new.ndim == 1:
        X_new = X_new[:, None]
    d = len(spec.x_center)
    if X_new.ndim != 2 or X_new.shape[1] != d:
        raise ValueError(f"X_new must have shape (n_new, {d}), got {X_new.shape}")
    Z_new = (X_new - spec.x_center) / spec.x_scale
    posterior = idata["posterior"].to_dataset()
    names = ["low_lengthscale", "low_amplitude", "delta_lengthscale", "delta_amplitude"]
    names += ["delta_mean", "rho_std", "low_noise", "high_noise"]
    if spec.approximation == "hsgp":
        names += ["low_sqrt_psd", "delta_sqrt_psd"]
    missing = [n for n in names if n not in posterior]
    if missing:
        raise ValueError(
            f"idata has no posterior variable(s) {missing}: is it a fit of this model?"
        )
    draws = _thin(posterior, names, max_draws)
    values = {n: draws[n].values for n in names}
    n_samples = draws.sizes["sample"]
    center, scale = (
        (spec.y_high_center, spec.y_high_scale)
        if fidelity == "high"
        else (spec.y_low_center, spec.y_low_scale)
    )
    from scipy import linalg

    first = np.zeros(len(Z_new))
    second = np.zeros(len(Z_new))
    if spec.approximation == "hsgp":
        stats = {
            name: np.asarray(model[name].get_value(), dtype=float)
            for name in ("hsgp_gram_low", "hsgp_gram_high", "hsgp_projection_low")
            + ("hsgp_projection_high", "hsgp_sum_basis_high", "hsgp_moments")
        }
        phi = hsgp_basis(Z_new - spec.hsgp_center, spec.hsgp_L, spec.hsgp_m)
        for i in range(n_samples):
            a, b = values["low_sqrt_psd"][i], values["delta_sqrt_psd"][i]
            rho, dm = values["rho_std"][i], values["delta_mean"][i]
            low_var = values["low_noise"][i] ** 2 + _HSGP_NUGGET
            high_var = values["high_noise"][i] ** 2 + _HSGP_NUGGET
            A, v = _hsgp_system(stats, a, b, rho, dm, low_var, high_var, np)
            chol = linalg.cho_factor(A, lower=True)
            if fidelity == "high":
                G = np.hstack([rho * phi * a, phi * b])
                offset = dm
            else:
                G = np.hstack([phi * a, np.zeros_like(phi)])
                offset = 0.0
            mean = offset + G @ linalg.cho_solve(chol, v)
            V = linalg.solve_triangular(chol[0], G.T, lower=True)
            var = (V * V).sum(0)
            first += mean
            second += var + mean**2
        mean = first / n_samples
        var = np.maximum(second / n_samples - mean**2, 0.0)
        return center + scale * mean, scale * np.sqrt(var)

    X_low = np.asarray(model["X_low"].get_value(), dtype=float)
    X_high = np.asarray(model["X_high"].get_value(), dtype=float)
    y_low = np.asarray(model["y_low"].get_value(), dtype=float)
    y_high = np.asarray(model["y_high"].get_value(), dtype=float)
    n_low = len(X_low)
    Z = (np.vstack([X_low, X_high]) - spec.x_center) / spec.x_scale
    y = np.r_[
        (y_low - spec.y_low_center) / spec.y_low_scale,
        (y_high - spec.y_high_center) / spec.y_high_scale,
    ]
    for i in range(n_samples):
        ls_l = values["low_lengthscale"][i]
        ls_d = values["delta_lengthscale"][i]
        a2_l = values["low_amplitude"][i] ** 2
        a2_d = values["delta_amplitude"][i] ** 2
        rho = values["rho_std"][i]
        dm = values["delta_mean"][i]
        s = np.r_[np.ones(n_low), np.full(len(Z) - n_low, rho)]
        K = a2_l * np.outer(s, s) * _np_kernel(Z, Z, ls_l, spec.kernel)
        K[n_low:, n_low:] += a2_d * _np_kernel(Z[n_low:], Z[n_low:], ls_d, spec.kernel)
        noise = np.r_[
            np.full(n_low, values["low_noise"][i] ** 2),
            np.full(len(Z) - n_low, values["high_noise"][i] ** 2),
        ]
        K[np.diag_indices_from(K)] += noise + _JITTER
        mu = np.r_[np.zeros(n_low), np.full(len(Z) - n_low, dm)]
        k_low = a2_l * _np_kernel(Z_new, Z, ls_l, spec.kernel) * s[None, :]
        if fidelity == "high":
            k_star = rho * k_low
            k_star[:, n_low:] += a2_d * _np_kernel(Z_new, Z[n_low:], ls_d, spec.kernel)
            prior_var = rho**2 * a2_l + a2_d
            prior_mean = dm
        else:
            k_star, prior_var, prior_mean = k_low, a2_l, 0.0
        chol = linalg.cho_factor(K, lower=True)
        mean = prior_mean + k_star @ linalg.cho_solve(chol, y - mu)
        V = linalg.solve_triangular(chol[0], k_star.T, lower=True)
        var = np.maximum(prior_var - (V * V).sum(0), 0.0)
        first += mean
        second += var + mean**2
    mean = first / n_samples
    var = np.maximum(second / n_samples - mean**2, 0.0)
    return center + scale * mean, scale * np.sqrt(var)
