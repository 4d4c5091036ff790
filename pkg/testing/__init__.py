"""An async test kit for ``grpc.aio`` services (reusable by other projects).

``serving`` runs a ``GrpcServer`` in-process; ``TokenMint`` signs access tokens that a
server under test accepts; ``serving_jwks`` runs a stand-in auth service (``JwksAuth``)
serving a mint's JWKS; ``status_details`` decodes the ``google.rpc.Status`` of a
failed call; ``FaultyProxy`` makes a dependency hang or drop its connections; ``raw_h2_request`` sends
any spelling of an HTTP/2 request (trailers, malformed gRPC metadata) to probe an edge.  The
pytest fixtures live in ``pkg.testing.plugin`` (root ``conftest.py``
loads it).  See docs/adr/0009-async-test-kit.md for why not pytest-grpc.
"""

from pkg.testing._faults import FaultyProxy
from pkg.testing._h2 import RawResponse, grpc_frame, raw_h2_request
from pkg.testing._jwks import JwksAuth, serving_jwks
from pkg.testing._kit import TokenMint, log_lines, serving, status_details

__all__ = ["FaultyProxy", "JwksAuth", "RawResponse", "TokenMint", "grpc_frame", "log_lines",
           "raw_h2_request", "serving", "serving_jwks", "status_details"]
