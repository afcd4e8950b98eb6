"""Prior distributions that NumPy (panels, prior predictive) and PyMC (models) both understand.

A :class:`Prior` is a small immutable value: the name of a PyMC distribution and its parameters,
by the names PyMC uses (``Prior("Gamma", alpha=2, beta=1)`` is ``pm.Gamma(name, alpha=2,
beta=1)``). Panels edit priors without compiling anything; models turn them into PyMC random
variables with :meth:`Prior.to_pymc`.

Densities, quantiles and draws come from SciPy (fast, no just-in-time compilation, so a slider
answers at once). Elicitation from statements (:func:`elicit`: "90 % between 1 and 5") and the
change of family that keeps a prior's spread (:meth:`Prior.as_family`) use PreliZ's ``maxent``;
nothing of PreliZ's mathematics is re-implemented here.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from mi_workbench._checks import _short, check_finite_number

_INF = math.inf


@dataclass(frozen=True)
class _Family:
    """One distribution family: PyMC's name, its parameters in PyMC's order, SciPy's version."""

    name: str
    params: tuple[str, ...]
    positive: tuple[str, ...]
    scipy: Callable[..., object]
    support: Callable[..., tuple[float, float]]
    defaults: tuple[tuple[str, float], ...] = ()
    #: PyMC's random-variable op inputs (after rng and size) -> parameters by PyMC's names
    from_op: Callable[..., dict] | None = None
    #: parameters that :func:`elicit` keeps as they are (they shape, not place, the prior)
    kept_when_eliciting: tuple[str, ...] = ()


class _HalfStudentT:
    """|T| for T ~ StudentT(nu, 0, sigma): SciPy has no half Student-t."""

    def __init__(self, nu: float, sigma: float):
        self._t = stats.t(nu, 0.0, sigma)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, 2.0 * self._t.pdf(x), 0.0)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, math.log(2.0) + self._t.logpdf(x), -np.inf)

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, 2.0 * self._t.cdf(x) - 1.0, 0.0)

    def ppf(self, q):
        return self._t.ppf(0.5 + 0.5 * np.asarray(q, dtype=float))

    def rvs(self, size=None, random_state=None):
        return np.abs(self._t.rvs(size=size, random_state=random_state))


def _real(**_params) -> tuple[float, float]:
    return (-_INF, _INF)


def _positive(**_params) -> tuple[float, float]:
    return (0.0, _INF)


def _bounds(lower, upper, **_params) -> tuple[float, float]:
    return (float(lower), float(upper))


