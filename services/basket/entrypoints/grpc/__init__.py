"""gRPC entrypoints of the basket service: servicers and proto <-> domain mappers."""

from services.basket.entrypoints.grpc.servicers import BasketInternalServicer, BasketServicer

__all__ = ["BasketInternalServicer", "BasketServicer"]
