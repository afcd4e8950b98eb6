"""Multi-fidelity and transfer regressors with one interface, built on the project's surrogates
(:mod:`mi_workbench.design.surrogates`) and multi-fidelity models
(:mod:`mi_workbench.models.transfer`).

Multi-fidelity regressors
-------------------------
Each has ``fit(X_low, y_low, X_high, y_high) -> self`` and ``predict(X_new) -> (mean, sd)`` (the
predictive mean and sd of the noise-free high-fidelity quantity):

:class:`SingleFidelityGP`
    The baseline: a GP on the high-fidelity data alone (the low-fidelity data are ignored).
:class:`AR1MultiFidelityGP`
    Kennedy-O'Hagan. ``full_bayes=False`` (default, seconds): the recursive form of Le Gratiet &
    Garnier (Int. J. Uncertain. Quantif. 4, 365, 2014), a GP on the low-fidelity data, then a GP
    on ``y_high - rho * mean_low(x)`` with ``rho`` chosen by the marginal likelihood (type-II
    maximum likelihood). ``full_bayes=True``: :func:`mi_workbench.models.ar1_multifidelity_gp`
    sampled with NUTS.
:class:`DifferenceTransfer`
    Hutchinson et al. (arXiv:1711.05099, 2017), "difference": learn ``y_high - y_low`` at the same
    inputs (a GP or a Bayesian linear regression) and add it to ``y_low`` at new inputs.
:class:`ProxyTransfer`
    Hutchinson et al. 2017, "proxy as descriptor": a GP for ``y_high`` whose inputs are the
    descriptors plus the low-fidelity value ``y_low(x)``.
:class:`NonlinearAR1MultiFidelityGP`
    Perdikaris et al. (Proc. R. Soc. A 473, 20160751, 2017), "NARGP": ``f_high = g(x, f_low(x))``
    with the structured kernel ``k_f(f, f') k_x(x, x') + k_delta(x, x')`` (by default plus a
    linear term in ``f_low``, which makes Kennedy-O'Hagan's AR1 a special case).

The low-fidelity value at a point is looked up where the point is one of the rows of ``X_low``
(exactly equal descriptors), which is the usual situation when the cheap calculation has been
run on every candidate, and predicted by a GP fitted to ``(X_low, y_low)`` elsewhere (with its
uncertainty propagated). The fast (type-II maximum likelihood) GPs are
:class:`mi_workbench.design.GaussianProcessSurrogate`; ``full_bayes=True`` samples their
hyperparameters with NUTS.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import linalg

from mi_workbench._checks import (
    check_choice,
    check_finite_array,
    check_positive_int,
    check_seed,
)
from mi_workbench.models.transfer import (
    AR1_APPROXIMATIONS,
    TRANSFER_KERNELS,
    _check_n_basis,
    ar1_multifidelity_gp,
    check_fidelity_data,
    predict_ar1_multifidelity,
)


def _gaussian_process(
    kernel: str, random_seed: int, full_bayes: bool, n_restarts: int = 3, **bayes
):
    from mi_workbench.design.surrogates import GaussianProcessSurrogate

    return GaussianProcessSurrogate(
        kernel, n_restarts=n_restarts, full_bayes=full_bayes, random_seed=random_seed, **bayes
    )


class _LowFidelity:
    """Low-fidelity values at any input: looked up at rows of ``X_low``, else a GP prediction.

    The GP (exact, type-II ML; random Fourier features when ``n_low > max_exact``) is fitted only
    when a point outside ``X_low`` is asked for.
    """

    def __init__(self, X_low, y_low, kernel: str, max_exact: int, random_seed: int) -> None:
        self.X_low, self.y_low = X_low, y_low
        self.kernel, self.max_exact, self.random_seed = kernel, max_exact, random_seed
        sums: dict[bytes, list[float]] = {}
        for row, value in zip(np.ascontiguousarray(X_low), y_low, strict=True):
            sums.setdefault(row.tobytes(), []).append(float(value))
        self._table = {key: float(np.mean(v)) for key, v in sums.items()}
        self.surrogate = None

    def __call__(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.ascontiguousarray(X, dtype=float)
        mean = np.empty(len(X))
        var = np.zeros(len(X))
        found = np.zeros(len(X), dtype=bool)
        for i, row in enumerate(X):
            value = self._table.get(row.tobytes())
            if value is not None:
                mean[i], found[i] = value, True
        if not found.all():
            if self.surrogate is None:
                self.surrogate = self._fit_surrogate()
            m, s = self.surrogate.predict(X[~found])
            mean[~found], var[~found] = m, s**2
        return mean, var

    def _fit_surrogate(self):
        if len(self.y_low) <= self.max_exact:
            model = _gaussian_process(self.kernel, self.random_seed, False)
        else:
            from mi_workbench.design.surrogates import RandomFeatureSurrogate

            model = RandomFeatureSurrogate(
                n_features=500,
                kernel=self.kernel,
                max_hyper_points=self.max_exact,
                random_seed=self.random_seed,
            )
        return model.fit(self.X_low, self.y_low)


class MultiFidelityModel:
    """Common interface: ``fit(X_low, y_low, X_high, y_high)``, ``predict(X_new)``.

    Attributes
    ----------
    fit_time_ : float
        Wall-clock seconds of the last :meth:`fit`.
    fit_cpu_time_ : float
        CPU seconds of this process (all its threads) during the last :meth:`fit`: what the fit
        cost, which a busy machine hardly changes.
    """

    name = "multifidelity"

    def __init__(
        self,
        *,
        kernel: str = "matern52",
        full_bayes: bool = False,
        max_exact_low: int = 300,
        random_seed: int = 0,
    ) -> None:
        self.kernel = check_choice("kernel", kernel, TRANSFER_KERNELS)
        self.full_bayes = bool(full_bayes)
        self.max_exact_low = check_positive_int("max_exact_low", max_exact_low, minimum=10)
        if random_seed is None:
            raise TypeError("random_seed must be an integer >= 0 (fits are reproducible), got None")
        self.random_seed = check_seed("random_seed", random_seed)
        self._n_features: int | None = None

    def fit(self, X_low, y_low, X_high, y_high):
        """Learn from low- and high-fidelity data; returns ``self``.

        Parameters
        ----------
        X_low, y_low : arrays (n_low, n_features), (n_low,)
            Cheap data.
        X_high, y_high : arrays (n_high, n_features), (n_high,)
            Expensive data, the same descriptors.
        """
        X_low, y_low, X_high, y_high = check_fidelity_data(X_low, y_low, X_high, y_high)
        start, start_cpu = time.perf_counter(), time.process_time()
        self._n_features = X_low.shape[1]
        self._low = _LowFidelity(X_low, y_low, self.kernel, self.max_exact_low, self.random_seed)
        self._fit(X_low, y_low, X_high, y_high)
        self.fit_time_ = time.perf_counter() - start
        self.fit_cpu_time_ = time.process_time() - start_cpu
        return self

    def predict(self, X_new) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and sd of the noise-free high-fidelity quantity at ``X_new``.

        Returns
        -------
        mean, sd : numpy.ndarray, shape (n_new,)
        """
        if self._n_features is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call fit(...) first")
        X_new = check_finite_array("X_new", X_new)
        if X_new.ndim == 1 and self._n_features == 1:
            X_new = X_new[:, None]
        if X_new.ndim != 2 or X_new.shape[1] != self._n_features:
            raise ValueError(
                f"X_new must have shape (n_new, {self._n_features}) like the training "
                f"descriptors, got {X_new.shape}"
            )
        mean, sd = self._predict(X_new)
        return np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)

    def _fit(self, X_low, y_low, X_high, y_high) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, X_new):  # pragma: no cover - abstract
        raise NotImplementedError


