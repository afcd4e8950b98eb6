"""``fit``: NUTS through nutpie, compiling each model once and re-using it.

Compiled models are kept in two places. In memory, per ``pm.Model`` object (and the shapes of
its data), so that a panel that samples again after ``pm.set_data`` pays nothing. On disk, by a
fingerprint of the model's graph (see :mod:`mi_workbench.inference._compile_cache`), so that a
new kernel that builds a model compiled before, by the same code on the same data shapes, loads
it in under a second instead of compiling it again (about 10 s for a regression, 30 s for the
Cu2O model of lesson 03 on a 2-core machine). The current values of every ``pm.Data`` container
are passed to the compiled model at each call.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable

import numpy as np
import xarray as xr

from mi_workbench._checks import (
    check_callable,
    check_finite_number,
    check_positive_int,
    check_pymc_model,
    check_seed,
)
from mi_workbench.inference import _compile_cache

_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MEMORY = "memory"


def _data_values(model) -> dict:
    return {var.name: var.get_value() for var in model.data_vars}


def compiled_nutpie_model(model):
    """The nutpie compilation of ``model``, compiled at most once per data shapes.

    Taken from memory when this ``model`` was compiled before in this kernel, else from the
    disk cache when a model with the same graph and data shapes was compiled before (in any
    kernel), else compiled and stored in both.
    """
    return _compiled_with_source(check_pymc_model("model", model))[0]


def _compiled_with_source(model) -> tuple:
    """``(compiled, source)``; source is ``"memory"``, ``"disk cache"`` or ``"compiled..."``."""
    values = _data_values(model)
    key = tuple(sorted((name, value.shape) for name, value in values.items()))
    cache = _COMPILED.setdefault(model, {})
    if key in cache:
        source = _MEMORY
    else:
        cache[key], source = _compile_cache.compile_pymc_model(model)
    return (cache[key].with_data(**values) if values else cache[key]), source


class SamplingCancelled(Exception):
    """Raised by :func:`fit` when its ``cancel`` event was set before sampling finished."""


def _finished(sampler) -> bool:
    try:
        return bool(sampler.is_finished)
    except TimeoutError:  # nutpie reports a busy sampler this way
        return False


def _ignore_progress(_fraction: float) -> None:
    """Progress callback of a cancellable fit that reports no progress."""


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where progress bars are shown as HTML)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def fit(
    model,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    random_seed: int = 0,
    progressbar: bool | None = None,
    on_progress: Callable[[float], None] | None = None,
    low_rank_mass_matrix: bool | None = None,
    target_accept: float = 0.8,
    cancel: threading.Event | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> xr.DataTree:
    """Sample the posterior of ``model`` with NUTS (nutpie) and return an ``xarray.DataTree``.

    Parameters
    ----------
    model : pymc.Model
        The model; its ``pm.Data`` values at call time are used.
    draws, tune : int
        Kept draws and warm-up draws per chain (both >= 1: nutpie cannot start without warm-up).
    chains : int
        Number of chains (at most 2 run at once on a 2-core machine).
    random_seed : int
        Seed; the same seed gives the same draws.
    progressbar : bool, optional
        Show nutpie's progress bar. Default: only in a notebook and when ``on_progress`` is unset.
    on_progress : callable, optional
        Called from the calling thread with the finished fraction in [0, 1] about five times a
        second; panels use it to move their own progress bar.
    low_rank_mass_matrix : bool, optional
        Adapt a low-rank mass matrix (nutpie's ``adaptation="low_rank"``), which also learns the
        strongest correlations between parameters, instead of a diagonal one. Default: the
        model's ``mi_low_rank_mass_matrix`` attribute if it has one (the Cu2O exciton model
        does), else diagonal.
    target_accept : float, optional
        Mean acceptance probability the warm-up aims for (0 < value < 1). Raise it (0.9-0.99)
        when the diagnostics report divergences: the step size shrinks, and with it the
        integration error in narrow regions of the posterior, at the cost of more steps per
        draw.
    cancel : threading.Event, optional
        Set it (from another thread) to stop: the sampler is aborted within about 0.2 s and
        :class:`SamplingCancelled` is raised. A compile in progress cannot be interrupted; the
        event is honoured as soon as it ends.
    on_stage : callable, optional
        Called with ``"compiling"`` before the model is compiled (or taken from the cache) and
        ``"sampling"`` when sampling starts, so that a panel can say what it is waiting for.

    Returns
    -------
    xarray.DataTree
        Groups ``posterior``, ``sample_stats``, ``observed_data`` and ``constant_data``. The
        ``posterior`` attrs hold ``sampling_time`` (s), ``compile_time`` (s, near 0 when
        cached) and ``compile_source``: ``"memory"`` (compiled before in this kernel),
        ``"disk cache"`` (compiled before by another kernel), ``"compiled"`` (and stored), or
        ``"compiled, not cacheable: <reason>"`` for models the disk cache cannot identify (for
        example ``pm.CustomDist`` with a Python ``logp``).

    Examples
    --------
    >>> from mi_workbench.data import noisy_line
    >>> from mi_workbench.models import bayesian_linear_regression
    >>> ds = noisy_line()
    >>> idata = fit(bayesian_linear_regression(ds.x.values, ds.y.values), draws=200, tune=200)
    >>> idata["posterior"].sizes["draw"]
    200
    """
    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata

    check_pymc_model("model", model)
    draws = check_positive_int("draws", draws)
    tune = check_positive_int("tune", tune)  # nutpie needs at least one warm-up draw
    chains = check_positive_int("chains", chains)
    random_seed = check_seed("random_seed", random_seed)
    check_callable("on_progress", on_progress)
    check_callable("on_stage", on_stage)
    if progressbar is None:
        progressbar = on_progress is None and in_notebook()
    if low_rank_mass_matrix is None:
        low_rank_mass_matrix = bool(getattr(model, "mi_low_rank_mass_matrix", False))
    if not isinstance(low_rank_mass_matrix, (bool, np.bool_)):
        raise TypeError(
            f"low_rank_mass_matrix must be True, False or None, got {low_rank_mass_matrix!r}"
        )
    target_accept = check_finite_number("target_accept", target_accept)
    if not 0.0 < target_accept < 1.0:
        raise ValueError(f"target_accept must be strictly between 0 and 1, got {target_accept!r}")
    extra = {"adaptation": "low_rank"} if low_rank_mass_matrix else {}
    extra["target_accept"] = target_accept

    if cancel is not None and not isinstance(cancel, threading.Event):
        raise TypeError(f"cancel must be a threading.Event, got {type(cancel).__name__}")
    if on_stage is not None:
        on_stage("compiling")
    start = time.perf_counter()
    compiled, compile_source = _compiled_with_source(model)
    compile_time = time.perf_counter() - start
    if cancel is not None and cancel.is_set():
        raise SamplingCancelled("sampling was cancelled before it started")
    if on_stage is not None:
        on_stage("sampling")
    if cancel is not None and on_progress is None:
        on_progress = _ignore_progress

    progress = {"done": 0, "total": max(1, chains * (draws + tune))}

    def _record(chain_progress) -> None:  # runs on nutpie's thread: only store numbers
        progress["done"] = sum(c.finished_draws for c in chain_progress)

    start = time.perf_counter()
    sampler = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=min(chains, 2),
        seed=random_seed,
        save_warmup=False,
        progress_bar=bool(progressbar),
        progress_callback=_record if on_progress is not None else None,
        progress_rate=200,
        blocking=on_progress is None,
        **extra,
    )
    if on_progress is not None:
        while not _finished(sampler):
            if cancel is not None and cancel.is_set():
                sampler.cancel()
                raise SamplingCancelled(
                    f"sampling was cancelled after {progress['done']} of {progress['total']} draws"
                )
            on_progress(progress["done"] / progress["total"])
            time.sleep(0.2)
        idata = sampler.wait()
        on_progress(1.0)
    else:
        idata = sampler
    sampling_time = time.perf_counter() - start
    patch_nutpie_idata(idata, model, sampling_time=sampling_time)
    idata["posterior"].attrs["compile_time"] = compile_time
    idata["posterior"].attrs["compile_source"] = compile_source
    return idata
