# The two commands: `make demo` (the main job, embedded defaults) and `make test` (the whole suite).
# Both bootstrap .venv from a bare python3 (3.11+).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SIGHTLINE := $(BIN)/sightline
SIGHTLINE_HOME ?= .sightline
export SIGHTLINE_HOME
# pytest-xdist workers. Most of the suite waits on child processes, Redis and SQLite rather than
# computing, so more workers than cores pays: on 2 cores, 4 workers beat 2 and 3 (measured).
TEST_WORKERS ?= 4

.PHONY: demo test lint bench venv clean assets

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres]"
	touch $(STAMP)

venv: $(STAMP)

# The pages' third-party JavaScript and CSS (rrweb-player) from the npm registry; without npm the
# pages load the same pinned files from a CDN with integrity hashes (api/assets.py).
assets: $(STAMP)
	$(BIN)/python scripts/assets.py

demo: $(STAMP) assets
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: $(STAMP) assets
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS)

bench: $(STAMP)
	$(BIN)/python -m bench.import_render
	$(BIN)/python -m bench.timeline_size
	$(BIN)/python -m bench.observe_throughput
	$(BIN)/python -m bench.schedule_next
	$(BIN)/python -m bench.scheduler_tick
	$(BIN)/python -m bench.grouping_quality
	$(BIN)/python -m bench.grouping_speed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
