"""The general panels on a user's own PyMC models, driven from Python as a user would.

Three model shapes: a physical model of a one-dimensional measurement (a Lorentzian line on a
sloping background), a hierarchical model (group offsets under a shared scale), and a model with
a vector parameter (a polynomial). None of them is a model the package builds.
"""

from __future__ import annotations

import html
import threading
import time

import numpy as np
import pymc as pm
import pytest

from mi_workbench.models import Prior
from mi_workbench.widgets import (
    ModelPosteriorPanel,
    ModelPriorPanel,
    PosteriorPanel,
    PriorPanel,
)


def lorentzian_line_model(n_points: int = 120, seed: int = 0) -> pm.Model:
    """A peak at 520 on a linear background, counts-like noise: y = G(x; Theta) + noise."""
    rng = np.random.default_rng(seed)
    shift = np.linspace(490.0, 550.0, n_points)
    truth = 200.0 + 0.5 * (shift - 520.0) + 1000.0 / (1.0 + ((shift - 520.5) / 2.0) ** 2)
    counts = truth + rng.normal(0.0, 15.0, n_points)
    with pm.Model() as model:
        x = pm.Data("shift", shift)
        centre = pm.Normal("centre", 520.0, 3.0)
        width = pm.LogNormal("width", np.log(2.0), 0.5)
        height = pm.Gamma("height", alpha=4.0, beta=0.004)
        baseline = pm.Normal("baseline", 200.0, 50.0)
        slope = pm.Laplace("slope", 0.0, 1.0)
        noise = pm.HalfStudentT("noise", nu=4.0, sigma=20.0)
        mean = baseline + slope * (x - 520.0) + height / (1.0 + ((x - centre) / width) ** 2)
        pm.Normal("counts", mean, noise, observed=counts)
    return model


def hierarchical_model(seed: int = 1) -> pm.Model:
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(4), 10)
    values = rng.normal(np.array([0.0, 0.5, -0.3, 1.0])[groups], 0.3)
    with pm.Model(coords={"lab": ["A", "B", "C", "D"]}) as model:
        lab = pm.Data("lab_index", groups)
        mu = pm.Normal("mu", 0.0, 2.0)
        tau = pm.HalfNormal("tau", 1.0)
        offset = pm.Normal("offset", mu, tau, dims="lab")
        sigma = pm.Exponential("sigma", 2.0)
        pm.Normal("y", offset[lab], sigma, observed=values)
    return model


def polynomial_model(seed: int = 2) -> pm.Model:
    rng = np.random.default_rng(seed)
    t = np.linspace(-1.0, 1.0, 30)
    values = 0.5 + t - 0.8 * t**2 + rng.normal(0.0, 0.1, t.size)
    with pm.Model(coords={"power": [0, 1, 2]}) as model:
        temperature = pm.Data("temperature", t)
        beta = pm.StudentT("beta", nu=5.0, mu=0.0, sigma=1.0, dims="power")
        sigma = pm.HalfNormal("sigma", 0.5)
        design = pm.math.stack([temperature**0, temperature, temperature**2], axis=1)
        pm.Normal("y", pm.math.dot(design, beta), sigma, observed=values)
    return model


def _y(trace) -> np.ndarray:
    return np.array(trace.y, dtype=float)


# ---------------------------------------------------------------------------- prior panels
def test_physical_model_gets_one_control_group_per_prior_from_its_distribution():
    panel = PriorPanel(lorentzian_line_model())
    assert isinstance(panel, ModelPriorPanel) and isinstance(panel, PriorPanel)
    assert list(panel.controls) == ["centre", "width", "height", "baseline", "slope", "noise"]
    assert panel.priors["height"] == Prior("Gamma", alpha=4.0, beta=0.004)
    assert panel.priors["noise"] == Prior("HalfStudentT", nu=4.0, sigma=20.0)
    assert set(panel.controls["noise"].sliders) == {"nu", "sigma"}
    # the family can switch only within the variable's support
    assert "Normal" not in panel.controls["width"].family.options
    assert {"Gamma", "HalfNormal", "LogNormal"} <= set(panel.controls["width"].family.options)
    assert "HalfNormal" not in panel.controls["slope"].family.options
    # one density subplot per free variable, and the predictive over the 1-D input
    assert [t.name for t in panel.density_figure.data] == list(panel.controls)
    fig = panel.predictive_figure
    assert [t.name for t in fig.data] == [
        "90% predictive",
        "90% predictive (low)",
        "prior draws",
        "data",
    ]
    assert fig.layout.xaxis.title.text == "shift"
    x_lines = np.array(fig.data[2].x, dtype=float)
    assert np.nanmin(x_lines) < 490.0 and np.nanmax(x_lines) > 550.0  # mean curves on a grid


