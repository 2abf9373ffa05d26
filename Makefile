# The README's commands. Each target creates .venv and installs what it needs,
# so a fresh machine needs only Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BASE   := $(VENV)/.installed-base
DEV    := $(VENV)/.installed-dev
DEMO_DB ?= sqlite:///demo.db

.PHONY: demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(BASE): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(BASE)

demo: $(BASE)  ## the main job: the marketplace story on a fresh SQLite database
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/azora-store init --db $(DEMO_DB)
	$(BIN)/azora-store doctor --db $(DEMO_DB)

test: $(DEV)  ## every test, on SQLite and on PostgreSQL ($$AZORA_TEST_PG_URL)
	$(BIN)/pytest

lint: $(DEV)
	$(BIN)/ruff check .

format: $(DEV)
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .benchmarks demo.db demo.db-wal demo.db-shm
