"""Elemental properties and composition-weighted descriptors.

The table holds textbook values for the transition metals and aluminium that the lessons use:

- ``pauling_electronegativity``: Pauling scale (CRC Handbook of Chemistry and Physics, 97th ed.,
  "Electronegativity of the elements").
- ``metallic_radius_pm``: metallic radius for 12-fold coordination in pm (N. N. Greenwood and
  A. Earnshaw, *Chemistry of the Elements*, 2nd ed., 1997).
- ``valence_electrons``: number of s + d electrons outside the noble-gas core (s + p for Al).
- ``atomic_mass_u``: standard atomic weight (IUPAC 2021, abridged).
- ``pettifor_chemical_scale``: Pettifor's chemical scale chi (D. G. Pettifor, Solid State Commun.
  51, 31 (1984); J. Phys. C 19, 285 (1986)). Given for the 3d metals Ti-Zn and the 4d metals
  Zr, Nb, Mo, Pd, Ag; NaN for the others.
- ``clementi_atomic_radius_pm``: calculated atomic radius in pm (E. Clementi, D. L. Raimondi and
  W. P. Reinhardt, J. Chem. Phys. 47, 1300 (1967)).
- ``pseudopotential_radius_xue_angstrom``: the "pseudo-potential radius" of Xue et al.,
  Nat. Commun. 7, 11241 (2016), in angstrom, for Ti, Ni, Cu, Fe, Pd only (NaN elsewhere). The
  paper attributes it to Zunger's pseudopotential radii but lists only composition averages, and
  none of Zunger's orbital radii (r_s, r_p, r_d, r_s + r_p; A. Zunger, Phys. Rev. B 22, 5839
  (1980)) reproduces those averages. The values here are therefore inferred from the 22 averages
  Xue et al. published (all at 50 at.% Ti): the differences Cu - Ni = -0.013, Fe - Ni = +0.040 and
  Pd - Ni = +0.242 and the sum Ti + Ni = 0.814 are determined by those rows and reproduce them to
  the printed four decimals. How that sum splits between Ti and Ni cannot be determined from
  alloys with 50 at.% Ti; it is split in the ratio of Zunger's r_s + r_p (Ti 2.58, Ni 2.18 a.u.),
  a convention. The descriptor of an alloy with Ti != 50 at.% depends on that convention; within
  the Ti50 Ni(50-x-y-z) Cu_x Fe_y Pd_z family it does not.

Xue et al.'s other five averages are reproduced exactly (to their printed precision) by the
columns above: their "atomic radius" is Clementi's, their metallic radius the Greenwood and
Earnshaw value of ``metallic_radius_pm``, their electronegativity Pauling's and their valence
electron number ``valence_electrons``. :func:`mi_workbench.design.featurize` uses these columns.

Descriptors of an alloy are composition-weighted averages of these, as in Xue et al.,
Nat. Commun. 7, 11241 (2016), plus the atomic-size mismatch delta of high-entropy-alloy work.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mi_workbench._checks import check_finite_array, check_positive, check_positive_int, check_rng

_NAN = float("nan")

ELEMENT_PROPERTIES = pd.DataFrame(
    {
        #         EN     r_met  val  mass     chi    r_Clementi  r_pseudo(Xue)
        "Al": (1.61, 143.0, 3, 26.982, _NAN, 118.0, _NAN),
        "Ti": (1.54, 147.0, 4, 47.867, 0.79, 176.0, 0.441),
        "V": (1.63, 134.0, 5, 50.942, 0.84, 171.0, _NAN),
        "Cr": (1.66, 128.0, 6, 51.996, 0.89, 166.0, _NAN),
        "Mn": (1.55, 127.0, 7, 54.938, 0.94, 161.0, _NAN),
        "Fe": (1.83, 126.0, 8, 55.845, 0.99, 156.0, 0.413),
        "Co": (1.88, 125.0, 9, 58.933, 1.04, 152.0, _NAN),
        "Ni": (1.91, 124.0, 10, 58.693, 1.09, 149.0, 0.373),
        "Cu": (1.90, 128.0, 11, 63.546, 1.20, 145.0, 0.360),
        "Zn": (1.65, 134.0, 12, 65.38, 1.44, 142.0, _NAN),
        "Zr": (1.33, 160.0, 4, 91.224, 0.76, 206.0, _NAN),
        "Nb": (1.60, 146.0, 5, 92.906, 0.82, 198.0, _NAN),
        "Mo": (2.16, 139.0, 6, 95.95, 0.88, 190.0, _NAN),
        "Pd": (2.20, 137.0, 10, 106.42, 1.12, 169.0, 0.615),
        "Ag": (1.93, 144.0, 11, 107.868, 1.18, 165.0, _NAN),
        "Hf": (1.30, 159.0, 4, 178.49, _NAN, 208.0, _NAN),
        "Pt": (2.28, 139.0, 10, 195.084, _NAN, 177.0, _NAN),
        "Au": (2.54, 144.0, 11, 196.967, _NAN, 174.0, _NAN),
    },
    index=[
        "pauling_electronegativity",
        "metallic_radius_pm",
        "valence_electrons",
        "atomic_mass_u",
        "pettifor_chemical_scale",
        "clementi_atomic_radius_pm",
        "pseudopotential_radius_xue_angstrom",
    ],
).T

#: Units of the columns of :data:`ELEMENT_PROPERTIES`.
ELEMENT_PROPERTY_UNITS = {
    "pauling_electronegativity": "Pauling",
    "metallic_radius_pm": "pm",
    "valence_electrons": "electrons/atom",
    "atomic_mass_u": "u",
    "pettifor_chemical_scale": "1",
    "clementi_atomic_radius_pm": "pm",
    "pseudopotential_radius_xue_angstrom": "angstrom",
}

DESCRIPTOR_UNITS = {
    "mean_electronegativity": "Pauling",
    "mean_metallic_radius_pm": "pm",
    "valence_electron_concentration": "electrons/atom",
    "radius_mismatch_percent": "%",
}


def composition_descriptors(compositions: pd.DataFrame) -> pd.DataFrame:
    """Composition-weighted elemental descriptors of alloys.

    Parameters
    ----------
    compositions : pandas.DataFrame
        One row per alloy, one column per element symbol, amounts in at.% (or any
        non-negative amounts; each row is normalised to fractions).

    Returns
    -------
    pandas.DataFrame
        ``mean_electronegativity``, ``mean_metallic_radius_pm``,
        ``valence_electron_concentration`` and ``radius_mismatch_percent``
        (delta = 100 * sqrt(sum_i c_i (1 - r_i / r_mean)^2)), indexed like ``compositions``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = composition_descriptors(pd.DataFrame({"Ti": [50.0], "Ni": [50.0]}))
    >>> float(d["valence_electron_concentration"].iloc[0])
    7.0
    """
    if not isinstance(compositions, pd.DataFrame):
        raise TypeError(
            f"compositions must be a pandas DataFrame with element columns, "
            f"got {type(compositions).__name__}"
        )
    unknown = [c for c in compositions.columns if c not in ELEMENT_PROPERTIES.index]
    if unknown:
        raise ValueError(
            f"unknown element(s) {unknown}; known elements are {list(ELEMENT_PROPERTIES.index)}"
        )
    amounts = check_finite_array("compositions", compositions.to_numpy(), ndim=2)
    if (amounts < 0).any():
        raise ValueError("compositions must be non-negative")
    totals = amounts.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise ValueError("every composition row must contain a positive amount")
    fractions = amounts / totals
    table = ELEMENT_PROPERTIES.loc[list(compositions.columns)]
    radius = table["metallic_radius_pm"].to_numpy()
    mean_radius = fractions @ radius
    mismatch = 100 * np.sqrt((fractions * (1 - radius[None, :] / mean_radius[:, None]) ** 2).sum(1))
    return pd.DataFrame(
        {
            "mean_electronegativity": fractions @ table["pauling_electronegativity"].to_numpy(),
            "mean_metallic_radius_pm": mean_radius,
            "valence_electron_concentration": fractions @ table["valence_electrons"].to_numpy(),
            "radius_mismatch_percent": mismatch,
        },
        index=compositions.index,
    )


def random_compositions(
    elements: Sequence[str], n_alloys: int, rng: np.random.Generator, concentration: float = 2.0
) -> pd.DataFrame:
    """Random compositions in at.% (rows sum to 100), drawn from a symmetric Dirichlet.

    Parameters
    ----------
    elements : sequence of str
        Element symbols (see :data:`ELEMENT_PROPERTIES`), at least one, each once.
    n_alloys : int
        Number of compositions (>= 1).
    rng : numpy.random.Generator or int
        Source of the draws (an integer is a seed).
    concentration : float
        Dirichlet concentration (> 0): large values give near-equiatomic alloys, small ones
        alloys dominated by one element.

    Returns
    -------
    pandas.DataFrame
        One row per alloy, one column per element, in at.% rounded to 0.01.

    Examples
    --------
    >>> random_compositions(["Ti", "Ni"], 2, np.random.default_rng(0)).shape
    (2, 2)
    """
    if isinstance(elements, str) or not isinstance(elements, Sequence | np.ndarray | pd.Index):
        raise TypeError(
            f"elements must be a list of element symbols, got {elements!r} "
            f"({type(elements).__name__})"
        )
    elements = list(elements)
    bad = [el for el in elements if not isinstance(el, str) or el not in ELEMENT_PROPERTIES.index]
    if bad:
        raise ValueError(
            f"elements: unknown element(s) {bad}; known are {list(ELEMENT_PROPERTIES.index)}"
        )
    if not elements or len(set(elements)) != len(elements):
        raise ValueError(f"elements must name at least one element, each once, got {elements}")
    n_alloys = check_positive_int("n_alloys", n_alloys)
    if rng is None:
        raise TypeError("rng must be a numpy.random.Generator or an integer seed, got None")
    rng = check_rng("rng", rng)
    concentration = check_positive("concentration", concentration)
    fractions = rng.dirichlet(np.full(len(elements), concentration), size=n_alloys)
    return pd.DataFrame(np.round(100 * fractions, 2), columns=elements)
