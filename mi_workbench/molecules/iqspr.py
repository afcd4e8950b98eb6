"""iQSPR: inverse design of molecules by sequential Monte Carlo over SMILES.

Ikebata, Hongo, Isomura, Maezono and Yoshida, "Bayesian molecular design with a chemical
language model", J. Comput.-Aided Mol. Des. 31, 379 (2017), write design as Bayes' rule::

    p(S | Y in U)  ∝  P(Y in U | S) p(S)

- the *prior* ``p(S)`` over molecules (SMILES strings ``S``) is a chemical language model
  (:class:`mi_workbench.molecules.language.NGramLanguageModel`) trained on known molecules;
- the *likelihood* ``P(Y in U | S)`` is the probability, under the forward models'
  predictive distributions (:mod:`mi_workbench.molecules.forward`), that the properties ``Y``
  of ``S`` fall in the target region ``U`` (a box: one interval per property);
- the *posterior* is sampled by sequential Monte Carlo: a population of particles (molecules)
  starts from known molecules; at every step each particle is modified by the language model
  (cut the end of the SMILES, write a new end), weighted by the annealed likelihood
  ``P(Y in U | S) ** beta_t`` (``beta_t`` rises to 1 so that the population is pulled towards
  the region gradually), and the population is resampled (systematic resampling) when the
  effective sample size falls below a threshold.

Because the modification is drawn from the language model itself, the importance weight of a
new particle is the likelihood alone, as in the original iQSPR (XenonPy's ``IQSPR``).

With independent Gaussian predictive distributions the likelihood of a box is a product of
differences of normal CDFs, evaluated in logs (``scipy.special.log_ndtr``) so that molecules
far from the region still get comparable, finite weights.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import check_finite_array, check_positive_int, check_str_sequence

__all__ = [
    "IQSPR",
    "TargetRegion",
    "log_probability_in_region",
    "systematic_resample",
    "unique_molecules",
    "verify_molecules",
]


def _bound(name: str, side: str, value: object, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"target_region[{name!r}] {side} bound must be a number or None, got {value!r}"
        )
    number = float(value)
    if math.isnan(number):
        raise ValueError(
            f"target_region[{name!r}] {side} bound is NaN; use None (or +-inf) for an open side"
        )
    return number


class TargetRegion(Mapping):
    """A box in property space: one interval ``(low, high)`` per property.

    Parameters
    ----------
    bounds : mapping of str to (low, high)
        Interval of each property; ``None`` or an infinity leaves a side open.
    known : sequence of str, optional
        Allowed property names (the forward models'); unknown names raise ``ValueError``.

    Raises
    ------
    ValueError
        Unknown property, NaN bound, empty interval (``low == high``), inverted interval
        (``low > high``), both sides open, or no property at all.

    Examples
    --------
    >>> region = TargetRegion({"homo_lumo_gap": (8.0, None)})
    >>> region["homo_lumo_gap"]
    (8.0, inf)
    >>> region.contains({"homo_lumo_gap": 9.1})
    True
    >>> TargetRegion({"gap": (1, 2)}, known=["homo_lumo_gap"])
    Traceback (most recent call last):
    ...
    ValueError: target_region has an unknown property 'gap'; known properties: homo_lumo_gap
    """

    def __init__(self, bounds: Mapping, known: Sequence[str] | None = None) -> None:
        if isinstance(bounds, TargetRegion):
            bounds = dict(bounds)
        if not isinstance(bounds, Mapping):
            raise TypeError(
                "target_region must be a mapping {property: (low, high)}, e.g. "
                f"{{'homo_lumo_gap': (8.0, None)}}, got {bounds!r}"
            )
        if not bounds:
            raise ValueError("target_region is empty; give at least one property interval")
        if known is not None:
            known = check_str_sequence("known", known)
        clean: dict[str, tuple[float, float]] = {}
        for name, interval in bounds.items():
            if known is not None and name not in known:
                raise ValueError(
                    f"target_region has an unknown property {name!r}; known properties: "
                    + ", ".join(known)
                )
            if isinstance(interval, str) or not isinstance(interval, Sequence | np.ndarray):
                raise TypeError(
                    f"target_region[{name!r}] must be a pair (low, high), got {interval!r}"
                )
            if len(interval) != 2:
                raise ValueError(
                    f"target_region[{name!r}] must be a pair (low, high), got {interval!r}"
                )
            low = _bound(name, "low", interval[0], -math.inf)
            high = _bound(name, "high", interval[1], math.inf)
            if low == high:
                raise ValueError(
                    f"target_region[{name!r}] = ({low}, {high}) is empty: low equals high"
                )
            if low > high:
                raise ValueError(
                    f"target_region[{name!r}] = ({low}, {high}) is inverted: low must be < high"
                )
            if not (math.isfinite(low) or math.isfinite(high)):
                raise ValueError(
                    f"target_region[{name!r}] is open on both sides; give a finite low or high"
                )
            clean[str(name)] = (low, high)
        self._bounds = clean

    def __getitem__(self, name: str) -> tuple[float, float]:
        return self._bounds[name]

    def __iter__(self):
        return iter(self._bounds)

    def __len__(self) -> int:
        return len(self._bounds)

    def contains(self, values: Mapping[str, float]) -> bool:
        """True if every property in ``values`` lies inside its interval (NaN: False)."""
        for name, (low, high) in self._bounds.items():
            value = float(values[name])
            if not (low <= value <= high):
                return False
        return True

    def to_json(self) -> str:
        """JSON text ``{property: [low, high]}`` with ``null`` for an open side."""
        return json.dumps(
            {
                name: [None if math.isinf(low) else low, None if math.isinf(high) else high]
                for name, (low, high) in self._bounds.items()
            }
        )

    def __repr__(self) -> str:
        return f"TargetRegion({self._bounds})"


def _interval_bound(name: str, value: object) -> float:
    """``value`` as a float bound of an interval: a number or +-inf, not NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number (or +-inf), got {value!r}")
    if math.isnan(value):
        raise ValueError(f"{name} must be a number (or +-inf), got NaN")
    return float(value)


def log_probability_in_region(mean, sd, low: float, high: float) -> np.ndarray:
    """``log P(low <= Y <= high)`` for ``Y ~ Normal(mean, sd)``, accurate far in the tails.

    Parameters
    ----------
    mean, sd : array-like
        Predictive means and standard deviations (sd > 0).
    low, high : float
        Interval; ``-inf``/``inf`` for an open side.

    Returns
    -------
    ndarray
        Same shape as ``mean``; ``-inf`` where the probability is 0 in floating point.

    Examples
    --------
    >>> float(np.exp(log_probability_in_region([0.0], [1.0], -1.96, 1.96))[0]).__round__(3)
    0.95
    >>> bool(log_probability_in_region([0.0], [1.0], 40.0, np.inf)[0] > -900)
    True
    """
    from scipy.special import log_ndtr

    mean = check_finite_array("mean", mean)
    sd = check_finite_array("sd", sd)
    if sd.shape != mean.shape:
        raise ValueError(f"sd must have the shape of mean {mean.shape}, got {sd.shape}")
    if (sd < 0).any():
        raise ValueError(f"sd must be >= 0, got {float(sd.min())!r}")
    low, high = _interval_bound("low", low), _interval_bound("high", high)
    if not low < high:
        raise ValueError(f"low must be below high, got low={low!r}, high={high!r}")
    sd = np.maximum(sd, 1e-300)  # a zero sd: a step function
    with np.errstate(over="ignore"):
        z_low = (low - mean) / sd
        z_high = (high - mean) / sd
    if math.isinf(high) and math.isinf(low):
        return np.zeros_like(mean)
    if math.isinf(high):
        return log_ndtr(-z_low)
    if math.isinf(low):
        return log_ndtr(z_high)
    # P = Phi(z_high) - Phi(z_low); use the upper tail where the interval lies above the mean
    upper = z_low > 0
    a = np.where(upper, log_ndtr(-z_low), log_ndtr(z_high))
    b = np.where(upper, log_ndtr(-z_high), log_ndtr(z_low))
    with np.errstate(divide="ignore", invalid="ignore"):
        result = a + np.log1p(-np.exp(np.minimum(b - a, 0.0)))
    return np.where(np.isneginf(a), -np.inf, result)


def systematic_resample(weights, rng: np.random.Generator) -> np.ndarray:
    """Indices of a systematic resampling of normalised ``weights`` (low-variance resampling).

    Examples
    --------
    >>> systematic_resample([0.0, 1.0, 0.0], np.random.default_rng(0))
    array([1, 1, 1])
    """
    weights = np.asarray(weights, dtype=float)
    n = weights.size
    positions = (rng.random() + np.arange(n)) / n
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, positions, side="right").clip(max=n - 1)