class SingleFidelityGP(MultiFidelityModel):
    """Baseline: a GP on the high-fidelity data only (low-fidelity data are ignored).

    Parameters
    ----------
    kernel : {"matern52", "rbf"}
        ARD kernel of :class:`~mi_workbench.design.GaussianProcessSurrogate`.
    full_bayes : bool
        Sample the GP hyperparameters with NUTS instead of maximising the marginal likelihood.
    random_seed : int
        Seed of the optimiser restarts (and of NUTS).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 8)[:, None]
    >>> model = SingleFidelityGP().fit(x, np.sin(6 * x[:, 0]), x[::2], np.sin(6 * x[::2, 0]))
    >>> mean, sd = model.predict([[0.5]])
    >>> mean.shape
    (1,)
    """

    name = "single_fidelity"

    def _fit(self, X_low, y_low, X_high, y_high) -> None:
        self.gp_ = _gaussian_process(self.kernel, self.random_seed, self.full_bayes)
        self.gp_.fit(X_high, y_high)

    def _predict(self, X_new):
        return self.gp_.predict(X_new)


class AR1MultiFidelityGP(MultiFidelityModel):
    """Kennedy-O'Hagan ``f_high = rho * f_low + delta``, type-II ML (fast) or full Bayes.

    With ``full_bayes=False`` (default): the recursive form (Le Gratiet & Garnier 2014). A GP is
    fitted to the low-fidelity data (or low-fidelity values are looked up where the high-fidelity
    inputs are rows of ``X_low``); then ``rho`` is chosen by maximising the marginal likelihood
    of a GP for ``delta = y_high - rho * mean_low(X_high)`` (a grid over ``rho``, then a bounded
    1-D search), with that GP's own hyperparameters re-optimised for each ``rho``. Prediction:
    mean ``rho * mean_low + mean_delta``, variance ``rho^2 var_low + var_delta``.

    With ``full_bayes=True``: :func:`ar1_multifidelity_gp` sampled with
    :func:`mi_workbench.inference.fit`, predictions by :func:`predict_ar1_multifidelity`.

    Parameters
    ----------
    kernel : {"matern52", "rbf"}
        Kernel of both GPs.
    full_bayes : bool
        Sample the joint PyMC model with NUTS.
    approximation : {None, "hsgp"}
        For ``full_bayes=True``: exact or Hilbert-space GP (large ``n_low``, <= 3 inputs).
    ard : bool
        For ``full_bayes=True``: one length scale per input.
    n_basis : int, optional
        For ``approximation="hsgp"``: basis functions per input.
    draws, tune, chains : int
        NUTS settings for ``full_bayes=True``.
    max_exact_low : int
        Above this many low-fidelity points, the low-fidelity GP of the fast variant uses random
        Fourier features (hyperparameters from a subset of this size).
    random_seed : int
        Seed.

    Attributes
    ----------
    rho_ : float
        Estimated scale factor (posterior mean with ``full_bayes=True``) in the data's units.
    idata_, model_ :
        NUTS result and PyMC model (``full_bayes=True``).

    Examples
    --------
    >>> import numpy as np
    >>> high = lambda x: (6 * x - 2) ** 2 * np.sin(12 * x - 4)
    >>> low = lambda x: 0.5 * high(x) + 10 * (x - 0.5) - 5
    >>> x_low = np.linspace(0, 1, 21)[:, None]; x_high = x_low[::4]
    >>> ar1 = AR1MultiFidelityGP().fit(x_low, low(x_low[:, 0]), x_high, high(x_high[:, 0]))
    >>> bool(abs(ar1.rho_ - 2.0) < 0.3)
    True
    """

    name = "ar1"

    def __init__(
        self,
        *,
        kernel: str = "matern52",
        full_bayes: bool = False,
        approximation: str | None = None,
        ard: bool = True,
        n_basis: int | None = None,
        draws: int = 500,
        tune: int = 500,
        chains: int = 2,
        max_exact_low: int = 300,
        random_seed: int = 0,
    ) -> None:
        super().__init__(
            kernel=kernel,
            full_bayes=full_bayes,
            max_exact_low=max_exact_low,
            random_seed=random_seed,
        )
        if approximation not in AR1_APPROXIMATIONS:
            raise ValueError(
                f"approximation must be one of {list(AR1_APPROXIMATIONS)}, got {approximation!r}"
            )
        if approximation is not None and not full_bayes:
            raise ValueError(
                "approximation='hsgp' applies to full_bayes=True; the fast variant handles large "
                "low-fidelity sets with random Fourier features (max_exact_low)"
            )
        self.approximation = approximation
        self.ard = bool(ard)
        self.n_basis = _check_n_basis(n_basis)
        self.draws = check_positive_int("draws", draws)
        self.tune = check_positive_int("tune", tune)
        self.chains = check_positive_int("chains", chains)

    def _fit(self, X_low, y_low, X_high, y_high) -> None:
        if self.full_bayes:
            from mi_workbench.inference import fit as nuts_fit

            self.model_ = ar1_multifidelity_gp(
                X_low,
                y_low,
                X_high,
                y_high,
                kernel=self.kernel,
                ard=self.ard,
                approximation=self.approximation,
                n_basis=self.n_basis,
            )
            self.idata_ = nuts_fit(
                self.model_,
                draws=self.draws,
                tune=self.tune,
                chains=self.chains,
                random_seed=self.random_seed,
                progressbar=False,
            )
            self.rho_ = float(self.idata_["posterior"]["rho"].mean())
            return
        from scipy import optimize

        m_low, v_low = self._low(X_high)
        n = len(y_high)

        def negative_evidence(rho: float, n_restarts: int = 0):
            target = y_high - rho * m_low
            gp = _gaussian_process(self.kernel, self.random_seed, False, n_restarts)
            gp.fit(X_high, target)
            # marginal likelihood in the data's units: the GP works on standardised targets
            return -(gp.log_marginal_likelihood_ - n * math.log(gp._scaler.y_scale)), gp

        spread_low = float(np.std(m_low))
        if spread_low <= 1e-6 * (float(np.std(y_high)) + float(np.abs(m_low).max()) + 1e-12):
            # The cheap values at the expensive points are all alike (e.g. every training
            # material a metal with PBE gap 0): the data cannot tell rho from the discrepancy's
            # mean. Take rho = 1, the cheap quantity tracking the expensive one.
            self.rho_ = 1.0
            _, self.delta_ = negative_evidence(self.rho_, n_restarts=3)
            self.log_marginal_likelihood_ = -float(negative_evidence(self.rho_)[0])
            return
        bound = 3.0 * float(np.std(y_high)) / spread_low
        grid = np.linspace(-bound, bound, 17)
        values = np.array([negative_evidence(r)[0] for r in grid])
        k = int(np.argmin(values))
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
        result = optimize.minimize_scalar(
            lambda r: negative_evidence(r)[0],
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-3 * bound},
        )
        self.rho_ = float(result.x)
        self.delta_ = negative_evidence(self.rho_, n_restarts=3)[1]
        self.log_marginal_likelihood_ = -float(result.fun)

    def _predict(self, X_new):
        if self.full_bayes:
            return predict_ar1_multifidelity(self.idata_, self.model_, X_new)
        m_low, v_low = self._low(X_new)
        m_delta, sd_delta = self.delta_.predict(X_new)
        return self.rho_ * m_low + m_delta, np.sqrt(self.rho_**2 * v_low + sd_delta**2)


