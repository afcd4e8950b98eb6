"""Surrogate models with uncertainty for adaptive design.

Every surrogate has the same small interface, which the acquisition functions and campaigns use:

- ``fit(X, y) -> self``: learn from ``n`` observations (``X`` of shape ``(n, d)``, ``y`` of shape
  ``(n,)``), choosing its own hyperparameters.
- ``predict(X) -> (mean, sd)``: the posterior mean and standard deviation of the *latent* function
  (measurement noise excluded) at each row of ``X``; ``sd > 0``. Large ``X`` is processed in chunks
  of ``chunk_size`` rows so that memory stays flat.
- ``sample(X, n_samples, rng) -> (n_samples, len(X))``: joint posterior draws of the latent
  function.
- ``sample_functions(n_samples, rng)``: the same draws as functions that can be evaluated chunk by
  chunk on a candidate space of any size (used by Thompson sampling).
- ``condition_on(X_new, y_new)``: a copy that also knows the extra observations while keeping the
  hyperparameters (used by Kriging-believer batches).

Three surrogates are provided:

:class:`GaussianProcessSurrogate`
    Exact Gaussian process with an ARD Matern-5/2 (default) or RBF kernel; hyperparameters by
    maximising the log marginal likelihood (L-BFGS-B with analytic gradients and restarts), or,
    with ``full_bayes=True``, sampled with NUTS in PyMC and averaged over.
:class:`SVREnsembleSurrogate`
    Bootstrap ensemble of RBF support-vector regressors, as used by Xue et al. (Nat. Commun. 7,
    11241, 2016): mean and sd across the ensemble.
:class:`RandomFeatureSurrogate`
    Bayesian linear regression on random Fourier features that approximate the GP kernel, the idea
    of COMBO/PHYSBO (Ueno et al., Materials Discovery 4, 18, 2016): training cost linear in the
    number of observations.

All inputs and outputs are standardised internally (each input column and ``y`` centred and
divided by its standard deviation); results are returned in the data's own units.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator

import numpy as np
from scipy import linalg, optimize

from mi_workbench._checks import (
    check_choice,
    check_finite_array,
    check_finite_number,
    check_positive,
    check_positive_int,
    check_seed,
)

#: Rows per chunk when predicting on large candidate arrays.
DEFAULT_CHUNK_SIZE = 100_000
#: Largest number of points for which :meth:`sample` builds the exact joint covariance.
EXACT_SAMPLE_MAX = 2000

KERNELS = ("matern52", "rbf")
#: Largest distance from the training mean, in training standard deviations, of a prediction
#: input (squared distances must stay finite).
_MAX_STANDARDISED = 1e50
_SQRT5 = math.sqrt(5.0)


# --------------------------------------------------------------------------------------------
# shared helpers


def _as_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an integer seed or None, got {rng!r}")


def _check_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = check_finite_array("X", X)
    if X.ndim == 1:
        raise ValueError(
            f"X must be 2-dimensional (n_observations, n_features), got shape {X.shape}; "
            "use X.reshape(-1, 1) for a single feature"
        )
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_observations, n_features), got {X.shape}")
    y = check_finite_array("y", y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-dimensional (n_observations,), got shape {y.shape}")
    if len(y) != len(X):
        raise ValueError(
            f"X and y must have the same number of rows, got {len(X)} rows in X and {len(y)} in y"
        )
    return X, y


def iter_chunks(X, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, block)`` with ``block = np.asarray(X[start:start + chunk_size])``.

    ``X`` may be a NumPy array, a dask array or an ``xarray.DataArray`` (sliced along its first
    dimension, so that only one chunk is in memory at a time).
    """
    chunk_size = check_positive_int("chunk_size", chunk_size)
    n = len(X)
    for start in range(0, n, chunk_size):
        yield start, np.asarray(X[start : start + chunk_size], dtype=float)


class _Scaler:
    """Centres and scales of inputs and target (standardisation)."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.x_mean = X.mean(axis=0)
        scale = X.std(axis=0)
        self.x_scale = np.where(scale > 0, scale, 1.0)
        self.y_mean = float(y.mean())
        y_scale = float(y.std())
        self.y_scale = y_scale if y_scale > 0 else 1.0

    def x(self, X: np.ndarray) -> np.ndarray:
        return (X - self.x_mean) / self.x_scale

    def y(self, y: np.ndarray) -> np.ndarray:
        return (y - self.y_mean) / self.y_scale


def _sq_dist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of A (m, d) and B (n, d)."""
    # one BLAS call: [A, 1] @ [-2 B, |B|^2]^T, then + |A|^2
    b_aug = np.hstack([-2.0 * B, (B * B).sum(1)[:, None]])
    r2 = A @ b_aug[:, :-1].T
    r2 += b_aug[:, -1]
    r2 += np.einsum("ij,ij->i", A, A)[:, None]
    return np.maximum(r2, 0.0, out=r2)


def _kernel_from_r2(
    r2: np.ndarray, kernel: str, signal_var: float, fast: bool = False
) -> np.ndarray:
    """Kernel values from squared scaled distances (in place on r2).

    With ``fast=True`` the element-wise square root and exponential run in float32 (about twice
    as fast; relative error ~1e-7 in each kernel value) and the result is returned in float64.
    """
    if fast:
        return _kernel_from_r2(r2.astype(np.float32), kernel, signal_var).astype(np.float64)
    if kernel == "rbf":
        r2 *= r2.dtype.type(-0.5)
        np.exp(r2, out=r2)
        r2 *= r2.dtype.type(signal_var)
        return r2
    r = np.sqrt(r2)
    # s2 (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r)
    out = r2 * r2.dtype.type(5.0 / 3.0)
    out += r2.dtype.type(_SQRT5) * r
    out += 1.0
    r *= -r2.dtype.type(_SQRT5)
    np.exp(r, out=r)
    out *= r
    out *= r2.dtype.type(signal_var)
    return out


