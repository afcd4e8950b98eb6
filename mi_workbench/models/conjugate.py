"""Closed-form conjugate Bayesian linear regression with evidence-maximised precisions.

The model is Bishop's (Pattern Recognition and Machine Learning, 2006, sec. 3.3-3.5)::

    y_i = w . x_i + b + noise,   noise ~ Normal(0, 1/beta),   w ~ Normal(0, I/alpha),

with a flat prior on the intercept ``b``. For fixed precisions ``alpha`` (prior) and ``beta``
(noise) the posterior of ``w`` is Gaussian in closed form; the precisions are set by maximising
the model evidence (type-II maximum likelihood, Bishop eqs. 3.91-3.95), iterated on one singular
value decomposition of the design matrix. Everything is NumPy: fitting a few thousand rows takes
well under a second and predicting thousands of rows takes milliseconds, which is what the
sequential Monte Carlo of :mod:`mi_workbench.molecules.iqspr` needs (it calls ``predict`` at
every step).

Unlike the PyMC model of :func:`mi_workbench.models.bayesian_linear_regression`, nothing is
sampled; use this one when the Gaussian conjugate model is enough and speed matters.
"""

from __future__ import annotations

import math

import numpy as np

from mi_workbench._checks import check_finite_array, check_positive, check_positive_int


