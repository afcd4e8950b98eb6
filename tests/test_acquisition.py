"""Tests of acquisition functions and batch selection (Kriging believer, Thompson, KG)."""

import numpy as np
import pytest

from mi_workbench.design.acquisition import (
    _expected_max_gain,
    acquisition_name,
    confidence_bound,
    expected_improvement,
    exploit,
    explore,
    knowledge_gradient,
    probability_in_interval,
    probability_of_improvement,
    score_candidates,
    select_batch,
    thompson_sampling,
)
from mi_workbench.design.surrogates import GaussianProcessSurrogate

MEANS = np.array([-1.0, 0.0, 0.3, 1.5, 2.0])
SDS = np.array([0.5, 1.0, 0.2, 2.0, 0.1])


def test_expected_and_probability_of_improvement_match_monte_carlo():
    rng = np.random.default_rng(0)
    f = MEANS[:, None] + SDS[:, None] * rng.standard_normal((5, 400_000))
    best, xi = 0.4, 0.1
    ei_mc = np.maximum(best - xi - f, 0).mean(1)
    pi_mc = (f < best - xi).mean(1)
    np.testing.assert_allclose(expected_improvement(MEANS, SDS, best, xi=xi), ei_mc, atol=5e-3)
    np.testing.assert_allclose(
        probability_of_improvement(MEANS, SDS, best, xi=xi), pi_mc, atol=3e-3
    )
    ei_max = np.maximum(f - best, 0).mean(1)
    np.testing.assert_allclose(
        expected_improvement(MEANS, SDS, best, minimize=False), ei_max, atol=5e-3
    )


def test_confidence_bound_is_a_quantile_and_interval_probability_matches_monte_carlo():
    rng = np.random.default_rng(1)
    f = MEANS[:, None] + SDS[:, None] * rng.standard_normal((5, 400_000))
    lcb = -confidence_bound(MEANS, SDS, kappa=1.0)
    np.testing.assert_allclose((f < lcb[:, None]).mean(1), 0.1587, atol=3e-3)
    ucb = confidence_bound(MEANS, SDS, minimize=False, kappa=1.0)
    np.testing.assert_allclose((f > ucb[:, None]).mean(1), 0.1587, atol=3e-3)
    p = probability_in_interval(MEANS, SDS, 0.0, 1.0)
    np.testing.assert_allclose(p, ((f >= 0) & (f <= 1)).mean(1), atol=3e-3)


def test_zero_sd_limits():
    assert expected_improvement([1.0, -1.0], [0.0, 0.0], 0.0).tolist() == [0.0, 1.0]
    assert probability_of_improvement([1.0, -1.0], [0.0, 0.0], 0.0).tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "function, params",
    [
        (expected_improvement, {"xi": 0.05}),
        (probability_of_improvement, {}),
        (confidence_bound, {"kappa": 1.5}),
        (exploit, {}),
        (explore, {}),
    ],
)
def test_minimize_and_maximize_are_mirror_images(function, params):
    best = 0.2
    low = function(MEANS, SDS, best, minimize=True, **params)
    high = function(-MEANS, SDS, -best, minimize=False, **params)
    np.testing.assert_allclose(low, high)


@pytest.fixture(scope="module")
def toy_problem():
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, (15, 2))
    y = ((X - 0.35) ** 2).sum(1) + 0.01 * rng.standard_normal(15)
    grid = rng.uniform(0, 1, (3000, 2))
    gp = GaussianProcessSurrogate(random_seed=0).fit(X, y)
    return X, y, grid, gp


def test_select_batch_is_symmetric_under_minimize_and_negated_objective(toy_problem):
    X, y, grid, gp = toy_problem
    # the standardised likelihood is the same for y and -y, so both fits agree
    idx_min, s_min = select_batch("gp", grid, X, y, "ei", 3, minimize=True)
    idx_max, s_max = select_batch("gp", grid, X, -y, "ei", 3, minimize=False)
    np.testing.assert_array_equal(idx_min, idx_max)
    np.testing.assert_allclose(s_min, s_max, rtol=1e-5)


