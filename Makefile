# Two set-up commands: `make demo` and `make test` (both create .venv if missing).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed
OUT    ?= out
PYTEST_ARGS ?=
# Tests run with one BLAS thread: the test processes are many small solves, which several
# OpenBLAS threads per process slow down several-fold on a small or busy machine (same results).
TEST_ENV := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: demo readme-results demo-check-clean test test-all lint doctest install clean bench bench-peer check-dist docs

$(STAMP): packages/dmfsharp/pyproject.toml packages/mcvd/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e 'packages/dmfsharp[plot,dask,fast,test]' -e 'packages/mcvd[plot,sim,dask,test]'
	touch $(STAMP)

install: $(STAMP)

# Writes only under $(OUT) (ignored by git): the clone stays clean.
demo: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/dmfsharp demo --out $(OUT)/dmfsharp
	$(BIN)/mcvd demo --out $(OUT)/mcvd
	$(BIN)/python scripts/assemble_report.py --out $(OUT)

# Copy the demo's summary tables into README.md's Results section: an explicit step, because it
# edits a tracked file (digits that differ between machines are bounded, e.g. "< 1e-14").
readme-results: demo
	$(BIN)/python scripts/assemble_report.py --out $(OUT) --readme README.md

# CI check: `make demo` must not change the working tree (`git status --porcelain` unchanged).
demo-check-clean: $(STAMP)
	@before="$$(git status --porcelain)"; \
	$(MAKE) --no-print-directory demo || exit 1; \
	after="$$(git status --porcelain)"; \
	if [ "$$before" != "$$after" ]; then \
		echo "make demo changed the working tree:"; git status --porcelain; exit 1; \
	fi; echo "make demo left the working tree as it was"

lint: $(STAMP)
	$(BIN)/ruff check packages benchmarks scripts tests docs
	$(BIN)/ruff format --check packages benchmarks scripts tests docs

# The runnable Examples section of every public docstring.
doctest: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest --doctest-modules --import-mode=prepend -q packages/dmfsharp/src packages/mcvd/src

# Test folders: both libraries, and the repository's own (README blocks, report assembly).
TESTS := packages/dmfsharp/tests packages/mcvd/tests tests

# Fast tier: every test except those marked `slow` (long statistical validations), plus doctests.
test: lint doctest
	$(TEST_ENV) $(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS) $(TESTS)

# Everything, including the long validations.
test-all: lint doctest
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS) $(TESTS)

bench: $(STAMP)
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

# dmfsharp against its real peer (curvlinops; torch pinned so that nothing upgrades it).
bench-peer: $(STAMP)
	$(BIN)/python -m pip install --quiet curvlinops-for-pytorch 'torch==2.13.0'
	$(BIN)/python benchmarks/dmf_vs_curvlinops.py --threads 1

# Build both sdists and wheels; install them in clean environments outside the repository and
# run their smoke tests and the sdists' own tests (scripts/check_dist.py).
check-dist: $(STAMP)
	$(BIN)/python -m pip install --quiet build
	$(BIN)/python scripts/check_dist.py

$(DOCS_STAMP): $(STAMP) docs/requirements.txt
	$(BIN)/python -m pip install --quiet -r docs/requirements.txt
	touch $(DOCS_STAMP)

# The documentation site into $(OUT)/docs/html (warnings are errors; every gallery example runs
# and checks its numbers).
docs: $(DOCS_STAMP)
	$(BIN)/ruff check docs
	$(BIN)/python -m sphinx -q -W --keep-going -b html -d $(OUT)/docs/doctrees docs $(OUT)/docs/html
	@echo "open $(OUT)/docs/html/index.html"

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache docs/api docs/gallery docs/_generated docs/sg_execution_times.rst
