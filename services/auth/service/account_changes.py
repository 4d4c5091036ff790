"""What auth does when the user service says an account changed (its events)."""

from __future__ import annotations

import logging

from services.auth.service.ports import TokenStore

_log = logging.getLogger("agora.auth.account_changes")


class AccountChanges:
    """Ends a user's sessions when their roles change or their account is disabled.

    Access tokens carry the roles of the login that opened their family; revoking the
    user's refresh-token families makes the next refresh fail (INVALID_REFRESH_TOKEN), so
    the client logs in again and gets tokens with the new roles, or is refused when the
    account is disabled.  Access tokens already issued live out their short lifetime
    (``AGORA_AUTH_ACCESS_TOKEN_TTL_SECONDS``).  Each event applies once (``tokens``'
    inbox), however often it is delivered.
    """

    def __init__(self, tokens: TokenStore) -> None:
        self._tokens = tokens

    async def end_sessions(self, user_id: str, *, event_id: str, because: str) -> int | None:
        """Revoke every refresh-token family of ``user_id`` for the event ``event_id``;
        how many were live, or ``None`` when that event was applied before.  ``because``
        names the event in the log line."""
        revoked = await self._tokens.revoke_user_once(user_id, event_id=event_id)
        if revoked is not None:
            _log.info(
                "sessions ended",
                extra={"user": user_id, "families": revoked, "because": because, "event": event_id},
            )
        return revoked
