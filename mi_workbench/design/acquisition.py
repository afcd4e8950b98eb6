"""Acquisition functions and batch selection for adaptive design.

Conventions
-----------
- A HIGHER score is ALWAYS better, whether the objective is minimised or maximised
  (``minimize=True`` is the default: the Xue et al. loop minimises thermal hysteresis).
- Ties are broken deterministically: among equal scores the candidate with the lowest index wins.
- Scoring functions take the surrogate's posterior mean and sd of the latent function and the best
  observed value: ``f(mean, sd, best, *, minimize=True, **params) -> scores``.
  :func:`thompson_sampling` and :func:`knowledge_gradient` need the surrogate itself.
- :func:`select_batch` scores a candidate array of any size in chunks (memory flat) and builds a
  batch by the Kriging believer (Xue et al. 2016) or by independent Thompson draws.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping

import numpy as np
from scipy import special

from mi_workbench._checks import (
    check_finite_array,
    check_finite_number,
    check_positive_int,
)
from mi_workbench.design.surrogates import (
    DEFAULT_CHUNK_SIZE,
    EXACT_SAMPLE_MAX,
    Surrogate,
    _as_rng,
    iter_chunks,
    make_surrogate,
)

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _norm_cdf(z):
    return 0.5 * special.erfc(-z / _SQRT2)


def _norm_pdf(z):
    z = np.clip(z, -60.0, 60.0)  # the density is 0 in float64 well before
    return _INV_SQRT_2PI * np.exp(-0.5 * z * z)


def _scores_input(name: str, values) -> np.ndarray:
    """``values`` as a float array of finite numbers (empty allowed: no candidates)."""
    if isinstance(values, np.ndarray | list | tuple) and np.size(values) == 0:
        return np.asarray(values, dtype=float)
    return check_finite_array(name, values)


def _mean_sd(mean, sd) -> tuple[np.ndarray, np.ndarray]:
    mean = _scores_input("mean", mean)
    sd = _scores_input("sd", sd)
    if mean.shape != sd.shape:
        raise ValueError(f"mean and sd must have the same shape, got {mean.shape} and {sd.shape}")
    if np.any(sd < 0):
        raise ValueError(
            f"sd must be >= 0 everywhere (a standard deviation), got {float(sd.min())!r}"
        )
    return mean, sd


def _improvement(mean, best, minimize, xi):
    best = check_finite_number("best", best)
    xi = check_finite_number("xi", xi)
    return (best - xi - mean) if minimize else (mean - best - xi)


def _interval_end(name: str, value) -> float:
    """An end of an interval: a finite number or +-infinity (an open end), not NaN."""
    if isinstance(value, (float, np.floating)) and math.isinf(value):
        return float(value)
    return check_finite_number(name, value)


def expected_improvement(mean, sd, best, *, minimize: bool = True, xi: float = 0.0) -> np.ndarray:
    """Expected improvement over ``best`` (Jones et al. 1998).

    For minimisation, with ``I = best - xi - mean`` and ``z = I / sd``:
    ``EI = I * Phi(z) + sd * phi(z) = E[max(best - xi - f, 0)]`` for ``f ~ N(mean, sd^2)``;
    for maximisation ``I = mean - best - xi``. Where ``sd == 0``, ``EI = max(I, 0)``.

    Examples
    --------
    >>> float(expected_improvement(0.0, 1.0, 0.0)[()])  # phi(0) = 1/sqrt(2 pi)
    0.3989422804014327
    """
    mean, sd = _mean_sd(mean, sd)
    improvement = _improvement(mean, best, minimize, xi)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, improvement / np.where(sd > 0, sd, 1.0), 0.0)
    ei = improvement * _norm_cdf(z) + sd * _norm_pdf(z)
    return np.where(sd > 0, np.maximum(ei, 0.0), np.maximum(improvement, 0.0))


def probability_of_improvement(
    mean, sd, best, *, minimize: bool = True, xi: float = 0.0
) -> np.ndarray:
    """Probability that the latent value beats ``best`` by more than ``xi`` (Kushner 1964).

    ``PI = Phi((best - xi - mean) / sd)`` for minimisation, ``Phi((mean - best - xi) / sd)`` for
    maximisation.

    Examples
    --------
    >>> float(probability_of_improvement(1.0, 1.0, 1.0)[()])
    0.5
    """
    mean, sd = _mean_sd(mean, sd)
    improvement = _improvement(mean, best, minimize, xi)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = improvement / np.where(sd > 0, sd, 1.0)
    return np.where(sd > 0, _norm_cdf(z), (improvement > 0).astype(float))


def confidence_bound(mean, sd, best=None, *, minimize: bool = True, kappa: float = 2.0):
    """Lower (minimisation) or upper (maximisation) confidence bound, as a score.

    Minimisation: ``score = -(mean - kappa sd)`` (the LCB, negated so that higher is better);
    maximisation: ``score = mean + kappa sd`` (the UCB). ``best`` is not used.

    Examples
    --------
    >>> float(confidence_bound(1.0, 0.5, kappa=2.0)[()])
    0.0
    """
    mean, sd = _mean_sd(mean, sd)
    kappa = check_finite_number("kappa", kappa)
    if kappa < 0:
        raise ValueError(f"kappa must be a finite number >= 0, got {kappa!r}")
    return (kappa * sd - mean) if minimize else (mean + kappa * sd)


def exploit(mean, sd, best=None, *, minimize: bool = True) -> np.ndarray:
    """Pure exploitation: the best posterior mean (``-mean`` when minimising, else ``mean``).

    Examples
    --------
    >>> exploit([1.0, 2.0], [1.0, 1.0]).tolist()
    [-1.0, -2.0]
    """
    mean, sd = _mean_sd(mean, sd)
    return -mean if minimize else mean.copy()


def explore(mean, sd, best=None, *, minimize: bool = True) -> np.ndarray:
    """Pure exploration: the largest posterior sd (the same for both directions).

    Examples
    --------
    >>> explore([1.0, 2.0], [0.1, 0.3]).tolist()
    [0.1, 0.3]
    """
    mean, sd = _mean_sd(mean, sd)
    return sd.copy()


def probability_in_interval(mean, sd, low=-np.inf, high=np.inf) -> np.ndarray:
    """Probability that the latent value lies in ``[low, high]``, e.g. a target property window.

    ``P = Phi((high - mean) / sd) - Phi((low - mean) / sd)``; one of the ends may be infinite.

    Examples
    --------
    >>> round(float(probability_in_interval(0.0, 1.0, -1.96, 1.96)[()]), 3)
    0.95
    """
    mean, sd = _mean_sd(mean, sd)
    low, high = _interval_end("low", low), _interval_end("high", high)
    if not low < high:
        raise ValueError(f"the interval needs low < high, got low={low!r}, high={high!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(sd > 0, sd, 1.0)
        p = _norm_cdf((high - mean) / safe) - _norm_cdf((low - mean) / safe)
    inside = ((mean >= low) & (mean <= high)).astype(float)
    return np.where(sd > 0, np.clip(p, 0.0, 1.0), inside)


def _interval_score(mean, sd, best=None, *, minimize=True, low=-np.inf, high=np.inf):
    return probability_in_interval(mean, sd, low, high)


# --------------------------------------------------------------------------------------------
# acquisitions that need the surrogate


def _signed(values: np.ndarray, minimize: bool) -> np.ndarray:
    return -values if minimize else values


def thompson_sampling(
    surrogate: Surrogate,
    X_candidates,
    *,
    minimize: bool = True,
    rng=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> np.ndarray:
    """Scores from one joint posterior draw of the latent function (Thompson 1933).

    The score is the draw itself (negated when minimising), so the best candidate of the draw
    scores highest. Exact joint draws for up to ``EXACT_SAMPLE_MAX`` candidates; for larger sets
    one posterior function draw (``surrogate.sample_functions``) is evaluated chunk by chunk.

    Examples
    --------
    >>> import numpy as np
    >>> from mi_workbench.design.surrogates import GaussianProcessSurrogate
    >>> X = np.linspace(0, 1, 10)[:, None]
    >>> gp = GaussianProcessSurrogate().fit(X, (X[:, 0] - 0.5) ** 2)
    >>> thompson_sampling(gp, np.linspace(0, 1, 50)[:, None], rng=0).shape
    (50,)
    """
    m = _check_surrogate_candidates(surrogate, X_candidates)
    chunk_size = check_positive_int("chunk_size", chunk_size)
    rng = _as_rng(rng)
    if m <= EXACT_SAMPLE_MAX:
        return _signed(surrogate.sample(X_candidates, 1, rng)[0], minimize)
    draw = surrogate.sample_functions(1, rng)
    out = np.empty(m)
    for start, block in iter_chunks(X_candidates, chunk_size):
        out[start : start + len(block)] = draw(block)[0]
    return _signed(out, minimize)


def _check_surrogate_candidates(surrogate, X_candidates) -> int:
    """The number of candidates; raise unless ``surrogate`` is fitted and can score them."""
    if not isinstance(surrogate, Surrogate):
        raise TypeError(
            "surrogate must be a fitted Surrogate (e.g. make_surrogate('gp').fit(X, y)), got "
            f"{type(surrogate).__name__}"
        )
    return surrogate.check_candidates(X_candidates, "X_candidates")


def _expected_max_gain(a: np.ndarray, b: np.ndarray) -> float:
    """E[max_i (a_i + b_i Z)] - max_i a_i for Z ~ N(0, 1), exactly (Frazier et al. 2009, alg. 1).

    Lines sorted by slope, dominated lines dropped, then
    ``sum_j (b_{j+1} - b_j) f(-|c_j|)`` with ``f(z) = z Phi(z) + phi(z)`` over the breakpoints
    ``c_j`` of the upper envelope.
    """
    order = np.lexsort((a, b))  # by slope, then intercept
    a, b = a[order], b[order]
    # among equal slopes keep the largest intercept (the last one after lexsort)
    # (slopes equal to round-off count as equal: their breakpoint would overflow)
    keep = np.r_[np.diff(b) > 1e-12 * max(float(np.abs(b).max()), 1e-300), True]
    a, b = a[keep], b[keep]
    if len(a) == 1:
        return 0.0
    hull_a = [a[0]]
    hull_b = [b[0]]
    hull_c = [-math.inf]  # z where each hull line starts to be the maximum
    for ai, bi in zip(a[1:].tolist(), b[1:].tolist(), strict=True):
        while True:
            c = (hull_a[-1] - ai) / (bi - hull_b[-1])
            if c <= hull_c[-1]:
                hull_a.pop()
                hull_b.pop()
                hull_c.pop()
                if not hull_a:
                    c = -math.inf
                    break
            else:
                break
        hull_a.append(ai)
        hull_b.append(bi)
        hull_c.append(c)
    if len(hull_a) == 1:
        return 0.0
    slopes = np.diff(np.asarray(hull_b))
    c = np.minimum(np.abs(np.asarray(hull_c[1:])), 60.0)
    f = -c * _norm_cdf(-c) + _norm_pdf(c)
    return float(np.sum(slopes * f))


def _kg_subset(mean, sd, size, rng) -> np.ndarray:
    """Indices of the subsample on which KG is computed for large candidate sets."""
    m = len(mean)
    if m <= size:
        return np.arange(m)
    half = size // 2
    by_mean = np.argsort(mean, kind="stable")[::-1][: half // 2 + half % 2]
    by_bound = np.argsort(mean + 2.0 * sd, kind="stable")[::-1][: half // 2]
    chosen = np.unique(np.r_[by_mean, by_bound])
    rest = np.setdiff1d(np.arange(m), chosen, assume_unique=True)
    fill = rng.choice(rest, size - len(chosen), replace=False)
    return np.sort(np.r_[chosen, fill])


def knowledge_gradient(
    surrogate: Surrogate,
    X_candidates,
    *,
    minimize: bool = True,
    noise_sd: float | None = None,
    max_exact: int = 500,
    rng=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> np.ndarray:
    """Knowledge gradient for correlated beliefs over a discrete set (Frazier et al. 2009).

    For a measurement at candidate ``x`` with noise variance ``lambda``, the posterior mean over
    the alternatives moves to ``a + b(x) Z`` with ``a`` the current mean (negated when
    minimising), ``b(x) = Sigma[:, x] / sqrt(lambda + Sigma[x, x])`` and ``Z ~ N(0, 1)``, where
    ``Sigma`` is the surrogate's joint posterior covariance over the alternatives.
    ``KG(x) = E[max_i (a_i + b_i(x) Z)] - max_i a_i`` (the expected gain in the best mean that
    one more measurement brings), computed EXACTLY by the upper-envelope algorithm of the paper.

    The set of alternatives is the whole candidate set when it has at most ``max_exact`` rows.
    Larger sets use a SUBSAMPLE of ``max_exact`` candidates: a quarter with the best posterior
    mean, a quarter with the best confidence bound (mean +- 2 sd) and the rest at random
    (``rng``); KG is exact on that subsample and candidates outside it get ``-inf``.
    Cost: O(max_exact^2 log max_exact).

    Parameters
    ----------
    surrogate : Surrogate
        A fitted surrogate (uses ``predict`` and ``posterior_covariance``).
    X_candidates : array-like, shape (m, d)
    minimize : bool
    noise_sd : float, optional
        Measurement-noise sd of the next experiment; default ``surrogate.noise_sd_``.
    max_exact : int
        Largest set on which KG is computed.
    rng : numpy Generator or int, optional
        For the random part of the subsample.

    Examples
    --------
    >>> import numpy as np
    >>> from mi_workbench.design.surrogates import GaussianProcessSurrogate
    >>> X = np.array([[0.0], [0.1], [0.2]])
    >>> gp = GaussianProcessSurrogate(noise_sd=0.05).fit(X, [1.0, 0.8, 0.9])
    >>> kg = knowledge_gradient(gp, np.linspace(0, 1, 21)[:, None])
    >>> bool((kg >= 0).all())
    True
    """
    max_exact = check_positive_int("max_exact", max_exact, minimum=2)
    m = _check_surrogate_candidates(surrogate, X_candidates)
    chunk_size = check_positive_int("chunk_size", chunk_size)
    if noise_sd is not None:
        noise_sd = check_finite_number("noise_sd", noise_sd)
        if noise_sd < 0:
            raise ValueError(f"noise_sd must be a number >= 0 or None, got {noise_sd!r}")
    rng = _as_rng(rng)
    if m <= max_exact:
        X_subset = np.asarray(X_candidates, dtype=float)
        subset = np.arange(m)
        mean, _ = surrogate.predict(X_subset)
    else:
        mean_all, sd_all = surrogate.predict(X_candidates, chunk_size=chunk_size)
        subset = _kg_subset(_signed(mean_all, minimize), sd_all, max_exact, rng)
        X_subset = np.asarray(X_candidates[subset], dtype=float)
        mean = mean_all[subset]
    with np.errstate(over="ignore"):
        noise_var = float(np.square(surrogate.noise_sd_ if noise_sd is None else noise_sd))
    if not math.isfinite(noise_var):
        raise ValueError(f"noise_sd is too large (its square overflows), got {noise_sd!r}")
    cov = surrogate.posterior_covariance(X_subset)
    a = _signed(mean, minimize)
    variance = np.maximum(np.diag(cov), 0.0) + noise_var
    # A measurement whose predictive variance vanishes (a noise-free repeat of an observed
    # point) teaches nothing: its KG is 0. Dividing by a round-off variance would blow up.
    known = variance <= 1e-12 * max(float(variance.max()), 1e-300)
    denom = np.sqrt(np.where(known, 1.0, variance))
    kg = np.array(
        [0.0 if known[j] else _expected_max_gain(a, cov[:, j] / denom[j]) for j in range(len(a))]
    )
    out = np.full(m, -np.inf)
    out[subset] = np.maximum(kg, 0.0)
    return out


# --------------------------------------------------------------------------------------------
# registry

#: Scoring functions by name; each is ``f(mean, sd, best, *, minimize, **params)`` except
#: ``thompson_sampling`` and ``knowledge_gradient``, which take ``(surrogate, X_candidates, ...)``.
ACQUISITIONS: dict[str, Callable] = {
    "expected_improvement": expected_improvement,
    "probability_of_improvement": probability_of_improvement,
    "confidence_bound": confidence_bound,
    "exploit": exploit,
    "explore": explore,
    "probability_in_interval": _interval_score,
    "thompson_sampling": thompson_sampling,
    "knowledge_gradient": knowledge_gradient,
}
#: Short names accepted wherever an acquisition name is.
ACQUISITION_ALIASES = {
    "ei": "expected_improvement",
    "pi": "probability_of_improvement",
    "ucb": "confidence_bound",
    "lcb": "confidence_bound",
    "thompson": "thompson_sampling",
    "ts": "thompson_sampling",
    "kg": "knowledge_gradient",
    "interval": "probability_in_interval",
}
_NEEDS_SURROGATE = {"thompson_sampling", "knowledge_gradient"}
# scores that cannot increase when sd shrinks at fixed mean and the best gets no worse: a
# Kriging-believer step (mean unchanged, sd reduced) can then be searched on a shortlist exactly
_MONOTONE_IN_SD = {"expected_improvement", "confidence_bound", "exploit", "explore"}
BATCH_METHODS = ("kriging_believer", "thompson")


def acquisition_name(acquisition: str) -> str:
    """The registry name of ``acquisition`` (a name or alias); raises on unknown names."""
    if not isinstance(acquisition, str):
        raise TypeError(f"acquisition must be a name (str), got {acquisition!r}")
    name = ACQUISITION_ALIASES.get(acquisition.lower(), acquisition.lower())
    if name not in ACQUISITIONS:
        raise ValueError(
            f"unknown acquisition {acquisition!r}; choose one of {sorted(ACQUISITIONS)} "
            f"or the short names {sorted(ACQUISITION_ALIASES)}"
        )
    return name


#: Arguments of the registered acquisitions that are not user settings.
_NOT_PARAMS = {"mean", "sd", "best", "minimize", "surrogate", "X_candidates", "rng", "chunk_size"}


def _check_acquisition_params(name: str, params: Mapping | None) -> dict:
    """``params`` as a dict, checked against the settings that acquisition ``name`` takes.

    Raises a ``ValueError`` that names an unknown key (with the valid ones) and a ``TypeError`` or
    ``ValueError`` for a value the acquisition refuses (tried on one dummy candidate), so that a
    typo is caught where it is typed, not at every later suggestion.
    """
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise TypeError(
            f"acquisition_params must be a dict of setting -> value, got {type(params).__name__}"
        )
    params = dict(params)
    function = ACQUISITIONS[name]
    valid = [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.name not in _NOT_PARAMS
    ]
    unknown = [key for key in params if key not in valid]
    if unknown:
        takes = f"the settings {valid}" if valid else "no settings"
        raise ValueError(
            f"acquisition_params: unknown key(s) {unknown} for acquisition {name!r}, which takes "
            f"{takes}"
        )
    if name not in _NEEDS_SURROGATE:
        try:
            scores = function(np.zeros(1), np.ones(1), 0.0, minimize=True, **params)
            np.asarray(scores, dtype=float)
        except (TypeError, ValueError) as error:
            raise type(error)(f"acquisition_params {params} for {name!r}: {error}") from None
    elif "noise_sd" in params and params["noise_sd"] is not None:
        noise = params["noise_sd"]
        if (
            isinstance(noise, bool)
            or not isinstance(noise, (int, float))
            or not 0 <= noise < math.inf
        ):
            raise ValueError(
                f"acquisition_params: noise_sd must be a number >= 0 or None, got {noise!r}"
            )
    if "max_exact" in params:
        check_positive_int("acquisition_params['max_exact']", params["max_exact"], minimum=2)
    return params


def score_candidates(
    surrogate: Surrogate,
    X_candidates,
    acquisition: str = "expected_improvement",
    best: float | None = None,
    *,
    minimize: bool = True,
    acquisition_params: Mapping | None = None,
    rng=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> np.ndarray:
    """Acquisition scores of every candidate (higher is better), computed chunk by chunk.

    Parameters
    ----------
    surrogate : Surrogate
        A fitted surrogate.
    X_candidates : array-like, shape (m, d)
        NumPy or dask array (or DataArray); read ``chunk_size`` rows at a time.
    acquisition : str
        A name of :data:`ACQUISITIONS` or an alias (``"ei"``, ``"lcb"``, ``"kg"``, ...).
    best : float, optional
        Best observed value; needed by expected and probability of improvement.
    acquisition_params : mapping, optional
        Extra parameters, e.g. ``{"kappa": 3}`` or ``{"low": 2.0, "high": 4.0}``.

    Returns
    -------
    numpy.ndarray, shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> from mi_workbench.design.surrogates import GaussianProcessSurrogate
    >>> X = np.linspace(0, 1, 8)[:, None]
    >>> gp = GaussianProcessSurrogate().fit(X, np.cos(5 * X[:, 0]))
    >>> score_candidates(gp, np.linspace(0, 1, 100)[:, None], "ei", best=-0.9).shape
    (100,)
    """
    name = acquisition_name(acquisition)
    params = _check_acquisition_params(name, acquisition_params)
    m = _check_surrogate_candidates(surrogate, X_candidates)
    chunk_size = check_positive_int("chunk_size", chunk_size)
    if best is not None:
        best = check_finite_number("best", best)
    if name == "thompson_sampling":
        return thompson_sampling(
            surrogate, X_candidates, minimize=minimize, rng=rng, chunk_size=chunk_size
        )
    if name == "knowledge_gradient":
        return knowledge_gradient(
            surrogate, X_candidates, minimize=minimize, rng=rng, chunk_size=chunk_size, **params
        )
    function = ACQUISITIONS[name]
    if name in ("expected_improvement", "probability_of_improvement") and best is None:
        raise ValueError(f"{name} needs best (the best observed value)")
    out = np.empty(m)
    for start, block in iter_chunks(X_candidates, chunk_size):
        mean, sd = surrogate.predict(block, chunk_size=len(block))
        out[start : start + len(block)] = function(mean, sd, best, minimize=minimize, **params)
    return out


def _argmax_lowest_index(scores: np.ndarray, allowed: np.ndarray) -> int:
    masked = np.where(allowed, scores, -np.inf)
    index = int(np.argmax(masked))  # first occurrence: lowest index among ties
    if not allowed[index]:
        raise ValueError("no candidate left to choose")
    return index


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best scores, best first, ties by lowest index."""
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


