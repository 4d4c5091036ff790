"""A stub ``agora.auth.v1.AuthService`` on a TLS ``grpc.aio`` server, for edge tests."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from google.api import httpbody_pb2
from google.protobuf import any_pb2, empty_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from agora.auth.v1 import auth_pb2, auth_pb2_grpc

KID = "test-key"
PASSWORD = "correct horse"
UNAVAILABLE_TOKEN = "x" * 32  # Refresh with this token: UNAVAILABLE from the service itself
HANG_EMAIL = "hang@example.com"  # Login with this email: never answers (until cancelled)


def _status(code: int, message: str, *details: Any) -> status_pb2.Status:
    packed = []
    for detail in details:
        packed.append(any_pb2.Any())
        packed[-1].Pack(detail)
    return status_pb2.Status(code=code, message=message, details=packed)


@dataclass
class StubAuth(auth_pb2_grpc.AuthServiceServicer):
    """Answers Login and LogoutAll, serves a JWKS; records each call's metadata.

    Errors with ``google.rpc.Status`` details, as the real services send them: Register is
    always INVALID_ARGUMENT (BadRequest on ``email``), Logout always PERMISSION_DENIED
    (ErrorInfo), Refresh with ``UNAVAILABLE_TOKEN`` UNAVAILABLE (ErrorInfo). Login with
    ``HANG_EMAIL`` hangs; GetJwks answers UNAVAILABLE while ``jwks_failures`` > 0 (counting
    down). ``deadlines`` holds each call's remaining deadline in seconds (``None``: none).
    """

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    last_login: auth_pb2.LoginRequest | None = None
    jwks_failures: int = 0
    deadlines: list[tuple[str, float | None]] = field(default_factory=list)

    def sign(self, *, issuer: str, audience: str, subject: str = "users/1") -> str:
        """An ES256 access token that the edge accepts for ``issuer``/``audience``."""
        claims = {"iss": issuer, "aud": audience, "sub": subject, "exp": 4102444800}
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": KID})

    def last_call(self, name: str) -> dict[str, str]:
        """Metadata of the latest call of RPC ``name``; ``LookupError`` when there was none."""
        for called, metadata in reversed(self.calls):
            if called == name:
                return metadata
        raise LookupError(name)

    def _record(self, name: str, context: grpc.aio.ServicerContext) -> None:
        self.calls.append(
            (name, {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)})
        )
        self.deadlines.append((name, context.time_remaining()))

    async def Login(
        self, request: auth_pb2.LoginRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.TokenPair:
        self._record("Login", context)
        self.last_login = request
        if request.email == HANG_EMAIL:
            await asyncio.Event().wait()
        if request.password != PASSWORD:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "wrong email or password")
        return auth_pb2.TokenPair(
            access_token=f"token-for-{request.email}", token_type="Bearer", expires_in=900
        )

    async def LogoutAll(
        self, request: auth_pb2.LogoutAllRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        self._record("LogoutAll", context)
        return empty_pb2.Empty()

    async def Register(
        self, request: auth_pb2.RegisterRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.RegisterResponse:
        self._record("Register", context)
        violation = error_details_pb2.BadRequest.FieldViolation(
            field="email", description="value must be a valid email address"
        )
        await context.abort_with_status(
            rpc_status.to_status(
                _status(
                    code_pb2.INVALID_ARGUMENT,
                    "invalid RegisterRequest",
                    error_details_pb2.BadRequest(field_violations=[violation]),
                )
            )
        )
        raise AssertionError("unreachable")

    async def Logout(
        self, request: auth_pb2.LogoutRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        self._record("Logout", context)
        await context.abort_with_status(
            rpc_status.to_status(
                _status(
                    code_pb2.PERMISSION_DENIED,
                    "not yours",
                    error_details_pb2.ErrorInfo(reason="NOT_OWNER", domain="auth.agora.local"),
                )
            )
        )
        raise AssertionError("unreachable")

    async def Refresh(
        self, request: auth_pb2.RefreshRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.TokenPair:
        self._record("Refresh", context)
        if request.refresh_token == UNAVAILABLE_TOKEN:
            await context.abort_with_status(
                rpc_status.to_status(
                    _status(
                        code_pb2.UNAVAILABLE,
                        "token store is down",
                        error_details_pb2.ErrorInfo(reason="REDIS_DOWN", domain="auth.agora.local"),
                    )
                )
            )
        return auth_pb2.TokenPair(access_token="refreshed", token_type="Bearer", expires_in=900)

    async def GetJwks(
        self, request: auth_pb2.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        self._record("GetJwks", context)
        if self.jwks_failures > 0:
            self.jwks_failures -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "signing keys are loading")
        key = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        key.update(kid=KID, alg="ES256", use="sig")
        return httpbody_pb2.HttpBody(
            content_type="application/json", data=json.dumps({"keys": [key]}).encode()
        )


async def start_stub_auth(
    cert_dir: Path, stub: StubAuth, port: int = 0
) -> tuple[grpc.aio.Server, int]:
    """Start ``stub`` with mTLS (``auth.crt``, clients under ``root_ca.crt``), health and
    reflection on 127.0.0.1:``port`` (0: any free port); return the server and its port."""
    server = grpc.aio.server()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(stub, server)  # type: ignore[no-untyped-call]
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name, reflection.SERVICE_NAME],
        server,
    )
    credentials = grpc.ssl_server_credentials(
        [((cert_dir / "auth.key").read_bytes(), (cert_dir / "auth.crt").read_bytes())],
        root_certificates=(cert_dir / "root_ca.crt").read_bytes(),
        require_client_auth=True,
    )
    port = server.add_secure_port(f"127.0.0.1:{port}", credentials)
    await server.start()
    return server, port
