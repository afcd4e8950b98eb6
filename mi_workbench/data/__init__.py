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
