"""Reading a user's own ``pm.Model``: its free variables, their priors, its observations.

The general panels take any PyMC model. :func:`inspect_model` finds, for each free random
variable, whether its prior is one a panel can edit (a family of
:data:`~mi_workbench.models.FAMILIES` whose parameters are numbers, the same for every element of
a vector variable) or one that stays as the model has it (a hierarchical variable whose
parameters are other variables, a family the panels do not know, per-element parameters). For
each observed variable it finds the one-dimensional ``pm.Data`` input of the same length that the
prior predictive can use as x axis, and the expression of its mean.

:func:`model_with_priors` rebuilds the model with other priors (same data, names, dims and
everything else), through PyMC's own model-to-graph conversion (``pymc.model.fgraph``), and
:func:`priors_code` writes the priors as PyMC code to paste into the model.

Nothing here re-implements PyMC: the priors are read off the random-variable ops of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from mi_workbench._checks import _short, check_str_sequence
from mi_workbench.models.priors import (
    FAMILIES,
    Prior,
    as_prior,
    families_for_support,
    prior_from_op,
)

#: Families whose observed variables get a mean curve in the prior predictive: the op's
#: print name -> function of the op's parameter inputs (after rng and size) giving the mean.
_MEAN_OF_OBSERVED = {
    "Normal": lambda mu, sigma: mu,
    "StudentT": lambda nu, mu, sigma: mu,
    "Laplace": lambda mu, b: mu,
    "Cauchy": lambda alpha, beta: alpha,
    "TruncatedNormal": lambda mu, sigma, lower, upper: mu,
    "Poisson": lambda mu: mu,
    "Exponential": lambda scale: scale,
    "Gamma": lambda shape, scale: shape * scale,
    "Beta": lambda alpha, beta: alpha / (alpha + beta),
    "Bernoulli": lambda p: p,
    "Binomial": lambda n, p: n * p,
}


@dataclass(frozen=True)
class FreeVariable:
    """A free random variable of a model and what a panel can do with its prior.

    Attributes
    ----------
    name : str
        The variable's name in the model.
    shape : tuple of int
        Its shape (``()`` for a scalar).
    dims : tuple of str
        Its named dims, if the model gave any.
    distribution : str
        PyMC's name of its distribution (``"Normal"``, ``"Dirichlet"``, ...).
    prior : Prior or None
        The model's prior as a :class:`~mi_workbench.models.Prior` when it is editable.
    parents : tuple of str
        Free variables its distribution's parameters depend on (hierarchical models).
    reason : str
        Why the prior is not editable (``""`` when it is).
    """

    name: str
    shape: tuple[int, ...]
    dims: tuple[str, ...]
    distribution: str
    prior: Prior | None
    parents: tuple[str, ...] = ()
    reason: str = ""

    @property
    def editable(self) -> bool:
        """Whether a panel can change this prior (family and parameters)."""
        return self.prior is not None

    @property
    def size(self) -> int:
        """The number of elements (1 for a scalar)."""
        return int(np.prod(self.shape, dtype=int))

    @property
    def families(self) -> list[str]:
        """The families this prior can switch to: those with the same support."""
        if self.prior is None:
            return []
        families = families_for_support(self.prior.support)
        if self.prior.family not in families:  # e.g. a truncated normal with infinite bounds
            families.append(self.prior.family)
        return families

    def label(self) -> str:
        """``name`` with its dims or shape, e.g. ``offset[instrument]`` or ``beta (3)``."""
        if self.dims:
            return f"{self.name}[{', '.join(self.dims)}]"
        if self.shape:
            return f"{self.name} ({' x '.join(str(n) for n in self.shape)})"
        return self.name


@dataclass(frozen=True)
class ObservedVariable:
    """An observed variable: its data and what can go on the prior predictive's x axis.

    Attributes
    ----------
    name : str
        The variable's name in the model.
    values : numpy.ndarray
        The observations.
    dims : tuple of str
        Its named dims.
    distribution : str
        PyMC's name of its likelihood.
    inputs : tuple of str
        One-dimensional ``pm.Data`` containers of the same length as the observations that its
        distribution depends on (candidates for the x axis).
    has_mean : bool
        Whether the predictive can draw the noise-free mean as curves (the likelihood is a
        family with a known mean, see ``_MEAN_OF_OBSERVED``).
    """

    name: str
    values: np.ndarray
    dims: tuple[str, ...]
    distribution: str
    inputs: tuple[str, ...] = ()
    has_mean: bool = False


@dataclass(frozen=True)
class ModelStructure:
    """What :func:`inspect_model` found in a model; ``model`` is the model itself."""

    model: object
    free: dict[str, FreeVariable]
    observed: dict[str, ObservedVariable]
    notes: tuple[str, ...] = field(default=())

    @property
    def editable(self) -> list[str]:
        """Names of the free variables with an editable prior, in the model's order."""
        return [name for name, var in self.free.items() if var.editable]

    @property
    def priors(self) -> dict[str, Prior]:
        """The model's own priors of the editable variables."""
        return {name: var.prior for name, var in self.free.items() if var.editable}

    def check_priors(self, priors: Mapping[str, Prior | Mapping]) -> dict[str, Prior]:
        """Validate new priors of editable variables (names, and supports that match)."""
        if not isinstance(priors, Mapping):
            raise TypeError(f"priors must be a dict of name -> Prior, got {type(priors).__name__}")
        result = {}
        for name, value in priors.items():
            self.check_editable(name)
            prior = as_prior(name, value)
            allowed = self.free[name].families
            if prior.family not in allowed or prior.support != self.free[name].prior.support:
                raise ValueError(
                    f"prior of {name!r}: {prior.describe()} takes values in {prior.support}, "
                    f"but {name!r} must stay in {self.free[name].prior.support} (its model "
                    f"prior is {self.free[name].prior.describe()}); families with that support: "
                    f"{allowed}"
                )
            result[name] = prior
        return result

    def check_editable(self, name: object) -> FreeVariable:
        """The free variable ``name``, or an error that says what the model has."""
        if name not in self.free:
            raise ValueError(
                f"the model has no free variable {name!r}; its free variables are {list(self.free)}"
            )
        var = self.free[name]
        if not var.editable:
            raise ValueError(f"the prior of {name!r} cannot be edited here: {var.reason}")
        return var


