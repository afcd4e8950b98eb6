"""Pieces shared by the panels: display in a notebook, the message line, the sampling controls,
parameter units."""

from __future__ import annotations

import html
import re
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import ipywidgets as widgets
import pandas as pd

from mi_workbench.data.tables import RegressionData
from mi_workbench.inference.sampling import SamplingCancelled

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
    def css_classes(self) -> tuple[str, ...]:
        """CSS classes of the displayed panel: ``mi-panel`` and one per panel class.

        For example ``("mi-panel", "mi-model-prior-panel", "mi-prior-panel")`` for the
        :class:`PriorPanel` of a model; browser tests and notebook styles find a panel by them.
        """
        names = []
        for cls in type(self).__mro__:
            if cls in (Panel, SamplingPanel) or not issubclass(cls, Panel):
                break
            names.append("mi-" + re.sub(r"(?<!^)(?=[A-Z])", "-", cls.__name__).lower())
        return ("mi-panel", *names)

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
    """A panel with "Sample posterior" and "Cancel" buttons, progress, status and diagnostics.

    Subclasses call :meth:`_build_sampling_controls` in their constructor and run their sampling
    through :meth:`_launch`: in a background thread when the button is pressed (the kernel stays
    responsive, so another cell can run meanwhile), or in the calling thread from Python. While
    the model compiles the activity line says so and counts the seconds; while it samples the
    bar moves. **Cancel** stops the work within about a second and the previous results stay in
    place; so do they when the work fails, with the error shown in the panel.
    """

    def _build_sampling_controls(self) -> None:
        self.sample_button = widgets.Button(
            description="Sample posterior",
            button_style="primary",
            icon="play",
            tooltip="Draw from the posterior with NUTS (the first run compiles the model)",
            layout={"width": "180px"},
        )
        self.sample_button.on_click(lambda _button: self.sample(background=True))
        self.cancel_button = widgets.Button(
            description="Cancel",
            icon="stop",
            disabled=True,
            tooltip="Stop sampling; the previous posterior stays",
            layout={"width": "100px"},
        )
        self.cancel_button.on_click(lambda _button: self.cancel())
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, description="progress", layout={"width": "320px"}
        )
        self.activity = widgets.HTML(value="")
        self.status = widgets.HTML(value="")
        self.diagnostics_html = widgets.HTML(value="")
        self._cancel_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._stage: tuple[str, float] | None = None

    def sample(self, *, background: bool = False):  # pragma: no cover - every subclass has it
        raise NotImplementedError

    @property
    def is_sampling(self) -> bool:
        """Whether a sampling is running (in the background or not)."""
        return self._running

    def cancel(self) -> None:
        """Ask a running sampling to stop; the previous results stay in place."""
        if self._running:
            self._cancel_event.set()
            self.activity.value = _activity_html("cancelling ...")

    def wait(self, timeout: float | None = None):
        """Wait for a background sampling to end (at most ``timeout`` s); return ``idata``."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return getattr(self, "idata", None)

    def _set_stage(self, stage: str) -> None:
        self._stage = (stage, time.perf_counter())

    def _launch(
        self,
        work: Callable[[threading.Event, Callable[[float], None], Callable[[str], None]], _Result],
        accept: Callable[[_Result], None],
        *,
        background: bool,
    ) -> _Result | None:
        """Run ``work(cancel, on_progress, on_stage)``, then ``accept(outcome)``.

        ``work`` computes everything (it may raise :class:`SamplingCancelled` when ``cancel``
        is set); ``accept`` only stores and shows the outcome, so that a failure or a cancel
        leaves the previous results whole. With ``background=True`` this returns ``None`` at
        once; :meth:`wait` waits for the end.
        """
        if self._running:
            self._show_error("Sampling is already running: wait for it, or press Cancel.")
            return None
        self._running = True
        self._cancel_event = threading.Event()
        self.sample_button.disabled = True
        self.cancel_button.disabled = False
        self.progress.value = 0.0
        self.progress.bar_style = ""
        self._set_stage("starting")
        self._show_info("Sampling ... the previous results stay until the new ones are ready.")
        box: dict = {}

        def body() -> None:
            try:
                outcome = work(self._cancel_event, self._set_progress, self._set_stage)
                accept(outcome)
                box["outcome"] = outcome
            except SamplingCancelled as stop:
                self.progress.bar_style = "warning"
                self._show_info(f"Cancelled ({stop}); the previous results are kept.")
            except Exception as error:  # shown to the user; the previous results stay
                self.progress.bar_style = "danger"
                self._show_error(f"Sampling failed: {error}")
            else:
                self.progress.value = 1.0
                self.progress.bar_style = "success"
                self._clear_message()
            finally:
                self._stage = None
                self._running = False
                self.sample_button.disabled = False
                self.cancel_button.disabled = True
                self.activity.value = ""

        ticker = threading.Thread(target=self._tick, name="mi-workbench-activity", daemon=True)
        if background:
            self._thread = threading.Thread(target=body, name="mi-workbench-sampling", daemon=True)
            self._thread.start()
            ticker.start()
            return None
        self._thread = None
        ticker.start()
        body()
        return box.get("outcome")

    def _tick(self) -> None:
        """Say what the sampling is doing, and for how long, twice a second until it ends."""
        while self._running:
            stage = self._stage
            if stage is not None and not self._cancel_event.is_set():
                name, since = stage
                seconds = time.perf_counter() - since
                text = {
                    "compiling": "compiling the model (once per model and priors) ...",
                    "sampling": f"sampling ... {100 * self.progress.value:.0f} %",
                    "checking": "computing predictive checks and LOO ...",
                }.get(name, f"{name} ...")
                self.activity.value = _activity_html(f"{text} {seconds:.0f} s")
            time.sleep(0.5)


def _activity_html(text: str) -> str:
    return f'<span style="color:#555">{html.escape(text)}</span>'


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


#: File types the upload controls of the table panels accept (see ``data.read_table``).
TABLE_FILE_TYPES = ".csv,.tsv,.txt,.dat,.xlsx,.xlsm"


def table_upload() -> widgets.FileUpload:
    """The "Load table" control of the table panels (CSV or Excel, one file)."""
    return widgets.FileUpload(
        accept=TABLE_FILE_TYPES,
        multiple=False,
        description="Load table",
        tooltip="A CSV or Excel file with one row per observation; units in headers like 'T (K)'",
        layout={"width": "160px"},
    )


def read_uploaded_table(value) -> pd.DataFrame:
    """The table in a ``FileUpload``'s value, read with :func:`mi_workbench.data.read_table`.

    The bytes are written to a temporary file under the uploaded file's name (so that messages
    name it), read, and the file removed.
    """
    from mi_workbench.data import read_table

    files = list(value or ())
    if not files:
        raise ValueError("no file was uploaded")
    upload = files[-1]
    name = Path(str(upload["name"])).name or "upload.csv"
    with tempfile.TemporaryDirectory(prefix="mi-workbench-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(bytes(upload["content"]))
        try:
            return read_table(path)
        except (ValueError, TypeError) as error:
            raise type(error)(str(error).replace(str(path), name)) from None
