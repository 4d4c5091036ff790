"""The basket service's use cases and the ports they need."""

from services.basket.service.baskets import ME, Baskets, CatalogChanges, owner_of
from services.basket.service.ports import BasketStore, Catalog

__all__ = ["ME", "BasketStore", "Baskets", "Catalog", "CatalogChanges", "owner_of"]
