# The project's virtual environment: created and filled on first use by every target
# that needs it, so a fresh clone needs nothing but python3 (3.11+) and make.
VENV_STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

$(VENV_STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

.PHONY: venv
venv: $(VENV_STAMP) ## Create .venv and install the project with its test extras
