"""Every reason pkg/ raises is a member of the shared contract enum (``SharedReason``,
generated from agora.errors.v1.ErrorReason), never a string literal."""

from __future__ import annotations

import os
from pathlib import Path

from mypy import api

import pkg
from agora.errors.v1 import errors_pb2
from agora.errors.v1.reasons import SharedReason
from pkg import errors
from pkg.server import _requests
from pkg.testing.reasons import declared_reasons, error_class_reasons, literal_reasons

ROOT = Path(__file__).resolve().parents[2]
SHARED = declared_reasons(errors_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])


def test_the_generated_enum_holds_the_contracts_reasons_as_sent() -> None:
    assert {member.value for member in SharedReason} == SHARED
    assert all(member.name == member.value for member in SharedReason)
    assert SharedReason.DATABASE_UNAVAILABLE == "DATABASE_UNAVAILABLE"


def test_the_base_classes_reasons_are_shared_enum_members() -> None:
    reasons = error_class_reasons(errors)
    assert len(reasons) >= 10
    assert reasons.pop("pkg.errors.DomainError") == "ERROR"
    assert {k: r for k, r in reasons.items() if not isinstance(r, SharedReason)} == {}


def test_pkg_gives_no_reason_as_a_string_literal() -> None:
    reasons = literal_reasons(Path(pkg.__file__).parent)
    field_violation, abstract_base = "", "ERROR"
    assert {k: r for k, r in reasons.items() if r not in (field_violation, abstract_base)} == {}


def test_the_literal_finder_finds_every_spelling(tmp_path: Path) -> None:
    (tmp_path / "raises.py").write_text(
        'class E(NotFound):\n    reason = "A"\n'
        'raise E("x", reason="B")\n'
        'MY_REASON = "C"\n'
        'raise E("x", reason=errors.WireReason("D"))\n'
        'raise E("x", reason=Reason.E)\n'
    )
    assert sorted(literal_reasons(tmp_path).values()) == ["A", "B", "C", "D"]


def test_request_parsing_reasons_are_shared_enum_members() -> None:
    assert isinstance(_requests.MALFORMED, SharedReason)
    assert isinstance(_requests.NUL, SharedReason)


_MISUSED = """
from agora.user.v1.reasons import UserReason
from pkg.errors import InvalidField, NotFound, WireReason

class Gone(NotFound):
    reason = "GONE"

def literal() -> None:
    raise InvalidField("email", "bad", reason="EMAIL_INVALID")

def misspelt() -> None:
    raise InvalidField("email", "bad", reason=UserReason.EMAIL_INVALDI)

def declared() -> None:
    raise InvalidField("email", "bad", reason=UserReason.EMAIL_INVALID)

def relayed(reason: str) -> None:
    raise NotFound("gone", reason=WireReason(reason))
"""


def test_mypy_refuses_a_literal_or_undeclared_reason(tmp_path: Path) -> None:
    misused = tmp_path / "misused.py"
    misused.write_text(_MISUSED)
    out, err, _ = api.run(
        [
            "--strict",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            "--config-file",
            str(ROOT / "pyproject.toml"),
            str(misused),
        ]
    )
    lines = sorted(
        int(line.split(":")[1])
        for line in out.splitlines()
        if line.startswith(f"{misused}:") and ": error:" in line
    )
    assert lines == [6, 9, 12], out + err
