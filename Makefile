# The two commands that matter: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_PASSWORD ?= botram-demo
# Two workers: the suite is I/O- and CPU-bound in equal parts and CI machines have two cores.
PYTEST_ARGS ?= -n 2
# The whole staff writing at once (tests/e2e/test_staff_at_once.py) for 20 s here; .ci/run sets the full minute.
export BOTRAM_STAFF_TEST_SECONDS ?= 20

.PHONY: run test test-thorough install translations clean mutate

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

# `botram run` does it all (init, the demo when the database is empty, the logins, serve): the same command
# works where make does not (Windows: README).
run: install
	HOST=$(HOST) PORT=$(PORT) DEMO_PASSWORD='$(DEMO_PASSWORD)' $(BIN)/botram run

test: $(VENV)/.test-installed translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The property-based tests with Hypothesis's long profile (1000 examples a test instead of 60): minutes, not
# for every change. Any failure prints the seed to replay it (tests/hypothesis_profiles.py).
test-thorough: $(VENV)/.test-installed translations
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest $(PYTEST_ARGS) -m "hypothesis and not e2e"

$(VENV)/.mutate-installed: $(VENV)/.test-installed
	$(BIN)/pip install -q -e '.[test,mutate]'
	touch $@

# Mutation testing of the queue and funding rules (docs/mutation-testing.md); not part of `make test` or CI.
# One child by default: the machine is shared. MUTATE_CHILDREN=2 on a quiet one.
MUTATE_CHILDREN ?= 1
mutate: $(VENV)/.mutate-installed translations
	$(BIN)/python scripts/mutate_prepare.py
	cd build/mutate && ../../$(BIN)/mutmut run --max-children $(MUTATE_CHILDREN); \
		../../$(BIN)/mutmut results > ../mutate-results.txt; cat ../mutate-results.txt | tail -n 5
	$(BIN)/python scripts/mutate_score.py build/mutate

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
