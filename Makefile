# Scrubber: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
EVAL_DIR ?= ../shared/eval

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-unit test-slow test-pipeline test-chaos test-dashboard lint format eval bench bench-recognizers bench-cli bench-pipeline bench-api bench-gateway soak profile check-structure services-up services-down kafka-up kafka-down pg-up pg-down tools chart-check image image-check lock clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps pycanon==1.3.6  # its pins break pydantic; its imports are in [dev]
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) ## create .venv and install Scrubber with its dev tools (idempotent)

demo: setup ## scrub the bundled sample with the embedded default policy
	$(BIN)/scrubber --log-format console scrub samples/mixed.log

test: setup lint services-up tools ## the whole suite: lint, unit, property, integration tests and chart-check (CI runs this)
	HELM=$(HELM) $(BIN)/pytest -q -m "not slow" --ignore=tests/integration/test_chart.py
	@$(MAKE) --no-print-directory chart-check

test-unit: setup ## unit and property tests only (no services)
	$(BIN)/pytest -q -m "not integration and not slow"

test-slow: setup services-up ## long runs (soak, chaos) on demand
	$(BIN)/pytest -q -m slow --timeout=3600

lint: setup ## ruff, mypy and the import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup ## apply ruff's formatter and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

eval: setup ## detection quality on ../shared/eval beside vanilla Presidio (slow: minutes)
	$(BIN)/scrubber eval --baseline presidio $(foreach f,presidio_synth_v2 loghub_typed gitleaks_rule_literals detect_secrets_lines,--data $(EVAL_DIR)/$(f).jsonl)

bench: setup ## engine throughput (scrub_batch) beside vanilla Presidio, then five configured recognizers vs none (prints JSON)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_custom_recognizers.py

bench-recognizers: setup ## five configured recognizers loaded vs none, same records (prints JSON; target within 10%)
	$(BIN)/python benchmarks/bench_custom_recognizers.py

bench-cli: setup ## `scrubber scrub` steady state, 1 and 2 workers, beside vanilla Presidio
	$(BIN)/python benchmarks/bench_scrub_cli.py --records 16000

soak: setup ## 500,000 records through `scrubber scrub`, RSS sampled (about 6 minutes)
	$(BIN)/python benchmarks/soak_rss.py --records 500000

profile: setup ## cProfile of the optimized engine path
	$(BIN)/python benchmarks/profile_engine.py

test-pipeline: setup services-up ## the pipeline integration tests on the real broker
	$(BIN)/pytest -q tests/integration/test_pipeline.py tests/integration/test_pipeline_vault_outage.py

test-chaos: setup kafka-up ## kill -9, broker stop and SIGKILL, join/leave, restart resume (~8 min)
	$(BIN)/pytest -q -m slow --timeout=3600 tests/integration/test_pipeline_chaos.py

test-dashboard: setup kafka-up tools ## every dashboard query and alert on a real Prometheus scraping `scrubber run --workers 2` (~30 s; in `make test`)
	HELM=$(HELM) $(BIN)/pytest -q tests/integration/test_dashboard_queries.py

bench-pipeline: setup kafka-up ## records/s and latency through the local broker, 1 and 2 workers
	$(BIN)/python benchmarks/bench_pipeline.py

bench-api: setup ## /v1/scrub latency beside per-request Presidio
	$(BIN)/python benchmarks/bench_api_latency.py

bench-gateway: setup ## scrubber gateway: added latency and time-to-first-chunk overhead at 50 req/s beside a per-request Presidio proxy (prints JSON)
	$(BIN)/python benchmarks/bench_gateway.py

check-structure: setup ## loghub_json through the CLI: line counts and JSON validity
	$(BIN)/python benchmarks/check_structure.py $(EVAL_DIR)/loghub_json.jsonl

services-up: kafka-up pg-up ## start the real Kafka broker and PostgreSQL on loopback

services-down: kafka-down pg-down ## stop both and remove their data

kafka-up: setup ## start a KRaft Kafka broker on 127.0.0.1 (KAFKA_PORT, default 9092)
	@bash scripts/kafka.sh up

kafka-down: ## stop the broker and remove its data
	@bash scripts/kafka.sh down

pg-up: ## start PostgreSQL on 127.0.0.1 (PG_PORT, default 55432)
	@bash scripts/postgres.sh up

pg-down: ## stop PostgreSQL and remove its data
	@bash scripts/postgres.sh down

# Chart and image tools, built or installed once outside the repo by scripts/tools.sh.
TOOLS_CACHE ?= $(HOME)/.cache/scrubber
HELM ?= $(TOOLS_CACHE)/bin/helm
PSA ?= $(TOOLS_CACHE)/bin/psa
KUBERNETES_VALIDATE ?= $(TOOLS_CACHE)/tools-venv/bin/kubernetes-validate
PIP_COMPILE ?= $(TOOLS_CACHE)/tools-venv/bin/pip-compile
PROMTOOL ?= promtool

tools: ## helm, psa (Go, cached in ~/.cache/scrubber/bin), kubernetes-validate, pip-tools, promtool
	@SCRUBBER_CACHE=$(TOOLS_CACHE) bash scripts/tools.sh install >/dev/null

chart-check: setup tools ## helm lint --strict; every mode and example: schemas, Pod Security restricted; promtool; metric names
	$(BIN)/python scripts/check_chart.py all --helm $(HELM) --psa $(PSA) \
		--kubernetes-validate $(KUBERNETES_VALIDATE) --promtool $(PROMTOOL)
	HELM=$(HELM) $(BIN)/pytest -q -p no:cacheprovider tests/integration/test_chart.py

lock: tools ## regenerate requirements.lock (every runtime dependency, pinned with hashes) from pyproject.toml
	env -u PIP_FIND_LINKS CUSTOM_COMPILE_COMMAND="make lock" $(PIP_COMPILE) --quiet --generate-hashes \
		--allow-unsafe --strip-extras --all-build-deps --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml

image: ## build the image with buildah on a local stand-in base (scripts/image.sh; no registry)
	bash scripts/image.sh build

image-check: ## run `scrub` and `serve` from the image's root filesystem, read-only, as uid 10001
	bash scripts/image.sh run-ro

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
