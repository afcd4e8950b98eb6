"""``ModelPosteriorPanel``: the posterior of a user's own ``pm.Model``, sampled and criticised.

``PosteriorPanel(model)``, ``PosteriorPanel(prior_panel)`` and ``PosteriorPanel.from_idata(dt)``
return this form. After NUTS (nutpie, in a background thread when the button is pressed) it adds
the groups the model checks need: ``posterior_predictive``, ``log_likelihood`` and ``log_prior``
(PyMC), and ``prior`` draws for the prior/posterior overlay.

Views and who draws them:

- ``marginals`` (prior and posterior of each variable): ``arviz_plots.plot_prior_posterior``;
- ``pair``: ``arviz_plots.plot_pair``; ``trace``: ``plot_trace_dist``; ``rank``: ``plot_rank``;
- ``ppc`` (posterior predictive densities against the observations): ``plot_ppc_dist``, or
  ``plot_ppc_rootogram`` for counts;
- ``loo_pit`` (calibration): ``plot_loo_pit``;
- ``loo`` (PSIS-LOO, Pareto k per observation): ``arviz_stats.loo`` and ``plot_khat``;
- ``sensitivity`` (power-scaling the prior and the likelihood): ``arviz_stats.psense_summary``
  and ``plot_psense_dist`` (:func:`psense_bars`, the project's own bars of the same numbers, where
  ``plot_psense_dist`` fails on a model);
- ``fit``, the posterior predictive band over a one-dimensional input, is the project's own
  figure (:func:`mi_workbench.plots.priors.model_prior_predictive` with ``kind="posterior"``):
  ArviZ's ``plot_lm`` needs the input and the observations to share a named dimension, which
  most hand-written models do not declare.
"""

from __future__ import annotations

import contextlib
import html
import logging
import warnings
from collections.abc import Iterable, Sequence

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import xarray as xr

from mi_workbench._checks import check_choice, check_finite_number, check_positive_int
from mi_workbench.inference import SamplingCancelled, diagnose, fit
from mi_workbench.models.inspection import inspect_model
from mi_workbench.plots._style import TEMPLATE
from mi_workbench.plots.priors import model_prior_predictive
from mi_workbench.widgets.model_prior_panel import ModelPriorPanel
from mi_workbench.widgets.posterior_panel import PosteriorPanel, placeholder_figure

#: The views the panel can show.
VIEWS = ("marginals", "pair", "trace", "rank", "fit", "ppc", "loo_pit", "loo", "sensitivity")
#: Pareto k above this makes PSIS-LOO unreliable for an observation (ArviZ's threshold for
#: the sample sizes the panel draws).
PARETO_K_MAX = 0.7
#: Variables with more elements than this are left out of the default views.
_MAX_DEFAULT_SIZE = 8
_MAX_PAIR_ELEMENTS = 6
_N_PRIOR_DRAWS = 500
# passed by _from_idata instead of a model: a panel on a posterior alone (model=None is refused)
_POSTERIOR_ONLY = object()


