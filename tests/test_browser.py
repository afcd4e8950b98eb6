"""Lesson 01 in a real JupyterLab, driven in Debian's headless Chromium through Playwright.

The test starts ``jupyter lab`` on 127.0.0.1 (a free port, a random token) on a temporary copy of
``notebooks/``, opens lesson 01, runs all cells from the Run menu, waits until every cell has
finished and the kernel is idle, then moves the first slider of the prior panel with the keyboard
as a participant would and checks that the prior-density curve on screen changed and that no error
output appeared. Screenshots are saved to ``tests/artifacts/`` (always ``prior_panel.png``; on
failure also the whole page); ``docs/images/prior_panel.png`` in the README is a copy of the
former.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``): without it the test is skipped, except
under CI (``CI`` set), where it fails. Run it alone with ``pytest tests/test_browser.py``.

``binder/check`` runs the lesson-01 test against the server it starts in the Binder environment,
the way Binder starts it: ``MI_WORKBENCH_LAB_URL`` (with ``MI_WORKBENCH_LAB_TOKEN``, the folder of
the lessons below the server's root in ``MI_WORKBENCH_LAB_NOTEBOOKS`` and the server's log in
``MI_WORKBENCH_LAB_LOG``) makes the tests use that server instead of starting their own. Its
unattended settings are the same file, ``tests/browser_lab_settings.json``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOK = "01_descriptors_and_regression.ipynb"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_SECONDS = 120
RUN_ALL_SECONDS = 600  # compiling and sampling the lesson's models take 60-90 s on 2 cores
UPDATE_SECONDS = 30
SLIDER_KEY_PRESSES = 5

# JupyterLab settings for an unattended run (no news or update pop-ups, no autosave, every cell
# rendered: a windowed notebook may leave cells outside the viewport unrendered) and the server's
# configuration; binder/check gives the same settings to the server it starts.
LAB_SETTINGS = json.loads((Path(__file__).with_name("browser_lab_settings.json")).read_text())
LAB_USER_SETTINGS = LAB_SETTINGS["user_settings"]
SERVER_CONFIG = LAB_SETTINGS["server_config"]

# A cell's output that shows an error: a Python exception or a traceback written to stderr.
ERROR_OUTPUT = (
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"], '
    '.jp-RenderedText[data-mime-type*="error"], '
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ':has-text("Traceback")'
)
# The first prior panel of lesson 01, found by the CSS class every PriorPanel carries. Its first
# figure is the prior-density figure.
PANEL = ".mi-prior-panel"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the browser test must run)")
        pytest.skip(reason)
    return CHROMIUM


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: its address, token, server log and the lessons' folder in its root."""

    base_url: str
    token: str
    log_path: Path
    notebooks: str = ""  # the lessons' folder below the server's root, "" or ending in "/"

    def tree_url(self, notebook: str, workspace: str = "") -> str:
        workspace_part = f"/workspaces/{workspace}" if workspace else ""
        reset = "reset&" if workspace else ""
        return (
            f"{self.base_url}/lab{workspace_part}/tree/{self.notebooks}{notebook}"
            f"?{reset}token={self.token}"
        )