class DifferenceTransfer(MultiFidelityModel):
    """Hutchinson et al. (2017) "difference": learn ``y_high - y_low`` and add it to ``y_low``.

    The difference is learned at the high-fidelity inputs, where the low-fidelity values are
    looked up (rows of ``X_low``) or predicted. Prediction: ``y_low(x) + difference(x)``, with
    the variances of both parts added.

    Parameters
    ----------
    regressor : {"gp", "linear"}
        Model of the difference: a GP (:class:`~mi_workbench.design.GaussianProcessSurrogate`,
        type-II ML or ``full_bayes``) or :func:`~mi_workbench.models.bayesian_linear_regression`
        sampled with NUTS (always full Bayes).
    kernel, full_bayes, max_exact_low, random_seed :
        As in :class:`AR1MultiFidelityGP`.
    draws, tune : int
        NUTS settings for ``regressor="linear"``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 21)[:, None]
    >>> model = DifferenceTransfer().fit(x, np.sin(6 * x[:, 0]), x[::5], np.sin(6 * x[::5, 0]) + 1)
    >>> mean, sd = model.predict(x[2:3])
    >>> bool(abs(mean[0] - (np.sin(0.6) + 1)) < 0.05)
    True
    """

    name = "difference"

    def __init__(
        self,
        *,
        regressor: str = "gp",
        kernel: str = "matern52",
        full_bayes: bool = False,
        draws: int = 500,
        tune: int = 500,
        max_exact_low: int = 300,
        random_seed: int = 0,
    ) -> None:
        super().__init__(
            kernel=kernel,
            full_bayes=full_bayes,
            max_exact_low=max_exact_low,
            random_seed=random_seed,
        )
        self.regressor = check_choice("regressor", regressor, ("gp", "linear"))
        self.draws = check_positive_int("draws", draws)
        self.tune = check_positive_int("tune", tune)

    def _fit(self, X_low, y_low, X_high, y_high) -> None:
        m_low, _ = self._low(X_high)
        difference = y_high - m_low
        if self.regressor == "gp":
            self.difference_model_ = _gaussian_process(
                self.kernel, self.random_seed, self.full_bayes
            ).fit(X_high, difference)
            return
        from mi_workbench.inference import fit as nuts_fit
        from mi_workbench.models.regression import bayesian_linear_regression

        self.difference_model_ = bayesian_linear_regression(X_high, difference)
        self.idata_ = nuts_fit(
            self.difference_model_,
            draws=self.draws,
            tune=self.tune,
            random_seed=self.random_seed,
            progressbar=False,
        )

    def _predict(self, X_new):
        m_low, v_low = self._low(X_new)
        if self.regressor == "gp":
            m_d, sd_d = self.difference_model_.predict(X_new)
        else:
            from mi_workbench.models.regression import posterior_predictive_lines

            lines = posterior_predictive_lines(self.idata_, X_new)
            m_d, sd_d = lines.mean(axis=0), lines.std(axis=0)
        return m_low + m_d, np.sqrt(v_low + sd_d**2)


