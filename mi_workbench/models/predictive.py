"""Prior draws of any PyMC model for any priors of its editable variables, compiled once.

:class:`PriorPredictive` is what makes a prior panel answer a slider in milliseconds on a user's
own model. It compiles ONE PyTensor function, vectorised over draws, whose inputs are the draws
of the editable free variables; the function draws everything downstream (hierarchical
variables, the observations, their noise-free mean) from the model's own graph. The draws of
the editable variables are their priors' quantile functions (SciPy) applied to uniforms fixed
once: a change of a hyperparameter moves every draw smoothly (common random numbers), and a
change of family needs no compile either, because the compiled function never sees the family.
The function's own random generators are reseeded before every call for the same reason.

Why not ``pm.sample_prior_predictive``: it compiles a new function for every new prior (1-3 s
on our machines), which is what a slider must never wait for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mi_workbench._checks import _short, check_positive_int
from mi_workbench.models.inspection import (
    _MEAN_OF_OBSERVED,
    ModelStructure,
    _check_structure,
    _op_name,
)
from mi_workbench.models.priors import Prior

#: Uniforms are kept away from 0 and 1 so that heavy-tailed priors give finite draws.
_U_MARGIN = 1e-4


@dataclass(frozen=True)
class PredictiveAxis:
    """Where an observed variable's predictive is drawn against.

    ``name`` is the x input (a ``pm.Data`` name or ``"observation"`` for the index), ``values``
    its value for each observation, ``grid`` the points of the mean curves (a fine grid over
    the data's range when the mean depends on the data through ``x`` only, else the data's own
    x values) and ``on_grid`` says which of the two it is.
    """

    name: str
    values: np.ndarray
    grid: np.ndarray
    on_grid: bool
    is_input: bool


@dataclass(frozen=True)
class PriorDraws:
    """One set of prior draws.

    Attributes
    ----------
    free : dict of str -> numpy.ndarray
        Draws of every free variable, shape ``(n_draws, *shape)``.
    observed : dict of str -> numpy.ndarray
        Prior predictive draws of each observed variable, ``(n_draws, *data shape)``.
    mean : dict of str -> numpy.ndarray
        The noise-free mean of each observed variable whose likelihood has one, over its
        axis' ``grid``: ``(n_draws, len(grid))``.
    """

    free: dict[str, np.ndarray]
    observed: dict[str, np.ndarray]
    mean: dict[str, np.ndarray]


def _choose_axis(structure: ModelStructure, name: str, x: object, n_grid: int) -> PredictiveAxis:
    observed = structure.observed[name]
    model = structure.model
    size = observed.values.size
    if x is None:
        floats = [
            c for c in observed.inputs if np.issubdtype(model[c].get_value().dtype, np.floating)
        ]
        candidates = floats if floats else list(observed.inputs)
        x = candidates[0] if len(candidates) == 1 else None
    if x is None:
        index = np.arange(size, dtype=float)
        return PredictiveAxis("observation", index, index, on_grid=False, is_input=False)
    if isinstance(x, str):
        if x not in observed.inputs:
            raise ValueError(
                f"x={x!r} is not a one-dimensional pm.Data input of {name!r} with one value per "
                f"observation; its inputs are {list(observed.inputs)}"
            )
        values = np.asarray(model[x].get_value(), dtype=float)
        label, is_input = x, True
    else:
        values = np.asarray(x, dtype=float).ravel()
        if values.size != size:
            raise ValueError(f"x has {values.size} values but {name!r} has {size} observations")
        label, is_input = "x", False
    return PredictiveAxis(label, values, np.sort(values), on_grid=False, is_input=is_input)


def _with_broadcast_parameters(outputs: list) -> tuple[list, dict]:
    """The graph of ``outputs`` with the parameters of sized random variables broadcast.

    PyTensor's ``vectorize_graph`` extends an explicit ``size`` (from ``shape=`` or ``dims=``)
    by the new batch dimensions only when the FIRST parameter gains them: ``Normal("off", 0,
    tau, dims="group")`` with ``tau`` batched fails ("Size length is incompatible"). Broadcasting
    the scalar-core parameters against each other first gives every one the batch dimensions.
    Returns the new outputs and the map from old to new variables.
    """
    import pytensor.tensor as pt
    from pytensor.graph.traversal import graph_inputs, io_toposort
    from pytensor.tensor.random.op import RandomVariable
    from pytensor.tensor.type_other import NoneTypeT

    memo: dict = {}
    for node in io_toposort(list(graph_inputs(outputs)), outputs):
        inputs = [memo.get(i, i) for i in node.inputs]
        op = node.op
        if (
            isinstance(op, RandomVariable)
            and not isinstance(op.size_param(node).type, NoneTypeT)
            and len(op.ndims_params) > 1
            and all(n == 0 for n in op.ndims_params)
        ):
            rng, size, *params = inputs
            new_node = op.make_node(rng, size, *pt.broadcast_arrays(*params))
        elif any(new is not old for new, old in zip(inputs, node.inputs, strict=True)):
            new_node = node.clone_with_new_inputs(inputs, strict=False)
        else:
            continue
        for old, new in zip(node.outputs, new_node.outputs, strict=True):
            new.name = old.name
            memo[old] = new
    return [memo.get(o, o) for o in outputs], memo


class PriorPredictive:
    """Draws of a model's variables and observations under changeable priors.

    Parameters
    ----------
    structure : ModelStructure
        From :func:`~mi_workbench.models.inspection.inspect_model`.
    n_draws : int
        Number of joint prior draws per call.
    random_seed : int
        Seed of the fixed uniforms and of the compiled function's generators.
    x : dict of str -> str or array, optional
        Per observed variable, its x axis: the name of a one-dimensional ``pm.Data`` input, or
        an array of one value per observation. Default: the only floating-point ``pm.Data``
        input of the observation's length, else the observation index.
    n_grid : int
        Points of the mean curves when they can be drawn on a fine grid.

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> from mi_workbench.models.inspection import inspect_model
    >>> times = np.linspace(0.0, 4.0, 20)
    >>> with pm.Model() as model:
    ...     t = pm.Data("t", times)
    ...     rate = pm.Gamma("rate", alpha=2.0, beta=2.0)
    ...     y = pm.Normal("y", pm.math.exp(-rate * t), 0.05, observed=np.exp(-times))
    >>> predictive = PriorPredictive(inspect_model(model), n_draws=50)
    >>> draws = predictive.draws({"rate": Prior("Gamma", alpha=2.0, beta=2.0)})
    >>> draws.observed["y"].shape, draws.mean["y"].shape
    ((50, 20), (50, 100))
    """

    def __init__(
        self,
        structure: ModelStructure,
        *,
        n_draws: int = 100,
        random_seed: int = 0,
        x: Mapping[str, object] | None = None,
        n_grid: int = 100,
    ) -> None:
        self.structure = structure = _check_structure("structure", structure)
        self.n_draws = check_positive_int("n_draws", n_draws)
        self.random_seed = check_positive_int("random_seed", random_seed, minimum=0)
        n_grid = check_positive_int("n_grid", n_grid, minimum=2)
        if x is not None and not isinstance(x, Mapping):
            raise TypeError(
                "x must be a dict of observed variable name -> input name or array, or None, "
                f"got {_short(x)}"
            )
        x = dict(x or {})
        unknown = [name for name in x if name not in structure.observed]
        if unknown:
            raise ValueError(
                f"x names {unknown}, which are not observed variables shown; they are "
                f"{list(structure.observed)}"
            )
        self.axes = {
            name: _choose_axis(structure, name, x.get(name), n_grid) for name in structure.observed
        }
        rng = np.random.default_rng(self.random_seed)
        self._uniforms = {
            name: rng.uniform(_U_MARGIN, 1.0 - _U_MARGIN, size=(self.n_draws, *var.shape))
            for name, var in structure.free.items()
            if var.editable
        }
        self._cache: dict[str, tuple[Prior, np.ndarray]] = {}
        self._compile(n_grid)

    # ------------------------------------------------------------------ compile once
    def _compile(self, n_grid: int) -> None:
        import pytensor.tensor as pt
        from pymc.distributions.shape_utils import change_dist_size
        from pymc.pytensorf import compile as compile_pymc
        from pymc.pytensorf import find_rng_nodes, replace_rng_nodes
        from pytensor.graph.replace import graph_replace, vectorize_graph
        from pytensor.graph.traversal import ancestors

        model = self.structure.model
        editable = [model[name] for name in self.structure.editable]
        fixed = [rv for rv in model.free_RVs if rv.name not in self.structure.editable]
        observed_rvs = [model[name] for name in self.structure.observed]

        mean_outputs, mean_names, grid_inputs, grid_values = [], [], [], []
        for rv in observed_rvs:
            make_mean = _MEAN_OF_OBSERVED.get(_op_name(rv))
            if make_mean is None:
                continue
            mean = make_mean(*rv.owner.inputs[2:])
            axis = self.axes[rv.name]
            data_used = {v for v in ancestors([mean]) if v in set(model.data_vars)}
            if axis.is_input and data_used == {model[axis.name]}:
                low, high = float(axis.values.min()), float(axis.values.max())
                pad = 0.02 * (high - low)
                grid = np.linspace(low - pad, high + pad, n_grid)
                grid_input = pt.vector(f"{rv.name}_grid", dtype=model[axis.name].dtype)
                mean = graph_replace(mean, {model[axis.name]: grid_input}, strict=False)
                grid_inputs.append(grid_input)
                grid_values.append(grid.astype(model[axis.name].dtype))
                self.axes[rv.name] = PredictiveAxis(
                    axis.name, axis.values, grid, on_grid=True, is_input=True
                )
            mean_outputs.append(mean)
            mean_names.append(rv.name)

        outputs = [*fixed, *observed_rvs, *mean_outputs]
        outputs, memo = _with_broadcast_parameters(outputs)
        editable = [memo.get(rv, rv) for rv in editable]
        fixed = [memo.get(rv, rv) for rv in fixed]
        inputs = [
            pt.tensor(f"{rv.name}_draws", shape=(None, *rv.type.shape), dtype=rv.dtype)
            for rv in editable
        ]
        replace = dict(zip(editable, inputs, strict=True))
        # variables that depend on no editable one would otherwise be drawn once, not per draw
        batched: list = list(editable)
        for rv in fixed:
            if not set(ancestors([rv], blockers=batched)) & set(batched):
                replace[rv] = change_dist_size(rv, new_size=(self.n_draws,), expand=True)
            batched.append(rv)
        vectorized = vectorize_graph(outputs, replace=replace)
        vectorized = replace_rng_nodes(vectorized)  # our own generators, not the model's
        self._rngs = find_rng_nodes(vectorized)
        self._function = compile_pymc([*inputs, *grid_inputs], vectorized)
        self._grid_values = grid_values
        self._fixed_names = [rv.name for rv in fixed]
        self._observed_names = [rv.name for rv in observed_rvs]
        self._mean_names = mean_names

    # ------------------------------------------------------------------ draws
    def editable_draws(self, name: str, prior: Prior) -> np.ndarray:
        """Draws of editable variable ``name`` under ``prior`` (its quantiles at fixed uniforms)."""
        cached = self._cache.get(name)
        if cached is not None and cached[0] == prior:
            return cached[1]
        values = np.asarray(prior.ppf(self._uniforms[name]), dtype=float)
        self._cache[name] = (prior, values)
        return values

    def draws(self, priors: Mapping[str, Prior]) -> PriorDraws:
        """Joint prior draws with ``priors`` for the editable variables (all of them)."""
        from pymc.pytensorf import reseed_rngs

        model = self.structure.model
        missing = [name for name in self.structure.editable if name not in priors]
        if missing:
            raise ValueError(f"priors are missing for {missing}")
        editable_values = [
            self.editable_draws(name, priors[name]).astype(model[name].dtype)
            for name in self.structure.editable
        ]
        reseed_rngs(self._rngs, self.random_seed + 1)
        results = self._function(*editable_values, *self._grid_values)
        n_fixed, n_observed = len(self._fixed_names), len(self._observed_names)
        free = dict(zip(self.structure.editable, editable_values, strict=True))
        free.update(zip(self._fixed_names, results[:n_fixed], strict=True))
        observed = dict(
            zip(self._observed_names, results[n_fixed : n_fixed + n_observed], strict=True)
        )
        mean = {
            name: self._mean_over_axis(name, values)
            for name, values in zip(self._mean_names, results[n_fixed + n_observed :], strict=True)
        }
        return PriorDraws({k: free[k] for k in self.structure.free}, observed, mean)

    def _mean_over_axis(self, name: str, values: np.ndarray) -> np.ndarray:
        """The mean draws as (n_draws, len(grid)), ordered like the axis' grid."""
        axis = self.axes[name]
        values = np.asarray(values, dtype=float).reshape(self.n_draws, -1)
        if axis.on_grid:
            return np.broadcast_to(values, (self.n_draws, axis.grid.size))
        values = np.broadcast_to(values, (self.n_draws, axis.values.size))
        return values[:, np.argsort(axis.values, kind="stable")]
