# Two commands do everything on a fresh machine (Python 3.11 with venv is all it needs):
#   make demo   simulate data, run the example analysis, build the book (book/_build/html)
#   make test   run the whole test suite
# Both create the project's virtual environment (.venv) and install evaltk into it first.
# `make test` also installs the Debian packages of scripts/system-deps.sh (headless Chromium,
# LaTeX, poppler) when it runs as root with apt-get; otherwise it says which tests it skips.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install system-deps lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "evaltk needs Python 3.11 or newer: set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages for the browser test and `evaltk book --pdf`; skips what is installed.
system-deps:
	bash scripts/system-deps.sh

demo: $(STAMP)
	$(BIN)/evaltk demo

# pytest exits 5 when it collects no test; for this project that is a failure, said plainly.
# One BLAS thread per process: with 2 cores and 2 pytest workers, multithreaded OpenBLAS
# oversubscribes and a 15 ms decomposition can take 2 s.
test: $(STAMP)
	@bash scripts/system-deps.sh --or-warn
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadgroup --durations=15; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests: failing on purpose"; exit 1; fi; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check evaltk tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/bench_demo.py
	$(BIN)/python bench/bench_measures.py

clean:
	rm -rf book/_build book/analyses analyses/*/results analyses/*/data analyses/*/.evaltk build dist
