"""Adaptive design: candidate spaces, surrogates with uncertainty, acquisition and campaigns."""

from mi_workbench.design.spaces import (
    CANDIDATE_DIM,
    COMPOSITION_UNITS,
    XUE_BOUNDS,
    XUE_DESCRIPTORS,
    XUE_ELEMENTS,
    XUE_LARGE_BOUNDS,
    check_compositions,
    composition_grid,
    composition_variables,
    featurize,
)

__all__ = [
    "CANDIDATE_DIM",
    "COMPOSITION_UNITS",
    "XUE_BOUNDS",
    "XUE_DESCRIPTORS",
    "XUE_ELEMENTS",
    "XUE_LARGE_BOUNDS",
    "check_compositions",
    "composition_grid",
    "composition_variables",
    "featurize",
]
