"""Every reason pkg/ raises is a member of the shared contract enum (``SharedReason``,
generated from agora.errors.v1.ErrorReason), never a string literal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pkg
from agora.errors.v1 import errors_pb2
from agora.errors.v1.reasons import SharedReason
from pkg import errors
from pkg.server import _requests
from pkg.testing.reasons import declared_reasons, error_class_reasons, literal_reasons

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
        'raise E("x", reason=Reason.E)\n')
    assert sorted(literal_reasons(tmp_path).values()) == ["A", "B", "C", "D"]


def test_request_parsing_reasons_are_shared_enum_members() -> None:
    assert isinstance(_requests.MALFORMED, SharedReason)
    assert isinstance(_requests.NUL, SharedReason)


def test_the_generated_enums_import_neither_grpc_nor_protobuf() -> None:
    probe = ("import sys, agora.errors.v1.reasons, agora.user.v1.reasons, "
             "agora.auth.v1.reasons; print('\\n'.join(sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=60).stdout.split()
    assert "agora.user.v1.reasons" in loaded
    assert [m for m in loaded if m.split(".")[0] in ("grpc", "google")] == []
