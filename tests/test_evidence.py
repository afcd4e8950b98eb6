"""Model evidence against the analytic evidence of a conjugate Gaussian linear model."""

import numpy as np
import pymc as pm
import pytest
from scipy import stats

from mi_workbench.inference import EvidenceResult, evidence, select_model, temperature_ladder
from mi_workbench.models.regression import bayesian_linear_regression

NOISE_SD = 0.3
PRIOR_SD = 1.0
TOLERANCE_NATS = 0.3


def _design(n: int = 30, n_coefficients: int = 3) -> np.ndarray:
    x = np.linspace(-1.0, 1.0, n)
    return np.column_stack([x**j for j in range(n_coefficients)])


def _linear_model(X: np.ndarray, y: np.ndarray) -> pm.Model:
    """y ~ N(X b, s^2 I) with b ~ N(0, t^2 I) and s known."""
    with pm.Model() as model:
        coefficients = pm.Normal("b", 0.0, PRIOR_SD, shape=X.shape[1])
        pm.Normal("y", X @ coefficients, NOISE_SD, observed=y)
    return model


def _analytic_log_evidence(X: np.ndarray, y: np.ndarray) -> float:
    """Marginally y ~ N(0, s^2 I + t^2 X X^T)."""
    covariance = NOISE_SD**2 * np.eye(len(y)) + PRIOR_SD**2 * X @ X.T
    return float(stats.multivariate_normal(np.zeros(len(y)), covariance).logpdf(y))


@pytest.fixture(scope="module")
def conjugate():
    rng = np.random.default_rng(7)
    X = _design(30, 3)
    y = X @ np.array([0.5, 1.2, -0.4]) + NOISE_SD * rng.standard_normal(30)
    return _linear_model(X, y), _analytic_log_evidence(X, y)


def test_smc_matches_analytic_evidence(conjugate):
    model, exact = conjugate
    result = evidence(model, "smc", draws=1000, chains=4, cores=1, random_seed=1)
    assert isinstance(result, EvidenceResult)
    assert abs(result.log_evidence - exact) < TOLERANCE_NATS
    assert result.chain_log_evidence.shape == (4,)
    assert 0 < result.stderr < TOLERANCE_NATS
    assert result.free_energy == -result.log_evidence
    assert result.idata is not None and "posterior" in result.idata.children


@pytest.mark.parametrize(
    ("estimator", "moves"),
    [
        ("stepping_stone", "componentwise"),
        ("thermodynamic", "componentwise"),
        ("stepping_stone", "joint"),
    ],
)
def test_exchange_matches_analytic_evidence(conjugate, estimator, moves):
    model, exact = conjugate
    draws = 1500 if moves == "componentwise" else 3000
    result = evidence(
        model, "exchange", estimator=estimator, moves=moves, draws=draws, chains=4, random_seed=1
    )
    assert abs(result.log_evidence - exact) < TOLERANCE_NATS
    assert result.details["moves"] == moves
    assert 0 < result.stderr < TOLERANCE_NATS
    assert not result.warnings
    details = result.details
    assert details["betas"][0] == 0.0 and details["betas"][-1] == 1.0
    assert np.all((details["acceptance_rates"] > 0.1) & (details["acceptance_rates"] < 0.5))
    assert np.all(details["swap_rates"] > 0.3)


def test_exchange_single_run_uses_batch_means_and_is_seeded(conjugate):
    model, exact = conjugate
    first = evidence(model, "exchange", draws=1000, chains=1, random_seed=3)
    again = evidence(model, "exchange", draws=1000, chains=1, random_seed=3)
    assert first.log_evidence == again.log_evidence
    assert "batch means" in first.stderr_method and np.isfinite(first.stderr)
    assert abs(first.log_evidence - exact) < 3 * TOLERANCE_NATS