def _external_lab() -> Lab | None:
    """The server named by ``MI_WORKBENCH_LAB_URL`` (binder/check starts it), if any."""
    url = os.environ.get("MI_WORKBENCH_LAB_URL")
    if not url:
        return None
    notebooks = os.environ.get("MI_WORKBENCH_LAB_NOTEBOOKS", "").strip("/")
    return Lab(
        base_url=url.rstrip("/"),
        token=os.environ.get("MI_WORKBENCH_LAB_TOKEN", ""),
        log_path=Path(os.environ.get("MI_WORKBENCH_LAB_LOG", os.devnull)),
        notebooks=f"{notebooks}/" if notebooks else "",
    )


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, chromium):
    """A running ``jupyter lab`` on a copy of the notebooks (or the one binder/check started)."""
    external = _external_lab()
    if external is not None:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _answers(f"{external.base_url}/api/status?token={external.token}"):
            if time.monotonic() > deadline:
                pytest.fail(f"{external.base_url} did not answer in {SERVER_START_SECONDS} s")
            time.sleep(0.5)
        yield external
        return
    root = tmp_path_factory.mktemp("lab")
    notebooks = root / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = root / "user-settings"
    for name, values in LAB_USER_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    config = root / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))

    port, token = _free_port(), secrets.token_hex(24)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        JUPYTER_DATA_DIR=str(root / "data"),
        MI_WORKBENCH_FAST="1",  # the kernel inherits it: fewer draws, same cells
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebooks}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={root / 'workspaces'}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = root / "jupyter-lab.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        command,
        cwd=notebooks,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _answers(f"{base_url}/api/status?token={token}"):
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited with {server.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer in {SERVER_START_SECONDS} s")
            time.sleep(0.5)
        yield Lab(base_url, token, log_path)
    finally:
        # The kernels run in sessions of their own: note them now, so that none outlives the test
        # (a kernel left sampling would slow every later test down).
        running = server.poll() is None
        children = psutil.Process(server.pid).children(recursive=True) if running else []
        if running:
            request = urllib.request.Request(
                f"{base_url}/api/shutdown",
                method="POST",
                headers={"Authorization": f"token {token}"},
            )
            try:  # a clean shutdown also stops the kernels
                urllib.request.urlopen(request, timeout=10).close()
                server.wait(timeout=20)
            except (
                urllib.error.URLError,
                ConnectionError,
                TimeoutError,
                subprocess.TimeoutExpired,
            ):
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        _gone, alive = psutil.wait_procs(children, timeout=10)
        for process in alive:
            process.kill()
        psutil.wait_procs(alive, timeout=10)
        log.close()


def _curve_paths(panel) -> list[str]:
    """The SVG path data of every line in the panel's first (prior-density) figure."""
    figure = panel.locator(".js-plotly-plot").first
    return figure.locator(".scatterlayer .trace path.js-line").evaluate_all(
        "paths => paths.map(p => p.getAttribute('d'))"
    )


def _wait_for_idle_kernel(page) -> None:
    """The status bar names the kernel and shows it idle (so Run All will not ask for one)."""
    idle = page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle"))
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not idle.count():
        select = page.locator(".jp-Dialog .jp-mod-accept", has_text="Select")
        if select.count():  # JupyterLab asked for a kernel: take the notebook's own
            select.first.click()
        if time.monotonic() > deadline:
            raise AssertionError(f"no idle kernel after {SERVER_START_SECONDS} s")
        page.wait_for_timeout(500)


def _wait_until_all_cells_ran(page, timeout_s: float) -> None:
    """Every code cell shows an execution count (none is ``[*]`` or empty) and the kernel is idle,
    or a cell raised (Run All stops there, so waiting longer would only time out)."""
    page.wait_for_function(
        """() => {
            const raised = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]';
            if (document.querySelector(raised)) return true;
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            if (prompts.length === 0) return false;
            const done = prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            const indicator = '.jp-Notebook-ExecutionIndicator[data-status="busy"]';
            return done && !document.querySelector(indicator);
        }""",
        timeout=timeout_s * 1000,
        polling=500,
    )


def test_prior_panel_slider_moves_the_curve_in_jupyterlab(lab_server):
    playwright_api = pytest.importorskip("playwright.sync_api")
    lab = lab_server
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        console_errors: list[str] = []
        page.on("pageerror", lambda exc: console_errors.append(str(exc)))
        try:
            page.goto(lab.tree_url(NOTEBOOK), timeout=120_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            _wait_for_idle_kernel(page)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            _wait_until_all_cells_ran(page, RUN_ALL_SECONDS)

            errors = page.locator(ERROR_OUTPUT)
            assert errors.count() == 0, f"error output after Run All:\n{errors.first.inner_text()}"

            panel = page.locator(PANEL).first
            panel.wait_for(timeout=60_000)
            panel.scroll_into_view_if_needed()
            panel.locator(".js-plotly-plot .scatterlayer .trace path.js-line").first.wait_for(
                timeout=60_000
            )
            before = _curve_paths(panel)
            assert before and all(before), "the prior-density figure shows no curve"

            handle = panel.locator(".widget-slider .noUi-handle").filter(visible=True).first
            start_value = float(handle.get_attribute("aria-valuenow"))
            handle.focus()
            for _ in range(SLIDER_KEY_PRESSES):
                handle.press("ArrowRight")
            deadline = time.monotonic() + UPDATE_SECONDS
            after = _curve_paths(panel)
            while after == before and time.monotonic() < deadline:
                page.wait_for_timeout(250)
                after = _curve_paths(panel)
            page.wait_for_timeout(1000)  # let the last key press arrive before the screenshot
            panel.screenshot(path=str(ARTIFACTS / "prior_panel.png"))

            assert float(handle.get_attribute("aria-valuenow")) > start_value, (
                "the slider did not move with the ArrowRight key"
            )
            assert after != before, (
                f"the prior-density curve did not change within {UPDATE_SECONDS} s "
                "after moving the first slider"
            )
            errors = page.locator(ERROR_OUTPUT)
            assert errors.count() == 0, (
                f"error output after the slider move:\n{errors.first.inner_text()}"
            )
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "browser_failure.png"), full_page=True)
            (ARTIFACTS / "browser_failure.html").write_text(page.content())
            shutil.copy(lab.log_path, ARTIFACTS / "jupyter-lab.log")
            if console_errors:
                (ARTIFACTS / "browser_console_errors.txt").write_text("\n".join(console_errors))
            raise
        finally:
            browser.close()


