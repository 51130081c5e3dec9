# The two commands: `make run` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config.yaml

.PHONY: run test install lint lock once bench quality mutate clean help

help:
	@echo "make run     - install into $(VENV) and start the service ($(CONFIG))"
	@echo "make test    - install with test extras and run the test suite"
	@echo "make install - only install into $(VENV) (then .venv/bin/monitor init writes a config for your brand)"
	@echo "make lint    - ruff over the whole tree (CI runs it before the tests)"
	@echo "make lock    - re-resolve the hashed lock files from the ranges in pyproject.toml"
	@echo "make quality - complaint detector precision/recall/F1 vs raw VADER"
	@echo "make bench   - pipeline throughput and memory, Slack delivery latency, connector parsing speed"
	@echo "make mutate  - mutation testing of the core modules (slow; MUTATE='monitor.digest.export*' narrows it)"

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required, found " + sys.version.split()[0])'
	@echo "==> creating $(VENV) (first run only)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@touch $@

# Libraries come from the lock files, exact versions checked against their hashes; the monitor itself is
# installed on top without resolving anything again.
LOCK      := requirements.lock
TEST_LOCK := requirements-test.lock

$(VENV)/.installed: $(VENV)/.python-ok pyproject.toml $(LOCK)
	@echo "==> installing the monitor and its libraries into $(VENV) (about a minute the first time)"
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.python-ok pyproject.toml $(TEST_LOCK)
	@echo "==> installing the monitor with its test libraries into $(VENV) (about a minute the first time)"
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

run: $(VENV)/.installed
	@echo "==> starting the service with $(CONFIG) (Ctrl-C stops it)"
	$(BIN)/monitor --config $(CONFIG) run

once: $(VENV)/.installed
	$(BIN)/monitor --config $(CONFIG) run --once

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# Resolved for every platform and Python 3.11+ from PyPI itself, whatever index this machine is set up with.
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --index-url https://pypi.org/simple \
              --custom-compile-command "make lock" --quiet
lock: $(VENV)/.python-ok
	$(BIN)/python -m pip install --quiet 'uv>=0.9,<1'
	$(BIN)/uv pip compile pyproject.toml --extra postgres $(LOCK_FLAGS) -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra postgres --extra test $(LOCK_FLAGS) -o $(TEST_LOCK)

quality: $(VENV)/.installed
	$(BIN)/python bench/quality.py

# Every benchmark runs even when one misses its target; the exit status reports any miss. The latency
# benchmarks use the test suite's local Slack stand-ins, hence the test extras.
bench: $(VENV)/.installed-test
	$(BIN)/python bench/throughput.py; status=$$?; \
	$(BIN)/python bench/slack_latency.py || status=1; \
	$(BIN)/python bench/case_latency.py || status=1; \
	$(BIN)/python bench/reply_latency.py || status=1; \
	$(BIN)/python bench/connector_speed.py || status=1; \
	$(BIN)/python bench/digest_speed.py || status=1; \
	$(BIN)/python bench/purge_speed.py || status=1; \
	$(BIN)/python bench/ops_endpoint.py || status=1; \
	$(BIN)/python bench/stream_latency.py || status=1; \
	$(BIN)/python bench/web_speed.py || status=1; exit $$status

# mutmut on top of the locked test environment (the range is the `mutate` extra in pyproject.toml).
$(VENV)/.installed-mutate: $(VENV)/.installed-test pyproject.toml
	$(BIN)/python -m pip install --quiet 'mutmut>=3.3,<4'
	@touch $@

# Not part of `make test`: it runs the suite once per mutant. MUTATE takes mutmut's mutant-name globs.
MUTATE ?=
mutate: $(VENV)/.installed-mutate
	rm -rf mutants
	$(BIN)/mutmut run $(MUTATE) || true
	$(BIN)/python bench/mutation_report.py --survivors

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis mutants