class ConjugateLinearRegression:
    """Bayesian linear regression with evidence-optimised prior and noise precisions.

    Parameters
    ----------
    fit_intercept : bool, optional
        Fit an intercept with a flat prior (the data are centred; the intercept's posterior
        variance ``1/(beta n)`` is added to the predictive variance). With ``False`` the model
        has no intercept and :attr:`log_evidence_` is the exact marginal likelihood of ``y``.
    alpha : float, optional
        Initial prior precision of the weights (default 1).
    beta : float, optional
        Initial noise precision (default ``1 / var(y)``, or ``1 / mean(y**2)`` (at most 1)
        when all targets are equal).
    optimize : bool, optional
        Maximise the evidence over ``alpha`` and ``beta`` (default). With ``False`` the initial
        values are kept, which makes the evidence a known function of them.
    max_iter : int, optional
        Maximum number of fixed-point iterations (Bishop eqs. 3.92 and 3.95).
    tol : float, optional
        Stop when the relative changes of ``alpha`` and ``beta`` are both below ``tol``.

    Attributes
    ----------
    coef_ : ndarray, shape (n_features,)
        Posterior mean of the weights.
    intercept_ : float
        Intercept (0 without ``fit_intercept``).
    alpha_, beta_ : float
        Prior and noise precisions after optimisation.
    log_evidence_ : float
        Log marginal likelihood of the (centred, with ``fit_intercept``) targets at
        ``alpha_``, ``beta_`` (Bishop eq. 3.86).
    effective_parameters_ : float
        Number of well-determined parameters ``gamma`` (Bishop eq. 3.91).
    n_iter_ : int
        Fixed-point iterations used.

    Notes
    -----
    Degenerate data give a finite, prior-dominated fit rather than an error. Where all rows of
    ``X`` are equal (with ``fit_intercept``), the data say nothing about the weights: their
    posterior is the prior (mean 0, precision ``alpha`` kept at its initial value, which the
    evidence does not depend on), the intercept is ``mean(y)`` and ``effective_parameters_`` is
    0. Where all targets are equal, the noise precision goes to a cap of ``1e12`` over the
    scale of ``y`` and the prior precision to a cap of ``1e12`` over the data's largest
    curvature, so the fit reproduces the constant with finite precisions.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0 + rng.normal(scale=0.1, size=200)
    >>> model = ConjugateLinearRegression().fit(X, y)
    >>> np.round(model.coef_, 1), round(model.intercept_, 1)
    (array([ 1. , -2. ,  0.5]), 3.0)
    >>> mean, sd = model.predict(X[:2])
    >>> bool(np.all(np.abs(sd - 0.1) < 0.02))
    True
    """

    def __init__(
        self,
        *,
        fit_intercept: bool = True,
        alpha: float | None = None,
        beta: float | None = None,
        optimize: bool = True,
        max_iter: int = 300,
        tol: float = 1e-6,
    ) -> None:
        self.fit_intercept = bool(fit_intercept)
        self.alpha = None if alpha is None else check_positive("alpha", alpha)
        self.beta = None if beta is None else check_positive("beta", beta)
        self.optimize = bool(optimize)
        self.max_iter = check_positive_int("max_iter", max_iter)
        self.tol = check_positive("tol", tol)

    def decompose(self, X) -> dict:
        """Centre ``X`` and diagonalise it once, for several fits on the same rows.

        The result can be passed to :meth:`fit` as ``decomposition``; it does not depend on
        ``y``, so models of several properties of the same molecules share it.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Design matrix.

        Returns
        -------
        dict
            Singular values, right singular vectors and the column means of ``X``.

        Examples
        --------
        >>> X = np.random.default_rng(0).normal(size=(20, 2))
        >>> model = ConjugateLinearRegression()
        >>> parts = model.decompose(X)
        >>> coef = model.fit(X, X[:, 0], decomposition=parts).coef_
        >>> bool(np.allclose(coef, [1.0, 0.0], atol=1e-6))
        True
        """
        X = check_finite_array("X", X, ndim=2)
        n, p = X.shape
        x_offset = X.mean(axis=0) if self.fit_intercept else np.zeros(p)
        Xc = X - x_offset
        if self.fit_intercept:
            # a constant column centres to exactly zero (its mean may differ from it by roundoff)
            Xc[:, np.all(X == X[:1], axis=0)] = 0.0
        # eigen-decomposition of the smaller Gram matrix: much faster than an SVD of Xc
        if n >= p:
            s2, V = np.linalg.eigh(Xc.T @ Xc)
        else:
            s2, U = np.linalg.eigh(Xc @ Xc.T)
        keep = s2 > max(s2.max(initial=0.0), 0.0) * max(n, p) * np.finfo(float).eps * 10
        s = np.sqrt(s2[keep])
        V = V[:, keep] if n >= p else (Xc.T @ U[:, keep]) / s
        return {"s": s, "V": V, "x_offset": x_offset, "shape": (n, p)}

    def fit(self, X, y, *, decomposition: dict | None = None) -> ConjugateLinearRegression:
        """Fit the posterior of the weights and (by default) the precisions.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Design matrix.
        y : array-like, shape (n_samples,)
            Targets.
        decomposition : dict, optional
            ``self.decompose(X)`` computed before (saves the expensive step when fitting
            several targets on the same ``X``).

        Returns
        -------
        ConjugateLinearRegression
            ``self``, fitted.

        Examples
        --------
        >>> model = ConjugateLinearRegression().fit([[0.0], [1.0], [2.0]], [0.1, 1.0, 2.1])
        >>> round(float(model.coef_[0]), 1)
        1.0
        """
        X = check_finite_array("X", X, ndim=2)
        y = check_finite_array("y", y, ndim=1)
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}"
            )
        n, p = X.shape
        if n < 2:
            raise ValueError(f"X must have at least 2 rows to fit noise and prior, got {n}")
        if decomposition is None:
            decomposition = self.decompose(X)
        elif tuple(decomposition.get("shape", ())) != (n, p):
            raise ValueError(
                f"decomposition was computed for X of shape {decomposition.get('shape')}, "
                f"not {(n, p)}"
            )
        s, V, x_offset = decomposition["s"], decomposition["V"], decomposition["x_offset"]
        y_offset = float(y.mean()) if self.fit_intercept else 0.0
        yc = y - y_offset
        Vt = V.T
        s2 = s**2
        uty = (Vt @ (X.T @ yc - x_offset * yc.sum())) / s  # U^T y of the centred X
        yy = float(yc @ yc)
        n_eff = n - 1 if self.fit_intercept else n  # one degree of freedom went to the mean
        variance = yy / max(n_eff, 1)
        # a target without spread (all y equal) has no noise scale of its own: use its size
        scale = variance if variance > 0 else max(float(np.mean(y**2)), 1.0)
        alpha = self.alpha if self.alpha is not None else 1.0
        beta = self.beta if self.beta is not None else 1.0 / scale
        beta_cap = 1e12 / scale
        n_iter = 0
        while self.optimize and n_iter < self.max_iter:
            n_iter += 1
            shrink = beta * s2 / (alpha + beta * s2)
            gamma = float(shrink.sum())
            coef_rot = shrink * uty / s  # coordinates of the posterior mean in the V basis
            mm = float(coef_rot @ coef_rot)
            rss = yy - float(uty @ uty) + float(((uty - s * coef_rot) ** 2).sum())
            if s.size == 0:
                # all rows of X equal: the evidence does not depend on alpha, the prior stays
                new_alpha = alpha
            else:
                # weights explaining nothing (mm -> 0) would send alpha to infinity: cap it
                new_alpha = min(gamma / max(mm, 1e-300), 1e12 * beta * float(s2.max()))
            # an interpolating fit (rss -> 0) would send beta to infinity: cap it
            new_beta = min(max(n_eff - gamma, 1e-12) / max(rss, 1e-300), beta_cap)
            done = (
                abs(new_alpha - alpha) <= self.tol * alpha
                and abs(new_beta - beta) <= self.tol * beta
            )
            alpha, beta = new_alpha, new_beta
            if done:
                break
        shrink = beta * s2 / (alpha + beta * s2)
        coef_rot = shrink * uty / s
        rss = yy - float(uty @ uty) + float(((uty - s * coef_rot) ** 2).sum())
        mm = float(coef_rot @ coef_rot)
        log_det_a = float(np.log(alpha + beta * s2).sum()) + (p - s.size) * math.log(alpha)
        self.log_evidence_ = (
            0.5 * p * math.log(alpha)
            + 0.5 * n_eff * math.log(beta)
            - 0.5 * beta * rss
            - 0.5 * alpha * mm
            - 0.5 * log_det_a
            - 0.5 * n_eff * math.log(2 * math.pi)
        )
        self.coef_ = Vt.T @ coef_rot
        self.intercept_ = y_offset - float(x_offset @ self.coef_)
        self.alpha_, self.beta_ = float(alpha), float(beta)
        self.effective_parameters_ = float(shrink.sum())
        self.n_iter_ = n_iter
        self.n_samples_, self.n_features_in_ = n, p
        # posterior covariance S = V diag(1/(alpha + beta s^2)) V^T + (I - V V^T)/alpha
        self._V = Vt.T
        self._v_weights = 1.0 / (alpha + beta * s2) - 1.0 / alpha
        self._x_offset = x_offset
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("this ConjugateLinearRegression is not fitted yet; call fit(X, y)")

    def predict(self, X, *, include_noise: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and standard deviation.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Rows to predict.
        include_noise : bool, optional
            Add the noise variance ``1/beta`` (default: the sd of a new observation); with
            ``False`` the sd is that of the regression function only.

        Returns
        -------
        mean, sd : ndarray, shape (n_samples,)

        Examples
        --------
        >>> model = ConjugateLinearRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 1, 2, 3.1])
        >>> mean, sd = model.predict([[10.0]], include_noise=False)
        >>> bool(sd[0] > model.predict([[1.5]], include_noise=False)[1][0])
        True
        """
        self._check_fitted()
        X = check_finite_array("X", X, ndim=2)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have {self.n_features_in_} columns (as in fit), got {X.shape[1]}"
            )
        mean = X @ self.coef_ + self.intercept_
        Xc = X - self._x_offset
        projected = Xc @ self._V
        variance = np.einsum("ij,ij->i", Xc, Xc) / self.alpha_ + (projected**2) @ self._v_weights
        if self.fit_intercept:
            variance = variance + 1.0 / (self.beta_ * self.n_samples_)
        if include_noise:
            variance = variance + 1.0 / self.beta_
        return mean, np.sqrt(np.maximum(variance, 0.0))
