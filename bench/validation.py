"""Micro-benchmark: validating valid and invalid request messages, protovalidate vs
``pkg.validation``.

``python bench/validation.py`` prints a Markdown table with, per request message type of the
contracts, the median over several repeats of CPU µs per validation (``time.process_time``)
of a valid example and of an invalid one (the example breaking the most rules of the type),
for protovalidate alone (``collect_violations``) and for the fast path (``is_valid`` for the
valid example, ``violations`` for the invalid one: the refusal's full list of violations).
It stops with an error when an example is not what it claims, or when the fast path's
violations differ from protovalidate's; a type the fast path leaves to protovalidate is
measured and its row names the rule it does not translate.  ``validation_table()``
returns the same lines for ``bench/run.py``; ``python bench/validation.py --crafted``
prints what attacker-sized inputs cost instead (see docs/benchmarks.md).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import protovalidate
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from bench.agora_bench.report import validation_table as format_table
from bench.agora_bench.results import ValidationRow
from pkg.contracts import import_contracts
from pkg.server._interceptors import MAX_VIOLATIONS
from pkg.validation import FastPath

_UUID = "0b7c6f1e-5d0a-4c4e-9f7e-2a8b3c4d5e6f"
_UUID2 = "5f1d2a3b-7c8e-4d9f-a0b1-c2d3e4f5a6b7"
_PRODUCT = {
    "title": "Garden hose, 25 m",
    "description": "A kink-free garden hose with brass fittings.",
    "price": {"currency_code": "EUR", "units": 19, "nanos": 990_000_000},
    "stock_quantity": 120,
    "categories": ["garden", "garden-tools"],
}
_OFFERING = {"title": "Piano lessons", "description": "One hour, at your home."}
_BASKET_ITEM = {"basket": "users/me/basket", "product": f"products/{_UUID}", "quantity": 2}
_VALID: dict[str, dict[str, Any]] = {
    "agora.user.v1.GetUserRequest": {"name": f"users/{_UUID}"},
    "agora.user.v1.UpdateUserRequest": {
        "user": {"name": "users/me", "display_name": "Ann Example"},
        "update_mask": {"paths": ["display_name"]},
    },
    "agora.user.v1.ListUsersRequest": {"page_size": 20, "page_token": "abc"},
    "agora.user.v1.CreateUserRequest": {
        "email": "ann@example.com",
        "password": "correct horse battery",
        "display_name": "Ann Example",
        "roles": [1, 2],
        "request_id": _UUID,
    },
    "agora.user.v1.VerifyCredentialsRequest": {
        "email": "ann@example.com",
        "password": "correct horse battery",
    },
    "agora.auth.v1.RegisterRequest": {
        "email": "ann@example.com",
        "password": "correct horse battery",
        "display_name": "Ann Example",
        "roles": [1],
        "request_id": _UUID,
    },
    "agora.user.v1.SetUserRolesRequest": {"name": f"users/{_UUID}", "roles": [1, 2]},
    "agora.user.v1.DisableUserRequest": {"name": f"users/{_UUID}", "etag": "e" * 27},
    "agora.user.v1.EnableUserRequest": {"name": f"users/{_UUID}"},
    "agora.auth.v1.LoginRequest": {"email": "ann@example.com", "password": "correct horse battery"},
    "agora.auth.v1.RefreshRequest": {"refresh_token": "r" * 43},
    "agora.auth.v1.LogoutRequest": {"refresh_token": "r" * 43},
    "agora.catalog.v1.CreateProductRequest": {"product": _PRODUCT, "request_id": _UUID},
    "agora.catalog.v1.GetProductRequest": {"name": f"products/{_UUID}"},
    "agora.catalog.v1.ListProductsRequest": {
        "page_size": 20,
        "filter": 'categories:"kitchen" AND price < 20',
        "order_by": "price desc",
    },
    "agora.catalog.v1.UpdateProductRequest": {
        "product": {**_PRODUCT, "name": f"products/{_UUID}", "etag": "e" * 27},
        "update_mask": {"paths": ["title", "price", "categories"]},
    },
    "agora.catalog.v1.ActivateProductRequest": {"name": f"products/{_UUID}", "etag": "e" * 27},
    "agora.catalog.v1.ArchiveProductRequest": {"name": f"products/{_UUID}"},
    "agora.catalog.v1.BatchGetProductsRequest": {"names": [f"products/{_UUID}"]},
    "agora.catalog.v1.CreateOfferingRequest": {"offering": _OFFERING, "request_id": _UUID},
    "agora.catalog.v1.GetOfferingRequest": {"name": f"offerings/{_UUID}"},
    "agora.catalog.v1.ListOfferingsRequest": {"page_size": 20, "filter": 'title = "Plumbing"'},
    "agora.catalog.v1.UpdateOfferingRequest": {
        "offering": {**_OFFERING, "name": f"offerings/{_UUID}", "etag": "e" * 27},
        "update_mask": {"paths": ["title", "description"]},
    },
    "agora.catalog.v1.DeleteOfferingRequest": {"name": f"offerings/{_UUID}"},
    "agora.catalog.v1.CreateProviderOfferingRequest": {
        "parent": "providers/me",
        "provider_offering": {"offering": f"offerings/{_UUID}"},
    },
    "agora.catalog.v1.DeleteProviderOfferingRequest": {"name": f"providers/me/offerings/{_UUID}"},
    "agora.catalog.v1.ListProviderOfferingsRequest": {"parent": f"providers/{_UUID}"},
    "agora.catalog.v1.ListOfferingProvidersRequest": {
        "offering": f"offerings/{_UUID}",
        "page_size": 20,
    },
    "agora.catalog.v1.ReserveStockRequest": {
        "order": f"orders/{_UUID}",
        "items": [
            {"product": f"products/{_UUID}", "quantity": 2},
            {"product": f"products/{_UUID2}", "quantity": 1},
        ],
    },
    "agora.catalog.v1.CommitReservationRequest": {"name": f"reservations/{_UUID}"},
    "agora.catalog.v1.ReleaseReservationRequest": {"name": f"reservations/{_UUID}"},
    "agora.basket.v1.GetBasketRequest": {"name": "users/me/basket"},
    "agora.basket.v1.AddBasketItemRequest": _BASKET_ITEM,
    "agora.basket.v1.UpdateBasketItemQuantityRequest": _BASKET_ITEM,
    "agora.basket.v1.RemoveBasketItemRequest": {
        "basket": "users/me/basket",
        "product": f"products/{_UUID}",
    },
    "agora.basket.v1.ClearBasketRequest": {"name": f"users/{_UUID}/basket"},
    "agora.basket.v1.AcknowledgeBasketChangesRequest": {
        "name": "users/me/basket",
        "etag": "e" * 27,
    },
    "agora.basket.v1.GetBasketForCheckoutRequest": {"name": f"users/{_UUID}/basket"},
    "agora.basket.v1.ClearCheckedOutBasketRequest": {
        "name": f"users/{_UUID}/basket",
        "etag": "e" * 27,
    },
}
_SIGN_UP = {
    "email": "x" * 251 + "@b..c",
    "password": "short",
    "display_name": "",
    "roles": [3, 3, 0],
    "request_id": "not-a-uuid",
}
_INVALID: dict[str, dict[str, Any]] = {
    "agora.user.v1.GetUserRequest": {"name": "users/nobody"},
    "agora.user.v1.UpdateUserRequest": {
        "user": {"name": "nobody", "display_name": ""},
        "update_mask": {"paths": ["email", "display_name.x", "name"]},
    },
    "agora.user.v1.ListUsersRequest": {"page_size": 101, "page_token": "t" * 201},
    "agora.user.v1.CreateUserRequest": _SIGN_UP,
    "agora.user.v1.VerifyCredentialsRequest": {"email": "ab", "password": ""},
    "agora.auth.v1.RegisterRequest": _SIGN_UP,
    "agora.auth.v1.LoginRequest": {"email": "ab", "password": ""},
    "agora.auth.v1.RefreshRequest": {"refresh_token": "short"},
    "agora.auth.v1.LogoutRequest": {"refresh_token": "r" * 129},
    "agora.user.v1.SetUserRolesRequest": {"name": "users/me", "roles": [0, 4, 4, 1]},
    "agora.catalog.v1.CreateProductRequest": {
        "product": {"title": "t" * 201, "stock_quantity": -1, "categories": ["Garden", "a b"]},
        "request_id": "not-a-uuid",
    },
    "agora.catalog.v1.GetProductRequest": {"name": f"products/{_UUID.upper()}"},
    "agora.catalog.v1.UpdateProductRequest": {
        "product": {"name": "products/nobody", "categories": ["x"] * 11},
        "update_mask": {"paths": ["state", "title"]},
    },
    "agora.catalog.v1.BatchGetProductsRequest": {
        "names": [f"products/{_UUID}", f"products/{_UUID}", "products/"]
    },
    "agora.catalog.v1.ReserveStockRequest": {
        "order": "orders/nobody",
        "items": [{"product": "products/nobody", "quantity": 0}] * 2,
    },
    "agora.catalog.v1.CreateProviderOfferingRequest": {
        "parent": "providers/nobody",
        "provider_offering": {"offering": "offerings/nobody"},
    },
    "agora.basket.v1.AddBasketItemRequest": {
        "basket": "users/nobody/basket",
        "product": "products/nobody",
        "quantity": 100,
    },
    "agora.basket.v1.AcknowledgeBasketChangesRequest": {
        "name": "users/me/baskets",
        "etag": "e" * 65,
    },
}


def _types() -> list[Any]:
    pool = descriptor_pool.Default()
    types = {
        m.input_type.full_name: m.input_type
        for s in import_contracts()
        for m in pool.FindServiceByName(s).methods
    }
    return [types[name] for name in sorted(types)]


def _median_cpu_us(run: Callable[[], object], iterations: int, repeats: int) -> float:
    cpus = []
    for _ in range(repeats):
        cpu = time.process_time()
        for _ in range(iterations):
            run()
        cpus.append((time.process_time() - cpu) / iterations * 1e6)
    return statistics.median(cpus)


def _row(
    descriptor: Any,
    validator: protovalidate.Validator,
    fast: FastPath,
    iterations: int,
    repeats: int,
) -> ValidationRow:
    cls = message_factory.GetMessageClass(descriptor)
    name = descriptor.full_name
    valid: Message = cls(**_VALID.get(name, {}))
    if validator.collect_violations(valid) or not fast.is_valid(valid):
        raise RuntimeError(f"{name}: the valid example is not valid")
    # A type the fast path leaves to protovalidate is measured all the same (its fast
    # figures are protovalidate's through FastPath, as many calls as protovalidate's) and
    # says so in its row.
    reason = fast.fallback_reason(descriptor)
    fast_valid, fast_invalid = (10, 2) if reason is None else (1, 0.1)
    row = ValidationRow(
        descriptor.name if reason is None else f"{descriptor.name} (protovalidate: {reason})",
        _median_cpu_us(lambda: validator.collect_violations(valid), iterations, repeats),
        _median_cpu_us(lambda: fast.is_valid(valid), iterations * fast_valid, repeats),
    )
    if name not in _INVALID:
        return row
    invalid: Message = cls(**_INVALID[name])
    expected = [v.proto for v in validator.collect_violations(invalid)]
    if not expected or fast.violations(invalid) != expected:
        raise RuntimeError(f"{name}: the invalid example's violations are not protovalidate's")
    return ValidationRow(
        row.message,
        row.valid_protovalidate_us,
        row.valid_fast_us,
        _median_cpu_us(
            lambda: validator.collect_violations(invalid), max(iterations // 10, 3), repeats
        ),
        _median_cpu_us(
            lambda: fast.violations(invalid), max(int(iterations * fast_invalid), 3), repeats
        ),
        tuple(v.rule_id for v in expected),
    )


def measure(iterations: int = 300, repeats: int = 5) -> list[ValidationRow]:
    """One row per contract request type (median of ``repeats`` runs; protovalidate on
    valid examples ``iterations`` calls per run, on invalid ones a tenth of that, the fast
    path 10x and 2x as many, or as many as protovalidate for a type left to it)."""
    validator, fast = protovalidate.Validator(), FastPath()
    return [_row(d, validator, fast, iterations, repeats) for d in _types()]


def validation_table(iterations: int = 300, repeats: int = 5) -> list[str]:
    """Markdown lines: the table of ``measure()`` and the goal line."""
    return format_table(measure(iterations, repeats))


def _reservation(count: int, products: int) -> Message:
    """A ReserveStockRequest of ``count`` items naming ``products`` distinct products in
    turn (the first again after the last)."""
    from agora.catalog.v1 import stock_pb2

    names = [f"products/{_UUID[:-8]}{i:08x}" for i in range(products)]
    return stock_pb2.ReserveStockRequest(
        order=f"orders/{_UUID}",
        items=[
            stock_pb2.ReservationItem(product=names[i % products], quantity=1) for i in range(count)
        ],
    )


def crafted() -> list[str]:
    """What inputs an attacker can choose cost on the fast path, in CPU µs per call (one
    call each, after a warm-up): long strings against the patterns and the email regex,
    huge repeated fields (75,000 reservation items is about gRPC's 4 MB default message
    limit), each beside the cost of parsing the same message."""
    from agora.user.v1 import user_pb2

    fast = FastPath()
    cases: list[tuple[str, Message]] = [
        (
            "GetUserRequest, name = 'users/' + 1 MB of 'a'",
            user_pb2.GetUserRequest(name="users/" + "a" * 1_000_000),
        ),
        (
            "GetUserRequest, name = 1 MB of 'users/me' repeats",
            user_pb2.GetUserRequest(name="users/me" * 125_000),
        ),
        (
            "CreateUserRequest, email = 1 MB local part + '@'",
            user_pb2.CreateUserRequest(email="a" * 1_000_000 + "@"),
        ),
        (
            "CreateUserRequest, email = 'a@' + 1 MB of 'a-'",
            user_pb2.CreateUserRequest(email="a@" + "a-" * 500_000),
        ),
        (
            "CreateUserRequest, 1,000,000 roles (ROLE_ADMIN)",
            user_pb2.CreateUserRequest(roles=[user_pb2.ROLE_ADMIN] * 1_000_000),
        ),
        (
            "CreateUserRequest, 300,000 distinct role numbers",
            user_pb2.CreateUserRequest(roles=range(300_000)),
        ),  # type: ignore[arg-type]
        ("ReserveStockRequest, 50 distinct items (max_items)", _reservation(50, 50)),
        ("ReserveStockRequest, 50 items, the last repeats the first", _reservation(50, 49)),
        ("ReserveStockRequest, 75,000 distinct items", _reservation(75_000, 75_000)),
        ("ReserveStockRequest, 75,000 items of one product", _reservation(75_000, 1)),
    ]
    lines = [
        f"| crafted input | bytes | parse µs | is_valid µs | violations µs "
        f"(limit {MAX_VIOLATIONS}) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, message in cases:
        wire = message.SerializeToString()
        cls: Any = type(message)
        fast.violations(message, limit=MAX_VIOLATIONS)
        parse = _median_cpu_us(partial(cls.FromString, wire), 3, 3)
        check = _median_cpu_us(partial(fast.is_valid, message), 3, 3)
        refuse = _median_cpu_us(partial(fast.violations, message, limit=MAX_VIOLATIONS), 3, 3)
        lines.append(f"| {label} | {len(wire):,} | {parse:,.0f} | {check:,.0f} | {refuse:,.0f} |")
    return lines


if __name__ == "__main__":
    print("\n".join(crafted() if "--crafted" in sys.argv[1:] else validation_table()))
