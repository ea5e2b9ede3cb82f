# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_CORE := $(VENV)/.installed-core
STAMP_DEV  := $(VENV)/.installed-dev

.PHONY: demo test lint bench fmt clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_CORE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_CORE)

venv: $(STAMP_DEV)

## demo: apply examples/network, place orders in five markets, run one simulated week, print the report
demo: $(STAMP_CORE)
	$(BIN)/microfab demo

## test: unit, contract (memory, SQLite, PostgreSQL) and end-to-end tests
test: $(STAMP_DEV)
	$(BIN)/python scripts/test_services.py -- $(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff (format + check), mypy --strict, import-linter layer contracts
lint: $(STAMP_DEV)
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP_DEV)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

## bench: benchmarks against their peer baselines (not part of make test)
bench: $(STAMP_DEV)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .microfab .pytest_cache .mypy_cache .ruff_cache
