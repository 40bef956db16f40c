# The two commands of the README: `make run` and `make test`. Both build .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# PostgreSQL for the suite: every database test also runs there when this is non-empty.
# `make test CROSSDOCK_TEST_POSTGRES_URL=` runs on SQLite alone.
CROSSDOCK_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export CROSSDOCK_TEST_POSTGRES_URL

.PHONY: run test lint format bench install clean

FIXTURE_PACKAGE := $(shell find tests/fixtures/acme-wms-connector -name '*.py' -o -name pyproject.toml)

$(STAMP): pyproject.toml $(FIXTURE_PACKAGE)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# A connector shipped as its own distribution: the suite proves the hub finds it.
	$(BIN)/python -m pip install --quiet ./tests/fixtures/acme-wms-connector
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/crossdock serve

test: $(STAMP)
	$(BIN)/crossdock contracts check
	$(BIN)/crossdock governance check
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
