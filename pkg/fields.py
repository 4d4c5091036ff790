"""Request fields every entrypoint maps the same way: request ids, update masks, and the
renaming of a use case's field to the request's path (AIP-193 field violations).

Pure Python (no protobuf): servicers pass ``request.update_mask.paths`` and the like, so
use cases may import it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping
from enum import StrEnum
from uuid import UUID

from agora.errors.v1.reasons import SharedReason
from pkg.errors import InvalidField


def parse_request_id(text: str, *, field: str = "request_id") -> UUID | None:
    """The idempotency key of a create (AIP-155, a UUID), or ``None`` when ``text`` is
    empty; ``InvalidField`` (at ``field``, REQUEST_ID_INVALID) for anything else."""
    if not text:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise InvalidField(
            field, "must be a UUID", reason=SharedReason.REQUEST_ID_INVALID
        ) from None


def parse_resource_id(
    name: str, collection: str, *, field: str, reason: StrEnum = SharedReason.INVALID_FIELD
) -> UUID:
    """The id of the resource name ``<collection>/{uuid}`` (AIP-122), the UUID in its
    canonical lower-case form, as the contracts' patterns require; ``InvalidField`` (at
    ``field``, ``reason``) for anything else."""
    prefix = f"{collection}/"
    if name.startswith(prefix):
        text = name.removeprefix(prefix)
        with contextlib.suppress(ValueError):
            if str(parsed := UUID(text)) == text:
                return parsed
    raise InvalidField(field, f"must be {collection}/{{uuid}}", reason=reason)


def update_mask_fields(
    paths: Collection[str], updatable: Collection[str], *, field: str = "update_mask"
) -> frozenset[str]:
    """The fields an Update names in its ``FieldMask`` (AIP-134), as a set.

    Raises ``InvalidField`` (at ``field``, UPDATE_MASK_INVALID) when ``paths`` is empty or
    names a field outside ``updatable``; ``*`` (a full replacement) is not accepted.
    """
    named = frozenset(paths)
    if not named or not named <= frozenset(updatable):
        raise InvalidField(
            field, f"must name only {sorted(updatable)}", reason=SharedReason.UPDATE_MASK_INVALID
        )
    return named


@contextlib.contextmanager
def request_fields(paths: Mapping[str, str]) -> Iterator[None]:
    """Re-raise an ``InvalidField`` with its field renamed by ``paths`` (``display_name``
    -> ``user.display_name``), keeping description and reason; other fields and errors
    pass unchanged."""
    try:
        yield
    except InvalidField as exc:
        if exc.field not in paths:
            raise
        violation = exc.violations[0]
        raise InvalidField(paths[exc.field], violation.description, reason=exc.reason) from exc
