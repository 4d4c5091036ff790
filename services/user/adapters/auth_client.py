"""The auth service as a source of token keys: its JWKS through the generated stub."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import grpc

from agora.auth.v1 import auth_pb2, auth_pb2_grpc


def jwks_fetcher(channel: grpc.aio.Channel, *, timeout: float = 2.0
                 ) -> Callable[[], Awaitable[Mapping[str, Any]]]:
    """A coroutine function returning auth's JSON Web Key Set (RFC 7517) as a dict.

    It calls ``AuthService.GetJwks`` on ``channel`` with a deadline of ``timeout`` seconds
    and parses the ``google.api.HttpBody``'s JSON; raises ``grpc.aio.AioRpcError`` when
    auth does not answer and ``ValueError`` when the body is not a JSON object.
    """
    stub = auth_pb2_grpc.AuthServiceStub(channel)

    async def fetch() -> Mapping[str, Any]:
        body = await stub.GetJwks(auth_pb2.GetJwksRequest(), timeout=timeout)
        document = json.loads(body.data)
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        return document

    return fetch