# ---------------------------------------------------------------------------- general panels
# A notebook a researcher could write the day after the seminar: their own four-line model, the
# general prior panel, and a posterior panel that samples in the background.
GENERAL_NOTEBOOK = "general_panels_check.ipynb"
GENERAL_CELLS = [
    "import numpy as np\nimport pymc as pm\nfrom mi_workbench.widgets import PosteriorPanel, "
    "PriorPanel\n\nt = np.linspace(0.0, 5.0, 60)\nmeasured = np.exp(-0.7 * t) + "
    "np.random.default_rng(0).normal(0.0, 0.03, t.size)",
    'with pm.Model() as decay:\n    time_s = pm.Data("time_s", t)\n'
    '    rate = pm.LogNormal("rate", 0.0, 0.5)\n    noise = pm.HalfNormal("noise", 0.1)\n'
    '    pm.Normal("signal", pm.math.exp(-rate * time_s), noise, observed=measured)',
    "prior_panel = PriorPanel(decay)\nprior_panel",
    "posterior_panel = PosteriorPanel(prior_panel, draws=200, tune=200)\nposterior_panel",
    "first = posterior_panel.sample()  # an earlier posterior, which Cancel must keep\n"
    "posterior_panel.draws = 2_000_000  # the next sampling is long enough to cancel",
]
GENERAL_SECONDS = 300


