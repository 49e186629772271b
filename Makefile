# One-command set-up on a fresh machine with Python >= 3.11:
#   make book   venv + install + execute every chapter (PROFILE=stored) + render the HTML book (_build/html/)
#   make test   what CI runs (.ci/run), stage by stage with timings
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# stored: the paper profile where results/paper/ holds complete results, quick elsewhere (README)
PROFILE ?= stored
# chapters at once, each in its own process with cores/JOBS numba threads (same numbers for any JOBS)
JOBS ?= 2
# the sensitivity job's chapters in CI: one per engine driver (ness, evolve/RNW, otoc, exact
# dimer, momentum histograms, autocorrelation); `replicate check sensitivity` alone runs every
# Ferrari chapter (seventeen, about 10 min on 2 cores)
SENSITIVITY ?= ferrari-fig1 ferrari-fig5 ferrari-fig8 ferrari-fig9 ferrari-fig14 ferrari-fig16
STAGE := STAGE_LOG=$(CURDIR)/_build/stages.log bash .ci/stage
export PYTHONHASHSEED := 0

.PHONY: book test venv clean

$(BIN)/replicate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[book,test]"
	@touch $@

venv: $(BIN)/replicate

book: venv
	$(BIN)/replicate build --profile $(PROFILE) --jobs $(JOBS)
	@echo "book: $(CURDIR)/_build/html/index.html"

test:
	@mkdir -p _build && rm -f _build/stages.log
	$(STAGE) install $(MAKE) --no-print-directory venv
	$(STAGE) unit $(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile tests
	$(STAGE) store $(BIN)/replicate cache recompute --cache results/paper --sample 4
	$(STAGE) chapters $(BIN)/replicate execute --profile quick --jobs $(JOBS)
	$(STAGE) regress $(BIN)/replicate regress
	$(STAGE) seed $(BIN)/replicate check seed --jobs $(JOBS) --workdir _build/check-seed
	$(STAGE) sensitivity $(BIN)/replicate check sensitivity --jobs $(JOBS) $(SENSITIVITY:%=--only %) --workdir _build/check-sensitivity
	$(STAGE) nbval env NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(JOBS) --dist loadscope --nbval-lax -p no:cacheprovider book/executed
	$(STAGE) html $(BIN)/replicate render
	$(STAGE) chromium bash .ci/ensure-chromium
	$(STAGE) pages $(BIN)/python .ci/check_pages.py _build/html
	@echo "--- stage timings (s) ---" && cat _build/stages.log

clean:
	rm -rf _build book/executed book/scorecard.md book/_static/mathjax replicate-runs