@pytest.mark.parametrize("acquisition", ["ei", "lcb", "pi", "explore"])
def test_kriging_believer_batch_is_distinct_and_starts_at_the_best_score(toy_problem, acquisition):
    X, y, grid, gp = toy_problem
    idx, scores = select_batch(gp, grid, X, y, acquisition, 5, refit=False)
    assert len(set(idx.tolist())) == 5
    first = score_candidates(gp, grid, acquisition, y.min())
    assert idx[0] == np.argmax(first)
    assert scores[0] == pytest.approx(first.max())


def test_kriging_believer_shortlist_gives_the_same_batch_as_full_rescoring(toy_problem):
    X, y, grid, gp = toy_problem
    short = select_batch(gp, grid, X, y, "ei", 6, refit=False, shortlist_size=1)
    full = select_batch(gp, grid, X, y, "ei", 6, refit=False, shortlist_size=10**6)
    np.testing.assert_array_equal(short[0], full[0])
    np.testing.assert_allclose(short[1], full[1])


def test_kriging_believer_steps_use_the_fake_observation(toy_problem):
    X, y, grid, gp = toy_problem
    idx, _ = select_batch(gp, grid, X, y, "explore", 2, refit=False)
    updated = gp.condition_on(grid[idx[:1]], gp.predict(grid[idx[:1]])[0])
    assert idx[1] == np.argmax(updated.predict(grid)[1] * (np.arange(len(grid)) != idx[0]))


@pytest.mark.parametrize("n_candidates", [500, 3000])
def test_thompson_batch_is_distinct_and_reproducible(toy_problem, n_candidates):
    X, y, grid, gp = toy_problem
    grid = np.vstack([grid, grid])[:n_candidates]
    idx, scores = select_batch(gp, grid, X, y, "thompson_sampling", 6, refit=False, rng=3)
    assert len(set(idx.tolist())) == 6
    again, _ = select_batch(gp, grid, X, y, "ts", 6, refit=False, rng=3)
    np.testing.assert_array_equal(idx, again)
    # each draw picks a candidate near the true minimum (0.35, 0.35) most of the time
    assert np.median(np.linalg.norm(grid[idx] - 0.35, axis=1)) < 0.25


def test_thompson_scores_are_one_posterior_draw(toy_problem):
    _, _, grid, gp = toy_problem
    scores = thompson_sampling(gp, grid[:300], rng=0)
    draw = gp.sample(grid[:300], 1, rng=0)[0]
    np.testing.assert_allclose(scores, -draw)


def test_exact_expected_max_matches_monte_carlo():
    rng = np.random.default_rng(2)
    a = rng.normal(size=40)
    b = rng.normal(size=40)
    z = rng.standard_normal(200_000)
    mc = np.mean(np.max(a[:, None] + b[:, None] * z[None, :], axis=0))
    assert _expected_max_gain(a, b) == pytest.approx(mc - a.max(), abs=0.01)
    assert _expected_max_gain(a, np.zeros(40)) == 0.0


def test_knowledge_gradient_prefers_informative_points():
    # measured densely on [0, 0.3], nothing beyond: measuring in the unexplored part is worth
    # more than repeating a measurement where the function is already known
    X = np.linspace(0, 0.3, 12)[:, None]
    y = np.cos(3 * X[:, 0])
    gp = GaussianProcessSurrogate(noise_sd=0.02, random_seed=0).fit(X, y)
    grid = np.linspace(0, 1, 101)[:, None]
    kg = knowledge_gradient(gp, grid)
    assert np.all(kg >= 0)
    assert grid[np.argmax(kg), 0] > 0.3
    assert kg[np.argmax(kg)] > 10 * kg[:25].max()


