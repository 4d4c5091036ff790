"""Fast request validation: protovalidate's verdicts and violations, at Python speed.

``FastPath`` compiles, per message type and once, Python checks of the ``buf.validate``
rules the type uses (see ``_rules`` for the rules translated, with protovalidate's
semantics and messages) that produce the same ``buf.validate.Violation``s protovalidate
1.2 would, in the same order, and a check of "no U+0000 in any string".  A type using a
rule it does not translate is left to protovalidate (``fallback_reason`` names the rule).
See docs/adr/0016-fast-validation.md and docs/adr/0024-compiled-violations.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import protovalidate
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from buf.validate import validate_pb2
from pkg.validation._nul import NulCompiler
from pkg.validation._plan import Check, Compiler, Sink
from pkg.validation._rules import Unsupported

__all__ = ["FastPath"]

_UNLIMITED = 2**62


class FastPath:
    """Per-type compiled validation, built on first use (or by ``prepare``) and cached by
    message class.

    ``violations(message)`` is what protovalidate 1.x's ``collect_violations`` returns
    (as ``buf.validate.Violation`` protos, field and rule paths outermost first); for a
    type with an untranslated rule it *is* protovalidate's answer.  ``is_valid(message)``
    is ``True`` only when there is no violation and no string field (at any depth,
    repeated, map keys and values) holds U+0000.
    """

    def __init__(self, validator: protovalidate.Validator | None = None) -> None:
        self._compiler = Compiler()
        self._nul = NulCompiler()
        self._validator = validator
        self._checks: dict[type, tuple[Check | None, Callable[[Any], bool]]] = {}
        self._reasons: dict[str, str] = {}

    def _check_for(self, message: Message) -> tuple[Check | None, Callable[[Any], bool]]:
        descriptor: Any = message.DESCRIPTOR
        check: Check | None
        try:
            check = self._compiler.compile(descriptor)
        except Unsupported as exc:
            self._reasons[descriptor.full_name] = str(exc)
            check = None
        compiled = (check, self._nul.compile(descriptor))
        self._checks[type(message)] = compiled
        return compiled

    def prepare(self, message_types: Iterable[type[Message]]) -> None:
        """Compile the checks of ``message_types`` now (at start-up) rather than on their
        first request."""
        for message_type in message_types:
            if message_type not in self._checks:
                self._check_for(message_type())

    def _protovalidate(self, message: Message, limit: int) -> list[validate_pb2.Violation]:
        if self._validator is None:
            self._validator = protovalidate.Validator()
        return [v.proto for v in self._validator.collect_violations(message)[:limit]]

    def violations(
        self, message: Message, limit: int | None = None
    ) -> list[validate_pb2.Violation]:
        """protovalidate's violations of ``message``, in its order, at most ``limit`` (the
        first ones; all when ``None``).  Empty when valid.  NUL characters are not
        violations here (see ``is_valid``).

        Raises what protovalidate raises (``protovalidate.CompilationError`` for rules that
        do not fit their field) for a type left to it.
        """
        cap = _UNLIMITED if limit is None else limit
        check = (self._checks.get(type(message)) or self._check_for(message))[0]
        if check is None:
            return self._protovalidate(message, cap)
        found = Sink(cap)
        try:
            check(message, found)
        except Exception:
            return self._protovalidate(message, cap)
        return [one.to_proto() for one in found[:cap]]

    def is_valid(self, message: Message) -> bool:
        """Whether ``message`` has no violation and no string holding U+0000; never raises
        (an error in protovalidate counts as not valid)."""
        check, nul_free = self._checks.get(type(message)) or self._check_for(message)
        try:
            if check is None:
                return nul_free(message) and not self._protovalidate(message, 1)
            found = Sink(1)
            check(message, found)
            # The rules first: a message over a list's max_items is refused before its
            # strings are scanned for NUL.
            return not found and nul_free(message)
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
