"""Model builders (each returns a ``pm.Model``) and prior specifications."""

from mi_workbench.models.conjugate import ConjugateLinearRegression
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
from mi_workbench.models.spectroscopy import (
    DEFAULT_EXCITON_PRIORS,
    DEFAULT_PEAK_PRIORS,
    exciton_priors,
    exciton_spectrum_model,
    peak_model,
    set_spectrum_data,
)
from mi_workbench.models.transfer import (
    AR1_APPROXIMATIONS,
    POOLING,
    TRANSFER_KERNELS,
    AR1Spec,
    ar1_multifidelity_gp,
    check_fidelity_data,
    hierarchical_multitask,
    hsgp_basis,
    predict_ar1_multifidelity,
    predict_multitask,
)

__all__ = [
    "ConjugateLinearRegression",
    "AR1Spec",
    "AR1_APPROXIMATIONS",
    "DEFAULT_EXCITON_PRIORS",
    "DEFAULT_PEAK_PRIORS",
    "FAMILIES",
    "POOLING",
    "POSITIVE_FAMILIES",
    "Prior",
    "REAL_FAMILIES",
    "REGRESSION_PRIOR_NAMES",
    "Standardization",
    "TRANSFER_KERNELS",
    "ar1_multifidelity_gp",
    "as_prior",
    "bayesian_linear_regression",
    "check_fidelity_data",
    "default_regression_priors",
    "exciton_priors",
    "exciton_spectrum_model",
    "grid_design",
    "hierarchical_multitask",
    "hsgp_basis",
    "peak_model",
    "posterior_predictive_lines",
    "predict_ar1_multifidelity",
    "predict_multitask",
    "prior_predictive_lines",
    "regression_priors",
    "set_regression_data",
    "set_spectrum_data",
]
