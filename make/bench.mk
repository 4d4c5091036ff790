# Throughput of Agora against a bare grpc.aio echo server: bench/run.py drives h2load
# (gRPC) and wrk (HTTP/JSON) against an echo baseline and a mesh it starts with
# `agora up --detach` and stops with `agora down`; see docs/benchmarks.md.
# The load generators come from Debian (nghttp2-client: h2load and nghttp; wrk) and are
# installed with apt-get when missing (root, or sudo when there is one).
BENCH_ARGS ?=
BENCH_DEBS := $(if $(shell command -v h2load),,nghttp2-client) \
              $(if $(shell command -v nghttp),,nghttp2-client) \
              $(if $(shell command -v wrk),,wrk) \
              $(if $(shell command -v openssl),,openssl)

.PHONY: bench bench-tools bench-events bench-commerce

bench-tools: ## Install the load generators (h2load, nghttp, wrk) with apt-get when missing
	@missing="$(sort $(strip $(BENCH_DEBS)))"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  echo "bench: installing $$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

bench: venv bench-tools ## Benchmark echo vs GetUser direct/edge gRPC/edge HTTP, ListProducts and AddBasketItem, then the events; writes docs/benchmarks.md
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)
	$(VENV)/bin/python bench/events.py $(BENCH_EVENTS_ARGS)

# The event backbone alone (bench/events.py): relay and consumer throughput, end-to-end lag
# at a steady rate, CPU per event of each process; embedded PostgreSQL and Redis.
BENCH_EVENTS_ARGS ?=

bench-events: venv ## Benchmark the event backbone (relay, consumer, lag); writes docs/benchmarks.md
	$(VENV)/bin/python bench/events.py $(BENCH_EVENTS_ARGS)

# The commerce paths alone (issue 12): the echo baselines, then ListProducts (HTTP/JSON, a
# text filter, first page of 20) and AddBasketItem (gRPC) through the edge, closed loop and
# at a fixed rate, on products seeded by an admin; writes docs/benchmarks.md.
bench-commerce: venv bench-tools ## Benchmark echo vs ListProducts (HTTP/JSON) and AddBasketItem (gRPC) through the edge; writes docs/benchmarks.md
	$(VENV)/bin/python bench/run.py --commerce-only $(BENCH_ARGS)
