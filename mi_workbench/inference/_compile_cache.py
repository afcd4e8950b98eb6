"""A disk cache of nutpie's compiled models: a new kernel loads a model it has compiled before.

Why this is the workbench's own code: nutpie compiles a PyMC model into two numba C callbacks
(log density with its gradient, and the expansion of a point to every trace variable). The
callbacks close over the model's functions and data, so numba cannot keep them on disk, and
before every compile PyTensor rewrites the model's graph again (19 s of the 28 s that the Cu2O
model of lesson 03 takes on a 2-core machine; the rest is numba compiling nutpie's callbacks).
PyTensor's own numba cache keeps only the inner graph functions, which take well under a
second to load. No library caches the whole compiled model (PyTensor 3.3, nutpie 0.16).

Here the two callbacks are generated as source without closures, named after a fingerprint of
the model, and compiled with numba's cache switched on, in PyTensor's cache directory (through
PyTensor's cache locator). What nutpie needs besides the callbacks (the sizes and names of the
flat parameter vector, the order of the data containers) is written beside them as JSON. A model
whose fingerprint has been compiled before is then loaded without PyTensor's rewrites and
without numba's compiler.

The fingerprint is a SHA-256 of everything the compiled functions depend on: the model's graph
(every Op by class and properties, every constant by its bytes, every input by type), the
transforms, the observed values, the shapes of all variables and data containers, and the
versions of Python, PyMC, PyTensor, nutpie, numba and NumPy. It is conservative: a model with an
Op or a transform that cannot be identified by value (an Op class created at run time, as
``pm.CustomDist`` does, or one from a package other than PyTensor, PyMC and mi_workbench) is not
cached and is compiled by nutpie as before. For mi_workbench's own classes the source file of
their module is part of the fingerprint, so an edit of the code invalidates the entry.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import tempfile
import threading
import types
import warnings
from pathlib import Path

import numpy as np

#: bump when the generated callbacks or the metadata change
_FORMAT_VERSION = 2
_PACKAGES = ("pymc", "pytensor", "nutpie", "numba", "numpy", "llvmlite")
_TRUSTED_PACKAGES = ("pytensor", "pymc", "mi_workbench", "numpy", "builtins", "scipy")
_ENV_SWITCH = "MI_WORKBENCH_COMPILE_CACHE"


class Uncacheable(Exception):
    """The model holds something the fingerprint cannot identify by value."""


# ----------------------------------------------------------------------------------------------
# fingerprint


def _qualified(obj) -> tuple[str, str]:
    return getattr(obj, "__module__", None) or "", getattr(obj, "__qualname__", "")


def _top_package(module: str) -> str:
    return module.split(".", 1)[0]


_SOURCE_HASHES: dict[str, str] = {}


def _module_source_hash(module: str) -> str:
    if module not in _SOURCE_HASHES:
        path = inspect.getsourcefile(sys.modules[module])
        _SOURCE_HASHES[module] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return _SOURCE_HASHES[module]


def _class_key(cls: type) -> list:
    module, qualname = _qualified(cls)
    if _top_package(module) not in _TRUSTED_PACKAGES:
        raise Uncacheable(f"{module}.{qualname} comes from outside PyTensor, PyMC and mi_workbench")
    found = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not cls:
        raise Uncacheable(f"class {qualname} was created at run time (not importable by name)")
    key = ["class", module, qualname]
    if _top_package(module) == "mi_workbench":
        key.append(_module_source_hash(module))
    return key


def _function_key(fn) -> list:
    module, qualname = _qualified(fn)
    if _top_package(module) not in _TRUSTED_PACKAGES:
        raise Uncacheable(f"function {module}.{qualname} comes from outside PyTensor and PyMC")
    code = getattr(fn, "__code__", None)
    if code is None:  # a builtin or a ufunc: identified by its name
        return ["builtin", module, qualname or repr(fn)]
    cells = [_value_key(cell.cell_contents) for cell in fn.__closure__ or ()]
    defaults = [_value_key(value) for value in fn.__defaults__ or ()]
    return ["function", module, qualname, _code_hash(code), cells, defaults]


def _code_hash(code: types.CodeType) -> str:
    """Hash of a function's byte code and constants (nested functions' code included)."""
    digest = hashlib.sha256(code.co_code)
    for const in code.co_consts:
        text = _code_hash(const) if isinstance(const, types.CodeType) else repr(const)
        digest.update(text.encode())
    digest.update(repr(code.co_names).encode())
    return digest.hexdigest()


def _array_key(array: np.ndarray) -> list:
    if array.dtype.hasobject:
        raise Uncacheable("an array constant holds Python objects")
    data = np.ascontiguousarray(array)
    return ["array", data.dtype.str, list(data.shape), hashlib.sha256(data.tobytes()).hexdigest()]


def _value_key(value):
    """A JSON-able key that is equal for two values exactly when they are equal."""
    from pytensor.graph.basic import Constant, Variable
    from pytensor.graph.fg import FunctionGraph
    from pytensor.graph.op import Op
    from pytensor.graph.type import Type

    if value is None or isinstance(value, (bool, str)):
        return [type(value).__name__, value]
    if isinstance(value, (int, float, complex)):
        return [type(value).__name__, repr(value)]
    if isinstance(value, (np.ndarray, np.generic)):
        return _array_key(np.asarray(value))
    if isinstance(value, np.dtype):
        return ["dtype", value.str]
    if isinstance(value, (tuple, list)):
        return [type(value).__name__, [_value_key(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", sorted([str(k), _value_key(v)] for k, v in value.items())]
    if isinstance(value, slice):
        return ["slice", [_value_key(value.start), _value_key(value.stop), _value_key(value.step)]]
    if isinstance(value, type):
        return _class_key(value)
    if isinstance(value, Op):
        return _op_key(value)
    if isinstance(value, Type):
        return _type_key(value)
    if isinstance(value, FunctionGraph):
        return ["fgraph", _GraphFingerprint(value.inputs).add_outputs(value.outputs)]
    if isinstance(value, Constant):
        return ["constant", _type_key(value.type), _value_key(value.data)]
    if isinstance(value, Variable):
        raise Uncacheable(f"a graph variable {value} is stored outside the graph")
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, np.ufunc)):
        return _function_key(value)
    if isinstance(value, (types.MethodType, types.BuiltinMethodType)):
        return ["method", _value_key(value.__self__), value.__name__]
    if hasattr(value, "__dict__") and not callable(value):  # e.g. a transform: class and state
        state = sorted([name, _value_key(item)] for name, item in vars(value).items())
        return ["object", _class_key(type(value)), state]
    raise Uncacheable(f"cannot identify a {type(value).__name__} by value")


def _state_key(obj) -> list:
    """Class and state of an Op or a Type: its ``__props__`` (PyTensor's own notion of equality)
    or else every attribute."""
    props = getattr(obj, "__props__", None)
    if props is not None:
        fields = [[name, _value_key(getattr(obj, name))] for name in props]
    else:
        fields = sorted([name, _value_key(value)] for name, value in vars(obj).items())
    return [_class_key(type(obj)), fields]


def _op_key(op) -> list:
    return ["op", *_state_key(op)]


def _type_key(type_) -> list:
    return ["type", *_state_key(type_)]


class _GraphFingerprint:
    """Numbers the variables of a graph and describes every node by its Op and input numbers."""

    def __init__(self, inputs=()):
        self.ids: dict = {}
        self.records: list = []
        for variable in inputs:
            self._root(variable, ["input", _type_key(variable.type)])

    def _root(self, variable, record) -> int:
        self.ids[variable] = len(self.ids)
        self.records.append(["root", self.ids[variable], record])
        return self.ids[variable]

    def _describe_root(self, variable) -> list:
        from pytensor.compile.sharedvalue import SharedVariable
        from pytensor.graph.basic import Constant
        from pytensor.tensor.random.type import RandomType

        if isinstance(variable, Constant):
            return ["constant", _type_key(variable.type), _value_key(variable.data)]
        if isinstance(variable.type, RandomType):  # the draws' generator: no part of a density
            return ["rng", _type_key(variable.type)]
        if isinstance(variable, SharedVariable):
            value = variable.get_value(borrow=True)
            return ["shared", variable.name, _type_key(variable.type), list(np.shape(value))]
        return ["input", variable.name, _type_key(variable.type)]

    def ref(self, variable) -> int:
        if variable not in self.ids:
            if variable.owner is not None:
                self.add_outputs([variable])
            else:
                self._root(variable, self._describe_root(variable))
        return self.ids[variable]

    def add_outputs(self, outputs) -> list:
        from pytensor.graph.traversal import toposort

        for node in toposort([v for v in outputs if v not in self.ids]):
            if node.outputs[0] in self.ids:
                continue
            inputs = [self.ref(variable) for variable in node.inputs]
            outs = []
            for variable in node.outputs:
                self.ids[variable] = len(self.ids)
                outs.append([self.ids[variable], _type_key(variable.type)])
            self.records.append(["node", _op_key(node.op), inputs, outs])
        return [self.ref(variable) for variable in outputs]


def _versions() -> dict:
    from importlib.metadata import version

    import pytensor

    return {
        "format": _FORMAT_VERSION,
        "python": list(sys.version_info[:3]),
        **{name: version(name) for name in _PACKAGES},
        "floatX": pytensor.config.floatX,
        "fastmath": bool(pytensor.config.numba__fastmath),
    }


def model_fingerprint(model, shapes: dict) -> str:
    """SHA-256 of what nutpie's compiled ``model`` depends on; raises :class:`Uncacheable`."""
    graph = _GraphFingerprint()
    parts: dict = {"versions": _versions(), "check_bounds": bool(model.check_bounds)}
    parts["free"] = [
        [
            rv.name,
            graph.ref(rv),
            graph.ref(model.rvs_to_values[rv]),
            _value_key(model.rvs_to_transforms.get(rv)),
        ]
        for rv in model.free_RVs
    ]
    parts["observed"] = [
        [rv.name, graph.ref(rv), graph.ref(model.rvs_to_values[rv])] for rv in model.observed_RVs
    ]
    parts["deterministics"] = [[v.name, graph.ref(v)] for v in model.deterministics]
    parts["potentials"] = [[v.name, graph.ref(v)] for v in model.potentials]
    parts["shapes"] = sorted([name, [int(n) for n in shape]] for name, shape in shapes.items())
    parts["graph"] = graph.records
    text = json.dumps(parts, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------------------------
# generated callbacks

_LOGP_SOURCE = """
def mi_workbench_logp(dim, x_, out_, logp_, user_data_):
    if dim != N_DIM:
        return -1
    try:
        x = numba.carray(x_, (N_DIM,))
        out = numba.carray(out_, (N_DIM,))
        logp = numba.carray(logp_, ())
        shared = numba.carray(user_data_, (), USER_DATA)["shared"]
{extract}
        logp_val, grad = logp_fn(x{args})
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:  # noqa: BLE001
        return 1
    return 0
"""

_EXPAND_SOURCE = """
def mi_workbench_expand(dim, expanded, x_, out_, user_data_):
    if dim != N_DIM:
        return -1
    if expanded != N_EXPANDED:
        return -1
    try:
        x = numba.carray(x_, (N_DIM,))
        out = numba.carray(out_, (N_EXPANDED,))
        shared = numba.carray(user_data_, (), USER_DATA)["shared"]
{extract}
        (values,) = expand_fn(x{args})
        out[...] = values
    except Exception:  # noqa: BLE001
        return -2
    return 0
"""


def _extract_lines(keys: list[str], ndims: dict[str, int]) -> tuple[str, str]:
    lines = []
    for key in keys:
        shape = ", ".join(f'int(shared["shape"]["{key}"][{i}])' for i in range(ndims[key]))
        lines.append(
            f"        {key} = numba.carray(address_as_void_pointer("
            f'shared["data"]["{key}"][()]), int(shared["size"]["{key}"][()]), DTYPE_{key})'
            f".reshape(({shape}{',' if ndims[key] == 1 else ''}))"
        )
    args = "".join(f", {key}" for key in keys)
    return "\n".join(lines) or "        pass", args


def _callback(kind: str, key: str, env: dict, meta: dict):
    """The numba C callback ``kind`` ('logp' or 'expand'), from the cache when it is there."""
    import numba
    from pytensor.link.numba.cache import compile_numba_function_src

    keys = meta[f"{kind}_shared"]
    extract, args = _extract_lines(keys, meta["shared_ndim"])
    source = (_LOGP_SOURCE if kind == "logp" else _EXPAND_SOURCE).format(extract=extract, args=args)
    name = f"mi_workbench_{kind}"
    function = compile_numba_function_src(
        source, name, global_env=env, cache_key=f"mi_workbench_{key}_{kind}"
    )
    double_p = numba.types.CPointer(numba.types.double)
    if kind == "logp":
        sig = numba.types.int64(
            numba.types.uint64, double_p, double_p, double_p, numba.types.voidptr
        )
    else:
        sig = numba.types.int64(
            numba.types.uint64, numba.types.uint64, double_p, double_p, numba.types.voidptr
        )
    return numba.cfunc(sig, cache=True)(function)


def _environment(meta: dict, data: tuple) -> dict:
    import numba
    from nutpie.compile_pymc import address_as_void_pointer

    env = {
        "__name__": __name__,  # numba re-imports the module of a cached function's globals
        "numba": numba,
        "np": np,
        "address_as_void_pointer": address_as_void_pointer,
        "N_DIM": meta["n_dim"],
        "N_EXPANDED": meta["n_expanded"],
        "USER_DATA": data[2].dtype,
    }
    env.update({f"DTYPE_{k}": value.dtype for k, value in data[0].items()})
    return env


# ----------------------------------------------------------------------------------------------
# the cache


def cache_dir() -> Path:
    """Where compiled models are described (their machine code is in PyTensor's numba cache)."""
    import pytensor

    return Path(pytensor.config.base_compiledir) / "mi_workbench_models"


def enabled() -> bool:
    """False when the environment variable ``MI_WORKBENCH_COMPILE_CACHE`` is ``0``."""
    return os.environ.get(_ENV_SWITCH, "1") != "0"


def _read_meta(key: str) -> dict | None:
    path = cache_dir() / f"{key}.json"
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("key") == key else None


def _write_meta(meta: dict) -> None:
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(meta, handle)
        os.replace(tmp, directory / f"{meta['key']}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _forget(key: str) -> None:
    """Delete what the cache holds under ``key`` (a damaged or stale entry heals this way)."""
    from pytensor.link.numba.cache import NUMBA_CACHE_PATH

    (cache_dir() / f"{key}.json").unlink(missing_ok=True)
    for path in Path(NUMBA_CACHE_PATH).glob(f"*-mi_workbench_{key}_*"):
        path.unlink(missing_ok=True)


def _shared_by_name(model) -> dict:
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.traversal import graph_inputs

    outputs = [*model.basic_RVs, *model.deterministics, *model.potentials]
    outputs += [model.rvs_to_values[rv] for rv in model.basic_RVs]
    found: dict = {}
    for variable in graph_inputs(outputs):
        if isinstance(variable, SharedVariable) and variable.name is not None:
            if found.setdefault(variable.name, variable) is not variable:
                raise Uncacheable(f"two data containers are named {variable.name!r}")
    return found


def _initial_point_function(model):
    from nutpie.compile_pymc import _wrap_with_lock
    from pymc.initial_point import make_initial_point_fn

    return _wrap_with_lock(
        make_initial_point_fn(
            model=model,
            default_strategy="support_point",
            jitter_rvs=set(model.free_RVs),
            return_transformed=True,
        )
    )


def _assemble(model, meta, callbacks, data, initial_point_fn, functions=(None, None)):
    """nutpie's compiled model from the two callbacks, the data state of :func:`_data_state`,
    PyMC's initial-point function and (when just compiled) the two PyTensor functions."""
    from nutpie.compile_pymc import (
        CompiledPyMCModel,
        _prepare_dims_and_coords,
        _rv_dict_to_flat_array_wrapper,
    )

    names, slices, shapes = (
        meta["names"],
        [slice(a, b) for a, b in meta["slices"]],
        [tuple(s) for s in meta["shapes"]],
    )
    shape_info = (names, slices, shapes)
    shared_data, shared_var_keys, user_data = data
    n_free = meta["n_free_variables"]
    initial_point = _rv_dict_to_flat_array_wrapper(
        initial_point_fn, names=names[:n_free], shapes=shapes[:n_free]
    )
    dims, coords = _prepare_dims_and_coords(model, shape_info, meta["reparameterized_names"])
    return CompiledPyMCModel(
        _n_dim=meta["n_dim"],
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, shape in zip(names, shapes, strict=True)},
        compiled_logp_func=callbacks[0],
        compiled_expand_func=callbacks[1],
        initial_point_func=initial_point,
        shared_data=shared_data,
        shared_var_keys=shared_var_keys,
        user_data=user_data,
        n_expanded=meta["n_expanded"],
        shape_info=shape_info,
        logp_func=functions[0],
        expand_func=functions[1],
        reparameterized_names=meta["reparameterized_names"],
    )


def _data_state(shared_vars: dict) -> tuple[dict, dict, np.ndarray]:
    """As nutpie keeps them: the data arrays by key (s0, s1, ...), the key of each data
    container, and the record of their addresses and shapes that the callbacks read."""
    from nutpie.compile_pymc import make_user_data

    shared_data, shared_var_keys = {}, {}
    for key, variable in shared_vars.items():
        value = np.array(variable.get_value(), order="C", copy=True)
        value.flags.writeable = False
        shared_data[key] = value
        shared_var_keys[variable] = key
    return shared_data, shared_var_keys, make_user_data(shared_var_keys, shared_data)


def _load(model, key: str, meta: dict):
    """The compiled model from the cache, or None when any part of it is missing."""
    by_name = _shared_by_name(model)
    if not set(meta["shared_names"].values()) <= set(by_name):
        return None
    data = _data_state({k: by_name[name] for k, name in meta["shared_names"].items()})
    env = _environment(meta, data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logp_cb = _callback("logp", key, dict(env), meta)
            expand_cb = _callback("expand", key, dict(env), meta)
    except Exception:  # noqa: BLE001 - not in numba's cache: the functions are not defined here
        return None
    if not (logp_cb.cache_hits and expand_cb.cache_hits):
        return None
    return _assemble(model, meta, (logp_cb, expand_cb), data, _initial_point_function(model))


def _compile(model, key: str):
    """Compile ``model`` as nutpie does, with callbacks that numba keeps on disk; describe it."""
    from nutpie.compile_pymc import _make_functions

    initial_point_fn = _initial_point_function(model)
    n_dim, n_expanded, logp_pt, expand_pt, _, shape_info, reparameterized = _make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=initial_point_fn,
    )
    order = []
    for variable in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if variable not in order:
            order.append(variable)
    if any(variable.name is None for variable in order):
        raise Uncacheable("a data container of the model has no name")
    keys = {variable: f"s{i}" for i, variable in enumerate(order)}
    names, slices, shapes = shape_info
    meta = {
        "key": key,
        "n_dim": int(n_dim),
        "n_expanded": int(n_expanded),
        "n_free_variables": len(model.free_RVs),
        "names": list(names),
        "slices": [[int(s.start), int(s.stop)] for s in slices],
        "shapes": [[int(n) for n in shape] for shape in shapes],
        "reparameterized_names": list(reparameterized),
        "shared_names": {keys[v]: v.name for v in order},
        "shared_ndim": {keys[v]: int(v.type.ndim) for v in order},
        "logp_shared": [keys[v] for v in logp_pt.get_shared()],
        "expand_shared": [keys[v] for v in expand_pt.get_shared()],
    }
    data = _data_state({keys[v]: v for v in order})
    env = _environment(meta, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        logp_cb = _callback("logp", key, {**env, "logp_fn": logp_pt.vm.jit_fn}, meta)
        expand_cb = _callback("expand", key, {**env, "expand_fn": expand_pt.vm.jit_fn}, meta)
    compiled = _assemble(
        model, meta, (logp_cb, expand_cb), data, initial_point_fn, (logp_pt, expand_pt)
    )
    try:
        _write_meta(meta)
    except OSError as error:
        warnings.warn(
            f"the compiled model could not be stored in {cache_dir()} ({error}); a new kernel "
            "will compile it again",
            RuntimeWarning,
            stacklevel=4,
        )
    return compiled


_LOCK = threading.Lock()


def compile_pymc_model(model):
    """``nutpie.compile_pymc_model(model)``, loaded from the disk cache when it has been compiled.

    Returns
    -------
    (compiled, source)
        nutpie's compiled model and where it came from: ``"disk cache"``, ``"compiled"`` (and
        stored) or ``"compiled, not cacheable: <reason>"``.
    """
    import nutpie
    from nutpie.compile_pymc import _compute_shapes

    if not enabled():
        return nutpie.compile_pymc_model(model), f"compiled, cache switched off ({_ENV_SWITCH}=0)"
    with _LOCK:
        try:
            key = model_fingerprint(model, _compute_shapes(model))
            meta = _read_meta(key)
            if meta is not None:
                loaded = _load(model, key, meta)
                if loaded is not None:
                    return loaded, "disk cache"
            _forget(key)
            return _compile(model, key), "compiled"
        except Uncacheable as reason:
            return nutpie.compile_pymc_model(model), f"compiled, not cacheable: {reason}"
        except Exception as error:  # noqa: BLE001 - a damaged cache must not stop a fit
            warnings.warn(
                f"the compile cache failed ({type(error).__name__}: {error}); the model is "
                f"compiled without it. Clearing {cache_dir()} may help.",
                RuntimeWarning,
                stacklevel=3,
            )
            return nutpie.compile_pymc_model(model), f"compiled, cache failed: {error}"
