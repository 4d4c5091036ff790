"""gRPC entrypoint of the auth service: the servicer and its mappers."""

from services.auth.entrypoints.grpc.servicers import SERVICE_NAME, AuthServicer

__all__ = ["SERVICE_NAME", "AuthServicer"]
