# Tongban — the three commands of the README contract: make demo, make test, make bench.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HOST PORT

.PHONY: demo test bench install lint format messages clean

# Install into the virtual environment once; again when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo --profile dongguan
	@echo "Serving Tongban at http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver --noreload $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

bench: install
	$(PY) bench/run.py

# Re-extract the message catalogues (needs GNU gettext) and compile them with polib (no gettext).
messages: install
	cd src/tongban && ../../$(PY) ../../manage.py makemessages -l en --no-obsolete
	$(PY) manage.py compile_catalogues

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
