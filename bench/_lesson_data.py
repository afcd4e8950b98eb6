"""The lessons' data as the benchmarks rebuild it, in one place (the lessons build it in cells)."""

from __future__ import annotations

import numpy as np

#: lesson 01: descriptors and target of the regression
LESSON_01_FEATURES = [
    "valence_electron_concentration",
    "mean_electronegativity",
    "mean_metallic_radius_pm",
    "radius_mismatch_percent",
]
LESSON_01_TARGET = "transformation_temperature_k"


def lesson_01_training_alloys():
    """The 30 training alloys of lesson 01 (of 50 virtual alloys, seed 0), as the lesson splits."""
    from mi_workbench.data import virtual_alloys

    alloys = virtual_alloys(n_alloys=50, random_seed=0)
    order = np.random.default_rng(0).permutation(alloys.sizes["alloy"])
    return alloys.isel(alloy=np.sort(order[:30]))
