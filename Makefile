# moatsim — two commands on a fresh machine:
#   make run    set up .venv (Python >= 3.12, pinned packages) and run the baseline scenario
#   make test   set up .venv and run the tests
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
SEED    ?= 1

.PHONY: run test setup docs bench clean sweep report bench-sweep bench-page compare calibrate viz viz-screenshot

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
	$(VENV)/bin/moatsim compare scenarios/baseline.yaml $(filter-out scenarios/baseline.yaml,$(sort $(wildcard scenarios/*.yaml))) --replicates 20 --out runs/compare-all
	mkdir -p docs/figures
	cp runs/compare-all/figures/over_time.png docs/figures/compare_over_time.png
	cp runs/compare-all/figures/final_outcomes.png docs/figures/compare_final.png

bench: $(STAMP)
	$(PY) benchmarks/model_speed.py
	$(PY) benchmarks/population_scaling.py

# a parameter sweep and its report: make sweep report [EXPERIMENT=experiments/funding.yaml]
# (--resume: an interrupted sweep continues where it stopped)
EXPERIMENT ?= experiments/first_mover.yaml
SWEEP_OUT  := runs/sweep-$(basename $(notdir $(EXPERIMENT)))
sweep: $(STAMP)
	$(VENV)/bin/moatsim sweep $(EXPERIMENT) --out $(SWEEP_OUT) --resume

report: $(STAMP)
	$(VENV)/bin/moatsim report $(SWEEP_OUT)

# the baseline's calibration (calibrations/baseline.yaml, ~15 min on 2 cores) and the calibrated
# scenario it writes (--resume: an interrupted calibration continues where it stopped)
calibrate: $(STAMP)
	$(VENV)/bin/moatsim calibrate calibrations/baseline.yaml --out runs/calibrate-baseline \
	  --scenario-out scenarios/baseline_calibrated.yaml --resume

bench-sweep: $(STAMP)
	$(PY) benchmarks/sweep_throughput.py

# the browser page against the last matplotlib page (a495fdd), in headless chromium
bench-page: $(STAMP)
	$(PY) benchmarks/page_speed.py

# the browser page (Mesa SolaraViz) on http://127.0.0.1:8765/; Ctrl+C stops it
viz: $(STAMP)
	$(VENV)/bin/moatsim viz

# the README's screenshot of the page (needs chromium: apt-get install chromium)
viz-screenshot: $(STAMP)
	$(PY) -m moatsim.viz.screenshot docs/viz.png
	$(PY) -m moatsim.viz.screenshot docs/viz-1280x800.png --size 1280x800 --full-page
	$(PY) -m moatsim.viz.screenshot docs/viz-1920x1080.png --size 1920x1080 --full-page

clean:
	rm -rf $(VENV) runs .pytest_cache
