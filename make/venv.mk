# The project's virtual environment: created and filled on first use by every target
# that needs it, so a fresh clone needs nothing but python3 (3.11+) and make. Installing
# needs only pip: exact versions with sha256 hashes from requirements/test.lock, then the
# project itself (editable, no dependencies, built by the locked hatchling). A changed lock
# rebuilds .venv from scratch, so nothing the lock dropped lingers; a changed pyproject.toml
# reinstalls the project only. `make lock` rewrites the lock files from pyproject.toml with uv
# (itself locked in test.lock).
LOCK := requirements/test.lock
RUNTIME_LOCK := requirements/runtime.lock
LOCK_ARGS ?=
VENV_STAMP := $(VENV)/.installed-$(shell cat $(LOCK) | cksum | cut -d' ' -f1)
PROJECT_STAMP := $(VENV)/.project-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" $(LOCK_ARGS)

$(VENV_STAMP): $(LOCK)
	rm -rf $(VENV)
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --require-hashes -r $(LOCK)
	@touch $@

$(PROJECT_STAMP): pyproject.toml $(VENV_STAMP)
	$(VENV)/bin/python -m pip install -q --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.project-*
	@touch $@

.PHONY: venv lock
venv: $(PROJECT_STAMP) ## Create .venv from requirements/test.lock and install the project

lock: venv ## Rewrite requirements/*.lock from pyproject.toml (LOCK_ARGS=--upgrade: newest versions)
	$(UV_COMPILE) pyproject.toml requirements/build.in requirements/lock.in --extra test -o $(LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in -c $(LOCK) -o $(RUNTIME_LOCK)