def _check_model(model: object):
    import pymc as pm

    if not isinstance(model, pm.Model):
        raise TypeError(f"model must be a pymc.Model, got {type(model).__name__}")
    return model


def _check_structure(name: str, structure: object) -> ModelStructure:
    """Return ``structure`` if it is a :class:`ModelStructure`; raise naming ``name`` otherwise."""
    if not isinstance(structure, ModelStructure):
        raise TypeError(
            f"{name} must be a ModelStructure (from inspect_model(model)), got "
            f"{_short(structure)} ({type(structure).__name__})"
        )
    return structure


def _op_name(rv) -> str:
    op = rv.owner.op
    names = getattr(op, "_print_name", None)
    if names:
        return str(names[0])
    return type(op).__name__.removesuffix("RV")


def _dependencies(variables: Sequence, model) -> tuple[set, set]:
    """The free variables and ``pm.Data`` containers that ``variables`` depend on."""
    from pytensor.graph.traversal import ancestors

    free = set(model.free_RVs)
    data = set(model.data_vars)
    found = set(ancestors(variables, blockers=list(free)))
    return {v for v in found if v in free}, {v for v in found if v in data}


def _is_constant(variable) -> bool:
    from pytensor.graph.basic import Constant
    from pytensor.graph.traversal import graph_inputs

    return all(isinstance(leaf, Constant) for leaf in graph_inputs([variable]))


