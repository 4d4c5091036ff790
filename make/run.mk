# Run the mesh on this machine (no Docker): see docs/architecture.md and docs/adr/0006.
AGORA ?= $(VENV)/bin/agora
AGORA_HOME ?= $(CURDIR)/.agora
RUN_ARGS ?=

.PHONY: run run-detach down status certs

run: venv ## Start the whole mesh in the foreground (Ctrl-C stops it); RUN_ARGS passes options
	$(AGORA) up --data-dir $(AGORA_HOME) $(RUN_ARGS)

run-detach: venv ## Start the mesh in the background and return once it is healthy
	$(AGORA) up --detach --data-dir $(AGORA_HOME) $(RUN_ARGS)

down: venv ## Stop a mesh started with run-detach
	$(AGORA) down --data-dir $(AGORA_HOME)

status: venv ## Show each mesh process's state and health
	$(AGORA) status --data-dir $(AGORA_HOME)

certs: venv ## Issue or renew the mesh certificates in $(AGORA_HOME)/certs
	$(AGORA) certs --data-dir $(AGORA_HOME)