def test_knowledge_gradient_on_a_large_set_uses_a_subsample(toy_problem):
    X, y, grid, gp = toy_problem
    kg = knowledge_gradient(gp, grid, max_exact=200, rng=0)
    assert np.isfinite(kg).sum() == 200
    idx, _ = select_batch(
        gp, grid, X, y, "kg", 2, refit=False, rng=0, acquisition_params={"max_exact": 200}
    )
    assert len(set(idx.tolist())) == 2


def test_ties_are_broken_by_the_lowest_index():
    X = np.array([[0.0], [1.0]])
    gp = GaussianProcessSurrogate(random_seed=0).fit(X, [0.0, 1.0])
    candidates = np.array([[0.9], [0.1], [0.9], [0.1]])  # two pairs of identical candidates
    idx, _ = select_batch(gp, candidates, X, [0.0, 1.0], "exploit", 2, refit=False)
    assert idx.tolist() == [1, 3]
    assert acquisition_name("UCB") == "confidence_bound"


def test_chunked_scores_equal_one_block(toy_problem):
    _, y, grid, gp = toy_problem
    a = score_candidates(gp, grid, "ei", y.min())
    b = score_candidates(gp, grid, "ei", y.min(), chunk_size=7)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-15)


def test_exclude_keeps_measured_candidates_out(toy_problem):
    X, y, grid, gp = toy_problem
    first, _ = select_batch(gp, grid, X, y, "ei", 1, refit=False)
    idx, _ = select_batch(gp, grid, X, y, "ei", 3, refit=False, exclude=first)
    assert first[0] not in idx


def test_bad_inputs_raise_clear_errors(toy_problem):
    X, y, grid, gp = toy_problem
    with pytest.raises(ValueError, match="unknown acquisition 'best_guess'"):
        select_batch(gp, grid, X, y, "best_guess", 2)
    with pytest.raises(ValueError, match="batch_size=6 is larger than the 5 candidates"):
        select_batch(gp, grid[:5], X, y, "ei", 6)
    y_bad = y.copy()
    y_bad[2] = np.nan
    with pytest.raises(ValueError, match="y_observed contains NaN at position 2"):
        select_batch("gp", grid, X, y_bad, "ei", 2)
    with pytest.raises(ValueError, match="same number of rows"):
        select_batch("gp", grid, X, y[:-1], "ei", 2)
    with pytest.raises(ValueError, match="X_observed has 2 columns but X_candidates has 3"):
        select_batch("gp", np.ones((10, 3)), X, y, "ei", 2)
    with pytest.raises(ValueError, match="needs acquisition='thompson_sampling'"):
        select_batch(gp, grid, X, y, "ei", 2, method="thompson")
    with pytest.raises(ValueError, match="method must be one of"):
        select_batch(gp, grid, X, y, "ei", 2, method="greedy")
    with pytest.raises(ValueError, match="low < high"):
        probability_in_interval(MEANS, SDS, 2.0, 1.0)
    with pytest.raises(ValueError, match="kappa"):
        confidence_bound(MEANS, SDS, kappa=-1.0)


def test_knowledge_gradient_is_finite_for_noise_free_repeats_of_observed_points():
    from mi_workbench.design.surrogates import GaussianProcessSurrogate

    X = np.array([[0.0], [0.25], [0.5], [0.75], [1.0]])
    gp = GaussianProcessSurrogate(noise_sd=1e-6).fit(X, np.sin(6 * X[:, 0]))
    candidates = np.vstack([X, np.linspace(0, 1, 41)[:, None]])
    kg = knowledge_gradient(gp, candidates, noise_sd=0.0)
    _, sd = gp.predict(candidates)
    assert np.all(np.isfinite(kg))
    assert kg.max() <= 3 * sd.max()  # the gain cannot exceed a few posterior sds
    assert np.all(kg[: len(X)] <= 1e-6)