_FAMILY_LIST = (
    _Family(
        "Normal",
        ("mu", "sigma"),
        ("sigma",),
        lambda mu, sigma: stats.norm(mu, sigma),
        _real,
        (("mu", 0.0), ("sigma", 1.0)),
        lambda mu, sigma: {"mu": mu, "sigma": sigma},
    ),
    _Family(
        "StudentT",
        ("nu", "mu", "sigma"),
        ("nu", "sigma"),
        lambda nu, mu, sigma: stats.t(nu, mu, sigma),
        _real,
        (("nu", 4.0), ("mu", 0.0), ("sigma", 1.0)),
        lambda nu, mu, sigma: {"nu": nu, "mu": mu, "sigma": sigma},
        ("nu",),
    ),
    _Family(
        "Laplace",
        ("mu", "b"),
        ("b",),
        lambda mu, b: stats.laplace(mu, b),
        _real,
        (("mu", 0.0), ("b", 1.0)),
        lambda mu, b: {"mu": mu, "b": b},
    ),
    _Family(
        "Cauchy",
        ("alpha", "beta"),
        ("beta",),
        lambda alpha, beta: stats.cauchy(alpha, beta),
        _real,
        (("alpha", 0.0), ("beta", 1.0)),
        lambda alpha, beta: {"alpha": alpha, "beta": beta},
    ),
    _Family(
        "HalfNormal",
        ("sigma",),
        ("sigma",),
        lambda sigma: stats.halfnorm(0.0, sigma),
        _positive,
        (("sigma", 1.0),),
        lambda loc, sigma: {"sigma": sigma} if loc == 0 else None,
    ),
    _Family(
        "HalfStudentT",
        ("nu", "sigma"),
        ("nu", "sigma"),
        lambda nu, sigma: _HalfStudentT(nu, sigma),
        _positive,
        (("nu", 4.0), ("sigma", 1.0)),
        lambda nu, sigma: {"nu": nu, "sigma": sigma},
        ("nu",),
    ),
    _Family(
        "HalfCauchy",
        ("beta",),
        ("beta",),
        lambda beta: stats.halfcauchy(0.0, beta),
        _positive,
        (("beta", 1.0),),
        lambda beta: {"beta": beta},
    ),
    _Family(
        "Exponential",
        ("lam",),
        ("lam",),
        lambda lam: stats.expon(0.0, 1.0 / lam),
        _positive,
        (("lam", 1.0),),
        lambda scale: {"lam": 1.0 / scale},
    ),
    _Family(
        "Gamma",
        ("alpha", "beta"),
        ("alpha", "beta"),
        lambda alpha, beta: stats.gamma(alpha, 0.0, 1.0 / beta),
        _positive,
        (("alpha", 2.0), ("beta", 1.0)),
        lambda shape, scale: {"alpha": shape, "beta": 1.0 / scale},
    ),
    _Family(
        "InverseGamma",
        ("alpha", "beta"),
        ("alpha", "beta"),
        lambda alpha, beta: stats.invgamma(alpha, 0.0, beta),
        _positive,
        (("alpha", 3.0), ("beta", 2.0)),
        lambda alpha, beta: {"alpha": alpha, "beta": beta},
    ),
    _Family(
        "LogNormal",
        ("mu", "sigma"),
        ("sigma",),
        lambda mu, sigma: stats.lognorm(sigma, 0.0, math.exp(mu)),
        _positive,
        (("mu", 0.0), ("sigma", 1.0)),
        lambda mu, sigma: {"mu": mu, "sigma": sigma},
    ),
    _Family(
        "Weibull",
        ("alpha", "beta"),
        ("alpha", "beta"),
        lambda alpha, beta: stats.weibull_min(alpha, 0.0, beta),
        _positive,
        (("alpha", 2.0), ("beta", 1.0)),
        lambda alpha, beta: {"alpha": alpha, "beta": beta},
    ),
    _Family(
        "Beta",
        ("alpha", "beta"),
        ("alpha", "beta"),
        lambda alpha, beta: stats.beta(alpha, beta),
        lambda **_params: (0.0, 1.0),
        (("alpha", 2.0), ("beta", 2.0)),
        lambda alpha, beta: {"alpha": alpha, "beta": beta},
    ),
    _Family(
        "Uniform",
        ("lower", "upper"),
        (),
        lambda lower, upper: stats.uniform(lower, upper - lower),
        _bounds,
        (("lower", 0.0), ("upper", 1.0)),
        lambda lower, upper: {"lower": lower, "upper": upper},
    ),
    _Family(
        "TruncatedNormal",
        ("mu", "sigma", "lower", "upper"),
        ("sigma",),
        lambda mu, sigma, lower, upper: stats.truncnorm(
            (lower - mu) / sigma, (upper - mu) / sigma, mu, sigma
        ),
        _bounds,
        (("mu", 0.0), ("sigma", 1.0), ("lower", -_INF), ("upper", _INF)),
        lambda mu, sigma, lower, upper: {"mu": mu, "sigma": sigma, "lower": lower, "upper": upper},
        ("lower", "upper"),
    ),
)

