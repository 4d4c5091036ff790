"""Server bootstrap and interceptors shared by every Agora service.

Public surface: ``GrpcServer`` and ``Registration`` (bootstrap), ``health_probe``,
``peer_identity``, the interceptors, ``Principal`` / ``current_principal`` /
``require_principal`` / ``current_access_token``, the ``TokenVerifier`` port with
``JwksTokenVerifier`` and ``decode_access_token``, and ``to_status`` (domain error ->
``google.rpc.Status``).
"""

from pkg.principal import (
    CachingTokenVerifier,
    JwksTokenVerifier,
    Principal,
    TokenVerifier,
    current_access_token,
    current_principal,
    decode_access_token,
    require_principal,
)
from pkg.server._health import HealthReporter, Probe
from pkg.server._interceptors import (
    AuthInterceptor,
    ErrorInterceptor,
    RequestContextInterceptor,
    ValidationInterceptor,
)
from pkg.server._server import (
    MAX_MESSAGE_BYTES,
    GrpcServer,
    Registration,
    health_probe,
    peer_identity,
)
from pkg.server._status import to_status

__all__ = [
    "MAX_MESSAGE_BYTES",
    "AuthInterceptor",
    "CachingTokenVerifier",
    "ErrorInterceptor",
    "GrpcServer",
    "HealthReporter",
    "JwksTokenVerifier",
    "Principal",
    "Probe",
    "Registration",
    "RequestContextInterceptor",
    "TokenVerifier",
    "ValidationInterceptor",
    "current_access_token",
    "current_principal",
    "decode_access_token",
    "health_probe",
    "peer_identity",
    "require_principal",
    "to_status",
]