def _spectral_frequencies(
    rng: np.random.Generator, n_features: int, dim: int, kernel: str
) -> np.ndarray:
    """Frequencies of random Fourier features for a unit-length-scale kernel.

    RBF: standard normal. Matern-nu: multivariate Student-t with 2 nu degrees of freedom
    (5 for Matern 5/2), i.e. a normal divided by sqrt(chi2_5 / 5).
    """
    omega = rng.standard_normal((n_features, dim))
    if kernel == "matern52":
        omega /= np.sqrt(rng.chisquare(5.0, size=(n_features, 1)) / 5.0)
    return omega


def _cosine_features(Z, omega, phase, amplitude) -> np.ndarray:
    """Random Fourier features ``amplitude * cos(Z omega^T + phase)`` in float32, shape (m, D).

    float32 makes the cosine and the products with the features several times faster on large
    candidate arrays; its rounding error (~1e-7 relative) is far below the Monte Carlo error of
    the features themselves. Callers pass blocks of at most ``_FEATURE_BLOCK`` rows.
    """
    arg = (Z @ omega.T).astype(np.float32)
    arg += phase.astype(np.float32)
    np.cos(arg, out=arg)
    arg *= np.float32(amplitude)
    return arg


#: Rows per block when building random features (keeps the (rows, D) feature block small).
_FEATURE_BLOCK = 8192


def _blocked(function: Callable[[np.ndarray], np.ndarray], Z: np.ndarray, axis: int = 0):
    """Apply ``function`` to row blocks of Z and concatenate the results along ``axis``."""
    if len(Z) <= _FEATURE_BLOCK:
        return function(Z)
    parts = [function(Z[i : i + _FEATURE_BLOCK]) for i in range(0, len(Z), _FEATURE_BLOCK)]
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(p, axis=axis) for p in zip(*parts, strict=True))
    return np.concatenate(parts, axis=axis)


def _cholesky(K: np.ndarray, base_jitter: float) -> tuple[np.ndarray, float]:
    """Lower Cholesky factor of K, adding jitter to the diagonal until it succeeds."""
    jitter = base_jitter
    scale = float(np.mean(np.diag(K))) or 1.0
    for _ in range(8):
        try:
            L = linalg.cholesky(K + jitter * scale * np.eye(len(K)), lower=True)
            return L, jitter
        except linalg.LinAlgError:
            jitter = max(jitter * 10.0, 1e-10)
    raise np.linalg.LinAlgError(
        "the covariance matrix is not positive definite even with jitter "
        f"{jitter:.1e}; are there many duplicated inputs with different values?"
    )


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """A matrix S with S S^T ~= cov for a posterior covariance (standardised units).

    Cholesky with a small absolute jitter (posterior covariances near data are nearly singular);
    if that fails, the symmetric eigendecomposition with negative round-off eigenvalues set to 0.
    """
    eye = np.eye(len(cov))
    for jitter in (1e-10, 1e-8, 1e-6):
        try:
            return linalg.cholesky(cov + jitter * eye, lower=True)
        except linalg.LinAlgError:
            continue
    values, vectors = linalg.eigh(cov)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


