"""Tests of elicitation (PreliZ maxent behind ``elicit``) and family conversion of priors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mi_workbench.models import ELICIT_TOLERANCE, FAMILIES, Prior, elicit, families_for_support

#: An expert's statement per family: an interval inside its support and the mass asked.
#: One-parameter families on the positive half-line are asked about an interval from 0.
STATEMENTS = {
    "Normal": (1.0, 3.0, 0.9),
    "StudentT": (1.0, 3.0, 0.9),
    "Laplace": (-2.0, 5.0, 0.8),
    "Cauchy": (-1.0, 1.0, 0.7),
    "HalfNormal": (0.0, 2.0, 0.9),
    "HalfStudentT": (0.0, 2.0, 0.9),
    "HalfCauchy": (0.0, 2.0, 0.9),
    "Exponential": (0.0, 2.0, 0.9),
    "Gamma": (1.0, 5.0, 0.9),
    "InverseGamma": (1.0, 3.0, 0.9),
    "LogNormal": (0.5, 4.0, 0.95),
    "Weibull": (1.0, 3.0, 0.9),
    "Beta": (0.2, 0.6, 0.9),
    "Uniform": (2.0, 4.0, 0.9),
    "TruncatedNormal": (1.0, 3.0, 0.9),
}


def test_every_family_has_a_statement():
    assert set(STATEMENTS) == set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_elicited_prior_puts_the_asked_mass_in_the_interval(family):
    lower, upper, mass = STATEMENTS[family]
    prior = elicit(family, lower, upper, mass=mass)
    assert prior.family == family
    achieved = prior.mass_between(lower, upper)
    assert abs(achieved - mass) <= ELICIT_TOLERANCE, (prior, achieved)
    # the SciPy mass agrees with an independent Monte Carlo estimate from the prior's draws
    draws = prior.sample(np.random.default_rng(0), 40_000)
    assert np.mean((draws >= lower) & (draws <= upper)) == pytest.approx(achieved, abs=0.01)


def test_elicit_keeps_shape_parameters_of_a_given_prior():
    start = Prior("StudentT", nu=3.0, mu=0.0, sigma=1.0)
    prior = elicit(start, 10.0, 20.0, mass=0.9)
    assert prior.nu == 3.0 and prior.mass_between(10.0, 20.0) == pytest.approx(0.9, abs=0.01)
    bounded = elicit(Prior("TruncatedNormal", 0.0, 1.0, lower=0.0, upper=math.inf), 1.0, 2.0)
    assert (bounded.lower, bounded.upper) == (0.0, math.inf)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("HalfNormal", 5.0, 6.0, 0.9), ValueError, "cannot put 0.9 of its mass.*start it at 0"),
        (("HalfNormal", -1.0, 2.0, 0.9), ValueError, "lies outside the values"),
        (("Beta", 0.2, 1.5, 0.9), ValueError, "lies outside the values"),
        (("Normal", 3.0, 1.0, 0.9), ValueError, "lower must be < upper"),
        (("Normal", 1.0, 3.0, 1.0), ValueError, "mass must be strictly between 0 and 1"),
        (("Normal", "a", 3.0, 0.9), TypeError, "lower must be a number"),
        (("Weird", 1.0, 3.0, 0.9), ValueError, "unknown family 'Weird'"),
    ],
)
def test_elicit_explains_statements_it_cannot_meet(args, error, match):
    with pytest.raises(error, match=match):
        elicit(*args)


@pytest.mark.parametrize("family", families_for_support((0.0, math.inf)))
def test_as_family_keeps_the_support_and_about_the_spread(family):
    start = Prior("HalfNormal", sigma=2.0)
    converted = start.as_family(family)
    assert converted.family == family
    assert converted.support == start.support
    upper90 = float(start.ppf(0.9))
    assert converted.cdf(upper90) == pytest.approx(0.9, abs=0.1)


def test_as_family_refuses_another_support():
    with pytest.raises(ValueError, match="must lie in"):
        Prior("HalfNormal", sigma=1.0).as_family("Normal")


def test_families_for_support():
    assert families_for_support((-math.inf, math.inf))[:4] == [
        "Normal",
        "StudentT",
        "Laplace",
        "Cauchy",
    ]
    assert "Beta" in families_for_support((0.0, 1.0))
    assert "Beta" not in families_for_support((0.0, 2.0))
    assert "Uniform" in families_for_support((0.0, 2.0))


def test_prior_code_and_preliz_round_trip():
    prior = Prior("TruncatedNormal", mu=1.0, sigma=0.5, lower=0.0, upper=math.inf)
    assert prior.code("width", dims="line") == (
        'pm.TruncatedNormal("width", mu=1, sigma=0.5, lower=0, upper=np.inf, dims="line")'
    )
    assert Prior.from_preliz(prior.to_preliz()) == prior
