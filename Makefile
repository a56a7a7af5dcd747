# Two set-up commands: `make demo` and `make test` (both create .venv if missing).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed
OUT    ?= out
PYTEST_ARGS ?=

.PHONY: demo test test-all lint doctest install clean bench check-dist docs

$(STAMP): packages/dmfsharp/pyproject.toml packages/mcvd/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e 'packages/dmfsharp[plot,dask,fast,test]' -e 'packages/mcvd[plot,sim,dask,test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/dmfsharp demo --out $(OUT)/dmfsharp
	$(BIN)/mcvd demo --out $(OUT)/mcvd
	$(BIN)/python scripts/assemble_report.py --out $(OUT) --readme README.md

lint: $(STAMP)
	$(BIN)/ruff check packages benchmarks scripts

# The runnable Examples section of every public docstring.
doctest: $(STAMP)
	$(BIN)/python -m pytest --doctest-modules --import-mode=prepend -q packages/dmfsharp/src packages/mcvd/src

# Fast tier: every test except those marked `slow` (long statistical validations), plus doctests.
test: lint doctest
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS) packages/dmfsharp/tests packages/mcvd/tests

# Everything, including the long validations.
test-all: lint doctest
	$(BIN)/python -m pytest $(PYTEST_ARGS) packages/dmfsharp/tests packages/mcvd/tests

bench: $(STAMP)
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

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
