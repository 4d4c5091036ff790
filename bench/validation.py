"""Micro-benchmark: validating a valid request message, protovalidate vs ``pkg.validation``.

``python bench/validation.py`` prints a Markdown table with, per request message type of the
contracts, the median over several repeats of µs per validation (wall, ``time.perf_counter``)
and of CPU µs (``time.process_time``), for protovalidate alone and for the fast path, and
the ratio.  ``validation_table()`` returns the same lines for ``bench/run.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import protovalidate
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from pkg.contracts import import_contracts
from pkg.validation import FastPath

_UUID = "0b7c6f1e-5d0a-4c4e-9f7e-2a8b3c4d5e6f"
_VALID: dict[str, dict[str, Any]] = {
    "agora.user.v1.GetUserRequest": {"name": f"users/{_UUID}"},
    "agora.user.v1.UpdateUserRequest": {
        "user": {"name": "users/me", "display_name": "Ann Example"},
        "update_mask": {"paths": ["display_name"]}},
    "agora.user.v1.ListUsersRequest": {"page_size": 20, "page_token": "abc"},
    "agora.user.v1.CreateUserRequest": {
        "email": "ann@example.com", "password": "correct horse battery",
        "display_name": "Ann Example", "roles": [1, 2], "request_id": _UUID},
    "agora.user.v1.VerifyCredentialsRequest": {"email": "ann@example.com",
                                               "password": "correct horse battery"},
    "agora.auth.v1.RegisterRequest": {
        "email": "ann@example.com", "password": "correct horse battery",
        "display_name": "Ann Example", "roles": [1], "request_id": _UUID},
    "agora.auth.v1.LoginRequest": {"email": "ann@example.com",
                                   "password": "correct horse battery"},
    "agora.auth.v1.RefreshRequest": {"refresh_token": "r" * 43},
    "agora.auth.v1.LogoutRequest": {"refresh_token": "r" * 43},
}


def _requests() -> list[Message]:
    pool = descriptor_pool.Default()
    types = {m.input_type.full_name: m.input_type for s in import_contracts()
             for m in pool.FindServiceByName(s).methods}
    return [message_factory.GetMessageClass(types[name])(**_VALID.get(name, {}))
            for name in sorted(types)]


def _median_us(run: Callable[[], object], iterations: int, repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(iterations):
            run()
        walls.append((time.perf_counter() - wall) / iterations * 1e6)
        cpus.append((time.process_time() - cpu) / iterations * 1e6)
    return statistics.median(walls), statistics.median(cpus)


def validation_table(iterations: int = 300, repeats: int = 5) -> list[str]:
    """Markdown lines: one row per contract request type, µs per validation of a valid
    message (median of ``repeats`` runs of ``iterations`` calls each)."""
    validator, fast = protovalidate.Validator(), FastPath()
    lines = ["| request message | protovalidate µs (CPU) | fast path µs (CPU) | ratio |",
             "|---|---:|---:|---:|"]
    for message in _requests():
        validator.validate(message)
        if not fast.is_valid(message):
            raise RuntimeError(f"{message.DESCRIPTOR.full_name}: example not on the fast path")
        slow, slow_cpu = _median_us(lambda m=message: validator.validate(m), iterations, repeats)
        quick, quick_cpu = _median_us(lambda m=message: fast.is_valid(m), iterations * 10,
                                      repeats)
        lines.append(f"| {message.DESCRIPTOR.name} | {slow:.1f} ({slow_cpu:.1f}) "
                     f"| {quick:.1f} ({quick_cpu:.1f}) | {slow / quick:.0f}x |")
    return lines


if __name__ == "__main__":
    print("\n".join(validation_table()))
