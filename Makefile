# Kairos — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install install-dev run chat test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installed again only when pyproject.toml changes (the install is editable: code
# changes need none), so `make run` starts at once after the first time.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e . 2>$(VENV)/install.log || (cat $(VENV)/install.log; exit 1)
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]' 2>$(VENV)/install.log || (cat $(VENV)/install.log; exit 1)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## Install and start Kairos on its embedded default (SQLite, console chat, http://127.0.0.1:8080/healthz).
run: install
	$(BIN)/kairos run

## Install and open the console chat only.
chat: install
	$(BIN)/kairos chat

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy core bot integrations

unit: install-dev
	$(BIN)/pytest -q

## Install and run the whole test suite: lint, type checks and tests (needs PostgreSQL on 127.0.0.1:5432).
test: lint typecheck unit

bench: install-dev
	$(BIN)/kairos bench scheduler

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