@contextlib.contextmanager
def _quiet(logger_name: str, level: int = logging.ERROR):
    """Raise a library's logging level while the panel does its work (restored afterwards)."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _without_reserved_dims(idata: xr.DataTree) -> xr.DataTree:
    """``idata`` with a model dim named ``sample`` renamed ``sample_`` (for ArviZ's plots only).

    ArviZ stacks chain and draw into a dimension called ``sample``; a model whose own coords use
    that name (a common one in materials work) makes its plots fail. The panel's ``idata`` keeps
    the model's names.
    """
    if not any("sample" in node.dataset.dims for node in idata.subtree):
        return idata
    return idata.map_over_datasets(
        lambda ds: ds.rename({"sample": "sample_"}) if "sample" in ds.dims else ds
    )


def psense_bars(table) -> go.Figure:
    """Power-scaling sensitivity per variable as bars, with the 0.05 threshold.

    Hand-written, and used only when ``arviz_plots.plot_psense_dist`` cannot draw a model (it
    fails, for instance, on a model with a single scalar variable); the numbers are
    ``arviz_stats.psense_summary``'s.
    """
    frame = table if hasattr(table, "iterrows") else table.to_dataframe()
    names = [str(n) for n in frame.index]
    fig = go.Figure(
        [
            go.Bar(x=names, y=frame["prior"].astype(float), name="prior"),
            go.Bar(x=names, y=frame["likelihood"].astype(float), name="likelihood"),
        ]
    )
    fig.add_hline(y=0.05, line_dash="dash", annotation_text="0.05: sensitive above")
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        height=360,
        yaxis_title="power-scaling sensitivity",
        title="How much each posterior moves when the prior or the likelihood is power-scaled",
    )
    return fig


def _arviz_figure(plot, *args, **kwargs) -> go.Figure:
    """The plotly figure of an ``arviz_plots`` function, sized to the panel's width."""
    collection = plot(*args, backend="plotly", **kwargs)
    figure = collection.viz["figure"]
    figure = figure.item() if hasattr(figure, "item") else figure
    figure.update_layout(width=None, autosize=True)
    return go.Figure(figure)


class ModelPosteriorPanel(PosteriorPanel):
    """Sample any PyMC model's posterior in the background and look at it with ArviZ.

    Parameters
    ----------
    model : pymc.Model or ModelPriorPanel
        The model; with a prior panel, each sampling uses its current priors
        (:meth:`ModelPriorPanel.to_model`).
    draws, tune, chains : int
        Passed to :func:`~mi_workbench.inference.fit`.
    random_seed : int
        Seed of the sampler and of the predictive draws.
    var_names : list of str, optional
        Variables in the views and diagnostics; default the free variables with at most 8
        elements.
    observed : str, optional
        The observed variable of the predictive checks and LOO; default the first.
    target_accept : float
        NUTS' target acceptance, in (0, 1) (raise it towards 0.95 when the diagnostics report
        divergences).

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole panel.
    sample_button, cancel_button : ipywidgets.Button
        Sample in the background; stop (the previous posterior stays).
    progress : ipywidgets.FloatProgress
        Fraction of the draws done; ``activity`` says "compiling ... 12 s" before that.
    view_selector : ipywidgets.ToggleButtons
        One of :data:`VIEWS`.
    figure : plotly.graph_objects.FigureWidget
        The figure of the current view.
    view_notes : ipywidgets.HTML
        The view's numbers in words (ELPD and Pareto k, the sensitivity diagnosis).
    diagnostics_html : ipywidgets.HTML
        Convergence in words: green when fine, red with the warnings.
    idata, diagnostics, model, loo
        The latest posterior (``xarray.DataTree`` with the check groups), its diagnostics, the
        model that produced it and its PSIS-LOO result; ``None`` before the first sampling.

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> x = np.linspace(0.0, 1.0, 30)
    >>> with pm.Model() as line:
    ...     xs = pm.Data("x", x)
    ...     slope = pm.Normal("slope", 0.0, 2.0)
    ...     noise = pm.HalfNormal("noise", 1.0)
    ...     y = pm.Normal("y", slope * xs, noise, observed=2.0 * x + 0.1 * np.sin(9 * x))
    >>> panel = PosteriorPanel(line, draws=300, tune=300)
    >>> panel.sample()  # doctest: +SKIP
    >>> panel.diagnostics.ok  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        model,
        *,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 2,
        random_seed: int = 0,
        var_names: Sequence[str] | None = None,
        observed: str | None = None,
        target_accept: float = 0.8,
    ) -> None:
        super().__init__()
        if model is None:
            raise TypeError(
                "model must be a pymc.Model or a ModelPriorPanel, got None; for a posterior "
                "without its model use PosteriorPanel.from_idata(idata)"
            )
        if model is _POSTERIOR_ONLY:
            model = None
        if isinstance(model, ModelPriorPanel):
            self._prior_panel: ModelPriorPanel | None = model
            structure = model.structure
            model.observe_priors(lambda _priors: self._show_status())
        else:
            self._prior_panel = None
            structure = inspect_model(model) if model is not None else None
        self._source_model = None if model is None else structure.model
        self.draws = check_positive_int("draws", draws)
        self.tune = check_positive_int("tune", tune)
        self.chains = check_positive_int("chains", chains)
        self.random_seed = check_positive_int("random_seed", random_seed, minimum=0)
        self.target_accept = check_finite_number("target_accept", target_accept)
        if not 0.0 < self.target_accept < 1.0:
            raise ValueError(
                f"target_accept must be strictly between 0 and 1, got {self.target_accept!r}"
            )
        self._structure = structure
        self._var_names = None if var_names is None else [str(v) for v in var_names]
        self._observed = observed
        if structure is not None:
            self._check_names(structure, self._var_names, observed)

        self.idata: xr.DataTree | None = None
        self.diagnostics = None
        self.model = None
        self.loo = None
        self._sampled_priors = None
        self._figures: dict[str, go.Figure] = {}

        self._build_sampling_controls()
        if model is None:
            self.sample_button.disabled = True
            self.sample_button.tooltip = "No model was given: this panel shows a posterior only"
        self.view_selector = widgets.ToggleButtons(options=list(VIEWS), value="marginals")
        self.view_selector.style.button_width = "86px"
        self.view_selector.observe(lambda _change: self._show_view(), names="value")
        self.view_notes = widgets.HTML("")
        self._figure = go.FigureWidget(placeholder_figure())
        self._figure_box = widgets.VBox([self._figure], layout={"width": "100%"})
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [self.sample_button, self.cancel_button, self.progress, self.activity]
                ),
                self.message,
                self.status,
                self.view_selector,
                self.view_notes,
                self._figure_box,
                self.diagnostics_html,
            ]
        )

    @classmethod
    def _from_idata(cls, idata, model=None, **kwargs) -> ModelPosteriorPanel:
        if not isinstance(idata, xr.DataTree) or "posterior" not in idata.children:
            raise TypeError(
                "idata must be an xarray.DataTree with a 'posterior' group (what pm.sample and "
                f"mi_workbench.inference.fit return), got {type(idata).__name__}"
            )
        panel = cls(_POSTERIOR_ONLY if model is None else model, **kwargs)
        if model is not None:
            panel._add_checks(panel._structure.model, idata, cancel=None)
        panel._accept((panel._structure.model if model is not None else None, idata, None))
        return panel

    # ------------------------------------------------------------------ public API
    @property
    def figure(self) -> go.FigureWidget:
        """The figure of the current view."""
        return self._figure

    @property
    def var_names(self) -> list[str]:
        """The variables in the views and diagnostics."""
        return self._var_names_for(self.idata)

    def _var_names_for(self, idata) -> list[str]:
        if self._var_names is not None:
            return list(self._var_names)
        if self._structure is not None:
            return [n for n, v in self._structure.free.items() if v.size <= _MAX_DEFAULT_SIZE]
        if idata is None:
            return []
        posterior = idata["posterior"]
        return [
            str(n)
            for n, v in posterior.data_vars.items()
            if int(np.prod([v.sizes[d] for d in v.dims if d not in ("chain", "draw")]))
            <= _MAX_DEFAULT_SIZE
        ]

    @property
    def observed_name(self) -> str | None:
        """The observed variable of the predictive checks and LOO."""
        if self._observed is not None:
            return self._observed
        if self._structure is not None and self._structure.observed:
            return next(iter(self._structure.observed))
        if self.idata is not None and "observed_data" in self.idata.children:
            names = list(self.idata["observed_data"].data_vars)
            return str(names[0]) if names else None
        return None

    def current_model(self):
        """The model the next sampling uses (a linked prior panel's current priors)."""
        if self._prior_panel is not None:
            return self._prior_panel.to_model()
        return self._source_model

    def sample(self, *, background: bool = False) -> xr.DataTree | None:
        """Sample the posterior and compute the checks (predictive, log-likelihood, LOO).

        From Python this waits and returns the new ``idata``, or ``None`` if sampling failed or
        was cancelled (the message is shown in ``.message``; the previous posterior stays). The
        button runs it with ``background=True``: it returns at once, the kernel stays free;
        :meth:`wait` waits for the result and :meth:`cancel` stops it.
        """
        if self._source_model is None:
            self._show_error("This panel was made from a posterior only: there is no model.")
            return None
        try:
            model = self.current_model()
        except (ValueError, TypeError) as error:
            self._show_error(f"Cannot build the model with the current priors: {error}")
            return None
        priors = self._prior_panel.priors if self._prior_panel is not None else None

        def work(cancel, on_progress, on_stage):
            idata = fit(
                model,
                draws=self.draws,
                tune=self.tune,
                chains=self.chains,
                random_seed=self.random_seed,
                on_progress=on_progress,
                target_accept=self.target_accept,
                cancel=cancel,
                on_stage=on_stage,
            )
            on_stage("checking")
            loo = self._add_checks(model, idata, cancel)
            return model, idata, loo

        def accept(outcome) -> None:
            self._accept(outcome)
            self._sampled_priors = priors
            self._show_status()

        outcome = self._launch(work, accept, background=background)
        return None if outcome is None else self.idata

    # ------------------------------------------------------------------ checks
    def _add_checks(self, model, idata: xr.DataTree, cancel):
        """Add posterior predictive, log-likelihood, log-prior and prior draws; return LOO."""
        import pymc as pm

        steps = []
        if model.observed_RVs and "posterior_predictive" not in idata.children:
            steps.append(
                lambda: pm.sample_posterior_predictive(
                    idata,
                    model=model,
                    extend_inferencedata=True,
                    random_seed=self.random_seed,
                    progressbar=False,
                )
            )
        if model.observed_RVs and "log_likelihood" not in idata.children:
            steps.append(
                lambda: pm.compute_log_likelihood(
                    idata, model=model, extend_inferencedata=True, progressbar=False
                )
            )
        if "log_prior" not in idata.children:
            steps.append(
                lambda: pm.compute_log_prior(
                    idata, model=model, extend_inferencedata=True, progressbar=False
                )
            )
        if "prior" not in idata.children:

            def prior_draws():
                prior = pm.sample_prior_predictive(
                    draws=_N_PRIOR_DRAWS, model=model, random_seed=self.random_seed
                )
                idata["prior"] = prior["prior"]
                if "prior_predictive" in prior.children:
                    idata["prior_predictive"] = prior["prior_predictive"]

            steps.append(prior_draws)
        # "Sampling: [y]" lines from PyMC say nothing to the user here
        with warnings.catch_warnings(), _quiet("pymc", logging.WARNING):
            warnings.simplefilter("ignore")
            for step in steps:
                if cancel is not None and cancel.is_set():
                    raise SamplingCancelled("cancelled while computing the model checks")
                step()
        return None

    def _compute_loo(self, idata):
        import arviz_stats as azs

        name = self.observed_name
        if name is None or "log_likelihood" not in idata.children:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return azs.loo(idata, var_name=name, pointwise=True)

    def _accept(self, outcome) -> None:
        model, idata, _ = outcome
        diagnostics = diagnose(idata, self._present(idata, self._var_names_for(idata)))
        try:
            loo = self._compute_loo(idata)
        except Exception:  # a model without a usable log-likelihood still gets its other views
            loo = None
        self.model, self.idata, self.diagnostics, self.loo = model, idata, diagnostics, loo
        self._figures = {}
        self._show_diagnostics()
        self._show_view()

    # ------------------------------------------------------------------ views
    @staticmethod
    def _present(idata, names: Iterable[str]) -> list[str]:
        return [n for n in names if n in idata["posterior"].data_vars]

    def _check_names(self, structure, var_names, observed) -> None:
        if var_names is not None:
            known = list(structure.model.named_vars)
            unknown = [n for n in var_names if n not in known]
            if unknown:
                raise ValueError(f"var_names {unknown} are not variables of the model: {known}")
        if observed is not None:
            check_choice("observed", observed, list(structure.observed))

    def _needs(self, *groups: str) -> None:
        missing = [g for g in groups if g not in self.idata.children]
        if missing:
            raise ValueError(
                f"this view needs the group(s) {missing}, which this posterior lacks; give the "
                "model (PosteriorPanel.from_idata(idata, model)) to compute them"
            )

    def _make_figure(self, view: str) -> tuple[go.Figure, str]:
        import arviz_plots as azp
        import arviz_stats as azs

        dt = _without_reserved_dims(self.idata)
        names = self._present(dt, self.var_names)
        observed = self.observed_name
        if view == "marginals":
            if "prior" in dt.children:
                return _arviz_figure(azp.plot_prior_posterior, dt, var_names=names), (
                    "Prior (the light curve) and posterior of each variable: how much the data "
                    "taught the model."
                )
            return _arviz_figure(azp.plot_dist, dt, var_names=names), ""
        if view == "pair":
            chosen, elements = [], 0
            for name in names:
                size = int(
                    dt["posterior"][name].size
                    // (dt.posterior.sizes["chain"] * dt.posterior.sizes["draw"])
                )
                if elements + size <= _MAX_PAIR_ELEMENTS:
                    chosen.append(name)
                    elements += size
            if elements < 2:
                raise ValueError("the pair view needs at least two parameters")
            return _arviz_figure(azp.plot_pair, dt, var_names=chosen), ""
        if view == "trace":
            return _arviz_figure(azp.plot_trace_dist, dt, var_names=names), ""
        if view == "rank":
            return _arviz_figure(azp.plot_rank, dt, var_names=names), (
                "Rank plots: well-mixed chains give flat, overlapping histograms."
            )
        if observed is None:
            raise ValueError(f"the {view} view needs an observed variable; the model has none")
        if view == "fit":
            return self._fit_figure(observed), (
                "Posterior predictive band: about 90 % of new measurements should fall inside."
            )
        if view == "ppc":
            self._needs("posterior_predictive")
            if np.issubdtype(dt["observed_data"][observed].dtype, np.integer):
                return _arviz_figure(azp.plot_ppc_rootogram, dt, var_names=[observed]), (
                    "Posterior predictive check of counts (rootogram): the predicted frequency "
                    "of each count with its interval, against the observed frequencies."
                )
            return _arviz_figure(azp.plot_ppc_dist, dt, var_names=[observed]), (
                "Posterior predictive check: replicated data sets (thin) against the "
                "observations (thick)."
            )
        if view == "loo_pit":
            self._needs("posterior_predictive", "log_likelihood")
            return _arviz_figure(azp.plot_loo_pit, dt, var_names=[observed]), (
                "LOO-PIT: for a calibrated model the curve stays inside the band; an S shape "
                "means the predictive is too narrow, an inverted S too wide."
            )
        if view == "loo":
            self._needs("log_likelihood")
            if self.loo is None:
                raise ValueError("PSIS-LOO could not be computed for this posterior")
            return _arviz_figure(azp.plot_khat, self.loo), self._loo_text()
        if view == "sensitivity":
            self._needs("log_likelihood", "log_prior")
            with warnings.catch_warnings(), _quiet("arviz_stats"):
                warnings.simplefilter("ignore")  # psense_summary logs; the panel says it
                table = azs.psense_summary(dt, var_names=names)
                try:
                    figure = _arviz_figure(azp.plot_psense_dist, dt, var_names=names)
                except (ValueError, TypeError, KeyError, IndexError):
                    figure = psense_bars(table)  # plot_psense_dist fails on some models
            return figure, self._sensitivity_text(table)
        raise ValueError(f"unknown view {view!r}")

    def _fit_figure(self, observed: str) -> go.Figure:
        self._needs("posterior_predictive")
        values = np.asarray(self.idata["observed_data"][observed].values, dtype=float).ravel()
        predictive = self.idata["posterior_predictive"][observed]
        replicated = np.asarray(predictive.values, dtype=float).reshape(-1, values.size)
        x, label = np.arange(values.size, dtype=float), "observation"
        if self._structure is not None and observed in self._structure.observed:
            inputs = self._structure.observed[observed].inputs
            if len(inputs) == 1:
                label = inputs[0]
                x = np.asarray(self._structure.model[label].get_value(), dtype=float)
        return model_prior_predictive(
            x,
            values,
            replicated[:: max(1, replicated.shape[0] // 400)],
            x_label=label,
            y_label=observed,
            kind="posterior",
        )

    def _loo_text(self) -> str:
        loo = self.loo
        k = np.asarray(getattr(loo, "pareto_k", []), dtype=float).ravel()
        bad = int(np.sum(k > PARETO_K_MAX))
        text = (
            f"PSIS-LOO: elpd_loo = {loo.elpd:.2f} ± {loo.se:.2f}, effective number of "
            f"parameters p_loo = {loo.p:.2f}. "
        )
        if bad:
            text += (
                f"{bad} of {k.size} observations have Pareto k > {PARETO_K_MAX}: for them the "
                "LOO estimate is unreliable (influential points or a misspecified model)."
            )
        else:
            text += f"All {k.size} Pareto k values are at most {PARETO_K_MAX}: LOO is reliable."
        return text

    @staticmethod
    def _sensitivity_text(table) -> str:
        frame = table if hasattr(table, "iterrows") else table.to_dataframe()
        flagged = [
            f"{name}: {row['diagnosis']}"
            for name, row in frame.iterrows()
            if str(row.get("diagnosis", "✓")).strip() not in ("✓", "")
        ]
        head = (
            "Power-scaling sensitivity (how much the posterior moves when the prior or the "
            "likelihood is raised to a power near 1; above 0.05 counts as sensitive). "
        )
        if not flagged:
            return head + "No variable is sensitive to the prior beyond what the data warrant."
        return head + "Flagged: " + "; ".join(flagged) + "."

    def _show_view(self) -> None:
        view = check_choice("view", self.view_selector.value, VIEWS)
        if self.idata is None:
            return
        try:
            if view not in self._figures:
                self._figures[view] = self._make_figure(view)
        except (ValueError, TypeError, KeyError) as error:
            self._show_error(f"Cannot draw the {view} view: {error}")
            self.view_notes.value = ""
            return
        if self.error.startswith("Cannot draw"):
            self._clear_message()
        figure, note = self._figures[view]
        self.view_notes.value = f'<div style="color:#444">{html.escape(note)}</div>' if note else ""
        previous, self._figure = self._figure, go.FigureWidget(figure)
        self._figure_box.children = (self._figure,)
        previous.close()

    def _show_status(self) -> None:
        if self.idata is None or self._prior_panel is None or self._sampled_priors is None:
            self.status.value = ""
            return
        text = "Posterior drawn with the prior panel's priors."
        if self._prior_panel.priors != self._sampled_priors:
            text = (
                "The priors have changed since this posterior was drawn: press Sample "
                "posterior to update."
            )
        self.status.value = f'<div style="color:#444">{html.escape(text)}</div>'
