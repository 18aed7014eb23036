# campaign-mart — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DATA_DIR ?= data
CUSTOMERS ?= 20000

.PHONY: install demo run test test-all lint format ui bench clean help crash-nightly

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/cmart: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

install: $(BIN)/cmart  ## create .venv and install the project with its pinned stack

demo: install  ## generate a demo bank (CUSTOMERS=20000) and run the daily job end to end
	$(BIN)/cmart demo --data-dir $(DATA_DIR) --customers $(CUSTOMERS)

run: install  ## run the daily job on what is in $(DATA_DIR)/landing
	$(BIN)/cmart run --data-dir $(DATA_DIR)

test: install  ## lint, then the test suite (real DuckDB, dbt, Dagster, GX) minus `heavy` tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -q -m "not heavy" --durations=25; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

test-all: install  ## every test, `heavy` ones included (extra full pipeline runs)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -q --durations=25; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

lint:  ## ruff check + format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

crash-nightly: install  ## SIGKILL the daily work hundreds of times, re-run, compare (slow)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/crash_nightly.py

ui: install  ## the Dagster UI on http://127.0.0.1:3000
	$(BIN)/cmart ui --data-dir $(DATA_DIR)

clean:  ## remove runtime state under $(DATA_DIR) (keeps fixtures)
	rm -rf $(DATA_DIR)/landing $(DATA_DIR)/warehouse $(DATA_DIR)/exports $(DATA_DIR)/dagster \
	       $(DATA_DIR)/dbt $(DATA_DIR)/truth $(DATA_DIR)/published $(DATA_DIR)/outbox
