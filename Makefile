# Grid governance platform. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
SYSTEM_PYTHON := /usr/bin/python3

# Development defaults; override on the command line or in the environment.
export DEBUG ?= 1
export REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
SPATIALITE_TEST_URL ?= spatialite:///$(CURDIR)/var/test.sqlite3
POSTGIS_URL ?= postgis://governance:governance@127.0.0.1:5432/governance
PYTEST_ARGS ?=

.PHONY: help deps deps-test venv messages redis postgres migrate seed run test test-spatialite test-postgis bench lint clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

deps: ## Install the Debian packages needed to run (apt, only what is missing)
	@scripts/system-deps.sh run

deps-test: ## Install the Debian packages needed to test (PostGIS, chromium, fonts)
	@scripts/system-deps.sh test

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(SYSTEM_PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed ## Create .venv from Debian's Python 3.11 and install the pinned packages

messages: venv ## Compile the translations
	@$(PY) manage.py compilemessages -v 0 --ignore=.venv

redis: ## Make sure Redis answers at REDIS_URL (starts a local one if not)
	@scripts/ensure-redis.sh

postgres: ## Make sure a local PostgreSQL with PostGIS runs, with the governance role and database
	@scripts/ensure-postgres.sh

migrate: venv messages ## Create or update the database
	@mkdir -p var
	$(PY) manage.py migrate --no-input -v 1
	$(PY) manage.py check --database default

seed: migrate ## Load the demo city (idempotent)
	$(PY) manage.py seed_demo

run: deps venv redis seed ## Install what is missing, migrate, load the demo and serve web + worker + beat
	@scripts/run.sh

test: deps deps-test venv messages redis postgres ## Run the whole suite on SpatiaLite, then on PostGIS
	@scripts/test.sh

test-spatialite: venv messages redis ## Run the suite on SpatiaLite only
	@DATABASE_URL=$(SPATIALITE_TEST_URL) REDIS_URL=$(TEST_REDIS_URL) TEST_SPATIALITE_NAME=$(CURDIR)/var/test_db.sqlite3 \
		$(PYTEST) $(PYTEST_ARGS)

test-postgis: venv messages redis postgres ## Run the suite on PostGIS only
	@DATABASE_URL=$(POSTGIS_URL) REDIS_URL=$(TEST_REDIS_URL) $(PYTEST) $(PYTEST_ARGS)

bench: venv messages redis ## Run the benchmarks; results go to bench/results/*.json
	@scripts/bench.sh

lint: venv ## Check the code with ruff
	$(VENV)/bin/ruff check .

clean: ## Remove the virtual environment, local data and test artifacts
	rm -rf $(VENV) var .run test-artifacts staticfiles .pytest_cache .hypothesis
