"""Listings with AIP-160 filters, AIP-132 ``order_by`` and keyset pages, in SQLAlchemy 2.

A listing declares its fields once::

    PRODUCTS = FilterSchema(
        fields=(
            MoneyField("price", Product.price_minor, sortable=True),
            RepeatedStringField("categories", Product.categories),
            EnumField("state", Product.state, {"ACTIVE": "active", "DRAFT": "draft"}),
            TimestampField("create_time", Product.create_time, sortable=True),
        ),
        primary_key=PrimaryKey(Product.id, KeyKind.UUID),
        default_order="create_time desc",
        text=TextSearch(Product.search, config="english"),
    )

and per request: ``plan = plan_page(PRODUCTS.without("state"), ListRequest(...),
listing="ListProducts")``, ``rows = (await session.scalars(plan.apply(select(Product))))
.all()``, ``page, next_token = plan.cut(rows)``.  Every bad input is an ``InvalidField``
at ``filter``, ``order_by``, ``page_size`` or ``page_token``.  The dialect is described
in docs/adr/0030-aip-filtering.md.
"""

from pkg.filtering._ast import And, Node, Not, Or, Restriction, Value
from pkg.filtering._fields import (
    EnumField,
    Field,
    IntegerField,
    MoneyField,
    RepeatedStringField,
    StringField,
    TextSearch,
    TimestampField,
)
from pkg.filtering._listing import CompiledListing, ListingPage, PagePlan, plan_page
from pkg.filtering._order import Ordering, PrimaryKey, SortKey, order_by_error, parse_order_by
from pkg.filtering._parse import FilterLimits, filter_error, parse_filter
from pkg.filtering._schema import FilterSchema
from pkg.paging import KeyKind, ListRequest

__all__ = [
    "And",
    "CompiledListing",
    "EnumField",
    "Field",
    "FilterLimits",
    "FilterSchema",
    "IntegerField",
    "KeyKind",
    "ListRequest",
    "ListingPage",
    "MoneyField",
    "Node",
    "Not",
    "Or",
    "Ordering",
    "PagePlan",
    "PrimaryKey",
    "RepeatedStringField",
    "Restriction",
    "SortKey",
    "StringField",
    "TextSearch",
    "TimestampField",
    "Value",
    "filter_error",
    "order_by_error",
    "parse_filter",
    "parse_order_by",
    "plan_page",
]