def test_methods_agree_with_transformed_parameters():
    """Unknown noise (a log-transformed parameter): the Jacobian must sit in the prior part."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    y = X @ np.array([1.0, -0.5]) + 0.5 * rng.normal(size=40) + 2.0
    model = bayesian_linear_regression(X, y)
    smc = evidence(model, "smc", draws=1000, chains=2, cores=1, random_seed=1)
    exchange = evidence(model, "exchange", draws=2000, chains=2, random_seed=1)
    assert abs(smc.log_evidence - exchange.log_evidence) < TOLERANCE_NATS


@pytest.mark.parametrize("method", ["exchange", "smc"])
def test_ordered_transform_starts_inside_its_support(method):
    """Prior draws that violate an ordered transform (as for sorted peak positions) are rejected.

    With ``means`` ordered and y_i ~ N((m1 + m2) / 2, 1), the evidence of the prior restricted to
    the ordered half-plane equals that of the unrestricted prior by symmetry: y ~ N(0, I + J / 2).
    """
    y = np.random.default_rng(7).normal(size=20)
    with pm.Model() as model:
        means = pm.Normal(
            "means",
            0.0,
            1.0,
            shape=2,
            transform=pm.distributions.transforms.ordered,
            initval=[-0.1, 0.1],
        )
        pm.Normal("y", means.mean(), 1.0, observed=y)
    exact = stats.multivariate_normal(np.zeros(20), np.eye(20) + 0.5).logpdf(y)
    result = evidence(model, method, draws=800, chains=2, cores=1, random_seed=0)
    assert abs(result.log_evidence - exact) < TOLERANCE_NATS


def test_coarse_ladder_is_reported(conjugate):
    model, _ = conjugate
    result = evidence(model, "exchange", n_temperatures=3, beta_min=1e-4, draws=300, chains=2)
    assert any("n_temperatures" in text for text in result.warnings)
    assert "n_temperatures" in result.summary_text()


@pytest.mark.parametrize("method", ["exchange", "smc"])
def test_select_model_prefers_the_true_number_of_coefficients(method):
    rng = np.random.default_rng(11)
    X = _design(30, 3)
    y = X[:, :2] @ np.array([0.5, 1.2]) + NOISE_SD * rng.standard_normal(30)
    models = {f"{k} coefficients": _linear_model(X[:, :k], y) for k in (1, 2, 3)}
    exact = {f"{k} coefficients": _analytic_log_evidence(X[:, :k], y) for k in (1, 2, 3)}
    assert max(exact, key=exact.get) == "2 coefficients"  # the data favour the truth

    settings = {"draws": 1500} if method == "exchange" else {"draws": 800, "cores": 1}
    table = select_model(models, method, random_seed=0, chains=2, **settings)
    assert table.index[0] == "2 coefficients"
    assert table.loc["2 coefficients", "best"] and table["best"].sum() == 1
    assert list(table["log_evidence"]) == sorted(table["log_evidence"], reverse=True)
    assert table["probability"].sum() == pytest.approx(1.0)
    assert table.loc["2 coefficients", "probability"] > 0.5
    np.testing.assert_allclose(table["free_energy"], -table["log_evidence"])
    for name, value in exact.items():
        assert abs(table.loc[name, "log_evidence"] - value) < TOLERANCE_NATS
    assert table.loc["3 coefficients", "n_parameters"] == 3
    assert (table["n_observations"] == 30).all()
    assert table["bic"].idxmin() == "2 coefficients"
    assert table.attrs["method"] == method


def test_warm_up_adapts_the_ladder_to_equal_swap_rates(conjugate):
    """The default ladder starts geometric and moves its temperatures to equalise swap rates."""
    model, _ = conjugate
    result = evidence(model, "exchange", n_temperatures=12, draws=600, chains=2, random_seed=0)
    betas = result.details["betas"]
    assert betas[0] == 0.0 and betas[-1] == 1.0 and np.all(np.diff(betas) > 0)
    assert not np.allclose(betas, temperature_ladder(12, 1e-6))
    rates = result.details["swap_rates"]
    assert rates.max() - rates.min() < 0.35

    # The barrier rule itself: all rejection in the last pair pulls temperatures there.
    from mi_workbench.inference.evidence import _adapted_ladder

    old = temperature_ladder(6, 1e-4)
    new = _adapted_ladder(old, np.array([0.0, 0.0, 0.0, 0.0, 0.9]))
    assert new[0] == 0.0 and new[-1] == 1.0 and np.all(np.diff(new) > 0)
    assert np.sum(new > old[-2]) >= 3


def test_ladder_is_geometric():
    betas = temperature_ladder(5, 1e-3)
    assert betas[0] == 0.0 and betas[-1] == 1.0
    np.testing.assert_allclose(betas[2:] / betas[1:-1], 10.0 ** (3 / 3))
    np.testing.assert_array_equal(temperature_ladder(2, 0.1), [0.0, 1.0])


def test_result_repr_and_html(conjugate):
    model, _ = conjugate
    result = evidence(model, "exchange", draws=300, chains=2, random_seed=0)
    assert f"{result.log_evidence:.3f}" in repr(result)
    page = result._repr_html_()
    assert "free energy" in page and f"{result.log_evidence:.4f}" in page


def test_bad_input_gives_clear_errors(conjugate):
    model, _ = conjugate
    with pytest.raises(ValueError, match=r"method must be one of \['smc', 'exchange'\]"):
        evidence(model, "nested")
    with pytest.raises(ValueError, match="n_temperatures must be >= 2, got 1"):
        evidence(model, "exchange", n_temperatures=1)
    with pytest.raises(ValueError, match=r"moves must be one of \['componentwise', 'joint'\]"):
        evidence(model, "exchange", moves="gibbs")
    with pytest.raises(ValueError, match="beta_min must be < 1"):
        evidence(model, "exchange", beta_min=1.5)
    with pytest.raises(ValueError, match="chains must be >= 1"):
        evidence(model, "exchange", chains=0)
    with pytest.raises(TypeError, match="model must be a pymc.Model"):
        evidence("my model")

    with pm.Model() as prior_only:
        pm.Normal("b", 0.0, 1.0)
    with pytest.raises(ValueError, match="no observed data"):
        evidence(prior_only, "exchange")
    with pytest.raises(ValueError, match="model 'prior only': model has no observed data"):
        select_model({"prior only": prior_only, "ok": model})

    with pm.Model() as improper:
        b = pm.Flat("b")
        pm.Normal("y", b, 1.0, observed=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"improper .* priors on \['b'\]"):
        evidence(improper, "smc")

    with pytest.raises(TypeError, match="models must be a dict"):
        select_model([model])
    with pytest.raises(ValueError, match="models is empty"):
        select_model({})
    with pytest.raises(ValueError, match="method must be one of"):
        select_model({"m": model}, method="laplace")


def test_select_model_bic_uses_a_likelihood_at_least_the_evidence():
    """Z = integral of L times the prior <= L_max, so log L_max >= log Z for every model.

    ``pm.find_MAP`` alone stops in a poor mode of a multimodal peak posterior; the table must
    then take the best likelihood the evidence sampler met.
    """
    from mi_workbench.data import synthetic_peak_spectrum
    from mi_workbench.models import peak_model

    ds = synthetic_peak_spectrum(n_peaks=2, peak_height_to_noise=8, random_seed=4)
    models = {f"K={k}": peak_model(ds, k, ordered_positions=False) for k in (1, 2)}
    table = select_model(
        models, "exchange", random_seed=1, n_temperatures=16, draws=200, tune=200, chains=2
    )
    assert (table["log_likelihood_max"] >= table["log_evidence"]).all(), table
    assert table.index[0] == "K=2"
