# Two commands that work on a fresh machine with only Python >= 3.11 and pip.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DURATION ?= 60
# Run a second time in pure Python (THALEX_MM_PURE_PYTHON=1) by `make test` (docs/build.md).
PURE_TESTS ?= tests/core tests/backtest tests/sim/engine tests/compiled
# The sources of the compiled modules (setup.py's COMPILED_MODULES lives in these folders): an
# edit re-runs the compiled install. tests/conftest.py also refuses a stale compiled build.
COMPILED_SOURCES := $(wildcard src/thalex_mm/core/*.py src/thalex_mm/backtest/*.py src/thalex_mm/sim/engine/*.py)

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py $(COMPILED_SOURCES)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/python -c "import thalex_mm; print('thalex-mm build:', thalex_mm.build_mode())"
	touch $@

run: $(VENV)/.installed
	$(BIN)/thalex-mm paper --duration $(DURATION)

test: $(VENV)/.installed
	$(BIN)/python -m pytest
	THALEX_MM_PURE_PYTHON=1 $(BIN)/python -m pytest $(PURE_TESTS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# Every benchmark in turn (compiled_profile.py is a profiler that needs perf: run it by hand).
# The side-by-side ones need hftbacktest: .venv/bin/pip install -e '.[dev,bench]'.
bench: $(VENV)/.installed
	@failed=""; for f in benchmarks/*.py; do \
	    case $$f in */compiled_profile.py) continue;; esac; \
	    echo "== $$f"; $(BIN)/python $$f || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "bench: failed:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
	rm -f src/*__mypyc*.so src/thalex_mm/_build_info.json
	find src -name '*.cpython-*.so' -delete
