"""Protobuf <-> domain mapping of the auth service's own RPCs (whose replies embed an
``agora.user.v1.User``).  The user service's replies are mapped by the client adapter
that receives them (``adapters/user_directory.py``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import grpc
from google.api import httpbody_pb2
from google.protobuf import timestamp_pb2

from agora.auth.v1 import auth_pb2
from agora.user.v1 import user_pb2
from pkg.timestamps import timestamp_to_proto
from services.auth.domain import Account, NewAccount, TokenPair

EDGE_IDENTITY = "edge"


def role_from_proto(role: int) -> str:
    """``ROLE_PROVIDER`` -> ``provider``: the lower-case name used in access tokens."""
    return str(user_pb2.Role.Name(role)).removeprefix("ROLE_").lower()  # type: ignore[arg-type, unused-ignore]


def role_to_proto(name: str) -> user_pb2.Role.ValueType:
    """``provider`` -> ``ROLE_PROVIDER``; ``ValueError`` for an unknown name."""
    return user_pb2.Role.Value(f"ROLE_{name.upper()}")


def new_account_from_proto(request: auth_pb2.RegisterRequest) -> NewAccount:
    """The registration in ``request``; a fresh uuid when ``request_id`` is empty."""
    return NewAccount(
        email=request.email,
        password=request.password,
        display_name=request.display_name,
        roles=tuple(role_from_proto(r) for r in request.roles),
        request_id=request.request_id or str(uuid.uuid4()),
    )


def _timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    return timestamp_to_proto(value) if value is not None else None


def account_to_proto(account: Account) -> user_pb2.User:
    """The ``agora.user.v1.User`` of ``account`` (name ``users/{uuid}``)."""
    return user_pb2.User(
        name=f"users/{account.user_id}",
        email=account.email,
        display_name=account.display_name,
        roles=[role_to_proto(r) for r in account.roles],
        create_time=_timestamp(account.create_time),
        update_time=_timestamp(account.update_time),
        etag=account.etag,
    )


def token_pair_to_proto(pair: TokenPair) -> auth_pb2.TokenPair:
    """The wire ``TokenPair``; ``token_type`` is always ``Bearer`` (RFC 6750)."""
    return auth_pb2.TokenPair(
        access_token=pair.access_token,
        token_type="Bearer",  # noqa: S106
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )


def jwks_to_proto(jwks: dict[str, Any]) -> httpbody_pb2.HttpBody:
    """The JWK Set as an ``application/json`` HTTP body (the edge serves it as is)."""
    return httpbody_pb2.HttpBody(
        content_type="application/json", data=json.dumps(jwks, separators=(",", ":")).encode()
    )


def _peer_host(peer: str) -> str:
    kind, _, rest = unquote(peer).partition(":")
    if kind in ("ipv4", "ipv6"):
        return rest.rsplit(":", 1)[0].strip("[]")
    return peer


def parse_client_address(
    context: grpc.aio.ServicerContext,
    identity_of: Callable[[grpc.aio.ServicerContext], str | None],
    trusted_hops: int = 0,
) -> str:
    """The address of the end user behind a call, for per-address throttling.

    When the mTLS caller is the edge, it is taken from ``x-forwarded-for``: Envoy with
    ``use_remote_address`` appends the address it saw to whatever the client sent, so the
    entry ``trusted_hops`` from the right is the first one not under the client's control
    (Envoy's ``xff_num_trusted_hops`` rule).  Otherwise it is the gRPC peer's host.
    """
    if identity_of(context) == EDGE_IDENTITY:
        for key, value in context.invocation_metadata() or ():
            if key == "x-forwarded-for" and isinstance(value, str):
                entries = [e.strip() for e in value.split(",") if e.strip()]
                if entries:
                    return entries[max(len(entries) - 1 - trusted_hops, 0)]
    return _peer_host(context.peer() or "")
