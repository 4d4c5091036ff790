"""Request checks that come before any contract rule: decodable bytes, no NUL in strings."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from agora.errors.v1.reasons import SharedReason
from pkg import errors

MALFORMED = SharedReason.MALFORMED_REQUEST
NUL = SharedReason.STRING_CONTAINS_NUL


def decode(deserializer: Callable[[bytes], Any] | None, raw: Any) -> Any:
    """``raw`` (the request's wire bytes) parsed by the method's ``deserializer``.

    Raises ``InvalidArgument`` (reason ``MALFORMED_REQUEST``) when the bytes are not a
    valid protobuf encoding of the request message, instead of the UNKNOWN status gRPC
    answers for a deserializer that raises.
    """
    if deserializer is None or not isinstance(raw, bytes):
        return raw
    try:
        return deserializer(raw)
    except Exception as exc:
        raise errors.InvalidArgument(
            "request message is not valid protobuf", reason=MALFORMED
        ) from exc


@cache
def _may_hold_strings(descriptor: Descriptor) -> bool:
    seen: set[str] = set()
    pending = [descriptor]
    while pending:
        current = pending.pop()
        if current.full_name in seen:
            continue
        seen.add(current.full_name)
        for field in current.fields:
            if field.type == FieldDescriptor.TYPE_STRING:
                return True
            if field.message_type is not None:
                pending.append(field.message_type)
    return False


def _violation(path: str) -> errors.FieldViolation:
    return errors.FieldViolation(
        field=path, description="must not contain a NUL character", reason=NUL
    )


def _walk(message: Message, prefix: str, found: list[errors.FieldViolation]) -> None:
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.type == FieldDescriptor.TYPE_STRING:
            items = enumerate(value) if field.is_repeated else ((None, value),)
            for index, text in items:
                if "\x00" in text:
                    found.append(_violation(path if index is None else f"{path}[{index}]"))
        elif field.message_type is not None:
            if not _may_hold_strings(field.message_type):
                continue
            if field.message_type.GetOptions().map_entry:
                value_field = field.message_type.fields_by_name["value"]
                for key, item in value.items():
                    entry = f"{path}[{key!r}]"
                    if isinstance(key, str) and "\x00" in key:
                        found.append(_violation(entry))
                    if value_field.type == FieldDescriptor.TYPE_STRING:
                        if "\x00" in item:
                            found.append(_violation(entry))
                    elif value_field.type == FieldDescriptor.TYPE_MESSAGE:
                        _walk(item, f"{entry}.", found)
            elif field.is_repeated:
                for index, item in enumerate(value):
                    _walk(item, f"{path}[{index}].", found)
            else:
                _walk(value, f"{path}.", found)


def nul_violations(message: Message) -> list[errors.FieldViolation]:
    """One violation (reason ``STRING_CONTAINS_NUL``) per string in ``message`` holding
    U+0000, at any depth: singular, repeated (``tags[1]``), map keys and values
    (``labels['k']``) and nested messages (``user.display_name``).

    PostgreSQL refuses NUL in text, so such a request is refused before any handler.
    """
    found: list[errors.FieldViolation] = []
    if _may_hold_strings(message.DESCRIPTOR):
        _walk(message, "", found)
    return found
