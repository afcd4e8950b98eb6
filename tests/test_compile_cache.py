"""The disk cache of compiled models: a new process loads what another compiled, exactly."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pymc as pm
import pytest
from nutpie.compile_pymc import _compute_shapes

from mi_workbench.data import synthetic_cu2o_spectrum, virtual_alloys
from mi_workbench.inference import _compile_cache, fit
from mi_workbench.models import bayesian_linear_regression, exciton_spectrum_model

# A model with data containers of rank 0, 1 and 2, an integer index, a transform, dims and a
# deterministic: every path of the generated callbacks.
MODEL_SOURCE = textwrap.dedent(
    """
    import numpy as np
    import pymc as pm

    def grouped_regression(noise_prior=1.0, n_rows=20, observed_shift=0.0):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n_rows, 3))
        group = rng.integers(0, 2, n_rows)
        y = X @ np.array([1.0, -1.0, 0.5]) + 0.7 * group + 0.3 * rng.normal(size=n_rows)
        coords = {"feature": ["a", "b", "c"], "group": [0, 1]}
        with pm.Model(coords=coords) as model:
            X_data = pm.Data("X", X)
            group_data = pm.Data("group_index", group)
            scale = pm.Data("prior_scale", 2.0)
            beta = pm.Normal("beta", 0.0, scale, dims="feature")
            offset = pm.Normal("offset", 0.0, 1.0, dims="group")
            sd = pm.HalfNormal("sd", noise_prior)
            mu = pm.Deterministic("mu", X_data @ beta + offset[group_data])
            pm.Normal("y", mu, sd, observed=y + observed_shift)
        return model
    """
)
namespace: dict = {}
exec(MODEL_SOURCE, namespace)  # the same source as the child processes run
grouped_regression = namespace["grouped_regression"]

CHILD = MODEL_SOURCE + textwrap.dedent(
    """
    import hashlib, json, time
    import nutpie  # imported (arviz with it) before the clock starts
    from mi_workbench.inference import fit

    model = grouped_regression()
    cpu = time.process_time()
    first = fit(model, draws=150, tune=150, chains=1, random_seed=3, progressbar=False)
    cpu = time.process_time() - cpu
    rng = np.random.default_rng(5)
    with model:
        pm.set_data({"X": rng.normal(size=(20, 3)), "prior_scale": 0.5})
    second = fit(model, draws=150, tune=150, chains=1, random_seed=3, progressbar=False)

    def digest(idata):
        post = idata["posterior"]
        return hashlib.sha256(
            b"".join(post[name].values.tobytes() for name in ["beta", "offset", "sd", "mu"])
        ).hexdigest()

    print(json.dumps({
        "source": first["posterior"].attrs["compile_source"],
        "second_source": second["posterior"].attrs["compile_source"],
        "fit_cpu_seconds": cpu,
        "draws": digest(first),
        "draws_after_set_data": digest(second),
    }))
    """
)


def _run_child(compiledir, cache=True) -> dict:
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={compiledir}"}
    env["MI_WORKBENCH_COMPILE_CACHE"] = "1" if cache else "0"
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_new_process_loads_the_compiled_model_and_samples_exactly_as_nutpie(tmp_path):
    cold = _run_child(tmp_path / "compiledir")
    warm = _run_child(tmp_path / "compiledir")
    # nutpie's own compile, first with an empty PyTensor cache, then with a warm one (PyTensor's
    # cached graph functions round differently from freshly compiled ones: the draws differ)
    nutpie_cold = _run_child(tmp_path / "other", cache=False)
    nutpie_warm = _run_child(tmp_path / "other", cache=False)
    assert cold["source"] == "compiled" and warm["source"] == "disk cache"
    assert cold["second_source"] == warm["second_source"] == "memory"
    assert nutpie_warm["source"].startswith("compiled, cache switched off")
    # the same draws, bit for bit, as nutpie's own compile: before and after pm.set_data
    for mine, own in [(cold, nutpie_cold), (warm, nutpie_warm)]:
        assert mine["draws"] == own["draws"]
        assert mine["draws_after_set_data"] == own["draws_after_set_data"]
    assert warm["draws_after_set_data"] != warm["draws"]
    # a load, not a compile (CPU time, relative: a busy machine cannot break it)
    assert warm["fit_cpu_seconds"] < 0.25 * cold["fit_cpu_seconds"], (warm, cold)
    assert warm["fit_cpu_seconds"] < 0.25 * nutpie_warm["fit_cpu_seconds"], (warm, nutpie_warm)


def _fingerprint(model) -> str:
    return _compile_cache.model_fingerprint(model, _compute_shapes(model))


def test_the_fingerprint_follows_the_graph_not_the_data_values():
    base = _fingerprint(grouped_regression())
    assert _fingerprint(grouped_regression()) == base  # a second build of the same model
    assert _fingerprint(grouped_regression(noise_prior=2.0)) != base  # a prior's constant
    assert _fingerprint(grouped_regression(observed_shift=0.1)) != base  # constant observations
    assert _fingerprint(grouped_regression(n_rows=21)) != base  # data shapes
    model = grouped_regression()
    with model:
        pm.set_data({"X": np.ones((20, 3)), "prior_scale": 7.0})  # values of pm.Data: same code
    assert _fingerprint(model) == base
    unbounded = grouped_regression()
    unbounded.check_bounds = False
    assert _fingerprint(unbounded) != base


def test_the_fingerprint_sees_transforms():
    def model(transform):
        with pm.Model() as m:
            pm.HalfNormal("scale", 1.0, default_transform=transform)
        return m

    from pymc.distributions.transforms import log

    assert _fingerprint(model(log)) != _fingerprint(model(None))


def test_the_fingerprint_is_the_same_in_another_process():
    code = MODEL_SOURCE + textwrap.dedent(
        """
        from nutpie.compile_pymc import _compute_shapes
        from mi_workbench.inference import _compile_cache
        model = grouped_regression()
        print(_compile_cache.model_fingerprint(model, _compute_shapes(model)))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == _fingerprint(grouped_regression())


