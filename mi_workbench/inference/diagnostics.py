"""Convergence diagnostics in one place, turned into plain-language warnings.

Thresholds follow current practice (Vehtari et al., Bayesian Analysis 16, 667, 2021):
R-hat <= 1.01 and a bulk and tail effective sample size of at least 100 per chain (400 for 4
chains); any divergent transition is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import check_finite_number, check_positive

RHAT_MAX = 1.01
ESS_MIN = 400


@dataclass
class Diagnostics:
    """The result of :func:`diagnose`.

    Attributes
    ----------
    max_rhat : float
        Largest rank-normalised split R-hat over the checked variables.
    min_ess_bulk, min_ess_tail : float
        Smallest bulk and tail effective sample sizes.
    n_divergences : int
        Divergent transitions after warm-up (0 for samplers without the notion).
    n_chains, n_draws : int
        Posterior size.
    table : pandas.DataFrame
        Per-parameter mean, sd, HDI, ESS and R-hat.
    warnings : list of str
        Plain-language warnings; empty when everything passed.
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    n_divergences: int
    n_chains: int
    n_draws: int
    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no warning was raised."""
        return not self.warnings

    def summary_text(self) -> str:
        """One paragraph a participant can read."""
        head = (
            f"{self.n_chains} chains x {self.n_draws} draws; max R-hat {self.max_rhat:.3f}, "
            f"min ESS bulk {self.min_ess_bulk:.0f}, tail {self.min_ess_tail:.0f}, "
            f"{self.n_divergences} divergences."
        )
        if self.ok:
            return head + " The chains agree and mixed well: the posterior can be interpreted."
        return head + " " + " ".join(self.warnings)

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self.ok else "#b00020"
        return (
            f'<div style="color:{colour};font-weight:bold">{self.summary_text()}</div>'
            + self.table.to_html(float_format=lambda v: f"{v:.4g}")
        )


def _check_idata(idata: object) -> xr.DataTree:
    if not isinstance(idata, xr.DataTree):
        raise TypeError(
            "idata must be an xarray.DataTree with a posterior group (the result of fit() or "
            f"metropolis()), got {type(idata).__name__}"
        )
    if "posterior" not in idata.children:
        raise ValueError("idata has no posterior group: pass the result of fit() or metropolis()")
    return idata


def _posterior(idata: xr.DataTree, var_names: Sequence[str] | None) -> xr.Dataset:
    posterior = _check_idata(idata)["posterior"].to_dataset()
    for dim in ("chain", "draw"):
        if dim not in posterior.dims:
            raise ValueError(
                f"idata's posterior has no {dim!r} dimension; dims: {dict(posterior.sizes)}"
            )
    if var_names is None:
        return posterior
    if isinstance(var_names, str):
        var_names = [var_names]
    if not isinstance(var_names, Sequence) or not all(isinstance(v, str) for v in var_names):
        raise TypeError(f"var_names must be a list of variable names, got {var_names!r}")
    if not var_names:
        raise ValueError("var_names is empty; give at least one variable (or None for all)")
    unknown = [v for v in var_names if v not in posterior]
    if unknown:
        raise ValueError(
            f"unknown variable name(s) {unknown}; the posterior has {list(posterior.data_vars)}"
        )
    return posterior[list(var_names)]


def _flat(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """Each variable split into scalar parameters named like ``coefficients[a]``."""
    out = {}
    for name, da in ds.data_vars.items():
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        if not extra:
            out[name] = da
            continue
        stacked = da.stack(_flat=extra)
        for i in range(stacked.sizes["_flat"]):
            label = stacked["_flat"].values[i]
            label = ",".join(map(str, label)) if isinstance(label, tuple) else str(label)
            out[f"{name}[{label}]"] = stacked.isel(_flat=i, drop=True)
    return out


def diagnose(
    idata: xr.DataTree,
    var_names: Sequence[str] | None = None,
    *,
    rhat_max: float = RHAT_MAX,
    ess_min: float = ESS_MIN,
    hdi_prob: float = 0.94,
) -> Diagnostics:
    """Check convergence of a posterior sample and explain problems in words.

    Parameters
    ----------
    idata : xarray.DataTree
        A sampling result with a ``posterior`` group (and ``sample_stats`` for divergences).
    var_names : list of str, optional
        Variables to check; default all posterior variables.
    rhat_max, ess_min : float
        Thresholds for the warnings.
    hdi_prob : float
        Probability of the highest-density interval in the table.

    Returns
    -------
    Diagnostics

    Examples
    --------
    >>> d = diagnose(idata)  # doctest: +SKIP
    >>> d.ok, d.max_rhat  # doctest: +SKIP
    (True, 1.002)
    """
    import arviz as az

    rhat_max = check_finite_number("rhat_max", rhat_max)
    if rhat_max < 1.0:
        raise ValueError(f"rhat_max must be >= 1 (R-hat is 1 for converged chains), got {rhat_max}")
    ess_min = check_finite_number("ess_min", ess_min)
    if ess_min < 0:
        raise ValueError(f"ess_min must be >= 0, got {ess_min}")
    hdi_prob = check_positive("hdi_prob", hdi_prob)
    if hdi_prob >= 1.0:
        raise ValueError(f"hdi_prob must be between 0 and 1 (exclusive), got {hdi_prob}")
    posterior = _posterior(idata, var_names)
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    rows = {}
    for name, da in _flat(posterior).items():
        values = da.transpose("chain", "draw").values
        single = xr.Dataset({"v": (("chain", "draw"), values)})
        hdi = az.hdi(single, prob=hdi_prob)["v"].values
        rows[name] = {
            "mean": float(values.mean()),
            "sd": float(values.std(ddof=1)),
            f"hdi_{100 * hdi_prob:g}%_low": float(hdi[0]),
            f"hdi_{100 * hdi_prob:g}%_high": float(hdi[1]),
            "ess_bulk": float(az.ess(single, method="bulk")["v"]),
            "ess_tail": float(az.ess(single, method="tail")["v"]),
            "r_hat": float(az.rhat(single)["v"]) if n_chains > 1 else np.nan,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    n_div = 0
    if "sample_stats" in idata.children and "diverging" in idata["sample_stats"]:
        n_div = int(idata["sample_stats"]["diverging"].values.sum())
    max_rhat = float(np.nanmax(table["r_hat"])) if n_chains > 1 else np.nan
    min_bulk = float(table["ess_bulk"].min())
    min_tail = float(table["ess_tail"].min())

    warnings = []
    if n_chains < 2:
        warnings.append(
            "Only one chain was run, so R-hat cannot check that independent chains agree: "
            "run at least 2 chains."
        )
    elif not max_rhat <= rhat_max:
        worst = table["r_hat"].idxmax()
        warnings.append(
            f"The chains disagree (R-hat {max_rhat:.3f} for {worst}, should be <= {rhat_max}): "
            "they have not converged to the same distribution. Sample longer, or reparameterise "
            "the model (scale parameters to order 1, check for multiple modes)."
        )
    if min_bulk < ess_min or min_tail < ess_min:
        worst = table[["ess_bulk", "ess_tail"]].min(axis=1).idxmin()
        warnings.append(
            f"Too few effective draws (ESS bulk {min_bulk:.0f}, tail {min_tail:.0f} for "
            f"{worst}; want >= {ess_min:g}): means and intervals are still noisy. Draw more "
            "samples or improve mixing."
        )
    if n_div:
        warnings.append(
            f"{n_div} divergent transition(s): the sampler met regions of sharp curvature it "
            "could not explore, so the posterior may be biased. Reparameterise (e.g. a "
            "non-centred form) or tighten weakly identified priors; do not just ignore them."
        )
    return Diagnostics(
        max_rhat=max_rhat,
        min_ess_bulk=min_bulk,
        min_ess_tail=min_tail,
        n_divergences=n_div,
        n_chains=n_chains,
        n_draws=n_draws,
        table=table,
        warnings=warnings,
    )


def ess_per_second(idata: xr.DataTree, var_names: Sequence[str] | None = None) -> pd.Series:
    """Bulk ESS per second of sampling time (``posterior.attrs["sampling_time"]``), per parameter.

    The sampling time excludes compilation; compare samplers on the same posterior with it.
    """
    _posterior(idata, var_names)  # checks idata and var_names
    seconds = idata["posterior"].attrs.get("sampling_time")
    if not seconds:
        raise ValueError("idata['posterior'].attrs has no 'sampling_time'")
    table = diagnose(idata, var_names).table
    return table["ess_bulk"] / float(seconds)
