# The two commands that matter: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_PASSWORD ?= botram-demo
# Two workers: the suite is I/O- and CPU-bound in equal parts and CI machines have two cores.
PYTEST_ARGS ?= -n 2

.PHONY: run test install translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d botram/translations

run: install
	$(BIN)/botram init
	$(BIN)/botram seed-demo --if-empty --password '$(DEMO_PASSWORD)'
	@echo "Demo password (unless changed): $(DEMO_PASSWORD)"
	@echo "Open http://$(HOST):$(PORT)/login"
	HOST=$(HOST) PORT=$(PORT) $(BIN)/botram serve

test: $(VENV)/.test-installed translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