def test_moving_a_control_changes_density_and_predictive_without_compiling(monkeypatch):
    panel = PriorPanel(lorentzian_line_model())
    density = _y(panel.density_figure.data[1])
    band_high = _y(panel.predictive_figure.data[0])
    lines = _y(panel.predictive_figure.data[2])

    import pymc.pytensorf

    def no_compile(*args, **kwargs):
        raise AssertionError("a control change compiled a function")

    monkeypatch.setattr(pymc.pytensorf, "compile", no_compile)
    compiled = panel.predictive._function
    panel.controls["width"].sliders["sigma"].value = 1.0
    assert panel.error == ""
    assert panel.priors["width"] == Prior("LogNormal", mu=np.log(2.0), sigma=1.0)
    assert not np.allclose(_y(panel.density_figure.data[1]), density)
    assert not np.allclose(_y(panel.predictive_figure.data[2]), lines, equal_nan=True)
    # the band of new data follows the noise prior
    panel.set_prior("noise", sigma=200.0)
    assert np.nanmean(_y(panel.predictive_figure.data[0])) > np.nanmean(band_high) + 50
    panel.set_prior("noise", family="HalfNormal")  # family switch: no compile either
    assert panel.priors["noise"].family == "HalfNormal"
    assert panel.predictive._function is compiled
    panel.view_selector.value = "histogram"
    assert [t.name for t in panel.predictive_figure.data] == ["prior predictive", "data"]


def test_elicit_from_python_and_from_the_statement_boxes():
    panel = PriorPanel(lorentzian_line_model())
    prior = panel.elicit("centre", 515.0, 525.0, mass=0.9)
    assert prior.mass_between(515.0, 525.0) == pytest.approx(0.9, abs=0.01)
    assert panel.priors["centre"] is prior or panel.priors["centre"] == prior
    controls = panel.controls["width"]
    controls.lower.value, controls.upper.value, controls.mass.value = "1", "4", "0.95"
    controls.fit_button.click()
    assert panel.error == ""
    assert panel.priors["width"].family == "LogNormal"
    assert panel.priors["width"].mass_between(1.0, 4.0) == pytest.approx(0.95, abs=0.01)
    gamma = panel.elicit("width", 1.0, 4.0, family="Gamma")
    assert gamma.family == "Gamma" and controls.family.value == "Gamma"
    # a statement a family cannot meet: message in the panel, exception from Python, no change
    before = panel.priors
    controls.family.value = "HalfNormal"
    half = panel.priors["width"]
    controls.lower.value, controls.upper.value, controls.mass.value = "5", "6", "0.9"
    controls.fit_button.click()
    assert "prior of 'width'" in panel.error and "cannot put 0.9" in panel.error
    assert panel.priors["width"] == half
    with pytest.raises(ValueError, match="prior of 'width'.*cannot put 0.9"):
        panel.elicit("width", 5.0, 6.0)
    assert {k: v for k, v in panel.priors.items() if k != "width"} == {
        k: v for k, v in before.items() if k != "width"
    }


