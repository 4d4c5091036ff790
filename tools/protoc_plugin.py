"""A protoc plugin that runs one of grpcio-tools' built-in generators for ``buf generate``.

grpcio-tools bundles protoc with the ``python``, ``pyi`` and ``grpc_python`` generators
linked in, but ships no ``protoc-gen-*`` executables, and buf can only call a generator as
a plugin.  This bridge reads the ``CodeGeneratorRequest`` (protoc plugin protocol,
google/protobuf/compiler/plugin.proto) from stdin, hands the request's descriptors to the
bundled protoc via ``--descriptor_set_in``, and returns the files it wrote.

Usage (buf.gen.yaml): ``local: [python, tools/protoc_plugin.py, grpc_python]``.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc

GENERATORS = ("python", "pyi", "grpc_python")


def main() -> None:
    """Answer one CodeGeneratorRequest on stdin with a CodeGeneratorResponse on stdout."""
    generator = sys.argv[1]
    if generator not in GENERATORS:
        raise SystemExit(f"generator must be one of {GENERATORS}, not {generator!r}")
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        descriptors = root / "in.binpb"
        descriptors.write_bytes(
            descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString()
        )
        out = root / "out"
        out.mkdir()
        args = [
            "protoc",
            f"--descriptor_set_in={descriptors}",
            f"--{generator}_out={out}",
            *request.file_to_generate,
        ]
        if protoc.main(args) != 0:
            response.error = f"grpc_tools.protoc --{generator}_out failed"
        else:
            for path in sorted(p for p in out.rglob("*") if p.is_file()):
                response.file.add(name=str(path.relative_to(out)), content=path.read_text())
    sys.stdout.buffer.write(response.SerializeToString())


if __name__ == "__main__":
    main()