def _free_variable(rv, model, fixed: set[str], shapes: Mapping) -> FreeVariable:
    name = rv.name
    shape = tuple(int(n) for n in shapes[name])
    dims = tuple(d for d in (model.named_vars_to_dims.get(name) or ()) if d is not None)
    distribution = _op_name(rv)
    params = rv.owner.inputs[2:]
    parents, data = _dependencies(params, model)
    common = {"name": name, "shape": shape, "dims": dims, "distribution": distribution}
    if parents or data:
        depends = sorted(v.name for v in parents | data)
        return FreeVariable(
            **common,
            prior=None,
            parents=tuple(sorted(v.name for v in parents)),
            reason=f"its distribution's parameters depend on {depends}",
        )
    if name in fixed:
        return FreeVariable(**common, prior=None, reason="kept as in the model (fixed=...)")
    if not all(_is_constant(p) for p in params):
        return FreeVariable(**common, prior=None, reason="its parameters are not numbers")
    values = [np.asarray(p.eval()) for p in params]
    if any(v.size > 1 and not np.all(v == v.flat[0]) for v in values):
        return FreeVariable(
            **common,
            prior=None,
            reason="its parameters differ between elements; edit them in the model's code",
        )
    prior = prior_from_op(distribution, [v.flat[0] if v.size else v for v in values])
    if prior is None:
        raise ValueError(
            f"free variable {name!r} has a {distribution} prior, which the panels cannot edit "
            f"(they edit {', '.join(FAMILIES)}); pass fixed=[{name!r}] to keep it as the "
            "model has it"
        )
    return FreeVariable(**common, prior=prior)


def _observed_variable(rv, model) -> ObservedVariable:
    name = rv.name
    values = np.asarray(model.rvs_to_values[rv].eval())
    dims = tuple(d for d in (model.named_vars_to_dims.get(name) or ()) if d is not None)
    distribution = _op_name(rv)
    _, data = _dependencies(rv.owner.inputs[2:], model)
    inputs = tuple(
        sorted(
            v.name
            for v in data
            if v.get_value().ndim == 1 and values.ndim == 1 and v.get_value().size == values.size
        )
    )
    mean = _MEAN_OF_OBSERVED.get(distribution)
    return ObservedVariable(name, values, dims, distribution, inputs, has_mean=mean is not None)


def inspect_model(
    model, *, fixed: Iterable[str] = (), observed: Iterable[str] | None = None
) -> ModelStructure:
    """What a panel can do with ``model``: its free variables, priors and observations.

    Parameters
    ----------
    model : pymc.Model
        Any PyMC model with at least one free random variable.
    fixed : list of str
        Free variables whose priors stay as the model has them (drawn from the model's own
        distribution, without controls), e.g. a ``Dirichlet`` the panels cannot edit.
    observed : list of str, optional
        The observed variables to show; default all of them.

    Raises
    ------
    ValueError
        A model without free variables; a free variable with a constant prior of a family the
        panels cannot edit (not in ``fixed``); a name in ``fixed`` or ``observed`` that is not a
        free or observed variable of the model. Each message names the variable.

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model() as model:
    ...     tau = pm.HalfNormal("tau", 2.0)
    ...     theta = pm.Normal("theta", 0.0, tau, shape=3)
    ...     y = pm.Normal("y", theta, 1.0, observed=[0.5, -0.2, 1.1])
    >>> structure = inspect_model(model)
    >>> structure.editable, structure.free["theta"].parents
    (['tau'], ('tau',))
    """
    model = _check_model(model)
    fixed = set(check_str_sequence("fixed", fixed, allow_empty=True, allow_str=True))
    free_names = [rv.name for rv in model.free_RVs]
    unknown = sorted(fixed - set(free_names))
    if unknown:
        raise ValueError(
            f"fixed names {unknown}, which are not free variables of the model; its free "
            f"variables are {free_names}"
        )
    if not model.free_RVs:
        raise ValueError(
            "the model has no free random variables: there is no prior to set (every variable "
            "is observed or fixed data)"
        )
    shapes = model.eval_rv_shapes()
    free = {rv.name: _free_variable(rv, model, fixed, shapes) for rv in model.free_RVs}
    observed_names = [rv.name for rv in model.observed_RVs]
    if observed is None:
        chosen = observed_names
    else:
        chosen = check_str_sequence("observed", observed, allow_empty=True, allow_str=True)
        for name in chosen:
            if name not in observed_names:
                raise ValueError(
                    f"observed variable {name!r} is not in the model; its observed variables "
                    f"are {observed_names}"
                )
    by_name = {rv.name: rv for rv in model.observed_RVs}
    observed_vars = {name: _observed_variable(by_name[name], model) for name in chosen}
    notes = []
    if model.potentials:
        notes.append(
            f"the model has potentials ({[p.name for p in model.potentials]}): prior draws "
            "do not include them"
        )
    if not any(var.editable for var in free.values()):
        notes.append("no prior of this model can be edited; the panel only shows them")
    return ModelStructure(model, free, observed_vars, tuple(notes))


