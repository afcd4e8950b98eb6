"""Model evidence (log marginal likelihood) and Bayesian model selection.

The evidence of a model M for data y is ``Z = p(y | M) = integral p(y | theta) p(theta) dtheta``;
its negative logarithm ``F = -log Z`` is the Bayesian free energy. Models are compared by their
evidence: with equal prior model probabilities the posterior probability of model m is
``Z_m / sum_j Z_j``. Two estimators are offered, both of which move from the prior to the posterior
through the tempered distributions ``p_beta(theta) ~ p(y | theta)^beta p(theta)``,
``0 <= beta <= 1``:

``method="smc"``
    PyMC's sequential Monte Carlo (``pm.sample_smc``): a population of particles is re-weighted
    and moved from beta = 0 to 1 with an adaptive temperature schedule; the product of the mean
    weights of the stages estimates Z (Ching and Chen, J. Eng. Mech. 133, 816, 2007).
``method="exchange"``
    Exchange Monte Carlo (replica exchange, parallel tempering) in NumPy, as used for Bayesian
    spectral deconvolution by Nagata, Sugita and Okada, Neural Networks 28, 82 (2012): one
    Metropolis chain (replica) per inverse temperature, neighbouring replicas swap their states,
    and log Z is summed over the ladder by the stepping-stone estimator (Xie et al., Syst. Biol.
    60, 150, 2011) or by thermodynamic integration. By default each replica updates one
    parameter at a time (component-wise Metropolis, step size per parameter and temperature
    adapted during warm-up) and the ladder, geometric at the start, is re-spaced during warm-up
    so that all neighbours swap equally often: temperatures gather where the tempered posterior
    changes quickly, e.g. where a peak locks onto the data. For models with K exchangeable
    components (peaks), give the components i.i.d. priors rather than ordered ones: the evidence
    is the same, and one-coordinate moves then shift one peak without moving the others.

Both estimators start at prior draws inside the support of the model's transforms (draws that
violate, e.g., an ``ordered`` transform are rejected), so a prior restricted to ordered peak
positions is treated as normalised over its support. As in PyMC's SMC, ``pm.Potential`` terms
count as part of the likelihood (they are tempered).

The standard error of ``log Z`` always comes from independent repetitions: the spread of the
estimates of independent chains (SMC runs or exchange runs). With a single exchange run it comes
from batch means; with a single SMC run it is not available (NaN).
"""

from __future__ import annotations

import html
import time
import warnings
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from mi_workbench._checks import check_choice, check_positive, check_positive_int
from mi_workbench.inference.metropolis import TARGET_ACCEPTANCE

EVIDENCE_METHODS = ("smc", "exchange")
EXCHANGE_ESTIMATORS = ("stepping_stone", "thermodynamic")
EXCHANGE_MOVES = ("componentwise", "joint")

#: Target acceptance of the one-coordinate Metropolis moves (optimal for one dimension).
COMPONENT_ACCEPTANCE = 0.44

#: Swap acceptance below this between two neighbouring temperatures means the ladder is too coarse.
MIN_SWAP_RATE = 0.05
#: Stepping-stone weights whose relative effective sample size falls below this are unreliable.
MIN_RELATIVE_ESS = 0.01


