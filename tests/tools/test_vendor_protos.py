"""The vendored protos are the ones of the locked PyPI releases (`make vendor-protos`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import protovalidate

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "vendor_protos_tool", ROOT / "tools" / "vendor_protos.py"
)
assert _spec and _spec.loader
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def test_validate_proto_is_the_one_the_locked_protovalidate_sdist_ships() -> None:
    version, hashes = tool.locked("protovalidate")
    assert hashes
    vendored = (ROOT / "api" / "third_party" / "buf" / "validate" / "validate.proto").read_bytes()
    assert vendored == tool.validate_proto_source(version, hashes)


def test_the_runtime_validates_with_the_vendored_rules() -> None:
    from agora.user.v1 import user_pb2
    from buf.validate import validate_pb2

    assert Path(validate_pb2.__file__).is_relative_to(ROOT / "gen")
    violations = protovalidate.collect_violations(user_pb2.GetUserRequest(name="nobody"))
    assert [v.proto.field.elements[0].field_name for v in violations] == ["name"]
