"""Proto <-> domain for the basket service: resource names and baskets.

With the servicers, the only module that knows ``agora.basket.v1``'s messages.  Field paths
in errors are the request's (``name``, ``product``), as AIP-193 asks.  Names reaching a
servicer already matched the contract's patterns (protovalidate); the parsers still refuse
anything else with ``InvalidField`` rather than a traceback.
"""

from __future__ import annotations

import re
from uuid import UUID

from agora.basket.v1 import basket_pb2
from agora.errors.v1.reasons import SharedReason
from pkg.errors import InvalidField
from pkg.fields import parse_resource_id
from pkg.money_proto import money_to_proto
from pkg.timestamps import timestamp_to_proto
from services.basket.domain import Basket, BasketLine

_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_BASKET = re.compile(rf"users/(me|{_UUID})/basket")


def basket_name(owner: UUID) -> str:
    """The resource name ``users/{uuid}/basket``."""
    return f"users/{owner}/basket"


def parse_basket_user(name: str, *, field: str = "name") -> str:
    """The user segment of ``users/{me|uuid}/basket`` (``me`` or a uuid); ``InvalidField``
    (at ``field``) otherwise."""
    match = _BASKET.fullmatch(name)
    if match is None:
        raise InvalidField(
            field,
            "must be users/me/basket or users/{uuid}/basket",
            reason=SharedReason.INVALID_FIELD,
        )
    return match.group(1)


def parse_basket_owner(name: str, *, field: str = "name") -> UUID:
    """The owner of ``users/{uuid}/basket``; ``InvalidField`` (at ``field``) otherwise."""
    user = parse_basket_user(name, field=field)
    if user == "me":
        raise InvalidField(field, "must be users/{uuid}/basket", reason=SharedReason.INVALID_FIELD)
    return UUID(user)


def parse_product_name(name: str, *, field: str = "product") -> UUID:
    """The id of ``products/{uuid}``; ``InvalidField`` (at ``field``) otherwise."""
    return parse_resource_id(name, "products", field=field)


def _line_to_proto(line: BasketLine) -> basket_pb2.BasketItem:
    item = basket_pb2.BasketItem(
        product=f"products/{line.product_id}",
        title=line.title,
        quantity=line.quantity,
        unit_price=money_to_proto(line.unit_price),
        line_total=money_to_proto(line.line_total),
        price_changed=line.price_changed,
        unavailable=line.unavailable,
    )
    if line.catalog_unit_price is not None:
        item.catalog_unit_price.CopyFrom(money_to_proto(line.catalog_unit_price))
    return item


def basket_to_proto(basket: Basket) -> basket_pb2.Basket:
    """The ``agora.basket.v1.Basket`` of ``basket`` (no times when it is empty)."""
    message = basket_pb2.Basket(
        name=basket_name(basket.owner),
        items=[_line_to_proto(line) for line in basket.lines],
        total=money_to_proto(basket.total),
        has_changes=basket.has_changes,
        etag=basket.etag,
    )
    if basket.update_time is not None:
        message.update_time.CopyFrom(timestamp_to_proto(basket.update_time))
    if basket.expire_time is not None:
        message.expire_time.CopyFrom(timestamp_to_proto(basket.expire_time))
    return message
