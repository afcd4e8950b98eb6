"""Plots: pure functions that take data or sampling results and return plotly figures.

No widget code lives here; :mod:`mi_workbench.widgets` wraps these figures in
``go.FigureWidget`` and updates them in place. Tests inspect the traces (``fig.data[i].y``).
"""

from mi_workbench.plots._style import TEMPLATE
from mi_workbench.plots.model_selection import free_energy_plot
from mi_workbench.plots.posterior import (
    ess_comparison,
    pair_plot,
    posterior_marginals,
    posterior_predictive_band,
    predicted_vs_observed,
    trace_plot,
)
from mi_workbench.plots.priors import prior_densities, prior_predictive

__all__ = [
    "TEMPLATE",
    "ess_comparison",
    "free_energy_plot",
    "pair_plot",
    "posterior_marginals",
    "posterior_predictive_band",
    "predicted_vs_observed",
    "prior_densities",
    "prior_predictive",
    "trace_plot",
]

# adaptive-design campaigns
from mi_workbench.plots.design import (  # noqa: E402
    acquisition_slice,
    best_so_far,
    predicted_vs_measured,
)

__all__ += ["acquisition_slice", "best_so_far", "predicted_vs_measured"]

# Bayesian spectroscopy (Cu2O exciton series)
from mi_workbench.plots.spectra import (  # noqa: E402
    gap_rydberg_posteriors,
    posterior_spectrum_draws,
    shift_draws,
    shift_posteriors,
    spectrum_predictive_band,
    spectrum_with_model,
)

__all__ += [
    "gap_rydberg_posteriors",
    "posterior_spectrum_draws",
    "shift_draws",
    "shift_posteriors",
    "spectrum_predictive_band",
    "spectrum_with_model",
]
