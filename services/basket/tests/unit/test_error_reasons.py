"""Every reason the basket service raises is a member of a generated contract enum:
``BasketReason`` (agora.basket.v1.ErrorReason) or the shared ``SharedReason``
(agora.errors.v1.ErrorReason); no reason is a string literal."""

from __future__ import annotations

from pathlib import Path

import services.basket
from agora.basket.v1 import basket_pb2
from agora.basket.v1.reasons import BasketReason
from pkg.testing.reasons import declared_reasons, error_class_reasons, literal_reasons
from services.basket.domain import errors

OWN = declared_reasons(basket_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])


def test_the_generated_enum_holds_the_contracts_reasons_as_sent() -> None:
    assert {member.value for member in BasketReason} == OWN
    assert BasketReason.ITEM_NOT_FOUND == "ITEM_NOT_FOUND"


def test_every_domain_error_reason_is_a_basket_reason() -> None:
    reasons = error_class_reasons(errors)
    assert reasons["services.basket.domain.errors.ItemNotFound"] is BasketReason.ITEM_NOT_FOUND
    assert {k: r for k, r in reasons.items() if not isinstance(r, BasketReason)} == {}


def test_no_reason_in_the_service_is_a_string_literal() -> None:
    assert literal_reasons(Path(services.basket.__file__).parent) == {}
