"""The controls of one prior: family, one slider and text box per parameter, a statement.

Both forms of :class:`~mi_workbench.widgets.PriorPanel` (a user's ``pm.Model`` and the regression
on a table) show one :class:`PriorControl` per prior. The control owns its widgets and knows
nothing about models: a change a user makes is handed to ``on_change(name, changes)`` (a dict
such as ``{"sigma": 2.0}``, ``{"family": "Gamma"}`` or ``{"statement": (lower, upper, mass)}``);
the panel validates it, and calls :meth:`PriorControl.show` with the prior it kept, valid or not.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import ipywidgets as widgets

from mi_workbench._checks import check_finite_number
from mi_workbench.models.priors import Prior

#: Parameters on the whole real line (linear sliders); all others are > 0 (log sliders).
_LOCATION_PARAMETERS = ("mu", "alpha_loc", "lower", "upper")
#: A log slider spans the value times and divided by this factor.
_LOG_SPAN = 30.0
_STYLE = {"description_width": "52px"}


def _format(value: float) -> str:
    return f"{value:.6g}"


def _is_location(prior: Prior, parameter: str) -> bool:
    if parameter in _LOCATION_PARAMETERS:
        return True
    return prior.family == "Cauchy" and parameter == "alpha"


class PriorControl:
    """Controls of one prior: a family dropdown, parameter rows and a statement row.

    Parameters
    ----------
    name : str
        The prior's name (a model variable, or ``intercept``/``coefficients``/``noise``).
    prior : Prior
        The starting prior.
    families : list of str
        The families the dropdown offers (those with the variable's support).
    on_change : callable
        ``on_change(name, changes)`` for every change a user makes.
    title : str, optional
        HTML shown above the controls; default the name in bold.
    fixed_parameters : list of str
        Parameters shown as text, not editable (the bounds that define a variable's support).

    Attributes
    ----------
    widget : ipywidgets.VBox
        The controls.
    family : ipywidgets.Dropdown
    sliders, text_boxes : dict of str -> widget
        A slider and a text box (exact value) per editable parameter of the current family.
    lower, upper, mass : ipywidgets.Text
        The statement "``mass`` of the prior lies between ``lower`` and ``upper``".
    fit_button : ipywidgets.Button
        Sets the prior from the statement (PreliZ's maximum-entropy fit).
    """

    def __init__(
        self,
        name: str,
        prior: Prior,
        families: Sequence[str],
        on_change: Callable[[str, dict], None],
        *,
        title: str | None = None,
        fixed_parameters: Sequence[str] = (),
    ) -> None:
        self.name = name
        self._on_change = on_change
        self._fixed = tuple(fixed_parameters)
        self._syncing = 0
        self._prior = prior
        self.title = widgets.HTML(title if title is not None else f"<b>{name}</b>")
        self.family = widgets.Dropdown(
            options=list(families),
            value=prior.family,
            description="family",
            style=_STYLE,
            layout={"width": "230px"},
            disabled=len(families) < 2,
        )
        self.family.observe(self._on_family, names="value")
        self.sliders: dict[str, widgets.FloatSlider | widgets.FloatLogSlider] = {}
        self.text_boxes: dict[str, widgets.Text] = {}
        self._rows = widgets.VBox([])
        self.fixed_note = widgets.HTML("")
        self.lower = widgets.Text(placeholder="from", layout={"width": "62px"})
        self.upper = widgets.Text(placeholder="to", layout={"width": "62px"})
        self.mass = widgets.Text(value="0.9", layout={"width": "46px"})
        self.fit_button = widgets.Button(
            description="Fit",
            tooltip="Set the prior so that this probability lies between the two values",
            layout={"width": "46px"},
        )
        self.fit_button.on_click(lambda _button: self._on_fit())
        statement = widgets.HBox(
            [
                widgets.HTML("<span title='a statement an expert can make'>P(</span>"),
                self.lower,
                widgets.HTML("&le; x &le;"),
                self.upper,
                widgets.HTML(")&nbsp;="),
                self.mass,
                self.fit_button,
            ]
        )
        self.widget = widgets.VBox(
            [self.title, self.family, self._rows, self.fixed_note, statement],
            layout={"margin": "0 14px 8px 0", "width": "330px"},
        )
        self._build_rows(prior)
        self.show(prior)

    @property
    def prior(self) -> Prior:
        """The prior the controls show."""
        return self._prior

    # ------------------------------------------------------------------ showing a prior
    def _build_rows(self, prior: Prior) -> None:
        self.sliders, self.text_boxes = {}, {}
        rows = []
        for parameter in prior.parameters:
            if parameter in self._fixed:
                continue
            value = prior.params[parameter]
            if _is_location(prior, parameter):
                spread = _spread(prior)
                slider = widgets.FloatSlider(
                    value=value,
                    min=value - 5 * spread,
                    max=value + 5 * spread,
                    step=spread / 50,
                    description=parameter,
                    readout=False,
                    style=_STYLE,
                    layout={"width": "230px"},
                )
            else:
                slider = widgets.FloatLogSlider(
                    value=value,
                    base=10,
                    min=math.log10(value / _LOG_SPAN),
                    max=math.log10(value * _LOG_SPAN),
                    step=0.01,
                    description=parameter,
                    readout=False,
                    style=_STYLE,
                    layout={"width": "230px"},
                )
            text = widgets.Text(
                value=_format(value), continuous_update=False, layout={"width": "80px"}
            )
            slider.observe(functools.partial(self._on_slider, parameter), names="value")
            text.observe(functools.partial(self._on_text, parameter), names="value")
            self.sliders[parameter], self.text_boxes[parameter] = slider, text
            rows.append(widgets.HBox([slider, text]))
        self._rows.children = tuple(rows)
        shown = [p for p in prior.parameters if p in self._fixed]
        self.fixed_note.value = (
            "<small>" + ", ".join(f"{p} = {_format(prior.params[p])}" for p in shown) + "</small>"
            if shown
            else ""
        )

    def show(self, prior: Prior) -> None:
        """Show ``prior`` in the controls (without calling ``on_change``)."""
        self._syncing += 1
        try:
            if prior.family != self._prior.family or set(self.sliders) != {
                p for p in prior.parameters if p not in self._fixed
            }:
                self._build_rows(prior)
            self._prior = prior
            self.family.value = prior.family
            for parameter, slider in self.sliders.items():
                value = prior.params[parameter]
                if isinstance(slider, widgets.FloatLogSlider):
                    exponent = math.log10(value)
                    slider.min = min(slider.min, exponent)
                    slider.max = max(slider.max, exponent)
                else:
                    slider.min = min(slider.min, value)
                    slider.max = max(slider.max, value)
                slider.value = value
                self.text_boxes[parameter].value = _format(value)
            self.fixed_note.value = self.fixed_note.value  # rebuilt with the rows when needed
        finally:
            self._syncing -= 1

    # ------------------------------------------------------------------ user changes
    def _on_slider(self, parameter: str, change: dict) -> None:
        if self._syncing:
            return
        new = float(change["new"])
        if self._is_snap(parameter, new):
            return
        self._on_change(self.name, {parameter: new})

    def _is_snap(self, parameter: str, new: float) -> bool:
        """Whether a slider change is the browser rounding the prior's value to its step grid.

        A slider in the browser only takes values on its grid of steps; shown a value between two
        of them (a typed value, or a prior read from a model), it rounds and sends the rounded
        value back. That is no change by the user: a drag or a key press moves at least one
        whole step, a rounding less than half of one.
        """
        slider = self.sliders[parameter]
        current = self._prior.params.get(parameter)
        if current is None:
            return False
        if isinstance(slider, widgets.FloatLogSlider):
            if new <= 0 or current <= 0:
                return False
            distance = abs(math.log(new, slider.base) - math.log(current, slider.base))
        else:
            distance = abs(new - current)
        return distance < 0.5 * slider.step

    def _on_text(self, parameter: str, change: dict) -> None:
        if self._syncing:
            return
        try:
            value = check_finite_number(parameter, change["new"])
        except (TypeError, ValueError) as error:
            self._on_change(self.name, {"error": error})
            return
        self._on_change(self.name, {parameter: value})

    def _on_family(self, change: dict) -> None:
        if not self._syncing:
            self._on_change(self.name, {"family": change["new"]})

    def _on_fit(self) -> None:
        try:
            statement = tuple(
                check_finite_number(label, box.value)
                for label, box in (
                    ("lower", self.lower),
                    ("upper", self.upper),
                    ("mass", self.mass),
                )
            )
        except (TypeError, ValueError) as error:
            self._on_change(self.name, {"error": error})
            return
        self._on_change(self.name, {"statement": statement})


def _spread(prior: Prior) -> float:
    """A typical width of ``prior`` for the range of a location slider."""
    low, high = prior.interval(0.9)
    width = (high - low) / 2 if math.isfinite(high - low) else 1.0
    return width if width > 0 else 1.0
