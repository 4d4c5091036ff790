"""Refresh-token families in Redis, keyed by SHA-256 hashes of the tokens only.

Keys (every one expires ``ttl`` seconds after the family's last rotation, but never after
the family's absolute expiry: each TTL is ``min(ttl, expires - now)``):

- ``auth:rt:<sha256>``: hash ``family``, ``user``, ``state`` (``active`` | ``rotated``);
- ``auth:family:<id>``: hash ``user``, ``roles`` (comma-separated), ``created`` and
  ``expires`` (Unix seconds), ``state`` (``active`` | ``revoked``);
- ``auth:user:<user id>:families``: set of the user's live family ids (for logout-all);
  its TTL is only ever raised, to the longest-lived family's;
- ``agora:inbox:{auth}:<event id>``: the user service's events already applied
  (``pkg.events.inbox_key``), written by the same script as their revocations.

Creation, rotation and revocation are Lua scripts, so check-and-rotate is atomic: of two
concurrent refreshes with one token, one rotates it and the other sees it rotated (reuse);
logout-all revokes every family of the user in one script call.  A token's family is read
first (it never changes), so every key a script touches is passed in ``KEYS`` as Redis
requires (https://redis.io/docs/latest/develop/programmability/eval-intro/).  The scripts
use only commands of Redis 6.2 (no ``EXPIRE GT``).  A family stored before families had
an ``expires`` field ends ``lifetime_seconds`` after its ``created``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as redis

from pkg.events import inbox_key
from services.auth.domain import RefreshOutcome, Rotation, TokenFamily

_CREATE = """
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'roles', ARGV[2], 'created', ARGV[3],
           'expires', ARGV[4], 'state', 'active')
redis.call('HSET', KEYS[2], 'family', ARGV[5], 'user', ARGV[1], 'state', 'active')
redis.call('SADD', KEYS[3], ARGV[5])
local left = tonumber(ARGV[6])
redis.call('EXPIRE', KEYS[1], left)
redis.call('EXPIRE', KEYS[2], left)
if redis.call('TTL', KEYS[3]) < left then redis.call('EXPIRE', KEYS[3], left) end
return 1
"""

_ROTATE = """
local state = redis.call('HGET', KEYS[1], 'state')
local fam = redis.call('HMGET', KEYS[3], 'state', 'user', 'roles', 'created', 'expires')
if not state or not fam[1] then return {'unknown'} end
local expires = fam[5] or tostring(tonumber(fam[4]) + tonumber(ARGV[4]))
if fam[1] == 'revoked' then return {'revoked', fam[2], fam[3], fam[4], expires} end
local left = math.min(tonumber(ARGV[1]), math.floor(tonumber(expires) - tonumber(ARGV[3])))
if left <= 0 then
  redis.call('HSET', KEYS[3], 'state', 'revoked')
  redis.call('SREM', KEYS[4], ARGV[2])
  return {'expired', fam[2], fam[3], fam[4], expires}
end
if state ~= 'active' then
  redis.call('HSET', KEYS[3], 'state', 'revoked')
  redis.call('SREM', KEYS[4], ARGV[2])
  return {'reused', fam[2], fam[3], fam[4], expires}
end
redis.call('HSET', KEYS[1], 'state', 'rotated')
redis.call('HSET', KEYS[2], 'family', ARGV[2], 'user', fam[2], 'state', 'active')
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], left) end
if redis.call('TTL', KEYS[4]) < left then redis.call('EXPIRE', KEYS[4], left) end
return {'rotated', fam[2], fam[3], fam[4], expires}
"""

_REVOKE = """
local live = 0
for i = 2, #KEYS do
  redis.call('SREM', KEYS[1], ARGV[i - 1])
  local was = redis.call('HGET', KEYS[i], 'state')
  if was and was ~= 'revoked' then
    redis.call('HSET', KEYS[i], 'state', 'revoked')
    live = live + 1
  end