def _write_notebook(base_url: str, token: str, name: str, cells: list[str]) -> None:
    """Create a notebook through the server's contents API (it lands in the lab's root)."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": src,
                "outputs": [],
                "execution_count": None,
            }
            for src in cells
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (mi-workbench)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
    request = urllib.request.Request(
        f"{base_url}/api/contents/{name}",
        data=body,
        method="PUT",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=30).close()


def _run_new_cell(page, code: str) -> None:
    """Add a cell below the last one, type ``code`` into it and run it (Shift+Enter)."""
    last = page.locator(".jp-Notebook .jp-Cell").last
    last.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")  # command mode
    page.keyboard.press("b")  # a new cell below
    page.keyboard.press("Enter")  # edit mode: typed keys are code, not shortcuts
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")


def _figure_paths(figure) -> list[str]:
    return figure.locator(".scatterlayer .trace path.js-line").evaluate_all(
        "paths => paths.map(p => p.getAttribute('d'))"
    )


def test_general_panels_in_jupyterlab_sample_in_background_and_cancel(lab_server):
    """Move a prior control and see the predictive change; Sample; run a cell meanwhile;
    Cancel and find the earlier posterior kept."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    lab = lab_server
    _write_notebook(lab.base_url, lab.token, f"{lab.notebooks}{GENERAL_NOTEBOOK}", GENERAL_CELLS)
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        try:
            # a workspace of its own: only this notebook open (the lesson-01 test's tab, restored
            # from the default workspace, would hold cells that never run)
            page.goto(
                lab.tree_url(GENERAL_NOTEBOOK, workspace="general-panels"),
                timeout=120_000,
            )
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            _wait_for_idle_kernel(page)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            _wait_until_all_cells_ran(page, GENERAL_SECONDS)
            errors = page.locator(ERROR_OUTPUT)
            assert errors.count() == 0, f"error output after Run All:\n{errors.first.inner_text()}"

            # 1. a prior control moves the prior predictive curves
            prior = page.locator(".mi-model-prior-panel").first
            prior.scroll_into_view_if_needed()
            predictive = prior.locator(".js-plotly-plot").nth(1)
            predictive.locator(".scatterlayer .trace path.js-line").first.wait_for(timeout=60_000)
            before = _figure_paths(predictive)
            handle = prior.locator(".widget-slider .noUi-handle").filter(visible=True).first
            handle.focus()
            for _ in range(SLIDER_KEY_PRESSES):
                handle.press("ArrowRight")
            deadline = time.monotonic() + UPDATE_SECONDS
            after = _figure_paths(predictive)
            while after == before and time.monotonic() < deadline:
                page.wait_for_timeout(250)
                after = _figure_paths(predictive)
            prior.screenshot(path=str(ARTIFACTS / "model_prior_panel.png"))
            assert after != before, "the prior predictive did not change after a control moved"
            # showing the panel changed no prior that was not touched (the browser rounds a
            # slider to its steps and sends the rounded value back)
            _run_new_cell(
                page, 'print("untouched kept:", prior_panel.priors["noise"].sigma == 0.1)'
            )
            page.get_by_text("untouched kept: True").wait_for(timeout=60_000)

            # 2. Sample runs in the background: the kernel runs another cell meanwhile
            posterior = page.locator(".mi-model-posterior-panel").first
            posterior.scroll_into_view_if_needed()
            posterior.get_by_role("button", name="Sample posterior").click()
            cancel = posterior.get_by_role("button", name="Cancel")
            page.wait_for_function(
                "el => !el.disabled", arg=cancel.element_handle(), timeout=30_000
            )
            _run_new_cell(
                page, 'print("kernel answered while sampling:", posterior_panel.is_sampling)'
            )
            answer = page.get_by_text("kernel answered while sampling: True")
            answer.wait_for(timeout=60_000)

            # 3. Cancel stops it and keeps the earlier posterior
            cancel.click()
            posterior.get_by_text("Cancelled").wait_for(timeout=120_000)
            posterior.screenshot(path=str(ARTIFACTS / "model_posterior_panel.png"))
            _run_new_cell(page, 'print("earlier posterior kept:", posterior_panel.idata is first)')
            page.get_by_text("earlier posterior kept: True").wait_for(timeout=60_000)
            errors = page.locator(ERROR_OUTPUT)
            assert errors.count() == 0, f"error output:\n{errors.first.inner_text()}"
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "browser_general_failure.png"), full_page=True)
            shutil.copy(lab.log_path, ARTIFACTS / "jupyter-lab.log")
            raise
        finally:
            browser.close()
