"""Plots: pure functions that take data or sampling results and return plotly figures.

No widget code lives here; :mod:`mi_workbench.widgets` wraps these figures in
``go.FigureWidget`` and updates them in place. Tests inspect the traces (``fig.data[i].y``).
"""

from mi_workbench.plots._style import TEMPLATE
from mi_workbench.plots.design import acquisition_slice, best_so_far, predicted_vs_measured
from mi_workbench.plots.extrapolation import (
    best_distance_by_round,
    region_path_plane,
    region_path_rounds,
)
from mi_workbench.plots.model_selection import free_energy_plot
from mi_workbench.plots.molecules import (
    molecule_gallery_html,
    molecule_image_uri,
    molecule_svg,
    population_by_step,
    property_plane,
)
from mi_workbench.plots.posterior import (
    ess_comparison,
    pair_plot,
    posterior_marginals,
    posterior_predictive_band,
    predicted_vs_observed,
    trace_plot,
)
from mi_workbench.plots.priors import (
    model_prior_predictive,
    predictive_histogram,
    prior_densities,
    prior_predictive,
    variable_priors,
)
from mi_workbench.plots.spectra import (
    gap_rydberg_posteriors,
    posterior_spectrum_draws,
    shift_draws,
    shift_posteriors,
    spectrum_predictive_band,
    spectrum_with_model,
)
from mi_workbench.plots.transfer import compute_budget_curve, fidelity_scatter, learning_curves

__all__ = [
    "model_prior_predictive",
    "predictive_histogram",
    "variable_priors",
    "TEMPLATE",
    "acquisition_slice",
    "best_distance_by_round",
    "best_so_far",
    "ess_comparison",
    "free_energy_plot",
    "gap_rydberg_posteriors",
    "molecule_gallery_html",
    "molecule_image_uri",
    "molecule_svg",
    "pair_plot",
    "population_by_step",
    "posterior_marginals",
    "posterior_predictive_band",
    "posterior_spectrum_draws",
    "predicted_vs_measured",
    "predicted_vs_observed",
    "prior_densities",
    "prior_predictive",
    "property_plane",
    "region_path_plane",
    "region_path_rounds",
    "shift_draws",
    "shift_posteriors",
    "spectrum_predictive_band",
    "spectrum_with_model",
    "trace_plot",
    "compute_budget_curve",
    "fidelity_scatter",
    "learning_curves",
]
