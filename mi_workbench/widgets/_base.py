"""Pieces shared by the panels: display in a notebook, the message line, the sampling controls,
parameter units."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

import ipywidgets as widgets

from mi_workbench.data.tables import RegressionData

_ERROR_STYLE = "color:#b00020;font-weight:bold"
_INFO_STYLE = "color:#444"

_Result = TypeVar("_Result")


class Panel:
    """Base of the panels: a root ``.widget`` that a notebook displays, and a ``.message``."""

    widget: widgets.VBox

    def __init__(self) -> None:
        self.message = widgets.HTML(value="")
        self._error = ""
        self._running = False

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

    @property
    def css_classes(self) -> tuple[str, str]:
        """CSS classes of the displayed panel: ``mi-panel`` and one per panel type.

        For example ``("mi-panel", "mi-prior-panel")`` for :class:`PriorPanel`; browser tests and
        notebook styles find a panel by them.
        """
        kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", type(self).__name__).lower()
        return ("mi-panel", f"mi-{kebab}")

    def _repr_mimebundle_(self, **kwargs):
        for name in self.css_classes:
            if name not in self.widget._dom_classes:
                self.widget.add_class(name)
        return self.widget._repr_mimebundle_(**kwargs)

    def _set_progress(self, fraction: float) -> None:
        self.progress.value = float(min(max(fraction, 0.0), 1.0))

    def _run_busy(
        self, work: Callable[[], _Result], buttons: Sequence[widgets.Button], failure: str
    ) -> _Result | None:
        """Run ``work()`` with ``buttons`` disabled and ``self.progress`` going from 0 to 1.

        If it raises, the bar turns red, the message reads ``"<failure>: <error>"``, the
        previous results stay in place and ``None`` is returned.
        """
        self._running = True
        for button in buttons:
            button.disabled = True
        self.progress.value = 0.0
        self.progress.bar_style = ""
        try:
            outcome = work()
        except Exception as error:  # shown to the user; the previous results stay in place
            self.progress.bar_style = "danger"
            self._show_error(f"{failure}: {error}")
            return None
        finally:
            for button in buttons:
                button.disabled = False
            self._running = False
        self.progress.value = 1.0
        self.progress.bar_style = "success"
        return outcome


class SamplingPanel(Panel):
    """A panel with a "Sample posterior" button, a progress bar, a status and diagnostics line.

    Subclasses call :meth:`_build_sampling_controls` in their constructor and run their sampling
    through :meth:`_run_sampling`, which disables the button while it runs, reports progress,
    and shows any error in the panel while the previous results stay in place.
    """

    def _build_sampling_controls(self) -> None:
        self.sample_button = widgets.Button(
            description="Sample posterior",
            button_style="primary",
            icon="play",
            tooltip="Draw from the posterior with NUTS (the first run compiles the model)",
            layout={"width": "180px"},
        )
        self.sample_button.on_click(lambda _button: self.sample())
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, description="progress", layout={"width": "320px"}
        )
        self.status = widgets.HTML(value="")
        self.diagnostics_html = widgets.HTML(value="")

    def sample(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _run_sampling(self, work: Callable[[], _Result]) -> _Result | None:
        """Run ``work()`` with the button disabled; ``None`` (and a message) if it raised."""
        if self._running:
            return None
        self._show_info("Sampling ... (the first run with new priors compiles the model)")
        outcome = self._run_busy(work, [self.sample_button], "Sampling failed")
        if not self.error:
            self._clear_message()
        return outcome


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
