"""Physics: forward models written once for NumPy and PyTensor.

Each function runs in NumPy for plain arrays and builds a PyTensor graph (for PyMC models) when
any argument is a PyTensor variable.
"""

from mi_workbench.physics.alloys import (
    HYSTERESIS_DOMAIN,
    HYSTERESIS_ELEMENTS,
    VirtualHysteresisExperiment,
    lambda2,
    thermal_hysteresis_k,
)
from mi_workbench.physics.excitons import (
    CU2O_PARAMETER_UNITS,
    N_MAX_DEFAULT,
    check_energy_grid,
    cu2o_absorption,
    cu2o_absorption_components,
    elliott_continuum_strength,
    line_energies,
    line_strengths,
)
from mi_workbench.physics.lineshapes import (
    LINE_SHAPES,
    array_namespace,
    faddeeva,
    gaussian,
    is_tensor,
    lorentzian,
    peak_profile,
    voigt,
    voigt_complex,
)

__all__ = [
    "HYSTERESIS_DOMAIN",
    "HYSTERESIS_ELEMENTS",
    "VirtualHysteresisExperiment",
    "lambda2",
    "thermal_hysteresis_k",
    "CU2O_PARAMETER_UNITS",
    "LINE_SHAPES",
    "N_MAX_DEFAULT",
    "array_namespace",
    "check_energy_grid",
    "cu2o_absorption",
    "cu2o_absorption_components",
    "elliott_continuum_strength",
    "faddeeva",
    "gaussian",
    "is_tensor",
    "line_energies",
    "line_strengths",
    "lorentzian",
    "peak_profile",
    "voigt",
    "voigt_complex",
]
