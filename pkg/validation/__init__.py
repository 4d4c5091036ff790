"""Fast request validation: protovalidate's verdict on valid messages, at Python speed.

``FastPath`` compiles, per message type and once, a Python check of the ``buf.validate``
rules the type uses (see ``_rules`` for the rules translated, with protovalidate's
semantics) and of "no U+0000 in any string".  It only ever says "valid": ``False`` means
"let protovalidate judge", which also produces the violations.  A type using a rule it
does not translate always answers ``False`` (``fallback_reason`` names the rule).
See docs/adr/0016-fast-validation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from pkg.validation._plan import Compiler
from pkg.validation._rules import Unsupported

__all__ = ["FastPath"]


def _never(message: Any) -> bool:
    return False


class FastPath:
    """Per-type compiled validity checks, built on first use and cached by message class.

    ``is_valid(message)`` is ``True`` only when protovalidate 1.x
    (``Validator().validate``) would raise nothing and no string field (at any depth,
    repeated, map keys and values) holds U+0000; it never raises.
    """

    def __init__(self) -> None:
        self._compiler = Compiler()
        self._checks: dict[type, Callable[[Any], bool]] = {}
        self._reasons: dict[str, str] = {}

    def _check_for(self, message: Message) -> Callable[[Any], bool]:
        descriptor = message.DESCRIPTOR
        try:
            check = self._compiler.compile(descriptor)  # type: ignore[arg-type]
        except Unsupported as exc:
            self._reasons[descriptor.full_name] = str(exc)
            check = _never
        self._checks[type(message)] = check
        return check

    def prepare(self, message_types: Iterable[type[Message]]) -> None:
        """Compile the checks of ``message_types`` now (at start-up) rather than on their
        first request."""
        for message_type in message_types:
            if message_type not in self._checks:
                self._check_for(message_type())

    def is_valid(self, message: Message) -> bool:
        """Whether ``message`` is certainly valid; ``False`` means protovalidate must judge."""
        check = self._checks.get(type(message)) or self._check_for(message)
        try:
            return check(message)
        except Exception:
            return False

    def fallback_reason(self, descriptor: Descriptor) -> str | None:
        """Why messages of ``descriptor`` always go to protovalidate (the first rule not
        translated), or ``None`` when the fast path covers the type."""
        try:
            self._compiler.compile(descriptor)
        except Unsupported as exc:
            return str(exc)
        return None
