"""Elemental properties and composition-weighted descriptors.

The table holds textbook values for the transition metals and aluminium that the lessons use:

- ``pauling_electronegativity``: Pauling scale (CRC Handbook of Chemistry and Physics, 97th ed.,
  "Electronegativity of the elements").
- ``metallic_radius_pm``: metallic radius for 12-fold coordination in pm (N. N. Greenwood and
  A. Earnshaw, *Chemistry of the Elements*, 2nd ed., 1997).
- ``valence_electrons``: number of s + d electrons outside the noble-gas core (s + p for Al).
- ``atomic_mass_u``: standard atomic weight (IUPAC 2021, abridged).

Descriptors of an alloy are composition-weighted averages of these, as in Xue et al.,
Nat. Commun. 7, 11241 (2016), plus the atomic-size mismatch delta of high-entropy-alloy work.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mi_workbench._checks import check_finite_array

ELEMENT_PROPERTIES = pd.DataFrame(
    {
        #         EN     r_met  val  mass
        "Al": (1.61, 143.0, 3, 26.982),
        "Ti": (1.54, 147.0, 4, 47.867),
        "V": (1.63, 134.0, 5, 50.942),
        "Cr": (1.66, 128.0, 6, 51.996),
        "Mn": (1.55, 127.0, 7, 54.938),
        "Fe": (1.83, 126.0, 8, 55.845),
        "Co": (1.88, 125.0, 9, 58.933),
        "Ni": (1.91, 124.0, 10, 58.693),
        "Cu": (1.90, 128.0, 11, 63.546),
        "Zn": (1.65, 134.0, 12, 65.38),
        "Zr": (1.33, 160.0, 4, 91.224),
        "Nb": (1.60, 146.0, 5, 92.906),
        "Mo": (2.16, 139.0, 6, 95.95),
        "Pd": (2.20, 137.0, 10, 106.42),
        "Ag": (1.93, 144.0, 11, 107.868),
        "Hf": (1.30, 159.0, 4, 178.49),
        "Pt": (2.28, 139.0, 10, 195.084),
        "Au": (2.54, 144.0, 11, 196.967),
    },
    index=["pauling_electronegativity", "metallic_radius_pm", "valence_electrons", "atomic_mass_u"],
).T

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
    """Random compositions in at.% (rows sum to 100), drawn from a symmetric Dirichlet."""
    fractions = rng.dirichlet(np.full(len(elements), concentration), size=n_alloys)
    return pd.DataFrame(np.round(100 * fractions, 2), columns=list(elements))
