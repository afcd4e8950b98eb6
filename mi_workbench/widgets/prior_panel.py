"""``PriorPanel``: choose priors and see what they imply, for a user's own model or a table.

``PriorPanel(model)`` takes any ``pm.Model`` (:class:`~mi_workbench.widgets.ModelPriorPanel`);
``PriorPanel(table, features, target)`` sets the priors of a Bayesian linear regression on a
table (:class:`~mi_workbench.widgets.RegressionPriorPanel`). Both show one
:class:`~mi_workbench.widgets._prior_controls.PriorControl` per prior (family, parameters, and an
expert's statement "P(lower <= x <= upper) = mass" that PreliZ's ``maxent`` turns into the
prior), share the Python API of this class, and never compile anything when a control moves.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import ipywidgets as widgets
import pandas as pd

from mi_workbench.models.priors import Prior, elicit, family_name, family_parameters
from mi_workbench.widgets._base import Panel
from mi_workbench.widgets._prior_controls import PriorControl


class PriorPanel(Panel):
    """Interactive priors: ``PriorPanel(model)`` for any PyMC model, or a regression on a table.

    Calling ``PriorPanel(...)`` returns the form that fits its first argument:

    - a ``pm.Model`` gives a :class:`~mi_workbench.widgets.ModelPriorPanel` (one control group per
      free variable, live prior densities and the prior predictive of the observations);
    - a pandas DataFrame or xarray Dataset with ``features`` and ``target`` gives a
      :class:`~mi_workbench.widgets.RegressionPriorPanel`.

    The attributes and methods below are common to both.

    Attributes
    ----------
    controls : dict of str -> PriorControl
        The controls of each prior: ``controls[name].family`` (dropdown),
        ``.sliders[param]`` and ``.text_boxes[param]``, and the statement boxes
        ``.lower``, ``.upper``, ``.mass`` with the ``.fit_button``.
    message : ipywidgets.HTML
        The error message of an invalid input (the panel then keeps its last valid priors).

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> x = np.linspace(0.0, 1.0, 30)
    >>> with pm.Model() as model:
    ...     slope = pm.Normal("slope", 0.0, 1.0)
    ...     noise = pm.HalfNormal("noise", 1.0)
    ...     y = pm.Normal("y", slope * x, noise, observed=2.0 * x)
    >>> panel = PriorPanel(model)
    >>> type(panel).__name__
    'ModelPriorPanel'
    >>> panel.elicit("slope", 1.0, 3.0, mass=0.9).describe()
    'Normal(mu=2, sigma=0.608)'
    """

    def __new__(cls, *args, **kwargs):
        if cls is PriorPanel:
            import pymc as pm

            first = args[0] if args else kwargs.get("model", kwargs.get("data"))
            if isinstance(first, pm.Model):
                from mi_workbench.widgets.model_prior_panel import ModelPriorPanel

                cls = ModelPriorPanel
            else:
                from mi_workbench.widgets.regression_prior_panel import RegressionPriorPanel

                cls = RegressionPriorPanel
        return super().__new__(cls)

    def __init__(self) -> None:
        super().__init__()
        self._priors: dict[str, Prior] = {}
        self.controls: dict[str, PriorControl] = {}
        self._callbacks: list[Callable[[dict[str, Prior]], None]] = []

    # ------------------------------------------------------------------ to define in a form
    def _check(self, priors: dict[str, Prior]) -> dict[str, Prior]:  # pragma: no cover
        """Validate a whole set of priors; raise ``ValueError``/``TypeError`` if invalid."""
        raise NotImplementedError

    def _redraw(self, changed: set[str]) -> None:  # pragma: no cover
        """Update the figures after the priors ``changed`` changed."""
        raise NotImplementedError

    def _families(self, name: str) -> list[str]:  # pragma: no cover
        """The families prior ``name`` may take."""
        raise NotImplementedError

    # ------------------------------------------------------------------ public API
    @property
    def priors(self) -> dict[str, Prior]:
        """The current priors, name -> :class:`~mi_workbench.models.Prior` (a new dict)."""
        return dict(self._priors)

    def set_prior(self, name: str, family: str | None = None, **params: float) -> Prior:
        """Change prior ``name``'s family and/or parameters, as its controls do.

        A new ``family`` without all of its parameters starts from the member of that family
        with about the same 90 % interval as the current prior; ``params`` then override.

        Returns the new prior. Raises ``ValueError``/``TypeError`` (naming the prior) on invalid
        input, and then leaves the panel unchanged.

        Examples
        --------
        >>> panel.set_prior("noise", family="Exponential")  # doctest: +SKIP
        Exponential(lam=0.608)
        """
        current = self._current(name)
        try:
            prior = current
            if family is not None:
                family = family_name(family)
                if family not in self._families(name):
                    raise ValueError(
                        f"family {family!r} is not allowed here; allowed: {self._families(name)}"
                    )
                if family != current.family:
                    if set(params) >= set(family_parameters(family)):
                        prior = Prior(family, **params)
                        params = {}
                    else:
                        prior = current.as_family(family)
            if params:
                prior = prior.replace(**params)
            self._apply(name, prior)
        except (ValueError, TypeError) as error:
            raise _named(name, error) from None
        return self._priors[name]

    def elicit(
        self, name: str, lower: float, upper: float, mass: float = 0.9, family: str | None = None
    ) -> Prior:
        """Set prior ``name`` from the statement "``mass`` of it lies between lower and upper".

        PreliZ's maximum-entropy fit (``preliz.maxent``) in the prior's current family, or in
        ``family``; the result holds ``mass`` in the interval to within 0.01, or this raises
        ``ValueError`` and nothing changes.

        Examples
        --------
        >>> panel.elicit("noise", 0.0, 0.5, mass=0.9).describe()  # doctest: +SKIP
        'HalfNormal(sigma=0.304)'
        """
        current = self._current(name)
        try:
            if family is None or family_name(family) == current.family:
                start: Prior | str = current
            else:
                start = family_name(family)
                if start not in self._families(name):
                    raise ValueError(
                        f"family {start!r} is not allowed here; allowed: {self._families(name)}"
                    )
                if start in _BOUNDED:  # keep the bounds that define the variable's support
                    start = current.as_family(start)
            if (start if isinstance(start, str) else start.family) == "Uniform":
                raise ValueError(
                    "a Uniform prior's bounds are the variable's range, so nothing is left to "
                    "elicit: switch the family to TruncatedNormal (or Beta on 0 to 1) to say "
                    "where the values lie"
                )
            self._apply(name, elicit(start, lower, upper, mass))
        except (ValueError, TypeError) as error:
            raise _named(name, error) from None
        return self._priors[name]

    def observe_priors(self, callback: Callable[[dict[str, Prior]], None]) -> None:
        """Call ``callback(priors)`` with the new priors dict after each valid change."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        self._callbacks.append(callback)

    def priors_table(self) -> pd.DataFrame:
        """The priors as a table: one row per prior, its family, parameters and 90 % interval."""
        rows = []
        for name, prior in self._priors.items():
            low, high = prior.interval(0.9)
            row = {"name": name, "family": prior.family, "prior": prior.describe()}
            row.update({f"param_{key}": value for key, value in prior.params.items()})
            row.update({"q05": low, "q95": high})
            rows.append(row)
        return pd.DataFrame(rows)

    def export_priors(self, path: str | os.PathLike) -> str:
        """Write :meth:`priors_table` to a CSV file (atomically); returns the path."""
        from mi_workbench.data import write_csv

        return str(write_csv(self.priors_table(), path))

    # ------------------------------------------------------------------ shared machinery
    def _current(self, name: object) -> Prior:
        if name not in self._priors:
            raise ValueError(f"no editable prior {name!r}; the priors are {list(self._priors)}")
        return self._priors[name]

    def _make_control(self, name: str, title: str | None = None) -> PriorControl:
        prior = self._priors[name]
        return PriorControl(
            name,
            prior,
            self._families(name),
            self._on_control,
            title=title,
            fixed_parameters=("lower", "upper") if prior.family in _BOUNDED else (),
        )

    def _on_control(self, name: str, changes: dict) -> None:
        """A user changed a control: apply it, or say why not and show the kept prior."""
        try:
            if "error" in changes:
                raise changes["error"]
            if "statement" in changes:
                lower, upper, mass = changes["statement"]
                self.elicit(name, lower, upper, mass)
            elif "family" in changes:
                self.set_prior(name, family=changes["family"])
            else:
                self.set_prior(name, **changes)
        except (ValueError, TypeError) as error:
            message = str(error)
            if not message.startswith("prior of"):
                message = f"prior of {name!r}: {message}"
            self._show_error(f"{message}. The last valid prior is kept.")
            self.controls[name].show(self._priors[name])

    def _apply(self, name: str, prior: Prior) -> None:
        """Validate, store, show and announce a new prior; raise and change nothing if invalid."""
        candidate = dict(self._priors)
        candidate[name] = prior
        candidate = self._check(candidate)
        if candidate == self._priors:
            self.controls[name].show(self._priors[name])
            self._clear_message()
            return
        self._priors = candidate
        self.controls[name].show(candidate[name])
        self._redraw({name})
        self._clear_message()
        for callback in list(self._callbacks):
            try:
                callback(self.priors)
            except Exception as error:  # a user's callback must not break the panel
                self._show_error(f"a callback registered with observe_priors failed: {error!r}")


def _named(name: str, error: Exception) -> Exception:
    """``error`` with a message that starts with the prior it is about (once)."""
    message = str(error)
    if not message.startswith(f"prior of {name!r}"):
        message = f"prior of {name!r}: {message}"
    return type(error)(message)


#: Families whose bounds define the variable's support: shown, not editable.
_BOUNDED = ("Uniform", "TruncatedNormal")


def control_grid(controls: Mapping[str, PriorControl]) -> widgets.Box:
    """The control groups side by side, wrapping onto new rows as the panel narrows."""
    return widgets.Box(
        [control.widget for control in controls.values()],
        layout={"display": "flex", "flex_flow": "row wrap", "width": "100%"},
    )
