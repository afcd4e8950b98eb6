"""A random-walk Metropolis sampler in NumPy, written to be read in lesson 02.

It samples any PyMC model through the model's own log-density on the unconstrained space (positive
parameters are sampled as their logarithms, with the Jacobian included), so that Metropolis and NUTS
are compared on exactly the same posterior. During warm-up the proposal adapts: its covariance
follows the chain's (Haario et al., Bernoulli 7, 223, 2001) and its size is tuned towards the
acceptance rate 0.234 that is optimal for random-walk proposals in many dimensions
(Roberts, Gelman and Gilks, Ann. Appl. Probab. 7, 110, 1997). With ``adapt="diagonal"`` only
one step size per parameter is learned (the chain's variances, no correlations): this is the
random-walk Metropolis of most published analyses, where each parameter has its own hand-tuned
step, and shows what correlated parameters cost a sampler that cannot see them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from mi_workbench._checks import (
    check_choice,
    check_finite_number,
    check_positive,
    check_positive_int,
    check_pymc_model,
    check_seed,
)

TARGET_ACCEPTANCE = 0.234
ADAPT_CHOICES = ("covariance", "diagonal")


@dataclass
class ModelDensity:
    """A PyMC model seen as a function of one flat vector of unconstrained parameters."""

    log_density: Callable[[np.ndarray], float]
    initial_point: np.ndarray
    to_constrained: Callable[[np.ndarray], dict[str, np.ndarray]]
    dims: dict[str, tuple[str, ...]]
    coords: dict


def model_density(model) -> ModelDensity:
    """Compile ``model``'s joint log-density (with Jacobians) as a function of a flat vector."""
    from pymc.blocking import DictToArrayBijection, RaveledVars

    check_pymc_model("model", model)
    initial = model.initial_point()
    value_vars = model.value_vars
    names = [v.name for v in value_vars]
    logp = model.compile_logp(jacobian=True)
    raveled = DictToArrayBijection.map({n: initial[n] for n in names})
    outputs = model.unobserved_value_vars
    to_values = model.compile_fn(
        outputs, inputs=value_vars, on_unused_input="ignore", point_fn=True
    )
    keep = [v.name for v in model.free_RVs] + [v.name for v in model.deterministics]

    def _point(x: np.ndarray) -> dict:
        return DictToArrayBijection.rmap(RaveledVars(x, raveled.point_map_info))

    def log_density(x: np.ndarray) -> float:
        return float(logp(_point(x)))

    def to_constrained(x: np.ndarray) -> dict[str, np.ndarray]:
        values = to_values(_point(x))
        return {
            out.name: np.asarray(val)
            for out, val in zip(outputs, values, strict=True)
            if out.name in keep
        }

    dims = {name: tuple(model.named_vars_to_dims.get(name, ())) for name in keep}
    coords = {k: np.asarray(v) for k, v in model.coords.items() if v is not None}
    return ModelDensity(log_density, np.asarray(raveled.data, float), to_constrained, dims, coords)