#: PyMC's name -> family description.
_FAMILIES: dict[str, _Family] = {family.name: family for family in _FAMILY_LIST}
#: Every family a :class:`Prior` can have (PyMC's distribution names).
FAMILIES: tuple[str, ...] = tuple(_FAMILIES)
#: Families on the whole real line.
REAL_FAMILIES: tuple[str, ...] = ("Normal", "StudentT", "Laplace", "Cauchy")
#: Families on the positive half-line.
POSITIVE_FAMILIES: tuple[str, ...] = (
    "HalfNormal",
    "HalfStudentT",
    "HalfCauchy",
    "Exponential",
    "Gamma",
    "InverseGamma",
    "LogNormal",
    "Weibull",
)


def _family_key(name: str) -> str:
    return name.replace("_", "").replace(" ", "").lower()


_BY_KEY = {_family_key(name): name for name in FAMILIES}


def family_name(name: object) -> str:
    """PyMC's spelling of a family name: ``"half_normal"`` and ``"halfnormal"`` give ``HalfNormal``.

    Examples
    --------
    >>> family_name("half_student_t")
    'HalfStudentT'
    """
    if not isinstance(name, str):
        raise TypeError(f"family must be a distribution name (text), got {type(name).__name__}")
    try:
        return _BY_KEY[_family_key(name)]
    except KeyError:
        raise ValueError(f"unknown family {name!r}; the families are {list(FAMILIES)}") from None


def family_parameters(family: str) -> tuple[str, ...]:
    """The parameter names of ``family`` in PyMC's order, e.g. ``("mu", "sigma")``."""
    return _FAMILIES[family_name(family)].params


