"""Every reason the catalog service raises is a member of a generated contract enum:
``CatalogReason`` (agora.catalog.v1.ErrorReason) or the shared ``SharedReason``
(agora.errors.v1.ErrorReason); no reason is a string literal."""

from __future__ import annotations

from pathlib import Path

import services.catalog
from agora.catalog.v1 import catalog_pb2
from agora.catalog.v1.reasons import CatalogReason
from pkg.testing.reasons import declared_reasons, error_class_reasons, literal_reasons
from services.catalog.domain import errors

OWN = declared_reasons(catalog_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"])


def test_the_generated_enum_holds_the_contracts_reasons_as_sent() -> None:
    assert {member.value for member in CatalogReason} == OWN
    assert CatalogReason.PRODUCT_NOT_FOUND == "PRODUCT_NOT_FOUND"


def test_every_domain_error_reason_is_a_catalog_reason() -> None:
    reasons = error_class_reasons(errors)
    assert reasons["services.catalog.domain.errors.ProductNotFound"] is (
        CatalogReason.PRODUCT_NOT_FOUND
    )
    assert {k: r for k, r in reasons.items() if not isinstance(r, CatalogReason)} == {}


def test_no_reason_in_the_service_is_a_string_literal() -> None:
    assert literal_reasons(Path(services.catalog.__file__).parent) == {}
