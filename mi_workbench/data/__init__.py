"""Data: validation of user tables, elemental descriptors and generators of lesson data sets.

Any layer may import from here.
"""

from mi_workbench.data.elements import (
    DESCRIPTOR_UNITS,
    ELEMENT_PROPERTIES,
    composition_descriptors,
    random_compositions,
)
from mi_workbench.data.generators import (
    VIRTUAL_ALLOY_LAW,
    confounded_annealing,
    noisy_line,
    virtual_alloys,
)
from mi_workbench.data.tables import RegressionData, as_regression_data, check_xy

__all__ = [
    "DESCRIPTOR_UNITS",
    "ELEMENT_PROPERTIES",
    "VIRTUAL_ALLOY_LAW",
    "RegressionData",
    "as_regression_data",
    "check_xy",
    "composition_descriptors",
    "confounded_annealing",
    "noisy_line",
    "random_compositions",
    "virtual_alloys",
]

from mi_workbench.data.spectra import (  # noqa: E402
    CU2O_ENERGY_GRID_EV,
    CU2O_PRESETS,
    synthetic_cu2o_spectrum,
    synthetic_peak_spectrum,
)

__all__ += [
    "CU2O_ENERGY_GRID_EV",
    "CU2O_PRESETS",
    "synthetic_cu2o_spectrum",
    "synthetic_peak_spectrum",
]

from mi_workbench.data.molecules import (  # noqa: E402
    MOLECULES_XTB_DFT_PATH,
    load_molecules_xtb_dft,
)

__all__ += ["MOLECULES_XTB_DFT_PATH", "load_molecules_xtb_dft"]
