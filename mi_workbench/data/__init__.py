"""Data: validation of user tables, elemental descriptors and generators of lesson data sets.

Any layer may import from here.
"""

from mi_workbench.data.elements import (
    DESCRIPTOR_UNITS,
    ELEMENT_PROPERTIES,
    composition_descriptors,
    random_compositions,
)
from mi_workbench.data.files import read_spectrum, read_table, write_csv
from mi_workbench.data.generators import (
    VIRTUAL_ALLOY_LAW,
    confounded_annealing,
    noisy_line,
    virtual_alloys,
)
from mi_workbench.data.lattice import interface_lattice_table
from mi_workbench.data.molecules import (
    MOLECULE_PROPERTY_LABELS,
    MOLECULE_PROPERTY_UNITS,
    MOLECULES_XTB_DFT_PATH,
    XTB_PROPERTY_VARIABLES,
    load_molecules_xtb_dft,
)
from mi_workbench.data.raman import (
    RAMANCHADA2_LICENCE,
    SI_PHONON_CM1,
    SILICON_RAMAN_CITATION,
    silicon_raman_spectra,
    silicon_raman_spectrum,
)
from mi_workbench.data.spectra import (
    CU2O_ENERGY_GRID_EV,
    CU2O_PRESETS,
    synthetic_cu2o_spectrum,
    synthetic_peak_spectrum,
)
from mi_workbench.data.tables import RegressionData, as_regression_data, check_xy

__all__ = [
    "CU2O_ENERGY_GRID_EV",
    "CU2O_PRESETS",
    "DESCRIPTOR_UNITS",
    "ELEMENT_PROPERTIES",
    "MOLECULES_XTB_DFT_PATH",
    "MOLECULE_PROPERTY_LABELS",
    "MOLECULE_PROPERTY_UNITS",
    "XTB_PROPERTY_VARIABLES",
    "RAMANCHADA2_LICENCE",
    "SILICON_RAMAN_CITATION",
    "SI_PHONON_CM1",
    "RegressionData",
    "VIRTUAL_ALLOY_LAW",
    "as_regression_data",
    "check_xy",
    "composition_descriptors",
    "confounded_annealing",
    "interface_lattice_table",
    "load_molecules_xtb_dft",
    "noisy_line",
    "random_compositions",
    "read_spectrum",
    "read_table",
    "silicon_raman_spectra",
    "silicon_raman_spectrum",
    "synthetic_cu2o_spectrum",
    "synthetic_peak_spectrum",
    "virtual_alloys",
    "write_csv",
]