def test_hierarchical_model_draws_the_group_offsets_from_the_scale():
    panel = PriorPanel(hierarchical_model())
    assert list(panel.controls) == ["mu", "tau", "sigma"]
    assert "offset[lab]" in html.unescape(panel.notes.value)
    assert "depend on ['mu', 'tau']" in html.unescape(panel.notes.value)
    with pytest.raises(ValueError, match="prior of 'offset' cannot be edited.*depend on"):
        panel.set_prior("offset", sigma=1.0)
    offset_trace = panel.density_figure.data[2]
    assert offset_trace.name == "offset" and offset_trace.line.shape == "hv"  # a histogram
    spread = np.ptp(np.array(offset_trace.x, dtype=float))
    panel.set_prior("tau", sigma=5.0)
    assert np.ptp(np.array(panel.density_figure.data[2].x, dtype=float)) > 2 * spread
    # the only input of the observations' length is the group index: it is the x axis
    assert panel.predictive_figure.layout.xaxis.title.text == "lab_index"
    draws = panel.draws.free["offset"]
    assert draws.shape == (panel.predictive.n_draws, 4)


def test_vector_parameter_shares_one_prior_and_to_model_keeps_dims():
    model = polynomial_model()
    panel = PriorPanel(model)
    assert panel.structure.free["beta"].shape == (3,)
    panel.set_prior("beta", sigma=0.5)
    assert panel.to_code().splitlines()[0] == (
        'beta = pm.StudentT("beta", nu=5, mu=0, sigma=0.5, dims="power")'
    )
    new = panel.to_model()
    assert new is not model and new is panel.to_model()  # cached per set of priors
    assert new.named_vars_to_dims["beta"] == ("power",)
    assert np.all(new["beta"].owner.inputs[-1].eval() == 0.5)
    assert [rv.name for rv in new.observed_RVs] == ["y"]
    np.testing.assert_array_equal(new["temperature"].get_value(), model["temperature"].get_value())
    panel.set_prior("beta", sigma=1.0)
    assert panel.to_model() is model  # back to the model's own priors


def test_a_model_with_an_unusual_prior_is_kept_fixed_on_request():
    with pm.Model() as model:
        weights = pm.Dirichlet("weights", a=np.ones(3))
        scale = pm.HalfNormal("scale", 1.0)
        pm.Normal("y", weights[0] * 3.0, scale, observed=[1.0, 1.2, 0.8])
    with pytest.raises(ValueError, match="'weights' has a Dirichlet prior.*fixed=\\['weights'\\]"):
        PriorPanel(model)
    panel = PriorPanel(model, fixed=["weights"])
    assert list(panel.controls) == ["scale"]
    assert "kept as in the model" in panel.notes.value


def test_bad_models_get_messages_naming_the_variable():
    with pm.Model() as empty:
        pm.Data("x", [1.0, 2.0])
    with pytest.raises(ValueError, match="no free random variables"):
        PriorPanel(empty)
    with pytest.raises(ValueError, match="observed variable 'intensity' is not in the model.*'y'"):
        PriorPanel(hierarchical_model(), observed=["intensity"])
    with pytest.raises(ValueError, match="fixed names \\['rate'\\]"):
        PriorPanel(hierarchical_model(), fixed=["rate"])
    with pytest.raises(ValueError, match="x='time' is not a one-dimensional pm.Data input"):
        PriorPanel(hierarchical_model(), x={"y": "time"})
    with pytest.raises(ValueError, match="observed must be one of"):
        PosteriorPanel(hierarchical_model(), observed="intensity")
    with pytest.raises(TypeError, match="xarray.DataTree with a 'posterior' group"):
        PosteriorPanel.from_idata({"posterior": None})


# ---------------------------------------------------------------------------- posterior panels
@pytest.fixture(scope="module")
def sampled():
    prior_panel = PriorPanel(polynomial_model())
    panel = PosteriorPanel(prior_panel, draws=300, tune=300, chains=2, random_seed=3)
    assert isinstance(panel, ModelPosteriorPanel)
    assert panel.sample() is panel.idata
    return prior_panel, panel


