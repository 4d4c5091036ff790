"""``BasketStore`` on Redis: one JSON value per basket with a sliding TTL, an index of the
baskets holding each product, and every change one Lua script (``redis_scripts``).

The catalog's events (``price_changed``, ``archived``) write their inbox key
(``pkg.events.inbox_key("basket", id)``) in the same script as their flags, and record
what they said of the product, so an AddBasketItem that read the catalog before a price
change but writes after it still ends flagged (the script compares the two prices).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import redis.asyncio as redis

from pkg.events import inbox_key
from pkg.money import Money
from services.basket.adapters import redis_scripts as scripts
from services.basket.domain import (
    LINE_QUANTITY_MAX,
    LINES_MAX,
    Basket,
    BasketLimit,
    BasketLine,
    CatalogProduct,
    EtagMismatch,
    InsufficientStock,
    ItemNotFound,
    ProductNotOnSale,
)

BASKET_TTL = timedelta(days=30)
"""How long a basket lives after its last change."""
INBOX_TTL = timedelta(days=7)
"""How long an applied event's inbox key is kept (longer than the stream's retention)."""
_SERVICE = "basket"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


class RedisBasketStore:
    """See ``services.basket.service.ports.BasketStore``, on ``client``.

    ``currency`` is the mesh's (amounts are kept as minor units of it); ``clock`` gives
    the time of each change; ``ttl`` is the sliding TTL.  With a ``pkg.redis`` client, an
    unreachable or hung Redis raises ``pkg.errors.Unavailable`` (``REDIS_UNAVAILABLE``).
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        currency: str,
        clock: Callable[[], datetime],
        ttl: timedelta = BASKET_TTL,
        prefix: str = "basket:",
    ) -> None:
        self._currency = currency
        self._clock = clock
        self._ttl = ttl
        self._ttl_ms = int(ttl.total_seconds() * 1000)
        self._prefix = prefix
        self._get = client.register_script(scripts.GET)
        self._add = client.register_script(scripts.ADD)
        self._set_quantity = client.register_script(scripts.SET_QUANTITY)
        self._remove = client.register_script(scripts.REMOVE)
        self._clear = client.register_script(scripts.CLEAR)
        self._acknowledge = client.register_script(scripts.ACKNOWLEDGE)
        self._price_changed = client.register_script(scripts.PRICE_CHANGED)
        self._archived = client.register_script(scripts.ARCHIVED)

    def _basket_key(self, owner: UUID) -> str:
        return f"{self._prefix}b:{owner}"

    def _record_key(self, product_id: UUID) -> str:
        return f"{self._prefix}p:{product_id}"

    def _index_key(self, product_id: UUID) -> str:
        return f"{self._prefix}p:{product_id}:baskets"

    async def _change(
        self, script: Any, owner: UUID, *args: object, keys: tuple[str, ...] = ()
    ) -> tuple[str, list[Any]]:
        now = self._clock()
        reply = await script(
            keys=[self._basket_key(owner), *keys],
            args=[self._prefix, str(owner), uuid.uuid4().hex, _ms(now), self._ttl_ms, *args],
        )
        return _text(reply[0]), list(reply)

    async def get(self, owner: UUID) -> Basket:
        """See ``BasketStore.get``."""
        reply = await self._get(keys=[self._basket_key(owner)], args=[])
        return self._basket(owner, reply)

    async def add_item(self, owner: UUID, product: CatalogProduct, quantity: int) -> Basket:
        """See ``BasketStore.add_item``."""
        status, reply = await self._change(
            self._add,
            owner,
            str(product.product_id),
            product.title,
            quantity,
            str(product.price.minor_units),
            product.stock_quantity,
            LINE_QUANTITY_MAX,
            LINES_MAX,
            keys=(self._record_key(product.product_id),),
        )
        if status == "archived":
            raise ProductNotOnSale(product.product_id)
        if status == "quantity":
            raise BasketLimit(
                f"the line holds {_text(reply[1])} units; it may hold at most {LINE_QUANTITY_MAX}"
            )
        if status == "lines":
            raise BasketLimit(f"the basket holds {LINES_MAX} lines, the most it may hold")
        if status == "stock":
            raise InsufficientStock(
                product.product_id, int(_text(reply[1])), product.stock_quantity
            )
        return self._basket(owner, reply)

    async def set_quantity(self, owner: UUID, product_id: UUID, quantity: int) -> Basket:
        """See ``BasketStore.set_quantity``."""
        status, reply = await self._change(
            self._set_quantity, owner, str(product_id), quantity, LINE_QUANTITY_MAX
        )
        if status == "missing":
            raise ItemNotFound(product_id)
        if status == "quantity":
            raise BasketLimit(f"a line holds 1 to {LINE_QUANTITY_MAX} units, not {quantity}")
        return self._basket(owner, reply)

    async def remove_item(self, owner: UUID, product_id: UUID) -> Basket:
        """See ``BasketStore.remove_item``."""
        _, reply = await self._change(self._remove, owner, str(product_id))
        return self._basket(owner, reply)

    async def clear(self, owner: UUID, *, etag: str = "") -> Basket:
        """See ``BasketStore.clear``."""
        _, reply = await self._change(self._clear, owner, etag)
        return self._basket(owner, reply)

    async def acknowledge(self, owner: UUID, *, etag: str = "") -> Basket:
        """See ``BasketStore.acknowledge``."""
        status, reply = await self._change(self._acknowledge, owner, etag)
        if status == "etag":
            raise EtagMismatch(_text(reply[1]))
        return self._basket(owner, reply)

    async def price_changed(self, product_id: UUID, price: Money, *, event_id: str) -> int | None:
        """See ``BasketStore.price_changed`` (one script with the inbox key)."""
        return await self._event(self._price_changed, product_id, event_id, str(price.minor_units))

    async def archived(self, product_id: UUID, *, event_id: str) -> int | None:
        """See ``BasketStore.archived`` (one script with the inbox key)."""
        return await self._event(self._archived, product_id, event_id)

    async def _event(self, script: Any, product_id: UUID, event_id: str, *args: str) -> int | None:
        seen = int(
            await script(
                keys=[
                    inbox_key(_SERVICE, event_id),
                    self._record_key(product_id),
                    self._index_key(product_id),
                ],
                args=[
                    self._prefix,
                    str(product_id),
                    uuid.uuid4().hex,
                    int(INBOX_TTL.total_seconds() * 1000),
                    self._ttl_ms,
                    *args,
                ],
            )
        )
        return None if seen < 0 else seen

    def _basket(self, owner: UUID, reply: list[Any]) -> Basket:
        raw = _text(reply[1])
        if not raw:
            return Basket(owner=owner, currency=self._currency)
        value = json.loads(raw)
        updated = datetime.fromtimestamp(int(value["t"]) / 1000, UTC)
        return Basket(
            owner=owner,
            currency=self._currency,
            lines=tuple(self._line(item) for item in value["items"]),
            update_time=updated,
            expire_time=updated + self._ttl,
            etag=str(value["etag"]),
        )

    def _line(self, item: dict[str, Any]) -> BasketLine:
        catalog = item.get("c")
        return BasketLine(
            product_id=UUID(item["p"]),
            title=str(item["n"]),
            quantity=int(item["q"]),
            unit_price=Money(self._currency, int(item["u"])),
            price_changed=bool(item.get("pc")),
            catalog_unit_price=Money(self._currency, int(catalog)) if catalog else None,
            unavailable=bool(item.get("ua")),
        )
