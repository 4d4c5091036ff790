"""AIP-160 filters parse into the expected trees with AIP-160's precedence, and every bad
filter is an INVALID_ARGUMENT at ``filter`` that names the character and what was expected;
order_by and keyset tokens refuse what a client could get wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from pkg.errors import InvalidField
from pkg.filtering import And, FilterLimits, Not, Or, Restriction, parse_filter
from pkg.paging import KeyKind, decode_keyset_token, encode_keyset_token, query_fingerprint


def _shape(node: object) -> object:
    """A compact picture of a tree: ('and', ...), ('or', ...), ('not', x), 'a=1', 'a'."""
    if isinstance(node, And):
        return ("and", *(_shape(n) for n in node.operands))
    if isinstance(node, Or):
        return ("or", *(_shape(n) for n in node.operands))
    if isinstance(node, Not):
        return ("not", _shape(node.operand))
    assert isinstance(node, Restriction)
    return node.name if node.comparator is None else f"{node.name}{node.comparator}{node.arg_text}"


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("a = 1", "a=1"),
        ("price>=2.5", "price>=2.5"),
        ("price > -5", "price>-5"),
        ("a != b", "a!=b"),
        ("categories:shoes", "categories:shoes"),
        ("a b", ("and", "a", "b")),
        ("a AND b AND c", ("and", "a", "b", "c")),
        # AIP-160: OR binds tighter than AND and than the implicit sequence.
        ("a OR b AND c", ("and", ("or", "a", "b"), "c")),
        ("a AND b OR c", ("and", "a", ("or", "b", "c"))),
        ("a b OR c", ("and", "a", ("or", "b", "c"))),
        ("(a AND b) OR c", ("or", ("and", "a", "b"), "c")),
        ("NOT a = 1 OR b", ("or", ("not", "a=1"), "b")),
        ("-a", ("not", "a")),
        ("-t-shirt", ("not", "t-shirt")),
        ("NOT (a OR b)", ("not", ("or", "a", "b"))),
        ("((a))", "a"),
        ("seller.id = 7", "seller.id=7"),
        ("ANDROID NOTE ORE", ("and", "ANDROID", "NOTE", "ORE")),
        ("  \t\n ", None),
        ("", None),
    ],
)
def test_a_filter_parses_with_aip_160_precedence(text: str, shape: object) -> None:
    node = parse_filter(text)
    assert (None if node is None else _shape(node)) == shape


def test_strings_keep_their_content_and_escapes() -> None:
    node = parse_filter(r"""title = "say \"hi\" \\ now" OR title = 'it\'s: (x) AND y' """)
    assert isinstance(node, Or)
    first, second = node.operands
    assert isinstance(first, Restriction) and isinstance(second, Restriction)
    assert first.arg_text == 'say "hi" \\ now' and first.arg and first.arg[0].quoted
    assert second.arg_text == "it's: (x) AND y"
    assert first.position == 0 and second.position == 31


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("a =", 4, "expected ( or a name or value or a number or a quoted string"),
        ("a = = b", 5, "found '='"),
        ("(a", 3, "expected ), found the end of the filter"),
        ("a)", 2, "expected the end of the filter, found ')'"),
        ('title = "abc', 9, "a string starts here but is never closed"),
        ("a ! b", 3, "'!' is not part of the filter language"),
        ("AND a", 1, "found 'AND'"),
        ("a AND", 6, "found the end of the filter"),
        ("a OR OR b", 6, "found 'OR'"),
        ("NOT NOT a", 5, "found 'NOT'"),
        ("a = (b OR c)", 4, "expected a value after '=', found a parenthesised expression"),
        (r'a = "x\qy"', 7, r"unknown escape \q"),
    ],
)
def test_a_malformed_filter_names_the_character_and_what_was_expected(
    text: str, where: int, says: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_filter(text)
    error = caught.value
    assert error.field == "filter" and error.reason == "FILTER_INVALID"
    description = error.violations[0].description
    assert description.startswith(f"at character {where}:"), description
    assert says in description, description


def test_the_bounds_refuse_long_deep_and_wide_filters() -> None:
    limits = FilterLimits(max_length=100, max_depth=3, max_restrictions=4)
    assert parse_filter("(((a)))", limits=limits) is not None
    for text, says in [
        ("a" * 101, "longer than 100 characters"),
        ("((((a))))", "at character 1: parentheses nest deeper than 3 levels"),
        ("a b c d e", "at character 9: more than 4 restrictions"),
    ]:
        with pytest.raises(InvalidField) as caught:
            parse_filter(text, limits=limits)
        assert caught.value.violations[0].description.endswith(says) or says in str(caught.value), (
            caught.value
        )


@pytest.mark.parametrize(
    "hostile",
    [
        "(" * 2048,
        "(" * 1000 + "a" + ")" * 1000,
        "a OR " * 409 + "a",
        "-" * 2048,
        'a = "' + "\\\\" * 1020,
        "a." * 1023 + "a",
        "a=" * 1024,
        "x" * 2048,
        "a = 1 " * 340,
    ],
)
def test_hostile_filters_of_2_kb_are_refused_or_parsed_without_blowing_up(hostile: str) -> None:
    assert len(hostile) <= 2048
    try:
        parse_filter(hostile)
    except InvalidField as error:
        assert error.field == "filter"


def test_order_tokens_belong_to_one_query() -> None:
    kinds = (KeyKind.INT, KeyKind.TIMESTAMP, KeyKind.UUID)
    values = (1999, datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), uuid4())
    mine = query_fingerprint("ListProducts", "price < 20", "price desc")
    token = encode_keyset_token(values, fingerprint=mine)
    assert decode_keyset_token(token, fingerprint=mine, kinds=kinds, listing="L") == values
    other = query_fingerprint("ListProducts", "price < 30", "price desc")
    with pytest.raises(InvalidField) as caught:
        decode_keyset_token(token, fingerprint=other, kinds=kinds, listing="ListProducts")
    assert caught.value.field == "page_token" and caught.value.reason == "PAGE_TOKEN_INVALID"
    assert "another query" in caught.value.violations[0].description
    for bad_kinds in [(KeyKind.INT, KeyKind.TIMESTAMP), (KeyKind.STRING,) * 3, (KeyKind.INT,) * 3]:
        with pytest.raises(InvalidField):
            decode_keyset_token(token, fingerprint=mine, kinds=bad_kinds, listing="L")
    for garbage in ["!!", "e30", "W10", "x" * 5000]:
        with pytest.raises(InvalidField):
            decode_keyset_token(garbage, fingerprint=mine, kinds=kinds, listing="L")