def test_posterior_panel_samples_checks_and_draws_every_view(sampled):
    _, panel = sampled
    assert panel.error == "", panel.error
    assert {"posterior", "posterior_predictive", "log_likelihood", "log_prior", "prior"} <= set(
        panel.idata.children
    )
    beta = panel.idata["posterior"]["beta"].mean(("chain", "draw")).values
    np.testing.assert_allclose(beta, [0.5, 1.0, -0.8], atol=0.25)
    assert panel.diagnostics is not None and "R-hat" in panel.diagnostics_html.value
    for view in (
        "marginals",
        "pair",
        "trace",
        "rank",
        "fit",
        "ppc",
        "loo_pit",
        "loo",
        "sensitivity",
    ):
        panel.view_selector.value = view
        assert panel.error == "", (view, panel.error)
        assert len(panel.figure.data) > 0, view
        assert panel.widget.children[5].children[0] is panel.figure
    panel.view_selector.value = "loo"
    assert "elpd_loo" in panel.view_notes.value and "Pareto k" in panel.view_notes.value
    assert panel.loo is not None and np.asarray(panel.loo.pareto_k).size == 30
    panel.view_selector.value = "sensitivity"
    assert "Power-scaling" in panel.view_notes.value
    panel.view_selector.value = "fit"
    assert [t.name for t in panel.figure.data][-1] == "data"
    assert panel.figure.layout.xaxis.title.text == "temperature"


def test_posterior_summary_exports(sampled, tmp_path):
    _, panel = sampled
    table = panel.summary_table()
    assert {"parameter", "mean", "sd", "r_hat", "ess_bulk"} <= set(table.columns)
    assert "beta[0]" in set(table["parameter"])
    path = panel.export_summary(tmp_path / "summary.csv")
    import pandas as pd

    assert list(pd.read_csv(path)["parameter"]) == list(table["parameter"])


def test_sampling_never_blocks_and_cancel_keeps_the_earlier_posterior(sampled):
    prior_panel, panel = sampled
    earlier = panel.idata
    earlier_model = panel.model
    panel.draws, panel.tune = 200_000, 1000  # long enough to cancel in the middle
    try:
        panel.sample_button.click()  # what a click does: a background thread
        assert panel.is_sampling and panel.sample_button.disabled
        assert not panel.cancel_button.disabled
        # the calling thread is free: it does other work while the sampler runs
        work_done = 0
        deadline = time.monotonic() + 300
        while panel.progress.value <= 0.0 and time.monotonic() < deadline:
            work_done += sum(range(1000))
            time.sleep(0.05)
        assert panel.is_sampling, panel.message.value
        assert work_done > 0 and panel.progress.value > 0.0
        assert "sampling" in panel.activity.value
        panel.cancel_button.click()
        panel.wait(timeout=300)
    finally:
        panel.draws, panel.tune = 300, 300
    assert not panel.is_sampling and not panel.sample_button.disabled
    assert "Cancelled" in panel.message.value and "previous results are kept" in panel.message.value
    assert panel.idata is earlier and panel.model is earlier_model
    assert panel.progress.bar_style == "warning"
    # a changed prior is announced; the next sampling uses it
    prior_panel.set_prior("sigma", sigma=0.2)
    assert "changed since" in panel.status.value
    prior_panel.set_prior("sigma", sigma=0.5)


def test_compiling_is_announced_with_the_time_elapsed():
    panel = PosteriorPanel(hierarchical_model(), draws=100, tune=100)
    seen = []
    panel.activity.observe(lambda change: seen.append(change["new"]), names="value")
    panel.sample(background=True)
    panel.wait(timeout=600)
    assert panel.idata is not None, panel.message.value
    assert any("compiling the model" in text and " s<" in text for text in seen), seen


def test_from_idata_shows_a_posterior_the_user_already_has(sampled):
    _, sampled_panel = sampled
    model = polynomial_model()
    with model:
        idata = pm.sample(
            draws=200,
            tune=200,
            chains=2,
            random_seed=4,
            progressbar=False,
            compute_convergence_checks=False,
        )
    panel = PosteriorPanel.from_idata(idata, model)
    assert panel.idata is idata and "log_likelihood" in idata.children
    panel.view_selector.value = "loo_pit"
    assert panel.error == ""
    bare = PosteriorPanel.from_idata(idata.copy().drop_nodes(["log_likelihood", "log_prior"]))
    assert bare.sample_button.disabled
    bare.view_selector.value = "loo"
    assert "needs the group(s) ['log_likelihood']" in bare.error
    bare.view_selector.value = "trace"
    assert bare.error == ""


