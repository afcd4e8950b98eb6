"""Input validation shared by every layer.

Each check raises ``ValueError`` or ``TypeError`` with a message that names the argument, the
offending value and what is allowed, so that panels can show the message to a user as it is.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_path(name: str, value: object) -> Path:
    """Return ``value`` as a :class:`pathlib.Path`; raise unless it is a str or os.PathLike."""
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        text = os.fspath(value)
        if isinstance(text, str) and text.strip():
            return Path(text)
        raise ValueError(f"{name} must be a non-empty file path, got {_short(value)}")
    raise TypeError(f"{name} must be a file path (str or os.PathLike), got {_short(value)}")


def check_str_sequence(
    name: str, value: object, allow_empty: bool = False, allow_str: bool = False
) -> list[str]:
    """Return ``value`` as a list of str; raise unless it is a sequence of str.

    A single str is refused (a common slip: ``"CCO"`` is not a list of molecules) unless
    ``allow_str``, when it is read as a list of one.
    """
    if isinstance(value, str):
        if allow_str:
            return [value]
        raise TypeError(f"{name} must be a list of str, not the single str {_short(value)}")
    if value is None or not hasattr(value, "__iter__") or isinstance(value, bytes | dict):
        raise TypeError(f"{name} must be a list of str, got {_short(value)}")
    items = list(value)
    if not items and not allow_empty:
        raise ValueError(f"{name} is empty")
    for position, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name} must hold str only; item {position} is {_short(item)}")
    return items


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    number = check_finite_number(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {number!r}")
    return number


def check_finite_number(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise TypeError(f"{name} must be a number, got the text {value!r}") from None
        else:
            kind = type(value).__name__
            raise TypeError(f"{name} must be a number, got {_short(value)} ({kind})")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {number!r}")
    return number


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {_short(value)} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_seed(name: str, value: object) -> int | None:
    """Return a random seed: ``None`` (fresh entropy) or an integer >= 0.

    Examples
    --------
    >>> check_seed("random_seed", 3)
    3
    >>> check_seed("random_seed", 2.5)
    Traceback (most recent call last):
    ...
    TypeError: random_seed must be an integer >= 0 or None, got 2.5 (float)
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        kind = type(value).__name__
        raise TypeError(f"{name} must be an integer >= 0 or None, got {_short(value)} ({kind})")
    if value < 0:
        raise ValueError(f"{name} must be an integer >= 0 or None, got {value}")
    return int(value)


def check_rng(name: str, value: object) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from ``None``, a Generator or a seed (int >= 0)."""
    if isinstance(value, np.random.Generator):
        return value
    try:
        return np.random.default_rng(check_seed(name, value))
    except TypeError:
        kind = type(value).__name__
        raise TypeError(
            f"{name} must be a numpy.random.Generator, an integer seed >= 0 or None, "
            f"got {_short(value)} ({kind})"
        ) from None


def check_pymc_model(name: str, model: object):
    """Return ``model`` if it is a ``pymc.Model``; raise ``TypeError`` naming ``name`` otherwise."""
    import pymc as pm

    if not isinstance(model, pm.Model):
        raise TypeError(
            f"{name} must be a pymc.Model (e.g. from mi_workbench.models), got "
            f"{_short(model)} ({type(model).__name__})"
        )
    return model


def check_callable(name: str, value: object, optional: bool = True):
    """Return ``value`` if it is callable (or ``None`` when ``optional``); raise otherwise."""
    if (value is None and optional) or callable(value):
        return value
    raise TypeError(
        f"{name} must be a function{' or None' if optional else ''}, got {_short(value)}"
    )


def check_finite_array(name: str, values: object, ndim: int | None = None) -> np.ndarray:
    """Return ``values`` as a float array; raise on non-numeric entries, NaN or infinity."""
    if values is None or isinstance(values, str):
        kind = "None" if values is None else f"the text {values!r}"
        raise TypeError(f"{name} must be a number or an array of numbers, got {kind}")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must contain numbers only, got {_short(values)}") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    bad = ~np.isfinite(array)
    if bad.any():
        where = np.argwhere(bad)[0]
        kind = "NaN" if np.isnan(array[tuple(where)]) else "an infinite value"
        position = tuple(int(i) for i in where)
        position_text = position[0] if len(position) == 1 else position
        raise ValueError(
            f"{name} contains {kind} at position {position_text} "
            f"({int(bad.sum())} non-finite value(s) in all); remove or impute them first"
        )
    return array


def check_choice(name: str, value: object, allowed: Sequence[str]) -> str:
    """Raise unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {_short(value)}")
    return value  # type: ignore[return-value]


def check_composition_rows(
    amounts: np.ndarray,
    labels: Sequence[object],
    elements: Sequence[str],
    tolerance: float = 1e-3,
    name: str | None = None,
) -> None:
    """Raise naming the first row of ``amounts`` (at.%) that is not a valid composition.

    A valid row has finite, non-negative amounts that sum to 100 at.% within
    ``tolerance * len(elements)``. ``labels`` name the rows in the message (for example the
    ``candidate`` coordinate of a candidate space) and ``elements`` the columns; ``name``, when
    given, is the argument the amounts came from and starts the message.

    Examples
    --------
    >>> check_composition_rows(np.array([[50.0, 50.0]]), ["a"], ["Ti", "Ni"])
    >>> check_composition_rows(np.array([[50.0, 40.0]]), ["a"], ["Ti", "Ni"])
    Traceback (most recent call last):
    ...
    ValueError: composition of candidate 'a' sums to 90 at.%, not 100 (Ti 50, Ni 40); \
compositions must be given in at.% summing to 100
    """
    amounts = np.asarray(amounts)
    prefix = f"{name}: " if name else ""

    def label(row: int) -> str:
        value = labels[row]
        return repr(value.item() if isinstance(value, np.generic) else value)

    bad = ~np.isfinite(amounts)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(
            f"{prefix}composition of candidate {label(row)} has a non-finite amount of "
            f"{elements[column]} ({amounts[row, column]!r})"
        )
    negative = amounts < 0
    if negative.any():
        row, column = np.argwhere(negative)[0]
        raise ValueError(
            f"{prefix}composition of candidate {label(row)} has a negative amount of "
            f"{elements[column]} ({float(amounts[row, column])!r} at.%)"
        )
    totals = amounts.sum(axis=1, dtype=np.float64)
    off = np.abs(totals - 100.0) > tolerance * max(1, len(elements))
    if off.any():
        row = int(np.argmax(off))
        pairs = zip(elements, amounts[row], strict=True)
        listed = ", ".join(f"{el} {float(v):g}" for el, v in pairs)
        raise ValueError(
            f"{prefix}composition of candidate {label(row)} sums to {totals[row]:.6g} at.%, "
            f"not 100 ({listed}); compositions must be given in at.% summing to 100"
        )