def _average_over_low_draws(conditional, m_low, sd_low, n_mc: int, random_seed: int):
    """Mean and variance of a prediction averaged over uncertain low-fidelity values.

    ``conditional(f) -> (mean, variance)`` predicts given low-fidelity values ``f``; it is
    averaged over ``n_mc`` draws ``f ~ N(m_low, sd_low**2)`` with the law of total variance
    (Monte Carlo propagation, as in Perdikaris et al. 2017).
    """
    rng = np.random.default_rng(random_seed)
    first = np.zeros(len(m_low))
    second = np.zeros(len(m_low))
    for _ in range(n_mc):
        mean, var = conditional(m_low + sd_low * rng.standard_normal(len(m_low)))
        first += mean
        second += var + mean * mean
    mean = first / n_mc
    return mean, second / n_mc - mean * mean


class ProxyTransfer(MultiFidelityModel):
    """Hutchinson et al. (2017) "proxy as descriptor": a GP on ``[X, y_low(X)]`` for ``y_high``.

    Where a low-fidelity value is predicted rather than looked up, its uncertainty is propagated
    by averaging the GP over ``n_mc`` draws of it (law of total variance).

    Parameters
    ----------
    include_features : bool
        Use the descriptors and ``y_low`` as inputs (True) or ``y_low`` alone.
    n_mc : int
        Draws of predicted low-fidelity values.
    kernel, full_bayes, max_exact_low, random_seed :
        As in :class:`AR1MultiFidelityGP`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 21)[:, None]
    >>> low = np.sin(6 * x[:, 0])
    >>> model = ProxyTransfer().fit(x, low, x[::3], 2 * low[::3] + 1)
    >>> mean, sd = model.predict(x[4:5])
    >>> bool(abs(mean[0] - (2 * low[4] + 1)) < 0.1)
    True
    """

    name = "proxy"

    def __init__(
        self,
        *,
        include_features: bool = True,
        n_mc: int = 32,
        kernel: str = "matern52",
        full_bayes: bool = False,
        max_exact_low: int = 300,
        random_seed: int = 0,
    ) -> None:
        super().__init__(
            kernel=kernel,
            full_bayes=full_bayes,
            max_exact_low=max_exact_low,
            random_seed=random_seed,
        )
        self.include_features = bool(include_features)
        self.n_mc = check_positive_int("n_mc", n_mc, minimum=2)

    def _inputs(self, X, y_low):
        return np.column_stack([X, y_low]) if self.include_features else y_low[:, None]

    def _fit(self, X_low, y_low, X_high, y_high) -> None:
        m_low, _ = self._low(X_high)
        self.gp_ = _gaussian_process(self.kernel, self.random_seed, self.full_bayes)
        self.gp_.fit(self._inputs(X_high, m_low), y_high)

    def _predict(self, X_new):
        m_low, v_low = self._low(X_new)
        if not (v_low > 0).any():
            return self.gp_.predict(self._inputs(X_new, m_low))

        def conditional(y_draw):
            mean, sd = self.gp_.predict(self._inputs(X_new, y_draw))
            return mean, sd**2

        mean, var = _average_over_low_draws(
            conditional, m_low, np.sqrt(v_low), self.n_mc, self.random_seed
        )
        return mean, np.sqrt(np.maximum(var, 1e-300))