def _default_schedule(n_steps: int) -> np.ndarray:
    ramp = max(1, int(math.ceil(0.5 * n_steps)))
    return np.minimum(1.0, np.arange(1, n_steps + 1) / ramp)


class IQSPR:
    """Bayesian molecular design by sequential Monte Carlo (iQSPR).

    Parameters
    ----------
    forward_models : mapping of str to PropertyModel
        Forward models ``p(property | SMILES)``: objects with ``predict(smiles) -> (mean, sd)``
        and optionally ``units`` and ``training_smiles_`` (e.g. the result of
        :func:`mi_workbench.molecules.forward.fit_forward_models`). Every model is predicted
        and recorded; those named in ``target_region`` enter the likelihood.
    target_region : TargetRegion or mapping of str to (low, high)
        The box ``U``; ``None`` or an infinity leaves a side open.
    language_model : NGramLanguageModel, optional
        Prior and proposal (``propose(smiles, rng) -> smiles``); default
        :func:`mi_workbench.molecules.language.default_language_model`.

    Examples
    --------
    >>> from mi_workbench.molecules.forward import PropertyModel
    >>> gap = PropertyModel("homo_lumo_gap").fit(
    ...     ["CCCC", "CCCCO", "CCOCC", "c1ccccc1", "c1ccncc1", "C=CC=CC=C"], [11, 10, 10, 5, 5, 4]
    ... )
    >>> design = IQSPR({"homo_lumo_gap": gap}, {"homo_lumo_gap": (9.0, None)})
    >>> result = design.run(5, 20, random_seed=0, progress=False)
    >>> result.sizes["step"], result.sizes["particle"]
    (6, 20)
    """

    def __init__(self, forward_models: Mapping, target_region, language_model=None) -> None:
        if not isinstance(forward_models, Mapping) or not forward_models:
            raise TypeError(
                "forward_models must be a non-empty mapping {property: model}, e.g. the result "
                f"of fit_forward_models(), got {forward_models!r}"
            )
        for name, model in forward_models.items():
            if not callable(getattr(model, "predict", None)):
                raise TypeError(
                    f"forward_models[{name!r}] has no predict(smiles) method: {model!r}"
                )
        self.forward_models = dict(forward_models)
        self.target_region = TargetRegion(target_region, known=list(self.forward_models))
        if language_model is None:
            from mi_workbench.molecules.language import default_language_model

            language_model = default_language_model()
        if not callable(getattr(language_model, "propose", None)):
            raise TypeError(
                f"language_model must have a propose(smiles, rng) method, got {language_model!r}"
            )
        self.language_model = language_model
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def properties(self) -> list[str]:
        """Names of the forward models, in order."""
        return list(self.forward_models)

    def predict(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predictive means, sds (n, n_properties) and ``log P(Y in U | S)`` (n,) of molecules.

        Predictions of molecules seen before are reused (within one run; :meth:`run` starts
        with an empty cache, so refitted forward models are used at once).

        Examples
        --------
        >>> from mi_workbench.molecules.forward import PropertyModel
        >>> gap = PropertyModel("homo_lumo_gap").fit(
        ...     ["CCCC", "CCCCO", "CCOCC", "c1ccccc1", "c1ccncc1"], [11, 10, 10, 5, 5]
        ... )
        >>> design = IQSPR({"homo_lumo_gap": gap}, {"homo_lumo_gap": (9, 20)})
        >>> mean, sd, log_likelihood = design.predict(["CCCC", "c1ccccc1"])
        >>> bool(log_likelihood[0] > log_likelihood[1])
        True
        """
        smiles = list(smiles)
        new = list(dict.fromkeys(s for s in smiles if s not in self._cache))
        if new:
            means = np.empty((len(new), len(self.forward_models)))
            sds = np.empty_like(means)
            for j, model in enumerate(self.forward_models.values()):
                mean, sd = model.predict(new)
                means[:, j], sds[:, j] = mean, sd
            for k, text in enumerate(new):
                self._cache[text] = (means[k], sds[k])
        means = np.array([self._cache[s][0] for s in smiles]).reshape(len(smiles), -1)
        sds = np.array([self._cache[s][1] for s in smiles]).reshape(len(smiles), -1)
        log_like = np.zeros(len(smiles))
        region = TargetRegion(self.target_region, known=self.properties)
        for j, name in enumerate(self.forward_models):
            if name in region:
                low, high = region[name]
                log_like += log_probability_in_region(means[:, j], sds[:, j], low, high)
        return means, sds, log_like

    def _initial(self, initial_smiles, n_particles: int, rng) -> list[str]:
        from mi_workbench.molecules.language import check_smiles

        if initial_smiles is None:
            pool = sorted(
                set().union(
                    *(getattr(m, "training_smiles_", ()) for m in self.forward_models.values())
                )
            )
            if not pool:
                from mi_workbench.molecules.language import load_smiles_corpus

                pool = load_smiles_corpus()
            return [pool[i] for i in rng.choice(len(pool), size=n_particles, replace=True)]
        if isinstance(initial_smiles, str):
            initial_smiles = [initial_smiles]
        initial = [
            check_smiles(s, argument=f"initial_smiles[{i}]") for i, s in enumerate(initial_smiles)
        ]
        if not initial:
            raise ValueError("initial_smiles is empty; give molecules or None for corpus ones")
        return [initial[i % len(initial)] for i in range(n_particles)]

    def run(
        self,
        n_steps: int,
        n_particles: int,
        *,
        random_seed: int | None = None,
        initial_smiles: Sequence[str] | None = None,
        progress: bool = True,
        beta_schedule: Sequence[float] | Callable[[int], float] | None = None,
        ess_threshold: float = 0.5,
        on_progress: Callable[[float], None] | None = None,
    ) -> xr.Dataset:
        """Run the sequential Monte Carlo.

        At every step each particle is replaced by ``language_model.propose(particle)``, its
        weight is ``P(Y in U | S) ** beta_t`` of the new molecule (the move is a draw from the
        prior, so weights are not carried over from the old molecule), and the population is
        resampled systematically when the effective sample size ``1 / sum(w**2)`` falls below
        ``ess_threshold * n_particles``.

        Parameters
        ----------
        n_steps : int
            Number of SMC steps (modify, weight, maybe resample).
        n_particles : int
            Population size (>= 2).
        random_seed : int, optional
            Seed; the same seed gives the same run.
        initial_smiles : sequence of str, optional
            Starting molecules (repeated to fill the population); default: random picks from
            the forward models' training molecules.
        progress : bool, optional
            Show a tqdm progress bar.
        beta_schedule : sequence of float or callable, optional
            Annealing exponents ``beta_1 .. beta_n_steps`` in [0, 1] (or ``f(step)``); default
            rising linearly to 1 over the first half of the steps, then 1.
        ess_threshold : float, optional
            Resample when the effective sample size is below ``ess_threshold * n_particles``
            (1.0: resample at every step, as XenonPy's iQSPR does).
        on_progress : callable, optional
            Called after every step with the finished fraction in (0, 1]; panels use it to move
            their own progress bar.

        Returns
        -------
        xarray.Dataset
            Dims ``step`` (0 = the initial population, then one per SMC step) and ``particle``;
            variables ``smiles``, ``weight`` (normalised, before resampling),
            ``<property>_mean``, ``<property>_sd``, ``log_likelihood`` (``log P(Y in U|S)``),
            ``beta``, ``ess``, ``resampled``; attrs ``target_region`` (JSON), ``random_seed``,
            ``n_particles``, ``units`` (JSON), ``properties``.
        """
        n_steps = check_positive_int("n_steps", n_steps)
        n_particles = check_positive_int("n_particles", n_particles, minimum=2)
        if not 0.0 < float(ess_threshold) <= 1.0:
            raise ValueError(f"ess_threshold must be in (0, 1], got {ess_threshold!r}")
        if random_seed is not None:
            check_positive_int("random_seed", random_seed, minimum=0)
        if on_progress is not None and not callable(on_progress):
            raise TypeError(f"on_progress must be callable or None, got {on_progress!r}")
        betas = self._schedule(beta_schedule, n_steps)
        self._cache.clear()  # the forward models may have been refitted since the last run
        rng = np.random.default_rng(random_seed)
        particles = self._initial(initial_smiles, n_particles, rng)
        names = self.properties
        record: dict[str, list] = {"smiles": [], "weight": [], "log_likelihood": []}
        record.update({f"{p}_{k}": [] for p in names for k in ("mean", "sd")})
        ess_list, resampled_list = [], []

        def store(smiles, weights, mean, sd, log_like, ess, resampled):
            record["smiles"].append(list(smiles))
            record["weight"].append(weights)
            record["log_likelihood"].append(log_like)
            for j, p in enumerate(names):
                record[f"{p}_mean"].append(mean[:, j])
                record[f"{p}_sd"].append(sd[:, j])
            ess_list.append(ess)
            resampled_list.append(resampled)

        mean, sd, log_like = self.predict(particles)
        uniform = np.full(n_particles, 1.0 / n_particles)
        store(particles, uniform, mean, sd, log_like, float(n_particles), False)
        from tqdm.auto import tqdm

        bar = tqdm(total=n_steps, desc="iQSPR", unit="step", disable=not progress)
        try:
            for step in range(n_steps):
                particles = [self.language_model.propose(s, rng) for s in particles]
                mean, sd, log_like = self.predict(particles)
                log_w = betas[step] * np.where(np.isneginf(log_like), -1e300, log_like)
                log_w = log_w - log_w.max()
                weights = np.exp(log_w)
                weights /= weights.sum()
                ess = float(1.0 / np.sum(weights**2))
                resample = ess < ess_threshold * n_particles
                store(particles, weights, mean, sd, log_like, ess, resample)
                if resample:
                    index = systematic_resample(weights, rng)
                    particles = [particles[i] for i in index]
                in_region = float(np.mean(log_like > math.log(0.5)))
                bar.set_postfix(ess=f"{ess:.0f}", in_region=f"{in_region:.0%}", refresh=False)
                bar.update(1)
                if on_progress is not None:
                    on_progress((step + 1) / n_steps)
        finally:
            bar.close()
        return self._dataset(record, betas, ess_list, resampled_list, random_seed, n_particles)

    def _schedule(self, beta_schedule, n_steps: int) -> np.ndarray:
        if beta_schedule is None:
            return _default_schedule(n_steps)
        if callable(beta_schedule):
            betas = np.array([float(beta_schedule(t)) for t in range(1, n_steps + 1)])
        else:
            betas = np.asarray(beta_schedule, dtype=float)
            if betas.shape != (n_steps,):
                raise ValueError(
                    f"beta_schedule must have n_steps = {n_steps} values, got shape {betas.shape}"
                )
        if not np.all(np.isfinite(betas)) or betas.min() < 0 or betas.max() > 1:
            raise ValueError(f"beta_schedule values must lie in [0, 1], got {betas!r}")
        return betas

    def _dataset(self, record, betas, ess, resampled, random_seed, n_particles) -> xr.Dataset:
        dims = ("step", "particle")
        data = {
            "smiles": (dims, np.array(record["smiles"], dtype=str)),
            "weight": (dims, np.array(record["weight"])),
            "log_likelihood": (dims, np.array(record["log_likelihood"])),
        }
        units = {}
        for name, model in self.forward_models.items():
            units[name] = str(getattr(model, "units", ""))
            data[f"{name}_mean"] = (dims, np.array(record[f"{name}_mean"]), {"units": units[name]})
            data[f"{name}_sd"] = (dims, np.array(record[f"{name}_sd"]), {"units": units[name]})
        data["beta"] = ("step", np.concatenate([[0.0], betas]))
        data["ess"] = ("step", np.array(ess))
        data["resampled"] = ("step", np.array(resampled, dtype=bool))
        ds = xr.Dataset(
            data,
            coords={"step": np.arange(len(ess)), "particle": np.arange(n_particles)},
        )
        ds["log_likelihood"].attrs["long_name"] = "log P(Y in target region | molecule)"
        ds["weight"].attrs["long_name"] = "normalised importance weight (before resampling)"
        ds.attrs.update(
            {
                "title": "iQSPR population (sequential Monte Carlo over SMILES)",
                "reference": "Ikebata et al., J. Comput.-Aided Mol. Des. 31, 379 (2017)",
                "target_region": self.target_region.to_json(),
                "random_seed": "None" if random_seed is None else int(random_seed),
                "n_particles": int(n_particles),
                "properties": json.dumps(self.properties),
                "units": json.dumps(units),
            }
        )
        return ds


def unique_molecules(
    result: xr.Dataset, step: int | Sequence[int] = -1, *, known_smiles=None
) -> pd.DataFrame:
    """One row per unique molecule of the population at ``step`` (or several steps).

    Parameters
    ----------
    result : xarray.Dataset
        Output of :meth:`IQSPR.run`.
    step : int or sequence of int, optional
        Step index (negative counts from the end), or several; default the last step.
    known_smiles : collection of str, optional
        Canonical SMILES counted as known (e.g. the forward models' ``training_smiles_``);
        adds a boolean column ``novel``.

    Returns
    -------
    pandas.DataFrame
        Columns ``smiles``, ``count`` (particles), ``weight`` (summed), ``<property>_mean``,
        ``<property>_sd``, ``probability_in_region``, sorted by that probability (highest
        first).

    Examples
    --------
    >>> from mi_workbench.molecules.forward import PropertyModel
    >>> gap = PropertyModel("homo_lumo_gap").fit(
    ...     ["CCCC", "CCCCO", "CCOCC", "c1ccccc1", "c1ccncc1", "C=CC=CC=C"], [11, 10, 10, 5, 5, 4]
    ... )
    >>> design = IQSPR({"homo_lumo_gap": gap}, {"homo_lumo_gap": (9.0, None)})
    >>> table = unique_molecules(design.run(3, 10, random_seed=1, progress=False))
    >>> list(table.columns[:3])
    ['smiles', 'count', 'weight']
    """
    if not isinstance(result, xr.Dataset) or "smiles" not in result:
        raise TypeError("result must be the xarray.Dataset returned by IQSPR.run")
    n = result.sizes["step"]
    steps = [step] if isinstance(step, int | np.integer) else list(step)
    for s in steps:
        if not -n <= s < n:
            raise ValueError(f"step must be in [{-n}, {n - 1}], got {s}")
    sub = result.isel(step=steps).stack(row=("step", "particle"))
    properties = json.loads(result.attrs.get("properties", "[]"))
    frame = pd.DataFrame(
        {
            "smiles": sub["smiles"].values.astype(str),
            "weight": sub["weight"].values / len(steps),
            "log_likelihood": sub["log_likelihood"].values,
            **{f"{p}_{k}": sub[f"{p}_{k}"].values for p in properties for k in ("mean", "sd")},
        }
    )
    grouped = frame.groupby("smiles", sort=False)
    table = grouped.first()
    table.insert(0, "count", grouped.size())
    table["weight"] = grouped["weight"].sum()
    table["probability_in_region"] = np.exp(table.pop("log_likelihood"))
    table = table.reset_index()
    if known_smiles is not None:
        known = set(known_smiles)
        table["novel"] = ~table["smiles"].isin(known)
    cols = ["smiles", "count", "weight"] + [
        c for c in table.columns if c not in ("smiles", "count", "weight")
    ]
    table = table[cols].sort_values("probability_in_region", ascending=False, kind="stable")
    return table.reset_index(drop=True)


def verify_molecules(
    molecules,
    target_region,
    *,
    oracle: str = "xtb",
    n_workers: int = 1,
    cache_path=None,
    progress: bool = True,
) -> pd.DataFrame:
    """Compute molecules with the real oracle and check whether they fall in the region.

    Parameters
    ----------
    molecules : pandas.DataFrame or sequence of str
        A table with a ``smiles`` column (e.g. from :func:`unique_molecules`) or SMILES.
    target_region : TargetRegion or mapping
        The region ``{property: (low, high)}`` (property names are the oracle's keys).
    oracle : str, optional
        ``"xtb"`` (default) or ``"dft"`` (only ``homo_lumo_gap`` and ``total_energy``).
    n_workers : int, optional
        Worker processes of :func:`mi_workbench.molecules.oracles.run_oracle_batch`.
    cache_path : str or path-like, optional
        JSON-lines cache of the oracle (an interrupted run resumes).
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        The input table (or a ``smiles`` column) with ``<oracle>_<property>`` for every
        property the oracle returns, ``<oracle>_ok``, ``<oracle>_reason`` and
        ``<oracle>_in_region`` (False when the calculation failed).

    Examples
    --------
    >>> table = verify_molecules(["CCCCCCO", "c1ccccc1"], {"homo_lumo_gap": (6.0, None)},
    ...                          progress=False)
    >>> table["xtb_in_region"].tolist()
    [True, False]
    """
    from mi_workbench.molecules.oracles import run_oracle_batch

    region = TargetRegion(target_region)
    if isinstance(molecules, pd.DataFrame):
        if "smiles" not in molecules.columns:
            raise ValueError("molecules must have a 'smiles' column")
        table = molecules.reset_index(drop=True).copy()
    else:
        molecules = check_str_sequence("molecules", molecules, allow_str=True)
        table = pd.DataFrame({"smiles": molecules})
    records = run_oracle_batch(
        table["smiles"].tolist(),
        oracle,
        n_workers=n_workers,
        cache_path=cache_path,
        progress=progress,
    )
    by_input = {record["input"]: record for record in records}
    rows = [by_input[s.strip()] for s in table["smiles"]]
    for name in ("homo_lumo_gap", "total_energy", "dipole"):
        if any(name in r for r in rows):
            table[f"{oracle}_{name}"] = [float(r.get(name, math.nan)) for r in rows]
    table[f"{oracle}_ok"] = [bool(r["ok"]) for r in rows]
    table[f"{oracle}_reason"] = [str(r["reason"]) for r in rows]
    table[f"{oracle}_in_region"] = [bool(r["ok"]) and region.contains(r) for r in rows]
    return table
