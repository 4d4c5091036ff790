"""``make bench``: unary gRPC and HTTP/JSON throughput of Agora against a bare echo server.

One run on one machine, every number from an external load generator (never a Python
loop in the measuring process):

* ``h2load`` (Debian ``nghttp2-client``) for gRPC: an HTTP/2 POST with
  ``content-type: application/grpc``, ``te: trailers`` and a data file holding the
  length-prefixed protobuf frame (1 byte 0, 4 bytes big-endian length, the message);
* ``wrk`` (Debian ``wrk``) for HTTP/JSON over HTTPS.

Targets, in order: ``echo-aio`` (the baseline), ``echo-sync``, ``echo-aio-mtls``
(``echo``); ``user-direct``, ``edge-grpc``, ``edge-http``, ``edge-grpc-fixed``,
``edge-grpc-1w`` (``targets``, on the mesh of ``mesh``); see docs/benchmarks.md.

Modules: ``results`` (settings, rows, constants), ``parsers`` (nghttp/h2load/wrk output),
``loadgen`` (running the generators), ``cpu`` (CPU metering), ``processes`` and ``origin``
(the bench's own processes, the TLS-origination Envoy), ``echo``, ``mesh``, ``targets``,
``environment`` (machine, versions) and ``report`` (tables, docs/benchmarks.md); ``cli``
is ``bench/run.py``'s ``main``. Ports, certificates, the mesh and its state come from
``pkg.runtime``, ``pkg.pki`` and ``pkg.edge``.
"""
