"""Request ids, update masks and the renaming of a use case's field to the request's path."""

from __future__ import annotations

from enum import StrEnum
from uuid import uuid4

import pytest

from pkg.errors import InvalidField, Unavailable
from pkg.fields import parse_request_id, request_fields, update_mask_fields


class _Reason(StrEnum):
    """A service's own reasons, as its generated enum would hold them."""

    DISPLAY_NAME_INVALID = "DISPLAY_NAME_INVALID"
    B_INVALID = "B_INVALID"


def test_a_request_id_is_optional_but_must_be_a_uuid() -> None:
    assert parse_request_id("") is None
    request_id = uuid4()
    assert parse_request_id(str(request_id)) == request_id
    with pytest.raises(InvalidField) as caught:
        parse_request_id("abc", field="thing.request_id")
    assert (caught.value.field, caught.value.reason) == ("thing.request_id", "REQUEST_ID_INVALID")


def test_an_update_mask_names_only_updatable_fields() -> None:
    assert update_mask_fields(["display_name"], {"display_name", "bio"}) == {"display_name"}
    for paths in ([], ["email"], ["display_name", "email"], ["*"]):
        with pytest.raises(InvalidField) as caught:
            update_mask_fields(paths, {"display_name", "bio"})
        assert (caught.value.field, caught.value.reason) == ("update_mask", "UPDATE_MASK_INVALID")
        assert "['bio', 'display_name']" in caught.value.violations[0].description


def test_use_case_fields_are_renamed_to_request_paths() -> None:
    with (
        pytest.raises(InvalidField) as caught,
        request_fields({"display_name": "user.display_name"}),
    ):
        raise InvalidField("display_name", "too long", reason=_Reason.DISPLAY_NAME_INVALID)
    assert caught.value.violations[0].field == "user.display_name"
    assert caught.value.violations[0].description == "too long"
    assert caught.value.reason == "DISPLAY_NAME_INVALID"


def test_other_fields_and_errors_pass_unchanged() -> None:
    with pytest.raises(InvalidField) as caught, request_fields({"a": "x.a"}):
        raise InvalidField("b", "bad", reason=_Reason.B_INVALID)
    assert caught.value.field == "b"
    with pytest.raises(Unavailable), request_fields({"a": "x.a"}):
        raise Unavailable("down")


def test_a_resource_name_gives_its_canonical_uuid_and_anything_else_names_the_field() -> None:
    from uuid import uuid4

    from pkg.fields import parse_resource_id

    known = uuid4()
    assert parse_resource_id(f"products/{known}", "products", field="name") == known
    for bad in (
        "",
        "products/",
        f"offerings/{known}",
        f"products/{known}/x",
        f"products/{str(known).upper()}",
        f"products/{known.hex}",
        "products/me",
    ):
        with pytest.raises(InvalidField) as caught:
            parse_resource_id(bad, "products", field="item.product")
        assert caught.value.field == "item.product", bad
        assert caught.value.reason == "INVALID_FIELD"
