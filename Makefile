# Every target bootstraps .venv itself from constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The demo, the docs and the benchmarks need journeys alone; the checks need the dev tools,
# Spark and the optional Bayesian fits too.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck pytest bench bench-peers clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bayes]'
	touch $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/journeys demo --out demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

pytest: $(TEST_STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/clv_fit.py
	$(BIN)/python benchmarks/report_bench.py

# Peer tools (pandas, retentioneering, pm4py) live in their own environment.
PEERS := benchmarks/.venv-peers
$(PEERS)/.installed: benchmarks/peers-constraints.txt
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet -c benchmarks/peers-constraints.txt retentioneering pm4py pandas pyarrow ChannelAttribution
	touch $(PEERS)/.installed

bench-peers: $(STAMP) $(PEERS)/.installed
	$(BIN)/python benchmarks/compare_peers.py

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache

# The pages in docs/, generated from the registry, the command line and docs/src/.
.PHONY: docs
docs: $(STAMP)
	$(BIN)/python -m journeys.docs
