"""In-process servers, test tokens and status decoding for ``grpc.aio`` tests."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from pkg.server import GrpcServer, Principal, decode_access_token


@asynccontextmanager
async def serving(server: GrpcServer) -> AsyncIterator[str]:
    """Start ``server`` (its ``listen`` should be ``127.0.0.1:0``); yield its target.

    The target is ``127.0.0.1:<port>``; the server is stopped when the block exits.
    """
    port = await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop()


class TokenMint:
    """Signs ES256 access tokens (RFC 7519) the way the auth service does, for tests.

    ``verifier`` is a ``pkg.server.TokenVerifier`` that accepts exactly these tokens;
    ``jwks()`` is the matching JSON Web Key Set.
    """

    def __init__(
        self,
        *,
        issuer: str = "https://auth.agora.local",
        audience: str = "agora",
        kid: str = "test-key",
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.kid = kid
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.verifier = _MintVerifier(self)

    def token(
        self,
        subject: str | None = None,
        roles: Iterable[str] = ("customer",),
        *,
        ttl: float = 900.0,
        key: ec.EllipticCurvePrivateKey | None = None,
        **claims: Any,
    ) -> str:
        """A signed token for ``subject`` (a new UUID when None); ``claims`` override.

        ``ttl`` is in seconds (negative for an expired token); ``key`` signs instead of
        the mint's key (for a tampered or foreign token).
        """
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject or str(uuid.uuid4()),
            "roles": list(roles),
            "iat": now,
            "exp": now + int(ttl),
            "jti": str(uuid.uuid4()),
            **claims,
        }
        return jwt.encode(payload, key or self._key, algorithm="ES256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        """The JWKS (RFC 7517) with the mint's public key."""
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="ES256")
        return {"keys": [jwk]}

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The key tokens verify with."""
        return self._key.public_key()


class _MintVerifier:
    def __init__(self, mint: TokenMint) -> None:
        self._mint = mint

    async def verify(self, token: str) -> Principal:
        return decode_access_token(
            token, self._mint.public_key(), issuer=self._mint.issuer, audience=self._mint.audience
        )


def status_details(error: grpc.aio.AioRpcError) -> dict[str, Any]:
    """Decode a failed call's ``google.rpc.Status``.

    Returns ``{"status": Status, "error_info": ErrorInfo | None, "bad_request":
    BadRequest | None, "retry_info": RetryInfo | None, "violations": {field: description}}``.
    """
    status = rpc_status.from_call(error) or status_pb2.Status(
        code=error.code().value[0], message=error.details() or ""
    )
    found: dict[str, Any] = {
        "status": status,
        "error_info": None,
        "bad_request": None,
        "retry_info": None,
        "violations": {},
    }
    for detail in status.details:
        for key, cls in (
            ("error_info", error_details_pb2.ErrorInfo),
            ("bad_request", error_details_pb2.BadRequest),
            ("retry_info", error_details_pb2.RetryInfo),
        ):
            if detail.Is(cls.DESCRIPTOR):
                message = cls()
                detail.Unpack(message)
                found[key] = message
    if found["bad_request"] is not None:
        found["violations"] = {
            v.field: v.description for v in found["bad_request"].field_violations
        }
    return found


def log_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines log file, one per line, after the handlers of the
    root logger have written what they hold (``logging.Handler.flush``)."""
    import json
    import logging

    for handler in logging.getLogger().handlers:
        handler.flush()

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