def _chain(log_density, x0, n_tune, n_draws, rng, initial_scale, adapt="covariance"):
    d = x0.size
    x, lp = x0.copy(), log_density(x0)
    covariance = np.eye(d) * initial_scale**2
    log_size = np.log(2.38**2 / d)
    chol = np.linalg.cholesky(covariance * np.exp(log_size))
    draws = np.empty((n_draws, d))
    tune_draws = np.empty((n_tune, d))
    accepted = 0
    for i in range(n_tune + n_draws):
        proposal = x + chol @ rng.standard_normal(d)
        lp_proposal = log_density(proposal)
        accept = np.log(rng.uniform()) < lp_proposal - lp
        if accept:
            x, lp = proposal, lp_proposal
        if i < n_tune:
            tune_draws[i] = x
            # Robbins-Monro step towards the target acceptance rate.
            log_size += (float(accept) - TARGET_ACCEPTANCE) / np.sqrt(i + 1.0)
            if i >= 200 and i % 100 == 0:  # covariance of the warm-up so far (second half)
                recent = tune_draws[i // 2 : i + 1]
                if adapt == "diagonal":  # one step size per parameter, no correlations
                    covariance = np.diag(np.var(recent, axis=0, ddof=1) + 1e-10)
                else:
                    covariance = np.cov(recent.T).reshape(d, d) + 1e-10 * np.eye(d)
            chol = np.linalg.cholesky(covariance * np.exp(log_size))
        else:
            accepted += int(accept)
            draws[i - n_tune] = x
    return draws, accepted / max(n_draws, 1)


def metropolis(
    model,
    *,
    draws: int = 5000,
    tune: int = 5000,
    chains: int = 2,
    random_seed: int = 0,
    initial_scale: float = 0.1,
    adapt: str = "covariance",
    jitter: float = 0.5,
) -> xr.DataTree:
    """Random-walk Metropolis on a PyMC model; returns a DataTree like :func:`fit`.

    Parameters
    ----------
    model : pymc.Model
        Any model with continuous free variables.
    draws, tune : int
        Kept draws and warm-up (adaptation) draws per chain.
    chains : int
        Number of chains, run one after another.
    random_seed : int
        Seed of NumPy's generator.
    initial_scale : float
        Proposal standard deviation at the start of warm-up, on the unconstrained scale
        (> 0, at most 1e6).
    adapt : {"covariance", "diagonal"}
        What the warm-up learns besides the overall step size: the full proposal covariance
        (default; correlated parameters are then no harder than independent ones) or only one
        step size per parameter (the per-parameter steps of a hand-tuned Metropolis).
    jitter : float
        Each chain starts at the model's initial point plus a uniform draw from
        ``[-jitter, jitter]`` per coordinate (unconstrained scale); use a small value for
        models whose free parameters are not of order 1.

    Returns
    -------
    xarray.DataTree
        ``posterior`` (with ``sampling_time`` in attrs) and ``sample_stats`` (``acceptance_rate``
        per chain).

    Examples
    --------
    >>> idata = metropolis(model, draws=2000, tune=2000)  # doctest: +SKIP
    >>> steps_only = metropolis(model, adapt="diagonal")  # doctest: +SKIP
    """
    check_pymc_model("model", model)
    draws = check_positive_int("draws", draws)
    tune = check_positive_int("tune", tune, minimum=0)
    chains = check_positive_int("chains", chains)
    adapt = check_choice("adapt", adapt, ADAPT_CHOICES)
    jitter = check_finite_number("jitter", jitter)
    if jitter < 0:
        raise ValueError(f"jitter must be >= 0, got {jitter!r}")
    initial_scale = check_positive("initial_scale", initial_scale)
    if initial_scale > 1e6:
        raise ValueError(
            f"initial_scale must be at most 1e6 (a proposal sd on the unconstrained scale, "
            f"where parameters are of order 1), got {initial_scale!r}"
        )
    rng = np.random.default_rng(check_seed("random_seed", random_seed))
    density = model_density(model)
    start = time.perf_counter()
    results = []
    for _ in range(chains):
        x0 = density.initial_point + rng.uniform(-jitter, jitter, density.initial_point.size)
        results.append(_chain(density.log_density, x0, tune, draws, rng, initial_scale, adapt))
    sampling_time = time.perf_counter() - start

    per_chain = []
    for chain_draws, _ in results:
        points = [density.to_constrained(x) for x in chain_draws]
        per_chain.append({k: np.stack([p[k] for p in points]) for k in points[0]})
    variables = {}
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    for name in per_chain[0]:
        values = np.stack([c[name] for c in per_chain])
        named = density.dims[name]
        if len(named) != values.ndim - 2:  # no dims given: ArviZ-style default names
            named = tuple(f"{name}_dim_{i}" for i in range(values.ndim - 2))
        variables[name] = (("chain", "draw", *named), values)
        for d in named:
            if d in density.coords:
                coords[d] = density.coords[d]
    posterior = xr.Dataset(variables, coords=coords)
    posterior.attrs.update(
        sampling_time=sampling_time, inference_library="mi_workbench.metropolis", adapt=adapt
    )
    stats = xr.Dataset(
        {"acceptance_rate": ("chain", np.array([rate for _, rate in results]))},
        coords={"chain": np.arange(chains)},
    )
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})
