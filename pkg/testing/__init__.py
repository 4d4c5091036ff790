"""An async test kit for ``grpc.aio`` services (reusable by other projects).

``serving`` runs a ``GrpcServer`` in-process; ``TokenMint`` signs access tokens that a
server under test accepts; ``serving_jwks`` runs a stand-in auth service (``JwksAuth``)
serving a mint's JWKS; ``serving_users`` runs a stand-in user service (``StandInUsers``)
answering ``GetUser`` for the caller's account, active or disabled; ``serving_catalog``
runs a stand-in catalog (``StandInCatalog``) answering ``BatchGetProducts``; ``status_details``
decodes the ``google.rpc.Status`` of a failed call; ``FaultyProxy`` makes a dependency
hang or drop its connections; ``raw_h2_request`` sends any spelling of an HTTP/2 request
(trailers, malformed gRPC metadata) to probe an edge, and ``poison_requests`` lists the
metadata gRPC core refuses in every spelling an edge must stop; ``FakeUnitOfWork`` is the
unit of work's fake. The pytest fixtures live in ``pkg.testing.plugin`` (root
``conftest.py`` loads it). See docs/adr/0009-async-test-kit.md for why not pytest-grpc.
"""

from pkg.testing._catalog import StandInCatalog, serving_catalog
from pkg.testing._faults import FaultyProxy
from pkg.testing._h2 import RawResponse, grpc_frame, raw_h2_request
from pkg.testing._jwks import JwksAuth, serving_jwks
from pkg.testing._kit import TokenMint, log_lines, serving, status_details
from pkg.testing._poison import (
    HTTP1_POISONS,
    RawRequest,
    grpc_headers,
    json_headers,
    poison_requests,
    refused_cleanly,
)
from pkg.testing._uow import FakeUnitOfWork
from pkg.testing._users import StandInUsers, serving_users

__all__ = [
    "HTTP1_POISONS",
    "FakeUnitOfWork",
    "FaultyProxy",
    "JwksAuth",
    "RawRequest",
    "RawResponse",
    "StandInCatalog",
    "StandInUsers",
    "TokenMint",
    "grpc_frame",
    "grpc_headers",
    "json_headers",
    "log_lines",
    "poison_requests",
    "raw_h2_request",
    "refused_cleanly",
    "serving",
    "serving_catalog",
    "serving_jwks",
    "serving_users",
    "status_details",
]