def select_batch(
    surrogate: Surrogate | str,
    X_candidates,
    X_observed,
    y_observed,
    acquisition: str = "expected_improvement",
    batch_size: int = 1,
    *,
    minimize: bool = True,
    method: str | None = None,
    rng=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    acquisition_params: Mapping | None = None,
    exclude=None,
    refit: bool = True,
    shortlist_size: int = 20_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose ``batch_size`` distinct candidates to measure next.

    Parameters
    ----------
    surrogate : Surrogate or str
        Surrogate (or its name, see :func:`~mi_workbench.design.surrogates.make_surrogate`).
    X_candidates : array-like, shape (m, d)
        Candidate features (NumPy, dask or DataArray; scored ``chunk_size`` rows at a time).
    X_observed, y_observed : array-like, shapes (n, d) and (n,)
        Measurements so far (replicates allowed).
    acquisition : str
        Name or alias from :data:`ACQUISITIONS`.
    batch_size : int
        Number of candidates to return.
    minimize : bool
        Direction of the objective.
    method : {"kriging_believer", "thompson"}, optional
        ``"kriging_believer"`` (Xue et al. 2016): pick the best candidate, add its predicted
        mean as a fake observation (hyperparameters kept), re-score, pick the next.
        ``"thompson"``: one independent joint posterior draw per batch member, each taking its
        best candidate not yet chosen; only with ``acquisition="thompson_sampling"``. Default:
        ``"thompson"`` for Thompson sampling, otherwise ``"kriging_believer"``.
    rng : numpy Generator or int, optional
        Randomness of Thompson draws and of the knowledge-gradient subsample.
    acquisition_params : mapping, optional
        Extra parameters of the acquisition (``xi``, ``kappa``, ``low``/``high``, ``noise_sd``).
    exclude : array of int, optional
        Candidate positions that must not be chosen (for example those already measured).
    refit : bool
        Fit the surrogate on the observations first (default); ``False`` uses it as fitted.
    shortlist_size : int
        For Kriging-believer steps after the first, candidates re-scored first. Used only where
        it is provably exact (expected improvement, confidence bound, exploit, explore with a
        GP or random-feature surrogate: their scores cannot rise when a fake observation at the
        predicted mean is added); if the shortlist's best falls below the best score outside
        it, all candidates are re-scored.

    Returns
    -------
    indices : numpy.ndarray of int, shape (batch_size,)
        Positions in ``X_candidates``, in the order chosen.
    scores : numpy.ndarray, shape (batch_size,)
        Acquisition value of each at the moment it was chosen.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 1, (12, 2))
    >>> y = ((X - 0.3) ** 2).sum(1)
    >>> grid = rng.uniform(0, 1, (500, 2))
    >>> idx, scores = select_batch("gp", grid, X, y, "ei", batch_size=4)
    >>> len(set(idx.tolist()))
    4
    """
    name = acquisition_name(acquisition)
    batch_size = check_positive_int("batch_size", batch_size)
    if method is None:
        method = "thompson" if name == "thompson_sampling" else "kriging_believer"
    if method not in BATCH_METHODS:
        raise ValueError(f"method must be one of {list(BATCH_METHODS)}, got {method!r}")
    if method == "thompson" and name != "thompson_sampling":
        raise ValueError(
            "method='thompson' builds the batch from independent posterior draws and needs "
            f"acquisition='thompson_sampling', got {acquisition!r}; use "
            "method='kriging_believer' for other acquisitions"
        )
    chunk_size = check_positive_int("chunk_size", chunk_size)
    shape = getattr(X_candidates, "shape", None)
    if shape is None or isinstance(X_candidates, np.ndarray):
        X_candidates = check_finite_array("X_candidates", X_candidates)
        shape = X_candidates.shape
    if len(shape) != 2:
        raise ValueError(f"X_candidates must be 2-dimensional, got shape {tuple(shape)}")
    m = int(shape[0])
    allowed = np.ones(m, dtype=bool)
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=np.int64).ravel()
        if exclude.size and (exclude.min() < -m or exclude.max() >= m):
            raise ValueError(f"exclude holds positions outside 0..{m - 1}")
        allowed[exclude] = False
    available = int(allowed.sum())
    if batch_size > available:
        raise ValueError(
            f"batch_size={batch_size} is larger than the {available} candidates available "
            f"({m} in all, {m - available} excluded)"
        )
    X_observed = check_finite_array("X_observed", X_observed, 2)
    y_observed = check_finite_array("y_observed", y_observed, 1)
    if len(X_observed) != len(y_observed):
        raise ValueError(
            f"X_observed and y_observed must have the same number of rows, got "
            f"{len(X_observed)} and {len(y_observed)}"
        )
    if X_observed.shape[1] != shape[1]:
        raise ValueError(
            f"X_observed has {X_observed.shape[1]} columns but X_candidates has {shape[1]}"
        )
    rng = _as_rng(rng)
    model = make_surrogate(surrogate)
    if refit or not model.is_fitted:
        model.fit(X_observed, y_observed)
    model.check_candidates(X_candidates, "X_candidates")
    best = float(y_observed.min() if minimize else y_observed.max())
    params = dict(acquisition_params or {})

    if method == "thompson":
        return _thompson_batch(model, X_candidates, batch_size, allowed, minimize, rng, chunk_size)

    def score(current, best_value, rows=None):
        X = X_candidates if rows is None else np.asarray(X_candidates[rows], dtype=float)
        return score_candidates(
            current,
            X,
            name,
            best_value,
            minimize=minimize,
            acquisition_params=params,
            rng=rng,
            chunk_size=chunk_size,
        )

    shortcut = model.mean_preserving_update and name in _MONOTONE_IN_SD and batch_size > 1
    indices: list[int] = []
    values: list[float] = []
    current = model
    scores = score(current, best)
    shortlist = outside_best = None

    def make_shortlist(scores):
        candidates = np.flatnonzero(allowed)
        k = min(max(shortlist_size, 10 * batch_size), len(candidates))
        chosen = np.sort(candidates[_top_k(scores[candidates], k)])
        rest = np.setdiff1d(candidates, chosen, assume_unique=True)
        return chosen, (float(scores[rest].max()) if len(rest) else -np.inf)

    if shortcut:
        shortlist, outside_best = make_shortlist(scores)
    for step in range(batch_size):
        if step > 0 and shortcut:
            sub = score(current, best, shortlist)
            sub_allowed = allowed[shortlist]
            j = _argmax_lowest_index(sub, sub_allowed)
            if sub[j] > outside_best:
                index, value = int(shortlist[j]), float(sub[j])
            else:  # the shortlist cannot prove the choice: re-score everything
                scores = score(current, best)
                index = _argmax_lowest_index(scores, allowed)
                value = float(scores[index])
                allowed[index] = False
                shortlist, outside_best = make_shortlist(scores)
                allowed[index] = True
        else:
            if step > 0:
                scores = score(current, best)
            index = _argmax_lowest_index(scores, allowed)
            value = float(scores[index])
        indices.append(index)
        values.append(value)
        allowed[index] = False
        if step + 1 < batch_size:
            x_new = np.asarray(X_candidates[index : index + 1], dtype=float)
            fake, _ = current.predict(x_new)
            current = current.condition_on(x_new, fake)
            best = min(best, float(fake[0])) if minimize else max(best, float(fake[0]))
    return np.asarray(indices, dtype=np.int64), np.asarray(values)


def _thompson_batch(model, X_candidates, batch_size, allowed, minimize, rng, chunk_size):
    m = len(allowed)
    if m <= EXACT_SAMPLE_MAX:
        X = np.asarray(X_candidates, dtype=float)
        draws = _signed(model.sample(X, batch_size, rng), minimize)
        draws[:, ~allowed] = -np.inf
        top = [(_top_k(row, batch_size), row) for row in draws]
        candidates = [(t, row[t]) for t, row in top]
    else:
        functions = model.sample_functions(batch_size, rng)
        best_idx = [np.empty(0, dtype=np.int64) for _ in range(batch_size)]
        best_val = [np.empty(0) for _ in range(batch_size)]
        for start, block in iter_chunks(X_candidates, chunk_size):
            values = _signed(functions(block), minimize)
            values[:, ~allowed[start : start + len(block)]] = -np.inf
            for b in range(batch_size):
                idx = np.r_[best_idx[b], start + _top_k(values[b], batch_size)]
                val = np.r_[best_val[b], values[b][idx[len(best_idx[b]) :] - start]]
                keep = np.lexsort((idx, -val))[:batch_size]
                best_idx[b], best_val[b] = idx[keep], val[keep]
        candidates = list(zip(best_idx, best_val, strict=True))
    chosen: list[int] = []
    values_out: list[float] = []
    for idx, val in candidates:
        for i, v in zip(idx.tolist(), val.tolist(), strict=True):
            if i not in chosen and np.isfinite(v):
                chosen.append(int(i))
                values_out.append(float(v))
                break
    return np.asarray(chosen, dtype=np.int64), np.asarray(values_out)
