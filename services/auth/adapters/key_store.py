"""``SigningKeys`` over the keys directory, re-read when the directory changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from pkg.obs import get_logger
from services.auth.adapters.key_files import ensure_key, read_keys
from services.auth.service import SigningKey

_log = get_logger("agora.auth.keys")


class FileKeyStore:
    """The keys of ``keys_dir`` (see ``key_files``), cached in memory.

    At most every ``rescan_seconds`` a call stats the directory (off the event loop); when
    its mtime changed (a key was added by ``rotate-key`` or removed by ``retire-keys``)
    the keys are re-read, so a running server picks up a rotation without a restart.
    ``load()`` must run once before use; it creates the first key in an empty directory.
    """

    def __init__(
        self,
        keys_dir: Path,
        *,
        rescan_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._dir = keys_dir
        self._rescan = rescan_seconds
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._mtime = 0
        self._checked = float("-inf")

    def load(self) -> None:
        """Read (or create) the keys; blocking file I/O, for start-up.  ``OSError``."""
        self._mtime = self._dir_mtime()
        self._keys = {k.kid: k for k in ensure_key(self._dir)}
        self._checked = self._clock()

    def _dir_mtime(self) -> int:
        return self._dir.stat().st_mtime_ns if self._dir.exists() else 0

    async def _maybe_rescan(self) -> None:
        now = self._clock()
        if now - self._checked < self._rescan:
            return
        self._checked = now
        try:
            mtime = await asyncio.to_thread(self._dir_mtime)
            if mtime == self._mtime:
                return
            keys = await asyncio.to_thread(read_keys, self._dir)
        except OSError:
            _log.exception("cannot read the signing keys; keeping the loaded ones")
            return
        if not keys:
            _log.error("the keys directory holds no key; keeping the loaded ones")
            return
        self._mtime = mtime
        if [k.kid for k in keys] != list(self._keys):
            _log.info("signing keys reloaded", extra={"kids": [k.kid for k in keys]})
        self._keys = {k.kid: k for k in keys}

    async def verification_keys(self) -> Mapping[str, SigningKey]:
        """See ``SigningKeys.verification_keys``."""
        await self._maybe_rescan()
        return self._keys
