# Rencontres: `make run` to try it, `make test` to check it. See README.md.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app wsgi

.PHONY: run worker install install-dev translations migrate test lint format bench extract-messages update-messages clean

run: migrate
	@echo "Rencontres: http://$(HOST):$(PORT) (Ctrl+C stops the web app and the worker)"
	@$(BIN)/huey_consumer app.jobs.huey --workers 2 --logfile instance/worker.log & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

worker: migrate
	$(BIN)/huey_consumer app.jobs.huey --workers 2

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on the PATH)."; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create .venv: on Debian, install the venv module with 'apt-get install python3-venv'."; exit 1; }

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

translations: $(VENV)/.installed
	@$(BIN)/pybabel -q compile -d translations

migrate: install translations
	@mkdir -p instance
	@$(FLASK) db upgrade

test: install-dev translations
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install-dev translations
	@failed=""; for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || failed="$$failed $$script"; done; \
	if [ -n "$$failed" ]; then echo "Failed:$$failed"; exit 1; fi

extract-messages: install
	$(BIN)/pybabel -q extract --ignore-dirs '.*' --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i translations/messages.pot -d translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
