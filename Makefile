# Two commands for a newcomer: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portfolio
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: run serve test test-embedded test-real install install-dev services browser \
	migrate lint bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

## make run: embedded mode (SQLite + in-memory layer, server and feeds in one process)
run: migrate
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

## make test: lint, then the whole suite twice — embedded, then PostgreSQL + Redis
test: install-dev browser services
	$(MAKE) lint
	$(MAKE) test-embedded
	$(MAKE) test-real

test-embedded: install-dev
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest $(PYTEST_ARGS)

test-real: install-dev
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		CHANNEL_LAYER_PREFIX=test $(PY) -m pytest $(PYTEST_ARGS)

## Start PostgreSQL and Redis on 127.0.0.1 if they are not running.
services:
	@bash scripts/ensure-services.sh

## Debian's Chromium for the browser tests (Playwright never downloads one).
browser:
	@test -x /usr/bin/chromium || { echo "Installing Debian chromium for browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| { echo "ERROR: could not install chromium (apt). Install it: apt-get install chromium"; exit 1; }; }

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install-dev
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) staticfiles test-artifacts
