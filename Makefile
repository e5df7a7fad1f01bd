# Two commands on a fresh clone:  `make demo` (the main job)  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: demo test lint typecheck worker beat web clean browser-deps

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## demo: a full production cycle on the embedded defaults (SQLite, in-process tasks, stub Meta)
demo: export LOG_LEVEL ?= WARNING
demo: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py load_demo
	$(PY) manage.py run_cycle
	@echo "-- four simulated days later (the stub market follows --as-of):"
	$(PY) manage.py run_cycle --as-of "$$($(PY) -c 'import datetime as d; print((d.datetime.now(d.UTC) + d.timedelta(days=4, hours=1)).isoformat())')"
	@$(PY) manage.py shell -c "from variants.services.rendering import default_piece_cache as c; print(f'-- piece cache: {c().bytes_used() / 1e6:.0f} MB in {c().root}')"

## test: the whole suite (SQLite unless DATABASE_URL is set)
test: $(VENV)/.installed
	$(BIN)/pytest -q $(PYTEST_ARGS)

## browser-deps: Debian's Chromium and ChromeDriver for tests/browser (root; skipped when present)
BROWSER_DEBS := chromium chromium-driver
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
	  echo "browser-deps: already installed"; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "browser-deps: apt-get needs root: sudo make browser-deps" >&2; exit 1; \
	else \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $(BROWSER_DEBS) \
	    || { apt-get update -q && apt-get install -y -q --no-install-recommends $(BROWSER_DEBS); }; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

typecheck: $(VENV)/.installed
	$(BIN)/mypy productions variants promotion creative_engine

web: $(VENV)/.installed
	$(PY) manage.py runserver

worker: $(VENV)/.installed
	$(BIN)/celery -A config worker -Q default,render,meta -l info

beat: $(VENV)/.installed
	$(BIN)/celery -A config beat -l info

clean:
	rm -rf $(VENV) db.sqlite3 media .pytest_cache .mypy_cache .ruff_cache
