"""gRPC entrypoints of the catalog service: servicers and proto <-> domain mappers."""

from services.catalog.entrypoints.grpc.servicers import CatalogInternalServicer, CatalogServicer

__all__ = ["CatalogInternalServicer", "CatalogServicer"]
