"""gRPC entrypoints of the user service: servicers and proto <-> domain mappers."""

from services.user.entrypoints.grpc.servicers import UserInternalServicer, UserServicer

__all__ = ["UserInternalServicer", "UserServicer"]
