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
# 128-bit SIMD for NumPy and numba (src/replicate/simd.py): the machine CI runs on computes wrong
# 256-bit divisions now and then; the guard keeps the numbers bit for bit and costs ~1/3 of the
# engine's speed. SIMD=native opts out on a sound machine.
SIMD ?= 128
export REPLICATE_SIMD := $(SIMD)
GUARD := $(BIN)/python -m replicate.simd --
export PYTHONHASHSEED := 0

.PHONY: book test venv clean

$(BIN)/replicate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[book,test]"
	@touch $@

venv: $(BIN)/replicate

book: venv
	$(GUARD) $(BIN)/replicate build --profile $(PROFILE) --jobs $(JOBS)
	@echo "book: $(CURDIR)/_build/html/index.html"

test:
	@mkdir -p _build && rm -f _build/stages.log
	$(STAGE) install $(MAKE) --no-print-directory venv
	$(STAGE) unit $(GUARD) $(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile tests
	$(STAGE) store $(GUARD) $(BIN)/replicate cache recompute --cache results/paper --sample 4
	$(STAGE) chapters $(GUARD) $(BIN)/replicate execute --profile quick --jobs $(JOBS)
	$(STAGE) regress $(GUARD) $(BIN)/replicate regress
	$(STAGE) seed $(GUARD) $(BIN)/replicate check seed --jobs $(JOBS) --workdir _build/check-seed
	$(STAGE) sensitivity $(GUARD) $(BIN)/replicate check sensitivity --jobs $(JOBS) $(SENSITIVITY:%=--only %) --workdir _build/check-sensitivity
	$(STAGE) nbval $(GUARD) env NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(JOBS) --dist loadscope --nbval-lax -p no:cacheprovider book/executed
	$(STAGE) html $(GUARD) $(BIN)/replicate render
	$(STAGE) chromium bash .ci/ensure-chromium
	$(STAGE) pages $(BIN)/python .ci/check_pages.py _build/html
	@echo "--- stage timings (s) ---" && cat _build/stages.log

clean:
	rm -rf _build book/executed book/scorecard.md book/_static/mathjax replicate-runs
