"""Micro-benchmark: validating valid and invalid request messages, protovalidate vs
``pkg.validation``.

``python bench/validation.py`` prints a Markdown table with, per request message type of the
contracts, the median over several repeats of CPU µs per validation (``time.process_time``)
of a valid example and of an invalid one (the example breaking the most rules of the type),
for protovalidate alone (``collect_violations``) and for the fast path (``is_valid`` for the
valid example, ``violations`` for the invalid one: the refusal's full list of violations).
It stops with an error when an example is not what it claims, or when the fast path's
violations differ from protovalidate's.  ``validation_table()`` returns the same lines for
``bench/run.py``; ``python bench/validation.py --crafted`` prints what attacker-sized
inputs cost instead (see docs/benchmarks.md).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import protovalidate
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from bench.agora_bench.report import validation_table as format_table
from bench.agora_bench.results import ValidationRow
from pkg.contracts import import_contracts
from pkg.server._interceptors import MAX_VIOLATIONS
from pkg.validation import FastPath

_UUID = "0b7c6f1e-5d0a-4c4e-9f7e-2a8b3c4d5e6f"
_VALID: dict[str, dict[str, Any]] = {
    "agora.user.v1.GetUserRequest": {"name": f"users/{_UUID}"},
    "agora.user.v1.UpdateUserRequest": {
        "user": {"name": "users/me", "display_name": "Ann Example"},
        "update_mask": {"paths": ["display_name"]},
    },
    "agora.user.v1.ListUsersRequest": {"page_size": 20, "page_token": "abc"},
    "agora.user.v1.CreateUserRequest": {
        "email": "ann@example.com",
        "password": "correct horse battery",
        "display_name": "Ann Example",
        "roles": [1, 2],
        "request_id": _UUID,
    },
    "agora.user.v1.VerifyCredentialsRequest": {
        "email": "ann@example.com",
        "password": "correct horse battery",
    },
    "agora.auth.v1.RegisterRequest": {
        "email": "ann@example.com",
        "password": "correct horse battery",
        "display_name": "Ann Example",
        "roles": [1],
        "request_id": _UUID,
    },
    "agora.auth.v1.LoginRequest": {"email": "ann@example.com", "password": "correct horse battery"},
    "agora.auth.v1.RefreshRequest": {"refresh_token": "r" * 43},
    "agora.auth.v1.LogoutRequest": {"refresh_token": "r" * 43},
}
_SIGN_UP = {
    "email": "x" * 251 + "@b..c",
    "password": "short",
    "display_name": "",
    "roles": [3, 3, 0],
    "request_id": "not-a-uuid",
}
_INVALID: dict[str, dict[str, Any]] = {
    "agora.user.v1.GetUserRequest": {"name": "users/nobody"},
    "agora.user.v1.UpdateUserRequest": {
        "user": {"name": "nobody", "display_name": ""},
        "update_mask": {"paths": ["email", "display_name.x", "name"]},
    },
    "agora.user.v1.ListUsersRequest": {"page_size": 101, "page_token": "t" * 201},
    "agora.user.v1.CreateUserRequest": _SIGN_UP,
    "agora.user.v1.VerifyCredentialsRequest": {"email": "ab", "password": ""},
    "agora.auth.v1.RegisterRequest": _SIGN_UP,
    "agora.auth.v1.LoginRequest": {"email": "ab", "password": ""},
    "agora.auth.v1.RefreshRequest": {"refresh_token": "short"},
    "agora.auth.v1.LogoutRequest": {"refresh_token": "r" * 129},
}


def _types() -> list[Any]:
    pool = descriptor_pool.Default()
    types = {
        m.input_type.full_name: m.input_type
        for s in import_contracts()
        for m in pool.FindServiceByName(s).methods
    }
    return [types[name] for name in sorted(types)]


def _median_cpu_us(run: Callable[[], object], iterations: int, repeats: int) -> float:
    cpus = []
    for _ in range(repeats):
        cpu = time.process_time()
        for _ in range(iterations):
            run()
        cpus.append((time.process_time() - cpu) / iterations * 1e6)
    return statistics.median(cpus)


def _row(
    descriptor: Any,
    validator: protovalidate.Validator,
    fast: FastPath,
    iterations: int,
    repeats: int,
) -> ValidationRow:
    cls = message_factory.GetMessageClass(descriptor)
    name = descriptor.full_name
    valid: Message = cls(**_VALID.get(name, {}))
    if validator.collect_violations(valid) or not fast.is_valid(valid):
        raise RuntimeError(f"{name}: the valid example is not valid")
    if fast.fallback_reason(descriptor) is not None:
        raise RuntimeError(f"{name}: left to protovalidate ({fast.fallback_reason(descriptor)})")
    row = ValidationRow(
        descriptor.name,
        _median_cpu_us(lambda: validator.collect_violations(valid), iterations, repeats),
        _median_cpu_us(lambda: fast.is_valid(valid), iterations * 10, repeats),
    )
    if name not in _INVALID:
        return row
    invalid: Message = cls(**_INVALID[name])
    expected = [v.proto for v in validator.collect_violations(invalid)]
    if not expected or fast.violations(invalid) != expected:
        raise RuntimeError(f"{name}: the invalid example's violations are not protovalidate's")
    return ValidationRow(
        row.message,
        row.valid_protovalidate_us,
        row.valid_fast_us,
        _median_cpu_us(
            lambda: validator.collect_violations(invalid), max(iterations // 10, 3), repeats
        ),
        _median_cpu_us(lambda: fast.violations(invalid), iterations * 2, repeats),
        tuple(v.rule_id for v in expected),
    )


def measure(iterations: int = 300, repeats: int = 5) -> list[ValidationRow]:
    """One row per contract request type (median of ``repeats`` runs; protovalidate on
    valid examples ``iterations`` calls per run, on invalid ones a tenth of that, the fast
    path 10x and 2x as many)."""
    validator, fast = protovalidate.Validator(), FastPath()
    return [_row(d, validator, fast, iterations, repeats) for d in _types()]


def validation_table(iterations: int = 300, repeats: int = 5) -> list[str]:
    """Markdown lines: the table of ``measure()`` and the goal line."""
    return format_table(measure(iterations, repeats))


def crafted() -> list[str]:
    """What inputs an attacker can choose cost on the fast path, in CPU µs per call (one
    call each, after a warm-up): long strings against the patterns and the email regex,
    and a huge repeated field, each beside the cost of parsing the same message."""
    from agora.user.v1 import user_pb2

    fast = FastPath()
    cases: list[tuple[str, Message]] = [
        (
            "GetUserRequest, name = 'users/' + 1 MB of 'a'",
            user_pb2.GetUserRequest(name="users/" + "a" * 1_000_000),
        ),
        (
            "GetUserRequest, name = 1 MB of 'users/me' repeats",
            user_pb2.GetUserRequest(name="users/me" * 125_000),
        ),
        (
            "CreateUserRequest, email = 1 MB local part + '@'",
            user_pb2.CreateUserRequest(email="a" * 1_000_000 + "@"),
        ),
        (
            "CreateUserRequest, email = 'a@' + 1 MB of 'a-'",
            user_pb2.CreateUserRequest(email="a@" + "a-" * 500_000),
        ),
        (
            "CreateUserRequest, 1,000,000 roles (ROLE_ADMIN)",
            user_pb2.CreateUserRequest(roles=[user_pb2.ROLE_ADMIN] * 1_000_000),
        ),
        (
            "CreateUserRequest, 300,000 distinct role numbers",
            user_pb2.CreateUserRequest(roles=range(300_000)),
        ),  # type: ignore[arg-type]
    ]
    lines = [
        f"| crafted input | bytes | parse µs | is_valid µs | violations µs "
        f"(limit {MAX_VIOLATIONS}) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, message in cases:
        wire = message.SerializeToString()
        cls: Any = type(message)
        fast.violations(message, limit=MAX_VIOLATIONS)
        parse = _median_cpu_us(partial(cls.FromString, wire), 3, 3)
        check = _median_cpu_us(partial(fast.is_valid, message), 3, 3)
        refuse = _median_cpu_us(partial(fast.violations, message, limit=MAX_VIOLATIONS), 3, 3)
        lines.append(f"| {label} | {len(wire):,} | {parse:,.0f} | {check:,.0f} | {refuse:,.0f} |")
    return lines


if __name__ == "__main__":
    print("\n".join(crafted() if "--crafted" in sys.argv[1:] else validation_table()))