class Surrogate:
    """Common behaviour of the surrogates: input checks, chunked prediction, sampling."""

    #: Name used by :func:`make_surrogate`.
    name = "surrogate"
    #: True when conditioning on a fake observation equal to the predicted mean leaves the
    #: predicted mean unchanged everywhere (exact Gaussian models with fixed hyperparameters).
    mean_preserving_update = False

    def __init__(self) -> None:
        self.X_train_: np.ndarray | None = None
        self.y_train_: np.ndarray | None = None

    # -- public API -------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return self.X_train_ is not None

    @property
    def n_features_in_(self) -> int:
        self._require_fitted()
        return self.X_train_.shape[1]

    def fit(self, X, y) -> Surrogate:
        """Learn from observations ``X`` (n, d) and ``y`` (n,); returns ``self``."""
        X, y = _check_xy(X, y)
        if len(y) < 2:
            raise ValueError(f"fit needs at least 2 observations, got {len(y)}")
        self.X_train_, self.y_train_ = X, y
        self._scaler = _Scaler(X, y)
        self._fit(self._scaler.x(X), self._scaler.y(y), tune=True)
        return self

    def condition_on(self, X_new, y_new) -> Surrogate:
        """A copy that also conditions on ``(X_new, y_new)``, hyperparameters unchanged.

        This is the update of the Kriging believer: no re-optimisation, so it is fast.
        """
        self._require_fitted()
        X_new = self._check_X(np.atleast_2d(np.asarray(X_new, dtype=float)))
        y_new = check_finite_array("y_new", np.atleast_1d(np.asarray(y_new, dtype=float)), 1)
        if len(y_new) != len(X_new):
            raise ValueError(
                f"X_new and y_new must have the same number of rows, got {len(X_new)} and "
                f"{len(y_new)}"
            )
        other = copy.copy(self)
        other.X_train_ = np.vstack([self.X_train_, X_new])
        other.y_train_ = np.concatenate([self.y_train_, y_new])
        other._fit(self._scaler.x(other.X_train_), self._scaler.y(other.y_train_), tune=False)
        return other

    def predict(self, X, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and sd of the latent function at the rows of ``X``.

        Parameters
        ----------
        X : array-like, shape (m, d)
            Candidates; a NumPy/dask array or DataArray, read ``chunk_size`` rows at a time.
        chunk_size : int
            Rows per chunk.

        Returns
        -------
        mean, sd : numpy.ndarray, shape (m,)
            In the units of ``y``; ``sd`` excludes measurement noise and is > 0.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.linspace(0, 1, 8)[:, None]
        >>> gp = GaussianProcessSurrogate(random_seed=0).fit(X, np.sin(6 * X[:, 0]))
        >>> mean, sd = gp.predict(np.array([[0.5]]))
        >>> bool(abs(mean[0] - np.sin(3.0)) < 0.05)
        True
        """
        self._require_fitted()
        m = self._check_length(X)
        mean = np.empty(m)
        sd = np.empty(m)
        for start, block in iter_chunks(X, chunk_size):
            block = self._check_X(block)
            mu, var = self._predict_std(self._scaler.x(block))
            mean[start : start + len(block)] = mu
            sd[start : start + len(block)] = np.sqrt(var)
        mean *= self._scaler.y_scale
        mean += self._scaler.y_mean
        sd *= self._scaler.y_scale
        return mean, sd

    def sample(self, X, n_samples: int = 1, rng=None) -> np.ndarray:
        """Joint posterior draws of the latent function at the rows of ``X``.

        Exact joint Gaussian draws for up to ``EXACT_SAMPLE_MAX`` points where the model allows;
        otherwise the draws of :meth:`sample_functions` evaluated chunk by chunk.

        Returns
        -------
        numpy.ndarray, shape (n_samples, len(X))
        """
        self._require_fitted()
        n_samples = check_positive_int("n_samples", n_samples)
        rng = _as_rng(rng)
        m = self._check_length(X)
        if m <= EXACT_SAMPLE_MAX:
            block = self._check_X(np.asarray(X, dtype=float))
            exact = self._sample_exact(self._scaler.x(block), n_samples, rng)
            if exact is not None:
                return exact * self._scaler.y_scale + self._scaler.y_mean
        functions = self.sample_functions(n_samples, rng)
        out = np.empty((n_samples, m))
        for start, block in iter_chunks(X):
            out[:, start : start + len(block)] = functions(block)
        return out

    def sample_functions(self, n_samples: int = 1, rng=None) -> Callable[[np.ndarray], np.ndarray]:
        """``n_samples`` posterior draws of the latent function, as one callable.

        The callable maps an array ``X`` of shape (m, d) to draws of shape (n_samples, m); the
        same draws are used on every call, so a candidate space can be evaluated chunk by chunk.
        """
        self._require_fitted()
        n_samples = check_positive_int("n_samples", n_samples)
        draw = self._sample_functions_std(n_samples, _as_rng(rng))
        scaler = self._scaler

        def functions(X) -> np.ndarray:
            block = self._check_X(np.asarray(X, dtype=float))
            return draw(scaler.x(block)) * scaler.y_scale + scaler.y_mean

        return functions

    def posterior_covariance(self, X) -> np.ndarray:
        """Posterior covariance matrix (len(X), len(X)) of the latent function at ``X``."""
        self._require_fitted()
        block = self._check_X(np.asarray(X, dtype=float))
        return self._covariance_std(self._scaler.x(block)) * self._scaler.y_scale**2

    @property
    def noise_sd_(self) -> float:
        """Estimated measurement-noise standard deviation in the units of ``y``."""
        self._require_fitted()
        return self._noise_sd_std() * self._scaler.y_scale

    # -- helpers for subclasses ---------------------------------------------------------------

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call fit(X, y) first")

    def check_candidates(self, X, name: str = "X") -> int:
        """Number of rows of ``X``; raise naming ``name`` unless it suits :meth:`predict`.

        Checks the shape (``(m, n_features_in_)``, ``m > 0``) and, for an in-memory array, that
        every value is finite and within reach of the training data. Dask arrays and DataArrays
        are checked chunk by chunk when predicted on.
        """
        self._require_fitted()
        m = self._check_length(X, name)
        if not hasattr(X, "shape") or isinstance(X, np.ndarray):
            self._check_X(np.asarray(X, dtype=float), name)
        return m

    def _check_length(self, X, name: str = "X") -> int:
        shape = getattr(X, "shape", None)
        if shape is None:
            shape = check_finite_array(name, X).shape
        if len(shape) != 2 or shape[1] != self.n_features_in_:
            raise ValueError(
                f"{name} must have shape (n_candidates, {self.n_features_in_}) like the training "
                f"data, got shape {tuple(shape)}"
            )
        if shape[0] == 0:
            raise ValueError(f"{name} is empty")
        return int(shape[0])

    def _check_X(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{name} must have shape (n_candidates, {self.n_features_in_}) like the training "
                f"data, got shape {X.shape}"
            )
        if not np.isfinite(X).all():
            bad = np.argwhere(~np.isfinite(X))[0]
            raise ValueError(f"{name} contains NaN or an infinite value at row {int(bad[0])}")
        # standardised distances beyond ~1e50 overflow the kernels (NaN predictions)
        far = np.abs(X - self._scaler.x_mean) > _MAX_STANDARDISED * self._scaler.x_scale
        if far.any():
            row, column = (int(i) for i in np.argwhere(far)[0])
            raise ValueError(
                f"{name} holds {X[row, column]!r} at row {row}, column {column}: more than "
                f"{_MAX_STANDARDISED:.0e} standard deviations from the training data, too far "
                "to predict at; check its units"
            )
        return X

    def _sample_exact(self, Z, n_samples, rng):
        cov = self._covariance_std(Z)
        if cov is None:
            return None
        mean, _ = self._predict_std(Z)
        return mean[None, :] + (_psd_sqrt(cov) @ rng.standard_normal((len(Z), n_samples))).T

    # subclasses implement: _fit, _predict_std, _covariance_std, _sample_functions_std,
    # _noise_sd_std


# --------------------------------------------------------------------------------------------
# exact Gaussian process


class _GPState:
    """One exact GP posterior (standardised units) for fixed hyperparameters."""

    def __init__(self, Z, y, kernel, lengthscale, signal_var, noise_var) -> None:
        self.kernel = kernel
        self.lengthscale = np.asarray(lengthscale, dtype=float)
        self.signal_var = float(signal_var)
        self.noise_var = float(noise_var)
        self.Zt = Z / self.lengthscale
        K = _kernel_from_r2(_sq_dist(self.Zt, self.Zt), kernel, self.signal_var)
        K[np.diag_indices_from(K)] += self.noise_var
        self.L, _ = _cholesky(K, 1e-8)
        self.alpha = linalg.cho_solve((self.L, True), y)
        self.Linv_T = linalg.solve_triangular(self.L, np.eye(len(y)), lower=True).T

    def cross(self, Z: np.ndarray) -> np.ndarray:
        r2 = _sq_dist(Z / self.lengthscale, self.Zt)
        return _kernel_from_r2(r2, self.kernel, self.signal_var, fast=True)

    def predict(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Kc = self.cross(Z)
        mean = Kc @ self.alpha
        V = Kc @ self.Linv_T
        var = self.signal_var - np.einsum("ij,ij->i", V, V)
        np.maximum(var, 1e-10 * self.signal_var, out=var)
        return mean, var

    def covariance(self, Z: np.ndarray) -> np.ndarray:
        Zs = Z / self.lengthscale
        K = _kernel_from_r2(_sq_dist(Zs, Zs), self.kernel, self.signal_var)
        V = self.cross(Z) @ self.Linv_T
        return K - V @ V.T

    def sample_functions(self, Z_train, y_train, n_samples, rng, n_features):
        """Pathwise posterior draws (Wilson et al., ICML 2020): prior draw by random Fourier
        features, then an exact correction through the training data."""
        dim = self.Zt.shape[1]
        omega = _spectral_frequencies(rng, n_features, dim, self.kernel)
        phase = rng.uniform(0.0, 2.0 * np.pi, n_features)
        weights = rng.standard_normal((n_features, n_samples))
        amplitude = math.sqrt(2.0 * self.signal_var / n_features)

        weights32 = weights.astype(np.float32)

        def prior(Zs):
            return _blocked(
                lambda b: _cosine_features(b, omega, phase, amplitude) @ weights32, Zs
            ).astype(np.float64)

        noise = rng.standard_normal((len(y_train), n_samples)) * math.sqrt(self.noise_var)
        residual = y_train[:, None] - prior(self.Zt) - noise
        v = linalg.cho_solve((self.L, True), residual)

        def draw(Z):
            return (prior(Z / self.lengthscale) + self.cross(Z) @ v).T

        return draw


def _gp_neg_log_marginal(theta, Z, y, kernel, fixed_noise_var):
    """Negative log marginal likelihood and its gradient in log-hyperparameters."""
    n, d = Z.shape
    ls = np.exp(theta[:d])
    s2 = math.exp(theta[d])
    n2 = fixed_noise_var if fixed_noise_var is not None else math.exp(theta[d + 1])
    diff2 = ((Z[:, None, :] - Z[None, :, :]) / ls) ** 2  # (n, n, d)
    r2 = diff2.sum(-1)
    if kernel == "rbf":
        K = s2 * np.exp(-0.5 * r2)
        dK_common = K
    else:
        r = np.sqrt(r2)
        e = np.exp(-_SQRT5 * r)
        K = s2 * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r2) * e
        dK_common = s2 * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e
    Ky = K + (n2 + 1e-8) * np.eye(n)
    try:
        L = linalg.cholesky(Ky, lower=True)
    except linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    alpha = linalg.cho_solve((L, True), y)
    nll = 0.5 * y @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * math.log(2 * math.pi)
    W = linalg.cho_solve((L, True), np.eye(n)) - np.outer(alpha, alpha)
    grad = np.empty_like(theta)
    grad[:d] = 0.5 * np.einsum("ij,ijk->k", W * dK_common, diff2)
    grad[d] = 0.5 * np.sum(W * K)
    if fixed_noise_var is None:
        grad[d + 1] = 0.5 * n2 * np.trace(W)
    return nll, grad


class GaussianProcessSurrogate(Surrogate):
    """Exact Gaussian process with an ARD kernel.

    Parameters
    ----------
    kernel : {"matern52", "rbf"}
        Matern 5/2 (default; twice differentiable, the usual choice for materials data) or the
        squared-exponential (RBF) kernel, each with one length scale per input (ARD).
    noise_sd : float, optional
        Known measurement-noise sd in the units of ``y``. Default: estimated.
    n_restarts : int
        Extra random starts of the marginal-likelihood optimisation (besides a default start).
    full_bayes : bool
        If True, sample the hyperparameters with NUTS (:func:`mi_workbench.inference.fit`) under
        weakly informative priors on the standardised scale (log length scale ~ Normal(0, 1),
        signal sd ~ HalfNormal(1.5), noise sd ~ HalfNormal(0.5)) and average predictions over
        ``n_hyper_draws`` posterior draws. Prediction then costs ``n_hyper_draws`` times more;
        meant for small spaces and teaching.
    n_hyper_draws, draws, tune, chains : int
        Settings of the full-Bayes fit.
    n_path_features : int
        Random Fourier features of the prior draw in :meth:`sample_functions`.
    random_seed : int
        Seed of the restarts, the NUTS fit and the path features.

    Attributes
    ----------
    lengthscale_ : numpy.ndarray
        Length scales in the units of each input column (first posterior draw if full Bayes).
    signal_sd_, noise_sd_ : float
        Signal and noise sd in the units of ``y``.
    log_marginal_likelihood_ : float
        On the standardised scale (maximum-likelihood fit only).
    idata_ : xarray.DataTree
        The NUTS result (full Bayes only).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> X = rng.uniform(0, 1, (30, 2))
    >>> gp = GaussianProcessSurrogate(random_seed=0).fit(X, np.sin(4 * X[:, 0]) + X[:, 1])
    >>> mean, sd = gp.predict(X[:3])
    >>> mean.shape, bool((sd > 0).all())
    ((3,), True)
    """

    name = "gp"
    mean_preserving_update = True

    def __init__(
        self,
        kernel: str = "matern52",
        *,
        noise_sd: float | None = None,
        n_restarts: int = 3,
        full_bayes: bool = False,
        n_hyper_draws: int = 16,
        draws: int = 300,
        tune: int = 300,
        chains: int = 2,
        n_path_features: int = 512,
        random_seed: int = 0,
    ) -> None:
        super().__init__()
        self.kernel = check_choice("kernel", kernel, KERNELS)
        self.noise_sd = None if noise_sd is None else check_positive("noise_sd", noise_sd)
        self.n_restarts = check_positive_int("n_restarts", n_restarts, minimum=0)
        self.full_bayes = bool(full_bayes)
        self.n_hyper_draws = check_positive_int("n_hyper_draws", n_hyper_draws)
        self.draws = check_positive_int("draws", draws)
        self.tune = check_positive_int("tune", tune)
        self.chains = check_positive_int("chains", chains)
        self.n_path_features = check_positive_int("n_path_features", n_path_features)
        self.random_seed = check_seed("random_seed", random_seed)
        self._hyper: list[tuple[np.ndarray, float, float]] = []

    # hyperparameters ---------------------------------------------------------------------

    def _fixed_noise_var(self) -> float | None:
        if self.noise_sd is None:
            return None
        return (self.noise_sd / self._scaler.y_scale) ** 2

    def _optimise(self, Z, y) -> tuple[np.ndarray, float, float]:
        d = Z.shape[1]
        fixed = self._fixed_noise_var()
        bounds = [(math.log(0.05), math.log(50.0))] * d + [(math.log(0.02), math.log(20.0))]
        starts = [np.r_[np.zeros(d), 0.0]]
        if fixed is None:
            bounds.append((math.log(1e-6), math.log(2.0)))
            starts = [np.r_[np.zeros(d), 0.0, math.log(0.01)]]
        rng = np.random.default_rng(self.random_seed)
        for _ in range(self.n_restarts):
            start = np.r_[rng.uniform(math.log(0.2), math.log(5.0), d), rng.uniform(-0.7, 0.7)]
            if fixed is None:
                start = np.r_[start, rng.uniform(math.log(1e-4), math.log(0.3))]
            starts.append(start)
        best = None
        for start in starts:
            result = optimize.minimize(
                _gp_neg_log_marginal,
                start,
                args=(Z, y, self.kernel, fixed),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
            )
            if best is None or result.fun < best.fun:
                best = result
        theta = best.x
        self.log_marginal_likelihood_ = -float(best.fun)
        noise_var = fixed if fixed is not None else math.exp(theta[d + 1])
        return np.exp(theta[:d]), math.exp(theta[d]), noise_var

    def _sample_hyper(self, Z, y) -> list[tuple[np.ndarray, float, float]]:
        import pymc as pm

        from mi_workbench.inference import fit as nuts_fit

        d = Z.shape[1]
        fixed = self._fixed_noise_var()
        with pm.Model() as model:
            log_ls = pm.Normal("log_lengthscale", 0.0, 1.0, shape=d)
            signal_sd = pm.HalfNormal("signal_sd", 1.5)
            noise_sd = math.sqrt(fixed) if fixed is not None else pm.HalfNormal("noise_sd", 0.5)
            base = pm.gp.cov.Matern52 if self.kernel == "matern52" else pm.gp.cov.ExpQuad
            gp = pm.gp.Marginal(cov_func=signal_sd**2 * base(d, ls=pm.math.exp(log_ls)))
            gp.marginal_likelihood("y", X=Z, y=y, sigma=noise_sd)
        idata = nuts_fit(
            model,
            draws=self.draws,
            tune=self.tune,
            chains=self.chains,
            random_seed=self.random_seed,
            progressbar=False,
        )
        self.idata_ = idata
        post = idata["posterior"]
        ls = np.exp(post["log_lengthscale"].values.reshape(-1, d))
        s2 = post["signal_sd"].values.reshape(-1) ** 2
        if fixed is None:
            n2 = post["noise_sd"].values.reshape(-1) ** 2
        else:
            n2 = np.full(len(s2), fixed)
        pick = np.linspace(0, len(s2) - 1, min(self.n_hyper_draws, len(s2))).round().astype(int)
        return [(ls[i], float(s2[i]), float(n2[i])) for i in pick]

    # Surrogate hooks ----------------------------------------------------------------------

    def _fit(self, Z, y, tune: bool) -> None:
        if tune:
            if self.full_bayes:
                self._hyper = self._sample_hyper(Z, y)
            else:
                self._hyper = [self._optimise(Z, y)]
        self._Z, self._y = Z, y
        self._states = [_GPState(Z, y, self.kernel, *h) for h in self._hyper]

    def _predict_std(self, Z):
        if len(self._states) == 1:
            return self._states[0].predict(Z)
        first = second = 0.0
        for state in self._states:
            mean, var = state.predict(Z)
            first = first + mean
            second = second + var + mean * mean
        k = len(self._states)
        mean = first / k
        var = np.maximum(second / k - mean * mean, 1e-12)
        return mean, var

    def _covariance_std(self, Z):
        if len(self._states) == 1:
            return self._states[0].covariance(Z)
        means = []
        cov = 0.0
        for state in self._states:
            means.append(state.predict(Z)[0])
            cov = cov + state.covariance(Z)
        means = np.array(means)
        return cov / len(self._states) + np.cov(means, rowvar=False, bias=True)

    def _sample_exact(self, Z, n_samples, rng):
        if len(self._states) == 1:
            return super()._sample_exact(Z, n_samples, rng)
        which = rng.integers(0, len(self._states), n_samples)
        out = np.empty((n_samples, len(Z)))
        for k in np.unique(which):
            state = self._states[k]
            rows = np.flatnonzero(which == k)
            mean, _ = state.predict(Z)
            L = _psd_sqrt(state.covariance(Z))
            out[rows] = mean[None, :] + (L @ rng.standard_normal((len(Z), len(rows)))).T
        return out

    def _sample_functions_std(self, n_samples, rng):
        which = rng.integers(0, len(self._states), n_samples)
        parts = []
        for k in np.unique(which):
            rows = np.flatnonzero(which == k)
            draw = self._states[k].sample_functions(
                self._Z, self._y, len(rows), rng, self.n_path_features
            )
            parts.append((rows, draw))

        def draw_all(Z):
            out = np.empty((n_samples, len(Z)))
            for rows, draw in parts:
                out[rows] = draw(Z)
            return out

        return draw_all

    def _noise_sd_std(self) -> float:
        return float(np.sqrt(np.mean([h[2] for h in self._hyper])))

    @property
    def lengthscale_(self) -> np.ndarray:
        self._require_fitted()
        return self._hyper[0][0] * self._scaler.x_scale

    @property
    def signal_sd_(self) -> float:
        self._require_fitted()
        return float(np.sqrt(np.mean([h[1] for h in self._hyper]))) * self._scaler.y_scale


# --------------------------------------------------------------------------------------------
# bootstrap ensemble of support-vector regressors


class SVREnsembleSurrogate(Surrogate):
    """Bootstrap ensemble of RBF support-vector regressors (Xue et al. 2016).

    Each of ``n_estimators`` regressors (scikit-learn ``SVR``) is trained on a bootstrap resample
    of the observations; the prediction is the ensemble mean and the uncertainty the ensemble
    standard deviation. Since every support vector is a training point, the ensemble is
    evaluated as one kernel matrix times a coefficient matrix, so prediction on 10^5-10^6
    candidates is fast.

    Parameters
    ----------
    n_estimators : int
        Bootstrap regressors.
    C, gamma, epsilon : float, optional
        SVR settings on the standardised scale (``gamma`` of ``exp(-gamma |x - x'|^2)``).
        Defaults: ``epsilon = 0.05``; ``C`` and ``gamma`` chosen by 5-fold cross-validation on
        a small grid (``C`` in 1, 10, 100; ``gamma`` in 0.1, 0.3, 1, 3 divided by the number of
        inputs) when not given.
    random_seed : int
        Seed of the bootstrap resamples and the cross-validation folds.

    Notes
    -----
    :meth:`sample` and :meth:`sample_functions` draw ensemble members at random: a "posterior
    draw" of a bootstrap ensemble is one of its members. ``noise_sd_`` is the root-mean-square
    out-of-bag residual.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 25)[:, None]
    >>> svr = SVREnsembleSurrogate(n_estimators=10, random_seed=0).fit(X, np.sin(5 * X[:, 0]))
    >>> mean, sd = svr.predict(np.array([[0.3]]))
    >>> bool(abs(mean[0] - np.sin(1.5)) < 0.1)
    True
    """

    name = "svr_ensemble"

    def __init__(
        self,
        n_estimators: int = 32,
        *,
        C: float | None = None,
        gamma: float | None = None,
        epsilon: float = 0.05,
        random_seed: int = 0,
    ) -> None:
        super().__init__()
        self.n_estimators = check_positive_int("n_estimators", n_estimators, minimum=2)

        def non_negative(label, value):
            if value is None and label != "epsilon":
                return None  # chosen by cross-validation
            number = check_finite_number(label, value)
            if number < 0:
                raise ValueError(f"{label} must be a finite number >= 0, got {value!r}")
            return number

        self.C = non_negative("C", C)
        self.gamma = non_negative("gamma", gamma)
        self.epsilon = non_negative("epsilon", epsilon)
        self.random_seed = check_seed("random_seed", random_seed)

    def _tune(self, Z, y) -> tuple[float, float]:
        from sklearn.model_selection import GridSearchCV, KFold
        from sklearn.svm import SVR

        d = Z.shape[1]
        grid = {
            "C": [self.C] if self.C is not None else [1.0, 10.0, 100.0],
            "gamma": [self.gamma] if self.gamma is not None else [g / d for g in (0.1, 0.3, 1, 3)],
        }
        if len(grid["C"]) == 1 and len(grid["gamma"]) == 1 or len(y) < 5:
            return grid["C"][len(grid["C"]) // 2], grid["gamma"][len(grid["gamma"]) // 2]
        folds = KFold(n_splits=5, shuffle=True, random_state=self.random_seed)
        base = SVR(kernel="rbf", epsilon=self.epsilon)
        search = GridSearchCV(base, grid, cv=folds, scoring="neg_mean_squared_error")
        search.fit(Z, y)
        return float(search.best_params_["C"]), float(search.best_params_["gamma"])

    def _fit(self, Z, y, tune: bool) -> None:
        from sklearn.svm import SVR

        if tune:
            self.C_, self.gamma_ = self._tune(Z, y)
        n = len(y)
        rng = np.random.default_rng(self.random_seed)
        coef = np.zeros((n, self.n_estimators))
        intercept = np.empty(self.n_estimators)
        in_bag = np.zeros((n, self.n_estimators), dtype=bool)
        for b in range(self.n_estimators):
            rows = rng.integers(0, n, n)
            model = SVR(kernel="rbf", C=self.C_, gamma=self.gamma_, epsilon=self.epsilon)
            model.fit(Z[rows], y[rows])
            np.add.at(coef[:, b], rows[model.support_], model.dual_coef_[0])
            intercept[b] = model.intercept_[0]
            in_bag[rows, b] = True
        self._Z, self._coef, self._intercept = Z, coef, intercept
        members = self._members(Z)
        out_of_bag = ~in_bag
        counts = out_of_bag.sum(1)
        seen = counts > 0
        if seen.any():
            oob_mean = (members * out_of_bag).sum(1)[seen] / counts[seen]
            self._noise_std = float(np.sqrt(np.mean((y[seen] - oob_mean) ** 2)))
        else:  # pragma: no cover - needs an improbable bootstrap
            self._noise_std = float(np.std(y - members.mean(1)))

    def _members(self, Z) -> np.ndarray:
        K = np.exp(-self.gamma_ * _sq_dist(Z, self._Z))
        return K @ self._coef + self._intercept

    def _predict_std(self, Z):
        members = self._members(Z)
        mean = members.mean(1)
        var = members.var(1, ddof=1)
        return mean, np.maximum(var, 1e-12)

    def _covariance_std(self, Z):
        return np.cov(self._members(Z), rowvar=True) + 1e-12 * np.eye(len(Z))

    def _sample_exact(self, Z, n_samples, rng):
        return None  # member draws are already exact joint draws of the ensemble

    def _sample_functions_std(self, n_samples, rng):
        which = rng.integers(0, self.n_estimators, n_samples)
        return lambda Z: self._members(Z)[:, which].T

    def _noise_sd_std(self) -> float:
        return self._noise_std


# --------------------------------------------------------------------------------------------
# random-feature Bayesian linear regression


class RandomFeatureSurrogate(Surrogate):
    """Bayesian linear regression on random Fourier features (the COMBO/PHYSBO approach).

    The GP kernel (ARD Matern 5/2 or RBF) is approximated by ``n_features`` random Fourier
    features ``phi(x) = sqrt(2 s^2 / D) cos(W x / l + b)`` (Rahimi & Recht 2007); the weights of
    ``f(x) = phi(x) . w`` get a standard-normal prior and the conjugate Gaussian posterior. The
    kernel's hyperparameters (length scales, signal and noise variance) are set by the marginal
    likelihood of an exact GP on at most ``max_hyper_points`` observations.

    Training costs O(n D^2) (or O(n^2 D) when n < D) instead of the GP's O(n^3); the mean costs
    O(D d) per candidate and the sd O(D min(n, D)).

    Parameters
    ----------
    n_features : int
        Number of random features ``D``.
    kernel : {"matern52", "rbf"}
        Kernel that the features approximate.
    noise_sd : float, optional
        Known measurement-noise sd in the units of ``y``. Default: estimated.
    max_hyper_points : int
        Observations (a random subset when there are more) used to set the hyperparameters.
    random_seed : int
        Seed of the features and the subset.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 30)[:, None]
    >>> rf = RandomFeatureSurrogate(n_features=200, random_seed=0).fit(X, np.cos(4 * X[:, 0]))
    >>> mean, sd = rf.predict(np.array([[0.5]]))
    >>> bool(abs(mean[0] - np.cos(2.0)) < 0.1)
    True
    """

    name = "random_features"
    mean_preserving_update = True

    def __init__(
        self,
        n_features: int = 300,
        *,
        kernel: str = "matern52",
        noise_sd: float | None = None,
        max_hyper_points: int = 300,
        random_seed: int = 0,
    ) -> None:
        super().__init__()
        self.n_features = check_positive_int("n_features", n_features, minimum=2)
        self.kernel = check_choice("kernel", kernel, KERNELS)
        self.noise_sd = None if noise_sd is None else check_positive("noise_sd", noise_sd)
        self.max_hyper_points = check_positive_int("max_hyper_points", max_hyper_points, 2)
        self.random_seed = check_seed("random_seed", random_seed)

    def _features(self, Z) -> np.ndarray:
        return _cosine_features(Z, self._omega_scaled, self._phase, self._amplitude)

    def _fit(self, Z, y, tune: bool) -> None:
        rng = np.random.default_rng(self.random_seed)
        if tune:
            rows = np.arange(len(y))
            if len(y) > self.max_hyper_points:
                rows = np.sort(rng.choice(len(y), self.max_hyper_points, replace=False))
            gp = GaussianProcessSurrogate(
                self.kernel, noise_sd=self.noise_sd, random_seed=self.random_seed
            )
            gp._scaler = self._scaler
            gp._fit(Z[rows], y[rows], tune=True)
            self._lengthscale, self._signal_var, self._noise_var = gp._hyper[0]
            omega = _spectral_frequencies(rng, self.n_features, Z.shape[1], self.kernel)
            self._omega_scaled = omega / self._lengthscale
            self._phase = rng.uniform(0.0, 2.0 * np.pi, self.n_features)
            self._amplitude = math.sqrt(2.0 * self._signal_var / self.n_features)
        Phi = self._features(Z).astype(np.float64)
        n, D = Phi.shape
        n2 = self._noise_var
        if n < D:  # dual form: (Phi Phi^T + n2 I) is n x n
            Ln, _ = _cholesky(Phi @ Phi.T + n2 * np.eye(n), 1e-10)
            M = linalg.solve_triangular(Ln, Phi, lower=True)  # (n, D)
            self._weights_mean = M.T @ linalg.solve_triangular(Ln, y, lower=True)
            self._var_matrix = M.T  # var = |phi|^2 - |phi M^T|^2
            self._dual = True
        else:
            A = Phi.T @ Phi / n2 + np.eye(D)
            La, _ = _cholesky(A, 1e-10)
            self._weights_mean = linalg.cho_solve((La, True), Phi.T @ y / n2)
            self._var_matrix = linalg.solve_triangular(La, np.eye(D), lower=True).T  # L^{-T}
            self._dual = False
        self._Phi_train = Phi
        self._weights_mean32 = self._weights_mean.astype(np.float32)
        self._var_matrix32 = self._var_matrix.astype(np.float32)

    def _predict_block(self, Z):
        phi = self._features(Z)
        mean = phi @ self._weights_mean32
        V = phi @ self._var_matrix32
        if self._dual:
            var = np.einsum("ij,ij->i", phi, phi) - np.einsum("ij,ij->i", V, V)
        else:
            var = np.einsum("ij,ij->i", V, V)
        return mean.astype(np.float64), var.astype(np.float64)

    def _predict_std(self, Z):
        mean, var = _blocked(self._predict_block, Z)
        return mean, np.maximum(var, 1e-6 * self._signal_var)

    def _weights_cov_sqrt(self) -> np.ndarray:
        """A matrix S with S S^T = posterior covariance of the weights (D x D)."""
        if not self._dual:
            return self._var_matrix
        n2 = self._noise_var
        A = self._Phi_train.T @ self._Phi_train / n2 + np.eye(self.n_features)
        La, _ = _cholesky(A, 1e-10)
        return linalg.solve_triangular(La, np.eye(self.n_features), lower=True).T

    def _covariance_std(self, Z):
        phi = self._features(Z).astype(np.float64)
        if self._dual:
            V = phi @ self._var_matrix
            return phi @ phi.T - V @ V.T
        V = phi @ self._var_matrix
        return V @ V.T

    def _sample_exact(self, Z, n_samples, rng):
        return None  # weight draws are exact and cheap

    def _sample_functions_std(self, n_samples, rng):
        S = self._weights_cov_sqrt()
        w = self._weights_mean[:, None] + S @ rng.standard_normal((self.n_features, n_samples))
        w32 = w.astype(np.float32)
        return lambda Z: _blocked(lambda b: self._features(b) @ w32, Z).astype(np.float64).T

    def _noise_sd_std(self) -> float:
        return math.sqrt(self._noise_var)


# --------------------------------------------------------------------------------------------

SURROGATES: dict[str, type[Surrogate]] = {
    "gp": GaussianProcessSurrogate,
    "svr_ensemble": SVREnsembleSurrogate,
    "random_features": RandomFeatureSurrogate,
}


def make_surrogate(surrogate: str | Surrogate = "gp", **options) -> Surrogate:
    """A surrogate from its name (``"gp"``, ``"svr_ensemble"``, ``"random_features"``) or as is.

    Parameters
    ----------
    surrogate : str or Surrogate
        Name, or an instance that is returned unchanged (``options`` must then be empty).
    **options
        Passed to the class, e.g. ``kernel="rbf"`` or ``n_estimators=50``.

    Examples
    --------
    >>> make_surrogate("svr_ensemble", n_estimators=8).n_estimators
    8
    """
    if isinstance(surrogate, Surrogate):
        if options:
            raise ValueError(
                f"options {sorted(options)} can only be given with a surrogate name, not with "
                "an instance"
            )
        return surrogate
    if not isinstance(surrogate, str) or surrogate not in SURROGATES:
        raise ValueError(
            f"surrogate must be one of {list(SURROGATES)} or a Surrogate instance, "
            f"got {surrogate!r}"
        )
    return SURROGATES[surrogate](**options)
