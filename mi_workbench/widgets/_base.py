"""Pieces shared by the panels: display in a notebook, the message line, parameter units."""

from __future__ import annotations

import html

import ipywidgets as widgets

from mi_workbench.data.tables import RegressionData

_ERROR_STYLE = "color:#b00020;font-weight:bold"
_INFO_STYLE = "color:#444"


class Panel:
    """Base of the panels: a root ``.widget`` that a notebook displays, and a ``.message``."""

    widget: widgets.VBox

    def __init__(self) -> None:
        self.message = widgets.HTML(value="")
        self._error = ""

    @property
    def error(self) -> str:
        """The text of the current error message, ``''`` when everything is fine."""
        return self._error

    def _show_error(self, text: str) -> None:
        self._error = str(text)
        self.message.value = f'<div style="{_ERROR_STYLE}">{html.escape(self._error)}</div>'

    def _show_info(self, text: str) -> None:
        self._error = ""
        self.message.value = f'<div style="{_INFO_STYLE}">{html.escape(text)}</div>'

    def _clear_message(self) -> None:
        self._error = ""
        self.message.value = ""

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def parameter_units(data: RegressionData) -> dict[str, str]:
    """Units of the regression's parameters in the data's own units, where the data declare them.

    ``intercept`` and ``noise_sd`` carry the target's unit; ``coefficients[f]`` is the target's
    unit per unit of descriptor ``f``.
    """
    target_unit = data.units.get(data.target_name)
    if not target_unit:
        return {}
    units = {"intercept": target_unit, "noise_sd": target_unit}
    for name in data.feature_names:
        feature_unit = data.units.get(name)
        if feature_unit:
            units[f"coefficients[{name}]"] = f"{target_unit} per {feature_unit}"
    return units
