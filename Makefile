# The commands the README names; CI runs the same ones.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PUNCH := $(VENV)/bin/punch
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_PG_URL ?= postgres://postgres@127.0.0.1:5432/punchclock

.PHONY: run install install-dev test lint typecheck migrations-check test-sqlite test-postgres browsers clean

$(VENV)/.installed: pyproject.toml
	@interpreter=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$interpreter"; "$$interpreter" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## Start Punchclock on the embedded SQLite database with the demo organization.
run: install
	$(PUNCH) serve --host $(HOST) --port $(PORT) --demo

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy punchclock

migrations-check: install-dev
	PUNCHCLOCK_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run

test-sqlite: install-dev
	$(VENV)/bin/pytest -n 2 -q

# PostgreSQL runs when reachable; PUNCHCLOCK_REQUIRE_POSTGRES=1 (CI) makes its absence an error.
test-postgres: install-dev
	@if $(PY) scripts/pg_reachable.py "$(TEST_PG_URL)"; then \
	  echo "== PostgreSQL"; PUNCHCLOCK_TEST_DATABASE_URL="$(TEST_PG_URL)" \
	    EINVOICE_EXAMPLES=$${EINVOICE_EXAMPLES:-20} $(VENV)/bin/pytest -n 2 -q; \
	elif [ -n "$$PUNCHCLOCK_REQUIRE_POSTGRES" ]; then \
	  echo "PostgreSQL is required but not reachable at $(TEST_PG_URL)"; exit 1; \
	else echo "== PostgreSQL not reachable at $(TEST_PG_URL): skipped (CI requires it)"; fi

## Everything: lint, types, migrations, the whole suite on SQLite and PostgreSQL.
test: lint typecheck migrations-check
	@echo "== SQLite"
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
