"""Checks that every error reason a package raises is declared in a contract enum.

Reasons are contracts (AIP-193 ``ErrorInfo.reason``): each is a value of an
``ErrorReason`` enum in a ``.proto`` (``agora.errors.v1`` for shared ones, the service's
package for its own), named ``ERROR_REASON_<REASON>``.  Domain code keeps the strings (it
must not import the contracts); these helpers let a unit test compare the two.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from google.protobuf.descriptor import EnumDescriptor

from pkg.errors import DomainError

PREFIX = "ERROR_REASON_"


def declared_reasons(*enums: EnumDescriptor) -> set[str]:
    """The reason strings of ``enums``: value names without ``ERROR_REASON_``, less
    ``UNSPECIFIED``."""
    return {v.name.removeprefix(PREFIX) for e in enums for v in e.values
            if v.number != 0}


def error_class_reasons(*modules: ModuleType) -> dict[str, str]:
    """``{"module.Class": reason}`` for every ``DomainError`` subclass defined in
    ``modules``."""
    found: dict[str, str] = {}
    for module in modules:
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DomainError) and cls.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = cls.reason
    return found


def literal_reasons(root: Path, *, skip: Iterable[str] = ("tests",)) -> dict[str, str]:
    """``{"path:line": reason}`` for the string literals given as a reason in the Python
    files under ``root`` (folders named in ``skip`` excluded): ``reason="X"`` keyword
    arguments, ``reason = "X"`` class attributes and ``*REASON* = "X"`` constants."""
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
                if any(isinstance(t, ast.Name) and "REASON" in t.id.upper()
                       for t in targets):
                    value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found[f"{path}:{value.lineno}"] = value.value
    return found


__all__ = ["declared_reasons", "error_class_reasons", "literal_reasons"]
