"""Extrapolative molecular design: a closed loop that walks a target region out of the data.

A target region that lies *outside* the data cannot be reached in one jump: the forward models
(fingerprints -> property) are fitted to the data and their predictions far from it are
guesses, so a generator guided straight at the final region mostly proposes molecules that the
models only *believe* to be there. The loop here approaches the final region through a sequence
of temporary regions, each a step beyond what has been measured, and measures a few molecules
per round with a virtual experiment (GFN2-xTB by default), so that the models learn the new
territory before the next step:

1. **Temporary region.** Take the measured molecule closest to the final region (the
   *anchor*, distances in units of each property's spread in the initial data) and move the
   final region's bounds towards the anchor by the factor ``1 - step_fraction``::

       low_t = a + step_fraction * (low_final - a),   high_t = a + step_fraction * (high_final - a)

   for each property whose anchor value ``a`` is outside the final interval; a property already
   inside keeps the final interval, an open side stays open. With ``step_fraction = 0.5`` each
   round asks for half of the remaining way; once the anchor is inside, the temporary region is
   the final one.
2. **Generate.** Run iQSPR (:class:`mi_workbench.molecules.iqspr.IQSPR`: a SMILES language model
   as prior, sequential Monte Carlo towards ``P(Y in region | S)``) towards the temporary region,
   started from the measured molecules nearest to it. Every distinct valid SMILES the particles
   visited is a candidate; molecules measured before (including failed ones) are excluded.
3. **Acquire.** Score each candidate with predictive means ``mu_k`` and standard deviations
   ``sd_k`` of each property ``k`` (scales ``s_k``: the initial data's standard deviations)::

       score = P(Y in temporary region)                         (independent Gaussians)
               + uncertainty_weight * mean_k(sd_k / s_k)        (how much would be learned)
               - final_weight * D_final(mu)                     (standardised distance of the
                                                                 mean to the final region)

   and measure the ``batch_size`` best. The first term keeps the step modest, the second sends
   measurements where the models know least, the third prefers candidates that go further.
   This is ``rule="probability"``, the default. ``rule="lecture"`` is the acquisition of the
   lecture's SPACIER slide, which *penalises* uncertainty::

       A(S, Y*) = -||Y* - f(S)||^2 - sigma(S) - lambda * inf_{Y in U} ||Y* - Y||^2

   maximised over the proposed target ``Y*`` in closed form (``Y*`` lies on the segment from
   ``f`` to its projection ``P_U f`` on the temporary region ``U``, at ``lambda / (1 + lambda)``
   of the way)::

       A(S) = -lambda / (1 + lambda) * d(f, U)^2 - sigma(S)

   with ``f = mu``, ``d`` the standardised distance to the box and ``sigma`` the norm of the
   standardised predictive sds (``lambda = target_weight``).
4. **Measure** them with the oracle, one molecule at a time; each result (or the reason it
   failed) is written to the journal and ``fsync``-ed before the next molecule starts.
5. **Refit** the forward models on all measurements and **move** the region (step 1).

Nothing measured is lost. The journal (the crash-safe JSON-lines format of
:mod:`mi_workbench.design._journal`, with CRC-32 per line) holds the configuration, every
round's plan (temporary region, candidates chosen, their predictions and scores) and every
oracle result. :meth:`ExtrapolativeDesign.open` rebuilds the loop from it; a round cut short by
a crash is finished with the planned molecules that were not measured yet, so no molecule is
measured twice. Each round's randomness is derived from ``random_seed`` and the round number, so
a resumed loop continues as the uninterrupted one would have.

Background and honesty about the model. iQSPR is Ikebata, Hongo, Isomura, Maezono and Yoshida,
"Bayesian molecular design with a chemical language model", J. Comput.-Aided Mol. Des. 31,
379-391 (2017). SPACIER (Nanjo, Arifin, Maeda, Hayashi, Hatakeyama-Sato, Himeno, Hayakawa and
Yoshida, "SPACIER: on-demand polymer design with fully automated all-atom classical molecular
dynamics integrated into machine learning pipelines", arXiv:2408.05135, 2024) closes the loop
between molecular generation, Bayesian optimisation and automated simulations (RadonPy) as
virtual experiments, and uses it to design polymers beyond the data's Pareto front. This module
is a small loop *in that spirit* for small molecules and xTB; the step rule and the acquisition
above are this workbench's own simple choices, not a reproduction of any published code.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import (
    check_choice,
    check_finite_array,
    check_finite_number,
    check_path,
    check_positive,
    check_positive_int,
    check_seed,
)
from mi_workbench.data.molecules import MOLECULE_PROPERTY_UNITS
from mi_workbench.design._journal import Journal, JournalError
from mi_workbench.design.acquisition import probability_in_interval

#: Acquisition rules of :func:`extrapolative_acquisition` (and :class:`ExtrapolativeDesign`).
ACQUISITION_RULES = ("probability", "lecture")

__all__ = [
    "ACQUISITION_RULES",
    "ExtrapolativeDesign",
    "check_target_region",
    "extrapolative_acquisition",
    "probability_in_region",
    "region_distance",
    "temporary_region",
]


_FORMAT = "mi-workbench-extrapolative-design"
_FORMAT_VERSION = 1


# ---------------------------------------------------------------------------------------------
# regions
# ---------------------------------------------------------------------------------------------
def _bound(name: str, value: object, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number or None, got {value!r}")
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"{name} must not be NaN (use None or +-inf for an open side)")
    return number


def check_target_region(
    region: object,
    allowed: Sequence[str] | Mapping[str, str] = tuple(MOLECULE_PROPERTY_UNITS),
    argument: str = "final_region",
) -> dict[str, tuple[float, float]]:
    """Validate a target region ``{property: (low, high)}`` and return it with float bounds.

    ``None`` (or ``-inf``/``inf``) marks an open side. A property's interval must satisfy
    ``low < high`` and have at least one finite side.

    Parameters
    ----------
    region : mapping
        Property name -> ``(low, high)``.
    allowed : sequence or mapping of str, optional
        Property names that may appear (default :data:`MOLECULE_PROPERTY_UNITS`).
    argument : str, optional
        Name used in error messages.

    Returns
    -------
    dict
        ``{name: (low, high)}`` with ``-inf``/``inf`` for open sides.

    Examples
    --------
    >>> check_target_region({"homo_lumo_gap": (9.0, None)})
    {'homo_lumo_gap': (9.0, inf)}
    >>> check_target_region({"gap": (1, 2)})
    Traceback (most recent call last):
    ...
    ValueError: final_region has the unknown property 'gap'; allowed: ['homo_lumo_gap', ...
    """
    if not isinstance(region, Mapping):
        raise TypeError(
            f"{argument} must be a mapping {{property: (low, high)}}, got {region!r} "
            f"({type(region).__name__})"
        )
    if not region:
        raise ValueError(f"{argument} is empty; give at least one property with (low, high)")
    allowed = list(allowed)
    checked: dict[str, tuple[float, float]] = {}
    for name, bounds in region.items():
        if name not in allowed:
            raise ValueError(f"{argument} has the unknown property {name!r}; allowed: {allowed}")
        if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Sequence | np.ndarray):
            raise TypeError(f"{argument}[{name!r}] must be a pair (low, high), got {bounds!r}")
        if len(bounds) != 2:
            raise ValueError(
                f"{argument}[{name!r}] must be a pair (low, high), got {len(bounds)} values"
            )
        low = _bound(f"{argument}[{name!r}] low", bounds[0], -math.inf)
        high = _bound(f"{argument}[{name!r}] high", bounds[1], math.inf)
        if low > high:
            raise ValueError(
                f"{argument}[{name!r}] is inverted: low={low!r} > high={high!r}; "
                f"give (low, high) with low < high"
            )
        if low == high:
            raise ValueError(
                f"{argument}[{name!r}] is empty: low == high == {low!r}; give low < high"
            )
        if not (math.isfinite(low) or math.isfinite(high)):
            raise ValueError(
                f"{argument}[{name!r}] is open on both sides ({low}, {high}), so it constrains "
                f"nothing; give at least one finite bound"
            )
        checked[name] = (low, high)
    return checked


def _region_arrays(region: Mapping[str, tuple[float, float]], names: Sequence[str]):
    low = np.array([region.get(n, (-math.inf, math.inf))[0] for n in names], dtype=float)
    high = np.array([region.get(n, (-math.inf, math.inf))[1] for n in names], dtype=float)
    return low, high


def region_distance(
    values: object, region: Mapping[str, tuple[float, float]], scales: Mapping[str, float]
) -> np.ndarray:
    """Standardised Euclidean distance of points to a box region (0 inside).

    Parameters
    ----------
    values : mapping or pandas.DataFrame
        Property name -> array of values (one entry per point).
    region : mapping
        ``{property: (low, high)}`` as :func:`check_target_region` returns it.
    scales : mapping
        Property name -> positive scale that distances are measured in.

    Returns
    -------
    numpy.ndarray
        ``sqrt(sum_k (gap_k / scale_k)**2)`` where ``gap_k`` is how far the value lies outside
        the property's interval; NaN where a value is NaN.

    Examples
    --------
    >>> region_distance({"dipole": [1.0, 5.0]}, {"dipole": (2.0, 4.0)}, {"dipole": 2.0})
    array([0.5, 0.5])
    """
    region = check_target_region(region, list(region), "region")
    total = None
    for name, (low, high) in region.items():
        x = np.asarray(values[name], dtype=float)
        gap = np.maximum(np.maximum(low - x, x - high), 0.0) / float(scales[name])
        gap = np.where(np.isnan(x), np.nan, gap)
        total = gap**2 if total is None else total + gap**2
    return np.sqrt(total)


def probability_in_region(
    mean: Mapping[str, np.ndarray],
    sd: Mapping[str, np.ndarray],
    region: Mapping[str, tuple[float, float]],
) -> np.ndarray:
    """Probability that every property lies in its interval (independent Gaussian predictions).

    Examples
    --------
    >>> p = probability_in_region({"dipole": [3.0]}, {"dipole": [1.0]}, {"dipole": (3.0, None)})
    >>> round(float(p[0]), 2)
    0.5
    """
    region = check_target_region(region, list(region), "region")
    p = None
    for name, (low, high) in region.items():
        q = probability_in_interval(np.asarray(mean[name]), np.asarray(sd[name]), low, high)
        p = q if p is None else p * q
    return np.asarray(p, dtype=float)


def temporary_region(
    final_region: Mapping[str, tuple[float, float]],
    anchor: Mapping[str, float],
    step_fraction: float = 0.5,
) -> dict[str, tuple[float, float]]:
    """The next temporary target region: the final region pulled towards an anchor point.

    For each property whose anchor value ``a`` lies outside the final interval ``[L, H]`` the
    temporary interval is ``[a + f (L - a), a + f (H - a)]`` with ``f = step_fraction`` (an open
    side stays open); a property already inside keeps ``[L, H]``.

    Parameters
    ----------
    final_region : mapping
        ``{property: (low, high)}`` as :func:`check_target_region` returns it.
    anchor : mapping or pandas.Series
        Property values of the measured molecule closest to the final region.
    step_fraction : float, optional
        Fraction of the remaining way taken per round, in (0, 1].

    Returns
    -------
    dict
        ``{property: (low, high)}``.

    Examples
    --------
    >>> temporary_region({"homo_lumo_gap": (10.0, 12.0)}, {"homo_lumo_gap": 6.0}, 0.5)
    {'homo_lumo_gap': (8.0, 9.0)}
    """
    f = check_finite_number("step_fraction", step_fraction)
    if not 0.0 < f <= 1.0:
        raise ValueError(f"step_fraction must be in (0, 1], got {f!r}")
    allowed = list(final_region) if isinstance(final_region, Mapping) else []
    final_region = check_target_region(final_region, allowed, "final_region")
    if isinstance(anchor, str) or not callable(getattr(anchor, "keys", None)):
        raise TypeError(
            f"anchor must be a mapping {{property: value}} (or a table row), got {anchor!r}"
        )
    result = {}
    for name, (low, high) in final_region.items():
        if name not in anchor:
            raise ValueError(f"anchor has no value of {name!r}, a property of final_region")
        try:
            a = float(anchor[name])
        except (TypeError, ValueError):
            raise TypeError(
                f"anchor[{name!r}] must be a number (NaN: not measured), got {anchor[name]!r}"
            ) from None
        if low <= a <= high or math.isnan(a):
            result[name] = (low, high)
        else:
            result[name] = (a + f * (low - a), a + f * (high - a))
    return result


def _property_arrays(mean, sd, scales, names: Sequence[str]):
    """Check the per-property predictions and scales of :func:`extrapolative_acquisition`."""
    for argument, values in (("mean", mean), ("sd", sd), ("scales", scales)):
        if isinstance(values, str) or not callable(getattr(values, "keys", None)):
            raise TypeError(f"{argument} must be a mapping of property -> values, got {values!r}")
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"{argument} has no entry for the propert(y/ies) {missing}")
    mean = {n: check_finite_array(f"mean[{n!r}]", mean[n], ndim=1) for n in names}
    sd = {n: check_finite_array(f"sd[{n!r}]", sd[n], ndim=1) for n in names}
    for n in names:
        if sd[n].shape != mean[n].shape:
            raise ValueError(f"sd[{n!r}] must have the shape of mean[{n!r}] {mean[n].shape}")
        if (sd[n] < 0).any():
            raise ValueError(f"sd[{n!r}] must be >= 0, got {float(sd[n].min())!r}")
    scales = {n: check_positive(f"scales[{n!r}]", scales[n]) for n in names}
    return mean, sd, scales


def extrapolative_acquisition(
    mean: Mapping[str, np.ndarray],
    sd: Mapping[str, np.ndarray],
    temporary: Mapping[str, tuple[float, float]],
    final: Mapping[str, tuple[float, float]],
    scales: Mapping[str, float],
    *,
    rule: str = "probability",
    uncertainty_weight: float = 0.5,
    final_weight: float = 0.25,
    target_weight: float = 1.0,
) -> dict[str, np.ndarray]:
    """Score candidates for the next measurement of an extrapolative design round.

    ``rule="probability"`` (the default): ``score = P(Y in temporary) + uncertainty_weight *
    mean_k(sd_k / s_k) - final_weight * D_final(mean)``, where ``s_k`` are the property scales
    and ``D_final`` is :func:`region_distance` of the predictive means to the final region. It
    rewards uncertainty (exploration).

    ``rule="lecture"``: the lecture's SPACIER acquisition ``A(S, Y*) = -||Y* - f||^2 - sigma -
    lambda inf_{Y in U} ||Y* - Y||^2`` maximised over ``Y*`` in closed form, ``score =
    -lambda / (1 + lambda) * d(f, U)^2 - sigma``, with ``f`` the predictive means, ``U`` the
    temporary region, ``d`` the standardised distance to it (:func:`region_distance`),
    ``sigma = sqrt(sum_k (sd_k / s_k)^2)`` and ``lambda = target_weight``. It penalises
    uncertainty: of two candidates equally close to the region, the better-known one wins.
    ``uncertainty_weight`` and ``final_weight`` are not used by it.

    Returns
    -------
    dict
        ``score``, ``probability_in_temporary``, ``uncertainty`` (``mean_k(sd_k / s_k)`` for
        ``"probability"``, ``sigma`` for ``"lecture"``), ``distance_to_temporary`` and
        ``distance_to_final`` (arrays, one entry per candidate).

    Examples
    --------
    >>> terms = extrapolative_acquisition(
    ...     {"dipole": np.array([3.0, 5.0])}, {"dipole": np.array([1.0, 1.0])},
    ...     {"dipole": (4.0, None)}, {"dipole": (8.0, None)}, {"dipole": 2.0})
    >>> bool(terms["score"][1] > terms["score"][0])
    True
    """
    if not isinstance(final, Mapping):
        raise TypeError(f"final must be a mapping of property -> (low, high), got {final!r}")
    final = check_target_region(final, list(final), "final")
    names = list(final)
    mean, sd, scales = _property_arrays(mean, sd, scales, names)
    if not isinstance(temporary, Mapping):
        raise TypeError(
            f"temporary must be a mapping of property -> (low, high), got {temporary!r}"
        )
    temporary = check_target_region(temporary, names, "temporary")
    rule = check_choice("rule", rule, ACQUISITION_RULES)
    weights = {
        "uncertainty_weight": uncertainty_weight,
        "final_weight": final_weight,
        "target_weight": target_weight,
    }
    for name, value in weights.items():
        if check_finite_number(name, value) < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    p = probability_in_region(mean, sd, temporary)
    standardised_sd = np.array([sd[n] / float(scales[n]) for n in names])
    to_temporary = region_distance(mean, temporary, scales)
    to_final = region_distance(mean, final, scales)
    if rule == "lecture":
        lam = float(target_weight)
        uncertainty = np.sqrt(np.sum(standardised_sd**2, axis=0))
        score = -lam / (1.0 + lam) * to_temporary**2 - uncertainty
    else:
        uncertainty = np.mean(standardised_sd, axis=0)
        score = p + float(uncertainty_weight) * uncertainty - float(final_weight) * to_final
    return {
        "score": score,
        "probability_in_temporary": p,
        "uncertainty": uncertainty,
        "distance_to_temporary": to_temporary,
        "distance_to_final": to_final,
    }


def _region_to_json(region: Mapping[str, tuple[float, float]]) -> dict[str, list]:
    return {
        name: [None if math.isinf(low) else low, None if math.isinf(high) else high]
        for name, (low, high) in region.items()
    }


def _region_from_json(data: Mapping[str, Sequence]) -> dict[str, tuple[float, float]]:
    return {
        name: (
            -math.inf if bounds[0] is None else float(bounds[0]),
            math.inf if bounds[1] is None else float(bounds[1]),
        )
        for name, bounds in data.items()
    }


# ---------------------------------------------------------------------------------------------
# molecules, models and oracle
# ---------------------------------------------------------------------------------------------
def _canonical(smiles: str) -> str | None:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    mol = Chem.MolFromSmiles(smiles.strip())
    if mol is None:
        return None
    return Chem.MolToSmiles(mol)


def _default_model_factory(units: Mapping[str, str]) -> Callable[[str], Any]:
    from mi_workbench.molecules.forward import PropertyModel

    return lambda name: PropertyModel(name, units.get(name))


def _default_language_model():
    from mi_workbench.molecules.language import default_language_model

    return default_language_model()


def _oracle_function(oracle: str | Callable[[str], dict]) -> tuple[str, Callable[[str], dict]]:
    if isinstance(oracle, str):
        if oracle != "xtb":
            raise ValueError(f"oracle must be 'xtb' or a callable smiles -> dict, got {oracle!r}")
        from mi_workbench.molecules.oracles import xtb_properties

        return "xtb", xtb_properties
    if callable(oracle):
        return getattr(oracle, "__name__", type(oracle).__name__), oracle
    raise TypeError(f"oracle must be 'xtb' or a callable smiles -> dict, got {oracle!r}")


def _json_number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _measure(function: Callable[[str], dict], smiles: str, names: Sequence[str]) -> dict:
    """Call the oracle on one molecule; every failure becomes a record with a reason."""
    try:
        result = function(smiles)
    except Exception as error:  # noqa: BLE001 - a failed experiment is recorded, never raised
        return {"ok": False, "reason": f"{type(error).__name__}: {error}"}
    if not isinstance(result, Mapping):
        return {"ok": False, "reason": f"the oracle returned {type(result).__name__}, not a dict"}
    values = {name: _json_number(result.get(name)) for name in names}
    ok = bool(result.get("ok", True))
    reason = str(result.get("reason", "") or "")
    if ok and any(v is None for v in values.values()):
        missing = [n for n, v in values.items() if v is None]
        ok, reason = False, f"the oracle returned no finite value for {missing}"
    record = {"ok": ok, "reason": reason if not ok else "", **values}
    wall = _json_number(result.get("wall_time_s"))
    if wall is not None:
        record["wall_time_s"] = wall
    return record


def _round_seed(random_seed: int, round_number: int) -> int:
    return int(np.random.SeedSequence([int(random_seed), int(round_number)]).generate_state(1)[0])


# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------
class ExtrapolativeDesign:
    """Closed-loop design towards a property region outside the data, through moving regions.

    See the module docstring for the loop, the step rule and the acquisition formula.

    Parameters
    ----------
    final_region : mapping
        ``{property: (low, high)}``; ``None`` marks an open side. Properties must be among
        ``properties``.
    initial_smiles : sequence of str
        Molecules known at the start (valid SMILES; duplicates are dropped).
    initial_properties : mapping or pandas.DataFrame, optional
        Their measured values, ``{property: values}`` in the order of ``initial_smiles``
        (NaN for a missing value). Without it the initial molecules are measured with the
        oracle first (journalled as round 0).
    properties : sequence of str, optional
        Properties that are modelled and measured (default: those of ``final_region``).
    oracle : "xtb" or callable, optional
        ``f(smiles) -> dict`` with a value per property (plus ``ok``/``reason``); ``"xtb"`` is
        :func:`mi_workbench.molecules.oracles.xtb_properties`. Exceptions it raises are
        recorded as failed measurements.
    journal_path : str or path-like
        New file that every plan and measurement is written to (see :meth:`open`).
    language_model : NGramLanguageModel, optional
        Prior of iQSPR (default
        :func:`mi_workbench.molecules.language.default_language_model`).
    model_factory : callable, optional
        ``f(property_name) -> model`` with ``fit(smiles, y)`` and ``predict(smiles) -> (mean,
        sd)``; default :class:`mi_workbench.molecules.forward.PropertyModel`.
    batch_size : int, optional
        Molecules measured per round.
    n_particles, n_steps : int, optional
        Size of the iQSPR run per round.
    step_fraction : float, optional
        Fraction of the remaining way to the final region that each temporary region takes.
    uncertainty_weight, final_weight : float, optional
        Weights of the ``"probability"`` rule's uncertainty and final-distance terms.
    rule : {"probability", "lecture"}, optional
        The acquisition (:func:`extrapolative_acquisition`); journals written before the rule
        could be chosen reopen with ``"probability"``, the rule they were run with.
    target_weight : float, optional
        ``lambda`` of the ``"lecture"`` rule: how strongly the proposed target is pulled into
        the temporary region.
    units : mapping, optional
        Units of properties that are not xTB's (with a custom oracle), e.g. ``{"logp": ""}``.
    random_seed : int or None, optional
        Seed of every round's generation (>= 0); ``None`` draws one from fresh entropy and
        journals it, so that a reopened design continues the same way.
    progress : bool, optional
        Show a progress bar over rounds.

    Examples
    --------
    >>> design = ExtrapolativeDesign(  # doctest: +SKIP
    ...     {"homo_lumo_gap": (11.0, None)}, initial_smiles=smiles,
    ...     initial_properties={"homo_lumo_gap": gaps}, journal_path="gap.jsonl")
    >>> design.run(4)  # doctest: +SKIP
    >>> design.history()["best_distance"].values  # doctest: +SKIP
    """

    def __init__(
        self,
        final_region: Mapping[str, tuple[float | None, float | None]],
        *,
        initial_smiles: Sequence[str],
        initial_properties: Mapping[str, Sequence[float]] | pd.DataFrame | None = None,
        properties: Sequence[str] | None = None,
        oracle: str | Callable[[str], dict] = "xtb",
        journal_path: str | os.PathLike,
        language_model=None,
        model_factory: Callable[[str], Any] | None = None,
        batch_size: int = 4,
        n_particles: int = 48,
        n_steps: int = 6,
        step_fraction: float = 0.5,
        uncertainty_weight: float = 0.5,
        final_weight: float = 0.25,
        rule: str = "probability",
        target_weight: float = 1.0,
        units: Mapping[str, str] | None = None,
        random_seed: int = 0,
        progress: bool = True,
    ):
        all_units = dict(MOLECULE_PROPERTY_UNITS)
        if units is not None:
            if not isinstance(units, Mapping):
                raise TypeError(f"units must be a mapping {{property: unit}}, got {units!r}")
            all_units.update({str(k): str(v) for k, v in units.items()})
        if properties is None:
            properties = list(final_region) if isinstance(final_region, Mapping) else []
        if isinstance(properties, str):
            properties = [properties]
        properties = list(dict.fromkeys(properties))
        for name in properties:
            if name not in all_units:
                raise ValueError(
                    f"properties has the unknown property {name!r}; allowed: {list(all_units)} "
                    f"(pass units={{...}} for the properties of a custom oracle)"
                )
        region = check_target_region(final_region, properties or all_units, "final_region")
        if not properties:
            properties = list(region)
        settings = {
            "batch_size": check_positive_int("batch_size", batch_size),
            "n_particles": check_positive_int("n_particles", n_particles),
            "n_steps": check_positive_int("n_steps", n_steps),
            "step_fraction": float(step_fraction),
            "uncertainty_weight": check_finite_number("uncertainty_weight", uncertainty_weight),
            "final_weight": check_finite_number("final_weight", final_weight),
            "rule": check_choice("rule", rule, ACQUISITION_RULES),
            "target_weight": check_finite_number("target_weight", target_weight),
        }
        for name in ("uncertainty_weight", "final_weight", "target_weight"):
            if settings[name] < 0:
                raise ValueError(f"{name} must be >= 0, got {settings[name]!r}")
        temporary_region(region, {n: math.nan for n in region}, step_fraction)  # validates
        random_seed = check_seed("random_seed", random_seed)
        if random_seed is None:
            random_seed = int(np.random.SeedSequence().generate_state(1)[0])
        path = check_path("journal_path", journal_path)
        oracle_name, _ = _oracle_function(oracle)
        smiles, values = self._check_initial(initial_smiles, initial_properties, properties)
        header = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "final_region": _region_to_json(region),
            "properties": properties,
            "units": {n: all_units[n] for n in properties},
            "settings": settings,
            "oracle": oracle_name,
            "random_seed": int(random_seed),
            "initial_smiles": smiles,
            "initial_properties": values,
        }
        if path.exists():
            raise FileExistsError(
                f"journal_path {str(path)!r} already exists; resume it with "
                f"ExtrapolativeDesign.open({str(path)!r}) or choose a new file name"
            )
        journal = Journal.create(path, header)
        self._setup(journal, oracle, language_model, model_factory, progress)

    # -- construction helpers ------------------------------------------------------------------
    @staticmethod
    def _check_initial(initial_smiles, initial_properties, properties):
        if isinstance(initial_smiles, str) or not isinstance(initial_smiles, Sequence | np.ndarray):
            raise TypeError(
                f"initial_smiles must be a list of SMILES strings, got {initial_smiles!r}"
            )
        if len(initial_smiles) == 0:
            raise ValueError("initial_smiles is empty; give at least one known molecule")
        canonical = []
        for position, text in enumerate(initial_smiles):
            if not isinstance(text, str):
                raise TypeError(f"initial_smiles[{position}] must be a SMILES string, got {text!r}")
            can = _canonical(text)
            if can is None:
                raise ValueError(
                    f"initial_smiles[{position}] = {text!r} is not a valid SMILES (RDKit cannot "
                    f"parse it)"
                )
            canonical.append(can)
        if initial_properties is None:
            return list(dict.fromkeys(canonical)), None
        table = (
            pd.DataFrame(initial_properties)
            if not isinstance(initial_properties, pd.DataFrame)
            else initial_properties
        )
        if len(table) != len(canonical):
            raise ValueError(
                f"initial_properties has {len(table)} rows but initial_smiles has "
                f"{len(canonical)} molecules; give one value per molecule"
            )
        values: dict[str, list[float | None]] = {}
        for name in properties:
            if name not in table:
                raise ValueError(
                    f"initial_properties has no values for {name!r}; it has {list(table.columns)}"
                )
            try:
                column = np.asarray(table[name], dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"initial_properties[{name!r}] must hold numbers") from None
            if np.isfinite(column).sum() < 2:
                raise ValueError(
                    f"initial_properties[{name!r}] has fewer than 2 finite values; the models "
                    f"need data to start from"
                )
            values[name] = [_json_number(v) for v in column]
        keep = {}
        for position, can in enumerate(canonical):  # first occurrence of a duplicate wins
            keep.setdefault(can, position)
        smiles = list(keep)
        values = {n: [column[i] for i in keep.values()] for n, column in values.items()}
        return smiles, values

    def _setup(self, journal, oracle, language_model, model_factory, progress) -> None:
        header = journal.header
        self._journal = journal
        self.path = journal.path
        self.properties: list[str] = list(header["properties"])
        self.units: dict[str, str] = dict(header["units"])
        self.final_region = _region_from_json(header["final_region"])
        # journals from before the rule could be chosen were run with "probability"
        self.settings: dict[str, Any] = {
            "rule": "probability",
            "target_weight": 1.0,
            **header["settings"],
        }
        self.random_seed: int = int(header["random_seed"])
        self._oracle_name, self._oracle = _oracle_function(oracle)
        self._language_model = language_model
        self._model_factory = model_factory or _default_model_factory(self.units)
        self.progress = bool(progress)
        self._models: dict[str, Any] | None = None
        self._models_n_rows = -1
        self.last_generation: xr.Dataset | None = None
        # rebuild the state from the records
        self._rows: list[dict] = []
        initial = header["initial_properties"]
        self._initial_smiles: list[str] = list(header["initial_smiles"])
        if initial is not None:
            for i, smiles in enumerate(self._initial_smiles):
                vals = {n: initial[n][i] for n in self.properties}
                ok = all(v is not None for v in vals.values())
                self._rows.append(
                    {
                        "round": 0,
                        "smiles": smiles,
                        "ok": ok,
                        "reason": "" if ok else "missing value in initial_properties",
                        **vals,
                    }
                )
        self._rounds: list[dict] = []
        for record in journal.records:
            kind = record.get("kind")
            if kind == "measurement":
                self._rows.append(
                    {k: record.get(k) for k in ("round", "smiles", "ok", "reason")}
                    | {n: record.get(n) for n in self.properties}
                )
            elif kind == "round":
                self._rounds.append(record)
            else:
                raise JournalError(f"{str(self.path)!r}: unknown record kind {kind!r}")
        self._measured = {row["smiles"] for row in self._rows}
        self._scales: dict[str, float] | None = None

    @classmethod
    def open(
        cls,
        journal_path: str | os.PathLike,
        *,
        oracle: str | Callable[[str], dict] | None = None,
        language_model=None,
        model_factory: Callable[[str], Any] | None = None,
        progress: bool = True,
    ) -> ExtrapolativeDesign:
        """Reopen a journal and continue the loop where it stopped.

        A torn last line (a crash while writing) is dropped with a warning; a round whose
        batch was only partly measured is finished by the next :meth:`run` without measuring
        any molecule twice.

        Parameters
        ----------
        journal_path : str or path-like
            A file written by :class:`ExtrapolativeDesign`.
        oracle : "xtb" or callable, optional
            Needed again when the loop was started with a custom oracle (functions are not
            stored); default ``"xtb"`` when the journal was started with it.
        language_model, model_factory, progress
            As for :class:`ExtrapolativeDesign` (not stored in the journal).

        Examples
        --------
        >>> design = ExtrapolativeDesign.open("gap.jsonl")  # doctest: +SKIP
        >>> design.run(2)  # doctest: +SKIP
        """
        journal = Journal.open(journal_path)
        try:
            header = journal.header
            if header.get("format") != _FORMAT:
                raise JournalError(
                    f"{str(journal_path)!r} is not an extrapolative-design journal (format "
                    f"{header.get('format')!r})"
                )
            if oracle is None:
                if header["oracle"] != "xtb":
                    raise ValueError(
                        f"this journal was run with the custom oracle {header['oracle']!r}; pass "
                        f"it again: ExtrapolativeDesign.open(path, oracle=...)"
                    )
                oracle = "xtb"
            design = cls.__new__(cls)
            design._setup(journal, oracle, language_model, model_factory, progress)
        except BaseException:
            journal.close()
            raise
        return design

    def close(self) -> None:
        """Release the journal file (idempotent); the journal stays on disk."""
        self._journal.close()

    def __enter__(self) -> ExtrapolativeDesign:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"ExtrapolativeDesign({len(self._rounds)} rounds, {self.n_oracle_calls} oracle calls, "
            f"best distance {self.best_distance:.3g}, journal {str(self.path)!r})"
        )

    # -- state ---------------------------------------------------------------------------------
    @property
    def language_model(self):
        """The iQSPR prior (loaded on first use)."""
        if self._language_model is None:
            self._language_model = _default_language_model()
        return self._language_model

    @property
    def scales(self) -> dict[str, float]:
        """Per-property scales of distances: standard deviations of the initial data."""
        if self._scales is None:
            scales = {}
            initial = [r for r in self._rows if r["round"] == 0 and r["ok"]]
            for name in self.properties:
                x = np.array([r[name] for r in initial], dtype=float)
                sd = float(np.std(x)) if x.size >= 2 else 0.0
                scales[name] = sd if sd > 0 else 1.0
            self._scales = scales
        return self._scales

    @property
    def n_oracle_calls(self) -> int:
        """Molecules given to the oracle so far (failures included)."""
        return sum(1 for r in self._rows if r["round"] > 0 or self._header_initial_measured)

    @property
    def _header_initial_measured(self) -> bool:
        return self._journal.header["initial_properties"] is None

    @property
    def rounds_completed(self) -> int:
        """Design rounds whose batch has been measured completely."""
        return sum(1 for r in self._rounds if not self._pending(r))

    def measurements(self) -> pd.DataFrame:
        """Every molecule known or measured: round (0 = initial), SMILES, status and values.

        Columns ``round``, ``smiles``, ``ok``, ``reason``, one per property,
        ``distance_to_final`` (standardised, 0 inside) and ``in_final_region``.
        """
        columns = ["round", "smiles", "ok", "reason", *self.properties]
        table = pd.DataFrame(self._rows, columns=columns)
        for name in self.properties:
            table[name] = table[name].astype(float)
        table["distance_to_final"] = region_distance(table, self.final_region, self.scales)
        table["in_final_region"] = table["distance_to_final"] == 0.0
        return table

    def _ok_table(self) -> pd.DataFrame:
        table = self.measurements()
        return table[table["ok"]].reset_index(drop=True)

    def _best(self) -> tuple[str | None, float, dict[str, float] | None]:
        table = self._ok_table()
        if table.empty:
            return None, math.inf, None
        i = int(np.argmin(table["distance_to_final"].to_numpy()))
        row = table.iloc[i]
        return (
            row["smiles"],
            float(row["distance_to_final"]),
            {n: float(row[n]) for n in self.properties},
        )

    @property
    def best_distance(self) -> float:
        """Standardised distance of the best measured molecule to the final region (0: reached)."""
        return self._best()[1]

    def forward_models(self) -> dict[str, Any]:
        """Forward models fitted to every successful measurement so far (refitted when needed)."""
        table = self._ok_table()
        if self._models is None or self._models_n_rows != len(table):
            models = {}
            for name in self.properties:
                model = self._model_factory(name)
                model.fit(list(table["smiles"]), table[name].to_numpy(dtype=float))
                models[name] = model
            self._models = models
            self._models_n_rows = len(table)
        return self._models

    # -- the loop ------------------------------------------------------------------------------
    def _pending(self, round_record: Mapping) -> list[str]:
        done = {r["smiles"] for r in self._rows if r["round"] == round_record["round"]}
        return [s for s in round_record["batch"] if s not in done]

    def _record_measurement(self, smiles: str, round_number: int) -> dict:
        result = _measure(self._oracle, smiles, self.properties)
        record = {"kind": "measurement", "round": round_number, "smiles": smiles, **result}
        self._journal.append(record)  # on disk (fsync) before the loop goes on
        self._rows.append(
            {k: record.get(k) for k in ("round", "smiles", "ok", "reason")}
            | {n: record.get(n) for n in self.properties}
        )
        self._measured.add(smiles)
        return record

    def _measure_initial(self) -> None:
        done = {r["smiles"] for r in self._rows if r["round"] == 0}
        todo = [s for s in self._initial_smiles if s not in done]
        for smiles in todo:
            self._record_measurement(smiles, 0)
        if todo and sum(1 for r in self._rows if r["round"] == 0 and r["ok"]) < 2:
            raise ValueError(
                "fewer than 2 initial molecules could be measured; the models need data to "
                "start from (see design.measurements()['reason'])"
            )

    def _plan_round(self) -> dict:
        round_number = len(self._rounds) + 1
        models = self.forward_models()
        anchor_smiles, _, anchor = self._best()
        temp = temporary_region(self.final_region, anchor, self.settings["step_fraction"])
        table = self._ok_table()
        seeds_order = np.argsort(region_distance(table, temp, self.scales), kind="stable")
        n_particles = self.settings["n_particles"]
        seeds = [table["smiles"].iloc[i] for i in seeds_order[:n_particles]]
        seeds = [seeds[i % len(seeds)] for i in range(n_particles)]
        from mi_workbench.molecules.iqspr import IQSPR

        sampler = IQSPR(models, temp, self.language_model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            generation = sampler.run(
                self.settings["n_steps"],
                n_particles,
                random_seed=_round_seed(self.random_seed, round_number),
                initial_smiles=seeds,
                progress=False,
            )
        self.last_generation = generation
        visited = [str(s) for s in np.asarray(generation["smiles"].values).ravel()]
        candidates = []
        seen = set()
        for text in visited:
            can = _canonical(text)
            if can is None or can in seen or can in self._measured:
                continue
            seen.add(can)
            candidates.append(can)
        record: dict[str, Any] = {
            "kind": "round",
            "round": round_number,
            "temporary_region": _region_to_json(temp),
            "anchor": anchor_smiles,
            "n_candidates": len(candidates),
            "batch": [],
            "predicted_mean": {n: [] for n in self.properties},
            "predicted_sd": {n: [] for n in self.properties},
            "score": [],
            "probability_in_temporary": [],
        }
        if candidates:
            mean, sd = {}, {}
            for name, model in models.items():
                m, s = model.predict(candidates)
                mean[name], sd[name] = np.asarray(m, dtype=float), np.asarray(s, dtype=float)
            terms = extrapolative_acquisition(
                mean,
                sd,
                temp,
                self.final_region,
                self.scales,
                rule=self.settings["rule"],
                uncertainty_weight=self.settings["uncertainty_weight"],
                final_weight=self.settings["final_weight"],
                target_weight=self.settings["target_weight"],
            )
            score = np.where(np.isfinite(terms["score"]), terms["score"], -np.inf)
            order = np.argsort(-score, kind="stable")[: self.settings["batch_size"]]
            record["batch"] = [candidates[i] for i in order]
            for name in self.properties:
                record["predicted_mean"][name] = [_json_number(mean[name][i]) for i in order]
                record["predicted_sd"][name] = [_json_number(sd[name][i]) for i in order]
            record["score"] = [_json_number(score[i]) for i in order]
            record["probability_in_temporary"] = [
                _json_number(terms["probability_in_temporary"][i]) for i in order
            ]
        else:
            warnings.warn(
                f"round {round_number}: iQSPR proposed no molecule that was not measured before; "
                f"nothing is measured this round (try more particles or steps)",
                RuntimeWarning,
                stacklevel=3,
            )
        self._journal.append(record)
        self._rounds.append(record)
        return record

    def run(self, n_rounds: int = 1) -> xr.Dataset:
        """Run design rounds: plan (region, generation, acquisition), measure, refit.

        A round that an earlier session left unfinished (a crash while measuring) is completed
        first, with the molecules it had planned, and counts as one of the ``n_rounds``.

        Parameters
        ----------
        n_rounds : int, optional
            Rounds to run.

        Returns
        -------
        xarray.Dataset
            :meth:`history` after the last round.
        """
        n_rounds = check_positive_int("n_rounds", n_rounds)
        from tqdm.auto import tqdm

        if self._header_initial_measured:
            self._measure_initial()
        bar = tqdm(
            total=n_rounds, desc="extrapolative design", unit="round", disable=not self.progress
        )
        try:
            for _ in range(n_rounds):
                if self._rounds and self._pending(self._rounds[-1]):
                    record = self._rounds[-1]
                else:
                    record = self._plan_round()
                for smiles in self._pending(record):
                    self._record_measurement(smiles, record["round"])
                bar.set_postfix(
                    best_distance=f"{self.best_distance:.3g}", calls=self.n_oracle_calls
                )
                bar.update(1)
        finally:
            bar.close()
        return self.history()

    # -- results -------------------------------------------------------------------------------
    def history(self) -> xr.Dataset:
        """Per round: temporary region, batch, predictions, measured values and best distance.

        Round 0 is the initial data (no region, no batch).

        Returns
        -------
        xarray.Dataset
            Dims ``round``, ``property``, ``slot`` (position in the batch). Variables
            ``temporary_low``/``temporary_high`` (round, property), ``final_low``/``final_high``
            (property), ``batch_smiles``, ``ok``, ``reason``, ``acquisition``,
            ``probability_in_temporary`` (round, slot), ``measured``, ``predicted_mean``,
            ``predicted_sd`` (round, slot, property), ``best_distance``, ``best_smiles``,
            ``n_oracle_calls``, ``n_in_final_region``, ``n_candidates``, ``anchor_smiles``
            (round); ``attrs`` hold units, the final region (JSON) and the settings.
        """
        names = self.properties
        n_rounds = len(self._rounds) + 1
        n_slots = max([len(r["batch"]) for r in self._rounds] + [self.settings["batch_size"]])
        temp_low = np.full((n_rounds, len(names)), np.nan)
        temp_high = np.full((n_rounds, len(names)), np.nan)
        smiles = np.full((n_rounds, n_slots), "", dtype=object)
        reason = np.full((n_rounds, n_slots), "", dtype=object)
        ok = np.zeros((n_rounds, n_slots), dtype=bool)
        score = np.full((n_rounds, n_slots), np.nan)
        p_temp = np.full((n_rounds, n_slots), np.nan)
        measured = np.full((n_rounds, n_slots, len(names)), np.nan)
        pred_mean = np.full((n_rounds, n_slots, len(names)), np.nan)
        pred_sd = np.full((n_rounds, n_slots, len(names)), np.nan)
        best = np.full(n_rounds, np.nan)
        best_smiles = np.full(n_rounds, "", dtype=object)
        anchors = np.full(n_rounds, "", dtype=object)
        calls = np.zeros(n_rounds, dtype=int)
        hits = np.zeros(n_rounds, dtype=int)
        n_candidates = np.zeros(n_rounds, dtype=int)
        table = self.measurements()
        by_round = {r: part for r, part in table.groupby("round")}
        for record in self._rounds:
            r = record["round"]
            low, high = _region_arrays(_region_from_json(record["temporary_region"]), names)
            temp_low[r], temp_high[r] = low, high
            anchors[r] = record.get("anchor") or ""
            n_candidates[r] = record["n_candidates"]
            part = by_round.get(r, table.iloc[:0]).set_index("smiles")
            for slot, text in enumerate(record["batch"]):
                smiles[r, slot] = text
                score[r, slot] = np.nan if record["score"][slot] is None else record["score"][slot]
                value = record["probability_in_temporary"][slot]
                p_temp[r, slot] = np.nan if value is None else value
                for k, name in enumerate(names):
                    for target, key in ((pred_mean, "predicted_mean"), (pred_sd, "predicted_sd")):
                        value = record[key][name][slot]
                        target[r, slot, k] = np.nan if value is None else value
                if text in part.index:
                    row = part.loc[text]
                    ok[r, slot] = bool(row["ok"])
                    reason[r, slot] = row["reason"] or ""
                    measured[r, slot] = [row[name] for name in names]
                else:
                    reason[r, slot] = "not measured yet"
        rounds = table["round"].to_numpy()
        distance = table["distance_to_final"].to_numpy()
        good = table["ok"].to_numpy(dtype=bool)
        initial_calls = self._header_initial_measured
        for r in range(n_rounds):
            upto = (rounds <= r) & good
            if upto.any():
                i = int(np.flatnonzero(upto)[np.argmin(distance[upto])])
                best[r], best_smiles[r] = distance[i], table["smiles"].iloc[i]
            hits[r] = int(np.sum(upto & (distance == 0.0)))
            calls[r] = int(np.sum((rounds <= r) & ((rounds > 0) | initial_calls)))
        final_low, final_high = _region_arrays(self.final_region, names)
        ds = xr.Dataset(
            {
                "temporary_low": (("round", "property"), temp_low),
                "temporary_high": (("round", "property"), temp_high),
                "final_low": (("property",), final_low),
                "final_high": (("property",), final_high),
                "batch_smiles": (("round", "slot"), smiles.astype(str)),
                "ok": (("round", "slot"), ok),
                "reason": (("round", "slot"), reason.astype(str)),
                "acquisition": (("round", "slot"), score),
                "probability_in_temporary": (("round", "slot"), p_temp),
                "measured": (("round", "slot", "property"), measured),
                "predicted_mean": (("round", "slot", "property"), pred_mean),
                "predicted_sd": (("round", "slot", "property"), pred_sd),
                "best_distance": (("round",), best),
                "best_smiles": (("round",), best_smiles.astype(str)),
                "anchor_smiles": (("round",), anchors.astype(str)),
                "n_oracle_calls": (("round",), calls),
                "n_in_final_region": (("round",), hits),
                "n_candidates": (("round",), n_candidates),
            },
            coords={"round": np.arange(n_rounds), "property": names, "slot": np.arange(n_slots)},
            attrs={
                "units": json.dumps(self.units),
                "final_region": json.dumps(_region_to_json(self.final_region)),
                "settings": json.dumps(self.settings),
                "scales": json.dumps(self.scales),
                "oracle": self._oracle_name,
                "random_seed": self.random_seed,
                "journal": str(self.path),
            },
        )
        ds["best_distance"].attrs["description"] = (
            "standardised distance of the best measured molecule to the final region (0: inside)"
        )
        return ds
