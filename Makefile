# Gyrfalcon developer entry points. `make help` lists them.
.DEFAULT_GOAL := help
PYTHON ?= python3
PYTEST ?= $(PYTHON) -m pytest
SOURCES_PY := python/gyrfalcon tests benchmarks docs/reference/generate.py

.PHONY: help
help: ## Show this help
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}'

.PHONY: install
install: ## Install the package with test and lint extras (builds the Rust engine)
	$(PYTHON) -m pip install '.[test,lint]'

.PHONY: setup
setup: ## Install what every test needs: Chromium, chromedriver, redis-server (apt) and the package with its test extra
	bash scripts/install-test-deps.sh
	$(PYTHON) -m pip install '.[test]'

.PHONY: build-dev
build-dev: ## Build the extension in debug mode into the source tree (maturin develop)
	maturin develop --uv 2>/dev/null || maturin develop

.PHONY: build-prod
build-prod: ## Build a release wheel into dist/
	maturin build --release --out dist

.PHONY: format
format: ## Format Python and Rust sources
	$(PYTHON) -m ruff format $(SOURCES_PY)
	$(PYTHON) -m ruff check --fix $(SOURCES_PY)
	cargo fmt

.PHONY: lint-python
lint-python: ## ruff and mypy --strict on the package
	$(PYTHON) -m ruff check $(SOURCES_PY)
	$(PYTHON) -m ruff format --check $(SOURCES_PY)
	$(PYTHON) -m mypy

.PHONY: lint-rust
lint-rust: ## rustfmt and clippy (policy in Cargo.toml)
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --no-default-features -- -D warnings

.PHONY: stubtest
stubtest: ## mypy stubtest: the compiled module against _native.pyi
	$(PYTHON) -m mypy.stubtest gyrfalcon._native --mypy-config-file pyproject.toml

.PHONY: lint
lint: lint-python lint-rust stubtest ## All lint steps

.PHONY: test-rust
test-rust: ## Rust tests of the protocol core (no Python needed)
	cargo test --no-default-features

.PHONY: test-python
test-python: ## Every Python test (engine tests on both engines; the Rust engine is required)
	GYRFALCON_REQUIRE_NATIVE=$${GYRFALCON_REQUIRE_NATIVE:-1} $(PYTEST)

.PHONY: test-python-engine
test-python-engine: ## Engine, server and hardening tests with the pure-Python twin as the default engine
	GYRFALCON_ENGINE=python $(PYTEST) tests/engine tests/server tests/hardening

.PHONY: test
test: test-rust test-python ## Every test, Rust and Python

.PHONY: bench
bench: ## Engine micro-benchmarks (native vs twin); rewrites the engine section of benchmarks/README.md
	$(PYTHON) benchmarks/engine/report.py

.PHONY: bench-e2e
bench-e2e: ## End-to-end benchmarks side by side (needs cargo, picows, matplotlib); rewrites the e2e section of benchmarks/README.md
	$(PYTHON) benchmarks/e2e/run.py

.PHONY: autobahn
autobahn: ## Autobahn|Testsuite (kosoku): every case, 9.* 12.* 13.* too, on both engines
	$(PYTHON) tests/autobahn/run.py --cases '*'; s=$$?; \
	$(PYTHON) tests/autobahn/run.py --cases '*' --engine python && exit $$s

.PHONY: fuzz
fuzz: ## Run each cargo-fuzz target for FUZZ_SECONDS (default 60) on nightly
	bash rust/fuzz/run.sh $${FUZZ_SECONDS:-60}

.PHONY: docs
docs: ## Regenerate the API reference (docs/reference/*.md) from docstrings
	PYTHONPATH=python $(PYTHON) docs/reference/generate.py

.PHONY: all
all: format lint test ## Format, lint and test