def model_with_priors(model, priors: Mapping[str, Prior | Mapping], *, fixed: Iterable[str] = ()):
    """A new ``pm.Model``: ``model`` with the priors of some free variables replaced.

    Everything else (data containers, coords, dims, deterministics, observations, names) is
    the same; each replaced variable gets the default value transform of its new family.
    ``fixed`` is passed to :func:`inspect_model` (priors the panels cannot edit, kept as they
    are).

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model() as model:
    ...     sigma = pm.HalfNormal("sigma", 1.0)
    ...     y = pm.Normal("y", 0.0, sigma, observed=[0.3, -0.1])
    >>> new = model_with_priors(model, {"sigma": Prior("Exponential", lam=2.0)})
    >>> type(new["sigma"].owner.op).__name__
    'ExponentialRV'
    """
    from pymc.distributions.transforms import _default_transform
    from pymc.model.fgraph import ModelFreeRV, fgraph_from_model, model_free_rv, model_from_fgraph
    from pymc.pytensorf import toposort_replace
    from pymc.util import get_transformed_name

    structure = inspect_model(model, fixed=fixed)
    priors = structure.check_priors(priors)
    fgraph, _ = fgraph_from_model(model)
    replacements = []
    for node in fgraph.toposort():
        if not isinstance(node.op, ModelFreeRV) or node.op.name not in priors:
            continue
        rv, _value = node.inputs
        size = rv.owner.inputs[1]
        shape = structure.free[node.op.name].shape
        kwargs = {"shape": shape} if shape else {}
        if shape and not _is_constant(size):
            kwargs = {"size": size}
        new_rv = priors[node.op.name].to_pymc_dist(**kwargs)
        transform = _default_transform(new_rv.owner.op, new_rv)
        new_value = new_rv.type()
        new_value.name = (
            get_transformed_name(node.op.name, transform) if transform else node.op.name
        )
        new_dummy = model_free_rv(new_rv, new_value, transform, node.op.name, *node.op.dims)
        replacements.append((node.outputs[0], new_dummy))
    toposort_replace(fgraph, tuple(replacements))
    new_model = model_from_fgraph(fgraph, mutate_fgraph=True)
    for attribute, value in vars(model).items():  # markers such as mi_low_rank_mass_matrix
        if attribute.startswith("mi_"):
            setattr(new_model, attribute, value)
    return new_model


def priors_code(structure: ModelStructure, priors: Mapping[str, Prior] | None = None) -> str:
    """The priors as PyMC lines to paste into the model (one line per editable variable).

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model(coords={"feature": ["a", "b"]}) as model:
    ...     beta = pm.Normal("beta", 0.0, 1.0, dims="feature")
    ...     y = pm.Normal("y", beta.sum(), 1.0, observed=[0.2])
    >>> print(priors_code(inspect_model(model), {"beta": Prior("Normal", 0, 2.5)}))
    beta = pm.Normal("beta", mu=0, sigma=2.5, dims="feature")
    """
    structure = _check_structure("structure", structure)
    if priors is not None and not isinstance(priors, Mapping):
        raise TypeError(
            f"priors must be a dict of variable name -> Prior, or None, got {_short(priors)}"
        )
    priors = dict(structure.priors, **(priors or {}))
    lines = []
    for name in structure.editable:
        var = structure.free[name]
        extra: dict = {}
        if var.dims:
            extra["dims"] = var.dims[0] if len(var.dims) == 1 else var.dims
        elif var.shape:
            extra["shape"] = var.shape[0] if len(var.shape) == 1 else var.shape
        target = name if name.isidentifier() else "_"
        lines.append(f"{target} = {priors[name].code(name, **extra)}")
    return "\n".join(lines)
