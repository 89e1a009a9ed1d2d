# Two commands on a fresh machine: `make run` (the product with demo data) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint bench messages

$(VENV)/.installed: requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Embedded defaults: SQLite and kombu's filesystem broker unless DATABASE_URL / CELERY_BROKER_URL say otherwise.
run: export DEBUG ?= true
run: export HOST ?= 127.0.0.1
run: export PORT ?= 8000
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --url "http://$(HOST):$(PORT)"
	$(PY) manage.py seed_demo_sessions
	$(PY) manage.py seed_demo_history
	$(PY) manage.py seed_billing_demo
	bin/dev-server

# Uses DATABASE_URL / REDIS_URL when set, else PostgreSQL and Redis on localhost when they answer, else SQLite.
test: install
	$(PY) -m tests.run $(ARGS)

# mypy's Django plugin, makemigrations, makemessages and the benchmarks load the settings with DEBUG off, which
# refuse to start without a key: a fresh random one per run, never one written in the source.
lint bench messages: export SECRET_KEY ?= $(shell $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')

# ruff, the one-way layers of the apps (import-linter, [tool.importlinter]), the types (mypy with
# django-stubs, [tool.mypy]) and migrations that match the models.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) -m benchmarks.run $(ARGS)

# Refresh the translation catalogues after changing user-facing strings.
messages: install
	$(PY) manage.py makemessages --locale ru --no-obsolete --add-location file --ignore ".venv/*" --ignore "tests/*"
	$(PY) manage.py compilemessages --locale ru --ignore ".venv/*"
