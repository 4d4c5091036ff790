"""The protoc plugin behind ``make gen``'s grpc-free error-reason enums
(tools/reasons_plugin.py), spoken to over the plugin protocol as buf does."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tools" / "reasons_plugin.py"
_spec = importlib.util.spec_from_file_location("reasons_plugin_tool", PLUGIN)
assert _spec and _spec.loader
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def _file(
    package: str, *values: tuple[str, int], enum: str = "ErrorReason", name: str = "shop.proto"
) -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name=f"{package.replace('.', '/')}/{name}", package=package, syntax="proto3"
    )
    file.enum_type.add(name=enum).value.extend(
        descriptor_pb2.EnumValueDescriptorProto(name=n, number=i) for n, i in values
    )
    file.source_code_info.location.add(path=[5, 0], leading_comments=" What went wrong.\n")
    file.source_code_info.location.add(
        path=[5, 0, 2, 1], leading_comments=" The item is gone.\n Sorry.\n"
    )
    return file


def _run(
    *files: descriptor_pb2.FileDescriptorProto, generate: tuple[str, ...] | None = None
) -> plugin_pb2.CodeGeneratorResponse:
    request = plugin_pb2.CodeGeneratorRequest(
        file_to_generate=[f.name for f in files] if generate is None else generate, proto_file=files
    )
    out = subprocess.run(
        [sys.executable, str(PLUGIN)],
        input=request.SerializeToString(),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return plugin_pb2.CodeGeneratorResponse.FromString(out)


SHOP = _file(
    "agora.shop.v1",
    ("ERROR_REASON_UNSPECIFIED", 0),
    ("ERROR_REASON_ITEM_GONE", 1),
    ("ERROR_REASON_PRICE_CHANGED", 2),
)


def test_a_package_enum_becomes_a_str_enum_of_wire_reasons() -> None:
    response = _run(SHOP)
    assert response.error == ""
    [written] = response.file
    assert written.name == "agora/shop/v1/reasons.py"
    namespace: dict[str, object] = {}
    exec(compile(written.content, written.name, "exec"), namespace)  # noqa: S102
    shop_reason = namespace["ShopReason"]
    assert [(m.name, m.value) for m in shop_reason] == [  # type: ignore[attr-defined]
        ("ITEM_GONE", "ITEM_GONE"),
        ("PRICE_CHANGED", "PRICE_CHANGED"),
    ]
    assert shop_reason.ITEM_GONE == "ITEM_GONE"  # type: ignore[attr-defined]
    assert shop_reason.__doc__ == "What went wrong."
    assert '    ITEM_GONE = "ITEM_GONE"\n    """The item is gone.\n    Sorry.\n    """' in (
        written.content
    )
    imports = [
        line for line in written.content.splitlines() if line.startswith(("import ", "from "))
    ]
    assert imports == ["from enum import StrEnum, unique"]


def test_files_without_the_enum_or_not_asked_for_get_nothing() -> None:
    other = _file("agora.chat.v1", ("STATUS_UNSPECIFIED", 0), enum="Status")
    assert list(_run(other).file) == []
    assert list(_run(SHOP, other, generate=(other.name,)).file) == []


def test_a_value_without_the_prefix_is_refused_by_name() -> None:
    bad = _file("agora.shop.v1", ("ERROR_REASON_UNSPECIFIED", 0), ("ITEM_GONE", 1))
    response = _run(bad)
    assert "agora.shop.v1.ErrorReason.ITEM_GONE" in response.error
    assert list(response.file) == []


@pytest.mark.parametrize(
    ("package", "name"),
    [
        ("agora.user.v1", "UserReason"),
        ("agora.order.v2beta1", "OrderReason"),
        ("agora.errors.v1", "SharedReason"),
    ],
)
def test_the_class_is_named_after_the_package(package: str, name: str) -> None:
    assert tool.class_name(package) == name


def test_a_package_without_a_name_segment_is_refused() -> None:
    with pytest.raises(tool.ContractError, match="no name segment"):
        tool.class_name("v1")


def test_the_generated_modules_import_neither_grpc_nor_protobuf() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT / "gen").with_suffix("").parts)
        for p in (ROOT / "gen" / "agora").glob("*/v*/reasons.py")
    )
    assert {"agora.errors.v1.reasons", "agora.user.v1.reasons"} <= set(modules)
    probe = f"import sys, {', '.join(modules)}; print('\\n'.join(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert set(modules) <= set(loaded)
    assert [m for m in loaded if m.split(".")[0] in ("grpc", "google")] == []
