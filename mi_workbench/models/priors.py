"""Prior specifications that both NumPy (panels, prior predictive) and PyMC (models) understand.

A :class:`Prior` is a small immutable value: a family name and its location/scale (and degrees of
freedom for Student-t families). Panels edit priors without compiling anything; model builders turn
them into PyMC random variables with :meth:`Prior.to_pymc`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from mi_workbench._checks import check_choice, check_finite_number, check_positive

#: Families on the whole real line (location-scale) and on the positive half-line (scale only).
REAL_FAMILIES = ("normal", "student_t", "laplace")
POSITIVE_FAMILIES = ("half_normal", "half_student_t", "exponential")
FAMILIES = REAL_FAMILIES + POSITIVE_FAMILIES

_LABELS = {
    "normal": "Normal",
    "student_t": "StudentT",
    "laplace": "Laplace",
    "half_normal": "HalfNormal",
    "half_student_t": "HalfStudentT",
    "exponential": "Exponential",
}


@dataclass(frozen=True)
class Prior:
    """A prior distribution: ``family`` with ``loc`` (real-line families), ``scale`` and ``nu``.

    Parameters
    ----------
    family : str
        One of ``normal``, ``student_t``, ``laplace`` (real line) or ``half_normal``,
        ``half_student_t``, ``exponential`` (positive values; ``loc`` must be 0). For
        ``exponential``, ``scale`` is the mean (1 / rate).
    loc : float
        Location (centre) for real-line families.
    scale : float
        Scale (> 0).
    nu : float
        Degrees of freedom of Student-t families (> 0).

    Examples
    --------
    >>> p = Prior("normal", loc=0.0, scale=2.0)
    >>> round(float(p.pdf(0.0)), 4)
    0.1995
    >>> p.replace(scale=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: scale must be > 0, got -1.0
    """

    family: str
    loc: float = 0.0
    scale: float = 1.0
    nu: float = 4.0

    def __post_init__(self) -> None:
        check_choice("family", self.family, FAMILIES)
        object.__setattr__(self, "loc", check_finite_number("loc", self.loc))
        object.__setattr__(self, "scale", check_positive("scale", self.scale))
        object.__setattr__(self, "nu", check_positive("nu", self.nu))
        if self.family in POSITIVE_FAMILIES and self.loc != 0.0:
            raise ValueError(
                f"loc must be 0 for the positive family {self.family!r}, got {self.loc!r}"
            )

    @property
    def support(self) -> str:
        """``"real"`` or ``"positive"``."""
        return "real" if self.family in REAL_FAMILIES else "positive"

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the hyperparameters a user can set for this family."""
        names: tuple[str, ...] = ("loc", "scale") if self.support == "real" else ("scale",)
        if self.family.endswith("student_t"):
            names = (*names, "nu")
        return names

    def replace(self, **changes: object) -> Prior:
        """A copy with some fields changed (validated). Changing to a positive family resets loc."""
        if changes.get("family") in POSITIVE_FAMILIES and "loc" not in changes:
            changes["loc"] = 0.0
        return replace(self, **changes)

    def _scipy(self):
        f, loc, scale, nu = self.family, self.loc, self.scale, self.nu
        if f == "normal":
            return stats.norm(loc, scale)
        if f == "student_t":
            return stats.t(nu, loc, scale)
        if f == "laplace":
            return stats.laplace(loc, scale)
        if f == "half_normal":
            return stats.halfnorm(0.0, scale)
        if f == "half_student_t":
            return stats.halfcauchy(0.0, scale) if nu == 1 else _HalfT(nu, scale)
        return stats.expon(0.0, scale)

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        """Probability density at ``x`` (NumPy)."""
        return self._scipy().pdf(x)

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draws from the prior (NumPy)."""
        if self.family == "half_student_t":
            return np.abs(stats.t(self.nu, 0.0, self.scale).rvs(size=size, random_state=rng))
        return self._scipy().rvs(size=size, random_state=rng)

    def interval(self, probability: float = 0.99) -> tuple[float, float]:
        """Central interval holding ``probability`` of the prior mass (lower end 0 if positive)."""
        if self.family == "half_student_t":
            upper = stats.t(self.nu, 0.0, self.scale).ppf(0.5 + probability / 2)
            return 0.0, float(upper)
        low, high = self._scipy().interval(probability)
        return float(low), float(high)

    def to_pymc(self, name: str, **kwargs):
        """Create the PyMC random variable ``name`` (call inside a model context)."""
        import pymc as pm

        f, loc, scale, nu = self.family, self.loc, self.scale, self.nu
        if f == "normal":
            return pm.Normal(name, mu=loc, sigma=scale, **kwargs)
        if f == "student_t":
            return pm.StudentT(name, nu=nu, mu=loc, sigma=scale, **kwargs)
        if f == "laplace":
            return pm.Laplace(name, mu=loc, b=scale, **kwargs)
        if f == "half_normal":
            return pm.HalfNormal(name, sigma=scale, **kwargs)
        if f == "half_student_t":
            return pm.HalfStudentT(name, nu=nu, sigma=scale, **kwargs)
        return pm.Exponential(name, scale=scale, **kwargs)

    def describe(self) -> str:
        """A short text such as ``Normal(loc=0, scale=1)``."""
        values = ", ".join(f"{p}={getattr(self, p):.3g}" for p in self.parameters)
        return f"{_LABELS[self.family]}({values})"

    def __str__(self) -> str:
        return self.describe()


class _HalfT:
    """The half Student-t distribution (|T| for T ~ t(nu, 0, scale)), density and interval."""

    def __init__(self, nu: float, scale: float):
        self._t = stats.t(nu, 0.0, scale)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, 2.0 * self._t.pdf(x), 0.0)

    def interval(self, probability):
        return 0.0, self._t.ppf(0.5 + probability / 2)


def as_prior(name: str, value: Prior | dict) -> Prior:
    """Accept a :class:`Prior` or a mapping such as ``{"family": "normal", "scale": 2}``."""
    if isinstance(value, Prior):
        return value
    if isinstance(value, dict):
        try:
            return Prior(**value)
        except TypeError as error:
            raise TypeError(f"prior {name!r}: {error}") from None
        except ValueError as error:
            raise ValueError(f"prior {name!r}: {error}") from None
    raise TypeError(f"prior {name!r} must be a Prior or a dict, got {type(value).__name__}")
