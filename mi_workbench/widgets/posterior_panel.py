"""``PosteriorPanel``: sample a posterior without blocking the kernel, and criticise the fit.

``PosteriorPanel(model_or_prior_panel)`` takes any ``pm.Model`` or a
:class:`~mi_workbench.widgets.ModelPriorPanel` (:class:`~mi_workbench.widgets.ModelPosteriorPanel`);
``PosteriorPanel(table, features, target)`` samples a Bayesian linear regression on a table
(:class:`~mi_workbench.widgets.RegressionPosteriorPanel`); ``PosteriorPanel.from_idata(dt)``
shows a posterior the user already has. All forms sample in a background thread when the button
is pressed, with a **Cancel** button that keeps the previous posterior, and say in words whether
the chains converged.
"""

from __future__ import annotations

import html
import os

import pandas as pd
import plotly.graph_objects as go

from mi_workbench.plots._style import TEMPLATE
from mi_workbench.widgets._base import SamplingPanel


def placeholder_figure(text: str = "Press <b>Sample posterior</b> to draw from the posterior."):
    """An empty figure with a note, shown before there is a posterior."""
    fig = go.Figure()
    fig.add_annotation(
        text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 16}
    )
    fig.update_layout(
        template=TEMPLATE, height=300, xaxis={"visible": False}, yaxis={"visible": False}
    )
    return fig


class PosteriorPanel(SamplingPanel):
    """Sample and inspect a posterior: ``PosteriorPanel(model)`` or a regression on a table.

    Calling ``PosteriorPanel(...)`` returns the form that fits its first argument:

    - a ``pm.Model`` or a :class:`~mi_workbench.widgets.ModelPriorPanel` gives a
      :class:`~mi_workbench.widgets.ModelPosteriorPanel` (ArviZ's views: marginals with the
      prior, pair, trace, rank, posterior predictive check, LOO-PIT, PSIS-LOO with Pareto k,
      prior/likelihood sensitivity);
    - a pandas DataFrame or xarray Dataset with ``features`` and ``target`` gives a
      :class:`~mi_workbench.widgets.RegressionPosteriorPanel`.

    Common to both: :meth:`sample` (``background=True`` returns at once), :meth:`cancel`,
    :meth:`wait`, ``idata``, ``diagnostics``, :meth:`summary_table` and :meth:`export_summary`.
    """

    def __new__(cls, *args, **kwargs):
        if cls is PosteriorPanel:
            import pymc as pm

            from mi_workbench.widgets.model_prior_panel import ModelPriorPanel

            first = args[0] if args else kwargs.get("model", kwargs.get("data"))
            if isinstance(first, (pm.Model, ModelPriorPanel)):
                from mi_workbench.widgets.model_posterior_panel import ModelPosteriorPanel

                cls = ModelPosteriorPanel
            else:
                from mi_workbench.widgets.regression_posterior_panel import (
                    RegressionPosteriorPanel,
                )

                cls = RegressionPosteriorPanel
        return super().__new__(cls)

    @classmethod
    def from_idata(cls, idata, model=None, **kwargs):
        """A panel on a posterior the user already has (an ``xarray.DataTree`` from PyMC).

        With ``model`` (the model that produced it) the missing checks (posterior predictive,
        log-likelihood, log-prior) are computed and **Sample posterior** can draw again;
        without it, the views that need a missing group say which one.

        Examples
        --------
        >>> panel = PosteriorPanel.from_idata(idata, model)  # doctest: +SKIP
        >>> panel.view_selector.value = "loo"  # doctest: +SKIP
        """
        from mi_workbench.widgets.model_posterior_panel import ModelPosteriorPanel

        return ModelPosteriorPanel._from_idata(idata, model, **kwargs)

    # ------------------------------------------------------------------ shared
    def summary_table(self, var_names=None) -> pd.DataFrame:
        """The posterior summary (``arviz_stats.summary``: mean, sd, interval, ESS, R-hat)."""
        import arviz_stats as azs

        if getattr(self, "idata", None) is None:
            raise ValueError("there is no posterior yet: sample first")
        table = azs.summary(self.idata, var_names=var_names)
        table = pd.DataFrame(table)
        table.index.name = "parameter"
        return table.reset_index()

    def export_summary(self, path: str | os.PathLike) -> str:
        """Write :meth:`summary_table` to a CSV file (atomically); returns the path."""
        from mi_workbench.data import write_csv

        return str(write_csv(self.summary_table(), path))

    def _show_diagnostics(self) -> None:
        d = self.diagnostics
        attrs = self.idata["posterior"].attrs
        timing = (
            f" Sampling took {attrs.get('sampling_time', float('nan')):.1f} s"
            f" (compilation {attrs.get('compile_time', 0.0):.1f} s)."
            if "sampling_time" in attrs
            else ""
        )
        if d.ok:
            head = (
                '<div style="color:#1b7f3b;font-weight:bold">'
                f"{html.escape(d.summary_text() + timing)}</div>"
            )
        else:
            items = "".join(f"<li>{html.escape(w)}</li>" for w in d.warnings)
            head = (
                '<div style="color:#b00020;font-weight:bold">Do not interpret this posterior '
                f"yet: {html.escape(timing.strip())}</div>"
                f'<ul style="color:#b00020">{items}</ul>'
            )
        table = d.table.to_html(float_format=lambda v: f"{v:.4g}", border=0)
        self.diagnostics_html.value = head + table