@dataclass
class EvidenceResult:
    """The result of :func:`evidence`.

    Attributes
    ----------
    log_evidence : float
        Estimate of the log marginal likelihood ``log p(y | M)`` (nats).
    stderr : float
        Its standard error, from the spread of independent chains (or batch means, see
        ``stderr_method``); NaN when it could not be estimated.
    method : str
        ``"smc"`` or ``"exchange"``.
    chain_log_evidence : numpy.ndarray
        The estimate of each independent chain (SMC run or exchange run).
    stderr_method : str
        How ``stderr`` was obtained, in words.
    sampling_time : float
        Wall time of the sampling in seconds (compilation excluded).
    details : dict
        Method-specific information: for ``"exchange"`` the inverse temperatures ``betas``, the
        Metropolis ``acceptance_rates`` per temperature, the ``swap_rates`` between neighbours,
        the ``estimator`` and the ``moves``; for ``"smc"`` the number of ``stages`` per chain.
    warnings : list of str
        Plain-language warnings about the reliability of the estimate (empty when none).
    idata : xarray.DataTree or None
        The SMC posterior (``method="smc"`` only).
    """

    log_evidence: float
    stderr: float
    method: str
    chain_log_evidence: np.ndarray
    stderr_method: str
    sampling_time: float
    details: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    idata: object = None

    @property
    def free_energy(self) -> float:
        """Bayesian free energy ``F = -log evidence``."""
        return -self.log_evidence

    @property
    def n_chains(self) -> int:
        """Number of independent chains behind the estimate."""
        return int(self.chain_log_evidence.size)

    def summary_text(self) -> str:
        """One line a participant can read."""
        text = (
            f"log evidence = {self.log_evidence:.3f} +- {self.stderr:.3f} nats "
            f"(free energy F = {self.free_energy:.3f}); {self.method}, {self.n_chains} chain(s), "
            f"{self.sampling_time:.1f} s; standard error {self.stderr_method}."
        )
        return " ".join([text, *self.warnings])

    def __repr__(self) -> str:
        return f"EvidenceResult({self.summary_text()})"

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if not self.warnings else "#b00020"
        rows = [
            ("log evidence (nats)", f"{self.log_evidence:.4f}"),
            ("standard error", f"{self.stderr:.4f} ({self.stderr_method})"),
            ("free energy F = -log Z", f"{self.free_energy:.4f}"),
            ("method", self.method),
            ("per-chain estimates", ", ".join(f"{v:.3f}" for v in self.chain_log_evidence)),
            ("sampling time", f"{self.sampling_time:.1f} s"),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        notes = "".join(
            f'<div style="color:{colour}">{html.escape(w)}</div>' for w in self.warnings
        )
        return f"<table>{body}</table>{notes}"


# --------------------------------------------------------------------------------------------
# The model as prior and likelihood functions of a flat unconstrained vector
# --------------------------------------------------------------------------------------------


@dataclass
class _SplitDensity:
    """Log-prior (with Jacobians) and log-likelihood of a model on the unconstrained space."""

    batch: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    single: Callable[[np.ndarray], tuple[float, float]]
    draw_prior: Callable[[int, np.random.Generator], np.ndarray]
    names: list[str]
    shapes: list[tuple[int, ...]]
    n_parameters: int
    n_observations: int

    def sample_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` prior draws (rows) with a finite log prior.

        Draws outside a transform's support (e.g. unordered values for an ``ordered`` transform)
        are rejected, so the draws follow the prior restricted to the model's support.
        """
        kept, n_drawn = [], 0
        while sum(len(k) for k in kept) < n:
            if n_drawn >= 1000 * n + 100_000:
                raise ValueError(
                    "could not draw prior samples with a finite log prior: fewer than 1 in 1000 "
                    "prior draws lies in the support of the model's transforms"
                )
            batch = self.draw_prior(max(2 * n, 100), rng)
            n_drawn += len(batch)
            log_prior, _ = self.batch(batch)
            kept.append(batch[np.isfinite(log_prior)])
        return np.concatenate(kept)[:n]

    def to_points(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Rows of flat vectors as a dict of arrays with a leading draw axis."""
        bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in self.shapes])
        return {
            name: flat[:, lo:hi].reshape(len(flat), *shape)
            for name, shape, lo, hi in zip(
                self.names, self.shapes, bounds, bounds[1:], strict=False
            )
        }


def _check_model(model) -> None:
    import pymc as pm

    if not isinstance(model, pm.Model):
        raise TypeError(f"model must be a pymc.Model, got {type(model).__name__}")
    if not model.observed_RVs:
        raise ValueError(
            "model has no observed data: the evidence p(data | model) needs a likelihood; "
            "build the model with observed=... (or pm.Data) before computing its evidence"
        )
    if not model.free_RVs:
        raise ValueError("model has no free variables: there is nothing to integrate over")
    discrete = [rv.name for rv in model.free_RVs if rv.dtype.startswith(("int", "uint", "bool"))]
    if discrete:
        raise ValueError(
            f"model has discrete free variables {discrete}; evidence() supports continuous "
            "parameters only"
        )
    improper = [
        rv.name for rv in model.free_RVs if type(rv.owner.op).__name__ in ("FlatRV", "HalfFlatRV")
    ]
    improper += [
        rv.name
        for rv in model.free_RVs
        if getattr(rv.owner.op, "name", "") in ("flat", "halfflat") and rv.name not in improper
    ]
    if improper:
        raise ValueError(
            f"model has improper (Flat/HalfFlat) priors on {improper}; the evidence is only "
            "defined for proper priors: give every parameter a proper prior"
        )


def _n_observations(model) -> int:
    total = 0
    for rv in model.observed_RVs:
        value = model.rvs_to_values[rv]
        data = value.data if hasattr(value, "data") else value.eval()
        total += int(np.asarray(data).size)
    return total


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _split_density(model) -> _SplitDensity:
    """Prior and likelihood functions of ``model``, compiled once per model structure."""
    key = (tuple(v.name for v in model.value_vars), tuple(v.name for v in model.observed_RVs))
    cache = _COMPILED.setdefault(model, {})
    if key not in cache:
        cache[key] = _compile_split_density(model)
    density = cache[key]
    density.n_observations = _n_observations(model)  # pm.set_data may have changed it
    return density


def _compile_split_density(model) -> _SplitDensity:
    """Compile prior and likelihood as functions of one flat vector (and of a batch of them)."""
    import pymc as pm
    import pytensor
    import pytensor.tensor as pt
    from pymc.initial_point import make_initial_point_expression
    from pymc.pytensorf import join_nonshared_inputs
    from pytensor.graph.replace import vectorize_graph

    value_vars = model.value_vars
    initial = model.initial_point()
    point = {v.name: initial[v.name] for v in value_vars}
    sizes = [int(np.asarray(point[v.name]).size) for v in value_vars]
    (prior_out, like_out), flat = join_nonshared_inputs(
        point, [model.varlogp, model.datalogp], value_vars
    )
    single_fn = pytensor.function([flat], [prior_out, like_out], on_unused_input="ignore")

    def single(x: np.ndarray) -> tuple[float, float]:
        prior, like = single_fn(np.asarray(x, dtype=float))
        return float(prior), float(like)

    def looped(xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = np.array([single(x) for x in xs])
        return values[:, 0], values[:, 1]

    batch = looped
    try:  # one call for a whole batch of points is much faster than a Python loop
        flat_batch = pt.matrix("flat_batch")
        prior_b, like_b = vectorize_graph([prior_out, like_out], {flat: flat_batch})
        batch_fn = pytensor.function([flat_batch], [prior_b, like_b], on_unused_input="ignore")

        def vectorised(xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            prior, like = batch_fn(np.asarray(xs, dtype=float))
            n = xs.shape[0]
            return np.broadcast_to(prior, (n,)).copy(), np.broadcast_to(like, (n,)).copy()

        batch = vectorised
    except Exception:  # noqa: BLE001 - any op without a batched form: fall back to the loop
        batch = looped

    expressions = make_initial_point_expression(
        free_rvs=model.free_RVs,
        rvs_to_transforms=model.rvs_to_transforms,
        initval_strategies={},
        default_strategy="prior",
        return_transformed=True,
    )

    def draw_prior(n: int, rng: np.random.Generator) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The effect of Potentials")
            values = pm.draw(expressions, draws=max(n, 2), random_seed=rng)
        columns = [np.asarray(v, dtype=float).reshape(max(n, 2), -1) for v in values]
        return np.concatenate(columns, axis=1)[:n]

    names = [v.name for v in value_vars]
    checks = draw_prior(4, np.random.default_rng(0))
    if batch is not looped:  # guard against a batched graph that disagrees with the plain one
        got, expected = np.column_stack(batch(checks)), np.column_stack(looped(checks))
        if not np.allclose(got, expected, rtol=1e-8, atol=1e-8, equal_nan=True):
            batch = looped
    shapes = [tuple(np.shape(point[name])) for name in names]
    return _SplitDensity(
        batch, single, draw_prior, names, shapes, sum(sizes), _n_observations(model)
    )


# --------------------------------------------------------------------------------------------
# Exchange Monte Carlo
# --------------------------------------------------------------------------------------------


def temperature_ladder(n_temperatures: int, beta_min: float) -> np.ndarray:
    """Inverse temperatures ``0, beta_min, ..., 1`` with geometric spacing above zero.

    Parameters
    ----------
    n_temperatures : int
        Number of temperatures including beta = 0 (prior) and beta = 1 (posterior); >= 2.
    beta_min : float
        Smallest non-zero inverse temperature, 0 < beta_min < 1.

    Returns
    -------
    numpy.ndarray
        Increasing inverse temperatures, first 0 and last 1.

    Examples
    --------
    >>> temperature_ladder(4, 0.01).round(3).tolist()
    [0.0, 0.01, 0.1, 1.0]
    """
    n_temperatures = check_positive_int("n_temperatures", n_temperatures, minimum=2)
    beta_min = check_positive("beta_min", beta_min)
    if beta_min >= 1:
        raise ValueError(f"beta_min must be < 1, got {beta_min!r}")
    if n_temperatures == 2:
        return np.array([0.0, 1.0])
    return np.concatenate([[0.0], np.geomspace(beta_min, 1.0, n_temperatures - 1)])


def _tempered_difference(betas: np.ndarray, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """``betas * (new - old)`` with beta = 0 ignoring the likelihood (even when it is -inf)."""
    with np.errstate(invalid="ignore"):
        diff = betas * (new - old)
    return np.where(betas == 0, 0.0, diff)


def _adapted_ladder(betas: np.ndarray, rejection: np.ndarray) -> np.ndarray:
    """A ladder with the same number of temperatures and equal swap rejection between neighbours.

    The swap rejection rates ``rejection`` (one per neighbouring pair) of a warm-up add up to the
    communication barrier ``Lambda(beta)``; the new temperatures sit at equal steps of
    ``Lambda``, interpolated in ``log beta`` (Syed et al., J. R. Stat. Soc. B 84, 321, 2022).
    Temperatures move to where the tempered distributions change fast (e.g. where a peak
    locks in) and away from where neighbours swap almost always.
    """
    if betas.size <= 2:
        return betas
    log_betas = np.log(betas[1:])
    below = log_betas[0] - (log_betas[1] - log_betas[0] if log_betas.size > 1 else 1.0)
    coordinate = np.concatenate([[below], log_betas])  # beta = 0 one geometric step below
    barrier = np.concatenate([[0.0], np.cumsum(np.clip(rejection, 0.0, 1.0) + 1e-3)])
    targets = np.linspace(0.0, barrier[-1], betas.size)
    new = np.exp(np.interp(targets, barrier, coordinate))
    new[0], new[-1] = 0.0, 1.0
    return new


def _swap_round(betas, x, lp, ll, parity, rng):
    """Propose swaps between neighbours (0,1), (2,3), ... (parity 0) or (1,2), ... (parity 1).

    Alternating the parity deterministically is the non-reversible scheme of Syed et al.
    (J. R. Stat. Soc. B 84, 321, 2022): states travel through the ladder in O(n_temperatures)
    rounds rather than O(n_temperatures^2). Arrays are changed in place; returns the lower
    indices of the pairs and which pairs swapped (chains x pairs).
    """
    chains = x.shape[0]
    lower = np.arange(parity, betas.size - 1, 2)
    upper = lower + 1
    with np.errstate(invalid="ignore"):
        log_swap = (betas[upper] - betas[lower]) * (ll[:, lower] - ll[:, upper])
    log_swap = np.where(np.isnan(log_swap), -np.inf, log_swap)
    swap = np.log(rng.uniform(size=log_swap.shape)) < log_swap
    src_lower = np.where(swap, upper, lower)
    src_upper = np.where(swap, lower, upper)
    chain_index = np.arange(chains)[:, None]
    for array in (x, lp, ll):
        low, up = array[chain_index, src_lower].copy(), array[chain_index, src_upper].copy()
        array[chain_index, lower], array[chain_index, upper] = low, up
    return lower, swap


def _exchange_sampler(
    density, betas, chains, tune, draws, rng, moves="componentwise", adapt_ladder=True
):
    """Run ``chains`` independent replica-exchange runs in lock-step (vectorised over replicas).

    ``moves="componentwise"``: every sweep updates one coordinate at a time (Metropolis within
    Gibbs, as in Nagata, Sugita and Okada 2012) in all replicas at once, with a step size per
    replica and coordinate adapted during warm-up towards 44% acceptance, and a round of swaps
    after each coordinate. ``moves="joint"``: one random-walk move of all coordinates per sweep
    with each replica's warm-up covariance, and one round of swaps.

    Returns the log-likelihood draws (draws x chains x temperatures), the acceptance rates
    (chains x temperatures), the swap rates between neighbours and the final states.
    """
    n_temps, d = betas.size, density.n_parameters
    betas = np.array(betas, dtype=float)  # adapted in place during the warm-up
    beta_grid = np.broadcast_to(betas, (chains, n_temps))
    prior_draws = density.sample_prior(chains * n_temps + 200, rng)
    x = prior_draws[: chains * n_temps].reshape(chains, n_temps, d)
    lp, ll = (v.reshape(chains, n_temps) for v in density.batch(x.reshape(-1, d)))
    like_draws = np.empty((draws, chains, n_temps))
    accepted = np.zeros((chains, n_temps))
    swaps_tried = np.zeros(n_temps - 1)
    swaps_done = np.zeros(n_temps - 1)
    swaps_window = np.zeros((2, n_temps - 1))  # swaps done and tried since the last ladder update
    n_rounds = 0

    def metropolis_step(proposal):
        """Accept or reject ``proposal`` in every replica; returns the acceptance mask."""
        nonlocal x, lp, ll
        lp_new, ll_new = (
            v.reshape(chains, n_temps) for v in density.batch(proposal.reshape(-1, d))
        )
        log_ratio = (lp_new - lp) + _tempered_difference(beta_grid, ll_new, ll)
        log_ratio = np.where(np.isfinite(lp_new) & ~np.isnan(log_ratio), log_ratio, -np.inf)
        accept = np.log(rng.uniform(size=(chains, n_temps))) < log_ratio
        x = np.where(accept[..., None], proposal, x)
        lp, ll = np.where(accept, lp_new, lp), np.where(accept, ll_new, ll)
        return accept

    def swap_step(counting):
        nonlocal n_rounds
        lower, swap = _swap_round(betas, x, lp, ll, n_rounds % 2, rng)
        n_rounds += 1
        swaps_window[0][lower] += swap.sum(axis=0)
        swaps_window[1][lower] += chains
        if counting:
            swaps_tried[lower] += chains
            swaps_done[lower] += swap.sum(axis=0)

    prior_sd = np.std(prior_draws[chains * n_temps :], axis=0)
    prior_sd = np.where(prior_sd > 0, prior_sd, 1.0)
    if moves == "componentwise":
        # Start each temperature's steps between the prior scale (beta = 0) and a guess of the
        # posterior scale ~ prior / sqrt(beta n); the warm-up adapts them.
        shrink = np.sqrt(1.0 + betas * max(density.n_observations, 1))
        log_step = np.log(0.5 * prior_sd[None, None, :] / shrink[None, :, None])
        log_step = np.broadcast_to(log_step, (chains, n_temps, d)).copy()
        ladder_updates = {tune // 4, tune // 2, (3 * tune) // 4} - {0} if adapt_ladder else set()
        for i in range(tune + draws):
            if i in ladder_updates:
                rejection = 1.0 - swaps_window[0] / np.maximum(swaps_window[1], 1)
                new_betas = _adapted_ladder(betas, rejection)
                # Carry each temperature's step sizes over to the new ladder (in log beta).
                old_u = np.log(np.maximum(betas, betas[1] * 1e-3))
                new_u = np.log(np.maximum(new_betas, new_betas[1] * 1e-3))
                for c in range(chains):
                    for k in range(d):
                        log_step[c, :, k] = np.interp(new_u, old_u, log_step[c, :, k])
                betas[:] = new_betas
                swaps_window[:] = 0.0
            for j in rng.permutation(d):
                proposal = x.copy()
                proposal[..., j] += np.exp(log_step[..., j]) * rng.standard_normal(
                    (chains, n_temps)
                )
                accept = metropolis_step(proposal)
                if i < tune:
                    log_step[..., j] += (accept - COMPONENT_ACCEPTANCE) * 3.0 / np.sqrt(i + 4.0)
                else:
                    accepted += accept / d
                swap_step(i >= tune)
            if i >= tune:
                like_draws[i - tune] = ll
    else:
        prior_cov = np.atleast_2d(np.cov(prior_draws[chains * n_temps :].T))
        prior_cov += 1e-10 * np.eye(d) * max(np.trace(prior_cov) / d, 1.0)
        chol = np.broadcast_to(np.linalg.cholesky(prior_cov), (chains, n_temps, d, d)).copy()
        log_size = np.full((chains, n_temps), np.log(2.38**2 / d))
        history = np.empty((tune, chains, n_temps, d))
        for i in range(tune + draws):
            step = np.einsum("ckij,ckj->cki", chol, rng.standard_normal((chains, n_temps, d)))
            accept = metropolis_step(x + np.exp(0.5 * log_size)[..., None] * step)
            swap_step(i >= tune)
            if i < tune:
                history[i] = x
                # Robbins-Monro step of each replica's proposal size towards the target.
                log_size += (accept - TARGET_ACCEPTANCE) / np.sqrt(i + 1.0)
                if i >= 200 and i % 100 == 0:  # each replica's covariance over recent warm-up
                    recent = history[i // 2 : i + 1]
                    centred = recent - recent.mean(axis=0)
                    cov = np.einsum("mcki,mckj->ckij", centred, centred) / (recent.shape[0] - 1)
                    jitter = 1e-10 * np.maximum(np.trace(cov, axis1=2, axis2=3) / d, 1e-12)
                    chol = np.linalg.cholesky(cov + jitter[..., None, None] * np.eye(d))
            else:
                accepted += accept
                like_draws[i - tune] = ll
    swap_rates = swaps_done / np.maximum(swaps_tried, 1)
    return like_draws, accepted / draws, swap_rates, x, betas


def _stepping_stone(like_draws: np.ndarray, betas: np.ndarray) -> float:
    """``log Z = sum_k log mean_{beta_k}[exp((beta_{k+1} - beta_k) log L)]``; draws x temps."""
    n = like_draws.shape[0]
    steps = np.diff(betas)[None, :] * like_draws[:, :-1]
    return float(np.sum(logsumexp(steps, axis=0) - np.log(n)))


def _thermodynamic(like_draws: np.ndarray, betas: np.ndarray) -> float:
    """``log Z = integral_0^1 E_beta[log L] d beta`` by the corrected trapezoidal rule.

    Because ``d E_beta[log L] / d beta = Var_beta[log L]``, the trapezoidal rule is corrected by
    ``-sum (delta beta)^2 / 12 (Var_{k+1} - Var_k)`` (Friel, Hurn and Wyse, Stat. Comput. 24,
    709, 2014), which removes most of the discretisation error of a coarse ladder.
    """
    means = like_draws.mean(axis=0)
    variances = like_draws.var(axis=0, ddof=1)
    widths = np.diff(betas)
    trapezoid = np.sum(widths * 0.5 * (means[1:] + means[:-1]))
    return float(trapezoid - np.sum(widths**2 / 12.0 * np.diff(variances)))


def _relative_ess(like_draws: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """Relative effective sample size of each stepping-stone's importance weights."""
    steps = np.diff(betas)[None, :] * like_draws[:, :-1]
    log_w = steps - steps.max(axis=0)
    w = np.exp(log_w)
    return w.sum(axis=0) ** 2 / (w**2).sum(axis=0) / like_draws.shape[0]


def _exchange_evidence(model, *, draws, tune, chains, random_seed, n_temperatures, beta_min,
                       estimator, moves):  # fmt: skip
    betas = temperature_ladder(n_temperatures, beta_min)
    density = _split_density(model)
    rng = np.random.default_rng(random_seed)
    start = time.perf_counter()
    like_draws, acceptance, swap_rates, _, betas = _exchange_sampler(
        density, betas, chains, tune, draws, rng, moves
    )
    sampling_time = time.perf_counter() - start
    estimate = _stepping_stone if estimator == "stepping_stone" else _thermodynamic
    pooled = like_draws.reshape(draws * chains, betas.size)
    log_z = estimate(pooled, betas)
    per_chain = np.array([estimate(like_draws[:, c], betas) for c in range(chains)])
    if chains >= 2:
        stderr = float(per_chain.std(ddof=1) / np.sqrt(chains))
        stderr_method = f"from the spread of {chains} independent runs"
    else:
        n_batches = 10 if draws >= 100 else 2
        batches = np.array_split(like_draws[:, 0], n_batches)
        batch_estimates = np.array([estimate(b, betas) for b in batches])
        stderr = float(batch_estimates.std(ddof=1) / np.sqrt(n_batches))
        stderr_method = f"from {n_batches} batch means of one run (optimistic if draws correlate)"

    messages = []
    mean_acceptance = acceptance.mean(axis=0)
    mean_swaps = swap_rates
    if np.any(mean_swaps < MIN_SWAP_RATE):
        worst = int(np.argmin(mean_swaps))
        messages.append(
            f"Replicas rarely swap between beta = {betas[worst]:.3g} and {betas[worst + 1]:.3g} "
            f"(swap rate {mean_swaps[worst]:.3f}): the temperature ladder is too coarse there; "
            "increase n_temperatures or lower beta_min."
        )
    ess = _relative_ess(pooled, betas)
    if estimator == "stepping_stone" and np.any(ess < MIN_RELATIVE_ESS):
        worst = int(np.argmin(ess))
        messages.append(
            f"The stepping stone from beta = {betas[worst]:.3g} to {betas[worst + 1]:.3g} rests on "
            f"few effective draws ({100 * ess[worst]:.2f}% of them); increase n_temperatures."
        )
    if np.any(mean_acceptance < 0.05):
        messages.append(
            "Some replicas accepted fewer than 5% of their Metropolis moves; "
            "increase tune so that their step sizes can adapt."
        )
    details = {
        "betas": betas,
        "acceptance_rates": mean_acceptance,
        "swap_rates": mean_swaps,
        "relative_ess": ess,
        "estimator": estimator,
        "moves": moves,
        "draws": draws,
        "tune": tune,
        "max_log_likelihood": float(like_draws.max()),
    }
    return EvidenceResult(
        log_z, stderr, "exchange", per_chain, stderr_method, sampling_time, details, messages
    )


# --------------------------------------------------------------------------------------------
# Sequential Monte Carlo through PyMC
# --------------------------------------------------------------------------------------------


def _last_finite(values) -> float:
    array = np.asarray(list(np.ravel(values)), dtype=float)
    finite = array[np.isfinite(array)]
    return float(finite[-1]) if finite.size else float("nan")


def _smc_evidence(model, *, draws, chains, cores, random_seed, smc_kwargs):
    import pymc as pm

    # Start every run from prior draws inside the support of the transforms (PyMC's own start
    # would keep draws that violate, e.g., an ordered transform and break the estimate).
    density = _split_density(model)
    rng = np.random.default_rng(random_seed)
    starts = [density.to_points(density.sample_prior(draws, rng)) for _ in range(chains)]
    start = time.perf_counter()
    idata = pm.sample_smc(
        draws=draws,
        start=starts,
        chains=chains,
        cores=cores,
        model=model,
        random_seed=random_seed,
        progressbar=False,
        compute_convergence_checks=False,
        **(smc_kwargs or {}),
    )
    sampling_time = time.perf_counter() - start
    stats = idata["sample_stats"]
    raw = stats["log_marginal_likelihood"].values
    rows = [raw] if chains == 1 and raw.dtype != object and raw.ndim == 1 else list(raw)
    per_chain = np.array([_last_finite(row) for row in rows])
    stages = [int(np.size(row)) for row in rows]
    log_z = float(np.mean(per_chain))
    if chains >= 2:
        stderr = float(per_chain.std(ddof=1) / np.sqrt(chains))
        stderr_method = f"from the spread of {chains} independent SMC runs"
    else:
        stderr = float("nan")
        stderr_method = "not available from one SMC run: use chains >= 2"
    messages = []
    if not np.all(np.isfinite(per_chain)):
        messages.append("Some SMC runs did not reach beta = 1; their evidence is missing.")
    details = {"stages": stages, "draws": draws}
    return EvidenceResult(
        log_z, stderr, "smc", per_chain, stderr_method, sampling_time, details, messages, idata
    )


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def evidence(
    model,
    method: str = "smc",
    *,
    draws: int | None = None,
    chains: int = 4,
    random_seed: int = 0,
    tune: int | None = None,
    n_temperatures: int = 32,
    beta_min: float = 1e-6,
    estimator: str = "stepping_stone",
    moves: str = "componentwise",
    cores: int | None = 1,
    smc_kwargs: Mapping | None = None,
) -> EvidenceResult:
    """Estimate the log evidence (log marginal likelihood) of a PyMC model with its error.

    Parameters
    ----------
    model : pymc.Model
        A model with observed data and proper priors on continuous parameters.
    method : {"smc", "exchange"}
        PyMC's sequential Monte Carlo, or the exchange Monte Carlo (replica exchange) sampler
        of this module (Nagata, Sugita and Okada, Neural Networks 28, 82, 2012).
    draws : int, optional
        ``"smc"``: particles per run (default 2000). ``"exchange"``: kept sweeps per run after
        warm-up (default 4000; a component-wise sweep updates every parameter once).
    chains : int
        Independent runs; their spread gives the standard error (default 4).
    random_seed : int
        Seed of every random number used.
    tune : int, optional
        ``"exchange"`` only: warm-up sweeps in which each replica adapts its proposal (default
        ``draws // 2``).
    n_temperatures : int
        ``"exchange"`` only: temperatures including beta = 0 (prior) and beta = 1 (posterior),
        >= 2. More temperatures are needed for more data and sharper likelihoods.
    beta_min : float
        ``"exchange"`` only: smallest non-zero inverse temperature of the geometric ladder
        (the starting ladder when ``moves="componentwise"``, which adapts it).
    estimator : {"stepping_stone", "thermodynamic"}
        ``"exchange"`` only: how log Z is summed over the ladder.
    moves : {"componentwise", "joint"}
        ``"exchange"`` only. ``"componentwise"``: each sweep updates one parameter at a time in
        every replica (step sizes adapted per parameter and temperature towards 44% acceptance,
        a round of swaps after each parameter) and the warm-up re-spaces the ladder to equal
        swap rates; robust for multimodal posteriors such as sums of peaks, costs one model
        evaluation per parameter and sweep. ``"joint"``: one random-walk move of all parameters
        per sweep with each replica's warm-up covariance on the fixed geometric ladder; cheaper
        per sweep, fine for nearly Gaussian posteriors.
    cores : int or None
        ``"smc"`` only: processes for the runs (None: PyMC's choice).
    smc_kwargs : dict, optional
        ``"smc"`` only: further arguments of ``pm.sample_smc`` (e.g. ``threshold``).

    Returns
    -------
    EvidenceResult
        ``log_evidence``, ``stderr``, ``free_energy``, the per-chain estimates and diagnostics.

    Examples
    --------
    >>> result = evidence(model, method="exchange", random_seed=1)  # doctest: +SKIP
    >>> result.log_evidence, result.stderr  # doctest: +SKIP
    (-8.86, 0.02)
    """
    method = check_choice("method", method, EVIDENCE_METHODS)
    estimator = check_choice("estimator", estimator, EXCHANGE_ESTIMATORS)
    moves = check_choice("moves", moves, EXCHANGE_MOVES)
    chains = check_positive_int("chains", chains)
    n_temperatures = check_positive_int("n_temperatures", n_temperatures, minimum=2)
    beta_min = check_positive("beta_min", beta_min)
    if beta_min >= 1:
        raise ValueError(f"beta_min must be < 1, got {beta_min!r}")
    random_seed = check_positive_int("random_seed", random_seed, minimum=0)
    if draws is not None:
        draws = check_positive_int("draws", draws, minimum=10)
    if tune is not None:
        tune = check_positive_int("tune", tune, minimum=0)
    if cores is not None:
        cores = check_positive_int("cores", cores)
    if smc_kwargs is not None and not isinstance(smc_kwargs, Mapping):
        raise TypeError(f"smc_kwargs must be a dict, got {type(smc_kwargs).__name__}")
    _check_model(model)

    if method == "smc":
        return _smc_evidence(
            model,
            draws=draws or 2000,
            chains=chains,
            cores=cores,
            random_seed=int(random_seed),
            smc_kwargs=smc_kwargs,
        )
    draws = draws or 4000
    return _exchange_evidence(
        model,
        draws=draws,
        tune=draws // 2 if tune is None else tune,
        chains=chains,
        random_seed=int(random_seed),
        n_temperatures=n_temperatures,
        beta_min=beta_min,
        estimator=estimator,
        moves=moves,
    )


def _max_log_likelihood(model, random_seed: int) -> tuple[float, int, int]:
    """Log-likelihood at the MAP point, the number of parameters and of observations."""
    import pymc as pm

    density = _split_density(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimum = pm.find_MAP(model=model, progressbar=False, seed=random_seed)
    flat = np.concatenate([np.ravel(optimum[name]) for name in density.names])
    _, log_like = density.single(flat)
    return log_like, density.n_parameters, density.n_observations


def select_model(
    models: Mapping[str, object],
    method: str = "smc",
    *,
    random_seed: int = 0,
    bic: bool = True,
    **evidence_kwargs,
) -> pd.DataFrame:
    """Compare models by their evidence (equal prior model probabilities), with BIC beside it.

    Parameters
    ----------
    models : dict of str -> pymc.Model
        The candidate models, all for the same data.
    method : {"smc", "exchange"}
        Evidence estimator, see :func:`evidence`.
    random_seed : int
        Seed used for every model (and for the MAP search).
    bic : bool
        Also compute ``BIC = k ln n - 2 ln L_max`` with ``k`` the number of parameters and ``n``
        of observations. ``L_max`` is the larger of the likelihood at the MAP point
        (``pm.find_MAP``, a local optimiser that can stop in a poor mode of a multimodal
        posterior) and the largest likelihood met by the evidence sampler. ``-BIC / 2`` is a
        large-sample approximation of the log evidence.
    **evidence_kwargs
        Passed to :func:`evidence` (``draws``, ``chains``, ``n_temperatures``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per model (index ``model``), best first: ``log_evidence``, ``stderr``,
        ``free_energy``, ``delta_log_evidence`` (to the best), ``probability`` (posterior model
        probability), ``n_parameters``, ``n_observations``, ``log_likelihood_max``, ``bic`` and
        ``best`` (True for the model of highest evidence). ``attrs["method"]`` names the
        estimator.

    Examples
    --------
    >>> table = select_model({"1 peak": m1, "2 peaks": m2}, method="smc")  # doctest: +SKIP
    >>> table.index[0]  # doctest: +SKIP
    '2 peaks'
    """
    if not isinstance(models, Mapping):
        raise TypeError(f"models must be a dict of name -> pymc.Model, got {type(models).__name__}")
    if not models:
        raise ValueError("models is empty: give at least one named model")
    method = check_choice("method", method, EVIDENCE_METHODS)
    random_seed = check_positive_int("random_seed", random_seed, minimum=0)
    for name, model in models.items():
        if not isinstance(name, str):
            raise TypeError(f"model names must be strings, got {name!r}")
        try:
            _check_model(model)
        except (TypeError, ValueError) as error:
            raise type(error)(f"model {name!r}: {error}") from None

    rows = []
    for name, model in models.items():
        result = evidence(model, method, random_seed=random_seed, **evidence_kwargs)
        row = {
            "model": name,
            "log_evidence": result.log_evidence,
            "stderr": result.stderr,
            "free_energy": result.free_energy,
        }
        if bic:
            log_like, k, n = _max_log_likelihood(model, random_seed)
            log_like = max(log_like, result.details.get("max_log_likelihood", -np.inf))
            row.update(
                n_parameters=k,
                n_observations=n,
                log_likelihood_max=log_like,
                bic=k * np.log(n) - 2.0 * log_like,
            )
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    log_z = table["log_evidence"].to_numpy()
    table.insert(3, "delta_log_evidence", log_z - np.max(log_z))
    table.insert(4, "probability", np.exp(log_z - logsumexp(log_z)))
    table = table.sort_values("log_evidence", ascending=False)
    table["best"] = np.arange(len(table)) == 0
    table.attrs["method"] = method
    return table
