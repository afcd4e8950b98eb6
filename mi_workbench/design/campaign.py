"""Adaptive-design campaigns: suggest candidates, record measurements, never lose one.

A :class:`Campaign` ties together a candidate space (an ``xarray.Dataset`` over the dim
``candidate``, see :func:`~mi_workbench.design.composition_grid`), the descriptor variables a
surrogate model learns from, a surrogate with uncertainty and an acquisition function. It runs the
loop of Xue et al. (Nat. Commun. 7, 11241, 2016): fit the surrogate to every measurement so far,
score every candidate, suggest a batch, measure it, record the values, repeat.

Persistence. With ``path=...`` every call to :meth:`Campaign.observe`,
:meth:`Campaign.observe_failure` (a failed or infeasible run), :meth:`Campaign.cancel` (withdrawn
suggestions), :meth:`Campaign.set_acquisition_params` and :meth:`Campaign.undo` is on disk,
``fsync``-ed, before it returns. The file is an append-only journal of JSON lines, each
with a CRC-32 checksum (see :mod:`mi_workbench.design._journal`): a program killed at any moment
leaves either the whole record or a torn last line, which :meth:`Campaign.open` recognises and
drops. Suggestions are journalled too, so a reopened campaign knows the pending batch and what was
predicted for it. The random state of each suggestion is derived from ``random_seed`` and the
number of records so far, so a reopened campaign makes exactly the suggestion the original would
have made next. The candidate space itself is not stored (it can have millions of rows); its size,
a hash of its ``candidate`` coordinate and a hash of every row of its composition and feature
variables are, and :meth:`Campaign.open` checks that it is given the same space (one edited row or
two swapped rows are refused). Files of older versions, which stored 33 sampled rows, are still
accepted; their first reopening saves the hash of every row.

Reading and repairing. ``Campaign.open(path, candidates, read_only=True)`` reads a campaign
without locking or writing anything (a read-only file or file system, or a campaign open in
another kernel), for viewing its history, best and predictions. A file changed from outside (a
hand-edited or damaged line) is refused with the line number and what to do;
:func:`~mi_workbench.design.repair_journal` keeps the intact records before the damage in the
file and the damaged original beside it as a backup.

Failed runs. :meth:`Campaign.observe_failure` records a run that gave no value (a cracked sample,
an alloy that does not transform). Failures stay in :attr:`Campaign.history` (``failed``,
``failure_reason``), are never suggested again and are left out of :attr:`Campaign.best` and of
the surrogate's data; they do not down-weight the acquisition of similar candidates (there is
no feasibility model).

Scaling. Candidates are scored in chunks of ``chunk_size`` rows, in parallel threads (BLAS kept
single-threaded), so memory stays flat however large the space; only the best-ranked candidates
are kept. A batch is built by the Kriging believer of Xue et al. on the ``shortlist_size`` best
ones, re-scoring further candidates only when the shortlist cannot prove its choice: for expected
improvement, confidence bounds, exploit and explore with a GP or random-feature surrogate the
batch is the one :func:`~mi_workbench.design.select_batch` would choose on the whole space.
Thompson sampling and the knowledge gradient go to :func:`~mi_workbench.design.select_batch` on
the whole (chunked) space. Pass a ``dask.distributed.Client`` to :meth:`Campaign.suggest` or
:meth:`Campaign.run` to score the chunks on a cluster and to evaluate virtual-experiment batches
there.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import inspect
import json
import math
import os
import secrets
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mi_workbench._checks import check_choice, check_positive_int
from mi_workbench.design._journal import Journal, JournalError

#: Objectives a campaign can pursue.
OBJECTIVES = ("minimize", "maximize")
_FORMAT = "mi-workbench-campaign"
_FORMAT_VERSION = 1
_N_SAMPLE_ROWS = 33  # rows sampled by the fingerprint of older campaign files
_HASH_ROWS = 1 << 20  # rows of a column hashed at once (8 MiB of float64)
#: Largest magnitude of a measured value: beyond it the surrogate's standardisation (squares and
#: sums of the values) overflows float64 and no candidate can be scored.
_MAX_ABS_VALUE = 1e100
_SUM_TOLERANCE = 1e-3  # at.% per element: float32 grids carry ~1e-5 rounding
_LOCATE_TOLERANCE = 1e-4  # at.%: matches float32 grid values to typed-in compositions
_MAX_CACHE_BYTES = 512 * 2**20
#: Acquisitions that need the surrogate itself (joint posterior draws), not only mean and sd.
_SAMPLING_ACQUISITIONS = ("thompson_sampling", "knowledge_gradient")
#: Candidates kept ranked after a full scoring, per shortlisted one (bounds for re-scoring).
_RESERVE_FACTOR = 32


__all__ = ["OBJECTIVES", "Campaign", "CampaignError", "JournalError"]


class CampaignError(ValueError):
    """A campaign file or configuration that does not match what it is opened with."""


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def _json_scalar(value: Any) -> Any:
    """A JSON-able Python scalar for a candidate name (int, str or float)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return str(value)


def _optional_floats(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def _floats(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _as_list(name: str, value: Any) -> list[Any]:
    if isinstance(value, xr.Dataset):
        if "candidate" not in value.coords:
            raise TypeError(f"{name}: a Dataset must have a 'candidate' coordinate")
        value = value["candidate"].values
    if isinstance(value, (xr.DataArray, pd.Series, pd.Index)):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        return list(value.ravel()) if value.ndim else [value.item()]
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, set, frozenset)):
        return [value]
    return list(value)


def _composition_variables(space: xr.Dataset) -> list[str]:
    from mi_workbench.design.spaces import composition_variables

    return [name for name in composition_variables(space) if space[name].dims == ("candidate",)]


def _acquisition_registry() -> Mapping[str, Callable]:
    from mi_workbench.design.acquisition import ACQUISITIONS

    return ACQUISITIONS


def _surrogate_module():
    from mi_workbench.design import surrogates

    return surrogates