def test_one_background_sampling_at_a_time():
    panel = PosteriorPanel(polynomial_model(), draws=100, tune=100)
    gate = threading.Event()

    def slow_work(cancel, on_progress, on_stage):
        gate.wait(30)
        raise RuntimeError("stopped by the test")

    panel._launch(slow_work, lambda outcome: None, background=True)
    panel.sample()
    assert "already running" in panel.error
    gate.set()
    panel.wait(timeout=60)
    assert "Sampling failed: stopped by the test" in panel.error
    assert panel.idata is None


def test_the_browser_rounding_a_slider_to_its_steps_changes_no_prior():
    panel = PriorPanel(polynomial_model())
    before = panel.priors
    slider = panel.controls["sigma"].sliders["sigma"]  # a log slider
    slider.value = 10 ** (round(np.log10(0.5) / slider.step) * slider.step + 0.3 * slider.step)
    assert panel.priors == before
    slider.value = 10 ** (np.log10(0.5) + slider.step)  # one key press
    assert panel.priors["sigma"].sigma == pytest.approx(0.5 * 10**slider.step)
    mu = panel.controls["beta"].sliders["mu"]
    mu.value = 0.2 * mu.step
    assert panel.priors["beta"].mu == 0.0


# ---------------------------------------------------------------------------- more model shapes
def _every_family_model() -> tuple[pm.Model, dict]:
    """One free variable per family the panels edit, all feeding one observation."""
    from mi_workbench.models import FAMILIES

    with pm.Model() as model:
        total = 0.0
        for family in FAMILIES:
            prior = Prior(family)
            variable = prior.to_pymc(f"v_{family}")
            total = total + 0.01 * variable
        pm.Normal("y", total, 1.0, observed=np.zeros(5))
    from test_priors import STATEMENTS  # tests/ is on sys.path (pytest prepend mode)

    statements = {f"v_{family}": STATEMENTS[family] for family in FAMILIES}
    return model, statements


def test_elicit_in_the_panel_meets_the_mass_for_every_family():
    model, statements = _every_family_model()
    panel = PriorPanel(model)
    assert len(panel.controls) == len(statements)
    for name, (lower, upper, mass) in statements.items():
        family = panel.priors[name].family
        if family == "Uniform":  # its bounds are the variable's range: nothing to elicit
            with pytest.raises(ValueError, match="nothing is left to elicit"):
                panel.elicit(name, 0.2, 0.6)
            continue
        controls = panel.controls[name]
        controls.lower.value, controls.upper.value = str(lower), str(upper)
        controls.mass.value = str(mass)
        controls.fit_button.click()
        assert panel.error == "", (name, panel.error)
        prior = panel.priors[name]
        assert prior.family == family
        assert abs(prior.mass_between(lower, upper) - mass) <= 0.01, (name, prior)


def poisson_model() -> pm.Model:
    rng = np.random.default_rng(5)
    exposure = np.linspace(1.0, 10.0, 25)
    with pm.Model() as model:
        seconds = pm.Data("exposure_s", exposure)
        rate = pm.Gamma("rate", alpha=2.0, beta=1.0)
        pm.Poisson("events", rate * seconds, observed=rng.poisson(1.5 * exposure))
    return model


def two_observations_model() -> pm.Model:
    rng = np.random.default_rng(6)
    temperature = np.linspace(300.0, 600.0, 40)
    with pm.Model() as model:
        t = pm.Data("temperature_k", temperature)
        ea = pm.TruncatedNormal("ea_ev", 0.5, 0.2, lower=0.0)
        prefactor = pm.Uniform("log_prefactor", 0.0, 10.0)
        fraction = pm.Beta("fraction", 2.0, 5.0)
        s1 = pm.InverseGamma("s1", 3.0, 1.0)
        s2 = pm.Weibull("s2", 2.0, 1.0)
        offset = pm.Cauchy("offset", 0.0, 1.0)
        rate = pm.math.exp(prefactor - ea / (8.617e-5 * t))
        pm.Normal("rate_obs", rate * fraction + offset, s1, observed=rng.normal(1.0, 0.1, 40))
        pm.StudentT("aux", nu=3.0, mu=offset, sigma=s2, observed=rng.normal(0.0, 1.0, 10))
    return model


