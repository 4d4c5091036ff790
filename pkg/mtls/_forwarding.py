"""Acting for the caller: the running request's access token, as metadata for a peer."""

from __future__ import annotations

from agora.errors.v1.reasons import SharedReason
from pkg.errors import Unauthenticated
from pkg.principal import current_access_token


def forwarded_authorization() -> tuple[tuple[str, str]]:
    """Call metadata ``(("authorization", "Bearer <token>"),)`` carrying the running RPC's
    verified access token (RFC 6750 bearer), for a client adapter that calls a peer's
    public RPC on the caller's behalf, so the peer applies its own rule to the same caller
    (e.g. ``users/me`` names the caller there too).

    Explicit per call, never added by a channel interceptor: a token goes only to the
    peers an adapter chooses.  Raises ``Unauthenticated`` (reason ``TOKEN_MISSING``) when
    no verified token is bound (``pkg.principal.current_access_token``: outside an RPC, or
    in one whose rule is ``public``).
    """
    token = current_access_token()
    if not token:
        raise Unauthenticated(
            "an access token is required to act for the caller", reason=SharedReason.TOKEN_MISSING
        )
    return (("authorization", f"Bearer {token}"),)
