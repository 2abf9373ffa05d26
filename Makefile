# The README's commands. Each target creates .venv and installs what it needs,
# so a fresh machine needs only Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BASE   := $(VENV)/.installed-base
DEV    := $(VENV)/.installed-dev
DEMO_DB ?= sqlite:///demo.db
# make load / make soak: dataset scale, Locust run time and users, backends.
SCALE    ?= small
DURATION ?= 30s
USERS    ?= 8
BACKEND  ?= sqlite
# WORKERS=N: Locust distributed, a master and N worker processes (the master gates).
WORKERS  ?= 0
LOAD      = $(BIN)/python loadtests/run.py $(foreach b,$(BACKEND),--backend $(b)) --scale $(SCALE) -u $(USERS) --locust-workers $(WORKERS)

.PHONY: demo test test-fast bench lint format docs docs-cli clean load load-replica soak

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
	$(BIN)/azora-store demo --db $(DEMO_DB)

test: $(DEV)  ## every test, on SQLite and on PostgreSQL ($$AZORA_TEST_PG_URL)
	$(BIN)/pytest

test-fast: $(DEV)  ## the inner loop: every test but those marked slow
	$(BIN)/pytest -m "not slow"

bench: $(DEV)  ## the four target queries on both backends at $(SCALE) scale; gated by azora_store/bench/thresholds.toml
	$(BIN)/azora-store bench --scale $(SCALE) --json .benchmarks/bench-$(SCALE).json

load: $(DEV)  ## seed (or reuse) a database, serve it, bounded headless Locust, stop; gated
	$(LOAD) -t $(DURATION)

load-replica: $(DEV)  ## the workload on a private primary alone, then with a streaming replica; stale-read probe
	$(LOAD) -t $(DURATION) --replica

soak: $(DEV)  ## ten minutes of the same workload; reports server RSS at start and end
	$(LOAD) -t 10m --profile soak

docs: $(DEV)  ## build the docs site into site/; a broken link or reference fails
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-cli: $(DEV)  ## regenerate docs/cli.md from the commands' --help
	$(BIN)/python scripts/cli_reference.py

lint: $(DEV)
	$(BIN)/ruff check .

format: $(DEV)
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .benchmarks site demo.db demo.db-wal demo.db-shm demo.db.key