def matrix_model() -> pm.Model:
    """A model whose coords use the name 'sample', which ArviZ also uses internally."""
    rng = np.random.default_rng(7)
    with pm.Model(coords={"sample": range(5), "wavelength": range(8)}) as model:
        a = pm.Normal("a", 0.0, 1.0, dims="sample")
        b = pm.HalfCauchy("b", 1.0)
        pm.Normal(
            "y",
            a[:, None] * np.ones((5, 8)),
            b,
            observed=rng.normal(size=(5, 8)),
            dims=("sample", "wavelength"),
        )
    return model


def test_models_of_other_shapes_get_working_prior_panels():
    two = PriorPanel(two_observations_model())
    assert two.observed_selector.layout.display is None  # two observed variables: a menu
    assert two.controls["ea_ev"].fixed_note.value.count("lower = 0") == 1  # bound shown, fixed
    assert "TruncatedNormal" in two.controls["log_prefactor"].family.options
    two.observed_selector.value = "aux"
    assert [t.name for t in two.predictive_figure.data][-1] == "data"
    two.set_prior("log_prefactor", family="TruncatedNormal")
    assert two.priors["log_prefactor"].support == (0.0, 10.0)
    with pytest.raises(ValueError, match="nothing is left to elicit"):
        two.elicit("log_prefactor", 2.0, 4.0, family="Uniform")
    matrix = PriorPanel(matrix_model())
    assert matrix.predictive_figure.layout.xaxis.title.text == "observation"
    assert len(matrix.predictive_figure.data[-1].y) == 40
    counts = PriorPanel(poisson_model())
    assert counts.predictive_figure.layout.xaxis.title.text == "exposure_s"


def test_a_prior_that_makes_the_likelihood_undefined_is_shown_not_refused():
    # shot noise: sd = scale * sqrt(mean), NaN whenever a prior draw makes the mean negative
    rng = np.random.default_rng(4)
    shift = np.linspace(500.0, 540.0, 60)
    counts = 400.0 + 1e4 / (1.0 + ((shift - 520.7) / 2.0) ** 2)
    counts = counts + rng.normal(0.0, 0.5 * np.sqrt(counts))
    with pm.Model() as model:
        x = pm.Data("shift", shift)
        base = pm.Normal("base", 400.0, 300.0)
        height = pm.LogNormal("height", np.log(1e4), 2.0)
        scale = pm.HalfNormal("noise_scale", 2.0)
        mean = base + height / (1.0 + ((x - 520.7) / 2.0) ** 2)
        pm.Normal("counts", mean, scale * pm.math.sqrt(mean), observed=counts)
    panel = PriorPanel(model)
    assert "not finite" in panel.predictive_figure.layout.title.text
    panel.set_prior("base", mu=400.0, sigma=1.0)  # no draw below zero any more
    assert "not finite" not in panel.predictive_figure.layout.title.text
    panel.view_selector.value = "histogram"
    panel.set_prior("base", mu=-2000.0, sigma=1.0)  # every mean negative somewhere
    assert "not finite" in panel.predictive_figure.layout.title.text


@pytest.mark.parametrize("make_model", [poisson_model, matrix_model], ids=["poisson", "matrix"])
def test_posterior_views_on_models_of_other_shapes(make_model):
    panel = PosteriorPanel(make_model(), draws=150, tune=150)
    panel.sample()
    assert panel.error == "", panel.error
    for view in ("marginals", "trace", "rank", "fit", "ppc", "loo_pit", "loo", "sensitivity"):
        panel.view_selector.value = view
        assert panel.error == "", (view, panel.error)
    if make_model is poisson_model:
        panel.view_selector.value = "ppc"
        assert "rootogram" in panel.view_notes.value
    # the model's own dim names stay in the panel's idata
    if make_model is matrix_model:
        assert "sample" in panel.idata["posterior"]["a"].dims