def _code_literal(value: object) -> str:
    """Python source of a string, number or tuple/list of them, with double-quoted strings."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (tuple, list)):
        items = ", ".join(_code_literal(v) for v in value)
        return (
            f"({items},)"
            if isinstance(value, tuple) and len(value) == 1
            else (f"({items})" if isinstance(value, tuple) else f"[{items}]")
        )
    return repr(value)


def _format_number(value: float) -> str:
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return f"{value:.4g}"


class Prior:
    """A prior distribution: a PyMC family and its parameters, by PyMC's names and order.

    Parameters
    ----------
    family : str
        A PyMC distribution name, one of :data:`FAMILIES` (``"Normal"``, ``"HalfNormal"``,
        ``"LogNormal"``, ``"Gamma"``, ``"Exponential"``, ``"Beta"``, ``"StudentT"``,
        ``"HalfStudentT"``, ``"Uniform"``, ``"TruncatedNormal"``, ``"Laplace"``, ``"Cauchy"``,
        ``"HalfCauchy"``, ``"InverseGamma"``, ``"Weibull"``); ``"half_normal"`` and other
        spellings without capitals or with underscores are understood.
    *args, **params
        The parameters, positionally in PyMC's order (``Prior("Normal", 0, 2)``) or by PyMC's
        names (``Prior("Gamma", alpha=2, beta=0.5)``); missing ones take the family's default
        (``Normal``: mu=0, sigma=1). ``TruncatedNormal``'s ``lower``/``upper`` may be infinite
        (a one-sided truncation).

    Examples
    --------
    >>> p = Prior("Normal", 0.0, 2.0)
    >>> p
    Prior('Normal', mu=0.0, sigma=2.0)
    >>> round(float(p.pdf(0.0)), 4), p.sigma
    (0.1995, 2.0)
    >>> p.replace(sigma=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: Normal: sigma must be > 0, got -1.0
    >>> print(Prior("Gamma", alpha=2, beta=0.5).code("tau"))
    pm.Gamma("tau", alpha=2, beta=0.5)
    """

    __slots__ = ("_family", "_params")

    def __init__(self, family: str, *args: float, **params: float) -> None:
        name = family_name(family)
        spec = _FAMILIES[name]
        if len(args) > len(spec.params):
            raise TypeError(
                f"{name} takes at most {len(spec.params)} parameters ({', '.join(spec.params)}), "
                f"got {len(args)}"
            )
        given = dict(zip(spec.params, args, strict=False))
        doubled = sorted(set(given) & set(params))
        if doubled:
            raise TypeError(f"{name}: parameter(s) {doubled} given twice")
        given.update(params)
        unknown = [key for key in given if key not in spec.params]
        if unknown:
            raise TypeError(
                f"{name} has no parameter(s) {unknown}; its parameters are {list(spec.params)}"
            )
        values = dict(spec.defaults)
        values.update(given)
        checked = {}
        for key in spec.params:
            if key not in values:
                raise TypeError(f"{name} needs the parameter {key!r}")
            checked[key] = self._check_value(name, key, values[key], spec)
        low, high = spec.support(**checked)
        if not low < high:
            raise ValueError(f"{name}: lower must be < upper, got lower={low!r}, upper={high!r}")
        object.__setattr__(self, "_family", name)
        object.__setattr__(self, "_params", checked)

    @staticmethod
    def _check_value(family: str, key: str, value: object, spec: _Family) -> float:
        bound = key in ("lower", "upper") and family == "TruncatedNormal"
        if bound and isinstance(value, (int, float, np.number)) and math.isinf(float(value)):
            number = float(value)
            if (key == "lower") != (number < 0):
                raise ValueError(f"{family}: {key} cannot be {number!r}")
            return number
        try:
            number = check_finite_number(key, value)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{family}: {error}") from None
        if key in spec.positive and number <= 0:
            raise ValueError(f"{family}: {key} must be > 0, got {number!r}")
        return number

    # ------------------------------------------------------------------ value behaviour
    def __setattr__(self, name, value):
        raise AttributeError("a Prior is immutable; use replace() for a changed copy")

    def __getattr__(self, name: str) -> float:
        params = object.__getattribute__(self, "_params")
        if name in params:
            return params[name]
        raise AttributeError(f"{self._family} prior has no parameter {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prior):
            return NotImplemented
        return self._family == other._family and self._params == other._params

    def __hash__(self) -> int:
        return hash((self._family, tuple(self._params.items())))

    def __repr__(self) -> str:
        values = ", ".join(f"{key}={value!r}" for key, value in self._params.items())
        return f"Prior({self._family!r}, {values})"

    def __str__(self) -> str:
        return self.describe()

    def __reduce__(self):
        return (_rebuild_prior, (self._family, dict(self._params)))

    # ------------------------------------------------------------------ description
    @property
    def family(self) -> str:
        """PyMC's name of the family, e.g. ``"HalfNormal"``."""
        return self._family

    @property
    def params(self) -> dict[str, float]:
        """The parameters by PyMC's names, in PyMC's order (a new dict)."""
        return dict(self._params)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names of the parameters, in PyMC's order."""
        return _FAMILIES[self._family].params

    @property
    def support(self) -> tuple[float, float]:
        """The lower and upper end of the values the prior allows (may be infinite)."""
        return _FAMILIES[self._family].support(**self._params)

    def describe(self) -> str:
        """A short text such as ``Normal(mu=0, sigma=1)``."""
        values = ", ".join(f"{k}={_format_number(v)}" for k, v in self._params.items())
        return f"{self._family}({values})"

    def code(self, name: str, **kwargs: object) -> str:
        """The PyMC line that creates this prior as variable ``name``.

        Extra keyword arguments (``dims="feature"``, ``shape=3``) are written after the
        parameters. Infinite bounds are written as ``np.inf``.
        """
        parts = [_code_literal(str(name))]
        parts += [f"{k}={_format_number(v)}" for k, v in self._params.items()]
        parts += [f"{k}={_code_literal(v)}" for k, v in kwargs.items()]
        return f"pm.{self._family}({', '.join(parts)})"

    def replace(self, **params: float) -> Prior:
        """A copy of the same family with some parameters changed (validated)."""
        return Prior(self._family, **{**self._params, **params})

    # ------------------------------------------------------------------ NumPy side
    def _scipy(self):
        return _FAMILIES[self._family].scipy(**self._params)

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        """Probability density at ``x``."""
        return self._scipy().pdf(x)

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """Log probability density at ``x``."""
        return self._scipy().logpdf(x)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """Cumulative probability up to ``x``."""
        return self._scipy().cdf(x)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        """The quantile function: the value below which a fraction ``q`` of the mass lies."""
        return self._scipy().ppf(q)

    def mass_between(self, lower: float, upper: float) -> float:
        """The prior probability of ``lower <= value <= upper``."""
        return float(self.cdf(upper) - self.cdf(lower))

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draws from the prior."""
        return np.asarray(self._scipy().rvs(size=size, random_state=rng), dtype=float)

    def interval(self, probability: float = 0.99) -> tuple[float, float]:
        """The central interval holding ``probability`` of the mass.

        For a family on the positive half-line whose density is largest at 0 (half-normal,
        exponential, ...), the interval starts at 0 and holds ``probability`` below its end.
        """
        if not 0 < probability < 1:
            raise ValueError(f"probability must be in (0, 1), got {probability!r}")
        tail = (1.0 - probability) / 2.0
        if self._family in _MODE_AT_ZERO or (
            self._family == "TruncatedNormal" and self.mu <= self.lower
        ):
            low, high = self.support[0], float(self.ppf(probability))
        else:
            low, high = float(self.ppf(tail)), float(self.ppf(1.0 - tail))
        return float(low), float(high)

    # ------------------------------------------------------------------ other libraries
    def to_pymc(self, name: str, **kwargs):
        """Create the PyMC random variable ``name`` (inside a model context)."""
        import pymc as pm

        return getattr(pm, self._family)(name, **self._params, **kwargs)

    def to_pymc_dist(self, **kwargs):
        """The unnamed PyMC distribution (``pm.<Family>.dist(...)``), outside a model."""
        import pymc as pm

        return getattr(pm, self._family).dist(**self._params, **kwargs)

    def to_preliz(self):
        """The same distribution as a PreliZ object (for PreliZ's plots and tools)."""
        import preliz as pz

        return getattr(pz, self._family)(**self._params)

    @classmethod
    def from_preliz(cls, distribution) -> Prior:
        """A Prior from a fully specified PreliZ distribution of one of :data:`FAMILIES`."""
        name = family_name(type(distribution).__name__)
        values = dict(zip(distribution.param_names, distribution.params, strict=True))
        return cls(name, **{k: float(v) for k, v in values.items() if k in _FAMILIES[name].params})

    def as_family(self, family: str) -> Prior:
        """The prior of another family with the same support and about the same spread.

        The new prior is PreliZ's maximum-entropy member of ``family`` that keeps this prior's
        central 90 % interval (for families whose density peaks at 0, the 90 % below the upper
        end). A Student-t family keeps ``nu`` (4 when switching to it); a truncated normal keeps
        the bounds.

        Examples
        --------
        >>> Prior("Normal", 0, 1).as_family("Laplace").family
        'Laplace'
        """
        name = family_name(family)
        if name == self._family:
            return self
        allowed = families_for_support(self.support)
        if name not in allowed:
            raise ValueError(
                f"{_article(name)} {name} prior cannot replace {self.describe()}: its values "
                f"must lie in {_support_text(self.support)}; families with that support: {allowed}"
            )
        kept = {}
        if "nu" in _FAMILIES[name].params:
            kept["nu"] = self._params.get("nu", 4.0)
        if name in ("TruncatedNormal", "Uniform"):
            kept["lower"], kept["upper"] = self.support
            if name == "Uniform":
                return Prior(name, **kept)
        statements = [(0.9, *self.interval(0.9))]
        if name in _MODE_AT_ZERO:
            statements.insert(0, (0.9, self.support[0], float(self.ppf(0.9))))
        best = None
        for mass, lower, upper in statements:
            try:
                candidate = _maxent(name, lower, upper, mass, kept)
            except ValueError:
                continue
            error = abs(candidate.mass_between(lower, upper) - mass)
            if best is None or error < best[0]:
                best = (error, candidate)
        if best is None:
            raise ValueError(f"could not express {self.describe()} as a {name} prior")
        return best[1]


def _rebuild_prior(family: str, params: dict) -> Prior:
    return Prior(family, **params)


#: Families whose density is largest at the lower end 0 for typical parameters.
_MODE_AT_ZERO = ("HalfNormal", "HalfStudentT", "HalfCauchy", "Exponential")


def _article(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


def _support_text(support: tuple[float, float]) -> str:
    low, high = support
    return f"[{_format_number(low)}, {_format_number(high)}]".replace("np.", "")


def families_for_support(support: tuple[float, float]) -> list[str]:
    """The families whose priors take exactly the values ``support = (lower, upper)``.

    A truncated normal fits any support (it takes the bounds); a uniform and a beta fit finite
    ones (the beta only ``(0, 1)``).

    Examples
    --------
    >>> families_for_support((0.0, 1.0))
    ['Beta', 'Uniform', 'TruncatedNormal']
    """
    pair = tuple(support) if isinstance(support, tuple | list | np.ndarray) else None
    if pair is None or len(pair) != 2:
        raise TypeError(f"support must be a pair (lower, upper) of numbers, got {_short(support)}")
    for value in pair:
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise TypeError(
                f"support must be a pair (lower, upper) of numbers, got {_short(support)}"
            )
    low, high = float(pair[0]), float(pair[1])
    if math.isnan(low) or math.isnan(high) or not low < high:
        raise ValueError(f"support must be a pair (lower, upper) with lower < upper, got {pair}")
    if (low, high) == (-_INF, _INF):
        return list(REAL_FAMILIES)
    result = []
    if (low, high) == (0.0, _INF):
        result += list(POSITIVE_FAMILIES)
    if (low, high) == (0.0, 1.0):
        result.append("Beta")
    if math.isfinite(low) and math.isfinite(high):
        result.append("Uniform")
    result.append("TruncatedNormal")
    return result


def _maxent(family: str, lower: float, upper: float, mass: float, fixed: Mapping) -> Prior:
    """PreliZ's maximum-entropy prior of ``family`` with ``mass`` in [lower, upper]."""
    import preliz as pz

    distribution = getattr(pz, family)(**fixed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the achieved mass is checked by the callers
        try:
            pz.maxent(distribution, lower, upper, mass, plot=False)
        except Exception as error:  # PreliZ's own message is the most specific one
            raise ValueError(
                f"no {family} prior found with mass={mass:.3g} between lower={lower:.4g} and "
                f"upper={upper:.4g} (PreliZ maxent failed: {error}); check lower and upper"
            ) from None
    return Prior.from_preliz(distribution)


#: How far the elicited prior's mass may be from the asked one.
ELICIT_TOLERANCE = 0.01


def elicit(
    family: str | Prior,
    lower: float,
    upper: float,
    mass: float = 0.9,
    **fixed: float,
) -> Prior:
    """The prior of ``family`` that puts ``mass`` between ``lower`` and ``upper``.

    This is an expert's statement such as "the Rydberg energy lies between 90 and 100 meV with
    90 % probability", turned into a distribution by PreliZ's ``maxent`` (of all members of
    the family that satisfy the statement, the one with the largest entropy).

    Parameters
    ----------
    family : str or Prior
        The family; a :class:`Prior` gives its family and keeps its shape parameters (the
        ``nu`` of Student-t families, the bounds of a truncated normal).
    lower, upper : float
        The interval of the statement (``lower < upper``, inside the family's support).
    mass : float
        The probability of the interval, 0 < mass < 1.
    **fixed
        Parameters to keep at a given value, e.g. ``nu=3``.

    Raises
    ------
    ValueError
        If the interval lies outside the family's support, or the family cannot put ``mass``
        there within :data:`ELICIT_TOLERANCE` (a one-parameter family on the positive
        half-line holds at most a certain mass in an interval that starts above 0; the message
        says how much).

    Examples
    --------
    >>> tau = elicit("Gamma", 1.0, 5.0, mass=0.9)
    >>> tau.family, round(tau.mass_between(1.0, 5.0), 3)
    ('Gamma', 0.9)
    """
    if isinstance(family, Prior):
        start = family
        name = family.family
        spec = _FAMILIES[name]
        kept = {key: start.params[key] for key in spec.kept_when_eliciting}
    else:
        name = family_name(family)
        spec = _FAMILIES[name]
        kept = {key: value for key, value in spec.defaults if key in spec.kept_when_eliciting}
    kept.update(fixed)
    unknown = [key for key in kept if key not in spec.params]
    if unknown:
        raise TypeError(f"{name} has no parameter(s) {unknown}; its parameters are {spec.params}")
    lower = check_finite_number("lower", lower)
    upper = check_finite_number("upper", upper)
    mass = check_finite_number("mass", mass)
    if not 0.0 < mass < 1.0:
        raise ValueError(f"mass must be strictly between 0 and 1, got {mass!r}")
    if not lower < upper:
        raise ValueError(f"lower must be < upper, got lower={lower!r}, upper={upper!r}")
    bounded_by_parameters = name == "Uniform" and not {"lower", "upper"} <= set(kept)
    low, high = (
        (-_INF, _INF)
        if bounded_by_parameters
        else Prior(name, **{**dict(spec.defaults), **kept}).support
    )
    if lower < low or upper > high:
        raise ValueError(
            f"the interval [{lower:.4g}, {upper:.4g}] lies outside the values "
            f"{_article(name)} {name} prior "
            f"takes, {_support_text((low, high))}"
        )
    if len(kept) == len(spec.params):
        raise ValueError(f"every parameter of {name} is fixed: nothing is left to elicit")
    prior = _maxent(name, lower, upper, mass, kept)
    achieved = prior.mass_between(lower, upper)
    if abs(achieved - mass) > ELICIT_TOLERANCE:
        raise ValueError(
            f"{_article(name)} {name} prior cannot put {mass:.3g} of its mass between "
            f"{lower:.4g} and {upper:.4g}: the closest, {prior.describe()}, puts "
            f"{achieved:.3g} there. Widen the interval"
            + (", start it at 0" if low == 0 and lower > 0 else "")
            + " or choose a family with more parameters"
        )
    return prior


def as_prior(name: str, value: Prior | Mapping) -> Prior:
    """Accept a :class:`Prior` or a mapping such as ``{"family": "Normal", "sigma": 2}``.

    ``name`` is the variable's name, used in error messages.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be the prior's variable name (str), got {_short(name)}")
    if isinstance(value, Prior):
        return value
    if isinstance(value, Mapping):
        fields = dict(value)
        family = fields.pop("family", None)
        if family is None:
            raise ValueError(f"prior {name!r}: the dict needs a 'family' key, got {sorted(value)}")
        try:
            return Prior(family, **fields)
        except TypeError as error:
            raise TypeError(f"prior {name!r}: {error}") from None
        except ValueError as error:
            raise ValueError(f"prior {name!r}: {error}") from None
    raise TypeError(
        f"prior {name!r}: the value must be a Prior or a dict such as "
        f"{{'family': 'Normal', 'sigma': 1.0}}, got {_short(value)} ({type(value).__name__})"
    )


def prior_from_op(op_name: str, values: list) -> Prior | None:
    """The :class:`Prior` of a PyMC random variable from its op's parameter values.

    ``op_name`` is the op's print name (``"HalfNormal"``) and ``values`` the numbers of its
    inputs after the random generator and size, in the op's own parametrisation (a Gamma op
    holds shape and scale). Returns ``None`` for a family outside :data:`FAMILIES` or a variant
    that a Prior cannot express (a half-normal with a location).
    """
    spec = _FAMILIES.get(op_name)
    if spec is None or spec.from_op is None:
        return None
    try:
        params = spec.from_op(*(float(v) for v in values))
    except TypeError:  # another number of inputs than this version of PyMC used to have
        return None
    if params is None:
        return None
    return Prior(spec.name, **params)
