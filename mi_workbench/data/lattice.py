"""A synthetic lattice-decoration problem with a known best structure, for tree-search lessons.

The MDTS benchmark (Si/Ge interfaces, Ju et al., Phys. Rev. X 7, 021024 (2017)) asks which
arrangement of 8 Si and 8 Ge atoms on 16 interface sites conducts heat best. Its data are not
shipped with the workbench, so lessons use this stand-in with the same shape: a ring of sites,
two species, a fixed composition, and a value that rewards unlike neighbours (interfaces that
scatter phonons) and like next-nearest neighbours, and has small random site preferences
that make the best structure unique. Every structure is enumerated, so the best is known.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from mi_workbench._checks import check_finite_number, check_positive_int, check_seed


def interface_lattice_table(
    n_sites: int = 16,
    n_first: int | None = None,
    *,
    random_seed: int = 0,
    field_sd: float = 0.15,
) -> pd.DataFrame:
    """Every arrangement of two species on a ring of sites, with a synthetic objective.

    ``value = sum_i [s_i != s_(i+1)] + 0.5 sum_i [s_i == s_(i+2)] + sum_i h_i s_i`` on a ring,
    with site fields ``h_i ~ Normal(0, field_sd)`` drawn from ``random_seed``. Larger is better.

    Parameters
    ----------
    n_sites : int
        Number of sites (at most 20: the table enumerates every structure).
    n_first : int, optional
        Number of sites carrying species "0" (default: half of the sites).
    random_seed : int
        Seed of the site fields.
    field_sd : float
        Size of the site fields (they break the symmetry between equivalent structures).

    Returns
    -------
    pandas.DataFrame
        Columns ``structure`` (a string of "0"/"1" per site) and ``value``, sorted by structure.

    Examples
    --------
    >>> table = interface_lattice_table(8)
    >>> len(table), int((table["value"] == table["value"].max()).sum())
    (70, 1)
    """
    n_sites = check_positive_int("n_sites", n_sites, minimum=4)
    if n_sites > 20:
        raise ValueError(
            f"n_sites must be at most 20 (every structure is enumerated), got {n_sites}"
        )
    if n_first is None:
        n_first = n_sites // 2
    n_first = check_positive_int("n_first", n_first, minimum=0)
    if n_first > n_sites:
        raise ValueError(f"n_first must be between 0 and n_sites={n_sites}, got {n_first}")
    field_sd = check_finite_number("field_sd", field_sd)
    if field_sd < 0:
        raise ValueError(f"field_sd must be >= 0, got {field_sd!r}")
    rng = np.random.default_rng(check_seed("random_seed", random_seed))
    field = rng.normal(0.0, field_sd, n_sites)
    rows = []
    for zeros in itertools.combinations(range(n_sites), n_first):
        sites = np.ones(n_sites, dtype=np.int64)
        sites[list(zeros)] = 0
        unlike = np.sum(sites != np.roll(sites, -1))
        like_next = np.sum(sites == np.roll(sites, -2))
        value = unlike + 0.5 * like_next + field @ sites
        rows.append(("".join(map(str, sites)), float(value)))
    table = pd.DataFrame(rows, columns=["structure", "value"])
    return table.sort_values("structure", ignore_index=True)
