"""``PasswordHasher`` with argon2id (argon2-cffi), run in a thread pool off the event loop.

Defaults follow the OWASP Password Storage Cheat Sheet's minimum for argon2id: 19 MiB of
memory (19456 KiB), 2 iterations, 1 degree of parallelism
(https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id).
Hashes are PHC strings (``$argon2id$v=19$m=19456,t=2,p=1$...``), so stored hashes carry
their parameters and ``needs_rehash`` can tell when they are outdated.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

_T = TypeVar("_T")

OWASP_MEMORY_COST_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1


class Argon2Hasher:
    """argon2id hashing in ``workers`` threads (argon2's C code releases the GIL).

    ``memory_cost`` is in KiB.  At most ``workers`` hashes run at once, which bounds the
    memory they take (``workers * memory_cost``).  Construction hashes one random password
    (the dummy hash for unknown accounts); ``close()`` stops the threads.
    """

    def __init__(
        self,
        *,
        time_cost: int = OWASP_TIME_COST,
        memory_cost: int = OWASP_MEMORY_COST_KIB,
        parallelism: int = OWASP_PARALLELISM,
        workers: int = 4,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def _off_loop(self, function: Callable[..., _T], *args: object) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def hash(self, password: str) -> str:
        """An encoded argon2id hash of ``password`` with a fresh 16-byte salt."""
        return await self._off_loop(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; ``False`` also for a malformed ``password_hash``."""
        try:
            return await self._off_loop(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify_dummy(self, password: str) -> None:
        """Verify ``password`` against a hash no password matches, to spend the same time."""
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash's parameters differ from this hasher's."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def close(self) -> None:
        """Stop the worker threads once running hashes finish."""
        await asyncio.to_thread(self._executor.shutdown, wait=True)
