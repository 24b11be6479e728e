# onestop — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACK ?= az
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install install-test catalogues lint schema clean-demo

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

catalogues: $(VENV)/.installed
	$(PY) manage.py compilecatalogues

## make demo: install, migrate (SQLite, WAL, under var/), load packs/$(PACK), create demo
## accounts, then serve http://$(HOST):$(PORT) with `onestop scheduler` beside it.
demo: $(VENV)/.installed catalogues
	mkdir -p var
	ONESTOP_DEMO=1 ONESTOP_PACK=$(PACK) $(PY) manage.py migrate --noinput
	ONESTOP_DEMO=1 ONESTOP_PACK=$(PACK) $(PY) manage.py demo --pack $(PACK) --port $(PORT)
	ONESTOP_DEMO=1 ONESTOP_PACK=$(PACK) sh -c '\
	  $(VENV)/bin/onestop scheduler & sched=$$!; \
	  trap "kill $$sched 2>/dev/null" EXIT INT TERM; \
	  $(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --log-level warning'

## make test: install test dependencies and run the whole suite (DATABASE_URL selects the database).
test: $(VENV)/.installed-test catalogues
	mkdir -p var
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run > /dev/null \
	  || (echo "models changed without a migration" && exit 1)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: treating as a failure"; exit 1; fi; exit $$rc

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy onestop config

schema: $(VENV)/.installed
	$(PY) manage.py spectacular --file docs/openapi.yaml --validate

clean-demo:
	rm -rf var/onestop.sqlite3* var/outbox
