.PHONY: gen gen-check lint-proto breaking vendor-protos

vendor-protos: venv ## Vendor google/* and buf/validate protos into api/third_party
	$(PYTHON) tools/vendor_protos.py

# Generated from services/registry.toml (pkg.registry): compose, the Dockerfile, the initdb SQL.
REGISTRY_DERIVED := docker-compose.yml Dockerfile deploy/compose/postgres-initdb/10-databases.sql

gen: venv ## Generate Python stubs and the descriptor set from api/, and the files of services/registry.toml
	buf generate
	buf build --exclude-source-info -o gen/agora.binpb
	$(PYTHON) tools/route_table.py write
	$(PYTHON) -m pkg.registry write

gen-check: venv ## Fail when generated files disagree with the contracts or services/registry.toml
	$(PYTHON) -m pkg.registry check  # before gen, which would overwrite a hand edit
	$(MAKE) gen
	git diff --exit-code --stat -- gen/ docs/http-routes.md $(REGISTRY_DERIVED) || (echo "generated files are stale: run 'make gen' and commit" && exit 1)
	@test -z "$$(git status --porcelain -- gen/ docs/http-routes.md $(REGISTRY_DERIVED))" || (git status --porcelain -- gen/ docs/http-routes.md $(REGISTRY_DERIVED); echo "untracked generated files"; exit 1)

lint-proto: venv ## buf lint
	buf lint

# --exclude-imports: the vendored api/third_party protos reach the check as imports of the api
# module, where buf.yaml's ignore does not apply; they follow their PyPI releases, not our rules.
breaking: venv ## buf breaking and the HTTP route diff against the previous commit
	@if git rev-parse -q --verify HEAD~1 >/dev/null; then \
	  buf breaking --exclude-imports --against '.git#ref=HEAD~1' && $(PYTHON) tools/route_table.py breaking --against HEAD~1; \
	else echo "no previous commit"; fi
