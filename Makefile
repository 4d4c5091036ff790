# Agora: modular targets live in make/*.mk.
.DEFAULT_GOAL := help
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)
VENV_BIN := $(dir $(PYTHON))
export PATH := $(abspath $(VENV_BIN)):$(PATH)

include make/*.mk

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F ':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'