def _ard_kernel(dist2: list[np.ndarray], log_ls: np.ndarray, kernel: str):
    """Unit-variance ARD kernel from per-column squared distances, and its log-length gradients.

    ``dist2[j]`` holds the squared differences of column ``j`` (standardised units). Returns
    ``K`` and ``[dK / dlog(l_j)]``; for Matern 5/2,
    ``dk/dlog l_j = 5/3 (1 + sqrt5 r) exp(-sqrt5 r) D_j / l_j^2`` (no division by ``r``).
    """
    inv2 = np.exp(-2.0 * np.asarray(log_ls))
    r2 = sum(d * w for d, w in zip(dist2, inv2, strict=True))
    if kernel == "rbf":
        K = np.exp(-0.5 * r2)
        return K, [K * d * w for d, w in zip(dist2, inv2, strict=True)]
    r = np.sqrt(r2)
    decay = np.exp(-math.sqrt(5.0) * r)
    K = (1.0 + math.sqrt(5.0) * r + 5.0 / 3.0 * r2) * decay
    common = 5.0 / 3.0 * (1.0 + math.sqrt(5.0) * r) * decay
    return K, [common * d * w for d, w in zip(dist2, inv2, strict=True)]


def _column_dist2(A: np.ndarray, B: np.ndarray) -> list[np.ndarray]:
    return [(A[:, j, None] - B[None, :, j]) ** 2 for j in range(A.shape[1])]