def _init_params(obj: Any) -> dict[str, Any] | None:
    """Constructor arguments of ``obj`` read back from its same-named attributes, if JSON-able."""
    try:
        signature = inspect.signature(type(obj).__init__)
    except (TypeError, ValueError):
        return None
    params = {}
    for name, parameter in signature.parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if not hasattr(obj, name):
            return None
        value = getattr(obj, name)
        params[name] = value.item() if isinstance(value, np.generic) else value
    try:
        json.dumps(params, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return params


def _surrogate_spec(surrogate: Any) -> dict[str, Any]:
    """A JSON description of the surrogate: a registry name, or its class and parameters."""
    module = _surrogate_module()
    if isinstance(surrogate, str):
        module.make_surrogate(surrogate)  # raises for an unknown name
        return {"name": surrogate, "class": module.SURROGATES[surrogate].__name__}
    if not (hasattr(surrogate, "fit") and hasattr(surrogate, "predict")):
        raise TypeError(
            f"surrogate must be a name from {list(module.SURROGATES)} or an object with "
            f"fit(X, y) and predict(X) -> (mean, sd), got {type(surrogate).__name__}"
        )
    spec: dict[str, Any] = {"class": type(surrogate).__name__, "module": type(surrogate).__module__}
    params = _init_params(surrogate)
    if params is not None:
        params.pop("random_seed", None)  # each suggestion sets its own seed
        spec["params"] = params
    return spec


def _surrogate_from_spec(spec: Mapping[str, Any]) -> Any | None:
    """Rebuild a surrogate from its spec when that needs no user code; else None."""
    module = _surrogate_module()
    if "name" in spec:
        return module.make_surrogate(spec["name"])
    if spec.get("module") == module.__name__ and "params" in spec:
        cls = getattr(module, spec["class"], None)
        if cls in module.SURROGATES.values():
            return cls(**spec["params"])
    return None


def _same_surrogate(saved: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    if saved.get("class") != given.get("class"):
        return False
    if "params" in saved and "params" in given:
        return saved["params"] == given["params"]
    return True


def _checked_params(name: str, params: Any) -> dict[str, Any]:
    """``params`` checked against the settings of acquisition ``name`` (see acquisition.py) and
    for being storable in the campaign file (plain numbers and text)."""
    from mi_workbench.design.acquisition import _check_acquisition_params

    params = _check_acquisition_params(name, params)
    try:
        json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"acquisition_params must hold plain numbers and text only (they are saved with the "
            f"campaign): {error}"
        ) from None
    return params


def _acquisition_name(acquisition: Any) -> str:
    """The registry name of an acquisition given by name or short alias (``"ei"``, ``"kg"``)."""
    from mi_workbench.design.acquisition import acquisition_name

    if not isinstance(acquisition, str):
        raise TypeError(
            f"acquisition must be a name from {sorted(_acquisition_registry())} (campaigns are "
            f"saved, so the acquisition is stored by name), got {type(acquisition).__name__}"
        )
    return acquisition_name(acquisition)


def _candidate_digest(index: pd.Index) -> str:
    """A hash of the candidate names (the ``candidate`` coordinate)."""
    if isinstance(index, pd.RangeIndex):
        return f"range({index.start},{index.stop},{index.step})"
    hasher = hashlib.sha256()
    values = index.values
    if values.dtype.kind in "iuf":
        hasher.update(np.ascontiguousarray(values.astype("<f8")).tobytes())
    else:
        hasher.update("\x1f".join(map(str, values)).encode("utf-8"))
    return hasher.hexdigest()


def _column_digest(data: Any, n: int) -> str:
    """BLAKE2b of every value of one column, as little-endian float64, ``_HASH_ROWS`` at a time.

    ``-0.0`` is hashed as ``0.0`` and every NaN alike, so equal values give equal hashes; dask
    columns are read chunk by chunk, so memory stays flat for spaces of millions of rows.
    """
    hasher = hashlib.blake2b(digest_size=20)
    lazy = hasattr(data, "dask")
    for start in range(0, n, _HASH_ROWS):
        block = data[start : start + _HASH_ROWS]
        block = np.asarray(block.compute() if lazy else block, dtype="<f8") + 0.0
        block = np.where(np.isnan(block), np.nan, block)
        hasher.update(np.ascontiguousarray(block).tobytes())
    return hasher.hexdigest()


def _fingerprint(space: xr.Dataset, index: pd.Index, columns: Sequence[str]) -> dict[str, Any]:
    """Size, a hash of the candidate names and a hash of every row of each of ``columns``."""
    n = len(index)
    return {
        "size": n,
        "candidate_hash": _candidate_digest(index),
        "hash": "blake2b-160-f8",
        "columns": {c: _column_digest(space[c].data, n) for c in columns},
    }


def _sampled_fingerprint(space: xr.Dataset, columns: Sequence[str]) -> dict[str, Any]:
    """The values of 33 evenly spaced rows: the fingerprint of campaign files written before
    every row was hashed (still accepted when they are reopened)."""
    n = space.sizes["candidate"]
    rows = np.unique(np.linspace(0, n - 1, min(n, _N_SAMPLE_ROWS)).round().astype(np.int64))
    sample = space[list(columns)].isel(candidate=rows).compute()
    return {
        "sample_rows": rows.tolist(),
        "sample": {c: [float(v) for v in np.asarray(sample[c].values, float)] for c in columns},
    }


def _score_chunk(
    X: np.ndarray,
    offset: int,
    surrogate: Any,
    acquisition: Callable,
    best: float,
    minimize: bool,
    params: Mapping[str, Any],
    excluded: np.ndarray,
    keep: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Predict and score one chunk; return the positions, scores, means and sds of its best rows.

    Module-level (not a method) so that a dask cluster can run it. Also returns the best score
    of the rows left out, so that batch selection on the kept rows can be checked.
    """
    mean, sd = surrogate.predict(X)
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    scores = np.asarray(acquisition(mean, sd, best, minimize=minimize, **params), dtype=float)
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    positions = np.arange(offset, offset + len(X), dtype=np.int64)
    if len(excluded):
        inside = excluded[(excluded >= offset) & (excluded < offset + len(X))] - offset
        scores[inside] = -np.inf
    return _top(positions, scores, mean, sd, keep, -np.inf, sort=False)


def _top(positions, scores, mean, sd, keep: int, outside: float, *, sort: bool = True):
    """The ``keep`` best rows (best first, ties by position, if ``sort``) and the best score
    left out."""
    if len(scores) > keep:
        part = np.argpartition(-scores, keep)
        outside = max(outside, float(scores[part[keep]]))
        part = part[:keep]
        positions, scores, mean, sd = positions[part], scores[part], mean[part], sd[part]
    if not sort:
        return positions, scores, mean, sd, outside
    order = np.lexsort((positions, -scores))
    return positions[order], scores[order], mean[order], sd[order], outside


def _merge_top(parts, keep: int):
    positions, scores, mean, sd, outside = zip(*parts, strict=True)
    return _top(
        np.concatenate(positions),
        np.concatenate(scores),
        np.concatenate(mean),
        np.concatenate(sd),
        keep,
        max(outside),
    )


def _check_threads(n_threads: int | None) -> int:
    if n_threads is None:
        try:
            available = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - macOS, Windows
            available = os.cpu_count() or 1
        return max(1, min(4, available))
    return check_positive_int("n_threads", n_threads)


def _evaluate_oracle_row(oracle: Callable, row: xr.Dataset) -> float:
    """Run the oracle on a one-row batch (module-level so that a cluster can run it)."""
    values = np.asarray(oracle(row), dtype=float).ravel()
    if values.size != 1:
        raise ValueError(f"the oracle returned {values.size} values for 1 candidate")
    return float(values[0])


class _MemoryJournal:
    """The in-memory stand-in for :class:`Journal` of a campaign without a path."""

    path = None
    closed = False
    read_only = False

    def __init__(self, header: dict[str, Any]):
        self.header = header
        self.records: list[dict[str, Any]] = []

    @property
    def next_seq(self) -> int:
        return len(self.records) + 1

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        record = {"seq": self.next_seq, **record}
        self.records.append(record)
        return record

    def close(self) -> None:
        pass


class _ReadOnlyJournal:
    """A journal opened with ``read_only=True``: its records are read, nothing can be written."""

    read_only = True

    def __init__(self, journal: Journal):
        self._journal = journal

    def __getattr__(self, name: str) -> Any:
        return getattr(self._journal, name)

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        raise self.refusal()

    def refusal(self) -> CampaignError:
        """The error every recording call on a read-only campaign raises."""
        return CampaignError(
            f"the campaign {str(self._journal.path)!r} was opened read-only "
            f"(Campaign.open(..., read_only=True)), so nothing can be suggested, observed or "
            f"undone; close it and reopen it with Campaign.open(path, candidates) to record"
        )


# ---------------------------------------------------------------------------------------------
# Campaign
# ---------------------------------------------------------------------------------------------
class Campaign:
    """An adaptive-design campaign over a candidate space, optionally saved to a journal file.

    Parameters
    ----------
    candidates : xarray.Dataset
        The candidate space, over the dim ``candidate``. Candidates are named by its ``candidate``
        coordinate (integer positions 0..N-1 when it has none). Composition variables (units
        ``"at.%"``) must sum to 100 for every candidate that is measured.
    features : list of str
        Variables of ``candidates`` the surrogate learns from (for example the six descriptors of
        Xue et al. from :func:`~mi_workbench.design.featurize`, or the composition variables).
    objective : {"minimize", "maximize"}
        Whether small or large measured values are better.
    surrogate : str or surrogate object
        ``"gp"``, ``"svr_ensemble"``, ``"random_features"`` (see
        :func:`~mi_workbench.design.make_surrogate`) or an object with ``fit(X, y)`` and
        ``predict(X) -> (mean, sd)``. A fresh copy is fitted at each suggestion.
    acquisition : str
        A name or short name from :data:`~mi_workbench.design.ACQUISITIONS` (for example
        ``"expected_improvement"`` or ``"ei"``); it is saved with the campaign by name.
    path : str or os.PathLike, optional
        A new file to journal the campaign to (``.jsonl`` is a good suffix). Reopen it with
        :meth:`Campaign.open`, or with ``Campaign.open(path, candidates, read_only=True)`` to
        look at it without recording (also on a read-only file or disk). ``None`` keeps the
        campaign in memory only. While a campaign is open its file is locked against a second
        writer; :meth:`close` it (or use ``with``) to release the file, which also happens when
        the campaign object is garbage-collected.
    random_seed : int, optional
        Seed of every random choice (initial random batches, surrogate fitting, Thompson draws).
        When ``None`` a seed is drawn and stored, so a saved campaign still resumes exactly.
    acquisition_params : dict, optional
        Extra keyword arguments of the acquisition (for example ``{"kappa": 2.0}`` for a
        confidence bound, or ``{"low": 5, "high": 10}`` for a target interval). Checked here:
        a key the acquisition does not take, or a value it refuses, raises before anything is
        saved. Change them later with :meth:`set_acquisition_params`.
    batch_method : {"kriging_believer", "thompson"}
        How a batch of several candidates is chosen (see :func:`~mi_workbench.design.select_batch`).
    min_observations : int
        Below this many measurements suggestions are drawn at random from the unmeasured
        candidates (an initial design), with no prediction.
    shortlist_size : int
        How many of the best-scoring candidates the Kriging believer re-scores at each step
        (more are re-scored when needed to keep the batch exact, see the module notes).
    chunk_size : int
        Rows scored at once; memory grows with it, speed hardly does beyond ~10^4.
    n_threads : int, optional
        Chunks scored in parallel (default: the number of available cores, at most 4). The
        results do not depend on it.
    value_name, value_units : str
        Name and units of the measured quantity, for tables and figures.

    Attributes
    ----------
    history : xarray.Dataset
        Every measurement, over the dim ``observation`` (see :attr:`history`).
    best : xarray.Dataset or None
        The best measurement so far.
    last_suggestion : xarray.Dataset or None
        The most recent suggested batch, including after reopening.
    pending : list
        Candidates of the last suggestion not yet measured, failed or cancelled.

    Notes
    -----
    The loop: :meth:`suggest` a batch, then for each candidate :meth:`observe` its measured value
    or :meth:`observe_failure` a failed run (with the reason), or :meth:`cancel` it; :meth:`undo`
    takes the last recorded batch back.

    Notes
    -----
    A journal that was changed from outside (edited by hand, damaged on disk) is refused by
    :meth:`Campaign.open` with a message naming the damaged line;
    :func:`~mi_workbench.design.repair_journal` keeps the intact records before it in a repaired
    file and keeps the damaged one as a backup beside it.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = np.linspace(0, 1, 201)
    >>> space = xr.Dataset({"x": ("candidate", x)}, coords={"candidate": np.arange(201)})
    >>> campaign = Campaign(space, ["x"], objective="minimize", surrogate="gp", random_seed=1)
    >>> batch = campaign.suggest(3)
    >>> campaign.observe(batch.candidate, (batch.x.values - 0.3) ** 2)
    >>> campaign.history.sizes["observation"]
    3
    """

    def __init__(
        self,
        candidates: xr.Dataset,
        features: Sequence[str],
        objective: str = "minimize",
        surrogate: Any = "gp",
        acquisition: Any = "expected_improvement",
        *,
        path: str | os.PathLike | None = None,
        random_seed: int | None = None,
        acquisition_params: Mapping[str, Any] | None = None,
        batch_method: str | None = None,
        min_observations: int = 3,
        shortlist_size: int = 2048,
        chunk_size: int = 32768,
        n_threads: int | None = None,
        value_name: str = "value",
        value_units: str = "",
    ) -> None:
        self._setup_space(candidates, features)
        check_choice("objective", objective, OBJECTIVES)
        acquisition = _acquisition_name(acquisition)
        if batch_method is None:
            batch_method = "thompson" if acquisition == "thompson_sampling" else "kriging_believer"
        check_choice("batch_method", batch_method, ("kriging_believer", "thompson"))
        if batch_method == "thompson" and acquisition != "thompson_sampling":
            raise ValueError(
                f"batch_method='thompson' needs acquisition='thompson_sampling', got "
                f"{acquisition!r}; use batch_method='kriging_believer'"
            )
        min_observations = check_positive_int("min_observations", min_observations, minimum=1)
        shortlist_size = check_positive_int("shortlist_size", shortlist_size)
        self.chunk_size = check_positive_int("chunk_size", chunk_size, minimum=16)
        self.n_threads = _check_threads(n_threads)
        if random_seed is None:
            random_seed = secrets.randbits(63)
        random_seed = check_positive_int("random_seed", random_seed, minimum=0)
        acquisition_params = _checked_params(acquisition, acquisition_params)
        if not isinstance(value_name, str) or not value_name.isidentifier():
            raise ValueError(
                f"value_name must be a plain name such as 'hysteresis_k', got {value_name!r}"
            )
        config = {
            "features": list(self._features),
            "objective": objective,
            "surrogate": _surrogate_spec(surrogate),
            "acquisition": acquisition,
            "acquisition_params": acquisition_params,
            "batch_method": batch_method,
            "random_seed": random_seed,
            "min_observations": min_observations,
            "shortlist_size": shortlist_size,
            "value_name": value_name,
            "value_units": str(value_units),
        }
        try:
            json.dumps(config, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"acquisition_params must hold plain numbers and text only (they are saved with "
                f"the campaign): {error}"
            ) from None
        header = {
            "type": "campaign",
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "created": _now(),
            "config": config,
            "space": _fingerprint(self._space, self._index, self._fingerprint_columns()),
        }
        self._configure(config, surrogate)
        self._journal = Journal.create(path, header) if path is not None else _MemoryJournal(header)
        self._reset_state()

    # -- construction helpers ----------------------------------------------------------------
    def _setup_space(self, candidates: xr.Dataset, features: Sequence[str]) -> None:
        if not isinstance(candidates, xr.Dataset):
            raise TypeError(
                f"candidates must be an xarray.Dataset over the dim 'candidate' (see "
                f"composition_grid), got {type(candidates).__name__}"
            )
        if "candidate" not in candidates.dims:
            raise ValueError(
                f"candidates must have a dim named 'candidate'; it has {list(candidates.dims)}"
            )
        n = candidates.sizes["candidate"]
        if n < 1:
            raise ValueError("candidates is empty (0 candidates)")
        if isinstance(features, str) or not isinstance(features, Sequence):
            raise TypeError(f"features must be a list of variable names, got {features!r}")
        features = [str(f) for f in features]
        if not features:
            raise ValueError("features must name at least one variable of candidates, got []")
        available = [
            str(v) for v, var in candidates.data_vars.items() if var.dims == ("candidate",)
        ]
        unknown = [f for f in features if f not in available]
        if unknown:
            raise ValueError(
                f"unknown feature name(s) {unknown}; candidates has the variables {available}"
            )
        if len(set(features)) != len(features):
            raise ValueError(f"features lists a name twice: {features}")
        if "candidate" in candidates.indexes:
            index = candidates.indexes["candidate"]
            if not index.is_unique:
                raise ValueError("the 'candidate' coordinate of candidates has repeated names")
        else:
            index = pd.RangeIndex(n)
        self._space = candidates
        self._index = index
        self._n = n
        self._features = features
        self._elements = _composition_variables(candidates)
        self._X_cache: np.ndarray | None = None
        self._scale: tuple[np.ndarray, np.ndarray] | None = None
        self._cluster_chunks: dict[int, tuple[Any, list]] = {}

    def _fingerprint_columns(self) -> list[str]:
        return list(dict.fromkeys(self._elements + self._features))

    def _configure(self, config: dict[str, Any], surrogate: Any) -> None:
        self._config = copy.deepcopy(config)  # replayed records may change acquisition_params
        self._surrogate_prototype = (
            surrogate
            if not isinstance(surrogate, str)
            else _surrogate_from_spec(config["surrogate"])
        )
        self.minimize = config["objective"] == "minimize"

    def _reset_state(self) -> None:
        """Rebuild the observations, predictions and pending batch by replaying the journal."""
        #: active observe and failure records (not undone), oldest first
        self._batches: list[dict[str, Any]] = []
        self._predictions: dict[Any, tuple[float, float, float, int]] = {}
        self._last_suggestion: dict[str, Any] | None = None
        self._cancelled: set[Any] = set()  # cancelled candidates of the last suggestion
        #: The surrogate fitted at the latest model-based suggestion (None before one).
        self.surrogate: Any = None
        self._best_at_fit: float | None = None
        self._fitted_on: tuple[int, ...] | None = None
        #: How often the latest suggestion scored the whole space (1, plus one for each
        #: Kriging-believer step that the shortlist could not settle).
        self.full_scorings = 0
        self._n_space_records = 0
        for record in self._journal.records:
            self._apply(record)
        upgrade = "columns" not in self._journal.header["space"] and not self._n_space_records
        if upgrade and not self._journal.read_only:
            # a file of an older version, checked on 33 sampled rows: save the hash of every
            # row now, so that from the next opening on every row is checked (a read-only
            # opening checks the sample and writes nothing)
            fingerprint = _fingerprint(self._space, self._index, self._fingerprint_columns())
            record = self._journal.append({"type": "space", "time": _now(), "space": fingerprint})
            self._apply(record)
        self._params_problem = self._check_saved_params()
        if self._params_problem:
            warnings.warn(self._params_problem, RuntimeWarning, stacklevel=3)

    def _check_saved_params(self) -> str | None:
        """A message if the saved acquisition_params are not valid (files written before they
        were checked at creation can hold a typo such as ``{"kapa": 2}``), else None."""
        name = self._config["acquisition"]
        params = self._config["acquisition_params"]
        try:
            _checked_params(name, params)
        except (TypeError, ValueError) as error:
            return (
                f"this campaign cannot suggest: its saved acquisition_params {params} are not "
                f"valid ({error}). The measurements are intact; correct the settings with "
                f"campaign.set_acquisition_params({{...}}), which is saved with the campaign"
            )
        return None

    def _apply(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if kind == "suggest":
            for i, name in enumerate(record["ids"]):
                self._predictions[name] = (
                    _floats([record["mean"][i]])[0],
                    _floats([record["sd"][i]])[0],
                    _floats([record["acquisition"][i]])[0],
                    record["seq"],
                )
            self._last_suggestion = record
            self._cancelled = set()
        elif kind in ("observe", "failure"):
            positions = self._positions(record["ids"], "ids")
            self._batches.append({**record, "positions": positions})
        elif kind == "undo":
            if not self._batches or self._batches[-1]["seq"] != record["undoes"]:
                raise CampaignError(
                    f"the campaign file is inconsistent: record {record['seq']} undoes record "
                    f"{record['undoes']}, which is not the last recorded batch"
                )
            self._batches.pop()
        elif kind == "cancel":
            for name in record["ids"]:
                self._cancelled.add(name)
                self._predictions.pop(name, None)
        elif kind == "acquisition_params":
            self._config["acquisition_params"] = dict(record["params"])
        elif kind == "space":
            self._check_space(record["space"], self.path)
            self._n_space_records += 1
        else:
            raise CampaignError(f"unknown record type {kind!r} in the campaign file")

    # -- reopening -----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike,
        candidates: xr.Dataset,
        *,
        surrogate: Any = None,
        acquisition: Any = None,
        chunk_size: int = 32768,
        n_threads: int | None = None,
        read_only: bool = False,
    ) -> Campaign:
        """Reopen a saved campaign exactly where it stopped.

        Parameters
        ----------
        path : str or os.PathLike
            The campaign file given as ``path`` when it was created.
        candidates : xarray.Dataset
            The same candidate space (regenerate it with the same call); its size, candidate
            names and every row of its composition and feature values (a hash) are checked
            against the file (files of older versions recorded 33 sampled rows: those are
            checked, and the first opening for writing saves the hash of every row).
        surrogate : optional
            Needed only if the campaign was created with a surrogate object whose settings could
            not be stored; its class and settings must match.
        acquisition : str, optional
            Checked against the saved acquisition if given.
        chunk_size, n_threads : int
            As for :class:`Campaign` (they do not change the results).
        read_only : bool
            Only read the campaign: the file is not locked and nothing is written to it, so this
            works on a read-only file or file system and while the campaign is open elsewhere.
            :attr:`history`, :attr:`best`, :meth:`predict` and the other queries work;
            :meth:`suggest`, :meth:`observe`, :meth:`observe_failure`, :meth:`cancel`,
            :meth:`set_acquisition_params` and :meth:`undo` raise :class:`CampaignError` before
            doing any work.

        Returns
        -------
        Campaign
            With the same observations, configuration and pending suggestion; its next
            :meth:`suggest` returns what the original campaign would have suggested.

        Raises
        ------
        JournalError
            If the file is open for writing elsewhere (the message says who holds it), or was
            changed from outside; the message names the damaged line, and
            :func:`~mi_workbench.design.repair_journal` keeps the intact records before it.

        Examples
        --------
        >>> campaign = Campaign.open("hysteresis.jsonl", space)  # doctest: +SKIP
        >>> campaign.history  # doctest: +SKIP
        >>> viewer = Campaign.open("hysteresis.jsonl", space, read_only=True)  # doctest: +SKIP
        """
        journal = Journal.open(path, read_only=read_only)
        try:
            header = journal.header
            if header.get("format") != _FORMAT:
                raise CampaignError(f"{str(path)!r} is not an mi-workbench campaign file")
            if header.get("version") != _FORMAT_VERSION:
                raise CampaignError(
                    f"{str(path)!r} has campaign format version {header.get('version')!r}; this "
                    f"mi-workbench reads version {_FORMAT_VERSION}"
                )
            config = header["config"]
            self = cls.__new__(cls)
            self._setup_space(candidates, config["features"])
            self.chunk_size = check_positive_int("chunk_size", chunk_size, minimum=16)
            self.n_threads = _check_threads(n_threads)
            self._check_space(header["space"], path)
            spec = config["surrogate"]
            if surrogate is None:
                surrogate = spec["name"] if "name" in spec else _surrogate_from_spec(spec)
                if surrogate is None:
                    raise CampaignError(
                        f"the campaign was created with a custom surrogate of class "
                        f"{spec.get('class')!r}; pass it again: Campaign.open(path, candidates, "
                        f"surrogate=...)"
                    )
            elif not _same_surrogate(spec, _surrogate_spec(surrogate)):
                raise CampaignError(
                    f"surrogate {_surrogate_spec(surrogate)} does not match the saved campaign's "
                    f"{spec}; pass the same kind with the same settings"
                )
            if acquisition is not None and _acquisition_name(acquisition) != config["acquisition"]:
                raise CampaignError(
                    f"acquisition {acquisition!r} does not match the saved campaign's "
                    f"{config['acquisition']!r}"
                )
            self._configure(config, surrogate)
            self._journal = _ReadOnlyJournal(journal) if read_only else journal
            self._reset_state()
        except BaseException:
            journal.close()
            raise
        return self

    def _check_space(self, saved: Mapping[str, Any], path: Any) -> None:
        """Raise unless the space has the size, names and values that ``saved`` records.

        Campaign files record a hash of every row of the composition and feature variables
        (``"columns"``); files written before that recorded 33 sampled rows (``"sample"``),
        which are still accepted and checked as they were.
        """
        full = "columns" in saved
        columns = list(saved["columns"] if full else saved["sample"])
        missing = [c for c in columns if c not in self._space.data_vars]
        problems = []
        if self._n != saved["size"]:
            problems.append(f"it has {self._n} candidates, the saved campaign {saved['size']}")
        elif missing:
            problems.append(f"it lacks the variable(s) {missing}")
        elif _candidate_digest(self._index) != saved["candidate_hash"]:
            problems.append("its candidate names differ")
        elif full:
            for c in columns:
                if _column_digest(self._space[c].data, self._n) != saved["columns"][c]:
                    problems.append(
                        f"its values of {c!r} differ (at least one row is changed or the rows "
                        f"are in another order)"
                    )
                    break
        else:
            current = _sampled_fingerprint(self._space, columns)
            for c in columns:
                if not np.allclose(current["sample"][c], saved["sample"][c], rtol=1e-9, atol=1e-12):
                    problems.append(f"its values of {c!r} differ")
                    break
        if problems:
            raise CampaignError(
                f"candidates is not the candidate space of {str(path)!r}: {problems[0]}; "
                f"regenerate the space with the same call as when the campaign was created"
            )

    # -- properties ------------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """The journal file, or None for an in-memory campaign."""
        return self._journal.path

    @property
    def config(self) -> dict[str, Any]:
        """The saved configuration (a copy): features, objective, surrogate, acquisition, seed."""
        return copy.deepcopy(self._config)

    @property
    def candidates(self) -> xr.Dataset:
        """The candidate space."""
        return self._space

    @property
    def features(self) -> list[str]:
        """Names of the descriptor variables the surrogate learns from."""
        return list(self._features)

    @property
    def elements(self) -> list[str]:
        """Composition variables (units ``at.%``) of the candidate space, possibly none."""
        return list(self._elements)

    @property
    def n_observations(self) -> int:
        """Number of recorded measurements (replicates counted separately, failures not)."""
        return int(sum(len(b["ids"]) for b in self._batches if b["type"] == "observe"))

    @property
    def n_failures(self) -> int:
        """Number of failed or infeasible runs recorded with :meth:`observe_failure`."""
        return int(sum(len(b["ids"]) for b in self._batches if b["type"] == "failure"))

    @property
    def n_batches(self) -> int:
        """Number of recorded batches (observe and observe_failure calls not undone)."""
        return len(self._batches)

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._journal.closed

    @property
    def read_only(self) -> bool:
        """True for a campaign opened with ``Campaign.open(..., read_only=True)``."""
        return self._journal.read_only

    def close(self) -> None:
        """Release the campaign file (everything is already saved). Safe to call twice."""
        self._journal.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f"saved to {str(self.path)!r}" if self.path else "in memory"
        return (
            f"<Campaign {self._config['objective']} {self._config['value_name']} over "
            f"{self._n:,} candidates; {self.n_observations} measurements in {self.n_batches} "
            f"batches; {self._config['acquisition']} on {self._surrogate_label()}; {where}>"
        )

    def _surrogate_label(self) -> str:
        spec = self._config["surrogate"]
        return spec.get("name") or spec.get("class", "surrogate")

    # -- candidates and features -----------------------------------------------------------------
    def _positions(self, ids: Sequence[Any], name: str) -> np.ndarray:
        """Positions of candidate names in the space; raise naming the unknown ones."""
        keys = [_json_scalar(i) for i in ids]
        if isinstance(self._index, pd.RangeIndex):
            positions = np.full(len(keys), -1, dtype=np.int64)
            for k, key in enumerate(keys):
                if isinstance(key, int) and 0 <= key < self._n:
                    positions[k] = key
        else:
            try:
                positions = self._index.get_indexer(pd.Index(keys, dtype=object))
            except (TypeError, ValueError):
                positions = np.array(
                    [self._index.get_loc(k) if k in self._index else -1 for k in keys]
                )
        bad = [keys[k] for k in np.flatnonzero(positions < 0)]
        if bad:
            shown = bad[:5]
            raise ValueError(
                f"{name}: unknown candidate(s) {shown}{' ...' if len(bad) > 5 else ''}; names "
                f"come from the 'candidate' coordinate of the space (e.g. "
                f"{[_json_scalar(v) for v in self._index[:3]]})"
            )
        return positions.astype(np.int64)

    def _names(self, positions: np.ndarray) -> list[Any]:
        return [_json_scalar(v) for v in self._index[np.asarray(positions)]]

    def _feature_matrix_lazy(self):
        """The features as one (N, d) array: numpy, or dask when the space is dask-backed."""
        arrays = [self._space[f].data for f in self._features]
        if any(hasattr(a, "dask") for a in arrays):
            import dask.array as da

            return da.stack([da.asarray(a) for a in arrays], axis=1)
        return np.column_stack([np.asarray(a, dtype=float) for a in arrays])

    def _ensure_scale(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and sd of each feature over the whole space (features are standardised)."""
        if self._scale is None:
            X = self._feature_matrix_lazy()
            n_bytes = self._n * len(self._features) * 8
            if not hasattr(X, "dask"):
                X = np.asarray(X, dtype=float)
                self._X_cache = X
            elif n_bytes <= _MAX_CACHE_BYTES:
                self._X_cache = np.asarray(X.compute(), dtype=float)
                X = self._X_cache
            if hasattr(X, "dask"):
                import dask

                mean, sd = dask.compute(X.mean(axis=0), X.std(axis=0))
            else:
                mean, sd = X.mean(axis=0), X.std(axis=0)
            bad = ~np.isfinite(mean) | ~np.isfinite(sd)
            if bad.any():
                names = [self._features[i] for i in np.flatnonzero(bad)]
                raise ValueError(f"features {names} contain NaN or infinite values")
            sd = np.where(sd > 0, sd, 1.0)
            self._scale = (np.asarray(mean, float), np.asarray(sd, float))
        return self._scale

    def _rows(self, positions: np.ndarray) -> np.ndarray:
        """Standardised feature rows of the given positions."""
        mean, sd = self._ensure_scale()
        positions = np.asarray(positions, dtype=np.int64)
        if self._X_cache is not None:
            X = self._X_cache[positions]
        else:
            unique, inverse = np.unique(positions, return_inverse=True)
            X = np.asarray(self._feature_matrix_lazy()[unique].compute(), dtype=float)[inverse]
        return (X - mean) / sd

    def _block(self, start: int) -> np.ndarray:
        """The standardised feature rows ``start .. start + chunk_size``."""
        mean, sd = self._ensure_scale()
        stop = min(start + self.chunk_size, self._n)
        if self._X_cache is not None:
            block = self._X_cache[start:stop]
        else:
            block = np.asarray(self._feature_matrix_lazy()[start:stop].compute(), dtype=float)
        return (block - mean) / sd

    # -- locating compositions ---------------------------------------------------------------
    def locate(self, compositions: Any) -> list[Any]:
        """Names of the candidates with the given compositions (at.%).

        Parameters
        ----------
        compositions : dict, pandas.DataFrame or xarray.Dataset
            Element -> at.% (a number or one value per alloy). Elements the space has but the
            mapping omits count as 0; every composition must sum to 100.

        Returns
        -------
        list
            Candidate names, one per composition.

        Examples
        --------
        >>> xue_best = {"Ti": 50, "Ni": 46.7, "Cu": 0.8, "Fe": 2.3, "Pd": 0.2}
        >>> campaign.locate(xue_best)  # doctest: +SKIP
        [123456]
        """
        if not self._elements:
            raise ValueError(
                "this candidate space has no composition variables (units 'at.%'), so candidates "
                "must be named by their 'candidate' coordinate"
            )
        if isinstance(compositions, xr.Dataset):
            table = {str(k): np.atleast_1d(v.values) for k, v in compositions.data_vars.items()}
        elif isinstance(compositions, pd.DataFrame):
            table = {str(k): compositions[k].to_numpy() for k in compositions.columns}
        elif isinstance(compositions, Mapping):
            table = {str(k): np.atleast_1d(np.asarray(v)) for k, v in compositions.items()}
        else:
            raise TypeError(
                f"compositions must be a dict of element -> at.%, a DataFrame or a Dataset, got "
                f"{type(compositions).__name__}"
            )
        unknown = [k for k in table if k not in self._elements]
        if unknown:
            raise ValueError(
                f"compositions names unknown element(s) {unknown}; this space has {self._elements}"
            )
        lengths = {len(v) for v in table.values()}
        if len(lengths) != 1:
            raise ValueError(
                f"compositions: every element needs the same number of values, got "
                f"{ {k: len(v) for k, v in table.items()} }"
            )
        n = lengths.pop()
        values = np.zeros((n, len(self._elements)))
        for j, element in enumerate(self._elements):
            if element in table:
                try:
                    column = np.asarray(table[element], dtype=float)
                except (TypeError, ValueError):
                    raise TypeError(
                        f"compositions[{element!r}] must be numbers, got {table[element]!r}"
                    ) from None
                if not np.all(np.isfinite(column)):
                    raise ValueError(f"compositions[{element!r}] contains NaN or infinity")
                if np.any(column < 0):
                    raise ValueError(f"compositions[{element!r}] contains a negative at.%")
                values[:, j] = column
        totals = values.sum(axis=1)
        off = np.flatnonzero(np.abs(totals - 100.0) > _SUM_TOLERANCE * len(self._elements))
        if len(off):
            raise ValueError(
                f"composition {int(off[0])} sums to {totals[off[0]]:.6g} at.%, not 100; give "
                f"every element of {self._elements}"
            )
        found = np.full(n, -1, dtype=np.int64)
        nearest = np.full(n, np.inf)
        columns = [self._space[e].data for e in self._elements]
        lazy = any(hasattr(c, "dask") for c in columns)
        for start in range(0, self._n, self.chunk_size):
            stop = min(start + self.chunk_size, self._n)
            block = np.column_stack(
                [np.asarray(c[start:stop].compute() if lazy else c[start:stop]) for c in columns]
            )
            for k in np.flatnonzero(found < 0):
                distance = np.abs(block - values[k]).max(axis=1)
                j = int(np.argmin(distance))
                nearest[k] = min(nearest[k], distance[j])
                if distance[j] <= _LOCATE_TOLERANCE:
                    found[k] = start + j
            if (found >= 0).all():
                break
        missing = np.flatnonzero(found < 0)
        if len(missing):
            k = int(missing[0])
            text = ", ".join(f"{e} {values[k, j]:g}" for j, e in enumerate(self._elements))
            raise ValueError(
                f"composition {k} ({text}) is not in the candidate space (the closest candidate "
                f"differs by {nearest[k]:.3g} at.% in one element)"
            )
        return self._names(found)

    # -- suggesting ------------------------------------------------------------------------------
    def _acquisition_params(self) -> dict[str, Any]:
        """The acquisition's settings; raises if the saved ones are not valid."""
        if self._params_problem:
            raise CampaignError(self._params_problem)
        return dict(self._config["acquisition_params"])

    def set_acquisition_params(self, acquisition_params: Mapping[str, Any] | None) -> None:
        """Change the acquisition's settings from the next suggestion on (saved with the campaign).

        Also the way to repair a campaign file whose saved settings hold a typo (files written
        before settings were checked at creation): :meth:`open` warns about them and
        :meth:`suggest` refuses until they are corrected.

        Parameters
        ----------
        acquisition_params : dict or None
            Settings of the campaign's acquisition (for example ``{"kappa": 2.0}`` for a
            confidence bound); ``None`` or ``{}`` for its defaults. Unknown keys are refused,
            naming the valid ones.

        Examples
        --------
        >>> campaign.set_acquisition_params({"kappa": 1.0})  # doctest: +SKIP
        """
        self._check_writable()
        params = _checked_params(self._config["acquisition"], acquisition_params)
        record = self._journal.append(
            {"type": "acquisition_params", "time": _now(), "params": params}
        )
        self._apply(record)
        self._params_problem = None

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng([self._config["random_seed"], self._seed_position()])

    def _seed_position(self) -> int:
        """The journal position that seeds the next suggestion, not counting the records that
        upgraded an older file's space check (so an upgraded file suggests as before)."""
        return self._journal.next_seq - self._n_space_records

    def _observed(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions and values of every measurement (the surrogate's data; no failures)."""
        batches = [b for b in self._batches if b["type"] == "observe"]
        if not batches:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        positions = np.concatenate([b["positions"] for b in batches])
        values = np.concatenate([np.asarray(b["values"], dtype=float) for b in batches])
        return positions, values

    def _failed(self) -> np.ndarray:
        """Positions of the candidates recorded as failed (never suggested again)."""
        parts = [b["positions"] for b in self._batches if b["type"] == "failure"]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _new_surrogate(self, rng: np.random.Generator) -> Any:
        prototype = self._surrogate_prototype
        surrogate = copy.deepcopy(prototype)
        seed = int(rng.integers(2**31 - 1))
        for attribute in ("random_seed", "seed"):
            if hasattr(surrogate, attribute):
                setattr(surrogate, attribute, seed)
                break
        return surrogate

    def suggest(self, n: int = 1, *, client: Any = None, allow_repeats: bool = False) -> xr.Dataset:
        """Suggest the next ``n`` candidates to measure.

        The surrogate is fitted to every measurement (replicates included), every candidate is
        scored in chunks, and a batch is chosen from the best-scoring ones with the campaign's
        ``batch_method``. With fewer than ``min_observations`` measurements the batch is drawn at
        random. The suggestion is journalled (with its predictions) when the campaign has a path.

        Parameters
        ----------
        n : int
            Batch size.
        client : dask.distributed.Client, optional
            Score the candidate chunks on this cluster.
        allow_repeats : bool
            Whether already measured candidates may be suggested again (default: no).
            Candidates recorded as failed (:meth:`observe_failure`) are never suggested again.

        Returns
        -------
        xarray.Dataset
            The chosen rows of the space, indexed by ``candidate``, with ``predicted_mean``,
            ``predicted_sd`` and ``acquisition`` (NaN for a random initial batch), best first.

        Examples
        --------
        >>> batch = campaign.suggest(4)  # doctest: +SKIP
        >>> batch[["predicted_mean", "predicted_sd"]].to_dataframe()  # doctest: +SKIP
        """
        self._check_writable()
        n = check_positive_int("n", n)
        self._acquisition_params()  # raises for invalid saved settings
        observed, y = self._observed()
        failed = self._failed()
        excluded = failed if allow_repeats else np.union1d(observed, failed)
        available = self._n - len(excluded)
        if n > available:
            what = "not failed" if allow_repeats else "neither measured nor failed"
            raise ValueError(f"n must be <= {available} (the candidates {what}), got {n}")
        rng = self._rng()
        if len(y) < self._config["min_observations"]:
            positions = self._random_batch(n, excluded, rng)
            mean = sd = score = np.full(n, np.nan)
            method = "random"
        else:
            positions, mean, sd, score = self._model_batch(n, observed, y, excluded, rng, client)
            method = self._config["batch_method"]
        record = self._journal.append(
            {
                "type": "suggest",
                "time": _now(),
                "method": method,
                "ids": self._names(positions),
                "mean": _optional_floats(mean),
                "sd": _optional_floats(sd),
                "acquisition": _optional_floats(score),
            }
        )
        self._apply(record)
        return self._suggestion_dataset(record)

    def _random_batch(self, n: int, excluded: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        chosen: list[int] = []
        taken = set(excluded.tolist())
        while len(chosen) < n:
            draw = rng.integers(0, self._n, size=2 * (n - len(chosen)) + 8)
            for position in draw.tolist():
                if position not in taken:
                    taken.add(position)
                    chosen.append(position)
                    if len(chosen) == n:
                        break
        return np.array(chosen, dtype=np.int64)

    def _model_batch(self, n, observed, y, excluded, rng, client):
        from threadpoolctl import threadpool_limits

        from mi_workbench.design.acquisition import select_batch

        # small linear algebra is fastest single-threaded; the chunks run in parallel instead
        with threadpool_limits(limits=1, user_api="blas"):
            return self._model_batch_inner(n, observed, y, excluded, rng, client, select_batch)

    def _model_batch_inner(self, n, observed, y, excluded, rng, client, select_batch):
        X_observed = self._rows(observed)
        surrogate = self._new_surrogate(rng)
        surrogate.fit(X_observed, y)
        best = float(y.min() if self.minimize else y.max())
        self.surrogate, self._best_at_fit = surrogate, best
        self._fitted_on = self._data_key()
        name = self._config["acquisition"]
        params = self._acquisition_params()
        options = {
            "minimize": self.minimize,
            "method": self._config["batch_method"],
            "rng": rng,
            "chunk_size": self.chunk_size,
            "acquisition_params": params,
            "refit": False,
        }
        if name in _SAMPLING_ACQUISITIONS:
            # joint posterior draws over the whole space, chunk by chunk
            chosen, score = select_batch(
                surrogate,
                self._standardised_space(),
                X_observed,
                y,
                name,
                n,
                exclude=excluded,
                **options,
            )
            chosen = np.asarray(chosen, dtype=np.int64)
            mean, sd = surrogate.predict(self._rows(chosen))
            return chosen, mean, sd, np.asarray(score, dtype=float)

        # 1. score every candidate in chunks (threads or a cluster); keep the best few
        keep = max(self._config["shortlist_size"], n)
        reserve = _RESERVE_FACTOR * keep
        function = _acquisition_registry()[name]
        ranked = self._score_space(surrogate, function, best, params, excluded, reserve, client)
        self.full_scorings = 1
        if np.isfinite(ranked[1]).sum() < n:
            raise ValueError(
                f"only {int(np.isfinite(ranked[1]).sum())} candidates have a finite {name}; "
                f"cannot suggest {n}"
            )
        chosen = self._believer_batch(
            n, surrogate, function, best, params, excluded, keep, reserve, ranked, client
        )
        # mean, sd and score given the real measurements only, as the table shows them
        chosen_positions = np.asarray(chosen, dtype=np.int64)
        mean_out, sd_out = surrogate.predict(self._rows(chosen_positions))
        score_out = function(mean_out, sd_out, best, minimize=self.minimize, **params)
        return chosen_positions, mean_out, sd_out, np.asarray(score_out, dtype=float)

    def _believer_batch(
        self, n, surrogate, function, best, params, excluded, keep, reserve, ranked, client
    ) -> list[int]:
        """The Kriging believer of Xue et al.: pick the best score, add the pick with its
        predicted mean as a fake measurement (hyperparameters kept), re-score, pick again.

        Re-scoring works on a shortlist of the ``keep`` best candidates of the last full scoring.
        For expected improvement, confidence bounds, exploit and explore with a surrogate whose
        update keeps the mean (GP, random features), a fake measurement can only lower scores,
        so a candidate's earlier score bounds its current one: the shortlist's best is the best
        overall once it beats the earlier scores of everything outside; otherwise the
        candidates whose earlier score is higher are re-scored too (from the ``reserve`` kept
        ranked, or the whole space). Other scores or surrogates use the shortlist alone.
        Candidates in ``excluded`` (measured or failed) and those already chosen are never
        picked: the shortlist can hold them when the space is no larger than it.
        """
        from mi_workbench.design.acquisition import _MONOTONE_IN_SD

        provable = bool(getattr(surrogate, "mean_preserving_update", False)) and (
            self._config["acquisition"] in _MONOTONE_IN_SD
        )
        positions, scores, _, _, outside = ranked
        # shortlist: re-scored at every step; reserve: earlier scores, upper bounds of current
        # ones; ``outside``: the bound of every candidate in neither
        short_pos, reserve_pos, bounds = positions[:keep], positions[keep:], scores[keep:]
        X_short = self._rows(short_pos)
        chosen = [int(short_pos[0])]

        def rescore(model, model_best, X, pos):
            m, v = model.predict(X)
            sc = np.asarray(function(m, v, model_best, minimize=self.minimize, **params), float)
            blocked = np.isin(pos, excluded) | np.isin(pos, chosen)
            sc[blocked | ~np.isfinite(sc)] = -np.inf
            return sc

        current, current_best = surrogate, best
        for _ in range(1, n):
            x_new = self._rows(np.array([chosen[-1]]))
            fake, _ = current.predict(x_new)
            current = current.condition_on(x_new, fake)
            if self.minimize:
                current_best = min(current_best, float(fake[0]))
            else:
                current_best = max(current_best, float(fake[0]))
            sc = rescore(current, current_best, X_short, short_pos)
            j = int(np.argmax(sc))
            if provable:
                # reserve candidates whose bound exceeds the shortlist's best join the shortlist
                k = int(np.searchsorted(-bounds, -sc[j], side="left"))
                if k:
                    X_extra = self._rows(reserve_pos[:k])
                    sc = np.concatenate(
                        [sc, rescore(current, current_best, X_extra, reserve_pos[:k])]
                    )
                    short_pos = np.concatenate([short_pos, reserve_pos[:k]])
                    X_short = np.vstack([X_short, X_extra])
                    reserve_pos, bounds = reserve_pos[k:], bounds[k:]
                    j = int(np.argmax(sc))
                if outside > sc[j]:
                    # candidates never ranked could still beat it: score the whole space again
                    taken = np.union1d(excluded, np.asarray(chosen, dtype=np.int64))
                    positions, scores, _, _, outside = self._score_space(
                        current, function, current_best, params, taken, reserve, client
                    )
                    self.full_scorings += 1
                    short_pos, reserve_pos = positions[:keep], positions[keep:]
                    bounds = scores[keep:]
                    X_short = self._rows(short_pos)
                    sc, j = scores[:keep], 0
            if not np.isfinite(sc[j]):
                raise ValueError(
                    f"only {len(chosen)} candidates have a finite {self._config['acquisition']} "
                    f"once the batch's earlier picks are believed; cannot suggest {n}"
                )
            chosen.append(int(short_pos[j]))
        return chosen

    def _score_space(self, surrogate, function, best, params, excluded, keep, client):
        """Score every candidate; return the ``keep`` best (sorted) and the best score left out."""
        args = (surrogate, function, best, self.minimize, params, excluded, keep)
        starts = range(0, self._n, self.chunk_size)
        self._ensure_scale()
        if client is None:

            def score_block(start: int):
                return _score_chunk(self._block(start), start, *args)

            if self.n_threads > 1 and len(starts) > 1:
                with ThreadPoolExecutor(self.n_threads) as pool:
                    parts = list(pool.map(score_block, starts))
            else:
                parts = [score_block(start) for start in starts]
        else:
            parts = self._score_on_cluster(client, args)
        return _merge_top(parts, keep)

    def _standardised_space(self):
        """All standardised feature rows: a NumPy array, or a lazy dask array for huge spaces."""
        mean, sd = self._ensure_scale()
        if self._X_cache is not None:
            return (self._X_cache - mean) / sd
        return (self._feature_matrix_lazy() - mean) / sd

    def _score_on_cluster(self, client: Any, args: tuple) -> list:
        """Score every chunk on a dask cluster; the feature chunks stay on the workers."""
        key = id(client)
        cached = self._cluster_chunks.get(key)
        if cached is None or cached[0] is not client:
            mean, sd = self._ensure_scale()
            if self._X_cache is not None:
                blocks = [
                    (start, (self._X_cache[start : start + self.chunk_size] - mean) / sd)
                    for start in range(0, self._n, self.chunk_size)
                ]
                futures = client.scatter([b for _, b in blocks])
                offsets = [s for s, _ in blocks]
            else:
                import dask.array as da

                X = self._feature_matrix_lazy().rechunk((self.chunk_size, -1))
                X = (X - mean) / sd
                delayed = list(X.to_delayed().ravel())
                futures = client.compute(delayed)
                offsets = list(np.cumsum((0,) + X.chunks[0][:-1]))
                del da
            cached = (client, list(zip(offsets, futures, strict=True)))
            self._cluster_chunks[key] = cached
        surrogate, *rest = args
        surrogate_future = client.scatter(surrogate, broadcast=True, hash=False)
        tasks = [
            client.submit(_score_chunk, block, int(offset), surrogate_future, *rest, pure=False)
            for offset, block in cached[1]
        ]
        return client.gather(tasks)

    def _suggestion_dataset(self, record: Mapping[str, Any]) -> xr.Dataset:
        positions = self._positions(record["ids"], "ids")
        rows = self._space.isel(candidate=positions)
        if "candidate" not in rows.coords:
            rows = rows.assign_coords(candidate=("candidate", np.asarray(record["ids"])))
        units = self._config["value_units"]
        rows = rows.compute()
        rows["predicted_mean"] = ("candidate", _floats(record["mean"]), {"units": units})
        rows["predicted_sd"] = ("candidate", _floats(record["sd"]), {"units": units})
        rows["acquisition"] = ("candidate", _floats(record["acquisition"]))
        rows.attrs = {
            "suggested_at": record["time"],
            "method": record["method"],
            "acquisition": self._config["acquisition"],
            "objective": self._config["objective"],
            "record": record["seq"],
        }
        return rows

    @property
    def last_suggestion(self) -> xr.Dataset | None:
        """The most recent suggested batch (also after :meth:`open`), or None."""
        if self._last_suggestion is None:
            return None
        return self._suggestion_dataset(self._last_suggestion)

    @property
    def pending(self) -> list[Any]:
        """Candidates of the last suggestion not measured, failed or cancelled since."""
        if self._last_suggestion is None:
            return []
        since = self._last_suggestion["seq"]
        done = {i for b in self._batches if b["seq"] > since for i in b["ids"]} | self._cancelled
        return [i for i in self._last_suggestion["ids"] if i not in done]

    # -- looking at the model --------------------------------------------------------------------
    def _data_key(self) -> tuple[int, ...]:
        return tuple(b["seq"] for b in self._batches if b["type"] == "observe")

    def _current_surrogate(self) -> tuple[Any, float]:
        """The surrogate fitted to the current measurements (refitted if they changed)."""
        observed, y = self._observed()
        if len(y) < max(2, self._config["min_observations"]):
            raise ValueError(
                f"the model needs at least {max(2, self._config['min_observations'])} "
                f"measurements; this campaign has {len(y)}"
            )
        if self.surrogate is None or self._fitted_on != self._data_key():
            from threadpoolctl import threadpool_limits

            # a seed of its own: looking at the model never changes the next suggestion
            rng = np.random.default_rng([self._config["random_seed"], self._seed_position(), 1])
            with threadpool_limits(limits=1, user_api="blas"):
                surrogate = self._new_surrogate(rng)
                surrogate.fit(self._rows(observed), y)
            self.surrogate = surrogate
            self._best_at_fit = float(y.min() if self.minimize else y.max())
            self._fitted_on = self._data_key()
        return self.surrogate, self._best_at_fit

    def predict(self, ids: Any) -> xr.Dataset:
        """Predicted mean and sd of the current surrogate at the given candidates.

        Examples
        --------
        >>> campaign.predict([10, 20])["predicted_mean"].values  # doctest: +SKIP
        """
        self._check_open()
        names = _as_list("ids", ids)
        positions = self._positions(names, "ids")
        surrogate, _ = self._current_surrogate()
        mean, sd = surrogate.predict(self._rows(positions))
        units = self._config["value_units"]
        return xr.Dataset(
            {
                "predicted_mean": ("candidate", mean, {"units": units}),
                "predicted_sd": ("candidate", sd, {"units": units}),
            },
            coords={"candidate": ("candidate", np.asarray(self._names(positions)))},
        )

    def acquisition_landscape(
        self, x: str, y: str, *, at: Any = None, max_points: int = 100_000
    ) -> xr.Dataset:
        """Acquisition, predicted mean and sd on a 2-D slice of the candidate space.

        The slice holds every other composition variable (except the balance element) at its
        value in the reference candidate ``at``, and lets ``x`` and ``y`` vary; for spaces
        without compositions the other features are held instead.

        Parameters
        ----------
        x, y : str
            Two variables of the candidate space (for example ``"Cu"`` and ``"Pd"``).
        at : candidate name, optional
            Reference candidate. Default: the first of the last suggestion, else the best
            measurement.
        max_points : int
            At most this many candidates are scored (a regular subsample beyond that).

        Returns
        -------
        xarray.Dataset
            Over ``candidate``: ``x``, ``y``, ``acquisition``, ``predicted_mean``,
            ``predicted_sd``; ``attrs`` name the slice variables (``x``, ``y``), the held values
            (``held``) and the acquisition. Thompson sampling and knowledge gradient are shown
            as expected improvement (their values are random or defined only jointly).

        Examples
        --------
        >>> landscape = campaign.acquisition_landscape("Cu", "Pd")  # doctest: +SKIP
        """
        self._check_open()
        variables = [
            str(v) for v, var in self._space.data_vars.items() if var.dims == ("candidate",)
        ]
        for name, value in (("x", x), ("y", y)):
            if value not in variables:
                raise ValueError(f"{name} must be one of {variables}, got {value!r}")
        if x == y:
            raise ValueError(f"x and y must be two different variables, got {x!r} twice")
        max_points = check_positive_int("max_points", max_points, minimum=4)
        surrogate, best = self._current_surrogate()
        if self._elements:
            balance = self._space.attrs.get("balance_element")
            free = [e for e in self._elements if e not in (x, y)]
            if balance not in free:
                balance = None
            held = [e for e in free if e != balance]
            if balance is None and held and (x in self._elements or y in self._elements):
                held = held[1:]  # one free element absorbs the changes of x and y
        else:
            held = [f for f in self._features if f not in (x, y)]
        if at is None:
            if self._last_suggestion is not None:
                at = self._last_suggestion["ids"][0]
            else:
                at = self.best["candidate"].item()
        (reference,) = self._positions([at], "at")
        reference_row = self._space[held].isel(candidate=reference).compute() if held else None
        targets = np.array([float(reference_row[h]) for h in held])
        columns = [self._space[h].data for h in held]
        lazy = any(hasattr(c, "dask") for c in columns)
        found = []
        for start in range(0, self._n, self.chunk_size):
            stop = min(start + self.chunk_size, self._n)
            if not held:
                found.append(np.arange(start, stop))
                continue
            block = np.column_stack(
                [np.asarray(c[start:stop].compute() if lazy else c[start:stop]) for c in columns]
            )
            match = np.all(np.abs(block - targets) <= _LOCATE_TOLERANCE, axis=1)
            found.append(start + np.flatnonzero(match))
        positions = np.concatenate(found)
        if len(positions) > max_points:
            positions = positions[np.linspace(0, len(positions) - 1, max_points).astype(int)]
        mean, sd = surrogate.predict(self._rows(positions))
        name = self._config["acquisition"]
        if name in _SAMPLING_ACQUISITIONS:
            name, params = "expected_improvement", {}
        else:
            params = self._acquisition_params()
        scores = _acquisition_registry()[name](mean, sd, best, minimize=self.minimize, **params)
        rows = self._space[[x, y]].isel(candidate=positions).compute()
        if "candidate" not in rows.coords:
            rows = rows.assign_coords(candidate=("candidate", np.asarray(self._names(positions))))
        units = self._config["value_units"]
        rows["acquisition"] = ("candidate", np.asarray(scores, dtype=float))
        rows["predicted_mean"] = ("candidate", mean, {"units": units})
        rows["predicted_sd"] = ("candidate", sd, {"units": units})
        unit = {h: self._space[h].attrs.get("units", "") for h in held}
        rows.attrs = {
            "x": x,
            "y": y,
            "held": ", ".join(
                f"{h} = {t:g} {unit[h]}".strip() for h, t in zip(held, targets, strict=True)
            ),
            "acquisition": name,
            "reference": str(_json_scalar(self._index[reference])),
        }
        return rows

    # -- observing ------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._journal.closed:
            raise ValueError("this campaign has been closed; reopen it with Campaign.open(path)")

    def _check_writable(self) -> None:
        """Raise before any work if the campaign is closed or was opened read-only."""
        self._check_open()
        if self._journal.read_only:
            raise self._journal.refusal()

    def observe(self, ids: Any, values: Any) -> None:
        """Record measured values; with a path they are on disk before this returns.

        Parameters
        ----------
        ids : candidate name, list of names, suggestion Dataset, or compositions
            Candidates as named by the space's ``candidate`` coordinate (for example
            ``batch.candidate`` of a suggestion), or compositions as for :meth:`locate`.
            A candidate may be measured several times; each measurement is kept as a replicate.
        values : float or list of float
            One finite measured value per candidate, of magnitude at most 1e100 (larger ones
            overflow the surrogate's standardisation; a run that gave no usable value is
            recorded with :meth:`observe_failure` instead).

        Raises
        ------
        ValueError, TypeError
            For an unknown candidate or element, a NaN, infinite or too large value, mismatched
            lengths or a composition not summing to 100; nothing is recorded then.

        Examples
        --------
        >>> batch = campaign.suggest(2)  # doctest: +SKIP
        >>> campaign.observe(batch.candidate, [3.1, 7.4])  # doctest: +SKIP
        """
        self._check_writable()
        names = self._candidate_names(ids)
        value_list = _as_list("values", values)
        if len(names) != len(value_list):
            raise ValueError(
                f"ids and values must have the same length, got {len(names)} candidate(s) and "
                f"{len(value_list)} value(s)"
            )
        numbers = []
        for k, value in enumerate(value_list):
            if isinstance(value, (bool, np.bool_)):
                raise TypeError(f"values[{k}] must be a number, got {value!r}")
            try:
                number = float(value.strip() if isinstance(value, str) else value)
            except (TypeError, ValueError):
                raise TypeError(f"values[{k}] must be a number, got {value!r}") from None
            if not math.isfinite(number):
                raise ValueError(
                    f"values[{k}] is {number!r}; a measured value must be a finite number"
                )
            if abs(number) > _MAX_ABS_VALUE:
                raise ValueError(
                    f"values[{k}] is {number!r}; a measured value must lie between "
                    f"-{_MAX_ABS_VALUE:g} and {_MAX_ABS_VALUE:g} (larger ones overflow the "
                    f"surrogate); check its units, or use observe_failure for a failed run"
                )
            numbers.append(number)
        positions = self._positions(names, "ids")
        self._check_compositions(positions)
        canonical = self._names(positions)
        record = {
            "type": "observe",
            "time": _now(),
            "ids": canonical,
            "values": numbers,
            **self._prediction_fields(canonical),
        }
        record = self._journal.append(record)
        self._apply(record)

    def observe_failure(self, candidates: Any, reason: str | Sequence[str]) -> None:
        """Record failed or infeasible runs; with a path they are on disk before this returns.

        A failed candidate is kept in :attr:`history` (``failed`` is True, ``failure_reason``
        says why, ``value`` is NaN), never suggested again, and left out of :attr:`best` and of
        the data the surrogate learns from. :meth:`undo` takes a recorded failure back like a
        batch of measurements.

        Parameters
        ----------
        candidates : candidate name, list of names, suggestion Dataset, or compositions
            As ``ids`` of :meth:`observe`.
        reason : str or list of str
            Why the run failed (for example ``"sample cracked"`` or ``"did not transform"``):
            one text for all candidates, or one per candidate.

        Raises
        ------
        ValueError, TypeError
            For an unknown candidate, an empty reason or mismatched lengths; nothing is
            recorded then.

        Examples
        --------
        >>> campaign.observe_failure(batch.candidate[:1], "sample cracked")  # doctest: +SKIP
        """
        self._check_writable()
        names = self._candidate_names(candidates, "candidates")
        reasons = [reason] * len(names) if isinstance(reason, str) else _as_list("reason", reason)
        if len(reasons) != len(names):
            raise ValueError(
                f"reason must be one text or one per candidate, got {len(reasons)} reason(s) for "
                f"{len(names)} candidate(s)"
            )
        for k, text in enumerate(reasons):
            if not isinstance(text, str) or not text.strip():
                where = "reason" if isinstance(reason, str) else f"reason[{k}]"
                raise ValueError(
                    f"{where} must be a non-empty text saying why the run failed, got {text!r}"
                )
        positions = self._positions(names, "candidates")
        canonical = self._names(positions)
        record = {
            "type": "failure",
            "time": _now(),
            "ids": canonical,
            "reasons": [text.strip() for text in reasons],
            **self._prediction_fields(canonical),
        }
        record = self._journal.append(record)
        self._apply(record)

    def cancel(self, candidates: Any = None) -> list[Any]:
        """Withdraw pending suggestions: they are no longer pending and may be suggested again.

        The cancellation is journalled, so it survives :meth:`open`. A later measurement of a
        cancelled candidate is still accepted, without the prediction of the cancelled
        suggestion.

        Parameters
        ----------
        candidates : candidate name, list of names or suggestion Dataset, optional
            Candidates of :attr:`pending` to withdraw; default: all of them.

        Returns
        -------
        list
            The cancelled candidates.

        Examples
        --------
        >>> campaign.cancel(batch.candidate[:2])  # doctest: +SKIP
        """
        self._check_writable()
        pending = self.pending
        if not pending:
            raise ValueError("there is no pending suggestion to cancel")
        if candidates is None:
            names = pending
        else:
            names = self._names(
                self._positions(self._candidate_names(candidates, "candidates"), "candidates")
            )
            outside = [name for name in names if name not in pending]
            if outside:
                raise ValueError(
                    f"candidates: {outside} are not pending; the pending suggestions are {pending}"
                )
            names = list(dict.fromkeys(names))
        record = self._journal.append({"type": "cancel", "time": _now(), "ids": names})
        self._apply(record)
        return list(names)

    def _candidate_names(self, ids: Any, name: str = "ids") -> list[Any]:
        """Candidate names from names, a suggestion Dataset or compositions (not empty)."""
        if isinstance(ids, (Mapping, pd.DataFrame)) or (
            isinstance(ids, xr.Dataset) and "candidate" not in ids.coords
        ):
            names = self.locate(ids)
        else:
            names = _as_list(name, ids)
        if not names:
            raise ValueError(f"{name} is empty: give at least one candidate")
        return names

    def _prediction_fields(self, canonical: Sequence[Any]) -> dict[str, list]:
        """What the latest suggestion of each candidate predicted (None where none did)."""
        predictions = [self._predictions.get(name) for name in canonical]

        def field(k: int) -> list:
            return [None if p is None else _optional_floats([p[k]])[0] for p in predictions]

        return {
            "predicted_mean": field(0),
            "predicted_sd": field(1),
            "acquisition": field(2),
            "suggested_in": [None if p is None else p[3] for p in predictions],
        }

    def _check_compositions(self, positions: np.ndarray) -> None:
        if not self._elements:
            return
        rows = self._space[self._elements].isel(candidate=positions).compute()
        totals = sum(np.asarray(rows[e].values, dtype=float) for e in self._elements)
        off = np.flatnonzero(np.abs(totals - 100.0) > _SUM_TOLERANCE * len(self._elements))
        if len(off):
            k = int(off[0])
            raise ValueError(
                f"candidate {self._names(positions[[k]])[0]!r} has a composition summing to "
                f"{totals[k]:.6g} at.%, not 100; fix the candidate space"
            )

    def undo(self) -> xr.Dataset:
        """Remove the last recorded batch of measurements or failures (journalled, so the removal
        survives reopening).

        Returns
        -------
        xarray.Dataset
            The removed rows of :attr:`history`.

        Examples
        --------
        >>> campaign.undo()  # doctest: +SKIP
        """
        self._check_writable()
        if not self._batches:
            raise ValueError("there is no recorded batch to undo")
        history = self.history
        removed = history.isel(observation=history["record"].values == self._batches[-1]["seq"])
        record = self._journal.append(
            {"type": "undo", "time": _now(), "undoes": self._batches[-1]["seq"]}
        )
        self._apply(record)
        return removed

    # -- results ---------------------------------------------------------------------------------
    @property
    def history(self) -> xr.Dataset:
        """Every recorded measurement and failure, over the dim ``observation`` (oldest first).

        Variables: ``value`` (NaN for a failure); ``failed`` (True for a run recorded with
        :meth:`observe_failure`) and ``failure_reason`` (its reason, ``""`` for measurements);
        ``iteration`` (0 for the first recorded batch, then 1, 2, ...); ``time`` (UTC);
        ``predicted_mean``, ``predicted_sd`` and ``acquisition`` as predicted when the candidate
        was suggested (NaN if it was not); ``record`` (the journal record); the candidate's
        composition and features. The coordinate ``candidate`` names each candidate.
        Only the rows with ``failed`` False are the surrogate's data.
        """
        ids, iteration, times, mean, sd, acq, seq = [], [], [], [], [], [], []
        values, failed, reasons, positions = [], [], [], []
        for k, batch in enumerate(self._batches):
            m = len(batch["ids"])
            ids.extend(batch["ids"])
            positions.append(batch["positions"])
            iteration.extend([k] * m)
            times.extend([batch["time"]] * m)
            mean.extend(batch["predicted_mean"])
            sd.extend(batch["predicted_sd"])
            acq.extend(batch["acquisition"])
            seq.extend([batch["seq"]] * m)
            if batch["type"] == "failure":
                values.extend([np.nan] * m)
                failed.extend([True] * m)
                reasons.extend(batch["reasons"])
            else:
                values.extend(batch["values"])
                failed.extend([False] * m)
                reasons.extend([""] * m)
        n = len(ids)
        positions = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
        columns = self._fingerprint_columns()
        rows = self._space[columns].isel(candidate=positions).compute()
        if "candidate" in rows.coords:
            rows = rows.drop_vars("candidate")
        rows = rows.rename_dims({"candidate": "observation"})
        units = self._config["value_units"]
        time_values = np.array(
            [np.datetime64(t.replace("+00:00", ""), "ns") for t in times], dtype="datetime64[ns]"
        )
        data = xr.Dataset(
            {
                "value": (
                    "observation",
                    np.asarray(values, dtype=float),
                    {"units": units, "long_name": self._config["value_name"]},
                ),
                "failed": ("observation", np.asarray(failed, dtype=bool)),
                "failure_reason": ("observation", np.asarray(reasons, dtype=object)),
                "iteration": ("observation", np.asarray(iteration, dtype=np.int64)),
                "time": ("observation", time_values),
                "predicted_mean": ("observation", _floats(mean), {"units": units}),
                "predicted_sd": ("observation", _floats(sd), {"units": units}),
                "acquisition": ("observation", _floats(acq)),
                "record": ("observation", np.asarray(seq, dtype=np.int64)),
            },
            coords={
                "observation": np.arange(n),
                "candidate": ("observation", np.array(ids) if n else np.array([], dtype=np.int64)),
            },
        )
        data = xr.merge([data, rows], combine_attrs="drop")
        data.attrs = {
            "objective": self._config["objective"],
            "value_name": self._config["value_name"],
            "value_units": units,
            "features": ", ".join(self._features),
        }
        return data

    @property
    def measurements(self) -> xr.Dataset:
        """The rows of :attr:`history` that are measurements (``failed`` False)."""
        history = self.history
        return history.isel(observation=~history["failed"].values)

    @property
    def best(self) -> xr.Dataset | None:
        """The best single measurement so far (a row of :attr:`history`, never a failure), or
        None."""
        history = self.history
        measured = np.flatnonzero(~history["failed"].values)
        if len(measured) == 0:
            return None
        values = history["value"].values[measured]
        k = int(np.argmin(values) if self.minimize else np.argmax(values))
        return history.isel(observation=int(measured[k]))

    # -- simulated campaigns ---------------------------------------------------------------------
    def run(
        self,
        oracle: Callable[[xr.Dataset], Any],
        n_iterations: int,
        batch_size: int = 1,
        *,
        client: Any = None,
        progress: bool = True,
    ) -> xr.Dataset:
        """Run a simulated campaign: suggest, measure with ``oracle``, record, repeat.

        Parameters
        ----------
        oracle : callable
            ``oracle(batch) -> values``: takes the suggested rows (an ``xarray.Dataset`` over
            ``candidate`` with the space's variables) and returns one value per row, for example
            a virtual experiment from :mod:`mi_workbench.physics.alloys`.
        n_iterations : int
            Number of suggest-measure-record loops.
        batch_size : int
            Candidates per loop.
        client : dask.distributed.Client, optional
            Evaluate each candidate of a batch as its own task on this cluster, and score the
            candidate chunks there.
        progress : bool
            Show a progress bar (tqdm).

        Returns
        -------
        xarray.Dataset
            The :attr:`history` at the end.

        Examples
        --------
        >>> campaign.run(lambda b: (b.x.values - 0.3) ** 2, n_iterations=5, batch_size=2)
        ... # doctest: +SKIP
        """
        if not callable(oracle):
            raise TypeError(f"oracle must be a function of a batch Dataset, got {oracle!r}")
        n_iterations = check_positive_int("n_iterations", n_iterations)
        batch_size = check_positive_int("batch_size", batch_size)
        from tqdm.auto import tqdm

        bar = tqdm(total=n_iterations, desc="campaign", unit="batch", disable=not progress)
        try:
            for _ in range(n_iterations):
                batch = self.suggest(batch_size, client=client)
                if client is None:
                    values = np.asarray(oracle(batch), dtype=float).ravel()
                else:
                    rows = [batch.isel(candidate=[k]) for k in range(batch.sizes["candidate"])]
                    futures = client.map(
                        _evaluate_oracle_row, [oracle] * len(rows), rows, pure=False
                    )
                    values = np.asarray(client.gather(futures), dtype=float)
                if values.size != batch.sizes["candidate"]:
                    raise ValueError(
                        f"the oracle returned {values.size} values for "
                        f"{batch.sizes['candidate']} candidates"
                    )
                self.observe(batch["candidate"].values, values)
                best = self.best
                bar.set_postfix({"best": f"{float(best['value']):.4g}"})
                bar.update(1)
        finally:
            bar.close()
        return self.history
