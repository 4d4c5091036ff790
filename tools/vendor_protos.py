"""Vendor the third-party ``.proto`` sources Agora's contracts import into ``api/third_party``.

No remote registry (BSR) is reachable, so the sources come from PyPI:

* ``google/api``, ``google/rpc``, ``google/type``: the ``.proto`` files that
  googleapis-common-protos installs beside its generated modules.
* ``buf/validate/validate.proto``: no package ships it as source; protovalidate 2.x wheels
  carry its serialized ``FileDescriptorProto`` (``protovalidate/_gen/buf/validate/validate_pb.py``).
  We download that wheel (without installing it), print the descriptor as ``.proto`` with
  ``tools/descriptor_to_proto.py``, and check that compiling the printed file gives back the
  same descriptor (json names aside, which protoc derives).

Run: ``python tools/vendor_protos.py`` (``make vendor-protos``).  Exits non-zero when the
round trip differs.
"""

from __future__ import annotations

import ast
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

import google.api
from google.protobuf import descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from descriptor_to_proto import descriptor_to_proto

ROOT = pathlib.Path(__file__).resolve().parent.parent
THIRD_PARTY = ROOT / "api" / "third_party"
PROTOVALIDATE_WHEEL = "protovalidate==2.1.0"
GOOGLE_PROTOS = [
    "google/api/annotations.proto", "google/api/http.proto", "google/api/httpbody.proto",
    "google/api/field_behavior.proto", "google/api/resource.proto", "google/api/client.proto",
    "google/api/launch_stage.proto", "google/rpc/status.proto", "google/rpc/code.proto",
    "google/rpc/error_details.proto", "google/type/money.proto",
]


def _copy_google() -> None:
    site = pathlib.Path(google.api.__path__[0]).parent.parent
    for rel in GOOGLE_PROTOS:
        dest = THIRD_PARTY / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(site / rel, dest)


def _validate_descriptor() -> descriptor_pb2.FileDescriptorProto:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "-d", tmp, PROTOVALIDATE_WHEEL], check=True)
        wheel = next(pathlib.Path(tmp).glob("protovalidate-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            src = zf.read("protovalidate/_gen/buf/validate/validate_pb.py").decode()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "file_desc":
            blob = node.args[0].value  # type: ignore[attr-defined]
            return descriptor_pb2.FileDescriptorProto.FromString(blob)
    raise SystemExit("no file_desc(...) call found in protovalidate's validate_pb.py")


def _deps() -> list[descriptor_pb2.FileDescriptorProto]:
    out = []
    for mod in (descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2):
        fdp = descriptor_pb2.FileDescriptorProto()
        mod.DESCRIPTOR.CopyToProto(fdp)
        out.append(fdp)
    return out


def _strip(fd: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    fd = descriptor_pb2.FileDescriptorProto.FromString(fd.SerializeToString())
    fd.ClearField("source_code_info")

    def walk(msg: descriptor_pb2.DescriptorProto) -> None:
        for f in [*msg.field, *msg.extension]:
            f.ClearField("json_name")
        for nested in msg.nested_type:
            walk(nested)

    for msg in fd.message_type:
        walk(msg)
    for f in fd.extension:
        f.ClearField("json_name")
    return fd


def _round_trip(expected: descriptor_pb2.FileDescriptorProto) -> None:
    import grpc_tools
    from grpc_tools import protoc  # imported late: heavy, and only this check needs it

    include = pathlib.Path(grpc_tools.__path__[0]) / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "set.binpb"
        rc = protoc.main(["protoc", f"-I{THIRD_PARTY}", f"-I{include}",
                          f"--descriptor_set_out={out}", "buf/validate/validate.proto"])
        if rc != 0:
            raise SystemExit("protoc could not compile the printed validate.proto")
        got = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[-1]
    if _strip(got) != _strip(expected):
        raise SystemExit("printed validate.proto does not compile back to the wheel's descriptor")


def main() -> None:
    """Write the vendored protos; raise ``SystemExit`` if validate.proto does not round-trip."""
    _copy_google()
    fd = _validate_descriptor()
    dest = THIRD_PARTY / "buf" / "validate" / "validate.proto"
    dest.parent.mkdir(parents=True, exist_ok=True)
    header = (f"// Printed from the descriptor in PyPI {PROTOVALIDATE_WHEEL}"
              " by tools/vendor_protos.py.\n"
              "// Copyright 2023-2026 Buf Technologies, Inc. Apache License 2.0. Do not edit.\n")
    dest.write_text(header + descriptor_to_proto(fd, _deps()))
    _round_trip(fd)
    print(f"vendored {len(GOOGLE_PROTOS)} google protos and {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
