"""Widgets: interactive panels for JupyterLab built on :mod:`mi_workbench.plots`.

Each panel owns its controls and state, displays itself in a notebook, and exposes its result
as attributes for the next cell (``prior_panel.priors``, ``posterior_panel.idata``).
"""

from mi_workbench.widgets.campaign_panel import CampaignPanel
from mi_workbench.widgets.compute_budget_panel import ComputeBudgetPanel
from mi_workbench.widgets.inverse_design_panel import InverseDesignPanel
from mi_workbench.widgets.model_posterior_panel import ModelPosteriorPanel
from mi_workbench.widgets.model_prior_panel import ModelPriorPanel
from mi_workbench.widgets.posterior_panel import PosteriorPanel
from mi_workbench.widgets.prior_panel import PriorPanel
from mi_workbench.widgets.regression_posterior_panel import RegressionPosteriorPanel
from mi_workbench.widgets.regression_prior_panel import RegressionPriorPanel
from mi_workbench.widgets.spectrum_panel import SpectrumFitPanel

__all__ = [
    "CampaignPanel",
    "InverseDesignPanel",
    "ModelPosteriorPanel",
    "ModelPriorPanel",
    "PosteriorPanel",
    "PriorPanel",
    "RegressionPosteriorPanel",
    "RegressionPriorPanel",
    "SpectrumFitPanel",
    "ComputeBudgetPanel",
]
