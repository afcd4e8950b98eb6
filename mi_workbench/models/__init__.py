"""Model builders (each returns a ``pm.Model``) and prior specifications."""

from mi_workbench.models.data_swap import set_regression_data
from mi_workbench.models.priors import FAMILIES, POSITIVE_FAMILIES, REAL_FAMILIES, Prior, as_prior
from mi_workbench.models.regression import (
    REGRESSION_PRIOR_NAMES,
    Standardization,
    bayesian_linear_regression,
    default_regression_priors,
    grid_design,
    posterior_predictive_lines,
    prior_predictive_lines,
    regression_priors,
)

__all__ = [
    "FAMILIES",
    "POSITIVE_FAMILIES",
    "REAL_FAMILIES",
    "REGRESSION_PRIOR_NAMES",
    "Prior",
    "Standardization",
    "as_prior",
    "bayesian_linear_regression",
    "default_regression_priors",
    "grid_design",
    "posterior_predictive_lines",
    "prior_predictive_lines",
    "regression_priors",
    "set_regression_data",
]

from mi_workbench.models.spectroscopy import (  # noqa: E402
    DEFAULT_EXCITON_PRIORS,
    DEFAULT_PEAK_PRIORS,
    exciton_priors,
    exciton_spectrum_model,
    peak_model,
    set_spectrum_data,
)

__all__ += [
    "DEFAULT_EXCITON_PRIORS",
    "DEFAULT_PEAK_PRIORS",
    "exciton_priors",
    "exciton_spectrum_model",
    "peak_model",
    "set_spectrum_data",
]
