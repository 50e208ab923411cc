# moatsim — two commands on a fresh machine:
#   make run    set up .venv (Python >= 3.12, pinned packages) and run the baseline scenario
#   make test   set up .venv and run the tests
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
SEED    ?= 1

.PHONY: run test setup docs bench clean compare

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/find-python
	@python=$$(scripts/find-python) || exit 1; \
	 if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
	   rm -rf $(VENV); echo "creating $(VENV) with $$python"; $$python -m venv $(VENV) || exit 1; \
	 fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/moatsim run scenarios/baseline.yaml --seed $(SEED)

test: $(STAMP)
	$(PY) -m pytest -n 2 -q

docs: $(STAMP)
	$(VENV)/bin/moatsim docs

# the scenario comparison shown in the README (docs/figures/compare_*.png)
compare: $(STAMP)
	$(VENV)/bin/moatsim compare scenarios/*.yaml --replicates 20 --out runs/compare-all
	mkdir -p docs/figures
	cp runs/compare-all/figures/over_time.png docs/figures/compare_over_time.png
	cp runs/compare-all/figures/final_outcomes.png docs/figures/compare_final.png

bench: $(STAMP)
	$(PY) benchmarks/population_scaling.py

clean:
	rm -rf $(VENV) runs .pytest_cache
