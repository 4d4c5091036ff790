"""Checks that every error reason a package raises is a value of a contract enum.

Reasons are contracts (AIP-193 ``ErrorInfo.reason``): each is a value of an
``ErrorReason`` enum in a ``.proto`` (``agora.errors.v1`` for shared ones, the service's
package for its own), named ``ERROR_REASON_<REASON>``.  ``make gen`` writes each enum as a
grpc-free ``StrEnum`` (``agora.<domain>.v1.reasons``) that domain code raises with; these
helpers let a unit test check that the code uses those members and no string literals,
and that the generated members are the contract's values.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from google.protobuf.descriptor import EnumDescriptor

from pkg.errors import DomainError, Reason

PREFIX = "ERROR_REASON_"


def declared_reasons(*enums: EnumDescriptor) -> set[str]:
    """The reason strings of ``enums``: value names without ``ERROR_REASON_``, less
    ``UNSPECIFIED``."""
    return {v.name.removeprefix(PREFIX) for e in enums for v in e.values if v.number != 0}


def error_class_reasons(*modules: ModuleType) -> dict[str, Reason]:
    """``{"module.Class": reason}`` for every ``DomainError`` subclass defined in
    ``modules`` (the reason as the class holds it: an enum member, or ``WireReason``)."""
    found: dict[str, Reason] = {}
    for module in modules:
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DomainError) and cls.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = cls.reason
    return found


def _literal(value: ast.expr | None) -> tuple[int, str] | None:
    """``(line, text)`` of ``value`` if it is a string constant or ``WireReason("X")``."""
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name | ast.Attribute)
        and (value.func.id if isinstance(value.func, ast.Name) else value.func.attr) == "WireReason"
        and value.args
    ):
        value = value.args[0]
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.lineno, value.value
    return None


def literal_reasons(root: Path, *, skip: Iterable[str] = ("tests",)) -> dict[str, str]:
    """``{"path:line": reason}`` for the string literals given as a reason in the Python
    files under ``root`` (folders named in ``skip`` excluded): ``reason="X"`` keyword
    arguments, ``reason = "X"`` class attributes, ``*REASON* = "X"`` constants, and any of
    these spelled ``WireReason("X")``.  Code that raises with enum members has none."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        if set(path.relative_to(root).parts) & set(skip):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            value: ast.expr | None = None
            if isinstance(node, ast.keyword) and node.arg == "reason":
                value = node.value
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and "REASON" in t.id.upper() for t in targets):
                    value = node.value
            literal = _literal(value)
            if literal is not None:
                found[f"{path}:{literal[0]}"] = literal[1]
    return found


__all__ = ["declared_reasons", "error_class_reasons", "literal_reasons"]
