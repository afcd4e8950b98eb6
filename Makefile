# mi-workbench: `make lab` starts JupyterLab on the lessons, `make test` runs every test.
# Both create .venv with Python 3.12 and install requirements.txt and the package first.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAB_PORT ?= 8888
LAB_IP ?= 127.0.0.1
PYTEST_ARGS ?=
# the suite runs on this many processes (pytest-xdist); 1 runs it in this process
PYTEST_WORKERS ?= 2

# Python 3.12: the first of these that runs (pyenv shims may exist without the version selected).
PYTHON312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 \
	/usr/local/bin/python3.12 /usr/bin/python3.12; do \
	  if $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1; then \
	    echo $$p; break; fi; done)

.PHONY: lab test venv lint format bench clean

$(PY):
	@if [ -z "$(PYTHON312)" ]; then echo "Python 3.12 was not found: install python3.12 and retry" >&2; exit 1; fi
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt 2> >(grep -v "^WARNING: Location" >&2)
	$(PY) -m pip install --quiet --no-deps -e . 2> >(grep -v "^WARNING: Location" >&2)
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (mi-workbench)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

lab: $(STAMP)
	@echo "Starting JupyterLab on notebooks/ (stop it with Ctrl-C)."
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --ip=$(LAB_IP) --port=$(LAB_PORT) \
		--no-browser $(if $(filter 0,$(shell id -u)),--allow-root,)

test: $(STAMP)
	$(PY) -m ruff check mi_workbench tests bench
	$(PY) -m pytest $(if $(filter 1,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist worksteal) $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check mi_workbench tests bench
	$(PY) -m ruff format --check mi_workbench tests bench

format: $(STAMP)
	$(PY) -m ruff format mi_workbench tests bench
	$(PY) -m ruff check --fix mi_workbench tests bench

bench: $(STAMP)
	$(PY) bench/prior_panel_latency.py
	$(PY) bench/mcmc_efficiency.py
	$(PY) bench/first_draw.py

clean:
	rm -rf $(VENV) .pytest_cache
