# Agora: modular targets live in make/*.mk. Every target that needs Python tools depends
# on `venv` (make/venv.mk), which creates .venv and installs the project on first use.
.DEFAULT_GOAL := help
VENV := .venv
PYTHON := $(VENV)/bin/python
export PATH := $(abspath $(VENV)/bin):$(PATH)

include make/*.mk

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F ':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'