def test_the_lesson_models_can_be_cached():
    data = virtual_alloys(n_alloys=30, random_seed=0)
    X = data[["valence_electron_concentration", "mean_electronegativity"]].to_dataframe()
    regression = bayesian_linear_regression(X, data["transformation_temperature_k"].values)
    cu2o = exciton_spectrum_model(synthetic_cu2o_spectrum())
    assert _fingerprint(regression) != _fingerprint(cu2o)
    assert _fingerprint(exciton_spectrum_model(synthetic_cu2o_spectrum())) == _fingerprint(cu2o)


def test_a_python_logp_is_not_cached_and_still_samples():
    def logp(value, mu):
        return -0.5 * (value - mu) ** 2

    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.CustomDist("y", mu, logp=logp, observed=np.array([0.3, -0.2, 0.5]))
    idata = fit(model, draws=100, tune=100, chains=1, progressbar=False)
    assert idata["posterior"].attrs["compile_source"].startswith("compiled, not cacheable")
    assert "CustomDist_y" in idata["posterior"].attrs["compile_source"]


@pytest.fixture()
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(_compile_cache, "cache_dir", lambda: tmp_path / "models")
    return tmp_path / "models"


def _draws(compiled, seed=1):
    import nutpie

    trace = nutpie.sample(compiled, draws=60, tune=60, chains=1, seed=seed, progress_bar=False)
    return trace.posterior["beta"].values


def test_a_damaged_cache_entry_is_compiled_again(private_cache):
    from pytensor.link.numba.cache import NUMBA_CACHE_PATH

    first, source = _compile_cache.compile_pymc_model(grouped_regression(noise_prior=1.5))
    assert source == "compiled"
    (meta,) = private_cache.glob("*.json")
    key = meta.stem
    loaded, source = _compile_cache.compile_pymc_model(grouped_regression(noise_prior=1.5))
    assert source == "disk cache"
    np.testing.assert_array_equal(_draws(loaded), _draws(first))

    # numba's machine code cut short: the entry is compiled again, not an error
    for path in NUMBA_CACHE_PATH.glob(f"*-mi_workbench_{key}_*.nbc"):
        path.write_bytes(path.read_bytes()[:100])
    again, source = _compile_cache.compile_pymc_model(grouped_regression(noise_prior=1.5))
    assert source == "compiled"
    np.testing.assert_array_equal(_draws(again), _draws(first))

    # a description that is not JSON, or of another model
    meta.write_text("{not json")
    assert _compile_cache.compile_pymc_model(grouped_regression(noise_prior=1.5))[1] == "compiled"
    meta.write_text(json.dumps({"key": "another"}))
    assert _compile_cache.compile_pymc_model(grouped_regression(noise_prior=1.5))[1] == "compiled"
    assert _compile_cache.compile_pymc_model(grouped_regression(noise_prior=1.5))[1] == "disk cache"


def test_the_cache_can_be_switched_off(monkeypatch, private_cache):
    monkeypatch.setenv("MI_WORKBENCH_COMPILE_CACHE", "0")
    _, source = _compile_cache.compile_pymc_model(grouped_regression(noise_prior=1.7))
    assert source.startswith("compiled, cache switched off")
    assert not private_cache.exists()
