# Liftboard: `make run` opens the app on the demo workspace; `make test` runs every test. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/workspace.duckdb
PORT ?= 8501

.PHONY: run test unit app e2e bench lint format demo clean browser

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(DB): | $(VENV)/.installed
	$(PY) -m analytics demo --db $(DB)

demo: $(VENV)/.installed
	$(PY) -m analytics demo --db $(DB) --force

run: $(VENV)/.installed $(DB)
	LIFTBOARD_DB=$(DB) $(PY) -m streamlit run server.py --server.address 127.0.0.1 --server.port $(PORT)

browser:  # Debian's chromium for the browser tests, and an emoji font so icons render in screenshots
	@if ! command -v chromium >/dev/null || ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then \
		command -v apt-get >/dev/null || { echo "error: the browser tests need Debian's chromium (apt-get install chromium)"; exit 2; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	fi

test: $(VENV)/.installed-dev browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

unit: $(VENV)/.installed-dev
	$(PY) -m pytest tests/unit

app: $(VENV)/.installed-dev
	$(PY) -m pytest tests/app

e2e: $(VENV)/.installed-dev browser
	$(PY) -m pytest tests/e2e

bench: $(VENV)/.installed-dev
	$(PY) -m pytest tests/bench -s -p no:cacheprovider --timeout 3600 -o testpaths=tests/bench -o python_files='bench_*.py'

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