class NonlinearAR1MultiFidelityGP(MultiFidelityModel):
    """Nonlinear autoregressive multi-fidelity GP ("NARGP", Perdikaris et al. 2017).

    ``f_high(x) = g(x, f_low(x))`` with a GP prior on ``g`` whose covariance is

    ``k = s_lin^2 f f' + s_nl^2 k_f(f, f') k_x(x, x') + s_delta^2 k_delta(x, x')``

    (``f = f_low(x)`` standardised, ``k_f``, ``k_x`` and ``k_delta`` ARD kernels of unit
    variance). The product term lets the relation between the fidelities change with ``x``
    and bend with ``f`` (a scale factor that differs between families of materials or
    molecules); ``k_delta`` is the additive discrepancy. Perdikaris et al. (Proc. R. Soc. A 473,
    20160751, 2017) use the last two terms (``linear_term=False``); the default adds the linear
    term ``s_lin^2 f f'``, i.e. the AR1 model ``rho f_low + delta`` with a Gaussian prior on
    ``rho``, so that the model contains Kennedy-O'Hagan's as a special case and extrapolates
    linearly in ``f_low`` where the product term reverts to the mean.

    Fitting (recursive, like the fast :class:`AR1MultiFidelityGP`): ``f_low`` at the
    high-fidelity inputs is looked up (rows of ``X_low``) or predicted by the low-fidelity GP;
    the hyperparameters (length scales, the three signal variances, the noise variance) maximise
    the log marginal likelihood (L-BFGS-B with analytic gradients, ``n_restarts`` random
    restarts) on standardised inputs and targets. Prediction: where ``f_low`` is predicted
    rather than looked up, its uncertainty is propagated by Monte Carlo (``n_mc`` draws of
    ``f_low``, law of total variance), as in the paper.

    Parameters
    ----------
    linear_term : bool
        Add ``s_lin^2 f f'`` (default) or use the kernel of Perdikaris et al. as it is.
    n_mc : int
        Draws of predicted low-fidelity values.
    n_restarts : int
        Random restarts of the marginal-likelihood optimisation (besides a default start).
    kernel : {"matern52", "rbf"}
        Kernel of ``k_f``, ``k_x``, ``k_delta`` and of the low-fidelity GP.
    max_exact_low, random_seed :
        As in :class:`AR1MultiFidelityGP`.
    full_bayes : bool
        Must be False: only the type-II maximum-likelihood fit is available.

    Attributes
    ----------
    hyperparameters_ : dict
        Length scales (standardised inputs) and signal/noise sd (standardised target).
    log_marginal_likelihood_ : float
        On the standardised scale.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 41)[:, None]
    >>> low = np.sin(8 * np.pi * x[:, 0])
    >>> high = (x[:, 0] - np.sqrt(2)) * low**2
    >>> model = NonlinearAR1MultiFidelityGP().fit(x, low, x[::3], high[::3])
    >>> mean, sd = model.predict(x[1:2])
    >>> bool(abs(mean[0] - high[1]) < 0.1)
    True
    """

    name = "nargp"

    def __init__(
        self,
        *,
        linear_term: bool = True,
        n_mc: int = 32,
        n_restarts: int = 3,
        kernel: str = "matern52",
        full_bayes: bool = False,
        max_exact_low: int = 300,
        random_seed: int = 0,
    ) -> None:
        if full_bayes:
            raise ValueError(
                "full_bayes=True is not available for NonlinearAR1MultiFidelityGP; its "
                "hyperparameters are fitted by maximum marginal likelihood (full_bayes=False)"
            )
        super().__init__(
            kernel=kernel, full_bayes=False, max_exact_low=max_exact_low, random_seed=random_seed
        )
        self.linear_term = bool(linear_term)
        self.n_mc = check_positive_int("n_mc", n_mc, minimum=2)
        self.n_restarts = check_positive_int("n_restarts", n_restarts, minimum=0)

    # kernel on standardised [x, f] ------------------------------------------------------------

    def _unpack(self, theta):
        d = self._n_features
        log_s = theta[:3]  # log sd of the linear, product and discrepancy terms
        log_lf, log_lx, log_ld = theta[3], theta[4 : 4 + d], theta[4 + d : 4 + 2 * d]
        return log_s, log_lf, log_lx, log_ld, theta[4 + 2 * d]

    def _cross(self, theta, Za, fa, Zb, fb, grad: bool = False):
        """Covariance between ``(Za, fa)`` and ``(Zb, fb)`` (and its gradient list)."""
        log_s, log_lf, log_lx, log_ld, _ = self._unpack(theta)
        s2 = np.exp(2.0 * log_s)
        if not self.linear_term:
            s2[0] = 0.0
        dx = _column_dist2(Za, Zb)
        Kf, dKf = _ard_kernel([(fa[:, None] - fb[None, :]) ** 2], [log_lf], self.kernel)
        Kx, dKx = _ard_kernel(dx, log_lx, self.kernel)
        Kd, dKd = _ard_kernel(dx, log_ld, self.kernel)
        lin = np.outer(fa, fb)
        K = s2[0] * lin + s2[1] * Kf * Kx + s2[2] * Kd
        if not grad:
            return K
        grads = [2.0 * s2[0] * lin, 2.0 * s2[1] * Kf * Kx, 2.0 * s2[2] * Kd]
        grads += [s2[1] * dKf[0] * Kx]
        grads += [s2[1] * Kf * g for g in dKx]
        grads += [s2[2] * g for g in dKd]
        return K, grads

    def _neg_log_marginal(self, theta):
        K, grads = self._cross(theta, self._Z, self._f, self._Z, self._f, grad=True)
        noise = math.exp(theta[-1])
        n = len(self._y)
        K[np.diag_indices(n)] += noise + 1e-8
        try:
            L = linalg.cholesky(K, lower=True)
        except linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = linalg.cho_solve((L, True), self._y)
        value = 0.5 * self._y @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * math.log(2 * math.pi)
        inner = np.outer(alpha, alpha) - linalg.cho_solve((L, True), np.eye(n))
        gradient = [-0.5 * np.sum(inner * g) for g in grads]
        gradient = np.array([*gradient, -0.5 * noise * inner.trace()])
        if not self.linear_term:
            gradient[0] = 0.0
        return value, gradient

    def _fit(self, X_low, y_low, X_high, y_high) -> None:
        from scipy import optimize

        d = X_low.shape[1]
        self._x_mean, self._x_scale = X_low.mean(0), np.where(X_low.std(0) > 0, X_low.std(0), 1.0)
        self._f_mean, self._f_scale = float(y_low.mean()), float(y_low.std()) or 1.0
        self._y_mean, self._y_scale = float(y_high.mean()), float(y_high.std()) or 1.0
        m_low, _ = self._low(X_high)
        self._Z = (X_high - self._x_mean) / self._x_scale
        self._f = (m_low - self._f_mean) / self._f_scale
        self._y = (y_high - self._y_mean) / self._y_scale
        log_l = (math.log(0.05), math.log(50.0))
        bounds = [(math.log(0.02), math.log(20.0))] * 3 + [log_l] * (1 + 2 * d)
        bounds.append((math.log(1e-6), math.log(2.0)))
        starts = [np.r_[np.full(3, math.log(0.5)), np.zeros(1 + 2 * d), math.log(0.01)]]
        rng = np.random.default_rng(self.random_seed)
        for _ in range(self.n_restarts):
            starts.append(
                np.r_[
                    rng.uniform(-1.5, 0.5, 3),
                    rng.uniform(math.log(0.2), math.log(5.0), 1 + 2 * d),
                    rng.uniform(math.log(1e-4), math.log(0.3)),
                ]
            )
        best = None
        for start in starts:
            result = optimize.minimize(
                self._neg_log_marginal, start, jac=True, method="L-BFGS-B", bounds=bounds
            )
            if best is None or result.fun < best.fun:
                best = result
        self.theta_ = best.x
        self.log_marginal_likelihood_ = -float(best.fun)
        K = self._cross(self.theta_, self._Z, self._f, self._Z, self._f)
        K[np.diag_indices(len(K))] += math.exp(self.theta_[-1]) + 1e-8
        self._L = linalg.cholesky(K, lower=True)
        self._alpha = linalg.cho_solve((self._L, True), self._y)
        log_s, log_lf, log_lx, log_ld, log_noise = self._unpack(self.theta_)
        s = np.exp(log_s)
        self.hyperparameters_ = {
            "linear_sd": float(s[0]) if self.linear_term else 0.0,
            "product_sd": float(s[1]),
            "discrepancy_sd": float(s[2]),
            "lengthscale_f": float(np.exp(log_lf)),
            "lengthscale_x": np.exp(log_lx),
            "lengthscale_discrepancy": np.exp(log_ld),
            "noise_sd": float(np.exp(0.5 * log_noise)),
        }

    def _latent(self, Z, f):
        """Predictive mean and variance of ``g`` at standardised ``(Z, f)`` (standardised y)."""
        Ks = self._cross(self.theta_, Z, f, self._Z, self._f)
        mean = Ks @ self._alpha
        v = linalg.solve_triangular(self._L, Ks.T, lower=True)
        s2 = np.exp(2.0 * self.theta_[:3])  # unit kernels are 1 at zero distance
        prior = (s2[0] * f * f if self.linear_term else 0.0) + s2[1] + s2[2]
        return mean, np.maximum(prior - (v * v).sum(0), 1e-12)

    def _predict(self, X_new):
        m_low, v_low = self._low(X_new)
        Z = (X_new - self._x_mean) / self._x_scale
        f = (m_low - self._f_mean) / self._f_scale
        if not (v_low > 0).any():
            mean, var = self._latent(Z, f)
        else:
            sd_f = np.sqrt(v_low) / self._f_scale
            mean, var = _average_over_low_draws(
                lambda f_draw: self._latent(Z, f_draw), f, sd_f, self.n_mc, self.random_seed
            )
            var = np.maximum(var, 1e-12)
        return mean * self._y_scale + self._y_mean, np.sqrt(var) * self._y_scale


#: The multi-fidelity regressors by name.
TRANSFER_MODELS: dict[str, type[MultiFidelityModel]] = {
    "single_fidelity": SingleFidelityGP,
    "ar1": AR1MultiFidelityGP,
    "difference": DifferenceTransfer,
    "proxy": ProxyTransfer,
    "nargp": NonlinearAR1MultiFidelityGP,
}


def make_transfer_model(name: str, **options) -> MultiFidelityModel:
    """A multi-fidelity regressor by name (a key of :data:`TRANSFER_MODELS`).

    Parameters
    ----------
    name : str
        Key of :data:`TRANSFER_MODELS`.
    **options
        Passed to the class (e.g. ``full_bayes=True``, ``kernel="rbf"``).

    Examples
    --------
    >>> make_transfer_model("proxy", include_features=False).include_features
    False
    """
    if not isinstance(name, str) or name not in TRANSFER_MODELS:
        raise ValueError(f"name must be one of {list(TRANSFER_MODELS)}, got {name!r}")
    return TRANSFER_MODELS[name](**options)
