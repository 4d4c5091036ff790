# A whole-run bound (seconds): the suite takes about two minutes; a hang (e.g. a gRPC
# server left running at interpreter exit) should fail CI quickly rather than eat its time.
PYTEST_BOUND ?= 1800
PYTEST := timeout --kill-after=30 $(PYTEST_BOUND) $(VENV)/bin/python -m pytest
PYTEST_ARGS ?=

.PHONY: test test-unit test-integration test-e2e test-fault lint

test: venv gen-check lint-proto breaking lint ## Everything CI runs: generated code, buf lint and breaking, ruff, mypy, all test depths
	$(PYTEST) -q $(PYTEST_ARGS)

test-unit: venv ## Unit tests (fakes only)
	$(PYTEST) -q -m "not integration and not e2e" $(PYTEST_ARGS)

test-integration: venv ## Integration and contract tests against real PostgreSQL and Redis
	$(PYTEST) -q -m integration $(PYTEST_ARGS)

test-e2e: venv ## End-to-end tests through the running mesh and the Envoy edge
	$(PYTEST) -q -m e2e $(PYTEST_ARGS)

test-fault: venv ## Fault injection under load: rolling restarts, PostgreSQL stopped/frozen, Redis killed
	$(PYTEST) -q -m fault $(PYTEST_ARGS)

lint: venv ## ruff check and ruff format --check, and mypy --strict over pkg/ and services/ (their tests less strictly)
	$(VENV)/bin/ruff check pkg services tests tools bench deploy
	$(VENV)/bin/ruff format --check pkg services tests tools bench deploy
	$(VENV)/bin/mypy pkg services