end
return live
"""


_REVOKE_ONCE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local live = 0
for i = 3, #KEYS do
  redis.call('SREM', KEYS[2], ARGV[i])
  local was = redis.call('HGET', KEYS[i], 'state')
  if was and was ~= 'revoked' then
    redis.call('HSET', KEYS[i], 'state', 'revoked')
    live = live + 1
  end
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return live
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisTokenStore:
    """``TokenStore`` over ``redis.asyncio``; ``ttl_seconds`` is the refresh-token (idle)
    TTL, ``lifetime_seconds`` the absolute lifetime of families stored without ``expires``.

    With a ``pkg.redis`` client, an unreachable or hung Redis raises
    ``pkg.errors.Unavailable`` (reason ``REDIS_UNAVAILABLE``; health turns NOT_SERVING
    through the ``redis`` probe).
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl_seconds: int,
        lifetime_seconds: int = 30 * 24 * 3600,
        prefix: str = "auth:",
        inbox_ttl_seconds: float = 7 * 86400.0,
    ) -> None:
        self._redis = client
        self._ttl = ttl_seconds
        self._lifetime = lifetime_seconds
        self._prefix = prefix
        self._create = client.register_script(_CREATE)
        self._rotate = client.register_script(_ROTATE)
        self._revoke = client.register_script(_REVOKE)
        self._revoke_once = client.register_script(_REVOKE_ONCE)
        self._inbox_ttl_ms = int(inbox_ttl_seconds * 1000)

    def _token(self, token_hash: str) -> str:
        return f"{self._prefix}rt:{token_hash}"

    def _family(self, family_id: str) -> str:
        return f"{self._prefix}family:{family_id}"

    def _user(self, user_id: str) -> str:
        return f"{self._prefix}user:{user_id}:families"

    async def create_family(self, family: TokenFamily, token_hash: str) -> None:
        """See ``TokenStore.create_family``; ``family.created_at`` is taken as now."""
        remaining = (family.expires_at - family.created_at).total_seconds()
        left = max(1, min(self._ttl, math.floor(remaining)))
        await self._create(
            keys=[
                self._family(family.family_id),
                self._token(token_hash),
                self._user(family.user_id),
            ],
            args=[
                family.user_id,
                ",".join(family.roles),
                str(family.created_at.timestamp()),
                str(int(family.expires_at.timestamp())),
                family.family_id,
                left,
            ],
        )

    async def _owner(self, token_hash: str) -> tuple[str, str] | None:
        family, user = await self._redis.hmget(self._token(token_hash), ["family", "user"])
        return None if family is None or user is None else (_text(family), _text(user))

    async def rotate(self, token_hash: str, successor_hash: str, *, now: datetime) -> Rotation:
        """See ``TokenStore.rotate``."""
        owner = await self._owner(token_hash)
        if owner is None:
            return Rotation(RefreshOutcome.UNKNOWN)
        family_id, user_id = owner
        reply = await self._rotate(
            keys=[
                self._token(token_hash),
                self._token(successor_hash),
                self._family(family_id),
                self._user(user_id),
            ],
            args=[self._ttl, family_id, str(now.timestamp()), self._lifetime],
        )
        outcome = RefreshOutcome(_text(reply[0]))
        if outcome is RefreshOutcome.UNKNOWN:
            return Rotation(outcome)
        user, roles, created, expires = (_text(v) for v in reply[1:5])
        return Rotation(
            outcome,
            TokenFamily(
                family_id=family_id,
                user_id=user,
                roles=tuple(r for r in roles.split(",") if r),
                created_at=datetime.fromtimestamp(float(created), UTC),
                expires_at=datetime.fromtimestamp(float(expires), UTC),
            ),
        )

    async def revoke_family_of(self, token_hash: str) -> bool:
        """See ``TokenStore.revoke_family_of``."""
        owner = await self._owner(token_hash)
        if owner is None:
            return False
        family_id, user_id = owner
        return bool(await self._revoke_families(user_id, [family_id]))

    async def revoke_user(self, user_id: str) -> int:
        """See ``TokenStore.revoke_user``."""
        families = [_text(f) for f in await self._redis.smembers(self._user(user_id))]
        return await self._revoke_families(user_id, families) if families else 0

    async def revoke_user_once(self, user_id: str, *, event_id: str) -> int | None:
        """See ``TokenStore.revoke_user_once``: one script checks the inbox key, revokes
        the families read just before and writes the key (kept ``inbox_ttl_seconds``,
        longer than the event stream's retention).  A family opened between the read and
        the script is not in it, and was opened after the event: it stays."""
        families = [_text(f) for f in await self._redis.smembers(self._user(user_id))]
        keys = [
            inbox_key("auth", event_id),
            self._user(user_id),
            *(self._family(f) for f in families),
        ]
        live = int(await self._revoke_once(keys=keys, args=[self._inbox_ttl_ms, "-", *families]))
        return None if live < 0 else live

    async def _revoke_families(self, user_id: str, family_ids: list[str]) -> int:
        keys = [self._user(user_id), *(self._family(f) for f in family_ids)]
        return int(await self._revoke(keys=keys, args=family_ids))
