"""Adapters of the basket service: PostgreSQL repository, tables, and the client of the
user service (``GrpcAccounts``)."""
